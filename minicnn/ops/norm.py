"""Normalisation layers: batch, layer, group and instance normalisation, and local response
normalisation (AlexNet).

Shapes: N batch, C channels, then any spatial axes (H, W); L = their product (1 for a
(N, C) input). Sums over "the batch" run over the M = N * L values of one channel. G groups
of channels (group_norm), D = prod(normalized_shape) (layer_norm).

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

Layer, group and instance normalisation
---------------------------------------
The same standardisation, over other axes, one mean and variance per *sample* (so no
running statistics are needed, and the batch size does not matter)::

    layer_norm:    over the trailing normalized_shape axes of each sample
    group_norm:    over the C/G channels of a group and the spatial axes, per (n, group)
    instance_norm: over the spatial axes of each (n, c) (group_norm with G = C)

With the values of one normalised set in a row of M (``Normalize``)::

    mean  = sum(x) / M           var = sum((x - mean)^2) / M          (biased, as PyTorch)
    xhat  = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps)
    y     = weight * xhat + bias   (layer_norm: elementwise over normalized_shape;
                                    group/instance_norm: one weight and bias per channel)

Backward (g = dL/dy; the sums of dweight and dbias run over every value that shares that
weight; mean() over the M values of a row)::

    dbias   = sum(g)                 dweight = sum(g * xhat)
    gxhat   = weight * g
    dx      = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))

the batch-norm formula above with the row in place of the channel. instance_norm keeps
running estimates as PyTorch does: each sample's mean and unbiased variance, averaged over
the batch, enter the momentum rule of batch norm; with ``use_input_stats=False`` it
normalises with them (an affine map, batch norm's evaluation mode).

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

from .._checks import check_compute_dtype, check_positive_int, check_same_dtype, is_int
from ..autograd import ArrayFunction, Tensor
from ..kernels import norm as kernels

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "local_response_norm"]


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


class Normalize(ArrayFunction):
    """Standardise each row of ``x.reshape(rows_shape)``, then ``y = weight * xhat + bias``
    with the parameters broadcast as ``(P, 1)`` against ``x.reshape(affine_shape)`` =
    ``(A, P, B)`` (see the module docstring for both passes). layer_norm: rows ``(R, D)``,
    affine ``(R, D, 1)``; group_norm: rows ``(N*G, C/G*L)``, affine ``(N, C, L)``."""

    @staticmethod
    def forward(ctx, x, weight, bias, rows_shape, affine_shape, eps):
        # the parameters' own shape (layer_norm's normalized_shape) for their gradients
        param_shape = next((p.shape for p in (weight, bias) if p is not None), None)
        ctx.shapes = x.shape, affine_shape, param_shape
        if x.size == 0:  # nothing to normalise: an empty result (PyTorch)
            ctx.save_for_backward(x)
            return np.empty(x.shape, x.dtype)
        rows = x.reshape(rows_shape).astype(np.float64)  # statistics in float64
        centred = rows - rows.mean(axis=1, keepdims=True)
        invstd = 1.0 / np.sqrt(np.mean(centred * centred, axis=1, keepdims=True) + eps)
        xhat = (centred * invstd).reshape(affine_shape)  # (A, P, B)
        params = affine_shape[1]
        weight64 = None if weight is None else weight.astype(np.float64).reshape(params, 1)
        out = xhat if weight64 is None else xhat * weight64
        if bias is not None:
            out = out + bias.astype(np.float64).reshape(params, 1)
        ctx.save_for_backward(x, xhat, invstd, weight64)
        return out.astype(x.dtype).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x = ctx.saved_tensors[0]
        x_shape, affine_shape, param_shape = ctx.shapes
        need_x, need_weight, need_bias = ctx.needs_input_grad
        if x.size == 0:  # an empty batch: nothing flowed through weight and bias
            return (np.zeros(x_shape, x.dtype) if need_x else None,
                    np.zeros(param_shape, x.dtype) if need_weight else None,
                    np.zeros(param_shape, x.dtype) if need_bias else None)
        _, xhat, invstd, weight64 = ctx.saved_tensors
        grad3 = grad.astype(np.float64).reshape(affine_shape)  # (A, P, B)
        grad_x = None
        if need_x:
            grad_xhat = grad3 if weight64 is None else grad3 * weight64
            rows_g = grad_xhat.reshape(invstd.shape[0], -1)  # (rows, M)
            rows_xhat = xhat.reshape(rows_g.shape)
            grad_x = invstd * (rows_g - rows_g.mean(axis=1, keepdims=True)
                               - rows_xhat * np.mean(rows_g * rows_xhat, axis=1, keepdims=True))
            grad_x = grad_x.astype(x.dtype).reshape(x_shape)
        return (grad_x,
                (grad3 * xhat).sum(axis=(0, 2)).astype(x.dtype).reshape(param_shape)
                if need_weight else None,
                grad3.sum(axis=(0, 2)).astype(x.dtype).reshape(param_shape)
                if need_bias else None)


def _as_float(value, name):
    """A number setting (eps, momentum) as a Python float, or a TypeError naming it."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)  # a NumPy float64 setting must not upcast a float32 computation


