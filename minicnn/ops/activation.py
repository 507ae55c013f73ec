"""Activation functions: forward and backward of each, side by side.

    relu(x)        = max(x, 0)                     dx = g * [x > 0]        (0 at x = 0)
    relu6(x)       = min(max(x, 0), 6)             dx = g * [0 < x < 6]    (0 at 0 and 6)
    leaky_relu(x)  = x if x > 0 else s * x         dx = g * (1 if x > 0 else s)
    sigmoid(x)     = 1 / (1 + e^-x)                dx = g * y * (1 - y)
    tanh(x)                                        dx = g * (1 - y^2)
    softmax(x)_i   = e^(x_i - m) / sum_j e^(x_j - m)      (m = max_j x_j, for stability)
                                                   dx = y * (g - sum_j g_j y_j)
    log_softmax(x) = x - m - log sum_j e^(x_j - m)
                                                   dx = g - softmax(x) * sum_j g_j

Subtracting the maximum ``m`` changes nothing mathematically but keeps ``exp`` from
overflowing: ``softmax`` and ``log_softmax`` are exact for logits of 1e4 in float32.
(``y`` is the op's output; the sums run along ``axis``.)

Every activation computes in float32 or float64 and keeps its input's dtype; other dtypes
(integers, bool, float16) raise ``TypeError``.
"""

import numbers

import numpy as np

from .._checks import check_compute_dtype
from ..autograd import ArrayFunction
from ..dtypes import as_dtype
from .elementwise import cast
from .reduce import normalize_axis, reduction_args

__all__ = ["relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x > 0)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return grad * positive


def relu(x):
    """Rectified linear unit, ``max(x, 0)``."""
    check_compute_dtype(x, "relu: x")
    return ReLU.apply(x)


class ReLU6(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        # PyTorch's gradient: 0 at both kinks (strict inequalities), unlike clip's 1
        ctx.save_for_backward((x > 0) & (x < 6))
        return np.clip(x, 0, 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside


def relu6(x):
    """``min(max(x, 0), 6)``: ReLU capped at 6 (MobileNet's activation).

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64 (TypeError otherwise)

    Returns
    -------
    Tensor, the shape and dtype of ``x``. The gradient is 1 strictly inside (0, 6), else 0
    (at exactly 0 and 6 too, as in PyTorch).
    """
    check_compute_dtype(x, "relu6: x")
    return ReLU6.apply(x)


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


def leaky_relu(x, negative_slope=0.01):
    """``x`` for positive inputs, ``negative_slope * x`` otherwise.

    ``negative_slope`` is a real number (converted with ``float``, so a NumPy float64 does
    not upcast a float32 ``x``).
    """
    check_compute_dtype(x, "leaky_relu: x")
    if not isinstance(negative_slope, numbers.Real) or isinstance(negative_slope, bool):
        raise TypeError(f"leaky_relu: negative_slope must be a real number, got "
                        f"{negative_slope!r}")
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


class Sigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        # exp(-|x|) never overflows; the two branches are the same function.
        z = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
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
    ``dtype`` converts ``x`` first."""
    x, axis = _along("softmax", x, dim, dtype, axis)
    return Softmax.apply(x, axis=axis)


def _along(op, x, dim, dtype, axis):
    """``x`` (in ``dtype`` if given, checked) and the dim a softmax runs along."""
    dim, _ = reduction_args(op, None if axis is not None and dim == -1 else dim, False, axis,
                            None)
    if dtype is not None:
        x = cast(x, as_dtype(dtype, f"{op}: dtype"))
    check_compute_dtype(x, f"{op}: x")
    return x, normalize_axis(dim, x.ndim, op)


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
