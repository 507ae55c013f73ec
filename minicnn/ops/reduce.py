"""Reductions over one dim, several, or all: sum, mean, prod, var/std, norm, amax/amin,
max/min, logsumexp, cumsum, and the index-valued argmax/argmin/sort/topk.

    out = sum(x, dims)     dx = g broadcast back over ``dims``
    out = mean(x, dims)    dx = g broadcast back over ``dims``, divided by the count reduced
    out = prod(x, dims)    dx = g * (product of the other elements)   (exact at zeros)
    out = var(x, dims)     dx = g * 2 (x - mean) / (N - correction)
    out = norm(x, 2)       dx = g * x / out                          (0 where out is 0)
    out = amax(x, dims)    dx = g where x equals the maximum, split evenly between ties
    out = logsumexp(x)     dx = g * softmax(x)
    out = cumsum(x, d)     dx = g summed from the end back (reversed cumsum)
    max(x, dim) -> (values, indices): values = gather(x, dim, indices), so the gradient
                           goes to the one element picked (PyTorch's rule), not to all ties

Arguments are PyTorch's: ``dim`` (an int, a tuple of ints, or None for all dims) and
``keepdim``; NumPy's ``axis``/``keepdims`` are accepted as aliases. ``keepdim=False``
removes the reduced dims from the output; backward re-inserts them (size 1) before
broadcasting the gradient back to the input's shape.

Empty tensors, as in PyTorch: the sum of nothing is 0, its product 1 and its mean NaN
(0 / 0). The maximum of nothing is undefined, so ``max`` over a dim of length 0 raises
``ValueError``; over dims of nonzero length it gives an empty result when another dim has
length 0 (the max over dim 1 of a (0, 3) tensor has shape (0,)).

``sum``, ``prod``, ``max``, ``cumsum`` take bool and integer tensors too (counting, masks:
bools and integers sum to int64, as in PyTorch); ``mean``, ``var``, ``std``, ``norm`` and
``logsumexp`` compute in float32 or float64 only (PyTorch refuses integers too:
``x.float().mean()``).
"""

import numpy as np

from .. import return_types
from .._checks import check_compute_dtype, is_int
from ..autograd import ArrayFunction, Tensor
from . import elementwise
from .elementwise import cast, checked_result_type, maximum, minimum

__all__ = ["sum", "mean", "prod", "var", "std", "norm", "amax", "amin", "max", "min",
           "argmax", "argmin", "all", "any", "logsumexp", "cumsum", "sort", "argsort", "topk",
           "gather", "nonzero", "reduction_args", "normalize_axis", "normalize_axes"]


class DimensionError(IndexError, ValueError):
    """A dim out of range: PyTorch's IndexError, and a ValueError as minicnn raised before."""


