"""Weight initialisation, as PyTorch's ``torch.nn.init``: each function fills a tensor in place.

Why the scale matters: a layer with ``fan_in`` inputs of unit variance and weights of
variance ``s^2`` gives outputs of variance ``fan_in * s^2``. Keeping that near 1 through many
layers (neither exploding nor vanishing) gives the standard rules:

    xavier (Glorot, 2010):  std = gain * sqrt(2 / (fan_in + fan_out))
    kaiming (He, 2015):     std = gain / sqrt(fan)          fan = fan_in or fan_out (``mode``)

A uniform distribution on ``[-b, b]`` has std ``b / sqrt(3)``, so the uniform variants use
``b = sqrt(3) * std``. ``gain`` makes up for what the nonlinearity does to the variance:
1 for linear/sigmoid, 5/3 for tanh, sqrt(2) for ReLU, sqrt(2 / (1 + a^2)) for leaky ReLU with
slope ``a``.

Fans (PyTorch's rule) for a weight of shape ``(out, in, *kernel)``: ``fan_in = in * prod(kernel)``,
``fan_out = out * prod(kernel)``. PyTorch's default for ``Linear`` and ``Conv2d`` weights is
``kaiming_uniform_(w, a=sqrt(5))``, which works out to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

Every function draws from ``minicnn.rng.get_rng()``, so ``minicnn.manual_seed`` makes
initialisation repeatable. Values are drawn in float64 and stored in the tensor's dtype.
"""

import math

import numpy as np

from ..autograd import Tensor
from ..rng import get_rng

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_"]


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's values).

    Parameters
    ----------
    nonlinearity : str
        'linear', 'conv2d' (and other conv/transposed-conv names), 'sigmoid', 'tanh', 'relu',
        'leaky_relu' or 'selu'.
    param : float, optional
        The negative slope of 'leaky_relu' (default 0.01).
    """
    linear_like = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected "
                     f"one of {sorted(linear_like | {'tanh', 'relu', 'leaky_relu', 'selu'})}")


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` in place, keeping its dtype; return the tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions fill a Tensor (e.g. a Parameter) in place, got "
                        f"{type(tensor).__name__}")
    tensor.data[...] = values
    return tensor


def _fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions "
                         f"(out, in, *kernel), got shape {tensor.shape}")
    receptive_field = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with values drawn uniformly from ``[a, b)``."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, get_rng().uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with values drawn from ``N(mean, std^2)``."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, get_rng().normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """Fill from ``N(mean, std^2)`` restricted to ``[a, b]`` (absolute bounds, as PyTorch).

    Samples outside are redrawn until every value lies inside (rejection sampling).
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    if (a - mean) / std > 5 or (b - mean) / std < -5:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] lies more than 5 std from the "
                         f"mean {mean}; rejection sampling would almost never succeed")
    rng = get_rng()
    values = rng.normal(mean, std, size=tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, size=int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val)


def ones_(tensor):
    """Fill with ones."""
    return _fill(tensor, 1)


def zeros_(tensor):
    """Fill with zeros."""
    return _fill(tensor, 0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot normal: ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He uniform: ``U(-b, b)`` with ``b = sqrt(3) * gain / sqrt(fan)``.

    Parameters
    ----------
    tensor : Tensor, shape (out, in, *kernel)
    a : float
        Negative slope of the leaky ReLU that follows (used when nonlinearity='leaky_relu').
    mode : 'fan_in' (preserves the forward variance) or 'fan_out' (the backward one)
    nonlinearity : str
        See ``calculate_gain``.
    """
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He normal: ``N(0, std^2)`` with ``std = gain / sqrt(fan)`` (arguments as above)."""
    if tensor.numel() == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))
