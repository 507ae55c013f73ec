"""Batch normalisation kernels: the forward pass (with the batch statistics) and the backward.

Every kernel sees the input as ``x (N, C, L)``: a batch of N samples, C channels, and L
values per channel and sample (L = H * W for images, L = 1 for a (N, C) batch of features).
Channel ``c`` is normalised over its ``M = N * L`` values ``x[:, c, :]``; in training the
statistics are the batch's own (the variance biased, divided by M)::

    mean_c = sum(x[:, c, :]) / M
    var_c  = sum((x[:, c, :] - mean_c) ** 2) / M
    y      = (x - mean_c) * invstd_c * weight_c + bias_c,     invstd = 1 / sqrt(var + eps)

The backward pass needs two sums per channel, then one more sweep to write ``dx``
(``g`` is dL/dy, ``xhat = (x - mean) * invstd``, ``scale = weight * invstd``)::

    sum_g    = sum(g)                                          (= dL/d bias)
    sum_gx   = sum(g * xhat)                                   (= dL/d weight)
    dx       = scale * (g - sum_g / M - xhat * sum_gx / M)    with batch statistics
    dx       = scale * g                                       with fixed (running) statistics

Each function comes twice: ``*_reference`` is the textbook computation in plain loops (read
it first); the fast version computes the same thing and is tested against it. The fast
versions are compiled by Numba, one channel per thread (``prange`` over C, so no two
threads write the same element), and read each channel from memory once per pass: the
statistics and then the output (the gradient's two sums and then dx) are computed while
the channel is in cache. Their sums are float64 whatever the input dtype, so float32
inputs keep float32 accuracy. Inputs smaller than ``PARALLEL_MIN_SIZE`` elements run on one
thread: waking the others would cost more than the work.
"""

import numpy as np
from numba import njit, prange

from .threads import launch

__all__ = ["batch_norm_forward_reference", "batch_norm_forward",
           "batch_norm_backward_reference", "batch_norm_backward", "PARALLEL_MIN_SIZE"]

# Below this many elements a kernel runs on one thread (see ``threads.py``).
PARALLEL_MIN_SIZE = 1 << 15

# Each parallel task of the fast kernels takes a block of channels whose values in one
# sample form a contiguous run of at least this many elements (the columns [lo, hi) of x
# seen as (N, C*L)): one channel of an image (L = H * W), but many channels of an (N, C)
# input (L = 1), which would otherwise be read one strided column at a time.
CONTIGUOUS_RUN = 256


# ----------------------------------------------------------------------------- forward


