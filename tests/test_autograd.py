"""The autograd core: Tensor construction and attributes, the backward engine (seeding,
accumulation, deep graphs, freeing the graph), grad modes, detach, freezing, custom ops."""

import gc
import sys
import weakref

import numpy as np
import pytest

import minicnn
from minicnn import Tensor
from minicnn.autograd import ArrayFunction
from minicnn import functional as F
from minicnn.ops import elementwise


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- construction


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numpy_float_arrays_keep_their_dtype(dtype):
    data = np.ones((2, 3), dtype=dtype)
    t = Tensor(data)
    assert t.dtype == dtype
    assert t.data is data  # no copy


@pytest.mark.parametrize("data, dtype", [(1.5, np.float32), ([1.0, 2.0], np.float32),
                                         ([[1, 2.0], [3, 4]], np.float32), (2, np.int64),
                                         ([[1, 2], [3, 4]], np.int64), (True, np.bool_),
                                         ([True, False], np.bool_)])
def test_python_data_takes_pytorchs_dtypes(data, dtype):
    # PyTorch's rule: floats the default float32, ints int64, bools bool
    assert minicnn.tensor(data).dtype == dtype
    assert Tensor(data).dtype == dtype


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_boolean_arrays_stay_as_they_are(dtype):
    assert Tensor(np.array([1, 0, 1], dtype=dtype)).dtype == dtype


def test_numpy_scalars_keep_their_dtype():
    assert Tensor(np.float64(2.0)).dtype == np.float64
    assert Tensor(np.float32(2.0)).dtype == np.float32
    assert Tensor(np.int64(3)).dtype == np.int64


def test_dtype_argument_converts():
    assert minicnn.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32), dtype=np.float64).dtype == np.float64
    assert Tensor(Tensor(np.ones(2))).dtype == np.float64


@pytest.mark.parametrize("data, error, message", [
    (None, TypeError, "tensor: data must be numbers .* got None"),
    ("abc", TypeError, "tensor: data must be numbers .* got 'abc'"),
    (["1.5", "2"], TypeError, r"got \['1.5', '2'\] \(dtype <U3\)"),  # never parsed
    ([1.0, None], TypeError, "dtype object"),
    ({"a": 1}, TypeError, "got {'a': 1}"),
    (object(), TypeError, "tensor: data must be numbers"),
    (np.array([1, None]), TypeError, "dtype object"),
    (np.array(["a"]), TypeError, "dtype <U1"),
    (np.array(["2024-01-01"], dtype="datetime64[D]"), TypeError, "datetime64"),
    ([[1, 2], [3]], ValueError, r"data is a ragged nested list \(\[\[1, 2\], \[3\]\]\)"),
], ids=["None", "str", "strings", "None in a list", "dict", "object", "object array",
        "string array", "datetime array", "ragged"])
def test_data_that_is_not_numbers_is_refused(data, error, message):
    with pytest.raises(error, match=message):
        minicnn.tensor(data)
    with pytest.raises(error, match=message):
        Tensor(data)


@pytest.mark.parametrize("dtype, message", [
    ("no such dtype", "tensor: data: dtype 'no such dtype' is not a NumPy dtype"),
    (object, "tensor: data: dtype object is not a number type"),
    (str, "dtype <U0 is not a number type"),
])
def test_dtype_must_be_a_number_type(dtype, message):
    with pytest.raises(TypeError, match=message):
        minicnn.tensor([1.0], dtype=dtype)


def test_a_value_that_does_not_fit_the_dtype_is_named():
    with pytest.raises(ValueError, match="tensor: data: 300 does not fit in uint8"):
        minicnn.tensor(300, dtype=np.uint8)


def test_backward_refuses_a_gradient_that_is_not_numbers():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(TypeError, match="backward: gradient must be numbers"):
        y.backward("ab")
    with pytest.raises(ValueError, match="backward: gradient is a ragged"):
        y.backward([[1.0], [1.0, 2.0]])


def test_float_and_double_convert_in_the_graph():
    x = leaf([1.0, 2.0], dtype=np.float32)
    assert x.float() is x
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert minicnn.tensor(np.array([1, 2])).float().dtype == np.float32


def test_requires_grad_needs_a_floating_dtype():
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        Tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="floating dtype"):
        Tensor(np.array([1, 2])).requires_grad_()
    assert Tensor([1.0], requires_grad=True).requires_grad


# ----------------------------------------------------------------------------- attributes


