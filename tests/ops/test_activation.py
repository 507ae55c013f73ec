"""Activations: hand-computed cases, forward against NumPy formulas, gradcheck on drawn
shapes and axes, stability at logits of 1e4, dtype preservation."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.strategies import arrays, distinct_arrays, shapes


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def numpy_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ----------------------------------------------------------------------------- golden cases


def test_relu_by_hand():
    x = leaf([-2.0, 0.0, 3.0])
    y = F.relu(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 3.0])
    y.backward(np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 7.0])  # 0 at the kink, as PyTorch


def test_relu6_by_hand_with_pytorchs_zero_gradient_at_both_kinks():
    x = leaf([-2.0, 0.0, 0.5, 6.0, 7.0])
    y = F.relu6(x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.5, 6.0, 6.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 3.0, 0.0, 0.0])


def test_leaky_relu_default_slope_by_hand():
    x = leaf([-2.0, 3.0])
    y = F.leaky_relu(x)
    np.testing.assert_allclose(y.data, [-0.02, 3.0])
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.grad, [0.01, 1.0])


def test_sigmoid_and_tanh_by_hand():
    x = leaf([0.0, math.log(3.0)])
    y = F.sigmoid(x)
    np.testing.assert_allclose(y.data, [0.5, 0.75])
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [0.25, 0.75 * 0.25])
    x = leaf([0.0, 1.0])
    y = x.tanh()
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [1.0, 1.0 - math.tanh(1.0) ** 2])


def test_softmax_and_log_softmax_by_hand():
    x = leaf([[0.0, math.log(3.0)]])
    np.testing.assert_allclose(F.softmax(x).data, [[0.25, 0.75]])
    np.testing.assert_allclose(F.log_softmax(x).data, [[math.log(0.25), math.log(0.75)]])
    # d/dx of log_softmax(x)[0, 1]: one_hot(1) - softmax(x)
    F.log_softmax(x).backward(np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(x.grad, [[-0.25, 0.25]])


# ----------------------------------------------------------------------------- drawn cases

POINTWISE = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, np.tanh),
}


@pytest.mark.parametrize("name", sorted(POINTWISE))
@given(shape=shapes(min_dims=0), data=st.data())
def test_pointwise_forward_and_gradcheck(name, shape, data):
    op, reference = POINTWISE[name]
    x = leaf(data.draw(distinct_arrays(shape, -3.0, 3.0)))  # distinct: none at 0
    np.testing.assert_allclose(op(x).data, reference(x.data), rtol=1e-14, atol=1e-16)
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(min_dims=0), data=st.data())
def test_relu6_forward_and_gradcheck_on_all_three_pieces(shape, data):
    v = data.draw(distinct_arrays(shape, -3.0, 3.0))  # none within 1e-3 of 0
    # (0, 1.5] -> (0, 3], (1.5, 3] -> (9, 12]: below, inside and above, none near 0 or 6
    x = leaf(2 * v + 6 * (v > 1.5))
    np.testing.assert_array_equal(F.relu6(x).data, np.minimum(np.maximum(x.data, 0), 6))
    assert minicnn.gradcheck(F.relu6, [x])


@given(shape=shapes(), slope=st.floats(0.0, 0.5), data=st.data())
def test_leaky_relu_any_slope(shape, slope, data):
    x = leaf(data.draw(distinct_arrays(shape)))
    np.testing.assert_allclose(F.leaky_relu(x, slope).data, np.where(x.data > 0, x.data,
                                                                     slope * x.data))
    assert minicnn.gradcheck(lambda t: F.leaky_relu(t, slope), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_softmax_family_forward_and_gradcheck_along_any_axis(name, shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(data.draw(arrays(shape, -3.0, 3.0)))
    op = getattr(F, name)
    expected = numpy_softmax(x.data, axis)
    out = op(x, axis=axis)
    if name == "log_softmax":
        expected = np.log(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)
    assert minicnn.gradcheck(lambda t: op(t, axis=axis), [x])


def test_tensor_methods_match_functional(rng):
    x = leaf(rng.standard_normal((2, 3)))
    for method, function in [(x.relu, F.relu), (x.sigmoid, F.sigmoid), (x.tanh, F.tanh),
                             (lambda: x.softmax(0), lambda t: F.softmax(t, 0)),
                             (lambda: x.log_softmax(), F.log_softmax)]:
        np.testing.assert_array_equal(method().data, function(x).data)


# ----------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_exact_at_logits_of_1e4(dtype):
    # Warnings are errors in this suite (setup.cfg), so an overflow in exp would fail here.
    x = leaf([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    tail = math.log1p(math.exp(-1.0))
    log_p = F.log_softmax(x, axis=1)
    assert log_p.dtype == dtype
    np.testing.assert_allclose(log_p.data[0], [-tail, -1.0 - tail, -2e4 - tail], rtol=1e-6)
    np.testing.assert_allclose(log_p.data[1], [-math.log(3.0)] * 3, rtol=1e-6)
    p = F.softmax(x, axis=1)
    assert p.dtype == dtype
    np.testing.assert_allclose(p.data[0], [1 / (1 + math.exp(-1)), 1 / (1 + math.e), 0.0],
                               rtol=1e-6)
    np.testing.assert_allclose(p.data.sum(axis=1), [1.0, 1.0], rtol=1e-6)
    log_p.backward(np.ones(x.shape, dtype=dtype))
    assert np.isfinite(x.grad.data).all()
    x.grad = None
    p.backward(np.arange(6, dtype=dtype).reshape(2, 3))
    assert np.isfinite(x.grad.data).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_at_plus_minus_1e4(dtype):
    x = leaf([-1e4, -50.0, 50.0, 1e4], dtype=dtype)
    y = F.sigmoid(x)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, [0.0, math.exp(-50.0), 1.0, 1.0], rtol=1e-6, atol=0)
    y.backward(np.ones(4, dtype=dtype))
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad, [0.0, math.exp(-50.0), 0.0, 0.0], rtol=1e-5, atol=1e-30)


# ----------------------------------------------------------------------------- dtype


@pytest.mark.parametrize("op", [F.relu, F.relu6, F.leaky_relu, F.sigmoid, F.tanh, F.softmax,
                                F.log_softmax, lambda x: F.leaky_relu(x, np.float64(0.3))])
def test_float32_in_float32_out_and_float32_gradients(op, rng):
    x = leaf(rng.standard_normal((3, 4)), dtype=np.float32)
    out = op(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32


ACTIVATIONS = [F.relu, F.relu6, F.leaky_relu, F.sigmoid, F.tanh, F.softmax, F.log_softmax]


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16])
@pytest.mark.parametrize("op", ACTIVATIONS, ids=lambda op: op.__name__)
def test_dtypes_activations_do_not_compute_in_are_refused(op, dtype):
    x = minicnn.tensor(np.array([[1, 0], [0, 1]], dtype=dtype))
    with pytest.raises(TypeError, match=f"{op.__name__}: x has dtype {np.dtype(dtype)}; "
                                        "minicnn computes in float32 or float64"):
        op(x)


@pytest.mark.parametrize("slope", ["0.1", None, True, [0.1]], ids=repr)
def test_leaky_relu_slope_must_be_a_real_number(slope):
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number"):
        F.leaky_relu(leaf([1.0, -1.0]), slope)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_softmax_axis_out_of_range_is_named(op):
    with pytest.raises(ValueError, match="dim=2 is out of range .* 2 dimensions"):
        op(leaf(np.ones((2, 3))), axis=2)


# ----------------------------------------------------------------------------- oracle


def test_against_pytorch(rng):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal((3, 5)) * 4
    upstream = rng.standard_normal((3, 5))
    values[0, :2] = [0.0, 6.0]  # relu6's kinks: PyTorch's gradient there is 0
    for ours, theirs in [(F.relu, torch.relu), (F.relu6, torch.nn.functional.relu6),
                         (F.sigmoid, torch.sigmoid),
                         (F.tanh, torch.tanh),
                         (lambda t: F.leaky_relu(t, 0.1),
                          lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
                         (lambda t: F.softmax(t, 0), lambda t: torch.softmax(t, 0)),
                         (lambda t: F.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1))]:
        x = leaf(values)
        ours(x).backward(upstream)
        tx = torch.tensor(values, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours(leaf(values)).data, ty.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-14)
