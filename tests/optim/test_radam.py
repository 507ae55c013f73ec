"""RAdam: both branches of the rectification, against its formula and torch.optim.RAdam
over 20 steps, and checkpoints."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import (assert_histories_close, gradients, run, run_interrupted,
                                  run_torch_float64)

X0 = np.array([[0.5, -1.5], [2.0, 0.1], [-0.3, 0.7]])
STEPS = 20

SETTINGS = [
    dict(),                                  # rho_t > 5 from step 6 on
    dict(lr=0.05, betas=(0.5, 0.9)),         # from step 3 on
    dict(lr=0.01, eps=1e-3, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True),
    dict(lr=0.03, betas=(0.8, 0.7), maximize=True),   # rho_inf < 5: never rectified
]


def radam_reference(x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    p, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    rho_inf = 2 / (1 - beta2) - 1
    out = []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)
        rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho_t > 5:
            r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * np.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
        out.append(p)
    return out


@pytest.mark.parametrize("settings", SETTINGS)
def test_radam_follows_the_formula(settings):
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.RAdam(ps, **settings), X0, grads)
    assert_histories_close(got, radam_reference(X0, grads, **settings))


@pytest.mark.parametrize("settings", SETTINGS)
def test_radam_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.RAdam(ps, **settings), X0, grads)
    expected = run_torch_float64(torch, lambda ps: torch.optim.RAdam(ps, **settings), X0, grads)
    assert_histories_close(got, expected)


def test_radam_first_steps_are_momentum_sgd():
    """With beta2 = 0.999, rho_t <= 5 for t <= 5: the step is lr * m_hat, no RMS division."""
    p = nn.Parameter(np.array([1.0, 1.0]))
    opt = optim.RAdam([p], lr=0.1)
    p.grad = np.array([3.0, -0.5])
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.3, 1.0 + 0.05], rtol=1e-14)


@pytest.mark.parametrize("settings", SETTINGS)
def test_radam_state_dict_round_trip_continues_identically(settings):
    grads = gradients(X0.shape, STEPS)
    make = lambda ps: optim.RAdam(ps, **settings)  # noqa: E731
    assert_histories_close(run_interrupted(make, X0, grads, stop=4), run(make, X0, grads), 0, 0)
