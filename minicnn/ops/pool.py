"""Pooling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d``, ``adaptive_max_pool2d``
and ``max_unpool2d``, forward and backward.

Shape legend: N batch, C channels, H x W input, KH x KW window, SH x SW stride,
OH x OW output. Inputs are (N, C, H, W), or (C, H, W) for a single image (as PyTorch).

Output size along one axis (``minicnn/kernels/geometry.py``, the one place it is computed)::

    out = floor((H + top + bottom - KH) / SH) + 1          (ceil instead with ceil_mode,
                                                            dropping a last window that
                                                            would start in the padding)

Padding: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, 'valid' (none) or 'same'
(TensorFlow's rule for any stride: ``out = ceil(H / SH)``, an odd total padding puts the
extra row/column at the bottom/right). Explicit padding may be at most half the window on
each side (PyTorch's rule: a window made mostly of padding has no meaning).

Max pooling, per window (padding is -inf, so a padded cell never wins)::

    out[i, j] = max_{(h, w) in window(i, j)} x[h, w]
    dx[h, w]  = sum of g[i, j] over the windows (i, j) whose winner is (h, w)

One winner per window, the first maximum in scan order on ties (PyTorch); overlapping
windows (stride < kernel, AlexNet's 3x3 stride 2) add their gradients into a shared winner.

With ``dilation (DH, DW)`` window cell ``(a, b)`` is input cell ``(i * SH - top + a * DH,
j * SW - left + b * DW)``. ``return_indices`` gives each winner as its flat index ``h * W + w``
in its (H, W) plane (int64, PyTorch's convention).

Average pooling, per window (padding is 0)::

    out[i, j] = sum_{(h, w) in window(i, j)} x[h, w] / divisor(i, j)
    dx[h, w]  = sum of g[i, j] / divisor(i, j) over the windows containing (h, w)

``divisor`` counts the window's real cells, plus its explicit padding cells when
``count_include_pad=True`` (PyTorch's default); the ceil-mode overhang past the padding is
never counted. TensorFlow's 'same' average pooling divides by the real cells only: that is
``padding='same', count_include_pad=False``.

Adaptive average pooling to (OH, OW): output row ``i`` averages input rows
``floor(i * H / OH)`` to ``ceil((i + 1) * H / OH) - 1`` (columns likewise), so bins may
differ in size by one and overlap when OH does not divide H. ``output_size=1`` is global
average pooling. ``out = P_H x P_W^T`` and ``dx = P_H^T g P_W`` with the bin-averaging
matrices ``P`` (see ``minicnn/kernels/pool.py``). Adaptive max pooling takes the max over
the same bins, its gradient going to each bin's winner as in max pooling.

Max unpooling, the partial inverse of max pooling with its indices::

    out[indices[k]] = x[k]   (zeros elsewhere)        dx[k] = g[indices[k]]   (a gather)
"""

import numpy as np

from .._checks import check_compute_dtype, is_int
from ..autograd import ArrayFunction, _new_tensor
from ..kernels import pool as kernels
from ..kernels.geometry import SIZE_LIMIT, output_size, pair, resolve_padding

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "max_unpool2d"]


def _check_input(name, x, empty_channels=False):
    """The (N, C, H, W) shape of a 4-D or 3-D float32/float64 input, or a clear error.

    Only the batch may be empty, and the channels when ``empty_channels`` (PyTorch's rules:
    its adaptive pooling takes C = 0, its max and average pooling do not).
    """
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: x must be 4-D (N, C, H, W) or 3-D (C, H, W), got "
                         f"{x.ndim}-D input of shape {tuple(x.shape)}")
    check_compute_dtype(x, f"{name}: x")
    shape = (1,) * (4 - x.ndim) + tuple(x.shape)
    if 0 in shape[2:] or (shape[1] == 0 and not empty_channels):
        allowed = "the batch (N) and the channels (C)" if empty_channels else "the batch (N)"
        raise ValueError(f"{name}: x of shape {tuple(x.shape)} is empty along an axis that "
                         f"must not be; only {allowed} may be 0")
    return shape


