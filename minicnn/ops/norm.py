"""Normalisation layers: batch normalisation and local response normalisation (AlexNet).

Shapes: N batch, C channels, then any spatial axes (H, W); L = their product (1 for a
(N, C) input). Sums over "the batch" run over the M = N * L values of one channel.

Batch normalisation
-------------------
Each channel is shifted and scaled to zero mean and unit variance, then by a learnt affine::

    mean = sum(x) / M            var = sum((x - mean)^2) / M        (biased variance)
    xhat = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps)
    y    = weight * xhat + bias

In training mode ``mean`` and ``var`` are the batch's own statistics, and the running
estimates used at evaluation are updated in place (PyTorch's convention)::

    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)

Keras writes the same average with the weights swapped, ``moving = m * moving + (1 - m) *
batch``: its ``momentum=0.99`` is PyTorch's ``momentum=0.01``. (Its default epsilon is 1e-3.)

Backward (g = dL/dy), in closed form. In training, x reaches y directly and through the
mean and the variance, which depend on every element of the channel::

    dxhat = weight * g
    dvar  = sum(dxhat * (x - mean)) * (-1/2) * invstd^3
    dmean = -sum(dxhat) * invstd      (mean -> var adds dvar * sum(-2 (x - mean)) / M = 0)
    dx    = dxhat * invstd + dvar * 2 (x - mean) / M + dmean / M

and substituting ``x - mean = xhat / invstd`` collapses the three paths to::

    dbias   = sum(g)
    dweight = sum(g * xhat)
    dx      = weight * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat))     (training)
    dx      = weight * invstd * g                                          (evaluation)

(``sum(g)`` comes from the mean, ``xhat * sum(g * xhat)`` from the variance.) In evaluation
mode the statistics are constants, so the layer is an affine map. The kernels
(``minicnn.kernels.norm``) make one sweep over the data for the statistics and one for the
gradient's two sums, each followed by the elementwise pass while the data is in cache.

Local response normalisation
----------------------------
Each activation is divided by a power of the energy of its neighbours across channels
(PyTorch's formula; ``n = size``)::

    s_c = k + alpha / n * sum_{c' in W(c)} a_{c'}^2,     b_c = a_c * s_c^(-beta)

with the window ``W(c) = [c - n//2, c + (n-1)//2]`` clipped to the existing channels (the
missing ones count as zeros, the divisor stays n). Backward: a_j enters b_j directly and
every s_c whose window contains j, i.e. c in ``[j - (n-1)//2, j + n//2]`` (the window
mirrored)::

    da_j = g_j * s_j^(-beta) - 2 * alpha * beta / n * a_j * sum_{c: j in W(c)} g_c * b_c / s_c
"""

import math
import numbers

import numpy as np

from .._checks import check_compute_dtype, check_positive_int, check_same_dtype
from ..autograd import ArrayFunction, Tensor
from ..kernels import norm as kernels

__all__ = ["batch_norm", "local_response_norm"]


