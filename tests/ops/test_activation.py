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


# ============================================================================ issue 14's
# gelu, silu, mish, logsigmoid, elu, selu, celu, softplus, hardswish, hardsigmoid, hardtanh,
# prelu and softmin


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def numpy_sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def numpy_softplus(x, beta=1.0):
    return np.logaddexp(0, beta * x) / beta


def numpy_erf(x):
    return np.vectorize(math.erf)(x)


def test_new_activations_by_hand():
    x = leaf([-4.0, -1.0, 0.0, 1.0, 2.0])
    phi_1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))  # Phi(1) = 0.8413...
    np.testing.assert_allclose(F.gelu(x).data[1:4], [-(1 - phi_1), 0.0, phi_1], rtol=1e-15)
    np.testing.assert_allclose(F.elu(x, alpha=2.0).data, [2 * math.expm1(-4), 2 * math.expm1(-1),
                                                          0, 1, 2], rtol=1e-15)
    np.testing.assert_allclose(F.selu(x).data[[1, 3]],
                               [SELU_SCALE * SELU_ALPHA * math.expm1(-1), SELU_SCALE],
                               rtol=1e-15)
    np.testing.assert_allclose(F.celu(x, alpha=2.0).data[1], 2 * math.expm1(-0.5), rtol=1e-15)
    np.testing.assert_allclose(F.hardswish(x).data, [0, -1 / 3, 0, 2 / 3, 5 / 3], rtol=1e-15)
    np.testing.assert_allclose(F.hardsigmoid(x).data, [0, 1 / 3, 0.5, 2 / 3, 5 / 6],
                               rtol=1e-15)
    np.testing.assert_array_equal(F.hardtanh(x, -2.0, 1.5).data, [-2, -1, 0, 1, 1.5])
    np.testing.assert_allclose(F.logsigmoid(x).data[2], -math.log(2), rtol=1e-15)
    np.testing.assert_allclose(F.softplus(x).data[2], math.log(2), rtol=1e-15)
    # softplus is x itself where beta * x > threshold (2 * 2 = 4 > 3), the log below
    np.testing.assert_array_equal(F.softplus(x, beta=2, threshold=3).data[4], 2.0)
    np.testing.assert_allclose(F.softplus(x, beta=2, threshold=3).data[3],
                               math.log1p(math.exp(2)) / 2, rtol=1e-15)
    np.testing.assert_allclose(F.softmin(leaf([0.0, math.log(3.0)])).data, [0.75, 0.25])


def test_prelu_by_hand_one_slope_per_channel():
    x = leaf([[[-1.0, 2.0]], [[-3.0, 0.0]]]).permute(0, 2, 1)  # (N=2, C=2, L=1)
    w = leaf([0.5, -0.25])
    y = F.prelu(x, w)
    np.testing.assert_allclose(y.data[:, :, 0], [[-0.5, 2.0], [-1.5, 0.0]])
    y.backward(np.array([[[1.0], [2.0]], [[3.0], [4.0]]]))
    # dw_c = sum of g * x where x <= 0: channel 0 has -1 * 1 + -3 * 3; channel 1 has 0 * 4
    np.testing.assert_allclose(w.grad, [-10.0, 0.0])


ELEMENTWISE = {
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + numpy_erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                    * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * numpy_sigmoid(x)),
    "mish": (F.mish, lambda x: x * np.tanh(numpy_softplus(x))),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(numpy_sigmoid(x))),
    "selu": (F.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "softplus": (F.softplus, numpy_softplus),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(shape=shapes(min_dims=0), data=st.data())
def test_smooth_activations_forward_and_gradcheck(name, shape, data):
    op, reference = ELEMENTWISE[name]
    x = leaf(data.draw(distinct_arrays(shape, -5.0, 5.0)))
    np.testing.assert_allclose(op(x).data, reference(x.data), rtol=1e-12, atol=1e-15)
    assert minicnn.gradcheck(op, [x])


@pytest.mark.parametrize("name", ["elu", "celu"])
@given(shape=shapes(min_dims=0), alpha=st.floats(0.1, 3.0), data=st.data())
def test_elu_and_celu_any_alpha(name, shape, alpha, data):
    x = leaf(data.draw(distinct_arrays(shape, -4.0, 4.0)))  # none within 1e-3 of 0
    inner = x.data if name == "elu" else x.data / alpha
    expected = np.where(x.data > 0, x.data, alpha * np.expm1(inner))
    op = lambda t: getattr(F, name)(t, alpha=alpha)  # noqa: E731
    np.testing.assert_allclose(op(x).data, expected, rtol=1e-13, atol=1e-16)
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(min_dims=0), beta=st.floats(0.25, 4.0), threshold=st.floats(0.5, 20.0),
       data=st.data())
