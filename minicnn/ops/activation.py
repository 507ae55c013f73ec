"""Activation functions: forward and backward of each, side by side.

    relu(x)        = max(x, 0)                     dx = g * [x > 0]        (0 at x = 0)
    hardtanh(x)    = min(max(x, lo), hi)           dx = g * [lo < x < hi]  (0 at both bounds)
    relu6(x)       = hardtanh(x, 0, 6)             (as PyTorch: 0 gradient at 0 and at 6)
    leaky_relu(x)  = x if x > 0 else s * x         dx = g * (1 if x > 0 else s)
    prelu(x, w)    = x if x > 0 else w_c * x       dx = g * (1 if x > 0 else w_c)
                     (w: one slope, or one per channel c = dim 1)
                                                   dw_c = sum of g * x where x <= 0, over
                                                          every element of channel c
    sigmoid(x)     = 1 / (1 + e^-x)                dx = g * y * (1 - y)
    logsigmoid(x)  = -softplus(-x)                 dx = g * sigmoid(-x)
                   = min(x, 0) - log(1 + e^-|x|)
    tanh(x)                                        dx = g * (1 - y^2)
    silu(x)        = x * sigmoid(x)                dx = g * s * (1 + x * (1 - s)),  s = sigmoid(x)
    gelu(x)        = x * Phi(x) = x/2 * erfc(-x / sqrt 2)
                                                   dx = g * (Phi(x) + x * phi(x)),
                                                        phi(x) = e^(-x^2/2) / sqrt(2 pi)
    gelu(x, 'tanh') = x/2 * (1 + tanh(u)) = x * sigmoid(2u),
                     u = k (x + 0.044715 x^3),  k = sqrt(2 / pi)
                                                   dx = g * (s + 2 x s (1 - s) u'),
                                                        s = sigmoid(2u),
                                                        u' = k (1 + 3 * 0.044715 x^2)
    elu(x)         = x if x > 0 else a (e^x - 1)   dx = g * (1 if x > 0 else a e^x)
    selu(x)        = S * elu(x, A)                 (S = 1.0507009873554805,
                                                    A = 1.6732632423543772, PyTorch's)
    celu(x)        = x if x > 0 else a (e^(x/a) - 1)      dx = g * (1 if x > 0 else e^(x/a))
    softplus(x)    = log(1 + e^(b x)) / b          dx = g * sigmoid(b x)
                     = x where b x > threshold     dx = g          (there, as PyTorch)
    mish(x)        = x * tanh(softplus(x))         dx = g * (t + x (1 - t^2) sigmoid(x)),
                                                        t = tanh(softplus(x))
    hardsigmoid(x) = min(max(x + 3, 0), 6) / 6     dx = g / 6 where -3 < x < 3, else 0
    hardswish(x)   = x * hardsigmoid(x)            dx = g * 0 for x <= -3, g * (x/3 + 1/2) for
                                                        -3 < x < 3, g for x >= 3 (PyTorch's
                                                        choice at the kinks -3 and 3)
    softmax(x)_i   = e^(x_i - m) / sum_j e^(x_j - m)      (m = max_j x_j, for stability)
                                                   dx = y * (g - sum_j g_j y_j)
    log_softmax(x) = x - m - log sum_j e^(x_j - m)
                                                   dx = g - softmax(x) * sum_j g_j
    softmin(x)     = softmax(-x)

Subtracting the maximum ``m`` changes nothing mathematically but keeps ``exp`` from
overflowing: ``softmax`` and ``log_softmax`` are exact for logits of 1e4 in float32. For the
same reason softplus, logsigmoid, silu and mish only ever exponentiate ``-|x|``
(``log(1 + e^z) = max(z, 0) + log(1 + e^-|z|)``) and elu/celu/selu ``min(x, 0)``: inputs of
magnitude 1e4 give exact results and no overflow, in float32 too.
(``y`` is the op's output; the sums run along ``axis``; ``g`` is dL/dy.)

At a kink (relu at 0, hardtanh/relu6 at their bounds, hardswish and hardsigmoid at -3 and
3, elu/celu/selu/prelu at 0) the gradient is PyTorch's choice, given above.

Every activation computes in float32 or float64 and keeps its input's dtype; other dtypes
(integers, bool, float16) raise ``TypeError``. Settings (slopes, alpha, beta, bounds) are real
numbers converted with ``float``, so they never upcast a float32 input. PyTorch's
``inplace=`` is accepted, but minicnn computes out of place: the input is left unchanged,
use the returned tensor (``x = F.elu(x, inplace=True)`` works as in PyTorch).
"""

import math
import numbers

import numpy as np

from .._checks import check_compute_dtype, check_same_dtype
from ..autograd import ArrayFunction, Tensor
from ..dtypes import as_dtype
from ..kernels.activation import erfc
from .elementwise import cast
from .reduce import normalize_axis, reduction_args

