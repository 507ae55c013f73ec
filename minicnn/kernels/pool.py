"""Pooling kernels: max, average, adaptive average/max pooling and max unpooling over
(N, C, H, W) arrays.

Shapes: input ``x (N, C, H, W)``, window ``(KH, KW)``, stride ``(SH, SW)``, padding
``((top, bottom), (left, right))``, output ``(N, C, OH, OW)`` (sizes from ``geometry.py``).

Output cell ``(i, j)`` looks at the window of input rows ``i * SH - top + a`` for
``a = 0..KH-1`` and columns ``j * SW - left + b`` for ``b = 0..KW-1``. Rows or columns
outside ``0..H-1`` / ``0..W-1`` are padding; with ``ceil_mode`` a last window may also
reach past the bottom/right padding (the *overhang*).

Max pooling
    ``out[i, j] = max`` over the window's real cells (padding counts as -inf, so it never
    wins). The winner is recorded as ``argmax[i, j] = h * W + w``, its flat index in the
    (H, W) plane (PyTorch's ``return_indices`` convention): the first maximum in scan order
    (row by row) on ties; a NaN wins, so NaNs propagate as in PyTorch.
    With dilation ``(DH, DW)`` the window's cells are ``DH``/``DW`` apart (rows
    ``i * SH - top + a * DH``). Adaptive max pooling uses the adaptive bins below.
    Backward: ``dx[winner of (i, j)] += g[i, j]``. Windows overlap when stride < kernel, and
    one input cell may win several windows: its gradients add up.

Average pooling
    ``out[i, j] = (sum of the window's real cells) / divisor``, where the divisor counts
    the window's cells that are real, plus, if ``count_include_pad``, the explicit padding
    cells, but never the ceil-mode overhang (PyTorch's rule). 'same' average pooling as
    TensorFlow does it divides by the real cells only: ``count_include_pad=False``.
    Backward: every cell of window (i, j) gets ``g[i, j] / divisor`` (added up over windows).

Adaptive average pooling to ``(OH, OW)``
    Output row ``i`` averages input rows ``floor(i * H / OH) .. ceil((i + 1) * H / OH) - 1``
    (PyTorch's bins; columns likewise). Averaging over a rectangle is averaging the rows,
    then the columns, so with the pooling matrices ``P_H (OH, H)`` and ``P_W (OW, W)``
    (``P[i, k] = 1 / bin size`` for ``k`` in bin ``i``, else 0):
    ``out = P_H @ x @ P_W^T`` and ``dx = P_H^T @ g @ P_W`` (per (n, c) plane). Global
    pooling (``OH = OW = 1``) is each plane's mean, and each cell's gradient ``g / (H * W)``.

Each ``*_reference`` function is the plain-loop spec; the function of the same name without
``_reference`` computes the same thing fast (Numba, parallel over the N*C independent
planes, so no two threads ever write to one element); inputs with less than
``PARALLEL_MIN_WORK`` inner-loop steps run on one thread.
"""

import math

import numpy as np
from numba import njit, prange

from .threads import launch

__all__ = ["max_pool2d_forward_reference", "max_pool2d_forward",
           "max_pool2d_backward_reference", "max_pool2d_backward",
           "avg_pool2d_forward_reference", "avg_pool2d_forward",
           "avg_pool2d_backward_reference", "avg_pool2d_backward",
           "adaptive_pool_bins", "adaptive_avg_pool2d_forward_reference",
           "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward_reference",
           "adaptive_avg_pool2d_backward", "adaptive_max_pool2d_forward_reference",
           "adaptive_max_pool2d_forward", "max_unpool2d_forward", "max_unpool2d_backward",
           "PARALLEL_MIN_WORK"]

# Below this many inner-loop steps (window cells visited) a kernel runs on the calling
# thread alone. Pooling does one comparison or addition per cell and is bound by memory
# traffic, so a second thread saves little: at most ~0.4 ms per call at LeNet-5's sizes
# (batch 64; 0.3-1 M cells), while on a busy machine each parallel launch can wait 5-30 ms,
# a scheduler time slice, for a worker to be scheduled (measured: 24 ms median for a 0.3 ms
# kernel at load 10 on 2 cores). Hence a higher bar than the convolution kernels' 2**16.
PARALLEL_MIN_WORK = 2**20


# ----------------------------------------------------------------------------- max pooling