def test_softplus_any_beta_and_threshold(shape, beta, threshold, data):
    x = data.draw(distinct_arrays(shape, -6.0, 6.0))
    # the pieces meet with a jump of log1p(exp(-threshold)) / beta: keep the finite
    # differences off the seam
    x = np.where(np.abs(beta * x - threshold) < 0.05, x + 0.1 / beta, x)
    x = leaf(x)
    op = lambda t: F.softplus(t, beta=beta, threshold=threshold)  # noqa: E731
    expected = np.where(beta * x.data > threshold, x.data, numpy_softplus(x.data, beta))
    np.testing.assert_allclose(op(x).data, expected, rtol=1e-13, atol=1e-16)
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(min_dims=0), data=st.data())
def test_hardswish_and_hardsigmoid_forward_and_gradcheck_on_all_three_pieces(shape, data):
    v = data.draw(distinct_arrays(shape, -3.0, 3.0))  # none within 1e-3 of 0
    # (-3, -1] -> below -3, (-1, 1) -> inside, [1, 3) -> above 3; none within 0.05 of a kink
    x = leaf(np.where(v <= -1, v - 2.1, np.where(v >= 1, v + 2.1, 2.9 * v)))
    clipped = np.clip(x.data + 3, 0, 6) / 6
    np.testing.assert_allclose(F.hardsigmoid(x).data, clipped, rtol=1e-15, atol=0)
    np.testing.assert_allclose(F.hardswish(x).data, x.data * clipped, rtol=1e-15, atol=0)
    assert minicnn.gradcheck(F.hardsigmoid, [x])
    assert minicnn.gradcheck(F.hardswish, [x])


@given(shape=shapes(min_dims=0), low=st.floats(-2.0, 0.5), width=st.floats(0.5, 3.0),
       data=st.data())
def test_hardtanh_forward_and_gradcheck_any_bounds(shape, low, width, data):
    high = low + width
    x = data.draw(distinct_arrays(shape, low - 2, high + 2))
    for bound in (low, high):  # off the kinks by at least 0.01
        x = np.where(np.abs(x - bound) < 0.01, bound + 0.02, x)
    x = leaf(x)
    op = lambda t: F.hardtanh(t, low, high)  # noqa: E731
    np.testing.assert_array_equal(op(x).data, np.clip(x.data, low, high))
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(2, 4), one_slope=st.booleans(), data=st.data())
def test_prelu_forward_and_gradcheck_for_input_and_weight(shape, one_slope, data):
    x = leaf(data.draw(distinct_arrays(shape, -2.0, 2.0)))  # none at 0
    channels = 1 if one_slope else shape[1]
    w = leaf(data.draw(arrays((channels,), -0.5, 0.5)))
    slope = w.data.reshape((channels,) + (1,) * (len(shape) - 2))
    np.testing.assert_allclose(F.prelu(x, w).data, np.where(x.data > 0, x.data, slope * x.data),
                               rtol=1e-15)
    assert minicnn.gradcheck(F.prelu, [x, w])


@given(shape=shapes(0, 1), data=st.data())
def test_prelu_on_0d_and_1d_inputs_takes_one_slope(shape, data):
    x = leaf(data.draw(distinct_arrays(shape, -2.0, 2.0)))
    w = leaf(np.array([0.3]))
    assert F.prelu(x, w).shape == x.shape
    assert minicnn.gradcheck(F.prelu, [x, w])


