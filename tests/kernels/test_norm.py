"""Batch-norm kernels: hand-computed cases, fast == reference on drawn shapes (float64
tight, float32 with a tolerance; on one thread and in parallel), float32 accuracy with a
large mean, gradient identities."""

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.kernels import norm as K
from tests.strategies import arrays, distinct_arrays



@contextlib.contextmanager
def parallel_from(size):
    """Temporarily set the input size from which the fast kernels run in parallel."""
    saved = K.PARALLEL_MIN_SIZE
    K.PARALLEL_MIN_SIZE = size
    try:
        yield
    finally:
        K.PARALLEL_MIN_SIZE = saved


def fast_both_ways(kernel, *args):
    """The fast kernel's results on one thread and in parallel (small drawn inputs would
    otherwise never take the parallel path)."""
    with parallel_from(np.inf):
        one_thread = kernel(*args)
    with parallel_from(0):
        parallel = kernel(*args)
    return one_thread, parallel


@st.composite
def nlc_shapes(draw):
    """(N, C, L) with N * L >= 2 (one value per channel has no variance)."""
    n, c, length = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    if n * length == 1:
        n = 2
    return n, c, length


def _kernel_inputs(data, shape, dtype):
    """x, grad, and per-channel mean, invstd, scale, shift (float64) for ``shape``."""
    x = data.draw(arrays(shape, -2.0, 2.0, dtype=dtype))
    grad = data.draw(arrays(shape, -1.0, 1.0, dtype=dtype))
    channels = shape[1]
    mean = data.draw(arrays((channels,), -1.0, 1.0))
    invstd = data.draw(arrays((channels,), 0.5, 2.0))
    scale = invstd * data.draw(arrays((channels,), -2.0, 2.0))
    shift = data.draw(arrays((channels,), -1.0, 1.0))
    return x, grad, mean, invstd, scale, shift


# ----------------------------------------------------------------------------- golden cases


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.batch_norm_forward_reference, K.batch_norm_forward])
def test_forward_with_batch_statistics_by_hand(forward):
    # channel 0 holds 1, 2, 3, 4 (mean 2.5, biased variance 1.25), channel 1 10, 10, 10, 14
    # (mean 11, variance (1 + 1 + 1 + 9) / 4 = 3).
    x = np.array([[[1.0, 2.0], [10.0, 10.0]],
                  [[3.0, 4.0], [10.0, 14.0]]])  # (N=2, C=2, L=2)
    mean, var = np.full(2, np.nan), np.full(2, np.nan)  # outputs
    out = forward(x, mean, var, np.array([2.0, 1.0]), np.array([0.0, 5.0]), 0.0, True)
    np.testing.assert_allclose(mean, [2.5, 11.0], rtol=1e-15)
    np.testing.assert_allclose(var, [1.25, 3.0], rtol=1e-15)
    np.testing.assert_allclose(out[:, 0], 2 * (x[:, 0] - 2.5) / np.sqrt(1.25), rtol=1e-15)
    np.testing.assert_allclose(out[:, 1], (x[:, 1] - 11) / np.sqrt(3) + 5, rtol=1e-15)


@pytest.mark.nojit
@pytest.mark.parametrize("forward", [K.batch_norm_forward_reference, K.batch_norm_forward])
def test_forward_with_given_statistics_by_hand(forward):
    x = np.array([[[1.0, 2.0], [3.0, 5.0]]])  # (1, 2, 2)
    mean, var = np.array([1.0, 3.0]), np.array([0.25, 16.0])  # std 0.5 and 4
    out = forward(x, mean, var, np.array([1.0, 2.0]), np.array([0.0, -1.0]), 0.0, False)
    np.testing.assert_allclose(out, [[[0.0, 2.0], [-1.0, 0.0]]], rtol=1e-15)
    np.testing.assert_array_equal(mean, [1.0, 3.0])  # inputs here, left alone
    np.testing.assert_array_equal(var, [0.25, 16.0])