def max_pool2d_forward_reference(x, kernel_hw, stride_hw, padding, out_hw, dilation_hw=(1, 1)):
    """Max pooling, plain loops.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_hw, stride_hw : (int, int)
    padding : ((top, bottom), (left, right))
    out_hw : (OH, OW)
    dilation_hw : (DH, DW)
        Window cell ``(a, b)`` is input cell ``(i * SH - top + a * DH, j * SW - left + b * DW)``.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW), x's dtype
    argmax : ndarray of int64, shape (N, C, OH, OW)
        Flat index ``h * W + w`` of each window's winner in its (H, W) plane.
    """
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), ((top, _), (left, _)), (OH, OW) = kernel_hw, stride_hw, padding, out_hw
    DH, DW = dilation_hw
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N, C, OH, OW), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best, best_index = -math.inf, -1
                    for a in range(KH):
                        for b in range(KW):
                            h, w = i * SH - top + a * DH, j * SW - left + b * DW
                            if not (0 <= h < H and 0 <= w < W):
                                continue  # padding is -inf: it never wins
                            value = x[n, c, h, w]
                            # strictly greater: the first maximum in scan order stays
                            if best_index < 0 or value > best or math.isnan(value):
                                best, best_index = value, h * W + w
                    out[n, c, i, j] = best
                    argmax[n, c, i, j] = best_index
    return out, argmax


def max_pool2d_backward_reference(grad_out, argmax, in_hw):
    """Gradient of max pooling, plain loops: each window's gradient goes to its winner.

    Parameters
    ----------
    grad_out : ndarray, shape (N, C, OH, OW)
    argmax : ndarray of int64, shape (N, C, OH, OW), from the forward pass
    in_hw : (H, W)

    Returns
    -------
    grad_x : ndarray, shape (N, C, H, W), grad_out's dtype
    """
    N, C, OH, OW = grad_out.shape
    H, W = in_hw
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    index = argmax[n, c, i, j]
                    # +=, not =: with overlapping windows one cell can win several of them
                    grad_x[n, c, index // W, index % W] += grad_out[n, c, i, j]
    return grad_x


def _window(index, stride, pad_before, kernel, size, pad_after):
    """Window ``index`` along one axis: its real cells ``[lo, hi)`` and, for the average's
    divisor with ``count_include_pad``, how many of its cells lie within input + padding."""
    start = index * stride - pad_before
    end = start + kernel
    return max(start, 0), min(end, size), min(end, size + pad_after) - start


_window_fast = njit(cache=True)(_window)


def _max_pool_planes(x, out, argmax, KH, KW, SH, SW, top, left):
    """Max pooling of ``x (P, H, W)`` into ``out``/``argmax (P, OH, OW)``, parallel over P."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for i in range(OH):
            h_lo, h_hi, _ = _window_fast(i, SH, top, KH, H, 0)
            for j in range(OW):
                w_lo, w_hi, _ = _window_fast(j, SW, left, KW, W, 0)
                # Start from the first real cell: as -inf would, but keeping x's dtype (a
                # float64 -inf would turn every comparison into a float32 -> float64 one).
                best, best_index = x[p, h_lo, w_lo], h_lo * W + w_lo
                for h in range(h_lo, h_hi):
                    for w in range(w_lo, w_hi):
                        value = x[p, h, w]
                        if value > best or math.isnan(value):
                            best, best_index = value, h * W + w
                out[p, i, j] = best
                argmax[p, i, j] = best_index


def _dilated_window(index, stride, pad_before, kernel, dilation, size):
    """Dilated window ``index`` along one axis: its real cells are ``lo, lo + d, ..`` below
    ``hi`` (``lo`` the first tap at or past 0)."""
    start = index * stride - pad_before
    lo = start if start >= 0 else start + ((-start + dilation - 1) // dilation) * dilation
    return lo, min(start + (kernel - 1) * dilation + 1, size)


_dilated_window_fast = njit(cache=True)(_dilated_window)


def _max_pool_planes_dilated(x, out, argmax, KH, KW, SH, SW, top, left, DH, DW):
    """``_max_pool_planes`` with dilation ``(DH, DW)``: the window's taps are DH/DW apart.
    A separate kernel so that the common dilation-1 loop keeps its unit strides."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for i in range(OH):
            h_lo, h_hi = _dilated_window_fast(i, SH, top, KH, DH, H)
            for j in range(OW):
                w_lo, w_hi = _dilated_window_fast(j, SW, left, KW, DW, W)
                best, best_index = x[p, h_lo, w_lo], h_lo * W + w_lo
                for h in range(h_lo, h_hi, DH):
                    for w in range(w_lo, w_hi, DW):
                        value = x[p, h, w]
                        if value > best or math.isnan(value):
                            best, best_index = value, h * W + w
                out[p, i, j] = best
                argmax[p, i, j] = best_index


def _max_unpool_planes(grad_out, argmax, grad_x):
    """``grad_x (P, H*W)`` += each ``grad_out (P, OH*OW)`` entry at its argmax, parallel over P."""
    for p in prange(grad_out.shape[0]):
        grad_x[p, :] = 0
        for k in range(grad_out.shape[1]):
            grad_x[p, argmax[p, k]] += grad_out[p, k]


_max_pool_planes_fast = njit(cache=True, parallel=True)(_max_pool_planes)
_max_unpool_planes_fast = njit(cache=True, parallel=True)(_max_unpool_planes)
_max_pool_planes_dilated_fast = njit(cache=True, parallel=True)(_max_pool_planes_dilated)


def max_pool2d_forward(x, kernel_hw, stride_hw, padding, out_hw, dilation_hw=(1, 1)):
    """Max pooling, Numba: the same arguments and results as the reference."""
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), ((top, _), (left, _)), (OH, OW) = kernel_hw, stride_hw, padding, out_hw
    planes = np.ascontiguousarray(x).reshape(N * C, H, W)  # (N, C, H, W) -> (N*C, H, W)
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N * C, OH, OW), dtype=np.int64)
    parallel = out.size * KH * KW >= PARALLEL_MIN_WORK
    if tuple(dilation_hw) == (1, 1):
        launch(_max_pool_planes_fast, parallel, planes, out, argmax, KH, KW, SH, SW, top, left)
    else:
        launch(_max_pool_planes_dilated_fast, parallel, planes, out, argmax, KH, KW, SH, SW,
               top, left, int(dilation_hw[0]), int(dilation_hw[1]))
    return out.reshape(N, C, OH, OW), argmax.reshape(N, C, OH, OW)


