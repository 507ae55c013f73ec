"""PyTorch code, run on minicnn with only its imports changed.

Each snippet below is written exactly as PyTorch code is (the idioms of the official
tutorials, CS231n and d2l), against a namespace ``lib`` that is either ``minicnn`` or
``torch``. The same NumPy inputs go in; the results must agree (when PyTorch is installed;
without it each snippet still runs on minicnn and its own asserts hold).
"""

import math

import numpy as np
import pytest

import minicnn

SNIPPETS = []


def snippet(fn):
    SNIPPETS.append(fn)
    return fn


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return [_numpy(v) for v in value]
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


# ----------------------------------------------------------------------------- tensors


@snippet
def creation_and_shapes(lib, rng):
    x = lib.from_numpy(rng.standard_normal((4, 3)).astype(np.float32))
    y = x.view(-1, 2)
    z = x.unsqueeze(0).squeeze(0).t().contiguous()
    assert x.size(0) == 4 and x.size() == (4, 3) and x.dim() == 2 and x.numel() == 12
    assert y.shape == (6, 2) and z.shape == (3, 4)
    ones = lib.ones(2, 3, dtype=lib.float)
    return [x.flatten(), y, z, ones, lib.zeros_like(x), lib.arange(6).reshape(2, 3),
            lib.cat([x, x], dim=1), lib.stack([x, x], dim=0).sum(dim=0)]


@snippet
def python_protocols(lib, rng):
    loss = lib.tensor(2.5)
    count = lib.tensor(7)
    values = [float(loss), int(count), f"{loss:.3f}", f"{loss.item():.2f}", bool(loss > 1),
              len(lib.zeros(5, 2)), [float(v) for v in lib.arange(3.0)], list(range(10))[count]]
    assert values[2] == "2.500" and values[5] == 5 and values[7] == 7
    return np.array(values[:2] + [values[5]] + values[6], dtype=np.float64)


@snippet
def reductions_with_dim(lib, rng):
    x = lib.from_numpy(rng.standard_normal((3, 4, 5)).astype(np.float64))
    values, indices = x.max(1)
    _, predicted = x.max(dim=2)
    smallest = lib.min(x, dim=0)
    return [values, indices, predicted, smallest.values, smallest.indices, x.max(),
            x.sum(dim=(0, 2), keepdim=True), x.mean(1), x.std(dim=0), x.var(2),
            x.argmax(dim=1), x.amax(dim=-1), x.norm(), x.prod(dim=0), x.cumsum(dim=1)]


@snippet
def accuracy_the_tutorial_way(lib, rng):
    logits = lib.from_numpy(rng.standard_normal((16, 10)).astype(np.float32))
    labels = lib.from_numpy(rng.integers(0, 10, 16))
    _, predicted = lib.max(logits.data, 1)
    correct = (predicted == labels).sum().item()
    also = (logits.argmax(1) == labels).type(lib.float).sum().item()
    return np.array([correct, also, labels.size(0)])


@snippet
def elementwise_functions(lib, rng):
    x = lib.linspace(-math.pi, math.pi, 50)
    y = lib.sin(x)
    p = lib.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    return [y, lib.cos(x), lib.exp(x / 4), lib.abs(x), x.clamp(min=0), lib.clamp(x, -1, 1),
            lib.where(x > 0, x, lib.zeros_like(x)), xx, lib.matmul(xx.t(), xx), x.mul(2).add(1)]


@snippet
def numpy_interplay(lib, rng):
    array = rng.standard_normal(5).astype(np.float32)
    t = lib.from_numpy(array)
    array[0] = 10.0                       # from_numpy shares memory
    doubled = np.float32(2) * t           # reaches Tensor.__rmul__
    as_array = np.asarray(t)
    return [t, doubled, as_array, t.numpy()]


# ----------------------------------------------------------------------------- autograd


@snippet
def manual_sgd_in_place_under_no_grad(lib, rng):
    x = lib.linspace(-math.pi, math.pi, 2000)
    y = lib.sin(x)
    start = rng.standard_normal(4).astype(np.float32)
    a, b, c, d = (lib.tensor(float(v), requires_grad=True) for v in start)
    for _ in range(30):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with lib.no_grad():
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
    return [a, b, c, d, loss]


@snippet
def parameters_loop_with_grad_zero(lib, rng):
    weights = rng.standard_normal((3, 2)).astype(np.float32)
    model = lib.nn.Linear(2, 3)
    with lib.no_grad():
        model.weight.copy_(lib.from_numpy(weights))
        model.bias.zero_()
    x = lib.from_numpy(rng.standard_normal((8, 2)).astype(np.float32))
    for _ in range(3):
        loss = model(x).pow(2).mean()
        model.zero_grad()
        loss.backward()
        with lib.no_grad():
            for param in model.parameters():
                param -= 0.1 * param.grad
    return [model.weight, model.bias, loss]


@snippet
def custom_autograd_function(lib, rng):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    x = lib.from_numpy(rng.uniform(-1, 1, 20).astype(np.float64)).requires_grad_()
    y = LegendrePolynomial3.apply(x)
    y.sum().backward()
    return [y, x.grad]


