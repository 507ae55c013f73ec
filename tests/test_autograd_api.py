"""PyTorch's autograd surface in minicnn/autograd.py: Function (tensor-level protocol),
grad_fn/is_leaf, hooks, retain_grad, autograd.grad, backward's arguments, and grad modes."""

import threading

import numpy as np
import pytest

import minicnn
import minicnn.autograd
from minicnn import Tensor, gradcheck


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


class LegendrePolynomial3(minicnn.autograd.Function):
    """The tutorial's function (pytorch/tutorials examples_autograd), unchanged."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


# --- Function --------------------------------------------------------------------------------

def test_function_is_pytorchs_tensor_level_protocol():
    assert minicnn.Function is minicnn.autograd.Function
    assert minicnn.autograd.Function is not minicnn.autograd.ArrayFunction
    seen = {}

    class Probe(minicnn.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, shift):
            seen["forward"] = (type(x), scale, minicnn.is_grad_enabled(), ctx.needs_input_grad)
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x * scale + shift

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            seen["backward"] = (type(grad_output), type(x))
            return grad_output * ctx.scale, None, grad_output.sum()

    x, shift = leaf([1.0, 2.0]), leaf(3.0)
    y = Probe.apply(x, 2.0, shift)
    assert seen["forward"] == (Tensor, 2.0, False, (True, False, True))
    assert y.grad_fn.name() == "ProbeBackward" and not y.is_leaf and y.requires_grad
    y.sum().backward()
    assert seen["backward"] == (Tensor, Tensor)
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(shift.grad.data, 2.0)


def test_legendre_function_passes_gradcheck_and_matches_pytorch():
    x = leaf(np.linspace(-1.0, 1.0, 7))
    assert gradcheck(LegendrePolynomial3.apply, [x])
    torch = pytest.importorskip("torch")

    class TorchLegendre(torch.autograd.Function):
        forward = staticmethod(LegendrePolynomial3.forward)
        backward = staticmethod(LegendrePolynomial3.backward)

    t = torch.tensor(x.data, requires_grad=True)
    (TorchLegendre.apply(t) * t).sum().backward()
    (LegendrePolynomial3.apply(x) * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12)


def test_function_with_several_outputs_non_differentiable_ones_and_setup_context():
    class SortWithIndices(minicnn.autograd.Function):
        @staticmethod
        def forward(x):
            order = np.argsort(x.data)
            return Tensor(x.data[order]), Tensor(order)

        @staticmethod
        def setup_context(ctx, inputs, output):
            values, order = output
            ctx.mark_non_differentiable(order)
            ctx.save_for_backward(order)
            ctx.set_materialize_grads(True)

        @staticmethod
        def backward(ctx, grad_values, grad_order):
            (order,) = ctx.saved_tensors
            assert grad_order is None or not grad_order.data.any()
            grad = np.zeros_like(grad_values.data)
            grad[order.data] = grad_values.data
            return Tensor(grad)

    x = leaf([3.0, 1.0, 2.0])
    values, order = SortWithIndices.apply(x)
    assert values.requires_grad and not order.requires_grad
    (values * Tensor(np.array([1.0, 10.0, 100.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [100.0, 1.0, 10.0])


def test_function_mistakes_raise_pytorchs_errors():
    class TooFew(minicnn.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect "
                                           r"number of gradients \(expected 2, got 1\)"):
        TooFew.apply(leaf([1.0]), leaf([2.0])).sum().backward()

    class SavesAndChanges(minicnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 2

    h = leaf([1.0]) * 1.0
    y = SavesAndChanges.apply(h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_function_without_inputs_that_require_grad_records_nothing():
    y = LegendrePolynomial3.apply(Tensor(np.array([0.5])))
    assert y.grad_fn is None and not y.requires_grad


# --- the graph: grad_fn, is_leaf, next_functions ---------------------------------------------

def test_grad_fn_names_and_next_functions():
    w = leaf([1.0, 2.0])
    assert w.grad_fn is None and w.is_leaf
    y = (w * 3.0).sum()
    assert repr(y.grad_fn).startswith("<SumBackward0 object at")
    (mul, index), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and index == 0
    accumulate, nothing = mul.next_functions
    assert accumulate[0].name() == "AccumulateGrad" and accumulate[0].variable is w
    assert nothing == (None, 0)
    assert Tensor(np.ones(2)).is_leaf and not (w * 2.0).is_leaf


def test_grad_fn_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = (leaf([1.0, 2.0]) * 3.0).sum()
    theirs = (torch.tensor([1.0, 2.0], requires_grad=True) * 3.0).sum()
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    assert ours.grad_fn.next_functions[0][0].name() == theirs.grad_fn.next_functions[0][0].name()


def test_requires_grad_of_a_non_leaf_cannot_be_turned_off():
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        (leaf([1.0]) * 2.0).requires_grad_(False)


# --- backward's arguments ---------------------------------------------------------------------

def test_backward_takes_gradient_and_a_freed_graph_raises_the_second_time():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.backward(gradient=Tensor(np.array([1.0, 0.5])), retain_graph=True)
    y.backward(np.array([1.0, 0.5]))
    np.testing.assert_allclose(x.grad.data, 2 * np.array([1.0, 0.5]) * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                           "time.*retain_graph=True"):
        y.backward(np.ones(2))


def test_create_graph_is_refused_naming_it():
    y = (leaf([1.0]) * 2.0).sum()
    with pytest.raises(ValueError, match="create_graph"):
        y.backward(create_graph=True)
    with pytest.raises(ValueError, match="create_graph"):
        minicnn.autograd.grad(y, [leaf([1.0])], create_graph=True)


def test_backward_with_inputs_accumulates_only_there():
    a, b = leaf([1.0]), leaf([2.0])
    (a * b).sum().backward(inputs=[a])
    assert b.grad is None and a.grad.data.tolist() == [2.0]


# --- hooks and retain_grad -------------------------------------------------------------------

def test_register_hook_sees_and_may_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.data.copy()))
    h = x * 3.0
    h.register_hook(lambda g: g * 10)      # replaces the gradient flowing into h
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 10 * 2 * 3.0 * x.data * 3.0)
    np.testing.assert_allclose(x.grad.data, seen[0])
    handle.remove()
    x.grad = None
    (x * 1.0).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        Tensor(np.ones(2)).register_hook(print)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    k = x * 2.0
    assert h.retains_grad and not k.retains_grad and not x.retains_grad
    (h * h + k).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    assert k.grad is None
    with pytest.raises(RuntimeError, match="can't retain_grad"):
        Tensor(np.ones(1)).retain_grad()


# --- autograd.grad ---------------------------------------------------------------------------

def test_autograd_grad_returns_tensors_and_leaves_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x * w
    loss = (h * h).sum()
    gx, gh = minicnn.autograd.grad(loss, [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.data, 2 * h.data * w.data)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert isinstance(gx, Tensor) and x.grad is None and w.grad is None
    (gw,) = minicnn.autograd.grad([h], w, grad_outputs=[Tensor(np.array([1.0, -1.0]))])
    np.testing.assert_allclose(gw.data, [1.0, -2.0])


def test_autograd_grad_unused_inputs():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        minicnn.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = minicnn.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None and gx.data.tolist() == [2.0]
    _, zeros = minicnn.autograd.grad(y, [x, unused], materialize_grads=True)
    assert zeros.data.tolist() == [0.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        minicnn.autograd.grad(y, [Tensor(np.ones(1))])


def test_autograd_grad_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([0.5, -1.5, 2.0])

    def run(lib, make):
        x = make(values)
        y = (x.exp() * x).sum() if lib == "minicnn" else (x.exp() * x).sum()
        (g,) = (minicnn.autograd.grad if lib == "minicnn" else torch.autograd.grad)(y, [x])
        return g.detach().numpy() if lib == "torch" else g.data

    np.testing.assert_allclose(run("minicnn", lambda v: Tensor(v, requires_grad=True)),
                               run("torch", lambda v: torch.tensor(v, requires_grad=True)),
                               rtol=1e-12)


# --- grad mode ---------------------------------------------------------------------------------

def test_no_grad_and_enable_grad_as_bare_and_called_decorators():
    x = leaf([1.0])

    @minicnn.no_grad
    def bare(t):
        return t * 2.0

    @minicnn.no_grad()
    def called(t):
        return t * 2.0

    @minicnn.enable_grad
    def enabled(t):
        return t * 2.0

    assert not bare(x).requires_grad and not called(x).requires_grad
    assert bare.__name__ == "bare"
    with minicnn.no_grad():
        assert enabled(x).requires_grad
    assert minicnn.is_grad_enabled()


def test_set_grad_enabled_as_call_context_manager_and_decorator():
    try:
        minicnn.set_grad_enabled(False)
        assert not minicnn.is_grad_enabled()
    finally:
        minicnn.set_grad_enabled(True)
    with minicnn.set_grad_enabled(False):
        assert not (leaf([1.0]) * 2.0).requires_grad
    assert minicnn.is_grad_enabled()

    @minicnn.set_grad_enabled(False)
    def evaluate():
        return minicnn.is_grad_enabled()

    assert minicnn.is_grad_enabled() and evaluate() is False and minicnn.is_grad_enabled()
    with pytest.raises(TypeError, match="mode must be a bool"):
        minicnn.set_grad_enabled("no")


def test_inference_mode_is_no_grad():
    with minicnn.inference_mode():
        assert not minicnn.is_grad_enabled()
        with minicnn.inference_mode(False):
            assert minicnn.is_grad_enabled()

    @minicnn.inference_mode
    def bare():
        return minicnn.is_grad_enabled()

    @minicnn.inference_mode()
    def called():
        return minicnn.is_grad_enabled()

    assert bare() is False and called() is False and minicnn.is_grad_enabled()


def test_grad_mode_is_per_thread():
    states = []
    with minicnn.no_grad():
        worker = threading.Thread(target=lambda: states.append(minicnn.is_grad_enabled()))
        worker.start()
        worker.join()
    assert states == [True]


# --- copies ------------------------------------------------------------------------------------

def test_deepcopy_and_pickle_keep_data_and_grad_but_not_the_graph():
    import copy
    import pickle

    model = minicnn.nn.Linear(3, 2)
    model(minicnn.randn(4, 3)).sum().backward()  # the weights now have AccumulateGrad nodes
    twin = copy.deepcopy(model)
    assert type(twin.weight) is minicnn.nn.Parameter and twin.weight.requires_grad
    np.testing.assert_array_equal(twin.weight.grad.data, model.weight.grad.data)
    assert not np.shares_memory(twin.weight.data, model.weight.data)
    restored = pickle.loads(pickle.dumps(model.weight))
    assert restored.requires_grad and restored.is_leaf and restored._version == 0
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(model.weight * 2.0)


def test_an_optimizer_step_counts_as_an_inplace_change():
    w = leaf([1.0, 2.0])
    loss = (w.exp()).sum()          # exp saves its output, mul saves w
    keep = (w * w).sum()
    optimizer = minicnn.optim.SGD([w], lr=0.1)
    loss.backward()
    optimizer.step()
    assert w._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        keep.backward()             # PyTorch raises too: w changed after mul saved it


def test_autograd_backward_runs_several_roots_in_one_pass():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    a, b = (h * h).sum(), h * 2.0
    minicnn.autograd.backward([a, b], [None, Tensor(np.array([1.0, 0.0]))])
    np.testing.assert_allclose(x.grad.data, 2 * h.data * 3.0 + np.array([6.0, 0.0]))
    with pytest.raises(RuntimeError, match="got 1 grad_tensors for 2 tensors"):
        minicnn.autograd.backward([a, b], [None])


def test_detach_in_place_makes_a_leaf():
    h = leaf([1.0]) * 2.0
    assert h.detach_() is h and h.is_leaf and not h.requires_grad and h.grad_fn is None


def test_retained_gradients_are_stored_by_autograd_grad_too_as_pytorch():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    minicnn.autograd.grad((h ** 2).sum(), x)
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    assert x.grad is None


def test_grad_mode_decorators_hold_inside_a_generators_body():
    x = leaf([1.0])

    @minicnn.no_grad()
    def predictions():
        for scale in (2.0, 3.0):
            yield x * scale, minicnn.is_grad_enabled()

    results = list(predictions())
    assert [enabled for _, enabled in results] == [False, False]
    assert not any(y.requires_grad for y, _ in results) and minicnn.is_grad_enabled()


def test_queue_callback_runs_once_backward_has_accumulated_every_gradient():
    from minicnn.autograd import queue_callback
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    w = minicnn.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    seen = []
    y.register_hook(lambda g: queue_callback(
        lambda: seen.append((x.grad.tolist(), w.grad.tolist()))))
    assert seen == []
    y.sum().backward()
    assert seen == [([3.0, 4.0], [1.0, 2.0])]  # after both leaves got their gradients
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        queue_callback(lambda: None)