def max_pool2d_backward(grad_out, argmax, in_hw):
    """Gradient of max pooling, Numba: the same arguments and result as the reference."""
    N, C, OH, OW = grad_out.shape
    H, W = in_hw
    grad_x = np.empty((N * C, H * W), dtype=grad_out.dtype)
    launch(_max_unpool_planes_fast, grad_x.size + grad_out.size >= PARALLEL_MIN_WORK,
           np.ascontiguousarray(grad_out).reshape(N * C, OH * OW),
           np.ascontiguousarray(argmax).reshape(N * C, OH * OW), grad_x)
    return grad_x.reshape(N, C, H, W)  # (N*C, H*W) -> (N, C, H, W)


# ----------------------------------------------------------------------------- average pooling


def _avg_divisor_reference(i, j, in_hw, kernel_hw, stride_hw, padding, count_include_pad):
    """The number of cells window (i, j) divides its sum by (see the module docstring)."""
    (H, W), (KH, KW), (SH, SW), ((top, bottom), (left, right)) = (in_hw, kernel_hw, stride_hw,
                                                                  padding)
    count = 0
    for a in range(KH):
        for b in range(KW):
            h, w = i * SH - top + a, j * SW - left + b
            real = 0 <= h < H and 0 <= w < W
            in_padding = -top <= h < H + bottom and -left <= w < W + right  # not the overhang
            if real or (count_include_pad and in_padding):
                count += 1
    return count


def avg_pool2d_forward_reference(x, kernel_hw, stride_hw, padding, out_hw, count_include_pad):
    """Average pooling, plain loops.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_hw, stride_hw : (int, int)
    padding : ((top, bottom), (left, right))
    out_hw : (OH, OW)
    count_include_pad : bool
        Whether the divisor counts explicit padding cells (zeros) too.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW), x's dtype
    """
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), ((top, _), (left, _)), (OH, OW) = kernel_hw, stride_hw, padding, out_hw
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    total = 0.0
                    for a in range(KH):
                        for b in range(KW):
                            h, w = i * SH - top + a, j * SW - left + b
                            if 0 <= h < H and 0 <= w < W:  # padding adds 0
                                total += x[n, c, h, w]
                    out[n, c, i, j] = total / _avg_divisor_reference(
                        i, j, (H, W), kernel_hw, stride_hw, padding, count_include_pad)
    return out


