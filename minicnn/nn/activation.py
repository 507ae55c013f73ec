"""Activation layers: thin modules around ``minicnn.functional``'s activations (the math and
the gradients at kinks are documented in ``minicnn/ops/activation.py``).

``inplace`` is accepted wherever PyTorch's module takes it (so code written for PyTorch, e.g.
``ReLU(inplace=True)``, runs) and shown in ``repr`` as PyTorch shows it, but minicnn always
computes out of place: its autograd keeps each op's input, so overwriting it would corrupt
the backward pass. The input is left unchanged; the returned tensor is the result.
"""

import warnings

import numpy as np

from .. import functional as F
from .._checks import check_positive_int
from . import init
from .module import Module, Parameter, place

__all__ = ["ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "PReLU", "Sigmoid", "LogSigmoid", "Tanh",
           "SiLU", "GELU", "ELU", "SELU", "CELU", "Softplus", "Mish", "Hardsigmoid",
           "Hardswish", "Softmax", "LogSoftmax", "Softmin", "Softmax2d"]


def _inplace_repr(inplace, separator=""):
    return f"{separator}inplace=True" if inplace else ""


class ReLU(Module):
    """``max(x, 0)``, element-wise. Any shape in, the same shape out."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``, element-wise (``F.hardtanh``); the gradient
    is 0 at the bounds, as in PyTorch. ``max_val`` must exceed ``min_val`` (ValueError).
    ``min_value``/``max_value`` are PyTorch's deprecated spellings (FutureWarning)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if not max_val > min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater "
                             f"than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(
            self.inplace, ", ")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``, element-wise (MobileNet's activation): ``Hardtanh(0, 6)``, as
    in PyTorch. Any shape in, the same shape out; the gradient is 0 at exactly 0 and 6."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class PReLU(Module):
    """Parametric ReLU: ``x`` where positive, ``weight * x`` elsewhere, the slopes learned.

    Parameters
    ----------
    num_parameters : int
        1 (one slope for everything) or the number of channels C (dim 1 of the input).
    init : float
        The slopes' initial value (PyTorch's 0.25).
    device, dtype : PyTorch's factory arguments (the CPU; the weight's dtype).

    Attributes
    ----------
    weight : Parameter, shape (num_parameters,)

    Shapes: ``(N, C, ...)`` (or any shape with one slope) in, the same shape out.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = check_positive_int(num_parameters, "PReLU: num_parameters")
        self.init = init
        self.weight = Parameter(np.empty(self.num_parameters, dtype=np.float32))
        self.reset_parameters()
        place(self, device, dtype, "PReLU")

    def reset_parameters(self):
        """Every slope back to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Sigmoid(Module):
    """``1 / (1 + exp(-x))``, element-wise."""

    def forward(self, x):
        return F.sigmoid(x)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, element-wise, stable for large ``|x|``."""

    def forward(self, x):
        return F.logsigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent, element-wise."""

    def forward(self, x):
        return F.tanh(x)


class _InplaceActivation(Module):
    """An element-wise activation without settings besides PyTorch's ``inplace``."""

    function = None  # the F.<name> it applies

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return type(self).function(x)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class SiLU(_InplaceActivation):
    """``x * sigmoid(x)`` (swish), element-wise."""

    function = staticmethod(F.silu)


class SELU(_InplaceActivation):
    """``SELU_SCALE * elu(x, SELU_ALPHA)``, element-wise, with PyTorch's constants."""

    function = staticmethod(F.selu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))``, element-wise."""

    function = staticmethod(F.mish)


class Hardsigmoid(_InplaceActivation):
    """``relu6(x + 3) / 6``, element-wise. (PyTorch prints it without ``inplace``.)"""

    function = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardswish(_InplaceActivation):
    """``x * relu6(x + 3) / 6``, element-wise. (PyTorch prints it without ``inplace``.)"""

    function = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class GELU(Module):
    """``x * Phi(x)``, element-wise: exact (``approximate='none'``) or the tanh form."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``, element-wise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class CELU(ELU):
    """``x`` where ``x > 0``, else ``alpha * (exp(x / alpha) - 1)``, element-wise."""

    def forward(self, x):
        return F.celu(x, self.alpha)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, element-wise; ``x`` where ``beta * x > threshold``."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


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


class Softmin(Module):
    """``softmax(-x)`` along ``dim`` (each slice along it sums to 1)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, _softmax_dim(self.dim, x.ndim, "softmin"))

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