def check_pool_settings(name, kernel_size, stride, padding):
    """Validate pooling settings without an input (``nn.MaxPool2d`` checks them when built):
    ``(kernel_hw, stride_hw)``; ``stride=None`` means ``kernel_size``. Sizes must be
    positive and below 2**31, a padding string known, explicit padding at most half the
    kernel on each side (PyTorch's rule)."""
    try:  # geometry's messages name the argument; say which op raised them
        kernel_hw = pair(kernel_size, "kernel_size")
        stride_hw = kernel_hw if stride is None else pair(stride, "stride")
        pads = resolve_padding(padding, (1, 1), kernel_hw, stride_hw)  # the form, not the sizes
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None
    if not isinstance(padding, str):
        for axis_pads, k, axis in zip(pads, kernel_hw, ("height", "width")):
            if 2 * max(axis_pads) > k:
                raise ValueError(f"{name}: padding={padding!r} is more than half the kernel "
                                 f"{axis} {k}; pooling padding must be at most kernel_size / 2 "
                                 f"on each side")
    return kernel_hw, stride_hw


def check_dilation(name, dilation):
    """``dilation`` (an int or a pair of positive ints) as ``(DH, DW)``, or a clear error."""
    try:
        return pair(dilation, "dilation")
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None


def _pool_geometry(name, x, kernel_size, stride, padding, ceil_mode, dilation=1):
    """Validate the settings: ``(kernel_hw, stride_hw, ((top, bottom), (left, right)), out_hw)``
    (and, for max pooling, the ``(DH, DW)`` dilation checked by ``check_dilation``)."""
    in_hw = _check_input(name, x)[2:]
    kernel_hw, stride_hw = check_pool_settings(name, kernel_size, stride, padding)
    dilation_hw = check_dilation(name, dilation)
    pads = resolve_padding(padding, in_hw, kernel_hw, stride_hw, dilation_hw)
    try:
        out_hw = tuple(output_size(n, k, s, before, after, d, ceil_mode=ceil_mode)
                       for n, k, s, (before, after), d in zip(in_hw, kernel_hw, stride_hw, pads,
                                                              dilation_hw))
    except ValueError as error:
        raise ValueError(f"{name}: kernel_size={kernel_hw} does not fit the input of size "
                         f"{in_hw} with padding {pads}: {error}") from None
    if dilation_hw != (1, 1):  # taps d apart may all fall in the padding: refuse such a window
        for n, k, s, (before, _), d, o, axis in zip(in_hw, kernel_hw, stride_hw, pads,
                                                    dilation_hw, out_hw, ("height", "width")):
            for i in range(o):
                if not any(0 <= i * s - before + a * d < n for a in range(k)):
                    raise ValueError(f"{name}: with dilation {dilation_hw} and padding {pads}, "
                                     f"window {i} along the {axis} holds no input cell")
    return kernel_hw, stride_hw, pads, out_hw


def _as_4d(x):
    """(C, H, W) -> (1, C, H, W); a 4-D array is returned as it is."""
    return x[None] if x.ndim == 3 else x


class MaxPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, kernel_hw, stride_hw, padding, out_hw, dilation_hw, indices_to=None):
        out, argmax = kernels.max_pool2d_forward(_as_4d(x), kernel_hw, stride_hw, padding,
                                                 out_hw, dilation_hw)
        ctx.save_for_backward(argmax)
        ctx.input_shape = x.shape
        if indices_to is not None:  # return_indices: the caller collects the winners
            indices_to.append(argmax.reshape(x.shape[:-2] + argmax.shape[-2:]))
        return out.reshape(x.shape[:-2] + out.shape[-2:])

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        grad_x = kernels.max_pool2d_backward(_as_4d(grad), argmax, ctx.input_shape[-2:])
        return grad_x.reshape(ctx.input_shape)