def batch_norm_forward_reference(x, mean, var, weight, bias, eps, batch_stats):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias``, each statistic per channel.

    Parameters
    ----------
    x : ndarray, shape (N, C, L)
    mean, var : float64 ndarrays, shape (C,)
        The statistics to normalise with. With ``batch_stats`` they are outputs instead:
        overwritten with this batch's mean and biased variance, computed first.
    weight, bias : float64 ndarrays, shape (C,)
    eps : float
    batch_stats : bool

    Returns
    -------
    ndarray, shape (N, C, L), dtype of ``x`` (computed in float64, then rounded)
    """
    n_samples, channels, length = x.shape
    count = n_samples * length
    if batch_stats:
        for c in range(channels):  # the textbook two sweeps: the mean, then the variance
            total = 0.0
            for n in range(n_samples):
                for i in range(length):
                    total += float(x[n, c, i])  # a float64 sum, also for float32 x
            mean[c] = total / count
            squares = 0.0
            for n in range(n_samples):
                for i in range(length):
                    squares += (x[n, c, i] - mean[c]) ** 2
            var[c] = squares / count
    out = np.empty_like(x)
    for n in range(n_samples):
        for c in range(channels):
            for i in range(length):
                out[n, c, i] = (x[n, c, i] - mean[c]) / np.sqrt(var[c] + eps) * weight[c] + bias[c]
    return out


def _batch_norm_forward(x, mean, var, weight, bias, eps, batch_stats):
    n_samples, channels, length = x.shape
    count = n_samples * length
    out = np.empty_like(x)
    x_rows = x.reshape(n_samples, channels * length)  # (N, C, L) -> (N, C*L)
    out_rows = out.reshape(n_samples, channels * length)
    block = max(1, CONTIGUOUS_RUN // length)  # channels per task
    for task in prange((channels + block - 1) // block):
        # This task's channels [first, stop) are the columns [lo, hi) of every row.
        first, stop = task * block, min(task * block + block, channels)
        lo, hi = first * length, stop * length
        if batch_stats:
            # One sweep: sum(d) and sum(d^2) of d = x - shift. Shifting by one of the
            # channel's own values keeps d small, so sum(d^2)/M - mean(d)^2 does not cancel
            # catastrophically when |mean| >> std (the "shifted data" algorithm).
            # The sums are kept per column and added up at the end: a vector add, which the
            # compiler vectorises (one scalar sum would be a serial chain of additions).
            shift = np.empty(hi - lo)
            for c in range(first, stop):
                shift[(c - first) * length:(c - first + 1) * length] = x[0, c, 0]
            sums = np.zeros(hi - lo)
            sums_of_squares = np.zeros(hi - lo)
            for n in range(n_samples):
                row = x_rows[n, lo:hi]
                for k in range(hi - lo):
                    d = row[k] - shift[k]
                    sums[k] += d
                    sums_of_squares[k] += d * d
            for c in range(first, stop):
                start = (c - first) * length
                mean_d = sums[start:start + length].sum() / count
                mean[c] = shift[start] + mean_d
                var[c] = max(sums_of_squares[start:start + length].sum() / count
                             - mean_d * mean_d, 0.0)
        # Normalise the block while it is still in cache: y = x * a + b per column.
        a = np.empty(hi - lo)
        b = np.empty(hi - lo)
        for c in range(first, stop):
            start = (c - first) * length
            scale = weight[c] / np.sqrt(var[c] + eps)
            a[start:start + length] = scale
            b[start:start + length] = bias[c] - mean[c] * scale
        for n in range(n_samples):
            row, out_row = x_rows[n, lo:hi], out_rows[n, lo:hi]
            for k in range(hi - lo):
                out_row[k] = row[k] * a[k] + b[k]
    return out


_batch_norm_forward_fast = njit(cache=True, parallel=True)(_batch_norm_forward)


def batch_norm_forward(x, mean, var, weight, bias, eps, batch_stats):
    """Same as ``batch_norm_forward_reference``, with the statistics in one sweep.

    Any input may be read-only, ``mean`` and ``var`` too when they are only read
    (``batch_stats=False``): they are then copied, (C,) numbers, because Numba types the
    kernel's writes into them whichever branch runs.
    """
    if not batch_stats:
        mean, var = np.array(mean, np.float64), np.array(var, np.float64)
    return launch(_batch_norm_forward_fast, x.size >= PARALLEL_MIN_SIZE,
                  x, mean, var, weight, bias, eps, batch_stats)


# ----------------------------------------------------------------------------- backward


def batch_norm_backward_reference(grad, x, mean, invstd, scale, batch_stats, want_grad_x):
    """Gradients of ``y = (x - mean) * invstd * weight + bias`` (see the module docstring).

    Parameters
    ----------
    grad : ndarray, shape (N, C, L)
        dL/dy.
    x : ndarray, shape (N, C, L)
        The forward input.
    mean, invstd : float64 ndarrays, shape (C,)
        The statistics the forward pass used; ``invstd = 1 / sqrt(var + eps)``.
    scale : float64 ndarray, shape (C,)
        ``weight * invstd`` (``invstd`` when there is no weight).
    batch_stats : bool
        True when ``mean`` and ``invstd`` were computed from this batch (training), so the
        gradient also flows through them; False for fixed running statistics (evaluation).
    want_grad_x : bool
        False skips ``grad_x`` (returned with shape (0, 0, 0)).

    Returns
    -------
    grad_x : ndarray, shape (N, C, L), dtype of ``x``
    sum_grad_xhat : float64 ndarray, shape (C,)
        ``sum(g * xhat)`` per channel, dL/d weight.
    sum_grad : float64 ndarray, shape (C,)
        ``sum(g)`` per channel, dL/d bias.
    """
    n_samples, channels, length = x.shape
    count = n_samples * length
    xhat = np.zeros(x.shape)
    sum_grad = np.zeros(channels)
    sum_grad_xhat = np.zeros(channels)
    for c in range(channels):
        for n in range(n_samples):
            for i in range(length):
                xhat[n, c, i] = (x[n, c, i] - mean[c]) * invstd[c]
                sum_grad[c] += grad[n, c, i]
                sum_grad_xhat[c] += grad[n, c, i] * xhat[n, c, i]
    grad_x = np.empty_like(x) if want_grad_x else np.empty((0, 0, 0), dtype=x.dtype)
    if want_grad_x:
        for n in range(n_samples):
            for c in range(channels):
                for i in range(length):
                    if batch_stats:
                        grad_x[n, c, i] = scale[c] * (grad[n, c, i] - sum_grad[c] / count
                                                      - xhat[n, c, i] * sum_grad_xhat[c] / count)
                    else:
                        grad_x[n, c, i] = scale[c] * grad[n, c, i]
    return grad_x, sum_grad_xhat, sum_grad


def _batch_norm_backward(grad, x, mean, invstd, scale, batch_stats, want_grad_x):
    n_samples, channels, length = x.shape
    count = n_samples * length
    sum_grad = np.empty(channels)
    sum_grad_xhat = np.empty(channels)
    grad_x = np.empty_like(x) if want_grad_x else np.empty((0, 0, 0), dtype=x.dtype)
    x_rows = x.reshape(n_samples, channels * length)  # (N, C, L) -> (N, C*L)
    grad_rows = grad.reshape(n_samples, channels * length)
    block = max(1, CONTIGUOUS_RUN // length)  # channels per task, as in the forward kernel
    for task in prange((channels + block - 1) // block):
        first, stop = task * block, min(task * block + block, channels)
        lo, hi = first * length, stop * length
        # Sweep 1: the two sums, kept per column as in the forward kernel.
        mean_of_column = np.empty(hi - lo)
        for c in range(first, stop):
            mean_of_column[(c - first) * length:(c - first + 1) * length] = mean[c]
        sums = np.zeros(hi - lo)
        sums_centred = np.zeros(hi - lo)
        for n in range(n_samples):
            row, grad_row = x_rows[n, lo:hi], grad_rows[n, lo:hi]
            for k in range(hi - lo):
                g = np.float64(grad_row[k])
                sums[k] += g
                sums_centred[k] += g * (row[k] - mean_of_column[k])
        # dx = a * g + b * x + offset per column: the closed form, expanded.
        a = np.empty(hi - lo)
        b = np.zeros(hi - lo)
        offset = np.zeros(hi - lo)
        for c in range(first, stop):
            start = (c - first) * length
            sum_grad[c] = sums[start:start + length].sum()
            sum_grad_xhat[c] = sums_centred[start:start + length].sum() * invstd[c]
            a[start:start + length] = scale[c]
            if batch_stats:
                slope = -scale[c] * invstd[c] * sum_grad_xhat[c] / count
                b[start:start + length] = slope
                offset[start:start + length] = -scale[c] * sum_grad[c] / count - slope * mean[c]
        if want_grad_x:  # sweep 2, while the block is still in cache
            grad_x_rows = grad_x.reshape(n_samples, channels * length)
            for n in range(n_samples):
                row, grad_row = x_rows[n, lo:hi], grad_rows[n, lo:hi]
                grad_x_row = grad_x_rows[n, lo:hi]
                for k in range(hi - lo):
                    grad_x_row[k] = a[k] * grad_row[k] + b[k] * row[k] + offset[k]
    return grad_x, sum_grad_xhat, sum_grad


_batch_norm_backward_fast = njit(cache=True, parallel=True)(_batch_norm_backward)


def batch_norm_backward(grad, x, mean, invstd, scale, batch_stats, want_grad_x):
    """Same as ``batch_norm_backward_reference``, one sweep for the sums, one for dx."""
    return launch(_batch_norm_backward_fast, x.size >= PARALLEL_MIN_SIZE,
                  grad, x, mean, invstd, scale, batch_stats, want_grad_x)