@pytest.mark.nojit
@pytest.mark.parametrize("backward", [K.batch_norm_backward_reference, K.batch_norm_backward])
def test_backward_by_hand(backward):
    # One channel, values 1 and 3: mean 2, var 1, xhat = (-1, 1) (eps taken as 0 here).
    x = np.array([[[1.0]], [[3.0]]])  # (N=2, C=1, L=1)
    grad = np.array([[[1.0]], [[0.0]]])
    mean, invstd, scale = np.array([2.0]), np.array([1.0]), np.array([3.0])  # weight 3
    grad_x, grad_weight, grad_bias = backward(grad, x, mean, invstd, scale, True, True)
    np.testing.assert_allclose(grad_bias, [1.0])  # sum(g)
    np.testing.assert_allclose(grad_weight, [-1.0])  # sum(g * xhat)
    # dx = w * invstd / M * (M g - sum g - xhat sum(g xhat)) = 3/2 * ((2, 0) - 1 - (-1, 1)(-1))
    np.testing.assert_allclose(grad_x.ravel(), [0.0, 0.0], atol=1e-15)
    grad_x, _, _ = backward(grad, x, mean, invstd, scale, False, True)  # fixed statistics
    np.testing.assert_allclose(grad_x.ravel(), [3.0, 0.0])
    grad_x, _, _ = backward(grad, x, mean, invstd, scale, True, False)
    assert grad_x.shape == (0, 0, 0)


# ----------------------------------------------------------------------------- fast == reference


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@given(shape=nlc_shapes(), batch_stats=st.booleans(), data=st.data())
def test_forward_fast_equals_reference(dtype, rtol, shape, batch_stats, data):
    x, _, mean, invstd, weight, bias = _kernel_inputs(data, shape, dtype)
    var = 1 / invstd ** 2
    expected_stats = mean.copy(), var.copy()
    expected = K.batch_norm_forward_reference(x, *expected_stats, weight, bias, 1e-5,
                                              batch_stats)
    for parallel in (False, True):
        stats = mean.copy(), var.copy()
        with parallel_from(0 if parallel else np.inf):
            out = K.batch_norm_forward(x, *stats, weight, bias, 1e-5, batch_stats)
        assert out.dtype == dtype
        np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)
        for a, b in zip(expected_stats, stats):
            assert b.dtype == np.float64  # statistics are float64 for any input
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@given(shape=nlc_shapes(), batch_stats=st.booleans(), want_grad_x=st.booleans(),
       data=st.data())
def test_backward_fast_equals_reference(dtype, rtol, shape, batch_stats, want_grad_x, data):
    x, grad, mean, invstd, scale, _ = _kernel_inputs(data, shape, dtype)
    expected = K.batch_norm_backward_reference(grad, x, mean, invstd, scale, batch_stats,
                                               want_grad_x)
    for result in fast_both_ways(K.batch_norm_backward, grad, x, mean, invstd, scale,
                                 batch_stats, want_grad_x):
        assert result[0].dtype == dtype
        assert result[0].shape == (shape if want_grad_x else (0, 0, 0))
        for a, b in zip(expected, result):
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("shape", [(3, 7, 100), (2, 300, 1), (2, 5, 300), (4, 130, 2)])
@pytest.mark.parametrize("batch_stats", [True, False])
def test_fast_equals_reference_across_channel_blocks(rng, shape, batch_stats):
    # The fast kernels hand each task a block of channels spanning >= CONTIGUOUS_RUN values
    # per sample; these shapes give several blocks (of one channel when L is long), the
    # last one partial where the block size does not divide C.
    channels, length = shape[1], shape[2]
    assert channels > max(1, K.CONTIGUOUS_RUN // length)
    x = rng.uniform(-2, 2, shape)
    grad = rng.uniform(-1, 1, shape)
    weight, bias = rng.uniform(0.5, 2, channels), rng.uniform(-1, 1, channels)
    given_mean, given_var = rng.uniform(-1, 1, channels), rng.uniform(0.5, 2, channels)
    expected_stats = given_mean.copy(), given_var.copy()
    expected = K.batch_norm_forward_reference(x, *expected_stats, weight, bias, 1e-5,
                                              batch_stats)
    stats = given_mean.copy(), given_var.copy()
    with parallel_from(0):
        out = K.batch_norm_forward(x, *stats, weight, bias, 1e-5, batch_stats)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    for a, b in zip(expected_stats, stats):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    invstd = 1 / np.sqrt(stats[1] + 1e-5)
    expected = K.batch_norm_backward_reference(grad, x, stats[0], invstd, weight * invstd,
                                               batch_stats, True)
    with parallel_from(0):
        result = K.batch_norm_backward(grad, x, stats[0], invstd, weight * invstd,
                                       batch_stats, True)
    for a, b in zip(expected, result):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-12)