def _with_indices(function, x, return_indices, **settings):
    """``function.apply(x, **settings)``, and with ``return_indices`` also its winners'
    flat indices as an int64 tensor (no gradient), as PyTorch's ``(output, indices)``."""
    if not return_indices:
        return function.apply(x, **settings)
    holder = []
    out = function.apply(x, indices_to=holder, **settings)
    return out, _new_tensor(holder[0])


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling (PyTorch's signature and argument order).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
        N may be 0 (an empty result); C, H and W may not (PyTorch's rule).
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'
        Padded cells never win the max. Explicit padding is at most ``kernel_size / 2``.
    dilation : int or (int, int)
        Gap between window cells: window cell ``(a, b)`` is input cell
        ``(i * SH - top + a * DH, j * SW - left + b * DW)``; the window spans
        ``DH * (KH - 1) + 1`` rows. A window whose cells all fall in the padding is an error.
    ceil_mode : bool
        Round the output size up (a partial last window), as PyTorch.
    return_indices : bool
        Also return each window's winner as its flat index ``h * W + w`` in its input plane
        (int64, the shape of the output): what ``max_unpool2d`` takes.

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW), x's dtype; with ``return_indices`` the pair
    ``(output, indices)``.
    """
    kernel_hw, stride_hw, pads, out_hw = _pool_geometry("max_pool2d", x, kernel_size, stride,
                                                        padding, ceil_mode, dilation)
    return _with_indices(MaxPool2d, x, return_indices, kernel_hw=kernel_hw, stride_hw=stride_hw,
                         padding=pads, out_hw=out_hw,
                         dilation_hw=check_dilation("max_pool2d", dilation))


class AvgPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, kernel_hw, stride_hw, padding, out_hw, count_include_pad):
        out = kernels.avg_pool2d_forward(_as_4d(x), kernel_hw, stride_hw, padding, out_hw,
                                         count_include_pad)
        ctx.settings = (kernel_hw, stride_hw, padding, count_include_pad)
        ctx.input_shape = x.shape
        return out.reshape(x.shape[:-2] + out.shape[-2:])

    @staticmethod
    def backward(ctx, grad):
        grad_x = kernels.avg_pool2d_backward(_as_4d(grad), ctx.input_shape[-2:], *ctx.settings)
        return grad_x.reshape(ctx.input_shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """2-D average pooling.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
        N may be 0 (an empty result); C, H and W may not (PyTorch's rule).
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'
        Padded cells are zeros. Explicit padding is at most ``kernel_size / 2``.
    ceil_mode : bool
        Round the output size up (a partial last window), as PyTorch.
    count_include_pad : bool
        Divide by the window's real cells plus its explicit padding (True, PyTorch's
        default) or by its real cells only (False). The ceil-mode overhang is never counted.
        TensorFlow's ``padding='SAME'`` average pooling is ``padding='same',
        count_include_pad=False``.

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW), x's dtype
    """
    kernel_hw, stride_hw, pads, out_hw = _pool_geometry("avg_pool2d", x, kernel_size, stride,
                                                        padding, ceil_mode)
    return AvgPool2d.apply(x, kernel_hw=kernel_hw, stride_hw=stride_hw, padding=pads,
                           out_hw=out_hw, count_include_pad=bool(count_include_pad))


class AdaptiveAvgPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.input_shape = x.shape
        out = kernels.adaptive_avg_pool2d_forward(_as_4d(x), out_hw)
        return out.reshape(x.shape[:-2] + out.shape[-2:])

    @staticmethod
    def backward(ctx, grad):
        grad_x = kernels.adaptive_avg_pool2d_backward(_as_4d(grad), ctx.input_shape[-2:])
        return grad_x.reshape(ctx.input_shape)


def _adaptive_output_size(output_size, in_hw, name="adaptive_avg_pool2d"):
    """``output_size`` (int, or pair whose None entries keep the input size) as ``(OH, OW)``."""
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2 or not all(s is None or is_int(s) for s in sizes):
        raise TypeError(f"{name}: output_size must be an int or a pair of ints "
                        f"(or None), got {output_size!r}")
    out_hw = tuple(n if s is None else int(s) for s, n in zip(sizes, in_hw))
    if min(out_hw) < 1 or max(out_hw) >= SIZE_LIMIT:
        raise ValueError(f"{name}: output_size must be positive and below 2**31, "
                         f"got {output_size!r}")
    return out_hw


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size, whatever the input size (PyTorch's bins).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
        N and C may be 0 (an empty result); H and W may not (PyTorch's rule).
    output_size : int or (int or None, int or None)
        ``(OH, OW)``; an int means square; None keeps that input size. ``1`` is global
        average pooling.

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW), x's dtype
    """
    in_hw = _check_input("adaptive_avg_pool2d", x, empty_channels=True)[2:]
    return AdaptiveAvgPool2d.apply(x, out_hw=_adaptive_output_size(output_size, in_hw))


class AdaptiveMaxPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, out_hw, indices_to=None):
        out, argmax = kernels.adaptive_max_pool2d_forward(_as_4d(x), out_hw)
        ctx.save_for_backward(argmax)
        ctx.input_shape = x.shape
        if indices_to is not None:
            indices_to.append(argmax.reshape(x.shape[:-2] + argmax.shape[-2:]))
        return out.reshape(x.shape[:-2] + out.shape[-2:])

    backward = MaxPool2d.backward  # each bin's gradient goes to its winner, as max pooling


