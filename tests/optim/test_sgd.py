"""SGD: every option against the update rule written out here, and against torch.optim."""

import numpy as np
import pytest

from minicnn import nn, optim
from tests.optim._helpers import gradients, run, run_torch

X0 = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])


def sgd_reference(x0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False):
    """PyTorch's SGD, step by step."""
    p, buf, out = x0.copy(), None, []
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_follows_the_formula(settings):
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.SGD(ps, **settings), X0, grads)
    expected = sgd_reference(X0, grads, **settings)
    for step, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


def test_sgd_first_momentum_step_uses_the_gradient_itself():
    p = nn.Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.5, momentum=0.9, dampening=0.5)
    p.grad = np.array([2.0])
    opt.step()
    assert p.data[0] == 1.0 - 0.5 * 2.0  # buffer = g, not (1 - dampening) * g
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [2.0])


@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape)
    got = run(lambda ps: optim.SGD(ps, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.SGD(ps, **settings), X0, grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_sgd_keeps_float32_in_place():
    p = nn.Parameter(X0.astype(np.float32))
    data = p.data
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True)
    for g in gradients(X0.shape, steps=3):
        p.grad = g.astype(np.float32)
        opt.step()
    assert p.data is data and p.dtype == np.float32
    assert opt.state[p]["momentum_buffer"].dtype == np.float32
    expected = sgd_reference(X0, gradients(X0.shape, steps=3), lr=0.1, momentum=0.9,
                             weight_decay=0.1, nesterov=True)[-1]
    np.testing.assert_allclose(p.data, expected, rtol=1e-5, atol=1e-6)


def test_sgd_validates_settings():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0 and dampening == 0"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(TypeError):
        optim.SGD([p])  # lr is required


@pytest.mark.parametrize("settings", [dict(lr=0.1), dict(lr=0.05, momentum=0.9, nesterov=True,
                                                         weight_decay=0.1)])
def test_sgd_maximize_matches_torch(settings):
    torch = pytest.importorskip("torch")
    grads = gradients(X0.shape, 20)
    got = run(lambda ps: optim.SGD(ps, maximize=True, **settings), X0, grads)
    expected = run_torch(torch, lambda ps: torch.optim.SGD(ps, maximize=True, **settings), X0,
                         grads)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