@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_softmin_forward_and_gradcheck_along_any_axis(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = leaf(data.draw(arrays(shape, -3.0, 3.0)))
    np.testing.assert_allclose(F.softmin(x, axis).data, numpy_softmax(-x.data, axis),
                               rtol=1e-12, atol=1e-14)
    assert minicnn.gradcheck(lambda t: F.softmin(t, dim=axis), [x])


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax, F.softmin])
def test_softmax_family_of_a_0d_tensor_as_pytorch(op):
    x = leaf(2.5)
    for dim in (0, -1):
        y = op(x, dim)
        assert y.shape == () and y.item() == (0.0 if op is F.log_softmax else 1.0)
    with pytest.raises(ValueError, match="dim=1 is out of range"):
        op(x, 1)


# ----------------------------------------------------------------------------- oracle


def torch_activations(torch):
    """(name, ours, theirs) for every issue-14 activation, settings included."""
    tf = torch.nn.functional
    return [
        ("gelu", F.gelu, tf.gelu),
        ("gelu tanh", lambda t: F.gelu(t, approximate="tanh"),
         lambda t: tf.gelu(t, approximate="tanh")),
        ("silu", F.silu, tf.silu), ("mish", F.mish, tf.mish),
        ("logsigmoid", F.logsigmoid, tf.logsigmoid),
        ("elu", F.elu, tf.elu),
        ("elu alpha", lambda t: F.elu(t, 0.5), lambda t: tf.elu(t, 0.5)),
        ("selu", F.selu, tf.selu),
        ("celu", lambda t: F.celu(t, 2.0), lambda t: tf.celu(t, 2.0)),
        ("softplus", F.softplus, tf.softplus),
        ("softplus beta threshold", lambda t: F.softplus(t, beta=2, threshold=6),
         lambda t: tf.softplus(t, beta=2, threshold=6)),
        ("softplus negative beta", lambda t: F.softplus(t, beta=-1.5, threshold=1),
         lambda t: tf.softplus(t, beta=-1.5, threshold=1)),
        ("hardswish", F.hardswish, tf.hardswish),
        ("hardsigmoid", F.hardsigmoid, tf.hardsigmoid),
        ("hardtanh", F.hardtanh, tf.hardtanh),
        ("hardtanh bounds", lambda t: F.hardtanh(t, -3.0, 6.0),
         lambda t: tf.hardtanh(t, -3.0, 6.0)),
        ("relu6", F.relu6, tf.relu6),
        ("softmin", lambda t: F.softmin(t, 1), lambda t: tf.softmin(t, 1)),
    ]


def test_new_activations_against_pytorch_including_their_kinks(rng):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal((4, 8)) * 4
    # the kinks of relu6, hardtanh, hardswish, hardsigmoid, elu/celu/selu, and the softplus
    # threshold (beta * x = 20 and 2 * 3 = 6): PyTorch's one-sided choices there
    values[0] = [-3.0, 0.0, 3.0, 6.0, -1.0, 1.0, 20.0, 3.0]
    upstream = rng.standard_normal(values.shape)
    for name, ours, theirs in torch_activations(torch):
        x = leaf(values)
        y = ours(x)
        y.backward(upstream)
        tx = torch.tensor(values, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=name)
        # PyTorch's float64 hardsigmoid gradient multiplies by a float32 1/6 (3e-8 off)
        rtol = 1e-7 if name == "hardsigmoid" else 1e-10
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=rtol, atol=1e-14,
                                   err_msg=name)