def _check_parameters(op, x, expected_shape, named):
    """weight/bias (Tensors or None) of shape ``expected_shape`` and x's dtype."""
    for name, array in named:
        if array is not None and tuple(np.shape(array)) != tuple(expected_shape):
            raise ValueError(f"{op}: {name} must have shape {tuple(expected_shape)}, got shape "
                             f"{tuple(np.shape(array))}")
    check_same_dtype(x, f"{op}: x", [(f"{op}: {name}", array) for name, array in named])


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation: each sample standardised over its trailing ``normalized_shape``
    axes (Ba, Kiros & Hinton, 2016), then scaled and shifted elementwise.

    Parameters
    ----------
    input : Tensor, shape (*, *normalized_shape), float32 or float64
        Any leading axes (possibly empty: the result is empty and weight and bias get zero
        gradients, as PyTorch).
    normalized_shape : int or sequence of int
        The trailing shape to normalise over (at least one axis).
    weight, bias : Tensor, shape normalized_shape, input's dtype, optional
        Elementwise scale and shift; absent means 1 and 0.
    eps : float
        Added to the (biased) variance before the square root.

    Returns
    -------
    Tensor, the shape and dtype of ``input``

    Raises
    ------
    TypeError
        input not float32/float64; weight or bias of another dtype; eps not a number.
    ValueError
        normalized_shape empty or not ints; input's trailing shape not normalized_shape;
        weight or bias of another shape.
    """
    shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
    if not shape or not all(is_int(n) and n >= 0 for n in shape):
        raise ValueError(f"layer_norm: normalized_shape must be an int or a non-empty sequence "
                         f"of non-negative ints, got {normalized_shape!r}")
    shape = tuple(int(n) for n in shape)
    check_compute_dtype(input, "layer_norm: input")
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        raise ValueError(f"layer_norm: given normalized_shape={list(shape)}, expected input "
                         f"with shape [*, {', '.join(map(str, shape))}], got {tuple(input.shape)}")
    _check_parameters("layer_norm", input, shape, [("weight", weight), ("bias", bias)])
    eps = _as_float(eps, "layer_norm: eps")
    features = math.prod(shape)
    rows = math.prod(input.shape[:input.ndim - len(shape)])
    return Normalize.apply(input, weight, bias, rows_shape=(rows, features),
                           affine_shape=(rows, features, 1), eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation (Wu & He, 2018): the channels split into ``num_groups`` groups of
    consecutive channels, each sample standardised over a group's channels and the spatial
    axes, then a per-channel scale and shift. ``num_groups=1`` normalises whole samples (layer
    norm over (C, H, W) with per-channel parameters); ``num_groups=C`` is instance norm.

    Parameters
    ----------
    input : Tensor, shape (N, C, *), float32 or float64
        Empty axes give an empty result, and weight and bias zero gradients (as PyTorch, but
        for empty spatial axes, where torch 2.13's weight gradient is NaN).
    num_groups : int
        G, dividing C.
    weight, bias : Tensor, shape (C,), input's dtype, optional
    eps : float
        Added to the (biased) variance before the square root.

    Returns
    -------
    Tensor, the shape and dtype of ``input``

    Raises
    ------
    TypeError
        input not float32/float64; weight or bias of another dtype; eps not a number.
    ValueError
        Fewer than 2 dimensions; num_groups not a positive int or not dividing C; weight or
        bias not of shape (C,); exactly one value per group (PyTorch's "more than 1 value per
        channel").
    """
    if input.ndim < 2:
        raise ValueError(f"group_norm: input must be (N, C, *) with at least 2 dimensions, got "
                         f"shape {tuple(input.shape)}")
    check_compute_dtype(input, "group_norm: input")
    groups = check_positive_int(num_groups, "group_norm: num_groups")
    batch, channels, length = input.shape[0], input.shape[1], math.prod(input.shape[2:])
    if channels % groups:
        raise ValueError(f"group_norm: the number of channels must be divisible by num_groups, "
                         f"got input of shape {tuple(input.shape)} and num_groups={groups}")
    if batch * channels // groups * length == 1:  # PyTorch's check, word for word
        raise ValueError(f"group_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)}")
    _check_parameters("group_norm", input, (channels,), [("weight", weight), ("bias", bias)])
    eps = _as_float(eps, "group_norm: eps")
    return Normalize.apply(input, weight, bias,
                           rows_shape=(batch * groups, channels // groups * length),
                           affine_shape=(batch, channels, length), eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation (Ulyanov et al., 2016): each (sample, channel) standardised over
    its spatial axes (group_norm with one group per channel), then a per-channel scale and
    shift.

    Parameters
    ----------
    input : Tensor, shape (N, C, *), float32 or float64
        Empty axes give an empty result, and weight and bias zero gradients (torch 2.13
        raises an internal IndexError when N or C is 0 and weight is given; not copied).
    running_mean, running_var : ndarray or Tensor, shape (C,), input's dtype, or None
        Running estimates. With ``use_input_stats``, updated in place (PyTorch's rule: each
        sample's mean and unbiased variance, averaged over the batch, enter
        ``running = (1 - momentum) * running + momentum * batch``; as in torch 2.13, an empty
        batch makes them NaN and empty spatial axes leave them unchanged). Without
        ``use_input_stats``, the statistics to normalise with.
    weight, bias : Tensor, shape (C,), input's dtype, optional
    use_input_stats : bool
        True: each instance's own mean and biased variance. False: the running estimates.
    momentum, eps : float

    Returns
    -------
    Tensor, the shape and dtype of ``input``

    Raises
    ------
    TypeError
        input not float32/float64; parameters or running estimates of another dtype;
        momentum or eps not a number.
    ValueError
        Fewer than 2 dimensions; per-channel arrays of the wrong shape; only one of the running
        estimates, or none with ``use_input_stats=False``; exactly one spatial element with
        ``use_input_stats``; read-only running estimates to update.
    """
    running_mean, running_var = (a.data if isinstance(a, Tensor) else a
                                 for a in (running_mean, running_var))
    if input.ndim < 2:
        raise ValueError(f"instance_norm: input must be (N, C, *) with at least 2 dimensions, "
                         f"got shape {tuple(input.shape)}")
    check_compute_dtype(input, "instance_norm: input")
    batch, channels, length = input.shape[0], input.shape[1], math.prod(input.shape[2:])
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must both be arrays or "
                         "both be None")
    _check_parameters("instance_norm", input, (channels,),
                      [("running_mean", running_mean), ("running_var", running_var),
                       ("weight", weight), ("bias", bias)])
    momentum = _as_float(momentum, "instance_norm: momentum")
    eps = _as_float(eps, "instance_norm: eps")
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm: running_mean and running_var are required when "
                             "use_input_stats=False (they are the statistics used)")
        return BatchNorm.apply(input, weight, bias, running_mean=running_mean,
                               running_var=running_var, batch_stats=False, momentum=0.0, eps=eps)
    if length == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {tuple(input.shape)}")
    if running_mean is not None:
        for name, array in (("running_mean", running_mean), ("running_var", running_var)):
            if not array.flags.writeable:
                raise ValueError(f"instance_norm: {name} is read-only, but use_input_stats "
                                 "updates it in place; pass a writable copy (or None)")
        _update_instance_running_stats(input.data, running_mean, running_var, momentum)
    return Normalize.apply(input, weight, bias, rows_shape=(batch * channels, length),
                           affine_shape=(batch, channels, length), eps=eps)


def _update_instance_running_stats(x, running_mean, running_var, momentum):
    """PyTorch's rule: the batch's mean of the per-instance means and unbiased variances.
    Empty inputs as torch 2.13: no instance (N = 0) makes the estimates NaN (a mean over no
    sample), empty spatial axes leave them as they are."""
    batch, channels = x.shape[:2]
    x3 = x.reshape(batch, channels, math.prod(x.shape[2:]))  # (N, C, *) -> (N, C, L)
    if batch == 0:
        mean = var = np.full(channels, np.nan)
    elif x3.size == 0:
        return
    else:
        x3 = x3.astype(np.float64)
        mean, var = x3.mean(axis=(0, 2)), x3.var(axis=2, ddof=1).mean(axis=0)
    running_mean[...] = (1 - momentum) * running_mean + momentum * mean
    running_var[...] = (1 - momentum) * running_var + momentum * var


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
