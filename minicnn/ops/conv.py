"""2-D convolution ``conv2d`` and the transposed convolution ``conv_transpose2d``: forward
and backward (the kernels live in ``kernels/conv.py``).

Shapes: x (N, C, H, W), weight (CO, C // G, KH, KW), bias (CO,), out (N, CO, OH, OW);
G = groups, stride (sh, sw), dilation (dh, dw), padding (top, bottom), (left, right).

Forward (a cross-correlation, as in PyTorch; output channel ``co`` is in group
``g = co // (CO // G)`` and sees input channels ``g * C/G ... (g + 1) * C/G - 1``)::

    out[n, co, oh, ow] = bias[co] + sum_{ci, kh, kw} weight[co, ci, kh, kw]
                                    * x_pad[n, g * C/G + ci, oh * sh + kh * dh, ow * sw + kw * dw]

Output size, per axis (``minicnn.functional.conv_output_size`` computes it)::

    OH = floor((H + top + bottom - dh * (KH - 1) - 1) / sh) + 1

Padding: an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``'valid'`` (none) or
``'same'``: TensorFlow's rule for any stride, ``OH = ceil(H / sh)`` with
``total = max((OH - 1) * sh + dh * (KH - 1) + 1 - H, 0)``, ``top = total // 2``,
``bottom = total - top`` (the odd row goes to the bottom, the odd column to the right).
For stride 1 this is PyTorch's ``'same'``; PyTorch refuses ``'same'`` with stride > 1.

Backward, with ``gy = dL/d(out)``::

    dx[n, c, ih, iw]          = sum over every (co, oh, ow, kh, kw) whose window reads (ih, iw)
                                of weight[co, ci, kh, kw] * gy[n, co, oh, ow]
    dweight[co, ci, kh, kw]   = sum_{n, oh, ow} gy[n, co, oh, ow] * x_pad[n, ..., oh * sh + kh * dh, ow * sw + kw * dw]
    dbias[co]                 = sum_{n, oh, ow} gy[n, co, oh, ow]

Input rows and columns that no window covers (when the stride does not divide
``H + top + bottom - dh * (KH - 1) - 1``) get zero gradient.

Transposed convolution: ``conv_transpose2d(y, weight)`` *is* the ``dx`` formula above, for
``gy = y`` (N, C, H, W) and a weight (C, CO // G, KH, KW): the gradient of ``conv2d`` with
respect to its input, as an op. Each input cell spreads ``weight`` times its value over a
window of the output (upsampling by the stride)::

    out[n, g * CO/G + co, h * sh + kh * dh - top, w * sw + kw * dw - left]
        += weight[g * C/G + ci, co, kh, kw] * y[n, g * C/G + ci, h, w]     (then + bias[co])
    OH = (H - 1) * sh - top - bottom + dh * (KH - 1) + output_padding_h + 1

``output_padding`` (below the stride or the dilation) picks among the input sizes that a
strided ``conv2d`` maps to the same H. Its backward is a ``conv2d`` forward (``dy =
conv2d(gout, weight)``) and a ``conv2d`` weight gradient (``dweight``).
"""

import numpy as np

from .._checks import check_compute_dtype, check_positive_int, check_same_dtype
from ..autograd import ArrayFunction
from ..kernels import conv as kernels
from ..kernels.geometry import output_size, pair, resolve_padding, transposed_output_size

__all__ = ["conv2d", "conv_transpose2d"]


