"""Pooling kernels: the Numba kernels equal the plain-loop references, argmax conventions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.kernels import pool as K
from minicnn.kernels.geometry import output_size, resolve_padding
from tests.pool_strategies import dilated_pool_settings
from tests.strategies import pool_settings


def geometry(shape, kernel_size, stride, padding, ceil_mode):
    """``(kernel_hw, stride_hw, padding, out_hw)`` as the kernels take them."""
    stride = kernel_size if stride is None else stride
    pads = resolve_padding(padding, shape[2:], kernel_size, stride)
    out_hw = tuple(output_size(n, k, s, before, after, ceil_mode=ceil_mode)
                   for n, k, s, (before, after) in zip(shape[2:], kernel_size, stride, pads))
    return kernel_size, stride, pads, out_hw


def pair_of(v):
    return v if isinstance(v, tuple) else (v, v)


def draw_input(data, shape, dtype, ties):
    """Random values; with ``ties``, small integers so most windows hold equal maxima."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 3, size=shape) if ties else rng.standard_normal(shape)
    return values.astype(dtype)


@given(pool_settings(), st.sampled_from([np.float64, np.float32]), st.booleans(), st.data())
def test_max_pool_fast_equals_reference(settings, dtype, ties, data):
    shape, kwargs = settings
    x = draw_input(data, shape, dtype, ties)
    geo = geometry(shape, **kwargs)
    out_ref, argmax_ref = K.max_pool2d_forward_reference(x, *geo)
    out, argmax = K.max_pool2d_forward(x, *geo)
    # A max is exact in any dtype, and both scan each window in the same order.
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    assert out.dtype == dtype and argmax.dtype == np.int64

    grad_out = draw_input(data, out.shape, dtype, ties=False)
    grad_ref = K.max_pool2d_backward_reference(grad_out, argmax_ref, shape[2:])
    grad = K.max_pool2d_backward(grad_out, argmax, shape[2:])
    np.testing.assert_array_equal(grad, grad_ref)  # same additions in the same order
    assert grad.dtype == dtype


@given(pool_settings(), st.sampled_from([np.float64, np.float32]), st.booleans(), st.data())
def test_avg_pool_fast_equals_reference(settings, dtype, count_include_pad, data):
    shape, kwargs = settings
    x = draw_input(data, shape, dtype, ties=False)
    geo = geometry(shape, **kwargs)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    out_ref = K.avg_pool2d_forward_reference(x, *geo, count_include_pad)
    out = K.avg_pool2d_forward(x, *geo, count_include_pad)
    np.testing.assert_allclose(out, out_ref, rtol=rtol, atol=rtol)
    assert out.dtype == dtype

    grad_out = draw_input(data, out.shape, dtype, ties=False)
    kernel_hw, stride_hw, pads, _ = geo
    grad_ref = K.avg_pool2d_backward_reference(grad_out, shape[2:], kernel_hw, stride_hw, pads,
                                               count_include_pad)
    grad = K.avg_pool2d_backward(grad_out, shape[2:], kernel_hw, stride_hw, pads,
                                 count_include_pad)
    np.testing.assert_allclose(grad, grad_ref, rtol=rtol, atol=rtol)
    assert grad.dtype == dtype


@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
       st.integers(1, 10), st.integers(1, 10), st.sampled_from([np.float64, np.float32]),
       st.data())
def test_adaptive_avg_pool_fast_equals_reference(shape, oh, ow, dtype, data):
    x = draw_input(data, shape, dtype, ties=False)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    out = K.adaptive_avg_pool2d_forward(x, (oh, ow))
    np.testing.assert_allclose(out, K.adaptive_avg_pool2d_forward_reference(x, (oh, ow)),
                               rtol=rtol, atol=rtol)
    grad_out = draw_input(data, out.shape, dtype, ties=False)
    grad = K.adaptive_avg_pool2d_backward(grad_out, shape[2:])
    np.testing.assert_allclose(grad, K.adaptive_avg_pool2d_backward_reference(grad_out, shape[2:]),
                               rtol=rtol, atol=rtol)
    assert out.dtype == grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(2, 3, 7, 7), (1, 2, 1, 5), (3, 1, 4, 1)])
