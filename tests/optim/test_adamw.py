"""AdamW: decoupled weight decay, against its formula and torch.optim.AdamW over 20 steps."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import (assert_histories_close, gradients, run, run_interrupted,
                                  run_torch)

X0 = np.array([[0.5, -1.5], [2.0, 0.1], [-0.3, 0.7]])
STEPS = 20

SETTINGS = [
    dict(),
    dict(lr=0.1, betas=(0.5, 0.9), weight_decay=0.3),
    dict(lr=0.01, eps=1e-2, weight_decay=0.0),
    dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    dict(lr=0.02, maximize=True),
]


def adamw_reference(x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                    amsgrad=False, maximize=False):
    beta1, beta2 = betas
    p, m, v, v_max = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), np.zeros_like(x0)
    out = []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        p = p * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
        p = p - lr * m / (1 - beta1 ** t) / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("settings", SETTINGS)
def test_adamw_follows_the_formula(settings):
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.AdamW(ps, **settings), X0, grads)
    assert_histories_close(got, adamw_reference(X0, grads, **settings))


@pytest.mark.parametrize("settings", SETTINGS)
def test_adamw_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.AdamW(ps, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.AdamW(ps, **settings), X0, grads)
    assert_histories_close(got, expected)


@pytest.mark.parametrize("settings", [dict(weight_decay=0.1), dict(weight_decay=0.1, amsgrad=True)])
def test_adam_with_decoupled_weight_decay_is_adamw(settings):
    """PyTorch's Adam(decoupled_weight_decay=True) is AdamW; so is ours."""
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.Adam(ps, decoupled_weight_decay=True, **settings), X0, grads)
    assert_histories_close(got, run(lambda ps: optim.AdamW(ps, **settings), X0, grads), 0, 0)


def test_decay_is_not_scaled_by_the_gradient_rms():
    """The difference from Adam's L2 penalty: with a zero gradient AdamW still shrinks p by
    exactly lr * weight_decay per step; Adam's penalty goes through the RMS division."""
    p = nn.Parameter(np.array([2.0, -4.0]))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.zeros(2)
    opt.step()
    np.testing.assert_array_equal(p.data, [2.0 * 0.95, -4.0 * 0.95])
    assert optim.AdamW([nn.Parameter(np.zeros(1))]).defaults["weight_decay"] == 0.01


@pytest.mark.parametrize("settings", SETTINGS)
def test_adamw_state_dict_round_trip_continues_identically(settings):
    grads = gradients(X0.shape, STEPS)
    make = lambda ps: optim.AdamW(ps, **settings)  # noqa: E731
    assert_histories_close(run_interrupted(make, X0, grads, stop=7), run(make, X0, grads), 0, 0)
