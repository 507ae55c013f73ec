"""Adam (and AMSGrad): the rule with bias correction, step by step, and against torch.optim."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import gradients, run, run_torch

X0 = np.array([[0.5, -1.5], [2.0, 0.1], [-0.3, 0.7]])


def adam_reference(x0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False):
    beta1, beta2 = betas
    p, m, v, v_max = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), np.zeros_like(x0)
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1 ** t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


SETTINGS = [
    dict(),
    dict(lr=0.1, betas=(0.5, 0.9)),
    dict(lr=0.01, eps=1e-2, weight_decay=0.1),
    dict(lr=0.05, amsgrad=True),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_adam_follows_the_formula(settings):
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.Adam(ps, **settings), X0, grads)
    expected = adam_reference(X0, grads, **settings)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


@pytest.mark.parametrize("settings", SETTINGS)
def test_adam_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.Adam(ps, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.Adam(ps, **settings), X0, grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_adam_first_step_is_lr_times_sign():
    """After bias correction the first step is lr * g / (|g| + eps): about lr per element."""
    p = nn.Parameter(np.array([1.0, 1.0], dtype=np.float32))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.array([3.0, -1e-3], dtype=np.float32)
    opt.step()
    np.testing.assert_allclose(p.data, [0.9, 1.1], rtol=1e-5)
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
    assert opt.state[p]["step"] == 1


def test_adam_validates_betas():
    p = nn.Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        optim.Adam([p], eps=-1.0)


@pytest.mark.parametrize("settings", [dict(lr=0.05), dict(lr=0.05, amsgrad=True, weight_decay=0.1),
                                      dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)])
def test_adam_maximize_and_decoupled_decay_match_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, 20)
    got = run(lambda ps: optim.Adam(ps, maximize=True, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.Adam(ps, maximize=True, **settings), X0,
                         grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_adam_amsgrad_matches_torch_over_20_steps():
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, 20)
    got = run(lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.Adam(ps, lr=0.1, amsgrad=True), X0, grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
