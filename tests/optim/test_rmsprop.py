"""RMSprop: PyTorch's rule and TensorFlow's eps-inside-the-root form, step by step."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import gradients, run, run_torch

X0 = np.array([0.5, -1.5, 2.0, 0.1])


def rmsprop_reference(x0, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                      momentum=0.0, centered=False, eps_inside_sqrt=False):
    p = x0.copy()
    v, m, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    out = []
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g ** 2
        var = v
        if centered:
            m = alpha * m + (1 - alpha) * g
            var = v - m ** 2
        d = np.sqrt(var + eps) if eps_inside_sqrt else np.sqrt(var) + eps
        if momentum > 0:
            b = momentum * b + g / d
            p = p - lr * b
        else:
            p = p - lr * g / d
        out.append(p)
    return out


TORCH_SETTINGS = [
    dict(),
    dict(lr=0.05, alpha=0.9, eps=1e-3),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.02, momentum=0.9),
    dict(lr=0.02, momentum=0.5, centered=True, weight_decay=0.01),
]
TF_SETTINGS = [
    dict(lr=0.045, alpha=0.9, eps=1.0, momentum=0.9, eps_inside_sqrt=True),  # Inception-v3
    dict(lr=0.01, eps=0.5, centered=True, eps_inside_sqrt=True),
]


@pytest.mark.parametrize("settings", TORCH_SETTINGS + TF_SETTINGS)
def test_rmsprop_follows_the_formula(settings):
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.RMSprop(ps, **settings), X0, grads)
    expected = rmsprop_reference(X0, grads, **settings)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


@pytest.mark.parametrize("settings", TORCH_SETTINGS)
def test_rmsprop_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.RMSprop(ps, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.RMSprop(ps, **settings), X0, grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_eps_inside_sqrt_differs_when_eps_is_large():
    """With eps = 1 the two forms give clearly different first steps (golden values)."""
    g = np.array([2.0])
    for inside, denominator in ((False, np.sqrt(0.1 * 4.0) + 1.0), (True, np.sqrt(0.4 + 1.0))):
        p = nn.Parameter(np.array([0.0]))
        opt = optim.RMSprop([p], lr=0.1, alpha=0.9, eps=1.0, eps_inside_sqrt=inside)
        p.grad = g
        opt.step()
        assert p.data[0] == pytest.approx(-0.1 * 2.0 / denominator, rel=1e-14)


def test_rmsprop_state_and_float32():
    p = nn.Parameter(X0.astype(np.float32))
    opt = optim.RMSprop([p], momentum=0.9, centered=True)
    for g in gradients(X0.shape, steps=2):
        p.grad = g.astype(np.float32)
        opt.step()
    state = opt.state[p]
    assert state["step"] == 2
    assert set(state) == {"step", "square_avg", "momentum_buffer", "grad_avg"}
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "step")
    assert p.dtype == np.float32
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop([p], alpha=1.5)
