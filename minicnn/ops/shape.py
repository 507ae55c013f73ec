"""Ops that move elements around without changing them: their backward moves them back.

    reshape / flatten    dx = g reshaped to x's shape
    permute(axes)        dx = g permuted by the inverse permutation (argsort(axes))
    getitem(index)       dx = zeros like x, with g added at the indexed positions
                         (added, not assigned: an integer array may pick one element twice)
    cat / stack          each input gets its slice of g back
    pad                  dx = g with the padding cut off

Conventions follow PyTorch: ``transpose(d0, d1)`` swaps two axes, ``permute`` takes them all;
``pad`` lists (before, after) widths starting from the *last* axis, like ``F.pad``.
``cat`` and ``stack`` of tensors of different dtypes give their common dtype
(``elementwise.result_type``'s rule: float32 with int64 is float32), each input's gradient
coming back in its own dtype.
"""

import functools
import math

import numpy as np

from .._checks import is_int
from ..autograd import ArrayFunction, Tensor
from .elementwise import cast, is_operand, promote_types
from .reduce import normalize_axis

__all__ = ["reshape", "transpose", "permute", "flatten", "getitem", "cat", "stack", "pad"]


class Reshape(ArrayFunction):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


def _shape_args(shape):
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _target_shape(x, shape):
    """``shape`` with its -1 resolved, checked as PyTorch does: ints, at most one -1, no
    other negative size, and as many elements as ``x``."""
    def refuse(reason):
        return ValueError(f"reshape: cannot reshape shape {x.shape} ({x.size} "
                          f"elements) into {shape}: {reason}")
    if not all(is_int(n) for n in shape):
        raise TypeError(f"reshape: shape must be ints, got {shape}")
    shape = tuple(int(n) for n in shape)
    if any(n < -1 for n in shape):
        raise refuse("sizes must be >= 0, or -1 for the one size to infer")
    if shape.count(-1) > 1:
        raise refuse("only one size can be -1 (inferred)")
    known = math.prod(n for n in shape if n != -1)
    if -1 not in shape:
        if known != x.size:
            raise refuse("the number of elements differs")
        return shape
    if known == 0 and x.size == 0:  # any size would do: PyTorch refuses too
        raise refuse("the size -1 is ambiguous next to a size 0")
    if known == 0 or x.size % known:
        raise refuse(f"no size for -1 makes {x.size} elements")
    return tuple(x.size // known if n == -1 else n for n in shape)


def reshape(x, *shape):
    """The same elements in a new shape (one entry may be -1, inferred).

    Raises
    ------
    TypeError
        No shape, or a size that is not an int.
    ValueError
        A negative size other than one -1, or a shape with another number of elements.
    """
    if not shape:
        raise TypeError("reshape: missing the shape (give reshape(2, 3) or reshape((2, 3)))")
    return Reshape.apply(x, shape=_target_shape(x, _shape_args(shape)))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` (inclusive) into one."""
    nd = max(x.ndim, 1)  # a 0-d tensor flattens to shape (1,), as in PyTorch
    start = normalize_axis(start_dim, nd, "flatten", "start_dim")
    end = normalize_axis(end_dim, nd, "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim}")
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:] if x.ndim else (1,)
    if x.size == 0:
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return Reshape.apply(x, shape=shape)


class Permute(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.axes))


def permute(x, *axes):
    """Reorder all axes: ``out.shape[i] == x.shape[axes[i]]``."""
    axes = _shape_args(axes)
    order = [normalize_axis(a, x.ndim, "permute", "axes") for a in axes]
    if sorted(order) != list(range(x.ndim)):
        raise ValueError(f"permute: axes {axes} are not a permutation of the {x.ndim} axes "
                         f"of a tensor of shape {x.shape}")
    return Permute.apply(x, axes=tuple(order))


def transpose(x, *axes):
    """``transpose()`` reverses the axes; ``transpose(d0, d1)`` swaps two (PyTorch)."""
    if not axes:
        return Permute.apply(x, axes=tuple(reversed(range(x.ndim))))
    if len(axes) != 2:
        raise TypeError(f"transpose takes no axes or two axes to swap, got {axes}; use "
                        "permute for a full reordering")
    order = list(range(x.ndim))
    d0 = normalize_axis(axes[0], x.ndim, "transpose", "dim0")
    d1 = normalize_axis(axes[1], x.ndim, "transpose", "dim1")
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(x, axes=tuple(order))


class GetItem(ArrayFunction):
    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        parts = index if isinstance(index, tuple) else (index,)
        ctx.advanced = any(isinstance(i, (list, np.ndarray)) for i in parts)
        return np.array(x[index])  # a copy: the output must not alias the input

    @staticmethod
    def backward(ctx, grad):
        dx = np.zeros(ctx.input_shape, dtype=grad.dtype)
        if ctx.advanced:
            np.add.at(dx, ctx.index, grad)  # unbuffered: a repeated index accumulates
        else:
            dx[ctx.index] = grad  # slices never repeat an element
        return dx


def getitem(x, index):
    """``x[index]``: basic slicing, integer arrays (tensors too) and boolean masks."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return GetItem.apply(x, index=index)


class Cat(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.splits = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.splits, axis=ctx.axis))


def _check_same_rank(name, tensors):
    """The tensors as a list, converted to their common dtype, and their shapes (all of one
    rank)."""
    if isinstance(tensors, (Tensor, np.ndarray)):  # iterating it would split it into rows
        raise TypeError(f"{name}: expected a sequence of tensors, got a single "
                        f"{type(tensors).__name__}")
    tensors = list(tensors)
    if len(tensors) == 0:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: element {i} is a {type(t).__name__}, expected a Tensor")
    shapes = [t.shape for t in tensors]
    if len({len(s) for s in shapes}) != 1:
        raise ValueError(f"{name}: all tensors need the same number of dimensions, got "
                         f"shapes {shapes}")
    try:  # every input is joined as it is, with its axes: 0-d tensors do not rank lower
        dtype = functools.reduce(promote_types, [t.dtype for t in tensors])
    except TypeError as error:
        raise TypeError(f"{name}: {error}") from None
    return [cast(t, dtype) for t in tensors], shapes


def cat(tensors, axis=0):
    """Join tensors along an existing axis; all other axes must match."""
    tensors, shapes = _check_same_rank("cat", tensors)
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("cat: 0-d tensors have no axis to join along; use stack")
    axis = normalize_axis(axis, ndim, "cat")
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(rest) != 1:
        raise ValueError(f"cat: shapes {shapes} differ outside axis {axis}")
    return Cat.apply(*tensors, axis=axis)


class Stack(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def stack(tensors, axis=0):
    """Join tensors of one shape along a new axis."""
    tensors, shapes = _check_same_rank("stack", tensors)
    if len(set(shapes)) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    axis = normalize_axis(axis, len(shapes[0]) + 1, "stack (the result has one more axis)")
    return Stack.apply(*tensors, axis=axis)


class Pad(ArrayFunction):
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.crop = tuple(slice(before, x.shape[i] + before) for i, (before, _) in enumerate(widths))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.crop]


def pad(x, pad, value=0.0):
    """Constant padding, PyTorch's ``F.pad`` convention.

    Parameters
    ----------
    x : Tensor
    pad : tuple of int
        ``(last_before, last_after, second_last_before, second_last_after, ...)``: pairs
        for the trailing axes, last axis first. ``(1, 1, 2, 2)`` pads W by 1 and H by 2.
    value : float
    """
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs of widths for at most {x.ndim} axes, got {pad}")
    if any(not is_int(p) or p < 0 for p in pad):
        raise ValueError(f"pad: widths must be non-negative integers, got {pad}")
    if not is_operand(value) or np.ndim(value) != 0:
        raise TypeError(f"pad: value must be a number, got {value!r}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return Pad.apply(x, widths=tuple(widths), value=value)
