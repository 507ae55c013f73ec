"""NAdam: against its formula and torch.optim.NAdam over 20 steps, and checkpoints."""

import numpy as np
import pytest

from minicnn import optim
from tests.optim._helpers import (assert_histories_close, gradients, run, run_interrupted,
                                  run_torch_float64)

X0 = np.array([[0.5, -1.5], [2.0, 0.1], [-0.3, 0.7]])
STEPS = 20

SETTINGS = [
    dict(),
    dict(lr=0.05, betas=(0.5, 0.9), momentum_decay=0.1),
    dict(lr=0.01, eps=1e-3, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True),
    dict(lr=0.03, maximize=True, momentum_decay=0.0),
]


def nadam_reference(x0, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    p, m, v, product = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), 1.0
    out = []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        product *= mu
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        d = np.sqrt(v / (1 - beta2 ** t)) + eps
        p = (p - lr * (1 - mu) / (1 - product) * g / d
             - lr * mu_next / (1 - product * mu_next) * m / d)
        out.append(p)
    return out


@pytest.mark.parametrize("settings", SETTINGS)
def test_nadam_follows_the_formula(settings):
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.NAdam(ps, **settings), X0, grads)
    assert_histories_close(got, nadam_reference(X0, grads, **settings))


@pytest.mark.parametrize("settings", SETTINGS)
def test_nadam_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.NAdam(ps, **settings), X0, grads)
    expected = run_torch_float64(torch, lambda ps: torch.optim.NAdam(ps, **settings), X0, grads)
    assert_histories_close(got, expected)


@pytest.mark.parametrize("settings", SETTINGS)
def test_nadam_state_dict_round_trip_continues_identically(settings):
    """mu_product, a number rather than an array, is saved and restored too."""
    grads = gradients(X0.shape, STEPS)
    make = lambda ps: optim.NAdam(ps, **settings)  # noqa: E731
    assert_histories_close(run_interrupted(make, X0, grads, stop=8), run(make, X0, grads), 0, 0)
