"""Pooling: ``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d``, forward and backward.

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
matrices ``P`` (see ``minicnn/kernels/pool.py``).
"""

from .._checks import check_compute_dtype, is_int
from ..autograd import ArrayFunction
from ..kernels import pool as kernels
from ..kernels.geometry import SIZE_LIMIT, output_size, pair, resolve_padding

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]


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


def _pool_geometry(name, x, kernel_size, stride, padding, ceil_mode):
    """Validate the settings: ``(kernel_hw, stride_hw, ((top, bottom), (left, right)), out_hw)``."""
    in_hw = _check_input(name, x)[2:]
    kernel_hw, stride_hw = check_pool_settings(name, kernel_size, stride, padding)
    pads = resolve_padding(padding, in_hw, kernel_hw, stride_hw)
    try:
        out_hw = tuple(output_size(n, k, s, before, after, ceil_mode=ceil_mode)
                       for n, k, s, (before, after) in zip(in_hw, kernel_hw, stride_hw, pads))
    except ValueError as error:
        raise ValueError(f"{name}: kernel_size={kernel_hw} does not fit the input of size "
                         f"{in_hw} with padding {pads}: {error}") from None
    return kernel_hw, stride_hw, pads, out_hw


def _as_4d(x):
    """(C, H, W) -> (1, C, H, W); a 4-D array is returned as it is."""
    return x[None] if x.ndim == 3 else x


class MaxPool2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, kernel_hw, stride_hw, padding, out_hw):
        out, argmax = kernels.max_pool2d_forward(_as_4d(x), kernel_hw, stride_hw, padding,
                                                 out_hw)
        ctx.save_for_backward(argmax)
        ctx.input_shape = x.shape
        return out.reshape(x.shape[:-2] + out.shape[-2:])

    @staticmethod
    def backward(ctx, grad):
        (argmax,) = ctx.saved_tensors
        grad_x = kernels.max_pool2d_backward(_as_4d(grad), argmax, ctx.input_shape[-2:])
        return grad_x.reshape(ctx.input_shape)


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """2-D max pooling.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W) or (C, H, W), float32 or float64
        N may be 0 (an empty result); C, H and W may not (PyTorch's rule).
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'
        Padded cells never win the max. Explicit padding is at most ``kernel_size / 2``.
    ceil_mode : bool
        Round the output size up (a partial last window), as PyTorch.

    Returns
    -------
    Tensor, shape (N, C, OH, OW) or (C, OH, OW), x's dtype
    """
    kernel_hw, stride_hw, pads, out_hw = _pool_geometry("max_pool2d", x, kernel_size, stride,
                                                        padding, ceil_mode)
    return MaxPool2d.apply(x, kernel_hw=kernel_hw, stride_hw=stride_hw, padding=pads,
                           out_hw=out_hw)


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


def _adaptive_output_size(output_size, in_hw):
    """``output_size`` (int, or pair whose None entries keep the input size) as ``(OH, OW)``."""
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2 or not all(s is None or is_int(s) for s in sizes):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of ints "
                        f"(or None), got {output_size!r}")
    out_hw = tuple(n if s is None else int(s) for s, n in zip(sizes, in_hw))
    if min(out_hw) < 1 or max(out_hw) >= SIZE_LIMIT:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive and below 2**31, "
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