def _flatten_spatial(a):
    """``(N, C, *spatial)`` as a C-contiguous ``(N, C, L)`` array (a view when possible)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], math.prod(a.shape[2:]))


class BatchNorm(ArrayFunction):
    """``y = (x - mean) * invstd * weight + bias`` per channel (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, batch_stats, momentum, eps):
        x3 = _flatten_spatial(x)  # (N, C, H, W) -> (N, C, H*W)
        channels = x3.shape[1]
        ctx.batch_stats, ctx.shape = batch_stats, x.shape
        if x3.size == 0:  # no values to normalise: an empty result, no statistics (PyTorch)
            ctx.save_for_backward(x3)
            return np.empty(x.shape, x.dtype)
        if batch_stats:  # the kernel fills in the batch's statistics
            mean, var = np.empty(channels), np.empty(channels)
        else:
            mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
        weight64 = np.ones(channels) if weight is None else weight.astype(np.float64)
        bias64 = np.zeros(channels) if bias is None else bias.astype(np.float64)
        out = kernels.batch_norm_forward(x3, mean, var, weight64, bias64, eps, batch_stats)
        if batch_stats and running_mean is not None:
            count = x3.shape[0] * x3.shape[2]
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = ((1 - momentum) * running_var
                                + momentum * var * (count / (count - 1)))
        invstd = 1.0 / np.sqrt(var + eps)
        ctx.save_for_backward(x3, mean, invstd, weight64 * invstd)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x3 = ctx.saved_tensors[0]
        need_x, need_weight, need_bias = ctx.needs_input_grad
        if x3.size == 0:  # an empty batch: nothing flowed through weight and bias
            no_grad = np.zeros(x3.shape[1], x3.dtype)
            return (np.zeros(ctx.shape, x3.dtype) if need_x else None,
                    no_grad if need_weight else None, no_grad.copy() if need_bias else None)
        _, mean, invstd, scale = ctx.saved_tensors
        grad3 = np.ascontiguousarray(grad, dtype=x3.dtype).reshape(x3.shape)
        grad_x, sum_grad_xhat, sum_grad = kernels.batch_norm_backward(
            grad3, x3, mean, invstd, scale, ctx.batch_stats, need_x)
        return (grad_x.reshape(ctx.shape) if need_x else None,
                sum_grad_xhat.astype(x3.dtype) if need_weight else None,
                sum_grad.astype(x3.dtype) if need_bias else None)


def _per_channel(array, name, channels):
    """Check an optional per-channel argument has shape (C,)."""
    if array is not None and np.shape(array) != (channels,):
        raise ValueError(f"batch_norm: {name} must have shape ({channels},) for an input with "
                         f"{channels} channels, got shape {np.shape(array)}")


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation over the batch and spatial axes, one mean and variance per channel.

    Parameters
    ----------
    x : Tensor, shape (N, C) or (N, C, H, W) (any (N, C, *) works), float32 or float64
        Any axis may be empty (N = 0, say): the result is empty, the running estimates are
        left as they are, and weight and bias get zero gradients (PyTorch).
    running_mean, running_var : ndarray, shape (C,), x's dtype, or None
        Running estimates. Used as the statistics when ``training=False``; updated in place
        when ``training=True`` (momentum rule in the module docstring; the variance with the
        unbiased batch variance). ``None`` for both: always use the batch's statistics and
        keep nothing (PyTorch's ``track_running_stats=False``).
    weight, bias : Tensor, shape (C,), x's dtype, optional
        The learnt per-channel scale (gamma) and shift (beta); absent means 1 and 0.
    training : bool
        True: normalise with this batch's mean and biased variance. False: with the
        running estimates.
    momentum : float
        Weight of the new batch in the running average (PyTorch's convention; Keras'
        ``momentum=0.99`` is ``0.01`` here).
    eps : float
        Added to the variance before the square root.

    Returns
    -------
    Tensor, the shape and dtype of ``x``

    Raises
    ------
    TypeError
        x not float32/float64 (float16 included); weight, bias or the running estimates of
        another dtype than x (PyTorch raises too); momentum or eps not a number.
    ValueError
        Fewer than 2 dimensions; per-channel arrays of the wrong shape; only one of the
        running estimates; none in evaluation; one value per channel in training; read-only
        running estimates in training.
    """
    # Tensors are accepted too: the update goes into their arrays
    running_mean, running_var = (a.data if isinstance(a, Tensor) else a
                                 for a in (running_mean, running_var))
    momentum, eps = _check_batch_norm_arguments(x, running_mean, running_var, weight, bias,
                                                training, momentum, eps)
    return BatchNorm.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                           batch_stats=training, momentum=momentum, eps=eps)


def _check_batch_norm_arguments(x, running_mean, running_var, weight, bias, training, momentum,
                                eps):
    """``(momentum, eps)`` as floats once every argument of ``batch_norm`` is checked, or a
    TypeError/ValueError naming the argument."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: x must be (N, C) or (N, C, H, W), got shape {x.shape}")
    check_compute_dtype(x, "batch_norm: x")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be arrays or both "
                         "be None")
    channels = x.shape[1]
    named = [("running_mean", running_mean), ("running_var", running_var),
             ("weight", weight), ("bias", bias)]
    for name, array in named:
        _per_channel(array, name, channels)
    check_same_dtype(x, "batch_norm: x", [(f"batch_norm: {name}", array) for name, array in named])
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean and running_var are required when "
                         "training=False (evaluation normalises with them)")
    if training and x.shape[0] * math.prod(x.shape[2:]) == 1:  # 0 values are fine: PyTorch
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape} (the variance of one value is 0)")
    if training and running_mean is not None:
        for name, array in named[:2]:
            if not np.asarray(array).flags.writeable:
                raise ValueError(f"batch_norm: {name} is read-only, but training updates it "
                                 "in place; pass a writable copy (or None)")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            hint = " (a cumulative average, momentum=None, is kept by nn.BatchNorm)" \
                if name == "momentum" else ""
            raise TypeError(f"batch_norm: {name} must be a number, got {value!r}{hint}")
    return float(momentum), float(eps)