def normalize_axis(axis, ndim, op, name="dim"):
    """One dim (negative counts from the end) as a non-negative int, checked against
    ``ndim`` (a ``DimensionError`` otherwise, with PyTorch's wording)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise DimensionError(f"{op}: {name}={axis} is out of range for a tensor with {ndim} "
                             f"dimensions (Dimension out of range: expected to be in range "
                             f"of [{-ndim}, {ndim - 1}], but got {axis})")
    return int(axis) % ndim


def normalize_axes(axis, ndim, op="reduce"):
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    axes = [normalize_axis(a, ndim, op) for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim={axis} names a dim twice")
    return tuple(sorted(axes))


def reduction_args(op, dim, keepdim, axis, keepdims):
    """PyTorch's ``dim``/``keepdim``, taking NumPy's ``axis``/``keepdims`` as aliases."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim={dim!r} and its alias axis={axis!r}; give one")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdim must be a bool, got {keepdim!r}")
    return dim, bool(keepdim)


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


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over ``dim`` (None: all dims); 0 over an empty set. ``dtype`` converts the input
    first; bools and integers sum to int64, as in PyTorch."""
    dim, keepdim = reduction_args("sum", dim, keepdim, axis, keepdims)
    input = _converted_for_sum("sum", input, dtype)
    return Sum.apply(input, axes=normalize_axes(dim, input.ndim, "sum"), keepdims=keepdim)


def _converted_for_sum(op, input, dtype):
    """``input`` in ``dtype`` if given, else with bools and integers widened to int64."""
    checked_result_type(op, (input,))
    if dtype is None and input.dtype.kind in "biu":
        dtype = np.int64
    return input if dtype is None else cast(input, dtype)


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


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Arithmetic mean over ``dim`` (None: all dims); NaN over an empty set. float32 or
    float64 only (a TypeError otherwise; ``dtype=`` converts the input first)."""
    dim, keepdim = reduction_args("mean", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = cast(input, dtype)
    check_compute_dtype(input, "mean: input")
    return Mean.apply(input, axes=normalize_axes(dim, input.ndim, "mean"), keepdims=keepdim)


class Extreme(ArrayFunction):
    """``amax``/``amin`` (``np.max``/``np.min`` as ``pick``): tied extremes share the
    gradient evenly."""

    @staticmethod
    def forward(ctx, x, axes, keepdims, pick):
        out = pick(x, axis=axes, keepdims=True)
        is_extreme = x == out
        ctx.save_for_backward(is_extreme / is_extreme.sum(axis=axes, keepdims=True).astype(x.dtype))
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_tensors
        return _regrow(grad, ctx.axes, ctx.keepdims) * share


def _extreme(op, pick, input, dim, keepdim):
    checked_result_type(op, (input,))
    axes = normalize_axes(dim, input.ndim, op)
    _check_nothing_empty_is_reduced(op, input, dim, axes)
    return Extreme.apply(input, axes=axes, keepdims=keepdim, pick=pick)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Maximum over ``dim`` (an int, a tuple, or None: all dims), values only; tied maxima
    share the gradient evenly.

    Raises
    ------
    ValueError
        A dim reduced over has length 0 (the maximum of nothing is undefined).
    """
    dim, keepdim = reduction_args("amax", dim, keepdim, axis, keepdims)
    return _extreme("amax", np.max, input, dim, keepdim)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Minimum over ``dim``, values only (as ``amax``)."""
    dim, keepdim = reduction_args("amin", dim, keepdim, axis, keepdims)
    return _extreme("amin", np.min, input, dim, keepdim)


def _by_index(op, index_of, input, dim, keepdim):
    """``(values, indices)`` of the element that ``index_of`` (np.argmax or np.argmin) picks
    along ``dim``; the values gathered, so their gradient goes to that element only."""
    checked_result_type(op, (input,))
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): dim must be one int, got {dim!r}; for several dims use "
                        f"a{op} (values only)")
    axis = normalize_axis(dim, input.ndim, op)
    _check_nothing_empty_is_reduced(op, input, dim, (axis,))
    indices = np.expand_dims(index_of(input.data, axis=axis), axis)
    values = gather(input, axis, indices)
    if not keepdim:
        values, indices = values.squeeze(axis), np.squeeze(indices, axis)
    return getattr(return_types, op)(values, Tensor(indices))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """PyTorch's three ``max``es.

    * ``max(input)``: the largest element, a 0-d tensor (tied maxima share the gradient).
    * ``max(input, dim, keepdim=False)``: ``return_types.max(values, indices)`` along one
      dim, a named tuple: ``_, predicted = logits.max(1)``. The gradient goes to the
      element each index points at.
    * ``max(input, other)`` with a tensor ``other``: the element-wise ``maximum``.

    Raises
    ------
    ValueError
        The tensor is empty, or the dim reduced over has length 0.
    TypeError
        ``dim`` is a tuple (use ``amax``).
    """
    return _max_or_min("max", np.argmax, np.max, maximum, input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """PyTorch's three ``min``es, as ``max``: ``min(input)``, ``min(input, dim)`` ->
    ``return_types.min(values, indices)``, ``min(input, other)`` element-wise."""
    return _max_or_min("min", np.argmin, np.min, minimum, input, dim, keepdim, axis, keepdims)


def _max_or_min(op, index_of, pick, elementwise, input, dim, keepdim, axis, keepdims):
    if isinstance(dim, (Tensor, np.ndarray)):
        return elementwise(input, dim)
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    if dim is None:
        return _extreme(op, pick, input, None, False)
    return _by_index(op, index_of, input, dim, keepdim)


def _check_nothing_empty_is_reduced(op, x, axis, axes):
    """A ValueError when ``op`` (a maximum) would reduce over nothing: the maximum of an
    empty set is undefined (PyTorch raises too)."""
    if axis is None and 0 in x.shape:
        raise ValueError(f"{op}: the tensor of shape {x.shape} is empty; give dim= to reduce "
                         "over dims of nonzero length only")
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(f"{op}: dim {a} of shape {x.shape} has length 0; the maximum "
                             "of nothing is undefined")


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the maxima along ``dim`` (None: of the flattened tensor), an int64 tensor
    outside the graph; the same empty-tensor errors as ``max``."""
    return _arg("argmax", np.argmax, input, dim, keepdim, axis, keepdims)


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the minima along ``dim`` (as ``argmax``)."""
    return _arg("argmin", np.argmin, input, dim, keepdim, axis, keepdims)


def _arg(op, index_of, input, dim, keepdim, axis, keepdims):
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    checked_result_type(op, (input,))
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one integer or None, got {dim!r}")
    axes = normalize_axes(dim, input.ndim, op)
    _check_nothing_empty_is_reduced(op, input, dim, axes)
    if dim is None:
        index = index_of(input.data)
        return Tensor(np.full((1,) * input.ndim if keepdim else (), index, dtype=np.int64))
    return Tensor(index_of(input.data, axis=axes[0], keepdims=keepdim).astype(np.int64))


class Prod(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        return np.prod(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # The product of every other element, exact where x holds zeros (out / x is not):
        # the reduced dims moved last and flattened, then exclusive products from the left
        # times exclusive products from the right.
        kept = [a for a in range(x.ndim) if a not in ctx.axes]
        moved = np.transpose(x, kept + list(ctx.axes))
        rows = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = np.ones(rows.shape[:-1] + (1,), dtype=x.dtype)
        left = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = np.transpose((left * right).reshape(moved.shape),
                              np.argsort(kept + list(ctx.axes)))
        return _regrow(grad, ctx.axes, ctx.keepdims) * others


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Product over ``dim`` (None: all dims); 1 over an empty set; bools and integers give
    int64. The gradient is exact where elements are 0."""
    dim, keepdim = reduction_args("prod", dim, keepdim, axis, keepdims)
    input = _converted_for_sum("prod", input, dtype)
    return Prod.apply(input, axes=normalize_axes(dim, input.ndim, "prod"), keepdims=keepdim)


class Var(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims, correction):
        count = int(np.prod([x.shape[a] for a in axes]))
        ctx.divisor = x.dtype.type(np.maximum(count - correction, 0))
        ctx.centered = x - np.mean(x, axis=axes, keepdims=True) if count else x
        ctx.axes, ctx.keepdims = axes, keepdims
        # count <= correction: inf or NaN, as PyTorch (which warns)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(ctx.centered ** 2, axis=axes, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _regrow(grad, ctx.axes, ctx.keepdims) * (2 / ctx.divisor) * ctx.centered


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Variance over ``dim``: ``sum((x - mean)^2) / (N - correction)``.

    ``correction`` defaults to 1 (Bessel's, PyTorch's default); ``unbiased=False`` means
    ``correction=0`` (the older spelling). float32 or float64 only.
    """
    dim, keepdim, correction = _spread_args("var", dim, unbiased, keepdim, correction, axis,
                                            keepdims)
    check_compute_dtype(input, "var: input")
    return Var.apply(input, axes=normalize_axes(dim, input.ndim, "var"), keepdims=keepdim,
                     correction=correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """Standard deviation over ``dim``: ``sqrt(var(...))`` with the same arguments."""
    return elementwise.sqrt(var(input, dim, unbiased, keepdim, correction=correction, axis=axis,
                    keepdims=keepdims))


def _spread_args(op, dim, unbiased, keepdim, correction, axis, keepdims):
    """``var``/``std``'s arguments; ``var(x, True)`` is PyTorch's old ``var(x, unbiased)``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased= or correction=, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if not isinstance(correction, (int, float, np.integer, np.floating)) or isinstance(
            correction, bool) or correction < 0:
        raise ValueError(f"{op}: correction must be a number >= 0, got {correction!r}")
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    return dim, keepdim, correction


class Norm2(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        out = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # at the zero vector the norm has no gradient: 0, PyTorch's subgradient
        safe = np.where(out == 0, 1, out)
        return _regrow(grad, ctx.axes, ctx.keepdims) * np.where(out == 0, 0, x / safe)


def norm(input, p="fro", dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The ``p``-norm over ``dim`` (None: all elements, as one vector).

    ``p``: 2 or ``"fro"`` (Euclidean, the default), 1, ``inf``/``-inf`` (largest/smallest
    absolute value), 0 (the count of nonzero elements) or any other positive number
    (``sum(|x|^p)^(1/p)``). float32 or float64 only.
    """
    dim, keepdim = reduction_args("norm", dim, keepdim, axis, keepdims)
    if dtype is not None:
        input = cast(input, dtype)
    check_compute_dtype(input, "norm: input")
    axes = normalize_axes(dim, input.ndim, "norm")
    if p == "fro" or p == 2:
        return Norm2.apply(input, axes=axes, keepdims=keepdim)
    if isinstance(p, str) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
    magnitude = elementwise.abs(input)
    if p == np.inf:
        return amax(magnitude, axes, keepdim)
    if p == -np.inf:
        return amin(magnitude, axes, keepdim)
    if p == 0:
        return sum(input != 0, axes, keepdim, dtype=input.dtype)
    if p == 1:
        return sum(magnitude, axes, keepdim)
    return elementwise.pow(sum(elementwise.pow(magnitude, p), axes, keepdim), 1.0 / p)


class LogSumExp(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        top = np.max(x, axis=axes, keepdims=True)
        top = np.where(np.isfinite(top), top, 0)  # all -inf: log(0) = -inf, not NaN
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True)) + top
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _regrow(grad, ctx.axes, ctx.keepdims) * np.exp(x - out)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow (the maximum is taken
    out first); the gradient is ``softmax(x)``. float32 or float64 only."""
    dim, keepdim = reduction_args("logsumexp", dim, keepdim, axis, keepdims)
    check_compute_dtype(input, "logsumexp: input")
    if 0 in input.shape:
        raise ValueError(f"logsumexp: the tensor of shape {input.shape} is empty")
    return LogSumExp.apply(input, axes=normalize_axes(dim, input.ndim, "logsumexp"),
                           keepdims=keepdim)


class CumSum(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


def cumsum(input, dim, *, dtype=None, axis=None):
    """Running sums along ``dim``; bools and integers give int64."""
    dim, _ = reduction_args("cumsum", dim, False, axis, None)
    input = _converted_for_sum("cumsum", input, dtype)
    return CumSum.apply(input, axis=normalize_axis(dim, input.ndim, "cumsum"))


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether every element (along ``dim``) is nonzero, a bool tensor."""
    return _logical("all", np.all, input, dim, keepdim, axis, keepdims)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether some element (along ``dim``) is nonzero, a bool tensor."""
    return _logical("any", np.any, input, dim, keepdim, axis, keepdims)


def _logical(op, numpy_op, input, dim, keepdim, axis, keepdims):
    dim, keepdim = reduction_args(op, dim, keepdim, axis, keepdims)
    checked_result_type(op, (input,))
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    axes = normalize_axes(dim, data.ndim, op)
    return Tensor(np.asarray(numpy_op(data, axis=axes, keepdims=keepdim)))


class Gather(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.input_shape = x.shape
        ctx.where = _positions(index, axis)
        return x[ctx.where]

    @staticmethod
    def backward(ctx, grad):
        dx = np.zeros(ctx.input_shape, dtype=grad.dtype)
        np.add.at(dx, ctx.where, grad)  # an index may repeat: its gradients add up
        return dx


def _positions(index, axis):
    """The NumPy index that picks ``x[i0, ..., index[i0, ..., ik], ..., ik]``."""
    grid = list(np.ix_(*[np.arange(n) for n in index.shape]))
    grid[axis] = index
    return tuple(grid)


def gather(input, dim, index):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim=1`` (PyTorch's gather):
    ``index`` has ``input``'s number of dims and holds int64 positions along ``dim``."""
    index = np.asarray(index.data if isinstance(index, Tensor) else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather(): index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != input.ndim:
        raise ValueError(f"gather(): index has {index.ndim} dims, input {input.ndim}; they "
                         "must be equal")
    axis = normalize_axis(dim, input.ndim, "gather")
    for d, (n, limit) in enumerate(zip(index.shape, input.shape)):
        if d != axis and n > limit:
            raise ValueError(f"gather(): index of shape {index.shape} is larger than input "
                             f"of shape {input.shape} in dim {d}")
    if index.size and (index.min() < -input.shape[axis] or index.max() >= input.shape[axis]):
        raise IndexError(f"gather(): index out of range for dim {dim} of size "
                         f"{input.shape[axis]}")
    return Gather.apply(input, axis=axis, index=index)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim`` (an int64 tensor; ties keep their order)."""
    checked_result_type("argsort", (input,))
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    axis = normalize_axis(dim, data.ndim, "argsort")
    if descending:  # a stable descending sort: ascending on the reversed axis, reversed back
        reversed_order = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
        order = np.flip(data.shape[axis] - 1 - reversed_order, axis)
    else:
        order = np.argsort(data, axis=axis, kind="stable")
    return Tensor(order.astype(np.int64))


def sort(input, dim=-1, descending=False, stable=False):
    """``return_types.sort(values, indices)`` along ``dim``; the values' gradient goes back
    to the positions they came from."""
    indices = argsort(input, dim, descending)
    return return_types.sort(gather(input, dim, indices), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """``return_types.topk(values, indices)``: the ``k`` largest (``largest=False``: smallest)
    elements along ``dim``, largest first. ``logits.topk(5, dim=1)`` gives top-5 accuracy."""
    axis = normalize_axis(dim, input.ndim, "topk")
    if not is_int(k) or not 0 <= k <= input.shape[axis]:
        raise ValueError(f"topk(): k={k!r} must be an int in [0, {input.shape[axis]}] (the "
                         f"size of dim {dim})")
    order = argsort(input, axis, descending=largest).data
    indices = Tensor(np.take(order, np.arange(k), axis=axis))
    return return_types.topk(gather(input, axis, indices), indices)


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an int64 tensor of shape (count, ndim), or with
    ``as_tuple=True`` one 1-d tensor per dim (NumPy's ``nonzero``)."""
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    positions = np.nonzero(data)
    if as_tuple:
        return tuple(Tensor(p.astype(np.int64)) for p in positions)
    return Tensor(np.stack(positions, axis=1).astype(np.int64).reshape(-1, data.ndim))