# ----------------------------------------------------------------------------- properties


def test_float32_statistics_accurate_with_a_large_mean(rng):
    # Mean 1e4, std 1: E[x^2] - E[x]^2 naively in float32 would lose every digit.
    # Large enough (3 * 2**15 elements) to take the parallel path by default.
    x = (1e4 + rng.standard_normal((32, 3, 1024))).astype(np.float32)
    assert x.size >= K.PARALLEL_MIN_SIZE
    mean, var = np.empty(3), np.empty(3)
    K.batch_norm_forward(x, mean, var, np.ones(3), np.zeros(3), 1e-5, True)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2)), rtol=1e-13)
    np.testing.assert_allclose(var, x64.var(axis=(0, 2)), rtol=1e-9)


@given(shape=nlc_shapes(), data=st.data())
def test_training_grad_x_is_orthogonal_to_the_normalisation(shape, data):
    # y is invariant to shifting x[:, c] and to scaling x[:, c] - mean (at eps = 0), so dx
    # sums to zero per channel and is orthogonal to xhat.
    x = data.draw(distinct_arrays(shape, -2.0, 2.0))
    grad = data.draw(arrays(shape, -1.0, 1.0))
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    invstd = 1 / np.sqrt(var)
    scale = invstd * data.draw(arrays((shape[1],), 0.5, 2.0))
    grad_x, _, _ = K.batch_norm_backward(grad, x, mean, invstd, scale, True, True)
    xhat = (x - mean[:, None]) * invstd[:, None]
    size = np.abs(grad_x).max() + 1
    np.testing.assert_allclose(grad_x.sum(axis=(0, 2)), 0, atol=1e-12 * size * x.size)
    np.testing.assert_allclose((grad_x * xhat).sum(axis=(0, 2)), 0, atol=1e-12 * size * x.size)


def _read_only(array):
    array = np.array(array)
    array.setflags(write=False)
    return array


@pytest.mark.nojit
@pytest.mark.parametrize("batch_stats", [True, False])
def test_fast_kernels_take_read_only_arrays(rng, batch_stats):
    # given statistics are only read, but the kernel's writes (in the batch_stats branch)
    # made Numba refuse read-only ones
    x = rng.standard_normal((3, 4, 5))
    given_mean, given_var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    weight, bias = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    mean, var = given_mean.copy(), given_var.copy()
    expected = K.batch_norm_forward(x, mean, var, weight, bias, 1e-5, batch_stats)
    read_only = [_read_only(a) for a in (x, weight, bias)]
    if batch_stats:  # outputs: they stay writable
        got = K.batch_norm_forward(read_only[0], np.empty(4), np.empty(4), *read_only[1:], 1e-5,
                                   True)
    else:
        got = K.batch_norm_forward(read_only[0], _read_only(given_mean), _read_only(given_var),
                                   *read_only[1:], 1e-5, False)
    np.testing.assert_array_equal(got, expected)
    invstd = 1 / np.sqrt(var + 1e-5)
    grad = rng.standard_normal(x.shape)
    expected = K.batch_norm_backward(grad, x, mean, invstd, weight * invstd, batch_stats, True)
    got = K.batch_norm_backward(*map(_read_only, (grad, x, mean, invstd, weight * invstd)),
                                batch_stats, True)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
