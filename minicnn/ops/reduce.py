"""Reductions over one axis, several, or all: sum, mean, max.

    out = sum(x, axes)    dx = g broadcast back over ``axes``
    out = mean(x, axes)   dx = g broadcast back over ``axes``, divided by the count reduced
    out = max(x, axes)    dx = g where x equals the maximum, split evenly between ties

``keepdims=False`` removes the reduced axes from the output; backward re-inserts them
(size 1) before broadcasting the gradient back to the input's shape.

Empty tensors, as in PyTorch: the sum of nothing is 0 and the mean NaN (0 / 0). The maximum
of nothing is undefined, so ``max`` over an axis of length 0 raises ``ValueError``; over
axes of nonzero length it gives an empty result when another axis has length 0 (the max
over axis 1 of a (0, 3) tensor has shape (0,)).

``sum`` and ``max`` take bool and integer tensors too (counting, masks); ``mean`` computes
in float32 or float64 only (PyTorch refuses integers too: ``x.float().mean()``).
"""

import numpy as np

from .._checks import check_compute_dtype
from ..autograd import ArrayFunction, Tensor
from .elementwise import checked_result_type

__all__ = ["sum", "mean", "max", "argmax", "normalize_axis", "normalize_axes"]


def normalize_axis(axis, ndim, op, name="axis"):
    """One axis (negative counts from the end) as a non-negative int, checked against ``ndim``."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: {name}={axis} is out of range for a tensor with {ndim} "
                         f"dimensions (expected {-ndim} <= {name} < {ndim})")
    return int(axis) % ndim


def normalize_axes(axis, ndim, op="reduce"):
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    axes = [normalize_axis(a, ndim, op) for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis={axis} names an axis twice")
    return tuple(sorted(axes))


def _regrow(grad, axes, keepdims):
    """Give the reduced axes back to ``grad`` as size-1 axes (undo keepdims=False)."""
    return grad if keepdims else np.expand_dims(grad, axes)


class Sum(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return np.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_regrow(grad, ctx.axes, ctx.keepdims), ctx.shape)


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all axes); 0 over an empty set."""
    checked_result_type("sum", (x,))
    return Sum.apply(x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=keepdims)


class Mean(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.count = int(np.prod([x.shape[a] for a in axes]))
        with np.errstate(invalid="ignore"):  # 0 / 0 over an empty axis: NaN, as in PyTorch
            return np.sum(x, axis=axes, keepdims=keepdims) / x.dtype.type(ctx.count)

    @staticmethod
    def backward(ctx, grad):
        if ctx.count == 0:  # an empty input has an empty gradient
            return np.zeros(ctx.shape, dtype=grad.dtype)
        grad = _regrow(grad, ctx.axes, ctx.keepdims) / ctx.count
        return np.broadcast_to(grad, ctx.shape)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (None: all axes); NaN over an empty set. float32 or
    float64 only (a TypeError otherwise)."""
    check_compute_dtype(x, "mean: x")
    return Mean.apply(x, axes=normalize_axes(axis, x.ndim, "mean"), keepdims=keepdims)


class Max(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        out = np.max(x, axis=axes, keepdims=True)
        is_max = x == out
        ctx.save_for_backward(is_max / is_max.sum(axis=axes, keepdims=True).astype(x.dtype))
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_tensors
        return _regrow(grad, ctx.axes, ctx.keepdims) * share


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (None: all axes); tied maxima share the gradient evenly.

    Raises
    ------
    ValueError
        An axis reduced over has length 0 (the maximum of nothing is undefined).
    """
    checked_result_type("max", (x,))
    axes = normalize_axes(axis, x.ndim, "max")
    _check_nothing_empty_is_reduced("max", x, axis, axes)
    return Max.apply(x, axes=axes, keepdims=keepdims)


def _check_nothing_empty_is_reduced(op, x, axis, axes):
    """A ValueError when ``op`` (a maximum) would reduce over nothing: the maximum of an
    empty set is undefined (PyTorch raises too)."""
    if axis is None and x.size == 0:
        raise ValueError(f"{op}: the tensor of shape {x.shape} is empty; give axis= to reduce "
                         "over axes of nonzero length only")
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(f"{op}: axis {a} of shape {x.shape} has length 0; the maximum "
                             "of nothing is undefined")


def argmax(x, axis=None):
    """Indices of the maxima over ``axis`` (None: of the flattened tensor), an int64 tensor
    outside the graph; the same empty-tensor errors as ``max``."""
    checked_result_type("argmax", (x,))
    axes = normalize_axes(axis, x.ndim, "argmax")
    if axis is not None and len(axes) != 1:
        raise TypeError(f"argmax: axis must be one integer or None, got {axis!r}")
    _check_nothing_empty_is_reduced("argmax", x, axis, axes)
    return Tensor(x.data.argmax(axis=None if axis is None else axes[0]))
