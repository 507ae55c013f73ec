"""Reductions sum/mean/max: hand-computed cases, forward against NumPy and gradcheck over
drawn shapes, axes (None, int, negative, tuple) and keepdims; dtype; bad axes."""

import warnings

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
    m = x.amax(axis=1)  # values only (max(dim) gives values and indices)
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
    out = x.amax(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, np.max(x.data, axis=axis,
                                                   keepdims=keepdims))
    assert minicnn.gradcheck(lambda t: t.amax(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["sum", "mean", "amax"])
@given(shape=shapes(1, 4, 1, 4), keepdims=st.booleans(), data=st.data())
def test_gradient_has_the_input_shape(name, shape, keepdims, data):
    axis = data.draw(axes(len(shape)))
    x = leaf(data.draw(distinct_arrays(shape)))
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == x.shape
    if name != "amax":  # every element received its share
        assert (x.grad.data > 0).all()


@pytest.mark.parametrize("name", ["sum", "mean", "amax"])
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


@pytest.mark.parametrize("name", ["sum", "mean", "amax"])
def test_bad_axes_are_named(name):
    x = leaf(np.ones((2, 3)))
    reduce = getattr(x, name)
    with pytest.raises(ValueError, match=rf"{name}: dim=2 is out of range .* 2 dimensions"):
        reduce(axis=2)
    with pytest.raises(ValueError, match=rf"{name}: dim=-3 is out of range"):
        reduce(axis=(0, -3))
    with pytest.raises(ValueError, match="names a dim twice"):
        reduce(axis=(1, -1))
    with pytest.raises(TypeError, match="dim must be an integer, got 1.0"):
        reduce(axis=1.0)


# ----------------------------------------------------------------------------- empty tensors
# PyTorch 2.13's results: sum 0, mean NaN, max undefined over a zero-length axis only.


def test_max_of_an_empty_tensor_over_all_axes_is_an_error():
    with pytest.raises(ValueError, match=r"max: the tensor of shape \(0, 3\) is empty; give "
                                         "dim="):
        leaf(np.ones((0, 3))).max()


@pytest.mark.parametrize("axis", [0, -2, (0, 1)])
def test_max_over_a_zero_length_axis_is_an_error(axis):
    with pytest.raises(ValueError, match=r"max: dim 0 of shape \(0, 3\) has length 0"):
        leaf(np.ones((0, 3))).amax(axis=axis)


@pytest.mark.parametrize("keepdims, shape", [(False, (0,)), (True, (0, 1))])
def test_max_over_a_nonempty_axis_of_an_empty_tensor_is_empty(keepdims, shape):
    x = leaf(np.ones((0, 3)))
    out = x.amax(axis=1, keepdims=keepdims)
    assert out.shape == shape and out.dtype == np.float64
    out.backward(np.ones(shape))
    assert x.grad.shape == (0, 3)
    assert leaf(np.ones((2, 0, 3))).amax(axis=(0, 2)).shape == (0,)


def test_sum_and_mean_of_empty_tensors_are_zero_and_nan_with_empty_gradients():
    x = leaf(np.ones((0, 3)), dtype=np.float32)
    total, average = x.sum(), x.mean()  # no RuntimeWarning either (they are errors here)
    assert total.item() == 0 and total.dtype == np.float32
    assert np.isnan(average.item()) and average.dtype == np.float32
    np.testing.assert_array_equal(x.sum(axis=0).data, [0, 0, 0])
    assert np.isnan(x.mean(axis=0).data).all() and x.mean(axis=0).shape == (3,)
    assert x.mean(axis=1).shape == (0,)
    for out in (x.sum(), x.mean(), x.mean(axis=0), x.mean(axis=1)):
        x.grad = None
        out.backward(np.ones(out.shape, dtype=np.float32))
        assert x.grad.shape == (0, 3) and x.grad.dtype == np.float32


def test_sum_and_mean_of_empty_tensors_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.ones((0, 3, 2))
    for axis in (None, 0, 1, (1, 2)):
        dim = {} if axis is None else {"dim": axis}
        np.testing.assert_array_equal(leaf(x).sum(axis=axis).data,
                                      torch.from_numpy(x).sum(**dim).numpy())
        np.testing.assert_array_equal(leaf(x).mean(axis=axis).data,
                                      torch.from_numpy(x).mean(**dim).numpy())
    np.testing.assert_array_equal(leaf(x).amax(axis=1).data,
                                  torch.from_numpy(x).amax(dim=1).numpy())


def test_argmax_of_empty_tensors_follows_max():
    x = minicnn.tensor(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"argmax: the tensor of shape \(0, 3\) is empty"):
        x.argmax()
    with pytest.raises(ValueError, match=r"argmax: dim 0 of shape \(0, 3\) has length 0"):
        x.argmax(axis=0)
    out = x.argmax(axis=1)
    assert out.shape == (0,) and out.dtype == np.int64
    with pytest.raises(ValueError, match="argmax: dim=2 is out of range"):
        x.argmax(axis=2)
    assert minicnn.tensor(np.array([[1.0, 3.0], [4.0, 2.0]])).argmax(axis=-1).data.tolist() \
        == [1, 0]


# ----------------------------------------------------------------------------- dtypes


def test_mean_refuses_integers_like_pytorch():
    with pytest.raises(TypeError, match="mean: input has dtype int64; minicnn computes in "
                                        "float32 or float64"):
        minicnn.tensor(np.array([1, 2])).mean()
    assert minicnn.tensor(np.array([1, 2])).float().mean().item() == 1.5


@pytest.mark.parametrize("name", ["sum", "amax"])
def test_sum_and_max_refuse_float16_and_complex(name):
    for dtype in (np.float16, np.complex64):
        with pytest.raises(TypeError, match=f"{name}: .*dtype {np.dtype(dtype)}"):
            getattr(minicnn.tensor(np.ones(2, dtype=dtype)), name)()
    assert minicnn.tensor(np.array([True, True])).sum().item() == 2  # counting is fine


# ----------------------------------------------------------------------------- PyTorch's
# reductions with dim=/keepdim=: prod, var/std, norm, logsumexp, cumsum, max(dim), sort, topk


def test_prod_gradient_is_exact_at_zeros_as_pytorch():
    torch = pytest.importorskip("torch")
    for data in ([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], [[1.5, -2.0, 4.0], [3.0, 0.5, -1.0]]):
        for dim in (None, 0, 1):
            ours = minicnn.tensor(np.array(data), requires_grad=True)
            theirs = torch.tensor(data, dtype=torch.float64, requires_grad=True)
            kwargs = {} if dim is None else {"dim": dim}
            ours.prod(**kwargs).sum().backward()
            theirs.prod(**kwargs).sum().backward()
            np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12)


