"""Padding layers (``F.pad`` with a fixed mode): ``ConstantPad1d/2d``, ``ReflectionPad1d/2d``,
``ReplicationPad1d/2d`` and ``CircularPad1d/2d``; ``ZeroPad2d`` is in ``shape.py``.

``padding`` is an int (every side) or PyTorch's tuple: ``(left, right)`` for the 1d layers,
``(left, right, top, bottom)`` for the 2d ones; negative widths crop.
"""

from .. import functional as F
from .._checks import is_int
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
           "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]


class _PadNd(Module):
    """``F.pad(x, padding, mode)`` over the last ``axes`` axes."""

    mode, axes = None, None

    def __init__(self, padding):
        super().__init__()
        widths = (padding,) * (2 * self.axes) if is_int(padding) else padding
        if not isinstance(widths, (tuple, list)) or len(widths) != 2 * self.axes or not all(is_int(w) for w in widths):
            sides = "(left, right)" if self.axes == 1 else "(left, right, top, bottom)"
            raise ValueError(f"{type(self).__name__}: padding must be an int or {sides}, got "
                             f"{padding!r}")
        self.padding = tuple(int(w) for w in widths)

    def forward(self, x):
        return F.pad(x, self.padding, mode=self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return F.pad(x, self.padding, value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last axis with ``value``."""
    axes = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two axes with ``value``."""
    axes = 2


class ReflectionPad1d(_PadNd):
    """Mirror the last axis at its ends, the edge not repeated (widths below its size)."""
    mode, axes = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Mirror the last two axes at their ends, the edge not repeated (widths below the sizes)."""
    mode, axes = "reflect", 2


class ReplicationPad1d(_PadNd):
    """Repeat the edge cells of the last axis."""
    mode, axes = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Repeat the edge cells of the last two axes."""
    mode, axes = "replicate", 2


class CircularPad1d(_PadNd):
    """Wrap the last axis around (widths at most its size)."""
    mode, axes = "circular", 1


class CircularPad2d(_PadNd):
    """Wrap the last two axes around (widths at most their sizes)."""
    mode, axes = "circular", 2
