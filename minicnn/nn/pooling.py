"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``, ``AdaptiveMaxPool2d``,
``MaxUnpool2d`` (``F.*_pool2d``, ``F.max_unpool2d``)."""

from .. import functional as F
from .._checks import is_int
from ..ops.pool import check_dilation, check_pool_settings
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d"]


class MaxPool2d(Module):
    """Maximum over each ``kernel_size`` window; ``(N, C, H, W)`` -> ``(N, C, OH, OW)``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int, a pair, 'same' or 'valid'
        Padded cells never win the maximum.
    dilation : int or (int, int)
        Gap between window cells (PyTorch's); 1 is a dense window.
    return_indices : bool
        Also return the winners' flat indices ``h * W + w`` (int64): ``(output, indices)``,
        what ``MaxUnpool2d`` takes.
    ceil_mode : bool
        Round the output size up (a last window may hang over the edge, but never starts
        in the right padding).

    The settings are checked when the layer is built (like ``Conv2d``), not at its first call.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        check_pool_settings("MaxPool2d", kernel_size, stride, padding)
        check_dilation("MaxPool2d", dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over each ``kernel_size`` window; ``(N, C, H, W)`` -> ``(N, C, OH, OW)``.

    Parameters
    ----------
    kernel_size, stride, padding, ceil_mode
        As ``MaxPool2d`` (and checked when built, too).
    count_include_pad : bool
        Whether explicit zero padding counts in the divisor (PyTorch's default, True).
        ``False`` divides by the number of real cells: TensorFlow's 'same' average pooling.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        check_pool_settings("AvgPool2d", kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        s = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if self.ceil_mode:
            s += ", ceil_mode=True"
        if not self.count_include_pad:
            s += ", count_include_pad=False"
        return s


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` whatever the input size.

    ``AdaptiveAvgPool2d(1)`` is global average pooling: ``(N, C, H, W)`` -> ``(N, C, 1, 1)``.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed ``output_size`` over PyTorch's adaptive bins; with
    ``return_indices`` also the winners' flat indices (``(output, indices)``)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """The partial inverse of ``MaxPool2d``: ``forward(input, indices, output_size=None)``
    puts each value back at its winner's index (from ``MaxPool2d(return_indices=True)``),
    zeros elsewhere. Pass ``output_size`` when the pooling's size was ambiguous."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        # stored as pairs, as PyTorch's repr shows them
        self.kernel_size, self.stride = check_pool_settings("MaxUnpool2d", kernel_size, stride, 0)
        self.padding = (padding, padding) if is_int(padding) else tuple(padding)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
