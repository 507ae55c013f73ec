"""Ops that move elements around without changing them: their backward moves them back.

    reshape / flatten    dx = g reshaped to x's shape (view, squeeze, unsqueeze too)
    expand(sizes)        dx = g summed over the dims that were stretched
    repeat(counts)       dx = g summed over the copies
    clone                dx = g
    flip(dims)           dx = g flipped back
    permute(axes)        dx = g permuted by the inverse permutation (argsort(axes))
    getitem(index)       dx = zeros like x, with g added at the indexed positions (a view
                         of x for basic indexing, as PyTorch)
                         (added, not assigned: an integer array may pick one element twice)
    cat / stack          each input gets its slice of g back
    pad                  constant: dx = g with the padding cut off (zeros where cropped);
                         reflect/replicate/circular: each g cell added to the cell it copied

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
from .elementwise import cast, is_operand, promote_types, unbroadcast, write_out
from .reduce import normalize_axes, normalize_axis, reduction_args
from .upsample import Resample

__all__ = ["reshape", "view", "transpose", "t", "permute", "flatten", "squeeze", "unsqueeze",
           "expand", "repeat", "split", "chunk", "meshgrid", "swapaxes", "flip", "unbind",
           "narrow", "index_select", "clone", "getitem", "cat", "stack", "pad"]


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
    numel = math.prod(x.shape)

    def refuse(reason):
        return ValueError(f"reshape: cannot reshape shape {x.shape} ({numel} "
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
        if known != numel:
            raise refuse("the number of elements differs")
        return shape
    if known == 0 and numel == 0:  # any size would do: PyTorch refuses too
        raise refuse("the size -1 is ambiguous next to a size 0")
    if known == 0 or numel % known:
        raise refuse(f"no size for -1 makes {numel} elements")
    return tuple(numel // known if n == -1 else n for n in shape)


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
    if 0 in x.shape:
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


def transpose(x, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` (PyTorch's ``transpose``; ``permute`` reorders all)."""
    order = list(range(x.ndim))
    d0 = normalize_axis(dim0, x.ndim, "transpose", "dim0")
    d1 = normalize_axis(dim1, x.ndim, "transpose", "dim1")
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(x, axes=tuple(order))


def t(x):
    """The transpose of a matrix; a 0-d or 1-d tensor as it is (PyTorch's ``t``)."""
    if x.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D "
                         "(use transpose(dim0, dim1) or permute)")
    return transpose(x, 0, 1) if x.ndim == 2 else Permute.apply(x, axes=tuple(range(x.ndim)))


def view(x, *shape):
    """``reshape`` that shares memory with ``x``, as PyTorch's ``view``.

    A reshape of a contiguous tensor always shares memory (NumPy's reshape views it); one
    that would need a copy (after ``transpose``/``permute``) raises ``RuntimeError`` with
    PyTorch's advice to use ``reshape``.
    """
    if not shape:
        raise TypeError("view: missing the shape (give view(2, 3) or view((2, 3)))")
    target = _target_shape(x, _shape_args(shape))
    try:
        np.reshape(x.data if isinstance(x, Tensor) else x, target, copy=False)
    except ValueError:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(shape {x.shape} to {target}: at least one dimension spans "
                           "across two contiguous subspaces). Use .reshape(...) instead.") from None
    return Reshape.apply(x, shape=target)


def squeeze(x, dim=None):
    """``x`` without size-1 dims (all of them, or those in ``dim``: an int or a tuple); a
    named dim of another size is left alone, as in PyTorch."""
    axes = range(x.ndim) if dim is None else normalize_axes(dim, x.ndim, "squeeze")
    shape = tuple(n for a, n in enumerate(x.shape) if not (a in axes and n == 1))
    return Reshape.apply(x, shape=shape)


def unsqueeze(x, dim):
    """``x`` with a new size-1 dim at position ``dim`` (in ``-ndim - 1 <= dim <= ndim``)."""
    axis = normalize_axis(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:axis] + (1,) + x.shape[axis:])


class Expand(ArrayFunction):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return np.broadcast_to(x, shape)  # a read-only view, as PyTorch's expand is a view

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.input_shape)