def test_global_avg_pool_fast_path_equals_reference(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    out = K.adaptive_avg_pool2d_forward(x, (1, 1))
    np.testing.assert_allclose(out, K.adaptive_avg_pool2d_forward_reference(x, (1, 1)), rtol=rtol)
    grad_out = rng.standard_normal(out.shape).astype(dtype)
    grad = K.adaptive_avg_pool2d_backward(grad_out, shape[2:])
    np.testing.assert_allclose(grad, K.adaptive_avg_pool2d_backward_reference(grad_out, shape[2:]),
                               rtol=rtol)
    assert out.dtype == grad.dtype == dtype and grad.flags.writeable


def test_adaptive_bins_are_pytorchs():
    # 5 -> 3: floor(i * 5 / 3) .. ceil((i + 1) * 5 / 3): overlapping bins [0, 2), [1, 4), [3, 5)
    assert K.adaptive_pool_bins(5, 3) == [(0, 2), (1, 4), (3, 5)]
    assert K.adaptive_pool_bins(4, 2) == [(0, 2), (2, 4)]
    assert K.adaptive_pool_bins(7, 1) == [(0, 7)]
    assert K.adaptive_pool_bins(2, 4) == [(0, 1), (0, 1), (1, 2), (1, 2)]  # upsampling repeats


# ----------------------------------------------------------------------------- small, also run
# with NUMBA_DISABLE_JIT=1 (the fast kernels are plain Python underneath)

SMALL_CASES = [  # (shape, kernel, stride, padding, ceil_mode): overlap, padding, ceil, 'same'
    ((1, 2, 5, 5), (3, 3), (2, 2), 0, False),
    ((2, 1, 4, 5), (2, 3), (1, 2), (1, 1), True),
    ((1, 1, 5, 4), (3, 2), (2, 2), "same", False),
    ((1, 1, 6, 6), (2, 2), (2, 2), ((1, 0), (0, 1)), True),
]


@pytest.mark.nojit
@pytest.mark.parametrize("shape, kernel, stride, padding, ceil_mode", SMALL_CASES)
def test_fast_kernels_equal_reference_small(shape, kernel, stride, padding, ceil_mode):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    geo = geometry(shape, kernel, stride, padding, ceil_mode)
    out, argmax = K.max_pool2d_forward(x, *geo)
    out_ref, argmax_ref = K.max_pool2d_forward_reference(x, *geo)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    g = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(K.max_pool2d_backward(g, argmax, shape[2:]),
                                  K.max_pool2d_backward_reference(g, argmax_ref, shape[2:]))
    for include in (True, False):
        np.testing.assert_allclose(K.avg_pool2d_forward(x, *geo, include),
                                   K.avg_pool2d_forward_reference(x, *geo, include), rtol=1e-12)
        np.testing.assert_allclose(
            K.avg_pool2d_backward(g, shape[2:], *geo[:3], include),
            K.avg_pool2d_backward_reference(g, shape[2:], *geo[:3], include), rtol=1e-12)


@pytest.mark.parametrize("min_work", [0, 2**62], ids=["all threads", "one thread"])
@pytest.mark.parametrize("shape, kernel, stride, padding, ceil_mode", SMALL_CASES[:2])
def test_all_threads_and_one_thread_equal_reference(shape, kernel, stride, padding, ceil_mode,
                                                    min_work, monkeypatch):
    # The work decides how many threads a kernel gets: force each way in turn (small inputs
    # would otherwise never run the parallel loops).
    monkeypatch.setattr(K, "PARALLEL_MIN_WORK", min_work)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3,) + shape[1:])
    geo = geometry(x.shape, kernel, stride, padding, ceil_mode)
    out, argmax = K.max_pool2d_forward(x, *geo)
    out_ref, argmax_ref = K.max_pool2d_forward_reference(x, *geo)
    np.testing.assert_array_equal(argmax, argmax_ref)
    g = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(K.max_pool2d_backward(g, argmax, shape[2:]),
                                  K.max_pool2d_backward_reference(g, argmax_ref, shape[2:]))
    np.testing.assert_allclose(K.avg_pool2d_forward(x, *geo, True),
                               K.avg_pool2d_forward_reference(x, *geo, True), rtol=1e-12)
    np.testing.assert_allclose(K.avg_pool2d_backward(g, shape[2:], *geo[:3], False),
                               K.avg_pool2d_backward_reference(g, shape[2:], *geo[:3], False),
                               rtol=1e-12)


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.max_pool2d_forward, K.max_pool2d_forward_reference])
def test_max_pool_ties_pick_first_in_scan_order(forward):
    x = np.array([[0., 5., 2., 2.],
                  [5., 1., 2., 2.],
                  [3., 3., 1., 1.],
                  [3., 3., 1., 1.]])[None, None]
    out, argmax = forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)), (2, 2))
    np.testing.assert_array_equal(out[0, 0], [[5, 2], [3, 1]])
    # (0, 1) before (1, 0); (0, 2) before the other 2s; (2, 0) before the other 3s; ...
    np.testing.assert_array_equal(argmax[0, 0], [[1, 2], [8, 10]])


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.max_pool2d_forward, K.max_pool2d_forward_reference])
def test_max_pool_propagates_nan_and_handles_minus_infinity(forward):
    x = np.array([[1.0, np.nan, -np.inf, -np.inf],
                  [2.0, 0.5, -np.inf, -np.inf]])[None, None]
    # padding 1 left and right: the outer windows hold padded cells, which must never win
    out, argmax = forward(x, (2, 2), (2, 2), ((0, 0), (1, 1)), (1, 3))
    assert np.isnan(out[0, 0, 0, 1])  # NaN wins, as in PyTorch
    np.testing.assert_array_equal(out[0, 0, 0, [0, 2]], [2.0, -np.inf])
    # an all -inf window picks its first real cell, never padding
    np.testing.assert_array_equal(argmax[0, 0, 0], [4, 1, 3])