def test_basic_attributes():
    data = np.arange(6.0).reshape(2, 3)
    t = Tensor(data)
    assert t.shape == (2, 3) and t.ndim == 2 and t.numel() == 6 and t.dtype == np.float64
    assert len(t) == 2
    assert t.numpy() is data
    assert Tensor(np.array([[4.5]])).item() == 4.5
    assert not t.requires_grad and t.grad is None and t.is_leaf


def test_data_and_grad_are_assignable():
    p = leaf([1.0, 2.0])
    p.data = np.array([3.0, 4.0])
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad, [6.0, 8.0])  # the new data was used
    p.grad = None
    assert p.grad is None
    p.grad = np.zeros(2)
    (p * 1.0).sum().backward()
    np.testing.assert_array_equal(p.grad, [1.0, 1.0])


def test_repr_shows_values_dtype_and_requires_grad():
    # PyTorch's look: a dtype suffix only for dtypes other than float32, int64 and bool
    assert repr(Tensor(np.array([1.0, 2.5]))) == "tensor([1.0000, 2.5000], dtype=minicnn.float64)"
    assert repr(leaf([[1.0], [2.0]], dtype=np.float32)) == ("tensor([[1.],\n        [2.]], "
                                                            "requires_grad=True)")


def test_truth_value_follows_pytorch():
    assert not bool(minicnn.tensor([1.0]) == minicnn.tensor([2.0]))
    assert bool(minicnn.tensor(3.0) > 1.0)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(minicnn.tensor([1.0, 2.0]) > 0)


def test_numpy_conversion_gives_the_data_not_an_object_array():
    t = leaf([1.0, 2.0])
    a = np.asarray(t)
    assert a.dtype == np.float64 and a.shape == (2,)
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copy = np.array(t)
    copy[0] = 9.0
    assert t.data[0] == 1.0


def test_iteration_yields_rows_and_refuses_a_0d_tensor():
    x = leaf(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and rows[2].shape == (2,) and rows[2].requires_grad
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(3.0))


def test_comparisons_and_argmax_are_outside_the_graph():
    x = leaf([1.0, 3.0, 2.0])
    for mask in (x > 1.5, x >= 2.0, x < 2.0, x <= 1.0, x == 3.0, x != 3.0):
        assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])
    assert x.argmax().item() == 1 and not x.argmax().requires_grad


# ----------------------------------------------------------------------------- backward


def test_scalar_output_seed_defaults_to_one():
    x = leaf(2.0)
    (x * 3.0).backward()
    assert x.grad == 3.0
    y = leaf([[2.0]])
    (y * 5.0).backward()  # one element: also a valid seed-1 output
    np.testing.assert_array_equal(y.grad, [[5.0]])


def test_non_scalar_output_needs_an_explicit_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError,
                       match=r"implicitly created only for scalar outputs \(got shape \[2\]\)"):
        (x * 2.0).backward()
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: .* shape of \[3\] and the output "
                                           r"has a shape of \[2\]"):
        (x * 2.0).backward(np.ones(3))


def test_backward_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(np.ones(2)) * 2.0).sum().backward()


def test_explicit_gradient_scales_the_result():
    x = leaf([1.0, 2.0])
    (x * x).backward(np.array([10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [20.0, 400.0])


def test_a_tensor_used_twice_accumulates():
    x = leaf([3.0])
    (x * x).backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [6.0])
    x.grad = None
    (x + x).backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [2.0])


def test_diamond_graph():
    x = leaf([2.0])
    y = x * 3.0             # y feeds two branches
    z = y.exp() * y + y * y  # d/dy = e^y (1 + y) + 2y
    z.backward(np.ones(1))
    y_value = 6.0
    expected = 3.0 * (np.exp(y_value) * (1 + y_value) + 2 * y_value)
    np.testing.assert_allclose(x.grad, [expected], rtol=1e-14)


def test_nested_diamonds_each_node_runs_once(monkeypatch):
    calls = []
    backward = elementwise.Mul.backward

    def counting(ctx, grad):
        calls.append(1)
        return backward(ctx, grad)

    monkeypatch.setattr(elementwise.Mul, "backward", staticmethod(counting))
    x = leaf(1.5)
    y = x
    for _ in range(20):  # each level uses the previous one twice: 2^20 paths
        y = (y * 1.0) + (y * 1.0)
    y.backward()
    assert x.grad == 2.0 ** 20
    assert len(calls) == 40  # no path enumeration


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 2.0, 3.0 + 4.0])


