"""Layers that only pass data on, reshaped or not: ``Flatten`` and ``Identity``."""

from .module import Module

__all__ = ["Flatten", "Identity"]


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