def test_gradients_at_the_kinks_are_pytorchs_exactly():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    kinks = [-3.0, -1.0, 0.0, 1.0, 3.0, 6.0]
    for ours, theirs in [(F.relu6, tf.relu6), (F.hardtanh, tf.hardtanh),
                         (F.hardswish, tf.hardswish), (F.hardsigmoid, tf.hardsigmoid),
                         (F.elu, tf.elu), (F.selu, tf.selu)]:
        x = leaf(kinks)
        ours(x).backward(np.ones(len(kinks)))
        tx = torch.tensor(kinks, dtype=torch.float64, requires_grad=True)
        theirs(tx).sum().backward()
        # hardsigmoid's 1/6 is rounded through float32 inside PyTorch: 3e-8 relative
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-7, atol=0,
                                   err_msg=ours.__name__)


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_against_pytorch(rng, channels):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal((2, 3, 4, 2))
    values[0, :, 0, 0] = 0.0  # PyTorch's gradient at 0: the slope (for x), and x * g = 0
    slopes = rng.uniform(-0.5, 0.5, channels)
    upstream = rng.standard_normal(values.shape)
    x, w = leaf(values), leaf(slopes)
    y = F.prelu(x, w)
    y.backward(upstream)
    tx = torch.tensor(values, requires_grad=True)
    tw = torch.tensor(slopes, requires_grad=True)
    ty = torch.nn.functional.prelu(tx, tw)
    ty.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_activations_float32_and_float64_agree_with_pytorch(dtype, rng):
    torch = pytest.importorskip("torch")
    values = (rng.standard_normal((3, 7)) * 5).astype(dtype)
    upstream = rng.standard_normal(values.shape).astype(dtype)
    # float32: terms of size ~1 cancel in some gradients (gelu's tails), leaving a few
    # float32 roundings of 1 as the absolute error of both libraries
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-14)
    for name, ours, theirs in torch_activations(torch):
        x = leaf(values, dtype=dtype)
        y = ours(x)
        assert y.dtype == dtype, name
        y.backward(upstream)
        assert x.grad.dtype == dtype, name
        tx = torch.tensor(values, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), err_msg=name, **tol)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), err_msg=name, **tol)


def test_gelu_keeps_its_left_tail_where_pytorchs_formula_rounds_to_zero():
    # Phi(-10) = 7.6e-24: (1 + erf(-10 / sqrt 2)) / 2 is 0 in float64, erfc(10 / sqrt 2) / 2 not
    x = leaf([-10.0])
    tail = 0.5 * math.erfc(10 / math.sqrt(2))
    # (rounding x / sqrt 2 moves erfc by x^2 = 100 times its relative error)
    np.testing.assert_allclose(F.gelu(x).data, [-10 * tail], rtol=1e-13)
    # the tanh form as x * sigmoid(2u): exact where 1 + tanh(u) would round to 0
    u = math.sqrt(2 / math.pi) * (-10 + 0.044715 * -1000)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").data,
                               [-10 / (1 + math.exp(-2 * u))], rtol=1e-14)


# ----------------------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_smooth_activations_at_inputs_of_1e4_as_pytorch_and_warning_free(dtype):
    # RuntimeWarning is an error in this suite: an exp overflow would fail here.
    torch = pytest.importorskip("torch")
    values = np.array([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4], dtype=dtype)
    for name, ours, theirs in torch_activations(torch):
        if name in ("softmin", "hardtanh bounds"):
            continue
        x = leaf(values, dtype=dtype)
        y = ours(x)
        y.backward(np.ones(values.shape, dtype=dtype))
        tx = torch.tensor(values, requires_grad=True)
        ty = theirs(tx)
        ty.sum().backward()
        assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all(), name
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6, atol=1e-30,
                                   err_msg=name)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-30,
                                   err_msg=name)


def test_logsigmoid_and_softplus_keep_their_tails_exact():
    # log(sigmoid(x)) computed naively is log(1) = 0 for x = 40 and -inf for x = -800
    x = leaf([40.0, -800.0])
    np.testing.assert_allclose(F.logsigmoid(x).data, [-math.exp(-40.0), -800.0], rtol=1e-15)
    np.testing.assert_allclose(F.softplus(leaf([-800.0])).data, [0.0], atol=0)
    np.testing.assert_allclose(F.softplus(leaf([-40.0])).data, [math.exp(-40.0)], rtol=1e-15)


# ----------------------------------------------------------------------------- dtype, errors