def adaptive_max_pool2d(x, output_size, return_indices=False):
    """Max pooling to a fixed output size over PyTorch's adaptive bins (those of
    ``adaptive_avg_pool2d``: they may overlap and differ in size).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
        N and C may be 0; H and W may not.
    output_size : int or (int or None, int or None)
        None keeps that input size.
    return_indices : bool
        Also return the winners' flat indices ``h * W + w`` (int64), as ``max_pool2d``.

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW); with ``return_indices``, ``(output, indices)``.
    Forward ``out[i, j] = max over bin (i, j)`` (first maximum in scan order on ties);
    backward ``dx[winner of (i, j)] += g[i, j]`` (overlapping bins add up).
    """
    in_hw = _check_input("adaptive_max_pool2d", x, empty_channels=True)[2:]
    out_hw = _adaptive_output_size(output_size, in_hw, "adaptive_max_pool2d")
    return _with_indices(AdaptiveMaxPool2d, x, return_indices, out_hw=out_hw)


class MaxUnpool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, indices, out_hw):
        ctx.indices = _as_4d(indices)
        out = kernels.max_unpool2d_forward(_as_4d(x), ctx.indices, out_hw)
        return out.reshape(x.shape[:-2] + tuple(out_hw))

    @staticmethod
    def backward(ctx, grad):
        grad_x = kernels.max_unpool2d_backward(_as_4d(grad), ctx.indices)
        return grad_x.reshape(grad.shape[:-2] + ctx.indices.shape[-2:]), None


def _unpool_output_size(x_hw, kernel_hw, stride_hw, padding, output_size):
    """PyTorch's ``_unpool_output_size``: ``(H - 1) * SH - 2 * ph + KH`` per axis, or the
    given ``output_size`` (its last two entries) if within ``stride`` of that, exclusive."""
    default = tuple((n - 1) * s - 2 * p + k
                    for n, s, p, k in zip(x_hw, stride_hw, padding, kernel_hw))
    if output_size is None:
        sizes = default
    else:
        sizes = tuple(output_size)
        if len(sizes) not in (2, 3, 4) or not all(is_int(v) for v in sizes):
            raise ValueError(f"max_unpool2d: output_size should be a sequence of 2 ints (or "
                             f"with the leading batch/channel sizes), got {output_size!r}")
        sizes = tuple(int(v) for v in sizes[-2:])
        for axis, (size, d, s) in enumerate(zip(sizes, default, stride_hw)):
            if not d - s < size < d + s:
                raise ValueError(f"max_unpool2d: invalid output_size {output_size!r} (dim "
                                 f"{axis} must be between {d - s} and {d + s}, exclusive)")
    if min(sizes) < 1:
        raise ValueError(f"max_unpool2d: the output size {sizes} is not positive")
    return sizes


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: each value goes back to its winner's place
    (``indices`` from ``max_pool2d(..., return_indices=True)``), every other cell is 0.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
    indices : int64 Tensor or array of input's shape
        Flat indices into each (OH, OW) output plane, in ``[0, OH * OW)``.
    kernel_size, stride, padding : int or (int, int)
        The max pooling's settings; ``stride`` defaults to ``kernel_size``.
    output_size : (OH, OW) or (N, C, OH, OW), optional
        Default ``(H - 1) * SH - 2 * ph + KH`` per axis; a given size must be within
        ``stride`` of it (exclusive), as PyTorch (it resolves ``ceil_mode``'s ambiguity).

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW), input's dtype.
    Forward ``out[indices[k]] = x[k]`` (a repeated index keeps the last value in scan order);
    backward, a gather: ``dx[k] = g[indices[k]]``.
    """
    shape = _check_input("max_unpool2d", input)
    kernel_hw, stride_hw = check_pool_settings("max_unpool2d", kernel_size, stride, 0)
    try:
        padding_hw = pair(padding, "padding", minimum=0)
    except (TypeError, ValueError) as error:
        raise type(error)(f"max_unpool2d: {error}") from None
    index_array = indices.data if hasattr(indices, "data") and not isinstance(
        indices, np.ndarray) else np.asarray(indices)
    if index_array.dtype != np.int64:
        raise TypeError(f"max_unpool2d: indices must be int64 (as max_pool2d returns them), "
                        f"got {index_array.dtype}")
    if index_array.shape != tuple(input.shape):
        raise ValueError(f"max_unpool2d: indices of shape {index_array.shape} do not match the "
                         f"input's shape {tuple(input.shape)}")
    out_hw = _unpool_output_size(shape[2:], kernel_hw, stride_hw, padding_hw, output_size)
    if index_array.size and (index_array.min() < 0
                             or index_array.max() >= out_hw[0] * out_hw[1]):
        raise ValueError(f"max_unpool2d: an index lies outside the output plane of "
                         f"{out_hw[0]} x {out_hw[1]} = {out_hw[0] * out_hw[1]} cells")
    return MaxUnpool2d.apply(input, index_array, out_hw=out_hw)