def expand(x, *sizes):
    """``x`` broadcast to ``sizes`` without copying: a size-1 dim may grow, -1 keeps a dim,
    new dims may be added in front. The gradient sums over the expanded dims."""
    sizes = _shape_args(sizes)
    if not all(is_int(n) for n in sizes):
        raise TypeError(f"expand: sizes must be ints, got {sizes}")
    if len(sizes) < x.ndim:
        raise ValueError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                         f"or equal to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    shape = []
    for i, n in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ValueError(f"expand: the size -1 is not allowed in a leading, "
                                 f"non-existing dimension {i} (sizes {tuple(sizes)})")
            n = old
        if n < 0 or (old is not None and old != 1 and old != n):
            raise ValueError(f"expand: the expanded size of the tensor ({n}) must match the "
                             f"existing size ({old}) at non-singleton dimension {i}. Target "
                             f"sizes: {list(sizes)}. Tensor sizes: {list(x.shape)}")
        shape.append(int(n))
    return Expand.apply(x, shape=tuple(shape))


class Repeat(ArrayFunction):
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape, ctx.repeats = x.shape, repeats
        return np.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        # grad as (r0, s0, r1, s1, ...): summing the r axes adds up every copy
        shape = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        split = [n for pair in zip(ctx.repeats, shape) for n in pair]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.input_shape)


