"""Element-wise ops: hand-computed cases, forward against NumPy, gradcheck on drawn shapes,
broadcasting reduced back in backward, dtype preservation and error messages."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn
from minicnn import functional as F
from tests.strategies import (arrays, broadcastable_shapes, clip_bounds, distinct_arrays,
                              distinct_pair, shapes)


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- golden cases


def test_add_sub_mul_div_gradients_by_hand():
    a, b = leaf([3.0]), leaf([2.0])
    ((a + b) * (a - b) / b).backward(np.array([1.0]))  # (a^2 - b^2) / b = a^2/b - b
    assert a.grad == pytest.approx([2 * 3.0 / 2.0])       # 2a / b
    assert b.grad == pytest.approx([-9.0 / 4.0 - 1.0])    # -a^2 / b^2 - 1


def test_neg_by_hand():
    x = leaf([1.0, -2.0])
    y = -x
    np.testing.assert_array_equal(y.data, [-1.0, 2.0])
    y.backward(np.array([3.0, 5.0]))
    np.testing.assert_array_equal(x.grad, [-3.0, -5.0])


def test_pow_three_forms_by_hand():
    x = leaf(2.0)
    (x ** 3).backward()
    assert x.grad == pytest.approx(12.0)                 # 3 x^2

    x = leaf(3.0)
    (2.0 ** x).backward()
    assert x.grad == pytest.approx(8.0 * math.log(2.0))  # 2^x ln 2

    a, b = leaf(2.0), leaf(3.0)
    (a ** b).backward()
    assert a.grad == pytest.approx(12.0)                 # b a^(b-1)
    assert b.grad == pytest.approx(8.0 * math.log(2.0))  # a^b ln a


def test_pow_negative_and_fractional_exponents():
    x = leaf([4.0, 0.25])
    y = x ** -0.5
    np.testing.assert_allclose(y.data, [0.5, 2.0])
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, -0.5 * np.array([4.0, 0.25]) ** -1.5)


def test_pow_at_a_zero_base_takes_the_limits_like_pytorch():
    # Warnings are errors in this suite: no 0 * inf may be computed visibly either.
    a, b = leaf([0.0, 1.0, 2.0, 0.0]), leaf([2.0, 2.0, 0.0, 0.0])
    (a ** b).backward(np.ones(4))
    np.testing.assert_array_equal(a.grad, [0.0, 2.0, 0.0, 0.0])  # d(a^0)/da = 0, even at 0
    np.testing.assert_allclose(b.grad, [0.0, 0.0, math.log(2.0), 0.0])  # a^b log a -> 0


def test_exp_log_sqrt_by_hand():
    x = leaf([0.0, 1.0])
    x.exp().backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, [1.0, 2.0 * math.e])
    x = leaf([2.0, 4.0])
    x.log().backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [0.5, 0.25])
    x = leaf([4.0, 9.0])
    y = x.sqrt()
    np.testing.assert_allclose(y.data, [2.0, 3.0])
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [0.25, 1.0 / 6.0])


def test_abs_gradient_is_sign_and_zero_at_zero():
    x = leaf([-2.0, 0.0, 3.0])
    x.abs().backward(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])  # PyTorch's choice at 0


def test_maximum_minimum_route_gradient_to_the_winner_and_split_ties():
    a, b = leaf([1.0, 5.0, 2.0]), leaf([3.0, 4.0, 2.0])
    minicnn.maximum(a, b).backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad, [0.0, 20.0, 15.0])
    np.testing.assert_array_equal(b.grad, [10.0, 0.0, 15.0])
    a, b = leaf([1.0, 5.0]), leaf([3.0, 4.0])
    out = minicnn.minimum(a, b)
    np.testing.assert_array_equal(out.data, [1.0, 4.0])
    out.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(a.grad, [10.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 20.0])


def test_where_routes_gradient_by_the_mask():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    mask = np.array([True, False, True])
    out = minicnn.where(mask, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad, [0.0, 2.0, 0.0])


def test_where_accepts_a_boolean_tensor_and_a_scalar_branch():
    x = leaf([-1.0, 2.0])
    out = minicnn.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(out.data, [0.0, 2.0])
    out.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_clip_passes_gradient_inside_and_on_the_bounds_only():
    x = leaf([-2.0, -1.0, 0.0, 1.0, 2.0])
    out = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    out.backward(np.ones(5))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # PyTorch: 1 on a bound


def test_broadcast_gradient_is_summed_back_to_each_operand():
    a = leaf(np.ones((2, 3)))
    b = leaf([[1.0], [2.0]])          # (2, 1), stretched along axis 1
    c = leaf(np.array([1.0, 2.0, 3.0]))  # (3,), missing the leading axis
    (a * b + c).backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b.grad, [[0 + 1 + 2], [3 + 4 + 5]])
    np.testing.assert_array_equal(c.grad, [0 + 3, 1 + 4, 2 + 5])
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(2, 3) * [[1.0], [2.0]])


# ----------------------------------------------------------------------------- drawn cases

# name: (minicnn op, numpy op, value range of a, value range of b)
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-1, 1), (-1, 1)),
    "sub": (lambda a, b: a - b, np.subtract, (-1, 1), (-1, 1)),
    "mul": (lambda a, b: a * b, np.multiply, (-1, 1), (-1, 1)),
    "div": (lambda a, b: a / b, np.divide, (-1, 1), (0.5, 2)),
    "pow": (lambda a, b: a ** b, np.power, (0.5, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_binary_op_forward_and_gradcheck_with_broadcasting(name, shape_pair, data):
    op, reference, range_a, range_b = BINARY[name]
    shape_a, shape_b = shape_pair
    a = leaf(data.draw(arrays(shape_a, *range_a)))
    b = leaf(data.draw(arrays(shape_b, *range_b)))
    out = op(a, b)
    np.testing.assert_allclose(out.data, reference(a.data, b.data), rtol=1e-15)
    assert minicnn.gradcheck(op, [a, b])


@pytest.mark.parametrize("op, reference", [(minicnn.maximum, np.maximum),
                                           (minicnn.minimum, np.minimum)])
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_maximum_minimum_forward_and_gradcheck(op, reference, shape_pair, data):
    a_values, b_values = data.draw(distinct_pair(*shape_pair))
    a, b = leaf(a_values), leaf(b_values)
    np.testing.assert_array_equal(op(a, b).data, reference(a_values, b_values))
    assert minicnn.gradcheck(op, [a, b])


@pytest.mark.parametrize("name", sorted(BINARY) + ["maximum", "minimum"])
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_binary_op_gradients_have_the_operand_shapes(name, shape_pair, data):
    op = {**{k: v[0] for k, v in BINARY.items()},
          "maximum": minicnn.maximum, "minimum": minicnn.minimum}[name]
    a_values, b_values = data.draw(distinct_pair(*shape_pair, low=0.5, high=2.0))
    a, b = leaf(a_values), leaf(b_values)
    out = op(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("op, reference", [
    (lambda x: 2.5 - x, lambda x: 2.5 - x),
    (lambda x: 2.5 / x, lambda x: 2.5 / x),
    (lambda x: 1.5 ** x, lambda x: 1.5 ** x),
    (lambda x: x ** 3, lambda x: x ** 3),
    (lambda x: x ** -1.5, lambda x: x ** -1.5),
    (lambda x: 3 * x + 1, lambda x: 3 * x + 1),
])
@given(shape=shapes(), data=st.data())
def test_scalar_operand_forms(op, reference, shape, data):
    x = leaf(data.draw(arrays(shape, 0.5, 2.0)))
    np.testing.assert_allclose(op(x).data, reference(x.data), rtol=1e-14)
    assert minicnn.gradcheck(op, [x])


# name: (op, numpy forward, value range)
UNARY = {
    "neg": (lambda x: -x, np.negative, (-1, 1)),
    "exp": (F.exp, np.exp, (-2, 2)),
    "log": (F.log, np.log, (0.5, 3)),
    "sqrt": (F.sqrt, np.sqrt, (0.5, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes(min_dims=0), data=st.data())
def test_unary_op_forward_and_gradcheck(name, shape, data):
    op, reference, value_range = UNARY[name]
    x = leaf(data.draw(arrays(shape, *value_range)))
    np.testing.assert_array_equal(op(x).data, reference(x.data))
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(min_dims=0), data=st.data())
def test_abs_forward_and_gradcheck_away_from_zero(shape, data):
    x = leaf(data.draw(distinct_arrays(shape)))
    np.testing.assert_array_equal(F.abs(x).data, np.abs(x.data))
    assert minicnn.gradcheck(F.abs, [x])


@given(shape=shapes(), data=st.data())
def test_clip_forward_and_gradcheck(shape, data):
    x = leaf(data.draw(distinct_arrays(shape)))
    low, high = data.draw(clip_bounds(x.data))
    np.testing.assert_array_equal(F.clip(x, low, high).data, np.clip(x.data, low, high))
    assert minicnn.gradcheck(lambda t: F.clip(t, low, high), [x])


@given(shapes_=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       data=st.data())
def test_where_forward_and_gradcheck_with_broadcasting(shapes_, data):
    shape_mask, shape_a, shape_b = shapes_.input_shapes
    mask = data.draw(arrays(shape_mask)) > 0
    a, b = leaf(data.draw(arrays(shape_a))), leaf(data.draw(arrays(shape_b)))
    out = minicnn.where(mask, a, b)
    np.testing.assert_array_equal(out.data, np.where(mask, a.data, b.data))
    assert minicnn.gradcheck(lambda x, y: minicnn.where(mask, x, y), [a, b])


def test_only_the_operand_that_requires_grad_gets_one():
    a, b = leaf([1.0, 2.0]), minicnn.tensor(np.array([3.0, 4.0]))
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
               lambda x, y: x / y, lambda x, y: x ** y, minicnn.maximum, minicnn.minimum):
        a.grad = None
        op(a, b).backward(np.ones(2))
        assert a.grad is not None and b.grad is None


# ----------------------------------------------------------------------------- dtype

FLOAT32_OPS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "maximum": minicnn.maximum,
    "minimum": minicnn.minimum, "where": lambda x, y: minicnn.where(x.data > 1.2, x, y),
    "neg": lambda x, y: -x, "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(),
    "sqrt": lambda x, y: x.sqrt(), "abs": lambda x, y: x.abs(),
    "clip": lambda x, y: x.clip(0.8, 1.5),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_in_float32_out_and_float32_gradients(name, rng):
    x = leaf(rng.uniform(0.5, 2.0, (2, 3)), dtype=np.float32)
    y = leaf(rng.uniform(0.5, 2.0, (3,)), dtype=np.float32)
    out = FLOAT32_OPS[name](x, y)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32
    if y.grad is not None:
        assert y.grad.dtype == np.float32


SCALARS = [2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2), np.array(2.0), np.array(2)]


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("op", [
    lambda x, s: x + s, lambda x, s: s + x, lambda x, s: x - s, lambda x, s: s - x,
    lambda x, s: x * s, lambda x, s: s * x, lambda x, s: x / s, lambda x, s: s / x,
    lambda x, s: x ** s, lambda x, s: s ** x, lambda x, s: minicnn.maximum(x, s),
    lambda x, s: minicnn.minimum(s, x), lambda x, s: minicnn.where(x.data > 1, x, s),
    lambda x, s: x.clip(s / 4, s),
])
def test_scalars_do_not_upcast_float32(op, scalar):
    x = leaf([0.5, 1.5], dtype=np.float32)
    out = op(x, scalar)
    assert isinstance(out, minicnn.Tensor) and out.dtype == np.float32
    out.backward(np.ones(2, dtype=np.float32))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda t, s: t + s, lambda t, s: s + t, lambda t, s: t - s, lambda t, s: s - t,
    lambda t, s: t * s, lambda t, s: s * t,
])
def test_integer_tensor_and_python_float_give_the_default_float32(op):
    t = minicnn.tensor(np.array([1, 2, 3]))
    out = op(t, 0.5)
    assert out.dtype == np.float32  # PyTorch's default dtype, not NumPy's float64
    np.testing.assert_array_equal(out.data, op(t.data, 0.5).astype(np.float32))
    assert op(t, 2).dtype == np.int64  # an int scalar keeps an integer tensor integral


@pytest.mark.parametrize("op, reference", [
    (lambda a, t: a + t, np.add), (lambda a, t: a - t, np.subtract),
    (lambda a, t: a * t, np.multiply), (lambda a, t: a / t, np.divide),
    (lambda a, t: a ** t, np.power),
])
def test_ndarray_on_the_left_dispatches_to_the_tensor(op, reference):
    a = np.array([1.0, 2.0, 3.0])
    t = leaf([0.5, 1.0, 2.0])
    out = op(a, t)
    assert isinstance(out, minicnn.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, reference(a, t.data))
    out.backward(np.ones(3))
    assert t.grad.shape == (3,)


def test_integer_tensors_stay_integer():
    labels = minicnn.tensor(np.array([1, 2, 3]))
    assert (labels + 1).dtype == np.int64
    assert (labels * labels).dtype == np.int64


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a ** b, minicnn.maximum, minicnn.minimum,
    lambda a, b: minicnn.where(np.ones((2, 3), dtype=bool), a, b),
])
def test_shapes_that_do_not_broadcast_are_named(op):
    a, b = leaf(np.ones((2, 3))), leaf(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\) cannot be broadcast"):
        op(a, b)


def test_where_mask_that_does_not_broadcast_is_named():
    with pytest.raises(ValueError, match=r"where: shapes \(4,\) and \(2, 3\)"):
        minicnn.where(np.ones(4, dtype=bool), leaf(np.ones((2, 3))), 0.0)


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="condition must be boolean"):
        minicnn.where(np.ones(3), leaf(np.ones(3)), 0.0)


def test_clip_arguments_are_checked():
    x = leaf(np.ones(3))
    with pytest.raises(ValueError, match="at least one of min and max"):
        x.clip()
    with pytest.raises(ValueError, match="min=2.0 is greater than max=1.0"):
        x.clip(2.0, 1.0)