def test_var_with_too_few_elements_is_inf_or_nan_without_warnings():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0]])
    for kwargs in ({"dim": 0}, {"dim": 0, "correction": 0}, {"dim": 1, "correction": 2}):
        with warnings.catch_warnings():  # PyTorch warns "degrees of freedom is <= 0"
            warnings.simplefilter("ignore", UserWarning)
            expected = torch.from_numpy(x).var(**kwargs).numpy()
        np.testing.assert_array_equal(leaf(x).var(**kwargs).data, expected)
    with pytest.raises(ValueError, match="correction must be a number >= 0"):
        leaf(x).var(correction=-1)
    with pytest.raises(TypeError, match="unbiased= or correction=, not both"):
        leaf(x).std(unbiased=True, correction=1)


def test_logsumexp_is_stable_and_all_minus_inf_gives_minus_inf():
    x = leaf([[1000.0, 1000.0], [-np.inf, -np.inf]])
    out = x.logsumexp(dim=1)
    assert out.data[0] == pytest.approx(1000.0 + np.log(2.0)) and out.data[1] == -np.inf


def test_max_with_a_dim_over_an_empty_dim_and_tuple_dims_are_errors():
    with pytest.raises(ValueError, match="max: dim 0 of shape \\(0, 3\\) has length 0"):
        leaf(np.ones((0, 3))).max(0)
    assert leaf(np.ones((0, 3))).max(1).values.shape == (0,)
    with pytest.raises(TypeError, match="dim must be one int, got \\(0, 1\\); for several "
                                        "dims use amax"):
        leaf(np.ones((2, 3))).max(dim=(0, 1))


def test_sort_is_stable_both_ways_and_topk_checks_k():
    x = minicnn.tensor([[2.0, 1.0, 2.0, 3.0, 1.0]])
    assert x.sort(dim=1).indices.tolist() == [[1, 4, 0, 2, 3]]
    assert x.sort(dim=1, descending=True).indices.tolist() == [[3, 0, 2, 1, 4]]
    assert x.argsort(descending=True).tolist() == [[3, 0, 2, 1, 4]]
    assert x.topk(2).indices.tolist() == [[3, 0]] and x.topk(0).values.shape == (1, 0)
    with pytest.raises(ValueError, match=r"topk\(\): k=6 must be an int in \[0, 5\]"):
        x.topk(6)


def test_cumsum_and_sum_of_integers_are_int64_as_pytorch():
    labels = minicnn.tensor(np.array([1, 0, 1], dtype=np.int32))
    assert labels.sum().dtype == np.int64 and labels.cumsum(0).tolist() == [1, 1, 2]
    assert (labels == 1).sum().item() == 2 and (labels == 1).sum().dtype == np.int64