def _channel_window_sum(a, before, after):
    """``out[:, c] = sum(a[:, c - before : c + after + 1])``, missing channels counting 0."""
    channels = a.shape[1]
    out = np.zeros_like(a)
    # out[:, c] += a[:, c + offset] for the c that have a channel c + offset
    for offset in range(max(-before, 1 - channels), min(after, channels - 1) + 1):
        lo, hi = max(0, -offset), min(channels, channels - offset)
        out[:, lo:hi] += a[:, lo + offset:hi + offset]
    return out


class LocalResponseNorm(ArrayFunction):
    """``b_c = a_c * (k + alpha / n * sum_{window} a^2)^(-beta)`` (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        before, after = size // 2, (size - 1) // 2
        s = k + (alpha / size) * _channel_window_sum(x * x, before, after)
        power = s ** -beta
        ctx.save_for_backward(x, s, power)
        ctx.settings = size, alpha, beta
        return x * power

    @staticmethod
    def backward(ctx, grad):
        x, s, power = ctx.saved_tensors
        size, alpha, beta = ctx.settings
        # The mirrored window: a_j is in W(c) for c in [j - (n-1)//2, j + n//2].
        grad_b_over_s = grad * x * power / s  # g_c * b_c / s_c
        through_s = _channel_window_sum(grad_b_over_s, (size - 1) // 2, size // 2)
        return grad * power - (2 * alpha * beta / size) * x * through_s


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (AlexNet), PyTorch's definition.

    ``b_c = a_c * (k + alpha / size * sum_{c' in window} a_{c'}^2) ** -beta`` with a window of
    ``size`` channels centred on c (``size // 2`` before, ``(size - 1) // 2`` after).

    Other conventions, mapped to these arguments:

    - TensorFlow ``tf.nn.local_response_normalization(depth_radius=r, bias, alpha, beta)``
      sums over ``2r + 1`` channels and does not divide alpha by the window: use
      ``size=2*r+1, alpha=alpha_tf * (2*r+1), k=bias``.
    - Caffe's LRN (``local_size``, ``alpha``, ``beta``, ``k``) divides alpha by the window like
      PyTorch: the same numbers carry over.
    - The AlexNet paper (k=2, n=5, alpha=1e-4, beta=0.75) does not divide: ``size=5,
      alpha=5e-4, beta=0.75, k=2``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) (any (N, C, *) with at least 3 dimensions)
    size : int
        Number of channels in the window.
    alpha, beta, k : float
        Any real numbers (NumPy's too); they never change x's dtype.

    Returns
    -------
    Tensor, the shape and dtype of ``x``

    Raises
    ------
    TypeError
        x not float32/float64 (float16 included); alpha, beta or k not a number.
    ValueError
        Fewer than 3 dimensions; size not a positive int.
    """
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: x must have at least 3 dimensions "
                         f"(N, C, H, W), got shape {x.shape}")
    check_compute_dtype(x, "local_response_norm: x")
    size = check_positive_int(size, "local_response_norm: size")
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"local_response_norm: {name} must be a number, got {value!r}")
    # float(): a NumPy float64 setting must not turn a float32 computation into float64
    return LocalResponseNorm.apply(x, size=size, alpha=float(alpha), beta=float(beta), k=float(k))
