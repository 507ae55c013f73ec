"""Layers that only pass data on, reshaped or padded: ``Flatten``, ``Unflatten``,
``ZeroPad2d`` and ``Identity``."""

from .. import functional as F
from .._checks import is_int
from .module import Module

__all__ = ["Flatten", "Unflatten", "ZeroPad2d", "Identity"]


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to drop a model's head).

    Any arguments are accepted and ignored, as in PyTorch.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one; by default all but the batch axis.

    Shapes: ``(N, C, H, W)`` -> ``(N, C*H*W)`` with the defaults.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: ``Unflatten(1, (C, H, W))`` turns
    ``(N, C*H*W)`` back into ``(N, C, H, W)`` (a -1 in the sizes is inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        dim = self.dim % x.ndim
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class ZeroPad2d(Module):
    """Zeros around the last two axes; ``padding``: an int or ``(left, right, top, bottom)``
    (PyTorch's order for this layer; negative widths crop, as in PyTorch)."""

    def __init__(self, padding):
        super().__init__()
        widths = (padding,) * 4 if is_int(padding) else tuple(padding)
        if len(widths) != 4 or not all(is_int(w) for w in widths):
            raise ValueError(f"ZeroPad2d: padding must be an int or four of them (left, "
                             f"right, top, bottom), got {padding!r}")
        self.padding = tuple(int(w) for w in widths)

    def forward(self, x):
        return F.pad(x, self.padding)                               # (left, right, top, bottom)

    def extra_repr(self):
        return f"{self.padding}"