__all__ = ["relu", "relu6", "hardtanh", "leaky_relu", "prelu", "sigmoid", "logsigmoid",
           "tanh", "silu", "gelu", "elu", "selu", "celu", "softplus", "mish", "hardsigmoid",
           "hardswish", "softmax", "log_softmax", "softmin"]


def _real(value, op, name):
    """A setting (slope, alpha, bound) as a plain float, or a TypeError naming it."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")
    return float(value)


class ReLU(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return grad * positive


def relu(x, inplace=False):
    """Rectified linear unit, ``max(x, 0)``; ``inplace``: see the module docstring."""
    check_compute_dtype(x, "relu: x")
    return ReLU.apply(x)


class Hardtanh(ArrayFunction):
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        # PyTorch's gradient: 0 at both bounds (strict inequalities), unlike clip's 1
        ctx.save_for_backward((x > min_val) & (x < max_val))
        return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    """``min(max(x, min_val), max_val)``: ``x`` clipped to ``[min_val, max_val]``.

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64 (TypeError otherwise)
    min_val, max_val : real numbers, ``min_val <= max_val`` (ValueError otherwise)
    inplace : bool, see the module docstring

    Returns
    -------
    Tensor, the shape and dtype of ``x``. The gradient is 1 strictly inside
    ``(min_val, max_val)``, else 0 (at the bounds too, as in PyTorch).
    """
    check_compute_dtype(x, "hardtanh: x")
    min_val, max_val = _real(min_val, "hardtanh", "min_val"), _real(max_val, "hardtanh",
                                                                      "max_val")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got "
                         f"min_val={min_val}, max_val={max_val}")
    return Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def relu6(x, inplace=False):
    """``min(max(x, 0), 6)``: ReLU capped at 6 (MobileNet's activation), PyTorch's
    ``hardtanh(x, 0, 6)``.

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64 (TypeError otherwise)
    inplace : bool, see the module docstring

    Returns
    -------
    Tensor, the shape and dtype of ``x``. The gradient is 1 strictly inside (0, 6), else 0
    (at exactly 0 and 6 too, as in PyTorch).
    """
    check_compute_dtype(x, "relu6: x")
    return Hardtanh.apply(x, min_val=0.0, max_val=6.0)


class LeakyReLU(ArrayFunction):
    @staticmethod
    def forward(ctx, x, negative_slope):
        slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
        ctx.save_for_backward(slope)
        return x * slope

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        return grad * slope


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """``x`` for positive inputs, ``negative_slope * x`` otherwise.

    ``negative_slope`` is a real number (converted with ``float``, so a NumPy float64 does
    not upcast a float32 ``x``); ``inplace``: see the module docstring.
    """
    check_compute_dtype(x, "leaky_relu: x")
    return LeakyReLU.apply(x, negative_slope=_real(negative_slope, "leaky_relu",
                                                   "negative_slope"))


class PReLU(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight):
        # (C,) -> (C, 1, ..., 1): one slope per channel (dim 1) of x; one slope broadcasts as is
        slope = weight.reshape(weight.shape + (1,) * (x.ndim - 2)) if weight.size > 1 else \
            weight.reshape(())
        negative = x <= 0
        ctx.save_for_backward(x, negative, slope)
        ctx.weight_shape = weight.shape
        return np.where(negative, slope * x, x)

    @staticmethod
    def backward(ctx, grad):
        x, negative, slope = ctx.saved_tensors
        need_x, need_weight = ctx.needs_input_grad
        dx = np.where(negative, slope * grad, grad) if need_x else None
        dweight = None
        if need_weight:
            per_element = np.where(negative, x * grad, 0)
            channel_axis = (1,) if slope.ndim else ()
            others = tuple(a for a in range(x.ndim) if a not in channel_axis)
            dweight = per_element.sum(axis=others).reshape(ctx.weight_shape)
        return dx, dweight


def prelu(x, weight):
    """Parametric ReLU: ``x`` where positive, ``weight * x`` elsewhere, with learned slopes.

    Parameters
    ----------
    x : Tensor, shape (N, C, ...) or any shape with a single slope; float32 or float64
    weight : Tensor, shape (1,), (C,) or () (0-d), the dtype of ``x``
        One slope for every element, or one per channel: channel ``c`` is ``x[:, c]``
        (dim 1; a 0- or 1-D ``x`` has one channel), as in PyTorch.

    Returns
    -------
    Tensor, the shape and dtype of ``x``. At ``x = 0`` the gradient is the slope (PyTorch's).

    Raises
    ------
    TypeError
        ``weight`` not a Tensor or array, a dtype other than float32/float64, or
        ``weight``'s dtype differs from ``x``'s.
    ValueError
        ``weight`` has more than one dimension, or a size other than 1 or C.
    """
    check_compute_dtype(x, "prelu: x")
    if not isinstance(weight, (Tensor, np.ndarray)):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    check_same_dtype(x, "prelu: x", [("prelu: weight", weight)])
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a scalar or 1-D tensor, got shape "
                         f"{tuple(weight.shape)}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    slopes = int(np.prod(weight.shape))
    if slopes not in (1, channels):
        raise ValueError(f"prelu: weight has {slopes} slopes but the input (shape "
                         f"{tuple(x.shape)}) has {channels} channels (dim 1); give 1 slope "
                         f"or {channels}")
    return PReLU.apply(x, weight)


def _sigmoid(x):
    """``1 / (1 + exp(-x))`` of an array; ``exp(-|x|)`` never overflows and the two branches
    are the same function."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def _softplus(z):
    """``log(1 + exp(z))`` of an array, as ``max(z, 0) + log1p(exp(-|z|))`` (no overflow)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class Sigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        y = _sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    check_compute_dtype(x, "sigmoid: x")
    return Sigmoid.apply(x)


class LogSigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -_softplus(-x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _sigmoid(-x)


def logsigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, exact for large ``|x|`` (about ``x`` far below
    0, about ``-exp(-x)`` far above)."""
    check_compute_dtype(x, "logsigmoid: x")
    return LogSigmoid.apply(x)


class Tanh(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


def tanh(x):
    """Hyperbolic tangent."""
    check_compute_dtype(x, "tanh: x")
    return Tanh.apply(x)


class SiLU(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * s * (1 + x * (1 - s))


def silu(x, inplace=False):
    """Sigmoid-weighted linear unit (swish), ``x * sigmoid(x)``; ``inplace``: see the module
    docstring."""
    check_compute_dtype(x, "silu: x")
    return SiLU.apply(x)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


class GELU(ArrayFunction):
    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            # (1 + tanh(u)) / 2 = sigmoid(2u): the same function without the 1 - 1 of the
            # left tail, where tanh(u) rounds to -1
            s = _sigmoid(2 * _SQRT_2_OVER_PI * x * (1 + _GELU_CUBIC * x * x))
            ctx.save_for_backward(x, s)
            return x * s
        cdf = 0.5 * erfc(-_SQRT_HALF * x)  # Phi(x), the standard normal's CDF, tail-exact
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, saved = ctx.saved_tensors
        if ctx.approximate == "tanh":
            s = saved  # d sigmoid(2u)/dx = 2 s (1 - s) u',  u' = k (1 + 3 * 0.044715 x^2)
            du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return grad * (s + x * (2 * du) * s * (1 - s))
        cdf = saved
        return grad * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x))


def gelu(x, approximate="none"):
    """Gaussian error linear unit, ``x * Phi(x)`` (``Phi``: the standard normal CDF).

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64
    approximate : {'none', 'tanh'}
        ``'none'``: the exact form (with ``erfc``, accurate in the left tail); ``'tanh'``: the tanh approximation
        ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` (BERT/GPT-2's). Anything else is a
        ValueError.
    """
    check_compute_dtype(x, "gelu: x")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate=approximate)


class ELU(ArrayFunction):
    """PyTorch's one ELU kernel: ``scale * x`` for ``x > 0``, else
    ``scale * alpha * (exp(input_scale * x) - 1)``; elu, selu and celu are settings of it."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.settings = alpha, scale, input_scale
        # of min(x, 0) only: the branch not taken never overflows; expm1 is exact near 0
        return np.where(x > 0, scale * x, (scale * alpha) * np.expm1(np.minimum(x, 0) * input_scale))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.settings
        # exp itself, not expm1 + 1, which loses e^x below the rounding of 1
        exp_part = np.exp(np.minimum(x, 0) * input_scale)
        return grad * np.where(x > 0, scale, (scale * alpha * input_scale) * exp_part)


def elu(x, alpha=1.0, inplace=False):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.
    ``inplace``: see the module docstring."""
    check_compute_dtype(x, "elu: x")
    return ELU.apply(x, alpha=_real(alpha, "elu", "alpha"), scale=1.0, input_scale=1.0)


# Klambauer et al. (2017)'s self-normalising constants, as PyTorch writes them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x, inplace=False):
    """Scaled ELU, ``SELU_SCALE * elu(x, SELU_ALPHA)`` (PyTorch's constants, above).
    ``inplace``: see the module docstring."""
    check_compute_dtype(x, "selu: x")
    return ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(x, alpha=1.0, inplace=False):
    """Continuously differentiable ELU: ``x`` where ``x > 0``, else
    ``alpha * (exp(x / alpha) - 1)``. ``alpha = 0`` is a ValueError. ``inplace``: see the
    module docstring."""
    check_compute_dtype(x, "celu: x")
    alpha = _real(alpha, "celu", "alpha")
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    return ELU.apply(x, alpha=alpha, scale=1.0, input_scale=1 / alpha)


class Softplus(ArrayFunction):
    @staticmethod
    def forward(ctx, x, beta, threshold):
        z = x * beta
        linear = z > threshold  # PyTorch returns x itself there
        ctx.save_for_backward(z, linear)
        return np.where(linear, x, _softplus(z) / beta)

    @staticmethod
    def backward(ctx, grad):
        z, linear = ctx.saved_tensors
        return np.where(linear, grad, grad * _sigmoid(z))


def softplus(x, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, a smooth ReLU; ``x`` itself where
    ``beta * x > threshold`` (PyTorch's rule: there the two differ by less than
    ``exp(-threshold)``), with gradient 1 there.

    ``beta`` and ``threshold`` are real numbers; ``beta = 0`` is a ValueError (PyTorch
    returns inf).
    """
    check_compute_dtype(x, "softplus: x")
    beta, threshold = _real(beta, "softplus", "beta"), _real(threshold, "softplus",
                                                             "threshold")
    if beta == 0:
        raise ValueError("softplus: beta cannot be 0 (it divides the result)")
    return Softplus.apply(x, beta=beta, threshold=threshold)


class Mish(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        t = np.tanh(_softplus(x))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        return grad * (t + x * (1 - t * t) * _sigmoid(x))


def mish(x, inplace=False):
    """``x * tanh(softplus(x))`` (Misra, 2019). ``inplace``: see the module docstring."""
    check_compute_dtype(x, "mish: x")
    return Mish.apply(x)


class Hardsigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward((x > -3) & (x < 3))  # PyTorch: gradient 0 at -3 and 3
        return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside / 6


def hardsigmoid(x, inplace=False):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between (MobileNetV3's
    piecewise-linear sigmoid). ``inplace``: see the module docstring."""
    check_compute_dtype(x, "hardsigmoid: x")
    return Hardsigmoid.apply(x)


class Hardswish(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # PyTorch's pieces: 0 up to -3 included, x/3 + 1/2 strictly between, 1 from 3 on
        slope = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1)).astype(x.dtype,
                                                                             copy=False)
        return grad * slope


def hardswish(x, inplace=False):
    """``x * relu6(x + 3) / 6`` (MobileNetV3's piecewise swish). ``inplace``: see the module
    docstring."""
    check_compute_dtype(x, "hardswish: x")
    return Hardswish.apply(x)


def _stable_exp(x, axis):
    """``exp(x - max(x))`` along ``axis`` and the shifted ``x`` (never overflows)."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return np.exp(shifted), shifted


class Softmax(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis):
        e, _ = _stable_exp(x, axis)
        y = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True))


def softmax(x, dim=-1, *, dtype=None, axis=None):
    """Softmax along ``dim`` (default the last; ``axis``: an alias): non-negative, sums to 1.
    ``dtype`` converts ``x`` first. (PyTorch's ``F.softmax`` without ``dim`` picks one by a
    deprecated rule and warns; minicnn's functions take the last, ``nn.Softmax(dim=None)``
    follows PyTorch's rule.)"""
    x, axis = _along("softmax", x, dim, dtype, axis)
    return Softmax.apply(x, axis=axis)


def _along(op, x, dim, dtype, axis):
    """``x`` (in ``dtype`` if given, checked) and the dim a softmax runs along."""
    dim, _ = reduction_args(op, None if axis is not None and dim == -1 else dim, False, axis,
                            None)
    if dtype is not None:
        x = cast(x, as_dtype(dtype, f"{op}: dtype"))
    check_compute_dtype(x, f"{op}: x")
    # a 0-d x is one value along dim 0 (or -1), as in PyTorch: the whole array
    axis = normalize_axis(dim, max(x.ndim, 1), op)
    return x, axis if x.ndim else None


class LogSoftmax(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis):
        e, shifted = _stable_exp(x, axis)
        sum_e = e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(e / sum_e)
        ctx.axis = axis
        return shifted - np.log(sum_e)

    @staticmethod
    def backward(ctx, grad):
        (probabilities,) = ctx.saved_tensors
        return grad - probabilities * grad.sum(axis=ctx.axis, keepdims=True)


def log_softmax(x, dim=-1, *, dtype=None, axis=None):
    """``log(softmax(x))`` along ``dim``, computed without forming the softmax (stable, exact
    tails); arguments as ``softmax``."""
    x, axis = _along("log_softmax", x, dim, dtype, axis)
    return LogSoftmax.apply(x, axis=axis)


def softmin(x, dim=-1, *, dtype=None, axis=None):
    """``softmax(-x)`` along ``dim`` (the smallest entry gets the largest weight); arguments
    as ``softmax``."""
    x, axis = _along("softmin", x, dim, dtype, axis)
    return Softmax.apply(-x, axis=axis)