def test_leaf_grad_is_an_owned_array():
    # Sum's backward hands on a read-only broadcast view, Add hands on the upstream array
    # itself: .grad must be a copy, or the next accumulation fails or writes into them.
    x = leaf([1.0, 2.0])
    x.sum().backward()
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    upstream = np.array([1.0, 1.0])
    x.grad = None
    (x + 0.0).backward(upstream)
    (x + 0.0).backward(np.array([5.0, 5.0]))
    np.testing.assert_array_equal(upstream, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_ten_thousand_op_chain_without_recursion_error():
    assert sys.getrecursionlimit() <= 10_000  # the default: the engine must not recurse
    x = leaf(1.0)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 10_000)


def test_intermediate_tensors_keep_no_grad():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    z = y.sum()
    z.backward()
    assert y.grad is None and z.grad is None
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_backward_from_a_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad == 1.0


# ----------------------------------------------------------------------------- freeing the graph


def _loss_and_saved_array():
    x = leaf(np.linspace(-1, 1, 5))
    loss = F.sigmoid(x * 2.0).sum()
    sigmoid_node = loss.grad_fn.next_functions[0][0]
    (saved,) = sigmoid_node.ctx.saved_tensors
    return x, loss, weakref.ref(saved)


def test_graph_is_freed_after_backward():
    x, loss, saved = _loss_and_saved_array()
    gc.collect()
    assert saved() is not None  # alive while the graph may still be used
    loss.backward()
    gc.collect()
    assert saved() is None  # the saved array died with the graph


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x, loss, _ = _loss_and_saved_array()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x, loss, saved = _loss_and_saved_array()
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    gc.collect()
    assert saved() is not None
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_training_loop_does_not_grow_the_number_of_tensors():
    w = leaf(np.ones((3, 3)))
    x = Tensor(np.ones((4, 3)))

    def step():
        loss = F.log_softmax(x @ w, axis=1).sum()
        loss.backward()
        w.grad = None

    step()
    gc.collect()
    before = sum(isinstance(o, Tensor) for o in gc.get_objects())
    for _ in range(20):
        step()
    gc.collect()
    assert sum(isinstance(o, Tensor) for o in gc.get_objects()) == before


# ----------------------------------------------------------------------------- grad modes


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with minicnn.no_grad():
        assert not minicnn.is_grad_enabled()
        y = (x * 2.0).exp().sum()
    assert minicnn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with minicnn.no_grad():
        with minicnn.enable_grad():
            y = x * 2.0
        z = x * 2.0
        assert not minicnn.is_grad_enabled()
    assert y.requires_grad and not z.requires_grad
    y.backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [2.0])


def test_no_grad_as_a_decorator_and_after_an_exception():
    @minicnn.no_grad()
    def evaluate(t):
        """Evaluate without recording."""
        return t * 2.0

    x = leaf([1.0])
    assert not evaluate(x).requires_grad
    assert evaluate.__name__ == "evaluate" and evaluate.__doc__ == "Evaluate without recording."
    assert minicnn.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with minicnn.no_grad():
            1 / 0
    assert minicnn.is_grad_enabled()


def test_one_grad_mode_object_entered_twice_restores_each_state():
    no_grad, enable_grad = minicnn.no_grad(), minicnn.enable_grad()
    with no_grad:
        with no_grad:
            assert not minicnn.is_grad_enabled()
        assert not minicnn.is_grad_enabled()
    assert minicnn.is_grad_enabled()  # the outer exit restores the state before it
    with no_grad:
        with enable_grad:
            with no_grad:  # the same object again, inside itself
                assert not minicnn.is_grad_enabled()
            assert minicnn.is_grad_enabled()  # back to enable_grad's state, not no_grad's
        assert not minicnn.is_grad_enabled()
    assert minicnn.is_grad_enabled()


def test_grad_mode_is_per_thread():
    """A no_grad block in one thread leaves recording on in another (issue 12)."""
    import threading
    inside, release, seen = threading.Event(), threading.Event(), {}

    def evaluator():
        with minicnn.no_grad():
            inside.set()
            release.wait(10)
            seen["evaluator"] = minicnn.is_grad_enabled()

    thread = threading.Thread(target=evaluator)
    thread.start()
    assert inside.wait(10)
    assert minicnn.is_grad_enabled()  # the main thread still records
    assert (leaf([1.0]) * 2).requires_grad
    release.set()
    thread.join()
    assert seen["evaluator"] is False
    assert minicnn.is_grad_enabled()