class Conv2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        # the kernels take C-contiguous arrays (one compiled version each)
        x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
        bias = None if bias is None else np.ascontiguousarray(bias)
        ctx.save_for_backward(x, weight)
        ctx.settings = stride, padding, dilation, groups
        args = x, weight, bias, stride, padding, dilation, groups
        if ctx.needs_input_grad[1]:  # dweight will need the im2col columns: keep them if small
            out, ctx.columns = kernels.conv2d_forward(*args, keep_columns=True)
        else:
            out, ctx.columns = kernels.conv2d_forward(*args), None
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad = np.ascontiguousarray(grad)
        return kernels.conv2d_backward(x, weight, grad, *ctx.settings,
                                       needs=ctx.needs_input_grad, columns=ctx.columns)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over a batch of images, as PyTorch's ``conv2d``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W), float32 or float64
        May be read-only (a memory-mapped file) or a broadcast view; N may be 0 (an empty
        batch gives an empty output, and zero weight and bias gradients).
    weight : Tensor, shape (CO, C // groups, KH, KW), x's dtype
    bias : Tensor, shape (CO,), x's dtype, optional
    stride : int or (int, int)
    padding : int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'
        ``'same'`` gives ``ceil(H / stride)`` outputs for any stride (TensorFlow's rule; the
        odd padding row/column goes to the bottom/right). See the module docstring.
    dilation : int or (int, int)
        Spacing between kernel taps: the kernel spans ``dilation * (K - 1) + 1`` cells.
    groups : int
        Splits the channels into ``groups`` independent convolutions; must divide C and CO.
        ``groups == C`` is a depthwise convolution (channel multiplier CO // C).

    Returns
    -------
    Tensor, shape (N, CO, OH, OW), the dtype of x

    Raises
    ------
    TypeError
        x not float32/float64 (float16 included), or weight/bias of another dtype than x;
        settings of the wrong type.
    ValueError
        Wrong number of dimensions; no input channels, no output channels or an empty
        kernel (PyTorch refuses the last two; for C = 0 it returns a 0-channel output
        whatever CO is, which minicnn does not copy); channels that do not match
        ``weight`` and ``groups``; a bias of the wrong shape; stride, dilation or padding
        not positive (padding: negative) or not below 2**31; a kernel larger than the
        padded input.
    """
    stride, pads, dilation, groups = _check_arguments(x, weight, bias, stride, padding,
                                                      dilation, groups)
    return Conv2d.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation,
                        groups=groups)


def _check_arguments(x, weight, bias, stride, padding, dilation, groups):
    """``conv2d``'s settings as ``(stride, ((top, bottom), (left, right)), dilation, groups)``,
    or a TypeError/ValueError that names the argument."""
    if x.ndim != 4:
        raise ValueError(f"conv2d: x must be 4-D (N, C, H, W), got shape {tuple(x.shape)}; "
                         "for a single image use x.reshape(1, C, H, W)")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (C_out, C_in // groups, KH, KW), got shape "
                         f"{tuple(weight.shape)}")
    check_compute_dtype(x, "conv2d: x")
    check_same_dtype(x, "conv2d: x", [("conv2d: weight", weight), ("conv2d: bias", bias)])
    groups = check_positive_int(groups, "conv2d: groups")
    (_, c_in, h, w), (c_out, c_per_group, kh, kw) = x.shape, weight.shape
    if c_out == 0:
        raise ValueError(f"conv2d: weight has 0 output channels (shape {tuple(weight.shape)}); "
                         "a convolution needs at least one")
    if 0 in (kh, kw):
        raise ValueError(f"conv2d: weight has an empty kernel, (KH, KW) = ({kh}, {kw}) (shape "
                         f"{tuple(weight.shape)}); kernel sizes must be positive")
    if c_out % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the output channels "
                         f"(weight.shape[0]={c_out})")
    if c_in % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the input channels "
                         f"(x.shape[1]={c_in})")
    if c_in != c_per_group * groups:
        raise ValueError(f"conv2d: x has {c_in} channels (shape {tuple(x.shape)}) but weight "
                         f"(shape {tuple(weight.shape)}) with groups={groups} expects "
                         f"{c_per_group * groups} = weight.shape[1] * groups")
    if c_in == 0:
        raise ValueError(f"conv2d: x has 0 channels (shape {tuple(x.shape)}); a convolution "
                         "needs at least one input channel")
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(f"conv2d: bias must have shape ({c_out},), one value per output "
                         f"channel, got {tuple(bias.shape)}")
    try:  # geometry's messages name the argument; say which op raised them
        stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
        pads = resolve_padding(padding, (h, w), (kh, kw), stride, dilation)
        for n, k, s, (before, after), d in zip((h, w), (kh, kw), stride, pads, dilation):
            output_size(n, k, s, before, after, d)  # raises if the kernel does not fit
    except (TypeError, ValueError) as error:
        raise type(error)(f"conv2d: {error} (x shape {tuple(x.shape)}, weight shape "
                          f"{tuple(weight.shape)}, padding {padding!r})") from None
    return stride, pads, dilation, groups


class ConvTranspose2d(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
        bias = None if bias is None else np.ascontiguousarray(bias)
        ctx.save_for_backward(x, weight)
        ctx.settings = stride, padding, dilation, groups
        return kernels.conv_transpose2d_forward(x, weight, bias, stride, padding, output_padding,
                                                dilation, groups)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        return kernels.conv_transpose2d_backward(x, weight, np.ascontiguousarray(grad),
                                                 *ctx.settings, needs=ctx.needs_input_grad)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution, as PyTorch's ``conv_transpose2d`` (argument order included).

    It is the gradient of ``conv2d`` with respect to its input: for ``y = conv2d(x, weight,
    stride=s, padding=p, dilation=d, groups=g)`` and an upstream gradient ``gy``,
    ``conv_transpose2d(gy, weight, stride=s, padding=p, output_padding=op, groups=g,
    dilation=d)`` equals ``dL/dx`` (``op`` chosen so the shapes agree). See the module
    docstring for the formula.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W), float32 or float64
    weight : Tensor, shape (C, CO // groups, KH, KW), input's dtype
    bias : Tensor, shape (CO,), input's dtype, optional
    stride : int or (int, int)
    padding : int, (ph, pw) or ((top, bottom), (left, right))
        Cells cut off the full output (``dilation * (K - 1) - padding`` zeros of implicit
        padding, in the language of a convolution over the spread-out input).
    output_padding : int or (int, int)
        Extra cells added at the bottom/right; must be smaller than the stride or the
        dilation (PyTorch's rule).
    groups : int
    dilation : int or (int, int)

    Returns
    -------
    Tensor, shape (N, CO, OH, OW), ``OH = (H - 1) * sh - top - bottom + dh * (KH - 1) +
    output_padding_h + 1``

    Raises
    ------
    TypeError
        Input not float32/float64, weight/bias of another dtype, settings of the wrong type.
    ValueError
        Wrong number of dimensions; channels that do not match ``weight`` and ``groups``; a
        bias of the wrong shape; output_padding not smaller than stride or dilation; an
        output size below 1.
    """
    settings = _check_transposed_arguments(input, weight, bias, stride, padding, output_padding,
                                           groups, dilation)
    stride, pads, output_padding, dilation, groups = settings
    return ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=pads,
                                 output_padding=output_padding, dilation=dilation, groups=groups)


def _check_transposed_arguments(x, weight, bias, stride, padding, output_padding, groups,
                                dilation):
    """``conv_transpose2d``'s settings as ``(stride, ((top, bottom), (left, right)),
    output_padding, dilation, groups)``, or a TypeError/ValueError naming the argument."""
    name = "conv_transpose2d"
    if x.ndim != 4:
        raise ValueError(f"{name}: input must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    if weight.ndim != 4:
        raise ValueError(f"{name}: weight must be 4-D (C_in, C_out // groups, KH, KW), got "
                         f"shape {tuple(weight.shape)}")
    check_compute_dtype(x, f"{name}: input")
    check_same_dtype(x, f"{name}: input", [(f"{name}: weight", weight), (f"{name}: bias", bias)])
    groups = check_positive_int(groups, f"{name}: groups")
    (_, c_in, h, w), (c_weight, co_per_group, kh, kw) = x.shape, weight.shape
    if 0 in (co_per_group, kh, kw) or c_in == 0:
        raise ValueError(f"{name}: no channels or an empty kernel (input shape "
                         f"{tuple(x.shape)}, weight shape {tuple(weight.shape)})")
    if c_in % groups:
        raise ValueError(f"{name}: groups={groups} must divide the input channels "
                         f"(input.shape[1]={c_in})")
    if c_weight != c_in:
        raise ValueError(f"{name}: input has {c_in} channels (shape {tuple(x.shape)}) but "
                         f"weight (shape {tuple(weight.shape)}) expects weight.shape[0]="
                         f"{c_weight}")
    if bias is not None and tuple(bias.shape) != (co_per_group * groups,):
        raise ValueError(f"{name}: bias must have shape ({co_per_group * groups},), one value "
                         f"per output channel, got {tuple(bias.shape)}")
    try:
        stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
        if isinstance(padding, str):
            raise ValueError(f"padding must be an int or a pair of ints, got {padding!r}")
        pads = resolve_padding(padding, (h, w), (kh, kw))
        output_padding = pair(output_padding, "output_padding", minimum=0)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{name}: {error}") from None
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{name}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding[0]} output_padding_width: "
            f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
            f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
    try:
        for n, k, s, p, o, d in zip((h, w), (kh, kw), stride, pads, output_padding, dilation):
            transposed_output_size(n, k, s, p[0], p[1], o, d)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    return stride, pads, output_padding, dilation, groups
