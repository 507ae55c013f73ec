"""Module backward hooks (register_full_backward_hook, register_full_backward_pre_hook),
compared with PyTorch's: the tuples the hooks see, replacing grad_input / grad_output, the
case where no input requires grad, handles, errors."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import minicnn
from minicnn import nn

torch = pytest.importorskip("torch")


def _pair(seed=0):
    """The same two-layer network in minicnn and torch (float64)."""
    rng = np.random.default_rng(seed)
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.data[...] = rng.normal(size=p.shape)
            q.copy_(torch.tensor(p.data))
    x = rng.normal(size=(5, 3))
    return ours, theirs, x


def _numpy(grads):
    """minicnn or torch gradients (or None) as arrays."""
    return tuple(None if g is None else g.data if isinstance(g, minicnn.Tensor)
                 else g.detach().numpy() for g in grads)


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(_numpy(ours), _numpy(theirs)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _record(module, log, name):
    def full(mod, grad_input, grad_output):
        assert mod is module
        assert type(grad_input) is tuple and type(grad_output) is tuple
        log.append((name, "full", grad_input, grad_output))

    def pre(mod, grad_output):
        assert mod is module and type(grad_output) is tuple
        log.append((name, "pre", grad_output))
    return module.register_full_backward_hook(full), module.register_full_backward_pre_hook(pre)


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_hooks_see_pytorchs_tuples_in_pytorchs_order(input_requires_grad):
    ours, theirs, x = _pair()
    logs = [], []
    for model, log in zip((ours, theirs), logs):
        for i in range(3):
            _record(model[i], log, i)
    xo = minicnn.tensor(x, requires_grad=input_requires_grad)
    xt = torch.tensor(x, requires_grad=input_requires_grad)
    ours(xo).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning for the no-input-grad case
        theirs(xt).sum().backward()
    assert [e[:2] for e in logs[0]] == [e[:2] for e in logs[1]]
    for a, b in zip(*logs):
        for u, v in zip(a[2:], b[2:]):
            _assert_same(u, v)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)
    if input_requires_grad:
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-12)


class _Several(nn.Module):
    def forward(self, x, k, y):
        return x * y * k, y + 1, x.sum()


class _SeveralTorch(torch.nn.Module):
    def forward(self, x, k, y):
        return x * y * k, y + 1, x.sum()


def test_several_inputs_and_outputs_as_pytorch():
    """Non-tensor arguments and outputs without a gradient are None in the tuples; a tensor
    input that does not require grad gets zeros in grad_input (as PyTorch)."""
    logs = [], []
    results = []
    for module, lib, log in ((_Several(), minicnn, logs[0]),
                             (_SeveralTorch(), torch, logs[1])):
        _record(module, log, "m")
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = lib.tensor(np.array([3.0, -1.0]))
        a, b, c = module(x, 2.0, y)
        results.append((b.requires_grad, c.requires_grad))
        a.sum().backward()
    assert results[0] == results[1]
    assert [e[:2] for e in logs[0]] == [("m", "pre"), ("m", "full")]
    assert [e[:2] for e in logs[0]] == [e[:2] for e in logs[1]]
    for a, b in zip(*logs):
        for u, v in zip(a[2:], b[2:]):
            _assert_same(u, v)


def test_unused_input_gets_zeros_as_pytorch():
    class Ours(nn.Module):
        def forward(self, x, y):
            return y * 2

    class Theirs(torch.nn.Module):
        def forward(self, x, y):
            return y * 2

    seen, grads = [], []
    for module, lib in ((Ours(), minicnn), (Theirs(), torch)):
        module.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
        x = lib.tensor(np.ones(2), requires_grad=True)
        y = lib.tensor(np.full(2, 3.0), requires_grad=True)
        module(x, y).sum().backward()
        grads.append(x.grad)
    _assert_same(seen[0], seen[1])
    _assert_same(grads[:1], grads[1:])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_scaling_grad_input_changes_upstream_gradients_as_pytorch(index):
    """A full hook returning 3 * grad_input on layer ``index``: the layers before it (and
    the input) get 3x gradients, its own parameters do not."""
    ours, theirs, x = _pair(1)
    for model in (ours, theirs):
        model[index].register_full_backward_hook(
            lambda m, gi, go: tuple(None if g is None else 3 * g for g in gi))
    xo, xt = minicnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours(xo).pow(2).sum().backward()
    theirs(xt).pow(2).sum().backward()
    reference, _, _ = _pair(1)
    xr = minicnn.tensor(x, requires_grad=True)
    reference(xr).pow(2).sum().backward()
    for (name, p), q, r in zip(ours.named_parameters(), theirs.parameters(),
                               reference.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12, err_msg=name)
        upstream = int(name.split(".")[0]) < index
        np.testing.assert_allclose(p.grad.data, (3 if upstream else 1) * r.grad.data,
                                   rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(xo.grad.data, 3 * xr.grad.data, rtol=1e-12)


def test_pre_hook_replacing_grad_output_as_pytorch():
    """A pre-hook's grad_output flows into the module: its parameters' gradients change."""
    ours, theirs, x = _pair(2)
    for model in (ours, theirs):
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 0.5,))
    ours(minicnn.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    reference, _, _ = _pair(2)
    reference(minicnn.tensor(x)).sum().backward()
    for p, q, r in zip(ours.parameters(), theirs.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(p.grad.data, 0.5 * r.grad.data, rtol=1e-12)


def test_hooks_chain_in_order_and_prepend_and_remove():
    layer = nn.Linear(2, 2).double()
    calls = []

    def hook(name, factor):
        def fn(m, gi, go):
            calls.append(name)
            return (gi[0] * factor,)
        return fn

    a = layer.register_full_backward_hook(hook("a", 2.0))
    layer.register_full_backward_hook(hook("b", 5.0))
    layer.register_full_backward_hook(hook("c", 1.0), prepend=True)
    x = minicnn.tensor(np.ones((1, 2)), requires_grad=True)
    layer(x).sum().backward()
    assert calls == ["c", "a", "b"]
    expected = 10 * layer.weight.data.sum(0)
    np.testing.assert_allclose(x.grad.data[0], expected)
    a.remove()
    a.remove()  # a second remove does nothing
    calls.clear()
    x.grad = None
    layer(x).sum().backward()
    assert calls == ["c", "b"]
    np.testing.assert_allclose(x.grad.data[0], 5 * layer.weight.data.sum(0))


def test_no_input_requiring_grad_calls_the_hook_with_nones():
    layer = nn.Linear(2, 3)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    layer(minicnn.ones(4, 2)).sum().backward()
    (grad_input, grad_output), = seen
    assert grad_input == (None,)
    np.testing.assert_array_equal(grad_output[0].data, np.ones((4, 3)))
    assert layer.weight.grad is not None
    layer.register_full_backward_hook(lambda m, gi, go: (minicnn.ones(4, 2),))
    with pytest.raises(RuntimeError, match="no input requires gradient"):
        layer(minicnn.ones(4, 2)).sum().backward()


def test_wrong_number_of_gradients_is_an_error():
    layer = nn.Linear(2, 3)
    x = minicnn.ones(1, 2, requires_grad=True)
    h = layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but "
                                           "expected 1"):
        layer(x).sum().backward()
    h.remove()
    layer.register_full_backward_pre_hook(lambda m, go: ())
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 0"):
        layer(x).sum().backward()
    with pytest.raises(TypeError, match="callable"):
        layer.register_full_backward_hook(3)


def test_no_grad_and_no_hooks_leave_the_call_alone():
    layer = nn.Linear(2, 3)
    x = minicnn.ones(1, 2, requires_grad=True)
    plain = layer(x)
    assert plain.grad_fn.name() != "BackwardHookFunctionBackward"
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with minicnn.no_grad():
        out = layer(x)
    assert out.grad_fn is None and not out.requires_grad
    hooked = layer(x)
    assert hooked.grad_fn.name() == "BackwardHookFunctionBackward"
    np.testing.assert_array_equal(hooked.data, plain.data)
    hooked.sum().backward()
    assert calls == [1]


def test_a_module_returning_its_input():
    """nn.Identity's output is its (wrapped) input: both identities run, as in PyTorch."""
    seen = []
    for module, lib in ((nn.Identity(), minicnn), (torch.nn.Identity(), torch)):
        module.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        (module(x) * 3).sum().backward()
    _assert_same(seen[0][0], seen[1][0])
    _assert_same(seen[0][1], seen[1][1])


def test_retained_graph_runs_the_hooks_each_backward():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    layer.register_full_backward_pre_hook(lambda m, go: calls.append(0))
    y = layer(minicnn.ones(1, 2, requires_grad=True)).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert calls == [0, 1, 0, 1]


def test_modules_pickle_and_deepcopy_with_and_without_hooks():
    layer = nn.Linear(2, 2)
    clone = pickle.loads(pickle.dumps(layer))
    assert not clone._backward_hooks
    layer.register_full_backward_pre_hook(lambda m, go: None)
    copied = copy.deepcopy(layer)
    assert len(copied._backward_pre_hooks) == 1
