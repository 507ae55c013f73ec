"""Convolution kernels: hand-computed cases, reference == fast, im2col/col2im, chunking."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from minicnn.kernels import conv as K
from minicnn.kernels.geometry import resolve_padding
from tests.strategies import conv_geometries, conv_transpose_geometries

NO_PAD = ((0, 0), (0, 0))


def _arrays(geometry, dtype, seed):
    """x, weight, bias and an upstream gradient for ``geometry``, plus the resolved padding."""
    rng = np.random.default_rng(seed)
    x_shape, weight_shape = geometry["x_shape"], geometry["weight_shape"]
    padding = resolve_padding(geometry["padding"], x_shape[2:], weight_shape[2:],
                              geometry["stride"], geometry["dilation"])
    settings = (geometry["stride"], padding, geometry["dilation"], geometry["groups"])
    x = rng.standard_normal(x_shape).astype(dtype)
    weight = rng.standard_normal(weight_shape).astype(dtype)
    bias = rng.standard_normal(weight_shape[0]).astype(dtype)
    out_shape = K.conv2d_forward_reference(x, weight, bias, *settings).shape
    grad_out = rng.standard_normal(out_shape).astype(dtype)
    return x, weight, bias, grad_out, settings


# ----------------------------------------------------------------------------- golden cases

# x = 0..15 in a 4x4 image; a 2x2 kernel [[1, 2], [3, 4]] at (oh, ow) reads
# x[oh, ow] + 2 x[oh, ow+1] + 3 x[oh+1, ow] + 4 x[oh+1, ow+1] = 10 x + 2 + 12 + 20 = 10 x + 34
# with x[oh, ow] = 4 oh + ow.
X4 = np.arange(16.0).reshape(1, 1, 4, 4)
W2 = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.conv2d_forward_reference, K.conv2d_forward])
def test_forward_by_hand(forward):
    out = forward(X4, W2, np.array([0.5]), (1, 1), NO_PAD, (1, 1), 1)
    expected = 10 * np.array([[0, 1, 2], [4, 5, 6], [8, 9, 10]]) + 34 + 0.5
    np.testing.assert_array_equal(out[0, 0], expected)
    # stride 2 keeps outputs (0, 0), (0, 2), (2, 0), (2, 2) of the stride-1 result
    out = forward(X4, W2, None, (2, 2), NO_PAD, (1, 1), 1)
    np.testing.assert_array_equal(out[0, 0], expected[::2, ::2] - 0.5)
    # padding 1 on top only: the first output row sees zeros above, i.e. 3 x[0, ow] + 4 x[0, ow + 1]
    out = forward(X4, W2, None, (1, 1), ((1, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_array_equal(out[0, 0, 0], [3 * 0 + 4 * 1, 3 * 1 + 4 * 2, 3 * 2 + 4 * 3])
    # dilation 2 in width: taps x[oh, ow], x[oh, ow + 2], ... -> 10 x + 2*2 + 3*4 + 4*6 = 10 x + 40
    out = forward(X4, W2, None, (1, 1), NO_PAD, (1, 2), 1)
    np.testing.assert_array_equal(out[0, 0], 10 * np.array([[0, 1], [4, 5], [8, 9]]) + 40)


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.conv2d_forward_reference, K.conv2d_forward])
def test_grouped_and_multichannel_by_hand(forward):
    # Two input channels (x and 10 x); with groups=1 a 1x1 kernel [1, 1] gives 11 x; with
    # groups=2 each output channel sees only its own input channel.
    x = np.stack([X4[0, 0], 10 * X4[0, 0]])[None]  # (1, 2, 4, 4)
    out = forward(x, np.ones((1, 2, 1, 1)), None, (1, 1), NO_PAD, (1, 1), 1)
    np.testing.assert_array_equal(out[0, 0], 11 * X4[0, 0])
    out = forward(x, np.array([2.0, 3.0]).reshape(2, 1, 1, 1), None, (1, 1), NO_PAD, (1, 1), 2)
    np.testing.assert_array_equal(out[0], [2 * X4[0, 0], 30 * X4[0, 0]])
    # A 3x3 kernel over both channels (im2col path): the centre tap only -> x + 10 x at the centre
    weight = np.zeros((1, 2, 3, 3))
    weight[0, :, 1, 1] = 1.0
    out = forward(x, weight, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    np.testing.assert_array_equal(out[0, 0], 11 * X4[0, 0])


@pytest.mark.nojit
@pytest.mark.parametrize("backward", [K.conv2d_backward_reference, K.conv2d_backward])
def test_backward_by_hand(backward):
    # An all-ones 2x2 kernel and upstream: dx counts how many windows read each cell,
    # dweight[kh, kw] sums the cells each tap read, dbias counts the outputs.
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    dx, dweight, dbias = backward(x, np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4)),
                                  (1, 1), NO_PAD, (1, 1), 1)
    counts = np.outer([1, 2, 2, 2, 1], [1, 2, 2, 2, 1])
    np.testing.assert_array_equal(dx[0, 0], counts)
    np.testing.assert_array_equal(dweight[0, 0], [[x[0, 0, :4, :4].sum(), x[0, 0, :4, 1:].sum()],
                                                  [x[0, 0, 1:, :4].sum(), x[0, 0, 1:, 1:].sum()]])
    np.testing.assert_array_equal(dbias, [16.0])


@pytest.mark.nojit
@pytest.mark.parametrize("backward", [K.conv2d_backward_reference, K.conv2d_backward])
def test_strided_backward_leaves_uncovered_cells_at_zero(backward):
    # H = W = 5, kernel 2, stride 2: windows cover rows/columns 0-3; row and column 4 are
    # read by no window, so their gradient is exactly zero and dx keeps x's shape.
    x = np.ones((1, 2, 5, 5))
    dx, dweight, _ = backward(x, np.ones((3, 2, 2, 2)), np.ones((1, 3, 2, 2)),
                              (2, 2), NO_PAD, (1, 1), 1)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx[0, :, 4, :], 0)
    np.testing.assert_array_equal(dx[0, :, :, 4], 0)
    np.testing.assert_array_equal(dx[0, :, :4, :4], 3)  # three output channels, one window each
    np.testing.assert_array_equal(dweight, 4)  # each tap reads four ones


# ----------------------------------------------------------------------------- reference == fast


def _tolerance(dtype):
    return dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)


@given(geometry=conv_geometries(), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
def test_fast_forward_equals_reference(geometry, dtype, seed):
    x, weight, bias, _, settings = _arrays(geometry, dtype, seed)
    expected = K.conv2d_forward_reference(x, weight, bias, *settings)
    for b in (bias, None):
        out = K.conv2d_forward(x, weight, b, *settings)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, expected - (0 if b is not None else bias[:, None, None]),
                                   **_tolerance(dtype))


@given(geometry=conv_geometries(), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
def test_fast_backward_equals_reference(geometry, dtype, seed):
    x, weight, _, grad_out, settings = _arrays(geometry, dtype, seed)
    expected = K.conv2d_backward_reference(x, weight, grad_out, *settings)
    got = K.conv2d_backward(x, weight, grad_out, *settings)
    for name, g, e, like in zip(("dx", "dweight", "dbias"), got, expected,
                                (x, weight, grad_out[0, :, 0, 0])):
        assert g.shape == like.shape and g.dtype == dtype, name
        np.testing.assert_allclose(g, e, **_tolerance(dtype), err_msg=name)


@pytest.mark.parametrize("geometry", [
    dict(x_shape=(3, 4, 9, 8), weight_shape=(6, 4, 3, 3), stride=(1, 1), padding="same",
         dilation=(1, 1), groups=1),
    dict(x_shape=(3, 4, 9, 8), weight_shape=(6, 2, 2, 3), stride=(2, 3), padding=1,
         dilation=(2, 1), groups=2),
    dict(x_shape=(3, 4, 9, 8), weight_shape=(8, 1, 3, 3), stride=(1, 1), padding="same",
         dilation=(1, 1), groups=4),
    dict(x_shape=(3, 4, 9, 8), weight_shape=(8, 1, 3, 2), stride=(2, 2), padding="same",
         dilation=(1, 2), groups=4),
], ids=["3x3", "grouped strided dilated", "depthwise x2", "depthwise strided"])
def test_parallel_kernels_equal_reference(geometry, monkeypatch):
    # Small problems run on one thread; force every thread on so that the parallel loops
    # (each thread owning its rows, planes or channels) are what is compared.
    monkeypatch.setattr(K, "PARALLEL_MIN_WORK", 0)
    x, weight, bias, grad_out, settings = _arrays(geometry, np.float64, 0)
    np.testing.assert_allclose(K.conv2d_forward(x, weight, bias, *settings),
                               K.conv2d_forward_reference(x, weight, bias, *settings),
                               rtol=1e-10, atol=1e-10)
    for fast, reference in zip(K.conv2d_backward(x, weight, grad_out, *settings),
                               K.conv2d_backward_reference(x, weight, grad_out, *settings)):
        np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-10)


@given(geometry=conv_geometries(), seed=st.integers(0, 2**16))
def test_col2im_is_the_adjoint_of_im2col(geometry, seed):
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is exactly im2col's transpose,
    # which is what makes it the right input gradient.
    x, weight, _, _, (stride, padding, dilation, _) = _arrays(geometry, np.float64, seed)
    kernel_hw = weight.shape[2:]
    cols = K.im2col(x, kernel_hw, stride, padding, dilation)
    c = np.random.default_rng(seed).standard_normal(cols.shape)
    back = K.col2im(c, x.shape, kernel_hw, stride, padding, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_im2col_layout():
    # cols[(c, kh, kw), n, (oh, ow)] = x_pad[n, c, oh + kh, ow + kw]; padding reads as 0
    cols = K.im2col(X4, (2, 2), (1, 1), ((1, 0), (0, 0)), (1, 1))
    assert cols.shape == (4, 1, 4 * 3)
    np.testing.assert_array_equal(cols[0, 0, :3], 0)  # tap (0, 0), output row 0: the padded row
    np.testing.assert_array_equal(cols[3, 0, :3], [1, 2, 3])  # tap (1, 1), row 0: x[0, 1:4]
    np.testing.assert_array_equal(cols[0, 0, 3:6], [0, 1, 2])  # tap (0, 0), row 1: x[0, 0:3]
    # two samples: each sample's pixels are a contiguous block of every row
    two = K.im2col(np.concatenate([X4, -X4]), (2, 2), (1, 1), ((1, 0), (0, 0)), (1, 1))
    np.testing.assert_array_equal(two[:, 1], -cols[:, 0])


# ----------------------------------------------------------------------------- chunks and needs


@pytest.mark.parametrize("groups, kernel", [(1, (3, 3)), (2, (1, 3)), (1, (1, 1))])
def test_chunked_equals_unchunked(groups, kernel):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4, 6, 7)).astype(np.float32)
    weight = rng.standard_normal((6, 4 // groups) + kernel).astype(np.float32)
    settings = ((2, 1), ((1, 1), (1, 0)), (1, 1), groups)
    grad_out = rng.standard_normal(K.conv2d_forward(x, weight, None, *settings).shape)
    grad_out = grad_out.astype(np.float32)
    one_sample = 4 * 9 * 6 * 7 * 4  # more than one sample's columns: a chunk of 1
    whole = K.conv2d_forward(x, weight, None, *settings)
    chunked = K.conv2d_forward(x, weight, None, *settings, max_bytes=one_sample)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-6)
    for g_whole, g_chunked in zip(K.conv2d_backward(x, weight, grad_out, *settings),
                                  K.conv2d_backward(x, weight, grad_out, *settings,
                                                    max_bytes=one_sample)):
        np.testing.assert_allclose(g_chunked, g_whole, rtol=1e-5, atol=1e-5)


def test_im2col_buffer_stays_within_the_bound(monkeypatch):
    sizes = []
    real = K.im2col

    def spy(x, *args):
        cols = real(x, *args)
        sizes.append(cols.nbytes)
        return cols

    monkeypatch.setattr(K, "im2col", spy)
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((7, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    settings = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    one_sample = 3 * 9 * 6 * 6 * 8
    K.conv2d_forward(x, weight, None, *settings, max_bytes=3 * one_sample)
    K.conv2d_backward(x, weight, rng.standard_normal((7, 4, 6, 6)), *settings,
                      max_bytes=3 * one_sample)
    assert sizes == [3 * one_sample, 3 * one_sample, one_sample] * 2  # chunks of 3, 3, 1


@pytest.mark.parametrize("groups, kernel", [(1, (3, 3)), (2, (1, 3)), (1, (1, 1)), (4, (3, 3))],
                         ids=["im2col", "grouped", "pointwise", "direct"])
def test_kept_columns_replace_the_backward_im2col(groups, kernel, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 6, 7))
    weight = rng.standard_normal((8, 4 // groups) + kernel)
    settings = ((1, 1), ((0, 0), (0, 0)) if kernel == (1, 1) else ((1, 1), (1, 0)), (1, 1), groups)
    out, columns = K.conv2d_forward(x, weight, None, *settings, keep_columns=True)
    np.testing.assert_array_equal(out, K.conv2d_forward(x, weight, None, *settings))
    grad_out = rng.standard_normal(out.shape)
    expected = K.conv2d_backward(x, weight, grad_out, *settings)
    if groups == 4:  # depthwise: direct kernels, no columns
        assert columns is None
        return
    monkeypatch.setattr(K, "im2col", None)  # the backward pass must not need it
    for got, want in zip(K.conv2d_backward(x, weight, grad_out, *settings, columns=columns),
                         expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_columns_are_not_kept_when_the_batch_is_chunked():
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((4, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    settings = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    one_sample = 3 * 9 * 6 * 6 * 8
    _, columns = K.conv2d_forward(x, weight, None, *settings, max_bytes=2 * one_sample,
                                  keep_columns=True)
    assert columns is None  # two chunks: keeping them all would break the memory bound
    _, columns = K.conv2d_forward(x, weight, None, *settings, max_bytes=4 * one_sample,
                                  keep_columns=True)
    assert columns.nbytes == 4 * one_sample


def test_batch_chunks_respect_the_bound():
    assert K._batch_chunks(10, 100, 1000) == [slice(0, 10)]
    assert K._batch_chunks(10, 100, 250) == [slice(i, min(i + 2, 10)) for i in range(0, 10, 2)]
    assert K._batch_chunks(3, 100, 50) == [slice(0, 1), slice(1, 2), slice(2, 3)]  # >= 1 sample
    assert K.IM2COL_MAX_BYTES == 32 * 2**20  # the documented bound


@pytest.mark.parametrize("weight_shape", [(4, 2, 3, 3), (4, 1, 3, 3)], ids=["im2col", "direct"])
def test_only_the_needed_gradients_are_computed(weight_shape):
    rng = np.random.default_rng(0)
    groups = 2 // weight_shape[1]
    x, weight = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal(weight_shape)
    settings = ((1, 1), ((1, 1), (1, 1)), (1, 1), groups)
    grad_out = rng.standard_normal((2, 4, 5, 5))
    full = K.conv2d_backward(x, weight, grad_out, *settings)
    for needs in [(True, False, False), (False, True, False), (False, False, True)]:
        got = K.conv2d_backward(x, weight, grad_out, *settings, needs=needs)
        for need, g, f in zip(needs, got, full):
            if need:
                np.testing.assert_allclose(g, f, rtol=1e-12)
            else:
                assert g is None


# ----------------------------------------------------------------------------- read-only inputs


def _read_only(array):
    array = np.array(array)
    array.setflags(write=False)
    return array


@pytest.mark.nojit
@pytest.mark.parametrize("weight_shape, groups", [((4, 2, 3, 3), 1), ((4, 1, 2, 3), 2)],
                         ids=["im2col", "direct"])
def test_fast_kernels_take_read_only_arrays(weight_shape, groups):
    # the phase copies read or wrote one argument depending on a flag, so Numba typed the
    # input plane as written: "Cannot modify readonly array" for any read-only input
    rng = np.random.default_rng(0)
    x, weight = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal(weight_shape)
    bias = rng.standard_normal(weight_shape[0])
    settings = ((2, 1), ((1, 0), (2, 1)), (1, 2), groups)
    out = K.conv2d_forward(x, weight, bias, *settings)
    grad_out = rng.standard_normal(out.shape)
    expected = (out,) + K.conv2d_backward(x, weight, grad_out, *settings)
    x, weight, bias, grad_out = map(_read_only, (x, weight, bias, grad_out))
    got = (K.conv2d_forward(x, weight, bias, *settings),) + K.conv2d_backward(
        x, weight, grad_out, *settings)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    cols = K.im2col(x, (3, 3), (1, 2), ((1, 1), (0, 0)), (1, 1))
    np.testing.assert_array_equal(K.col2im(_read_only(cols), x.shape, (3, 3), (1, 2),
                                           ((1, 1), (0, 0)), (1, 1)),
                                  K.col2im(cols, x.shape, (3, 3), (1, 2), ((1, 1), (0, 0)), (1, 1)))


# ----------------------------------------------------------------------------- large settings


@pytest.mark.nojit
@pytest.mark.parametrize("stride", [(7, 7), (20_000, 3), (10**5, 10**5), (2**31 - 1, 1)])
def test_the_phase_buffer_is_bounded_by_the_padded_plane(stride):
    # The phases used to be padded to a stride multiple, stride[0] * stride[1] cells at least
    # (1.7 GB at stride 20,000); phases that hold no cell and that no tap reads are not kept.
    padding = ((1, 0), (0, 2))
    layout = K._phase_layout((1, 4, 7, 7), stride, padding)
    padded_h, padded_w = 8, 9
    assert K._phases_size(layout) <= 2 * padded_h * 2 * padded_w + layout[3]


@st.composite
def sparse_geometries(draw):
    """Geometries with strides, paddings and dilations far beyond the input, so that the
    gathered path (and phases clipped to the padded plane) is what runs."""
    c_in = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, c_in]))
    c_out = groups * draw(st.integers(1, 2))
    hw = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    dilation = (draw(st.integers(1, 15)), draw(st.integers(1, 15)))
    padding = tuple((draw(st.integers(0, 40)), draw(st.integers(0, 40))) for _ in range(2))
    assume(all(d * (k - 1) + 1 <= n + sum(p)
                          for n, k, d, p in zip(hw, kernel, dilation, padding)))
    return dict(x_shape=(draw(st.integers(0, 2)), c_in) + hw,
                weight_shape=(c_out, c_in // groups) + kernel,
                stride=stride, padding=padding, dilation=dilation, groups=groups)


@given(geometry=sparse_geometries(), seed=st.integers(0, 2**16))
def test_far_apart_taps_equal_reference(geometry, seed):
    x, weight, bias, grad_out, settings = _arrays(geometry, np.float64, seed)
    np.testing.assert_allclose(K.conv2d_forward(x, weight, bias, *settings),
                               K.conv2d_forward_reference(x, weight, bias, *settings),
                               rtol=1e-10, atol=1e-10)
    for fast, reference in zip(K.conv2d_backward(x, weight, grad_out, *settings),
                               K.conv2d_backward_reference(x, weight, grad_out, *settings)):
        np.testing.assert_allclose(fast, reference, rtol=1e-10, atol=1e-10)


def test_only_mostly_unread_axes_are_gathered():
    # padding 40 and stride 40 around 5 rows: 3 outputs read 9 cells of an 85-cell axis
    sparse, stride, padding, dilation = K._sparse_geometry(
        (1, 1, 5, 5), (3, 3), (40, 1), ((40, 40), (1, 1)), (1, 1))
    assert [axis for axis, _ in sparse] == [2]
    np.testing.assert_array_equal(sparse[0][1], [-40, -39, -38, 0, 1, 2, 40, 41, 42])
    assert (stride, padding, dilation) == ((3, 1), ((0, 0), (1, 1)), (1, 1))
    # an ordinary layer never takes the gathered path
    assert K._sparse_geometry((1, 1, 32, 32), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1))[0] == []


# ----------------------------------------------------------------------------- transposed


def _transposed_arrays(geometry, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(geometry["x_shape"]).astype(dtype)
    weight = rng.standard_normal(geometry["weight_shape"]).astype(dtype)
    bias = rng.standard_normal(weight.shape[1] * geometry["groups"]).astype(dtype)
    padding = tuple((p, p) for p in geometry["padding"])
    return x, weight, bias, (geometry["stride"], padding, geometry["output_padding"],
                             geometry["dilation"], geometry["groups"])


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.conv_transpose2d_forward_reference,
                                     K.conv_transpose2d_forward])
def test_transposed_forward_by_hand(forward):
    # stride 2, 2x2 kernel: every input cell stamps kernel * value on its own 2x2 block;
    # padding (1, 0) cuts a row off top and bottom; output_padding 1 adds a zero column
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    weight = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    full = np.kron(x[0, 0], weight[0, 0])
    out = forward(x, weight, np.array([0.5]), (2, 2), ((1, 1), (0, 0)), (0, 1), (1, 1), 1)
    expected = np.concatenate([full[1:3], np.zeros((2, 1))], axis=1) + 0.5
    np.testing.assert_array_equal(out[0, 0], expected)


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.conv_transpose2d_forward_reference,
                                     K.conv_transpose2d_forward])
def test_transposed_grouped_by_hand(forward):
    # groups=2: input channel 0 feeds output channels 0-1 only, channel 1 feeds 2-3
    x = np.array([1.0, 2.0]).reshape(1, 2, 1, 1)
    weight = np.arange(1.0, 5.0).reshape(2, 2, 1, 1)  # [[1, 2], [3, 4]]
    out = forward(x, weight, None, (1, 1), NO_PAD, (0, 0), (1, 1), 2)
    np.testing.assert_array_equal(out.ravel(), [1.0, 2.0, 6.0, 8.0])


@given(geometry=conv_transpose_geometries(), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
def test_fast_transposed_forward_equals_reference(geometry, dtype, seed):
    x, weight, bias, settings = _transposed_arrays(geometry, dtype, seed)
    for b in (bias, None):
        expected = K.conv_transpose2d_forward_reference(x, weight, b, *settings)
        out = K.conv_transpose2d_forward(x, weight, b, *settings)
        assert out.dtype == dtype and out.shape == expected.shape
        np.testing.assert_allclose(out, expected, **_tolerance(dtype))


@given(geometry=conv_transpose_geometries(), seed=st.integers(0, 2**16))
def test_transposed_backward_is_the_adjoint_of_the_forward(geometry, seed):
    # the forward is linear in x and in weight: <T(x, w), g> = <x, dx> = <w, dweight>
    x, weight, _, settings = _transposed_arrays(geometry, np.float64, seed)
    stride, padding, output_padding, dilation, groups = settings
    out = K.conv_transpose2d_forward_reference(x, weight, None, *settings)
    grad_out = np.random.default_rng(seed + 1).standard_normal(out.shape)
    dx, dweight, dbias = K.conv_transpose2d_backward(x, weight, grad_out, stride, padding,
                                                     dilation, groups)
    assert dx.shape == x.shape and dweight.shape == weight.shape
    inner = np.sum(out * grad_out)
    np.testing.assert_allclose(np.sum(x * dx), inner, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.sum(weight * dweight), inner, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dbias, grad_out.sum(axis=(0, 2, 3)), rtol=1e-12)
    assert K.conv_transpose2d_backward(x, weight, grad_out, stride, padding, dilation, groups,
                                       needs=(False, False, True))[:2] == (None, None)
