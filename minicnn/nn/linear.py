"""The fully connected layer: ``y = x @ weight.T + bias`` (``F.linear``)."""

import math

import numpy as np

from .. import functional as F
from .._checks import check_positive_int
from . import init
from .module import Module, Parameter, place

__all__ = ["Linear"]


class Linear(Module):
    """Fully connected layer.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Whether to learn an additive bias.

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Initialised as PyTorch does: ``kaiming_uniform_(a=sqrt(5))``, i.e.
        ``U(-1/sqrt(in_features), 1/sqrt(in_features))``.
    bias : Parameter, shape (out_features,), or None
        ``U(-1/sqrt(in_features), 1/sqrt(in_features))``.

    Shapes: input ``(..., in_features)`` -> output ``(..., out_features)``.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        in_features = check_positive_int(in_features, "Linear: in_features")
        out_features = check_positive_int(out_features, "Linear: out_features")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        place(self, device, dtype, "Linear")

    def reset_parameters(self):
        """Draw fresh weights with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
