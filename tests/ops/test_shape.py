"""Shape ops: reshape, transpose, permute, flatten, getitem, cat, stack, pad.

Hand-computed cases for the conventions (PyTorch's transpose and pad), forward against
NumPy and gradcheck over drawn shapes, axes and indices, dtype, and named errors."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn
from minicnn import functional as F
from tests.strategies import arrays, pad_widths, shapes


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- reshape


def test_reshape_accepts_varargs_a_tuple_and_minus_one():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape((4, -1)).shape == (4, 6)
    assert x.reshape([-1]).shape == (24,)
    assert x.reshape(2, -1, 2).shape == (2, 6, 2)
    np.testing.assert_array_equal(x.reshape(-1, 2).data, x.data.reshape(-1, 2))


@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_reshape_forward_and_gradcheck(shape, data):
    x = leaf(data.draw(arrays(shape)))
    sizes = list(shape)
    target = tuple(data.draw(st.permutations(sizes)))
    if data.draw(st.booleans()):  # let one axis be inferred
        target = target[:-1] + (-1,)
    np.testing.assert_array_equal(x.reshape(target).data, x.data.reshape(target))
    assert minicnn.gradcheck(lambda t: t.reshape(target), [x])


def test_reshape_to_an_incompatible_shape_is_named():
    with pytest.raises(ValueError, match=r"cannot reshape shape \(2, 3\) \(6 elements\) "
                                         r"into \(4, -1\)"):
        leaf(np.ones((2, 3))).reshape(4, -1)


@pytest.mark.parametrize("shape, reason", [
    ((-2, 12), "sizes must be >= 0, or -1"),        # NumPy would take -2 as -1
    ((-1, -1), "only one size can be -1"),
    ((-3, -8), "sizes must be >= 0"),
    ((0, -1), "no size for -1 makes 24 elements"),
    ((5, 5), "the number of elements differs"),
    ((7, -1), "no size for -1 makes 24 elements"),
])
def test_reshape_validates_the_shape_like_pytorch(shape, reason):
    x = leaf(np.ones(24))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(24,\) \(24 "
                                         rf"elements\) into {re.escape(str(shape))}: {reason}"):
        x.reshape(*shape)
    with pytest.raises(ValueError, match=reason):
        F.reshape(x, shape)


def test_reshape_needs_int_sizes_and_a_shape():
    x = leaf(np.ones(6))
    with pytest.raises(TypeError, match=r"reshape: shape must be ints, got \(2.0, 3\)"):
        x.reshape(2.0, 3)
    with pytest.raises(TypeError, match="reshape: missing the shape"):
        x.reshape()
    assert x.reshape(np.int64(2), 3).shape == (2, 3)  # NumPy integers are ints


def test_reshape_of_empty_tensors_follows_pytorch():
    x = leaf(np.ones((0, 3)))
    assert x.reshape(-1).shape == (0,)
    assert x.reshape(3, -1).shape == (3, 0)
    with pytest.raises(ValueError, match="ambiguous"):
        x.reshape(-1, 0)
    assert leaf(1.0).reshape(-1).shape == (1,)


# ----------------------------------------------------------------------------- transpose / permute


def test_transpose_swaps_two_axes_and_T_reverses_them():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.transpose(-1, 1).shape == (2, 4, 3)
    np.testing.assert_array_equal(x.transpose(0, 1).data, np.swapaxes(x.data, 0, 1))
    np.testing.assert_array_equal(x.T.data, x.data.T)
    y = x.transpose(1, 2)
    y.backward(np.arange(24.0).reshape(2, 4, 3))
    np.testing.assert_array_equal(x.grad, np.arange(24.0).reshape(2, 4, 3).swapaxes(1, 2))


@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_permute_forward_and_gradcheck(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    order = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in order)
    x = leaf(data.draw(arrays(shape)))
    np.testing.assert_array_equal(x.permute(*order).data, np.transpose(x.data, order))
    np.testing.assert_array_equal(x.permute(order).data, np.transpose(x.data, order))
    assert minicnn.gradcheck(lambda t: t.permute(*order), [x])


@given(shape=shapes(2, 4, 1, 4), data=st.data())
def test_transpose_forward_and_gradcheck(shape, data):
    d0, d1 = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    x = leaf(data.draw(arrays(shape)))
    np.testing.assert_array_equal(x.transpose(d0, d1).data, np.swapaxes(x.data, d0, d1))
    assert minicnn.gradcheck(lambda t: t.transpose(d0, d1), [x])


def test_transpose_and_permute_errors_are_named():
    x = leaf(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"transpose: dim1=3 is out of range"):
        x.transpose(0, 3)
    for axes in [(), (0,), (0, 1, 2)]:  # PyTorch's transpose swaps exactly two dims
        with pytest.raises(TypeError, match="transpose"):
            x.transpose(*axes)
    with pytest.raises(ValueError, match=r"permute: axes=5 is out of range"):
        x.permute(0, 1, 5)
    with pytest.raises(ValueError, match=r"not a permutation"):
        x.permute(0, 1, 1)
    with pytest.raises(ValueError, match=r"not a permutation"):
        x.permute(0, 1)


# ----------------------------------------------------------------------------- flatten


def test_flatten_defaults_and_ranges():
    x = leaf(np.ones((2, 3, 4, 5)))
    assert x.flatten().shape == (120,)
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5)
    assert x.flatten(-2).shape == (2, 3, 20)
    assert x.flatten(2, 2).shape == (2, 3, 4, 5)
    assert minicnn.tensor(3.0).flatten().shape == (1,)  # PyTorch: a 0-d tensor becomes (1,)
    assert F.flatten(x, 0, 1).shape == (6, 4, 5)


@given(shape=shapes(1, 4, 1, 4), data=st.data())
def test_flatten_forward_and_gradcheck(shape, data):
    n = len(shape)
    start = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(start, n - 1))
    start, end = start - n * data.draw(st.booleans()), end - n * data.draw(st.booleans())
    x = leaf(data.draw(arrays(shape)))
    s, e = start % n, end % n
    expected = x.data.reshape(shape[:s] + (-1,) + shape[e + 1:])
    np.testing.assert_array_equal(x.flatten(start, end).data, expected)
    assert minicnn.gradcheck(lambda t: t.flatten(start, end), [x])


def test_flatten_errors_are_named():
    x = leaf(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flatten: start_dim=3 is out of range"):
        x.flatten(3)
    with pytest.raises(ValueError, match=r"flatten: end_dim=-4 is out of range"):
        x.flatten(0, -4)
    with pytest.raises(ValueError, match="start_dim=2 comes after end_dim=1"):
        x.flatten(2, 1)


# ----------------------------------------------------------------------------- getitem


def test_getitem_integer_array_with_repeats_accumulates():
    x = leaf(np.arange(12.0).reshape(3, 4))
    y = x[np.array([0, 2, 2, -1])]
    np.testing.assert_array_equal(y.data, x.data[[0, 2, 2, 2]])
    y.backward(np.ones((4, 4)))
    np.testing.assert_array_equal(x.grad, [[1.0] * 4, [0.0] * 4, [3.0] * 4])


def test_getitem_integer_tensor_and_list_index():
    x = leaf(np.arange(6.0))
    index = minicnn.tensor(np.array([[1, 1], [5, 0]]))
    y = x[index]
    assert y.shape == (2, 2)
    y.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad, [4.0, 3.0, 0.0, 0.0, 0.0, 3.0])
    x.grad = None
    x[[3, 3, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0, 3.0, 0.0, 0.0])


def test_getitem_pairs_of_index_arrays_and_mixed_with_slices():
    x = leaf(np.arange(12.0).reshape(3, 4))
    rows, cols = np.array([0, 2, 0]), minicnn.tensor(np.array([1, 3, 1]))
    y = x[rows, cols]
    np.testing.assert_array_equal(y.data, [1.0, 11.0, 1.0])
    y.backward(np.array([1.0, 2.0, 3.0]))
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 4.0, 2.0
    np.testing.assert_array_equal(x.grad, expected)
    x.grad = None
    z = x[1:, [0, 0]]
    np.testing.assert_array_equal(z.data, x.data[1:, [0, 0]])
    z.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(x.grad[:, 0], [0.0, 2.0, 2.0])


def test_getitem_boolean_mask():
    x = leaf(np.arange(6.0).reshape(2, 3))
    mask = x.data % 2 == 0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [0.0, 2.0, 4.0])
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    x.grad = None
    rows = x[minicnn.tensor(np.array([False, True]))]  # a boolean Tensor picks rows
    np.testing.assert_array_equal(rows.data, [[3.0, 4.0, 5.0]])
    rows.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0] * 3, [1.0] * 3])


def test_getitem_newaxis_ellipsis_negative_steps():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    for index in [(None, 0), (..., 1), (0, ..., None), np.s_[::-1, 1, ::2],
                  (-1, slice(2, 0, -1)), np.s_[:, None, -2:]]:
        y = x[index]
        np.testing.assert_array_equal(y.data, x.data[index])
        x.grad = None
        y.backward(np.ones(y.shape))
        expected = np.zeros(x.shape)
        expected[index] = 1.0
        np.testing.assert_array_equal(x.grad, expected)


@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_getitem_basic_indices_forward_and_gradcheck(shape, data):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = leaf(data.draw(arrays(shape)))
    np.testing.assert_array_equal(x[index].data, x.data[index])
    assert minicnn.gradcheck(lambda t: t[index], [x])


@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_getitem_integer_arrays_forward_and_gradcheck(shape, data):
    index = data.draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
    x = leaf(data.draw(arrays(shape)))
    np.testing.assert_array_equal(x[index].data, x.data[index])
    tensor_index = tuple(minicnn.tensor(i) for i in index)
    np.testing.assert_array_equal(x[tensor_index].data, x.data[index])
    assert minicnn.gradcheck(lambda t: t[index], [x])


@given(shape=shapes(1, 3, 1, 4), data=st.data())
def test_getitem_boolean_mask_gradcheck(shape, data):
    mask_dims = data.draw(st.integers(1, len(shape)))
    mask = data.draw(arrays(shape[:mask_dims])) > 0
    x = leaf(data.draw(arrays(shape)))
    np.testing.assert_array_equal(x[mask].data, x.data[mask])
    assert minicnn.gradcheck(lambda t: t[mask], [x])


def test_basic_indexing_is_a_view_and_advanced_indexing_a_copy_as_in_pytorch():
    x = leaf(np.zeros(4))
    y, picked = x[1:3], x[np.array([1, 2])]
    x.data[1] = 5.0
    assert y.data[0] == 5.0 and picked.data[0] == 0.0


def test_iterating_a_tensor_yields_its_rows():
    x = leaf(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    minicnn.stack(rows[::-1]).backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(3, 2)[::-1])


# ----------------------------------------------------------------------------- cat / stack


def test_cat_and_stack_by_hand():
    a, b = leaf([[1.0, 2.0]]), leaf([[3.0, 4.0], [5.0, 6.0]])
    c = minicnn.cat([a, b], axis=0)
    np.testing.assert_array_equal(c.data, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    c.backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(a.grad, [[0.0, 1.0]])
    np.testing.assert_array_equal(b.grad, [[2.0, 3.0], [4.0, 5.0]])
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    s = minicnn.stack((a, b), axis=-1)
    np.testing.assert_array_equal(s.data, [[1.0, 3.0], [2.0, 4.0]])
    s.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(a.grad, [1.0, 3.0])
    np.testing.assert_array_equal(b.grad, [2.0, 4.0])


@given(shape=shapes(1, 3, 1, 3), count=st.integers(1, 3), data=st.data())
def test_cat_forward_and_gradcheck(shape, count, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for _ in range(count):
        part_shape = list(shape)
        part_shape[axis] = data.draw(st.integers(1, 3))
        parts.append(leaf(data.draw(arrays(tuple(part_shape)))))
    out = minicnn.cat(parts, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate([p.data for p in parts], axis))
    assert minicnn.gradcheck(lambda *ts: minicnn.cat(ts, axis=axis), parts)


@given(shape=shapes(0, 3, 1, 3), count=st.integers(1, 3), data=st.data())
def test_stack_forward_and_gradcheck(shape, count, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [leaf(data.draw(arrays(shape))) for _ in range(count)]
    out = minicnn.stack(parts, axis=axis)
    np.testing.assert_array_equal(out.data, np.stack([p.data for p in parts], axis))
    assert minicnn.gradcheck(lambda *ts: minicnn.stack(ts, axis=axis), parts)


def test_cat_with_an_input_that_needs_no_grad():
    a, b = leaf(np.ones((2, 2))), minicnn.tensor(np.ones((1, 2)))
    minicnn.cat([a, b]).backward(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(a.grad, [[0.0, 1.0], [2.0, 3.0]])
    assert b.grad is None


def test_cat_and_stack_errors_are_named():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"cat: dim=2 is out of range .* 2 dimensions"):
        minicnn.cat([a, a], axis=2)
    with pytest.raises(IndexError, match=r"cat: dim=-3 is out of range"):  # PyTorch's kind
        minicnn.cat([a, a], dim=-3)
    with pytest.raises(ValueError, match=r"differ outside dim 0"):
        minicnn.cat([a, b], axis=0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        minicnn.cat([a, leaf(np.ones(3))])
    with pytest.raises(ValueError, match="non-empty"):
        minicnn.cat([])
    with pytest.raises(ValueError, match="0-d tensors"):
        minicnn.cat([leaf(1.0), leaf(2.0)])
    with pytest.raises(TypeError, match="a single Tensor"):
        minicnn.cat(a)
    with pytest.raises(ValueError, match="same shape"):
        minicnn.stack([a, b])
    with pytest.raises(ValueError, match=r"stack .*dim=3 is out of range"):
        minicnn.stack([a, a], axis=3)


def test_cat_and_stack_refuse_elements_that_are_not_tensors():
    a = leaf(np.ones(2))
    with pytest.raises(TypeError, match="cat: element 1 is a list, expected a Tensor"):
        minicnn.cat([a, [1.0, 2.0]])
    with pytest.raises(TypeError, match="stack: element 0 is a NoneType"):
        minicnn.stack([None, a])
    with pytest.raises(TypeError, match="cat: dtype object is not a number type"):
        minicnn.cat([a, np.array([1, None])])


PROMOTION_PAIRS = [  # (dtype of a, dtype of b, dtype of cat([a, b])), PyTorch's results
    (np.float32, np.int64, np.float32), (np.int64, np.float32, np.float32),
    (np.float32, np.bool_, np.float32), (np.float32, np.float64, np.float64),
    (np.int32, np.int64, np.int64), (np.bool_, np.int64, np.int64),
    (np.uint8, np.int8, np.int16), (np.int64, np.int64, np.int64),
]


@pytest.mark.parametrize("dtype_a, dtype_b, expected", PROMOTION_PAIRS)
def test_cat_and_stack_promote_like_pytorch(dtype_a, dtype_b, expected):
    a = minicnn.tensor(np.array([1, 0, 1], dtype=dtype_a))
    b = minicnn.tensor(np.array([0, 1, 1], dtype=dtype_b))
    for joined in (minicnn.cat([a, b]), minicnn.stack([a, b]), F.cat([b[None], a[None]])):
        assert joined.dtype == expected
    np.testing.assert_array_equal(minicnn.cat([a, b]).data, [1, 0, 1, 0, 1, 1])
    torch = pytest.importorskip("torch")
    ta, tb = torch.from_numpy(a.data), torch.from_numpy(b.data)
    assert str(torch.cat([ta, tb]).dtype) == f"torch.{np.dtype(expected).name}"
    assert str(torch.stack([ta, tb]).dtype) == f"torch.{np.dtype(expected).name}"


def test_stack_of_0d_tensors_promotes_as_tensors_with_axes():
    # Every input is joined with its axes: a 0-d float64 tensor widens float32 (PyTorch).
    out = minicnn.stack([leaf(1.0, dtype=np.float32), leaf(2.0)])
    assert out.dtype == np.float64


def test_cat_gradients_come_back_in_each_inputs_dtype():
    a = leaf([1.0, 2.0], dtype=np.float32)
    b = leaf([3.0])
    labels = minicnn.tensor(np.array([4, 5]))
    out = minicnn.cat([a, b, labels])
    assert out.dtype == np.float64
    out.backward(np.array([0.5, 1.5, 2.5, 3.5, 4.5]))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [0.5, 1.5])
    np.testing.assert_array_equal(b.grad, [2.5])


# ----------------------------------------------------------------------------- pad


def test_pad_lists_the_last_axis_first_like_pytorch():
    x = leaf(np.ones((1, 2, 3)))
    y = F.pad(x, (1, 2))  # the last axis: 1 before, 2 after
    assert y.shape == (1, 2, 6)
    np.testing.assert_array_equal(y.data[0, 0], [0, 1, 1, 1, 0, 0])
    y = F.pad(x, (1, 1, 2, 0), value=-1.0)  # W by 1 each side, H by 2 on top
    assert y.shape == (1, 4, 5)
    np.testing.assert_array_equal(y.data[0, :, 0], [-1, -1, -1, -1])
    np.testing.assert_array_equal(y.data[0, 2], [-1, 1, 1, 1, -1])
    y.backward(np.arange(20.0).reshape(1, 4, 5))
    np.testing.assert_array_equal(x.grad, np.arange(20.0).reshape(1, 4, 5)[:, 2:, 1:4])


@given(shape=shapes(1, 4, 1, 3), data=st.data())
def test_pad_forward_and_gradcheck(shape, data):
    widths = data.draw(pad_widths(len(shape)))
    value = data.draw(st.floats(-2, 2))
    x = leaf(data.draw(arrays(shape)))
    pairs = [(widths[i], widths[i + 1]) for i in range(0, len(widths), 2)][::-1]
    expected = np.pad(x.data, [(0, 0)] * (len(shape) - len(pairs)) + pairs,
                      constant_values=value)
    np.testing.assert_array_equal(F.pad(x, widths, value=value).data, expected)
    assert minicnn.gradcheck(lambda t: F.pad(t, widths, value=value), [x])


def test_pad_errors_are_named():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"pairs of widths for at most 2 axes, got \(1,\)"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="at most 2 axes"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"must be integers \(negative ones crop\), got \(1.0, 1\)"):
        F.pad(x, (1.0, 1))  # PyTorch refuses floats too
    with pytest.raises(ValueError, match="must be integers"):
        F.pad(x, ("1", 1))
    with pytest.raises(ValueError, match="cannot lose 2 and 2 cells"):
        F.pad(x, (-2, -2))  # a crop larger than the axis
    with pytest.raises(TypeError, match="pad: value must be a number, got 'a'"):
        F.pad(x, (1, 1), value="a")


def test_pad_negative_widths_crop_like_pytorch():
    x = leaf(np.arange(12.0).reshape(1, 3, 4))
    y = F.pad(x, (-1, 2, 1, -2), value=9.0)  # W: drop 1 left, add 2; H: add 1, drop 2
    expected = np.full((1, 2, 5), 9.0)
    expected[0, 1, :3] = x.data[0, 0, 1:]
    np.testing.assert_array_equal(y.data, expected)
    y.backward(np.arange(10.0).reshape(1, 2, 5))
    expected_grad = np.zeros((1, 3, 4))
    expected_grad[0, 0, 1:] = [5, 6, 7]
    np.testing.assert_array_equal(x.grad, expected_grad)


@pytest.mark.parametrize("mode, expected", [
    ("reflect", [2, 1, 0, 1, 2, 3, 2, 1]),    # mirrored, the edge not repeated
    ("replicate", [0, 0, 0, 1, 2, 3, 3, 3]),  # the edge repeated
    ("circular", [2, 3, 0, 1, 2, 3, 0, 1]),   # wrapped around
])
def test_pad_modes_by_hand(mode, expected):
    x = leaf(np.arange(4.0).reshape(1, 1, 4))
    y = F.pad(x, (2, 2), mode=mode)
    np.testing.assert_array_equal(y.data.ravel(), expected)
    # backward: every output cell's gradient goes to the cell it copied, adding up
    upstream = 10.0 ** np.arange(8)
    y.backward(upstream.reshape(1, 1, 8))
    np.testing.assert_allclose(x.grad.data.ravel(), np.bincount(expected, upstream, minlength=4))


def _pad_case(data, mode):
    """A shape and widths that PyTorch accepts for ``mode`` (negative widths crop)."""
    padded_axes = data.draw(st.integers(1, 3), "padded axes")
    shape = tuple(data.draw(st.lists(st.integers(1, 2), min_size=1, max_size=2), "batch")) + \
        tuple(data.draw(st.lists(st.integers(1, 5), min_size=padded_axes, max_size=padded_axes),
                        "padded sizes"))
    if len(shape) - padded_axes not in (1, 2):
        shape = shape[-padded_axes - 1:]
    widths = []
    for size in reversed(shape[-padded_axes:]):
        # reflect: below the size; circular: at most the size; crops keep a cell
        high = {"reflect": size - 1, "circular": size}.get(mode, 3)
        before, after = (data.draw(st.integers(-(size - 1) // 2, high), "width")
                         for _ in range(2))
        if mode == "circular":  # PyTorch crops first and wraps around what is left
            kept = size - max(-before, 0) - max(-after, 0)
            before, after = min(before, kept), min(after, kept)
        widths += [before, after]
    return shape, tuple(widths)


@given(mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]), data=st.data(),
       seed=st.integers(0, 2**16))
def test_pad_modes_against_pytorch(mode, data, seed):
    torch = pytest.importorskip("torch")
    shape, widths = _pad_case(data, mode)
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    kwargs = dict(value=0.5) if mode == "constant" else {}
    y = F.pad(x, widths, mode=mode, **kwargs)
    xt = torch.tensor(x.data, requires_grad=True)
    yt = torch.nn.functional.pad(xt, widths, mode=mode, **kwargs)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]), data=st.data(),
       seed=st.integers(0, 2**16))
def test_pad_modes_gradcheck(mode, data, seed):
    shape, widths = _pad_case(data, mode)
    x = leaf(np.random.default_rng(seed).standard_normal(shape))
    assert minicnn.gradcheck(lambda t: F.pad(t, widths, mode=mode), [x])


def test_pad_modes_keep_float32():
    x = leaf(np.ones((1, 2, 3)), dtype=np.float32)
    y = F.pad(x, (1, 2), mode="reflect")
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("shape, widths, kwargs, error, message", [
    ((1, 1, 4), (4, 0), dict(mode="reflect"), ValueError,
     r"padding size should be less than the corresponding input dimension .*\(4, 0\) for an "
     r"axis of size 4"),
    ((1, 1, 4), (0, 5), dict(mode="circular"), ValueError, "wrapping around more than once"),
    ((1, 1, 4), (4, -1), dict(mode="circular"), ValueError, "wrapping around more than once"),
    ((1, 1, 0), (1, 1), dict(mode="replicate"), ValueError, "non-empty axis"),
    ((1, 4), (1, 1), dict(mode="wrap"), ValueError,
     "mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'wrap'"),
    ((4,), (1, 1), dict(mode="reflect"), ValueError,
     r"2 widths for 2-D or 3-D input.* got 2 widths for shape \(4,\)"),
    ((1, 1, 1, 4, 4), (1, 1, 1, 1), dict(mode="reflect"), ValueError, "4 for 3-D or 4-D"),
    ((1, 4), (1, 1), dict(mode="reflect", value=2.0), TypeError,
     "mode 'reflect' doesn't take a value argument"),
])
def test_pad_mode_errors(shape, widths, kwargs, error, message):
    with pytest.raises(error, match=message):
        F.pad(leaf(np.zeros(shape)), widths, **kwargs)


# ----------------------------------------------------------------------------- dtype and oracle

SHAPE_OPS = [
    lambda x: x.reshape(-1), lambda x: x.transpose(0, 1), lambda x: x.permute(1, 0),
    lambda x: x.flatten(), lambda x: x[1:, np.array([0, 0])], lambda x: x[x.data > 0],
    lambda x: minicnn.cat([x, x], axis=1), lambda x: minicnn.stack([x, x]),
    lambda x: F.pad(x, (1, 1), value=np.float64(2.0)),
]


@pytest.mark.parametrize("op", SHAPE_OPS)
def test_float32_in_float32_out_and_float32_gradients(op, rng):
    x = leaf(rng.standard_normal((3, 4)), dtype=np.float32)
    out = op(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_against_pytorch(rng):
    torch = pytest.importorskip("torch")
    values = rng.standard_normal((2, 3, 4))
    cases = [
        (lambda t: F.pad(t, (1, 2, 0, 3), value=0.5),
         lambda t: torch.nn.functional.pad(t, (1, 2, 0, 3), value=0.5)),
        (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
        (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda t: t.flatten(1), lambda t: t.flatten(1)),
        (lambda t: t[:, [2, 0, 2], 1:], lambda t: t[:, [2, 0, 2], 1:]),
    ]
    for ours, theirs in cases:
        x = leaf(values)
        y = ours(x)
        upstream = rng.standard_normal(y.shape)
        y.backward(upstream)
        tx = torch.tensor(values, requires_grad=True)
        ty = theirs(tx)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-15)


# ----------------------------------------------------------------------------- view, expand,
# repeat, split/chunk, squeeze/unsqueeze (PyTorch's semantics)


def test_chunk_and_split_give_pytorchs_pieces():
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(2, 6)
    for chunks in (1, 4, 5, 6, 7):
        ours = [t.shape for t in leaf(x).chunk(chunks, dim=1)]
        assert ours == [tuple(t.shape) for t in torch.from_numpy(x).chunk(chunks, dim=1)]
    for size in (1, 4, 6, 10):
        ours = [t.shape for t in leaf(x).split(size, dim=-1)]
        assert ours == [tuple(t.shape) for t in torch.from_numpy(x).split(size, dim=-1)]
    with pytest.raises(ValueError, match=r"must be non-negative ints adding up to 6"):
        leaf(x).split([2, 3], dim=1)
    with pytest.raises(ValueError, match="chunks must be a positive int"):
        leaf(x).chunk(0)


def test_view_is_memory_sharing_and_refuses_non_contiguous_input():
    x = leaf(np.arange(6.0))
    assert np.shares_memory(x.view(3, 2).data, x.data)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        x.view(2, 3).transpose(0, 1).view(-1)
    with pytest.raises(ValueError, match="the number of elements differs"):
        x.view(4, 2)


def test_expand_and_repeat_errors_are_named():
    x = leaf(np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"must match the existing size \(2\) at "
                                         r"non-singleton dimension 0"):
        x.expand(3, 4)
    with pytest.raises(ValueError, match="must be greater or equal to the number of dim"):
        x.expand(4)
    with pytest.raises(ValueError, match="-1 is not allowed in a leading, non-existing"):
        x.expand(-1, 2, 3)
    with pytest.raises(ValueError, match="can not be smaller than number of dimensions"):
        x.repeat(2)
    assert not x.expand(2, 5).data.flags.writeable  # a read-only view, not a copy


def test_squeeze_only_drops_size_one_dims_and_unsqueeze_accepts_ndim():
    x = leaf(np.ones((1, 3, 1)))
    assert x.squeeze().shape == (3,) and x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze((0, 2)).shape == (3,) and x.unsqueeze(3).shape == (1, 3, 1, 1)
    assert x.unsqueeze(-1).shape == (1, 3, 1, 1)
    with pytest.raises(IndexError, match="unsqueeze: dim=5 is out of range"):
        x.unsqueeze(5)
