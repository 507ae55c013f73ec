"""Reductions sum/mean/max: hand-computed cases, forward against NumPy and gradcheck over
drawn shapes, axes (None, int, negative, tuple) and keepdims; dtype; bad axes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from tests.strategies import arrays, axes, distinct_arrays, shapes


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- golden cases


def test_sum_and_mean_by_hand():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    s = x.sum(axis=0)
    np.testing.assert_array_equal(s.data, [5.0, 7.0, 9.0])
    s.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    x.grad = None
    m = x.mean(axis=1, keepdims=True)
    np.testing.assert_array_equal(m.data, [[2.0], [5.0]])
    m.backward(np.array([[3.0], [6.0]]))
    np.testing.assert_array_equal(x.grad, [[1.0] * 3, [2.0] * 3])


def test_max_routes_gradient_to_the_maximum():
    x = leaf([[1.0, 7.0, 3.0], [9.0, 2.0, 4.0]])
    m = x.max(axis=1)
    np.testing.assert_array_equal(m.data, [7.0, 9.0])
    m.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 10.0, 0.0], [20.0, 0.0, 0.0]])


def test_max_ties_share_the_gradient_evenly():
    x = leaf([1.0, 3.0, 3.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5])


def test_full_reduction_is_a_0d_tensor_of_the_input_dtype():
    for dtype in (np.float32, np.float64):
        x = leaf(np.ones((2, 3)), dtype=dtype)
        for out in (x.sum(), x.mean(), x.max()):
            assert out.shape == () and out.dtype == dtype


# ----------------------------------------------------------------------------- drawn cases


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(shape=shapes(1, 4, 1, 4), keepdims=st.booleans(), data=st.data())
def test_sum_mean_forward_and_gradcheck(name, shape, keepdims, data):
    axis = data.draw(axes(len(shape)))
    x = leaf(data.draw(arrays(shape)))
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(x.data, axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    assert minicnn.gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


@given(shape=shapes(1, 4, 1, 4), keepdims=st.booleans(), data=st.data())
def test_max_forward_and_gradcheck(shape, keepdims, data):
    axis = data.draw(axes(len(shape)))
    x = leaf(data.draw(distinct_arrays(shape)))  # distinct: no ties
    out = x.max(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, np.max(x.data, axis=axis,
                                                   keepdims=keepdims))
    assert minicnn.gradcheck(lambda t: t.max(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@given(shape=shapes(1, 4, 1, 4), keepdims=st.booleans(), data=st.data())
def test_gradient_has_the_input_shape(name, shape, keepdims, data):
    axis = data.draw(axes(len(shape)))
    x = leaf(data.draw(distinct_arrays(shape)))
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == x.shape
    if name != "max":  # every element received its share
        assert (x.grad > 0).all()


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_by_value_and_gradient(name, dtype, rng):
    x = leaf(rng.standard_normal((2, 3, 4)), dtype=dtype)
    for axis in (None, 1, (0, 2)):
        x.grad = None
        out = getattr(x, name)(axis=axis)
        assert out.dtype == dtype
        out.backward(np.ones(out.shape, dtype=dtype))
        assert x.grad.dtype == dtype


def test_integer_sum_stays_integer():
    assert minicnn.tensor(np.array([1, 2, 3])).sum().dtype == np.int64


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_bad_axes_are_named(name):
    x = leaf(np.ones((2, 3)))
    reduce = getattr(x, name)
    with pytest.raises(ValueError, match=rf"{name}: axis=2 is out of range .* 2 dimensions"):
        reduce(axis=2)
    with pytest.raises(ValueError, match=rf"{name}: axis=-3 is out of range"):
        reduce(axis=(0, -3))
    with pytest.raises(ValueError, match="names an axis twice"):
        reduce(axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an integer, got 1.0"):
        reduce(axis=1.0)


def test_max_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"max of an empty tensor \(shape \(0, 3\)\)"):
        leaf(np.ones((0, 3))).max()
