"""Activation layers: thin modules around ``minicnn.functional``'s activations.

``inplace`` is accepted (so code written for PyTorch, e.g. ``ReLU(inplace=True)``, runs) and
shown in ``repr``, but minicnn always computes out of place: its autograd keeps each op's
input, so overwriting it would corrupt the backward pass.
"""

import warnings

from .. import functional as F
from .module import Module

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Softmax2d"]


class ReLU(Module):
    """``max(x, 0)``, element-wise. Any shape in, the same shape out."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU6(Module):
    """``min(max(x, 0), 6)``, element-wise (MobileNet's activation). Any shape in, the same
    shape out; the gradient is 0 at exactly 0 and 6, as in PyTorch (``F.relu6``)."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu6(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, element-wise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent, element-wise."""

    def forward(self, x):
        return F.tanh(x)


def _softmax_dim(dim, ndim, name):
    """``dim``, or PyTorch's legacy choice when it is None (0 for 0-, 1- and 3-d inputs, else
    1), with PyTorch's warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim`` (each slice along it sums to 1)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, _softmax_dim(self.dim, x.ndim, "softmax"))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, _softmax_dim(self.dim, x.ndim, "log_softmax"))

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` (axis -3) at every
    pixel."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a (N, C, H, W) or (C, H, W) input, got "
                             f"shape {x.shape}")
        return F.softmax(x, -3)