@snippet
def grad_is_a_tensor_and_accumulates(lib, rng):
    w = lib.from_numpy(rng.standard_normal(3)).requires_grad_(True)
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    first = w.grad.clone()
    w.grad.zero_()
    (w ** 2).sum().backward()
    return [first, w.grad, w.grad.data]


@snippet
def backward_with_gradient_and_retain_graph(lib, rng):
    x = lib.from_numpy(rng.standard_normal(4)).requires_grad_()
    y = x * x
    y.backward(lib.ones_like(y), retain_graph=True)
    y.backward(gradient=lib.full_like(y, 2.0))
    return [x.grad]


@snippet
def autograd_grad_leaves_grad_alone(lib, rng):
    x = lib.from_numpy(rng.standard_normal(3)).requires_grad_()
    out = (x.exp() * x).sum()
    (gx,) = lib.autograd.grad(out, x)
    assert x.grad is None
    return [gx]


@snippet
def hooks_and_retain_grad(lib, rng):
    x = lib.from_numpy(rng.standard_normal(3)).requires_grad_()
    h = x * 3
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.clone()))
    x.register_hook(lambda g: g * 10)      # a hook may replace the gradient
    (h ** 2).sum().backward()
    return [h.grad, seen[0], x.grad]


@snippet
def detach_and_requires_grad_flags(lib, rng):
    x = lib.from_numpy(rng.standard_normal(3)).requires_grad_()
    y = (x * 2).detach()
    with lib.no_grad():
        z = x * 2
    flags = [x.is_leaf, y.requires_grad, z.requires_grad, (x * 2).requires_grad,
             (x * 2).is_leaf, x.grad_fn is None, (x * 2).grad_fn is not None]
    return np.array(flags)


@snippet
def in_place_on_non_leaf_is_differentiated(lib, rng):
    x = lib.from_numpy(rng.standard_normal(5)).requires_grad_()
    y = x * 2
    y.add_(1).mul_(3)
    y[0] = 0.0
    y.sum().backward()
    return [y, x.grad]


# ----------------------------------------------------------------------------- nn, optim, data


@snippet
def a_small_cnn_trains_as_in_the_blitz(lib, rng):
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.pool = nn.MaxPool2d(2, 2)
            self.fc1 = nn.Linear(4 * 3 * 3, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = lib.flatten(x, 1)
            return self.fc1(x)

    net = Net()
    state = {name: rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3
             for name, p in net.named_parameters()}
    net.load_state_dict({k: lib.from_numpy(v) for k, v in state.items()})
    criterion = nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    images = lib.from_numpy(rng.standard_normal((8, 1, 8, 8)).astype(np.float32))
    labels = lib.from_numpy(rng.integers(0, 10, 8))
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = criterion(net(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return [np.array(losses), net.conv1.weight, net.fc1.bias]


@snippet
def tensor_dataset_and_dataloader(lib, rng):
    TensorDataset = lib.utils.data.TensorDataset
    DataLoader = lib.utils.data.DataLoader
    x = lib.from_numpy(rng.standard_normal((10, 3)).astype(np.float32))
    y = lib.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=False)
    batches = [(xb.sum(dim=1), yb) for xb, yb in loader]
    assert len(loader) == 3 and batches[-1][1].size(0) == 2
    return [b for pair in batches for b in pair]


@snippet
def save_and_load_a_state_dict_under_any_name(lib, rng, tmp_path=None):
    import tempfile, os
    model = lib.nn.Linear(3, 2)
    path = os.path.join(tempfile.mkdtemp(), "cifar_net.pth")
    lib.save(model.state_dict(), path)
    again = lib.nn.Linear(3, 2)
    again.load_state_dict(lib.load(path))
    return [again.weight - model.weight]


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("fn", SNIPPETS, ids=lambda fn: fn.__name__)
def test_snippet_runs_on_minicnn_as_on_pytorch(fn):
    mine = fn(minicnn, np.random.default_rng(0))
    try:
        import torch
    except ImportError:
        return
    theirs = fn(torch, np.random.default_rng(0))
    for m, t in zip(_flatten(mine), _flatten(theirs)):
        m, t = _numpy(m), _numpy(t)
        assert m.shape == t.shape, fn.__name__
        if m.dtype.kind in "fc":
            # float32 sums cancel: near-zero entries of a product of 1e3-sized values carry
            # rounding of the values' own size, so the absolute slack follows the scale.
            scale = float(np.max(np.abs(t))) if t.size else 0.0
            atol = 1e-5 * max(scale, 1.0) if m.dtype == np.float32 else 1e-10
            np.testing.assert_allclose(m, t, rtol=1e-4, atol=atol, err_msg=fn.__name__)
        else:
            np.testing.assert_array_equal(m, t, err_msg=fn.__name__)


def _flatten(values):
    if isinstance(values, (list, tuple)):
        return [v for item in values for v in _flatten(item)]
    return [values]
