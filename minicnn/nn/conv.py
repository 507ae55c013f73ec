"""``Conv2d``: the convolution layer (``F.conv2d``), with PyTorch's signature and init."""

import math

import numpy as np

from .. import functional as F
from .._checks import check_positive_int
from ..kernels.geometry import pair, resolve_padding
from . import init
from .module import Module, Parameter, place

__all__ = ["Conv2d"]


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
    padding_mode : 'zeros'
        PyTorch's argument; its other borders ('reflect', ...) are not offered.
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
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: padding_mode must be 'zeros' (minicnn pads with zeros "
                             f"only; pad with F.pad first for other borders), got "
                             f"{padding_mode!r}")
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
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation, groups=self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