def repeat(x, *repeats):
    """``x`` tiled ``repeats[i]`` times along dim ``i`` (PyTorch's ``repeat``: a copy; more
    repeats than dims add leading dims)."""
    repeats = _shape_args(repeats)
    if not all(is_int(n) and n >= 0 for n in repeats):
        raise ValueError(f"repeat: repeats must be non-negative ints, got {repeats}")
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: number of dimensions of repeat dims ({len(repeats)}) can "
                         f"not be smaller than number of dimensions of tensor ({x.ndim})")
    return Repeat.apply(x, repeats=tuple(int(n) for n in repeats))


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``x`` along ``dim``: of ``split_size`` each (the last may be smaller) or of
    the listed sizes (which must add up to the dim's size). A tuple of tensors."""
    axis = normalize_axis(dim, x.ndim, "split")
    length = x.shape[axis]
    if is_int(split_size_or_sections):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if not all(is_int(n) and n >= 0 for n in sizes) or sum(sizes) != length:
            raise ValueError(f"split: split_size_or_sections={sizes} must be non-negative "
                             f"ints adding up to {length} (the size of dim {dim})")
    starts = np.cumsum([0] + sizes[:-1])
    before = (slice(None),) * axis
    return tuple(getitem(x, before + (slice(int(s), int(s) + int(n)),))
                 for s, n in zip(starts, sizes))


def chunk(x, chunks, dim=0):
    """``x`` split into ``chunks`` pieces along ``dim``, each of ``ceil(size / chunks)``
    (fewer pieces when the size does not allow that many, as in PyTorch)."""
    if not is_int(chunks) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    length = x.shape[normalize_axis(dim, x.ndim, "chunk")]
    return split(x, max(math.ceil(length / chunks), 1), dim)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: the ``i``-th output holds ``tensors[i]`` along dim
    ``i`` (``indexing="ij"``, PyTorch's default) and is broadcast (``expand``) along the
    others; ``indexing="xy"`` swaps the first two dims (NumPy's default)."""
    tensors = _shape_args(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t in enumerate(tensors):
        if not isinstance(t, (Tensor, np.ndarray)) or t.ndim > 1:
            raise TypeError(f"meshgrid: expected 0-d or 1-d tensors, got argument {i} of "
                            f"shape {getattr(t, 'shape', type(t).__name__)}")
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    sizes = [math.prod(t.shape) for t in tensors]
    shape = [sizes[i] for i in order]
    grids = []
    for i, t in enumerate(tensors):
        position = order.index(i)
        along = [1] * len(tensors)
        along[position] = sizes[i]
        grids.append(expand(Reshape.apply(t, shape=tuple(along)), *shape))
    return tuple(grids)


class Flip(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes)


def flip(x, dims):
    """``x`` with the order of elements reversed along ``dims`` (an int or a tuple)."""
    return Flip.apply(x, axes=normalize_axes(dims, x.ndim, "flip"))


def _along(x, dim, index):
    """``x[..., index, ...]`` with ``index`` at dim ``dim`` (a slice, an int or an array)."""
    return getitem(x, (slice(None),) * dim + (index,))


def unbind(x, dim=0):
    """The slices of ``x`` along ``dim``, each without that dim (a tuple of tensors)."""
    axis = normalize_axis(dim, x.ndim, "unbind")
    return tuple(_along(x, axis, i) for i in range(x.shape[axis]))


def narrow(x, dim, start, length):
    """``length`` elements of ``x`` along ``dim`` from ``start`` (a view, as PyTorch)."""
    axis = normalize_axis(dim, x.ndim, "narrow")
    size = x.shape[axis]
    if not (is_int(start) and is_int(length)) or not (-size <= start <= size):
        raise ValueError(f"narrow: start={start!r} must be an int in [{-size}, {size}]")
    start = int(start) % size if size and start < 0 else int(start)
    if length < 0 or start + length > size:
        raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                         f"({size})")
    return _along(x, axis, slice(start, start + int(length)))


def index_select(x, dim, index):
    """The entries of ``x`` at positions ``index`` (1-D integers) along ``dim``."""
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise TypeError(f"index_select(): index must be a 0-d or 1-d integer tensor, got "
                        f"dtype {index.dtype} and shape {index.shape}")
    axis = normalize_axis(dim, x.ndim, "index_select")
    if index.size and (index.min() < -x.shape[axis] or index.max() >= x.shape[axis]):
        raise IndexError(f"index_select(): index out of range for dim {dim} of size "
                         f"{x.shape[axis]}")
    return _along(x, axis, index.reshape(-1))


def swapaxes(x, axis0, axis1):
    """NumPy's name for ``transpose(axis0, axis1)`` (PyTorch has both)."""
    return transpose(x, axis0, axis1)


class Clone(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(x):
    """A copy of ``x`` that stays in the graph (the gradient flows back unchanged)."""
    return Clone.apply(x)


class GetItem(ArrayFunction):
    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        parts = index if isinstance(index, tuple) else (index,)
        ctx.advanced = any(isinstance(i, (list, np.ndarray)) for i in parts)
        # Basic indexing (ints, slices) gives a view sharing x's memory, as in PyTorch (the
        # engine links their version counters); integer arrays and masks give copies.
        return x[index]

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


def cat(tensors, dim=0, *, axis=None, out=None):
    """Join tensors along an existing dim; all other dims must match (``axis``: an alias
    of ``dim``; ``out``: a tensor to write the result into, as PyTorch's ``out=``)."""
    dim, _ = reduction_args("cat", None if axis is not None and dim == 0 else dim, False,
                            axis, None)
    tensors, shapes = _check_same_rank("cat", tensors)
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("cat: 0-d tensors have no dim to join along; use stack")
    axis = normalize_axis(dim, ndim, "cat")
    rest = {s[:axis] + s[axis + 1:] for s in shapes}
    if len(rest) != 1:
        raise ValueError(f"cat: shapes {shapes} differ outside dim {axis}")
    return write_out("cat", Cat.apply(*tensors, axis=axis), out)


class Stack(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def stack(tensors, dim=0, *, axis=None, out=None):
    """Join tensors of one shape along a new dim (``axis``: an alias of ``dim``; ``out``:
    as in ``cat``)."""
    dim, _ = reduction_args("stack", None if axis is not None and dim == 0 else dim, False,
                            axis, None)
    tensors, shapes = _check_same_rank("stack", tensors)
    if len(set(shapes)) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {shapes}")
    axis = normalize_axis(dim, len(shapes[0]) + 1, "stack (the result has one more dim)")
    return write_out("stack", Stack.apply(*tensors, axis=axis), out)


class Pad(ArrayFunction):
    """Constant padding; a negative width crops."""

    @staticmethod
    def forward(ctx, x, widths, value):
        crop = tuple(slice(max(-before, 0), size - max(-after, 0))
                     for size, (before, after) in zip(x.shape, widths))
        grow = tuple((max(before, 0), max(after, 0)) for before, after in widths)
        ctx.cropped = tuple((max(-before, 0), max(-after, 0)) for before, after in widths)
        ctx.grown = tuple(slice(before, before + s.stop - s.start)
                          for (before, _), s in zip(grow, crop))
        return np.pad(x[crop], grow, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        # cut the padding off, put zeros where the input was cropped
        return np.pad(grad[ctx.grown], ctx.cropped)


def _border_index(size, before, after, mode):
    """The input index each cell of a padded axis reads in ``mode`` (PyTorch's limits)."""
    where = np.arange(-before, size + after)
    if mode == "replicate":
        if size == 0:
            raise ValueError("pad: mode 'replicate' needs a non-empty axis to copy")
        return np.clip(where, 0, size - 1)
    if mode == "reflect":
        if max(before, after) >= size:
            raise ValueError(f"pad: padding size should be less than the corresponding input "
                             f"dimension in mode 'reflect', but got padding ({before}, {after}) "
                             f"for an axis of size {size}")
        return (size - 1) - np.abs((size - 1) - np.abs(where))  # mirrored at both ends
    # circular, as PyTorch: the crops first, then the wrap around what is left
    first, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
    if max(before, after) > kept:
        raise ValueError(f"pad: padding ({before}, {after}) on an axis of size {size} causes "
                         f"wrapping around more than once (mode 'circular')")
    return first + np.arange(-max(before, 0), kept + max(after, 0)) % kept


def pad(x, pad, mode="constant", value=None):
    """Pad (or, with negative widths, crop) the trailing axes, PyTorch's ``F.pad``.

    Parameters
    ----------
    x : Tensor
    pad : tuple of int
        ``(last_before, last_after, second_last_before, second_last_after, ...)``: pairs
        for the trailing axes, last axis first. ``(1, 1, 2, 2)`` pads W by 1 and H by 2
        (``(left, right, top, bottom)``). A negative width removes cells.
    mode : 'constant', 'reflect', 'replicate' or 'circular'
        'constant' fills with ``value`` and pads any number of axes. The others pad the last
        1, 2 or 3 axes of an input with one or two more axes (PyTorch's pairing: 2 widths
        for 2-D/3-D input, 4 for 3-D/4-D, 6 for 4-D/5-D) and read the input itself:
        'reflect' mirrors it without repeating the edge (``[2, 1 | 1, 2, 3 | 2, 1]``; widths
        below the axis' size), 'replicate' repeats the edge, 'circular' wraps around
        (widths at most the axis' size; a crop on one side comes first, as in PyTorch).
    value : float, optional
        The fill of 'constant' (default 0); the other modes take none.

    Backward: the gradient of each output cell goes to the input cell it was read from;
    reflected, replicated and wrapped cells add up into their source cells.

    Raises
    ------
    ValueError
        Widths not pairs of ints for at most ``x.ndim`` axes, an unknown mode, the
        pairing of widths and dims above, a reflect/circular width too large, a crop larger
        than the axis.
    TypeError
        value not a number, or given with a mode other than 'constant'.
    """
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected pairs of widths for at most {x.ndim} axes, got {pad}")
    if not all(is_int(p) for p in pad):
        raise ValueError(f"pad: widths must be integers (negative ones crop), got {pad}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)][::-1]
    first = x.ndim - len(pairs)  # the first padded axis
    for size, (before, after) in zip(x.shape[first:], pairs):
        if size + min(before, 0) + min(after, 0) < 0:
            raise ValueError(f"pad: the axis of size {size} cannot lose {-min(before, 0)} and "
                             f"{-min(after, 0)} cells (widths {pad})")
    if mode == "constant":
        value = 0.0 if value is None else value
        if not is_operand(value) or np.ndim(value) != 0:
            raise TypeError(f"pad: value must be a number, got {value!r}")
        return Pad.apply(x, widths=((0, 0),) * first + tuple(pairs), value=value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value is not None:
        raise TypeError(f"pad: mode {mode!r} doesn't take a value argument, got {value!r}")
    if len(pairs) not in (1, 2, 3) or first not in (1, 2):
        raise ValueError(f"pad: mode {mode!r} pads the last 1, 2 or 3 axes of an input with one "
                         f"or two more axes (2 widths for 2-D or 3-D input, 4 for 3-D or 4-D, "
                         f"6 for 4-D or 5-D); got {len(pad)} widths for shape {tuple(x.shape)}")
    taps = tuple([(_border_index(size, before, after, mode), None)]
                 for size, (before, after) in zip(x.shape[first:], pairs))
    return Resample.apply(x, axes=tuple(range(first, x.ndim)), taps=taps)
