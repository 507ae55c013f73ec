"""Lazy layers: ``LazyLinear(120)``, ``LazyConv2d(6, 5)``, ``LazyBatchNorm2d()``.

A lazy layer is built without its input size; the first batch it sees supplies it
(``in_features = x.shape[-1]``, ``in_channels = x.shape[1]``, ``num_features = x.shape[1]``).
Then it becomes the ordinary layer, as in PyTorch (``type(layer) is nn.Linear`` afterwards,
so code like d2l's ``if type(m) == nn.Linear: init(m.weight)`` finds it).

Until that first call a lazy layer has no parameters, so run one batch through the model
before building the optimizer (PyTorch's lazy parameters would let you build it first).
"""

from .conv import Conv2d
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = ["LazyLinear", "LazyConv2d", "LazyBatchNorm1d", "LazyBatchNorm2d"]


class _Lazy(Module):
    """Keeps the constructor's arguments; the first ``forward`` builds the real layer.

    ``cls_to_become`` is the layer class; ``_input_size(x)`` the argument that the input
    supplies, passed first to that class's constructor.
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__()
        self._lazy_args = (args, kwargs)

    def forward(self, x):
        args, kwargs = self._lazy_args
        input_size = self._input_size(x)
        kept = {name: self.__dict__[name]
                for name in ("training", "_forward_hooks", "_forward_pre_hooks")}
        # Become the real layer: its constructor registers the parameters, initialised as
        # that layer's are, on this same object, which the parent module already holds.
        self.__class__ = self.cls_to_become
        del self._lazy_args
        self.__init__(input_size, *args, **kwargs)
        self.__dict__.update(kept)  # the mode and hooks set before the first call
        return self.forward(x)

    def extra_repr(self):
        args, kwargs = self._lazy_args
        return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


class LazyLinear(_Lazy):
    """``Linear(in_features, out_features, bias)`` with ``in_features = x.shape[-1]``."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True):
        super().__init__(out_features, bias=bias)

    @staticmethod
    def _input_size(x):
        return x.shape[-1]


class LazyConv2d(_Lazy):
    """``Conv2d(in_channels, out_channels, ...)`` with ``in_channels = x.shape[1]``."""

    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros"):
        super().__init__(out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode)

    @staticmethod
    def _input_size(x):
        return x.shape[1]


class LazyBatchNorm1d(_Lazy):
    """``BatchNorm1d(num_features, ...)`` with ``num_features = x.shape[1]``."""

    cls_to_become = BatchNorm1d

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True):
        super().__init__(eps=eps, momentum=momentum, affine=affine,
                         track_running_stats=track_running_stats)

    @staticmethod
    def _input_size(x):
        return x.shape[1]


class LazyBatchNorm2d(LazyBatchNorm1d):
    """``BatchNorm2d(num_features, ...)`` with ``num_features = x.shape[1]``."""

    cls_to_become = BatchNorm2d