def test_max_pool_argmax_equals_torch_indices():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).integers(0, 3, size=(2, 3, 7, 6)).astype(np.float32)  # ties
    for kernel, stride, padding, ceil_mode in [(3, 2, 1, True), ((2, 3), (1, 2), (1, 0), False),
                                               (2, 2, 0, True)]:
        geo = geometry(x.shape, pair_of(kernel), pair_of(stride), padding, ceil_mode)
        out, argmax = K.max_pool2d_forward(x, *geo)
        t_out, t_index = torch.nn.functional.max_pool2d(
            torch.tensor(x), kernel, stride, padding, ceil_mode=ceil_mode, return_indices=True)
        np.testing.assert_array_equal(out, t_out.numpy())
        np.testing.assert_array_equal(argmax, t_index.numpy())


@pytest.mark.nojit
def test_fast_kernels_take_read_only_arrays():
    def read_only(array):
        array = np.array(array)
        array.setflags(write=False)
        return array

    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 7.0
    settings = ((3, 2), (2, 1), ((1, 1), (1, 0)))
    out_hw = tuple(output_size(n, k, s, *p) for n, k, s, p in zip((5, 6), *settings))
    out, argmax = K.max_pool2d_forward(x, *settings, out_hw)
    grad = rng.standard_normal(out.shape)
    for got, expected in [
        (K.max_pool2d_forward(read_only(x), *settings, out_hw), (out, argmax)),
        ((K.max_pool2d_backward(read_only(grad), read_only(argmax), (5, 6)),),
         (K.max_pool2d_backward(grad, argmax, (5, 6)),)),
        ((K.avg_pool2d_forward(read_only(x), *settings, out_hw, True),),
         (K.avg_pool2d_forward(x, *settings, out_hw, True),)),
        ((K.avg_pool2d_backward(read_only(grad), (5, 6), *settings, False),),
         (K.avg_pool2d_backward(grad, (5, 6), *settings, False),)),
        ((K.adaptive_avg_pool2d_forward(read_only(x), (2, 4)),),
         (K.adaptive_avg_pool2d_forward(x, (2, 4)),)),
        ((K.adaptive_avg_pool2d_backward(read_only(grad), (5, 6)),),
         (K.adaptive_avg_pool2d_backward(grad, (5, 6)),)),
    ]:
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


# ----------------------------------------------------------------------------- dilation,
# adaptive max, unpooling


