"""Adagrad: against its formula and torch.optim.Adagrad over 20 steps, and checkpoints."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import (assert_histories_close, gradients, run, run_interrupted,
                                  run_torch_float64)

X0 = np.array([[0.5, -1.5], [2.0, 0.1], [-0.3, 0.7]])
STEPS = 20

SETTINGS = [
    dict(),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.2, eps=1e-2, lr_decay=0.3, maximize=True),
]


def adagrad_reference(x0, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    p, s = x0.copy(), np.full_like(x0, initial_accumulator_value)
    out = []
    for t, g in enumerate(grads, start=1):
        g = (-g if maximize else g) + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


@pytest.mark.parametrize("settings", SETTINGS)
def test_adagrad_follows_the_formula(settings):
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.Adagrad(ps, **settings), X0, grads)
    assert_histories_close(got, adagrad_reference(X0, grads, **settings))


@pytest.mark.parametrize("settings", SETTINGS)
def test_adagrad_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, STEPS)
    got = run(lambda ps: optim.Adagrad(ps, **settings), X0, grads)
    expected = run_torch_float64(torch, lambda ps: torch.optim.Adagrad(ps, **settings), X0,
                                 grads)
    assert_histories_close(got, expected)


@pytest.mark.parametrize("settings", SETTINGS)
def test_adagrad_state_dict_round_trip_continues_identically(settings):
    grads = gradients(X0.shape, STEPS)
    make = lambda ps: optim.Adagrad(ps, **settings)  # noqa: E731
    assert_histories_close(run_interrupted(make, X0, grads, stop=9), run(make, X0, grads), 0, 0)


def test_adagrad_keeps_float32_and_the_accumulator_starts_at_its_value():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    p.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["sum"].dtype == np.float32
    np.testing.assert_allclose(opt.state[p]["sum"], 1.25)