NEW_ACTIVATIONS = [F.gelu, F.silu, F.mish, F.logsigmoid, F.elu, F.selu, F.celu, F.softplus,
                   F.hardswish, F.hardsigmoid, F.hardtanh, F.softmin]


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16])
@pytest.mark.parametrize("op", NEW_ACTIVATIONS + [lambda x: F.prelu(x, np.ones(1, x.dtype))],
                         ids=lambda op: op.__name__)
def test_dtypes_the_new_activations_do_not_compute_in_are_refused(op, dtype):
    x = minicnn.tensor(np.array([[1, 0], [0, 1]], dtype=dtype))
    name = "prelu" if op.__name__ == "<lambda>" else op.__name__
    with pytest.raises(TypeError, match=f"{name}: x has dtype {np.dtype(dtype)}; "
                                        "minicnn computes in float32 or float64"):
        op(x)


@pytest.mark.parametrize("op", [lambda x: F.elu(x, np.float64(0.5)),
                                lambda x: F.celu(x, np.float64(2.0)),
                                lambda x: F.softplus(x, np.float64(2.0), np.float64(5.0)),
                                lambda x: F.hardtanh(x, np.float64(-0.5), np.float64(0.5))])
def test_numpy_float64_settings_do_not_upcast_float32(op, rng):
    x = leaf(rng.standard_normal((3, 4)), dtype=np.float32)
    y = op(x)
    y.backward(np.ones(y.shape, np.float32))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_prelu_weight_must_match_the_input_in_dtype_and_shape():
    x = leaf(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match="prelu: weight has dtype float32 but prelu: x has "
                                        "dtype float64"):
        F.prelu(x, leaf([0.25], dtype=np.float32))
    with pytest.raises(ValueError, match="prelu: weight has 2 slopes but the input .* has 3 "
                                         "channels"):
        F.prelu(x, leaf([0.25, 0.5]))
    with pytest.raises(ValueError, match="prelu: weight has 3 slopes .* has 1 channels"):
        F.prelu(leaf(np.ones(3)), leaf(np.ones(3)))  # a 1-D input has one channel (PyTorch)
    with pytest.raises(ValueError, match=r"prelu: weight must be a scalar or 1-D tensor, got "
                                         r"shape \(1, 3\)"):
        F.prelu(x, leaf(np.ones((1, 3))))
    with pytest.raises(TypeError, match="prelu: weight must be a Tensor, got float"):
        F.prelu(x, 0.25)


def test_settings_are_checked():
    x = leaf([1.0, -1.0])
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got "
                                         "'erf'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        F.celu(x, alpha=0.0)
    with pytest.raises(ValueError, match="softplus: beta cannot be 0"):
        F.softplus(x, beta=0)
    with pytest.raises(ValueError, match="hardtanh: min_val cannot be greater than max_val"):
        F.hardtanh(x, 1.0, -1.0)
    np.testing.assert_array_equal(F.hardtanh(x, 0.5, 0.5).data, [0.5, 0.5])  # equal: allowed
    for op, name in [(lambda s: F.elu(x, s), "alpha"), (lambda s: F.softplus(x, s), "beta"),
                     (lambda s: F.softplus(x, 1.0, s), "threshold"),
                     (lambda s: F.hardtanh(x, s), "min_val"),
                     (lambda s: F.hardtanh(x, -1.0, s), "max_val")]:
        with pytest.raises(TypeError, match=f"{name} must be a real number, got '1'"):
            op("1")


@pytest.mark.parametrize("op", [F.relu, F.relu6, F.leaky_relu, F.silu, F.elu, F.selu, F.celu,
                                F.mish, F.hardswish, F.hardsigmoid, F.hardtanh])
def test_inplace_is_accepted_and_the_input_is_left_unchanged(op):
    values = np.array([-4.0, -0.5, 0.5, 7.0])
    x = leaf(values)
    y = op(x, inplace=True)
    np.testing.assert_array_equal(x.data, values)  # minicnn computes out of place
    np.testing.assert_array_equal(y.data, op(leaf(values)).data)