def dilated_geometry(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """``(kernel_hw, stride_hw, padding, out_hw, dilation_hw)`` as the kernels take them."""
    pads = resolve_padding(padding, shape[2:], kernel_size, stride, dilation)
    out_hw = tuple(output_size(n, k, s, before, after, d, ceil_mode=ceil_mode)
                   for n, k, s, (before, after), d in zip(shape[2:], kernel_size, stride, pads,
                                                          dilation))
    return kernel_size, stride, pads, out_hw, dilation


@given(dilated_pool_settings(), st.sampled_from([np.float64, np.float32]), st.booleans(),
       st.data())
def test_dilated_max_pool_fast_equals_reference(settings, dtype, ties, data):
    shape, kwargs = settings
    x = draw_input(data, shape, dtype, ties)
    geo = dilated_geometry(shape, **kwargs)
    out_ref, argmax_ref = K.max_pool2d_forward_reference(x, *geo)
    out, argmax = K.max_pool2d_forward(x, *geo)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    assert out.dtype == dtype and argmax.dtype == np.int64


DILATED_CASES = [  # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((1, 2, 7, 7), (3, 3), (2, 2), (1, 1), (2, 2), False),
    ((2, 1, 6, 9), (2, 3), (1, 2), (1, 0), (3, 2), True),
    ((1, 1, 5, 8), (3, 2), (2, 3), (0, 1), (1, 3), True),
]


@pytest.mark.nojit
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation, ceil_mode", DILATED_CASES)
def test_dilated_max_pool_fast_equals_reference_small(shape, kernel, stride, padding, dilation,
                                                       ceil_mode):
    x = np.random.default_rng(0).integers(0, 3, size=shape).astype(np.float64)  # ties
    geo = dilated_geometry(shape, kernel, stride, padding, dilation, ceil_mode)
    out, argmax = K.max_pool2d_forward(x, *geo)
    out_ref, argmax_ref = K.max_pool2d_forward_reference(x, *geo)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)


@pytest.mark.nojit
def test_dilated_window_by_hand():
    # one row 0..6, kernel 3, dilation 2, padding 1, stride 2: taps {-1, 1, 3}, {1, 3, 5},
    # {3, 5, 7}: the real cells 1, 3 / 1, 3, 5 / 3, 5 (7 and -1 are padding)
    x = np.array([[[[0.0, 1, 2, 3, 4, 5, 6]]]])
    out, argmax = K.max_pool2d_forward(x, (1, 3), (1, 2), ((0, 0), (1, 1)), (1, 3), (1, 2))
    np.testing.assert_array_equal(out[0, 0, 0], [3, 5, 5])
    np.testing.assert_array_equal(argmax[0, 0, 0], [3, 5, 5])


@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
       st.integers(1, 10), st.integers(1, 10), st.sampled_from([np.float64, np.float32]),
       st.booleans(), st.data())
def test_adaptive_max_pool_fast_equals_reference(shape, oh, ow, dtype, ties, data):
    x = draw_input(data, shape, dtype, ties)
    out, argmax = K.adaptive_max_pool2d_forward(x, (oh, ow))
    out_ref, argmax_ref = K.adaptive_max_pool2d_forward_reference(x, (oh, ow))
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    assert out.dtype == dtype and argmax.dtype == np.int64


@pytest.mark.nojit
def test_adaptive_max_pool_ties_nan_and_overlap_small():
    x = np.array([[[[1.0, 2, 2], [2, np.nan, 0], [np.nan, 2, 2]]]])
    # 3 -> 2 rows/cols: overlapping bins [0, 2), [1, 3)
    out, argmax = K.adaptive_max_pool2d_forward(x, (2, 2))
    out_ref, argmax_ref = K.adaptive_max_pool2d_forward_reference(x, (2, 2))
    np.testing.assert_array_equal(argmax, argmax_ref)
    np.testing.assert_array_equal(out, out_ref)
    np.testing.assert_array_equal(argmax[0, 0], [[4, 4], [6, 4]])  # a NaN wins, the last one
    x = np.array([[[[1.0, 2, 2], [2, 0, 0]]]])  # ties: the first maximum in scan order
    np.testing.assert_array_equal(K.adaptive_max_pool2d_forward(x, (1, 2))[1][0, 0], [[1, 1]])


@pytest.mark.nojit
def test_max_unpool_scatters_and_its_backward_gathers():
    x = np.array([[[[1.0, 2], [3, 4]]]])
    indices = np.array([[[[0, 3], [9, 14]]]])
    out = K.max_unpool2d_forward(x, indices, (4, 4))
    expected = np.zeros(16)
    expected[[0, 3, 9, 14]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(out.reshape(-1), expected)
    g = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(K.max_unpool2d_backward(g, indices), [[[[0, 3], [9, 14]]]])
    # a repeated index keeps the last value in scan order; every source gets the gradient
    out = K.max_unpool2d_forward(x, np.array([[[[5, 5], [5, 1]]]]), (2, 4))
    np.testing.assert_array_equal(out.reshape(-1), [0, 4, 0, 0, 0, 3, 0, 0])