def avg_pool2d_backward_reference(grad_out, in_hw, kernel_hw, stride_hw, padding,
                                  count_include_pad):
    """Gradient of average pooling, plain loops: ``g / divisor`` to each real cell of a window.

    Parameters
    ----------
    grad_out : ndarray, shape (N, C, OH, OW)
    in_hw : (H, W)
    kernel_hw, stride_hw, padding, count_include_pad : as in the forward pass

    Returns
    -------
    grad_x : ndarray, shape (N, C, H, W), grad_out's dtype
    """
    N, C, OH, OW = grad_out.shape
    (H, W), (KH, KW), (SH, SW), ((top, _), (left, _)) = in_hw, kernel_hw, stride_hw, padding
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    share = grad_out[n, c, i, j] / _avg_divisor_reference(
                        i, j, in_hw, kernel_hw, stride_hw, padding, count_include_pad)
                    for a in range(KH):
                        for b in range(KW):
                            h, w = i * SH - top + a, j * SW - left + b
                            if 0 <= h < H and 0 <= w < W:
                                grad_x[n, c, h, w] += share
    return grad_x


def _avg_pool_planes(x, out, KH, KW, SH, SW, top, bottom, left, right, count_include_pad):
    """Average pooling of ``x (P, H, W)`` into ``out (P, OH, OW)``, parallel over P."""
    P, H, W = x.shape
    OH, OW = out.shape[1], out.shape[2]
    for p in prange(P):
        for i in range(OH):
            h_lo, h_hi, h_padded = _window_fast(i, SH, top, KH, H, bottom)
            for j in range(OW):
                w_lo, w_hi, w_padded = _window_fast(j, SW, left, KW, W, right)
                total = 0.0
                for h in range(h_lo, h_hi):
                    for w in range(w_lo, w_hi):
                        total += x[p, h, w]
                if count_include_pad:
                    out[p, i, j] = total / (h_padded * w_padded)
                else:
                    out[p, i, j] = total / ((h_hi - h_lo) * (w_hi - w_lo))


def _avg_unpool_planes(grad_out, grad_x, KH, KW, SH, SW, top, bottom, left, right,
                       count_include_pad):
    """``grad_x (P, H, W)`` from ``grad_out (P, OH, OW)``: each window spreads its share."""
    P, H, W = grad_x.shape
    OH, OW = grad_out.shape[1], grad_out.shape[2]
    for p in prange(P):
        grad_x[p] = 0
        for i in range(OH):
            h_lo, h_hi, h_padded = _window_fast(i, SH, top, KH, H, bottom)
            for j in range(OW):
                w_lo, w_hi, w_padded = _window_fast(j, SW, left, KW, W, right)
                if count_include_pad:
                    share = grad_out[p, i, j] / (h_padded * w_padded)
                else:
                    share = grad_out[p, i, j] / ((h_hi - h_lo) * (w_hi - w_lo))
                for h in range(h_lo, h_hi):
                    for w in range(w_lo, w_hi):
                        grad_x[p, h, w] += share


_avg_pool_planes_fast = njit(cache=True, parallel=True)(_avg_pool_planes)
_avg_unpool_planes_fast = njit(cache=True, parallel=True)(_avg_unpool_planes)


def avg_pool2d_forward(x, kernel_hw, stride_hw, padding, out_hw, count_include_pad):
    """Average pooling, Numba: the same arguments and result as the reference."""
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), ((top, bottom), (left, right)), (OH, OW) = (kernel_hw, stride_hw,
                                                                    padding, out_hw)
    planes = np.ascontiguousarray(x).reshape(N * C, H, W)  # (N, C, H, W) -> (N*C, H, W)
    out = np.empty((N * C, OH, OW), dtype=x.dtype)
    launch(_avg_pool_planes_fast, out.size * KH * KW >= PARALLEL_MIN_WORK,
           planes, out, KH, KW, SH, SW, top, bottom, left, right, bool(count_include_pad))
    return out.reshape(N, C, OH, OW)


