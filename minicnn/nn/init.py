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

Every function draws from ``minicnn.rng.get_rng()`` (or from ``generator=``, a
``numpy.random.Generator``, where PyTorch's signature has one), so ``minicnn.manual_seed``
makes initialisation repeatable. Values are drawn in float64 and stored in the tensor's
dtype. Each returns the tensor it filled, writes through ``.data`` (so it works on a
parameter inside or outside ``no_grad``, as PyTorch's, which writes under ``no_grad``) and
bumps the tensor's version counter (an in-place write).
"""

import math

import numpy as np

from ..autograd import Tensor
from ..rng import get_rng

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]


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
    tensor._check_writeable("init")
    tensor.data[...] = values
    tensor._bump_version()
    return tensor


def _rng(generator):
    """The generator to draw from: ``generator`` if given, else minicnn's."""
    if generator is None:
        return get_rng()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator or None, got "
                        f"{type(generator).__name__}")
    return generator


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


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values drawn uniformly from ``[a, b)``."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values drawn from ``N(mean, std^2)``."""
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
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
    rng = _rng(generator)
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


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a
    rectangular one), preserving the identity of the inputs in a ``Linear`` layer."""
    if not isinstance(tensor, Tensor) or tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight ``(out, in, *kernel)`` with the Dirac delta:
    within each of ``groups`` groups of ``out // groups`` output channels, channel ``d``
    gets 1 at ``[d, d, centre]`` (``centre`` = ``kernel // 2`` per axis) for
    ``d < min(out // groups, in)``, 0 elsewhere, so the convolution passes its input
    channels through unchanged."""
    if not isinstance(tensor, Tensor) or tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_channels = tensor.shape[0]
    if groups <= 0 or out_channels % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = out_channels // groups
    centre = tuple(k // 2 for k in tensor.shape[2:])
    values = np.zeros(tensor.shape)
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix, as PyTorch (Saxe et al., 2013).

    The tensor is seen as ``(rows, cols)`` = ``(shape[0], numel // shape[0])`` (trailing
    dimensions flattened). A ``(rows, cols)`` matrix ``A`` of N(0, 1) draws (transposed to
    tall if ``rows < cols``) is factored ``A = QR``; ``Q`` times the signs of ``R``'s
    diagonal (which makes the result uniformly distributed over orthogonal matrices, not
    biased by the QR routine's sign convention), transposed back, times ``gain``, is
    stored. So ``W W^T = gain^2 I`` when ``rows <= cols``, ``W^T W = gain^2 I`` otherwise.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init functions fill a Tensor (e.g. a Parameter) in place, got "
                        f"{type(tensor).__name__}")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor  # nothing to fill (PyTorch warns and returns it as well)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flattened = _rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)  # reduced: q (max, min), r (min, min)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     generator=None):
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
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    generator=None):
    """He normal: ``N(0, std^2)`` with ``std = gain / sqrt(fan)`` (arguments as above)."""
    if tensor.numel() == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)),
                   generator)
