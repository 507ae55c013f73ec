"""``Conv2d`` and ``ConvTranspose2d``: the convolution layers (``F.conv2d``,
``F.conv_transpose2d``), with PyTorch's signatures and init."""

import math

import numpy as np

from .. import functional as F
from .._checks import check_positive_int
from ..kernels.geometry import pair, resolve_padding
from . import init
from .module import Module, Parameter, place

__all__ = ["Conv2d", "ConvTranspose2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution (cross-correlation) over ``(N, C_in, H, W)`` images.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int)
    padding : int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'
        'same' gives ``ceil(H / stride)`` outputs for any stride (TensorFlow's rule, the odd
        cell of padding on the bottom/right; for stride 1 it is PyTorch's 'same').
    dilation : int or (int, int)
    groups : int
        Split channels into ``groups`` independent convolutions (``groups == in_channels``:
        depthwise). Must divide both channel counts.
    bias : bool
    padding_mode : 'zeros', 'reflect', 'replicate' or 'circular'
        What the border is filled with. As in PyTorch, the other modes than 'zeros' pad the
        input with ``F.pad(x, (left, right, top, bottom), mode=padding_mode)`` and then
        convolve without padding ('same' padding is resolved on the input's size first).
    device, dtype : PyTorch's factory arguments: the CPU; float32 (default) or float64.

    Raises
    ------
    ValueError, TypeError
        A channel count or groups not a positive int (PyTorch builds a layer with 0
        channels; minicnn's ``conv2d`` refuses to run one, so the layer is refused when built),
        groups that do not divide both channel counts, kernel_size/stride/dilation not
        positive or not below 2**31, a bad padding.

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels // groups, KH, KW)
        ``kaiming_uniform_(a=sqrt(5))``: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with
        ``fan_in = in_channels // groups * KH * KW`` (PyTorch's default).
    bias : Parameter, shape (out_channels,), or None
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Shapes: ``(N, C_in, H, W)`` -> ``(N, C_out, OH, OW)``, see ``F.conv_output_size``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__()
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {list(PADDING_MODES)}, but "
                             f"got padding_mode={padding_mode!r}")
        self.padding_mode = padding_mode
        self.in_channels = in_channels = check_positive_int(in_channels, "Conv2d: in_channels")
        self.out_channels = out_channels = check_positive_int(out_channels,
                                                              "Conv2d: out_channels")
        self.groups = groups = check_positive_int(groups, "Conv2d: groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide both in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        try:  # geometry's messages name the argument; say which layer raised them
            self.kernel_size = pair(kernel_size, "kernel_size")
            self.stride = pair(stride, "stride")
            self.dilation = pair(dilation, "dilation")
            # the form (and unknown strings), not the sizes: the input's size decides those
            pads = resolve_padding(padding, (1, 1), self.kernel_size)
        except (TypeError, ValueError) as error:
            raise type(error)(f"Conv2d: {error}") from None
        if isinstance(padding, str):
            self.padding = padding
        else:
            symmetric = all(before == after for before, after in pads)
            self.padding = tuple(p[0] for p in pads) if symmetric else pads
        kh, kw = self.kernel_size
        self.weight = Parameter(np.empty((out_channels, in_channels // groups, kh, kw),
                                         dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        place(self, device, dtype, "Conv2d")

    def reset_parameters(self):
        """Draw fresh weights with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.weight.shape[2] * self.weight.shape[3]
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if self.padding_mode == "zeros":
            return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                            dilation=self.dilation, groups=self.groups)
        (top, bottom), (left, right) = resolve_padding(self.padding, x.shape[2:], self.kernel_size,
                                                       self.stride, self.dilation)
        x = F.pad(x, (left, right, top, bottom), mode=self.padding_mode)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=0,
                        dilation=self.dilation, groups=self.groups)

    def extra_repr(self):
        return _conv_extra_repr(self)


class ConvTranspose2d(Module):
    """Transposed 2-D convolution over ``(N, C_in, H, W)`` images (``F.conv_transpose2d``):
    the gradient of a ``Conv2d`` with respect to its input, used to upsample (decoders,
    GANs, segmentation heads).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride : int or (int, int)
    padding : int or (int, int)
        Cells cut off each border of the full output.
    output_padding : int or (int, int)
        Cells added at the bottom/right; smaller than the stride or the dilation.
    groups : int
    bias : bool
    dilation : int or (int, int)
    padding_mode : 'zeros' (PyTorch offers no other for this layer)
    device, dtype : PyTorch's factory arguments: the CPU; float32 (default) or float64.

    Attributes
    ----------
    weight : Parameter, shape (in_channels, out_channels // groups, KH, KW)
        ``kaiming_uniform_(a=sqrt(5))`` with ``fan_in = weight.shape[1] * KH * KW``
        (PyTorch's default: the fan computed from this shape as for any weight).
    bias : Parameter, shape (out_channels,), or None; ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Shapes: ``(N, C_in, H, W)`` -> ``(N, C_out, OH, OW)`` with ``OH = (H - 1) * stride -
    2 * padding + dilation * (KH - 1) + output_padding + 1``. ``forward(x, output_size)``
    picks the output_padding that gives ``output_size`` ((OH, OW), or with N and C in front),
    as PyTorch does, instead of the layer's own.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError('ConvTranspose2d: only "zeros" padding mode is supported for '
                             f"ConvTranspose2d, got padding_mode={padding_mode!r}")
        self.padding_mode = padding_mode
        name = "ConvTranspose2d"
        self.in_channels = in_channels = check_positive_int(in_channels, f"{name}: in_channels")
        self.out_channels = out_channels = check_positive_int(out_channels,
                                                              f"{name}: out_channels")
        self.groups = groups = check_positive_int(groups, f"{name}: groups")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide both in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        try:
            self.kernel_size = pair(kernel_size, "kernel_size")
            self.stride = pair(stride, "stride")
            self.padding = pair(padding, "padding", minimum=0)
            self.output_padding = pair(output_padding, "output_padding", minimum=0)
            self.dilation = pair(dilation, "dilation")
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}: {error}") from None
        kh, kw = self.kernel_size
        self.weight = Parameter(np.empty((in_channels, out_channels // groups, kh, kw),
                                         dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        place(self, device, dtype, name)

    reset_parameters = Conv2d.reset_parameters

    def forward(self, x, output_size=None):
        output_padding = (self.output_padding if output_size is None
                          else self._output_padding(x, output_size))
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride,
                                  padding=self.padding, output_padding=output_padding,
                                  groups=self.groups, dilation=self.dilation)

    def _output_padding(self, x, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's rule and message)."""
        requested, output_size = output_size, tuple(output_size)
        if len(output_size) == x.ndim:
            output_size = output_size[2:]
        if len(output_size) != 2:
            raise ValueError(f"ConvTranspose2d: output_size must have 2 or {x.ndim} elements "
                             f"(got {len(output_size)})")
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            x.shape[2:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(low + s - 1 for low, s in zip(smallest, self.stride))
        for size, low, high in zip(output_size, smallest, largest):
            if not low <= size <= high:
                raise ValueError(f"requested an output size of {requested}, but valid "
                                 f"sizes range from {list(smallest)} to {list(largest)} (for "
                                 f"an input of {list(x.shape[2:])})")
        return tuple(size - low for size, low in zip(output_size, smallest))

    def extra_repr(self):
        return _conv_extra_repr(self)


def _conv_extra_repr(conv):
    """PyTorch's printout of a convolution layer: the sizes, then each setting that is not
    its default, in PyTorch's order."""
    s = (f"{conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size}, "
         f"stride={conv.stride}")
    if conv.padding != (0, 0):
        s += f", padding={conv.padding}"
    if conv.dilation != (1, 1):
        s += f", dilation={conv.dilation}"
    if getattr(conv, "output_padding", (0, 0)) != (0, 0):
        s += f", output_padding={conv.output_padding}"
    if conv.groups != 1:
        s += f", groups={conv.groups}"
    if conv.bias is None:
        s += ", bias=False"
    if conv.padding_mode != "zeros":
        s += f", padding_mode={conv.padding_mode}"
    return s