def avg_pool2d_backward(grad_out, in_hw, kernel_hw, stride_hw, padding, count_include_pad):
    """Gradient of average pooling, Numba: the same arguments and result as the reference."""
    N, C, OH, OW = grad_out.shape
    (H, W), (KH, KW), (SH, SW), ((top, bottom), (left, right)) = (in_hw, kernel_hw, stride_hw,
                                                                  padding)
    grad_x = np.empty((N * C, H, W), dtype=grad_out.dtype)
    launch(_avg_unpool_planes_fast, grad_out.size * KH * KW + grad_x.size >= PARALLEL_MIN_WORK,
           np.ascontiguousarray(grad_out).reshape(N * C, OH, OW), grad_x, KH, KW, SH, SW, top,
           bottom, left, right, bool(count_include_pad))
    return grad_x.reshape(N, C, H, W)  # (N*C, H, W) -> (N, C, H, W)


# ----------------------------------------------------------------------------- adaptive average


def adaptive_pool_bins(in_size, out_size):
    """PyTorch's bins along one axis: ``[(floor(i * n / m), ceil((i + 1) * n / m)), ...]``."""
    return [(i * in_size // out_size, -(-(i + 1) * in_size // out_size)) for i in range(out_size)]


def adaptive_avg_pool2d_forward_reference(x, out_hw):
    """Adaptive average pooling, plain loops.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    out_hw : (OH, OW)

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW), x's dtype
    """
    N, C, H, W = x.shape
    row_bins, col_bins = adaptive_pool_bins(H, out_hw[0]), adaptive_pool_bins(W, out_hw[1])
    out = np.empty((N, C) + tuple(out_hw), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i, (h0, h1) in enumerate(row_bins):
                for j, (w0, w1) in enumerate(col_bins):
                    total = 0.0
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            total += x[n, c, h, w]
                    out[n, c, i, j] = total / ((h1 - h0) * (w1 - w0))
    return out


def adaptive_avg_pool2d_backward_reference(grad_out, in_hw):
    """Gradient of adaptive average pooling, plain loops.

    Parameters
    ----------
    grad_out : ndarray, shape (N, C, OH, OW)
    in_hw : (H, W)

    Returns
    -------
    grad_x : ndarray, shape (N, C, H, W), grad_out's dtype
    """
    N, C, OH, OW = grad_out.shape
    H, W = in_hw
    grad_x = np.zeros((N, C, H, W), dtype=grad_out.dtype)
    for n in range(N):
        for c in range(C):
            for i, (h0, h1) in enumerate(adaptive_pool_bins(H, OH)):
                for j, (w0, w1) in enumerate(adaptive_pool_bins(W, OW)):
                    share = grad_out[n, c, i, j] / ((h1 - h0) * (w1 - w0))
                    grad_x[n, c, h0:h1, w0:w1] += share
    return grad_x


def _pooling_matrix(in_size, out_size, dtype):
    """``P (out_size, in_size)``: row i holds 1 / bin size over bin i (a bin average)."""
    matrix = np.zeros((out_size, in_size), dtype=dtype)
    for i, (lo, hi) in enumerate(adaptive_pool_bins(in_size, out_size)):
        matrix[i, lo:hi] = 1 / (hi - lo)
    return matrix


def adaptive_avg_pool2d_forward(x, out_hw):
    """Adaptive average pooling as two matrix products, ``P_H @ x @ P_W^T``.

    Each product is one large GEMM over all planes (transposing in between) rather than
    N*C small ones.
    """
    N, C, H, W = x.shape
    OH, OW = out_hw
    if (OH, OW) == (1, 1):  # global pooling, the common case: one mean per plane
        return x.reshape(N, C, H * W).mean(axis=2, dtype=x.dtype).reshape(N, C, 1, 1)
    rows, cols = _pooling_matrix(H, OH, x.dtype), _pooling_matrix(W, OW, x.dtype)
    pooled = x.reshape(N * C * H, W) @ cols.T  # (N*C*H, W) @ (W, OW) -> (N*C*H, OW)
    pooled = pooled.reshape(N * C, H, OW).transpose(0, 2, 1)  # -> (N*C, OW, H)
    pooled = pooled.reshape(N * C * OW, H) @ rows.T  # (N*C*OW, H) @ (H, OH) -> (N*C*OW, OH)
    pooled = pooled.reshape(N, C, OW, OH).transpose(0, 1, 3, 2)  # -> (N, C, OH, OW)
    return np.ascontiguousarray(pooled)


def adaptive_avg_pool2d_backward(grad_out, in_hw):
    """Gradient of adaptive average pooling, ``P_H^T @ g @ P_W``, as two large GEMMs."""
    N, C, OH, OW = grad_out.shape
    H, W = in_hw
    if (OH, OW) == (1, 1):  # global pooling: every cell gets g / (H * W)
        share = grad_out / grad_out.dtype.type(H * W)
        return np.ascontiguousarray(np.broadcast_to(share, (N, C, H, W)))
    rows, cols = _pooling_matrix(H, OH, grad_out.dtype), _pooling_matrix(W, OW, grad_out.dtype)
    spread = grad_out.reshape(N * C, OH, OW).transpose(0, 2, 1)  # -> (N*C, OW, OH)
    spread = spread.reshape(N * C * OW, OH) @ rows  # (N*C*OW, OH) @ (OH, H) -> (N*C*OW, H)
    spread = spread.reshape(N * C, OW, H).transpose(0, 2, 1)  # -> (N*C, H, OW)
    grad_x = spread.reshape(N * C * H, OW) @ cols  # (N*C*H, OW) @ (OW, W) -> (N*C*H, W)
    return grad_x.reshape(N, C, H, W)


# ----------------------------------------------------------------------------- adaptive max


def adaptive_max_pool2d_forward_reference(x, out_hw):
    """Adaptive max pooling, plain loops: the max of each of PyTorch's bins (as above).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    out_hw : (OH, OW)

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW), x's dtype
    argmax : ndarray of int64, shape (N, C, OH, OW)
        Flat index ``h * W + w`` of each bin's winner: the first maximum in scan order, a
        NaN winning (the last NaN, as max pooling's loop and PyTorch's).
    """
    N, C, H, W = x.shape
    row_bins, col_bins = adaptive_pool_bins(H, out_hw[0]), adaptive_pool_bins(W, out_hw[1])
    out = np.empty((N, C) + tuple(out_hw), dtype=x.dtype)
    argmax = np.empty((N, C) + tuple(out_hw), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for i, (h0, h1) in enumerate(row_bins):
                for j, (w0, w1) in enumerate(col_bins):
                    best, best_index = -math.inf, -1
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            value = x[n, c, h, w]
                            if best_index < 0 or value > best or math.isnan(value):
                                best, best_index = value, h * W + w
                    out[n, c, i, j] = best
                    argmax[n, c, i, j] = best_index
    return out, argmax


def adaptive_max_pool2d_forward(x, out_hw):
    """Adaptive max pooling, NumPy: one vectorised argmax over all planes per bin pair.

    The same arguments and results as the reference (``np.argmax`` gives the first maximum;
    a bin holding a NaN takes its last NaN, as the loop does).
    """
    N, C, H, W = x.shape
    OH, OW = out_hw
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    argmax = np.empty((N, C, OH, OW), dtype=np.int64)
    for i, (h0, h1) in enumerate(adaptive_pool_bins(H, OH)):
        for j, (w0, w1) in enumerate(adaptive_pool_bins(W, OW)):
            window = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)  # (N, C, bin cells), row-major
            k = window.argmax(axis=2)
            nan = np.isnan(window)
            if nan.any():
                last_nan = window.shape[2] - 1 - nan[:, :, ::-1].argmax(axis=2)
                k = np.where(nan.any(axis=2), last_nan, k)
            out[:, :, i, j] = np.take_along_axis(window, k[..., None], axis=2)[..., 0]
            argmax[:, :, i, j] = (h0 + k // (w1 - w0)) * W + w0 + k % (w1 - w0)
    return out, argmax


# ----------------------------------------------------------------------------- max unpooling


def max_unpool2d_forward(x, indices, out_hw):
    """Max unpooling: ``out (N, C, OH*OW)`` zeros, ``out[n, c, indices[n, c, k]] = x[n, c, k]``.

    ``x`` and ``indices`` are (N, C, H, W); a repeated index keeps the last value written
    (scan order). The indices must lie in ``[0, OH * OW)`` (checked by the caller).
    """
    N, C = x.shape[:2]
    out = np.zeros((N, C, out_hw[0] * out_hw[1]), dtype=x.dtype)
    np.put_along_axis(out, indices.reshape(N, C, -1), x.reshape(N, C, -1), axis=2)
    return out.reshape((N, C) + tuple(out_hw))


def max_unpool2d_backward(grad_out, indices):
    """Gradient of max unpooling, a gather: ``dx[n, c, k] = g[n, c, indices[n, c, k]]``."""
    N, C = grad_out.shape[:2]
    grad_x = np.take_along_axis(grad_out.reshape(N, C, -1), indices.reshape(N, C, -1), axis=2)
    return grad_x.reshape(indices.shape)