def test_crossed_exits_of_one_grad_mode_object_in_two_threads_restore_each_thread():
    """Two threads share one no_grad object and exit in crossed order: each thread restores
    its own state, and recording is not left off for good (issue 12)."""
    import threading
    shared = minicnn.no_grad()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    def thread_a():
        shared.__enter__()
        a_in.set()
        b_in.wait(10)
        shared.__exit__(None, None, None)  # exits first, though it entered first
        a_out.set()
        after["a"] = minicnn.is_grad_enabled()

    def thread_b():
        a_in.wait(10)
        with minicnn.enable_grad():
            shared.__enter__()
            b_in.set()
            a_out.wait(10)
            shared.__exit__(None, None, None)
            after["b inside enable_grad"] = minicnn.is_grad_enabled()
        after["b"] = minicnn.is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert after == {"a": True, "b inside enable_grad": True, "b": True}
    assert minicnn.is_grad_enabled()


def test_a_new_thread_starts_with_recording_on_even_inside_no_grad():
    import threading
    seen = {}
    with minicnn.no_grad():
        thread = threading.Thread(target=lambda: seen.update(on=minicnn.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen["on"] is True  # PyTorch: grad mode is thread-local, default on


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.data is x.data
    (d * x).sum().backward()  # d is a constant: d/dx (c * x) = c
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_requires_grad_false_freezes_a_parameter():
    w, b = leaf([1.0, 2.0]), leaf([0.5])
    assert b.requires_grad_(False) is b
    (w * 3.0 + b).sum().backward()
    assert b.grad is None
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_an_op_on_frozen_tensors_only_is_not_recorded():
    a, b = Tensor(np.ones(2)), Tensor(np.ones(2))
    assert not (a * b).requires_grad and (a * b).is_leaf


# ----------------------------------------------------------------------------- custom ops


class Cube(ArrayFunction):
    """The example of autograd.py's docstring."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


def test_custom_op_from_the_docstring(rng):
    t = minicnn.tensor(rng.standard_normal(3), dtype=np.float64, requires_grad=True)
    y = Cube.apply(t)
    np.testing.assert_allclose(y.data, t.data ** 3)
    y.sum().backward()
    np.testing.assert_allclose(t.grad, 3 * t.data ** 2)
    assert minicnn.gradcheck(Cube.apply, [t])


def test_custom_op_settings_and_needs_input_grad():
    seen = {}

    class ScaledAdd(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.scale = scale
            seen["needs"] = ctx.needs_input_grad
            return a + scale * b

        @staticmethod
        def backward(ctx, grad):
            da = grad if ctx.needs_input_grad[0] else None
            db = ctx.scale * grad if ctx.needs_input_grad[1] else None
            return da, db

    a, b = leaf([1.0]), Tensor(np.array([2.0]))
    out = ScaledAdd.apply(a, b, scale=3.0)
    assert seen["needs"] == (True, False)
    np.testing.assert_array_equal(out.data, [7.0])
    out.backward(np.ones(1))
    np.testing.assert_array_equal(a.grad, [1.0])
    assert minicnn.gradcheck(lambda x, y: ScaledAdd.apply(x, y, scale=3.0),
                             [leaf([1.0, 2.0]), leaf([3.0, 4.0])])


def test_needs_input_grad_is_all_false_when_nothing_is_recorded():
    # ops use it to skip work kept for a backward pass (conv keeps its im2col columns)
    seen = []

    class Probe(ArrayFunction):
        @staticmethod
        def forward(ctx, a):
            seen.append(ctx.needs_input_grad)
            return a * 1

    Probe.apply(leaf([1.0]))
    with minicnn.no_grad():
        Probe.apply(leaf([1.0]))
    Probe.apply(Tensor(np.array([1.0])))
    assert seen == [(True,), (False,), (False,)]


def test_custom_backward_may_return_a_tensor_or_a_python_number():
    class SumAsTensor(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = x.shape
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return Tensor(np.full(ctx.shape, float(grad)))

    class DoubleAsFloat(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * grad.item()

    x = leaf(np.ones(3))
    SumAsTensor.apply(x).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])
    s = leaf(1.0)
    DoubleAsFloat.apply(s).backward()
    assert s.grad == 2.0 and isinstance(s.grad, Tensor) and isinstance(s.grad.data, np.ndarray)


def test_custom_op_mistakes_are_reported():
    class TooFew(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(ArrayFunction):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients for 2 inputs"):
        TooFew.apply(leaf([1.0]), leaf([2.0])).backward(np.ones(1))
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape "
                                           r"\(\) for an input of shape \(2,\)"):
        WrongShape.apply(leaf([1.0, 2.0])).backward(np.ones(2))
