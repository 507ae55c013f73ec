"""Resizing ``interpolate``: nearest and (bi/tri)linear resampling, forward and backward.

Shapes: x (N, C, *spatial) with 1, 2 or 3 spatial axes (``(N, C, H, W)`` for images),
out (N, C, *out_spatial).

Every mode is separable: along each spatial axis, output index ``o`` reads one or two input
indices with fixed weights, so the op resamples one axis after the other. With ``n`` inputs
and ``m`` outputs along an axis (PyTorch's formulas, computed in x's dtype; nearest's in
float32 as PyTorch does)::

    scale = (n - 1) / (m - 1)   (0 when m == 1)     bilinear with align_corners=True
          = 1 / scale_factor                        when scale_factor is given (and not
                                                    recompute_scale_factor)
          = n / m                                   otherwise

    nearest:  src(o) = min(floor(o * scale), n - 1)                     weight 1
              (m == n: src(o) = o; m == 2 n: src(o) = o // 2, whatever scale_factor)
    linear:   real = o * scale                      (align_corners=True)
              real = max((o + 0.5) * scale - 0.5, 0) (align_corners=False: pixel centres)
              i0 = floor(real), i1 = min(i0 + 1, n - 1), l1 = real - i0, l0 = 1 - l1
              out[o] = l0 * x[i0] + l1 * x[i1]      (m == n: out = x, whatever scale_factor)

The output size is ``size``, or ``floor(n * scale_factor)``.

Backward is the adjoint of each axis' resampling, applied in reverse order: every output
cell's gradient goes back to the input cells it read, times their weights, and cells read
by several outputs add them up (a product with the axis' (m, n) resampling matrix, or for
long axes a scatter-add, ``_sum_by_index``)::

    dx[i0[o]] += l0[o] * g[o],    dx[i1[o]] += l1[o] * g[o]
"""

import math

import numpy as np

from .._checks import check_compute_dtype, is_int
from ..autograd import ArrayFunction

__all__ = ["interpolate", "Resample"]

# mode -> the number of spatial axes it resamples (PyTorch's pairing of modes and ranks)
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_taps(n_in, n_out, scale_factor):
    """[(source index (m,), weight (m,))] of nearest along one axis, in PyTorch's float32
    (and with its two exact cases, which ignore ``scale_factor``: equal sizes, and twice)."""
    if n_out in (n_in, 2 * n_in):
        return [(np.arange(n_out) * n_in // n_out, None)]
    if scale_factor is not None and scale_factor > 0:
        scale = np.float32(1.0 / scale_factor)
    else:
        scale = np.float32(n_in) / np.float32(n_out)
    source = np.floor(np.arange(n_out, dtype=np.float32) * scale).astype(np.int64)
    return [(np.minimum(source, n_in - 1), None)]


def _linear_taps(n_in, n_out, scale_factor, align_corners, dtype):
    """[(i0, l0), (i1, l1)] of linear interpolation along one axis (module docstring); an
    axis whose size does not change is copied, whatever ``scale_factor`` (PyTorch's rule)."""
    if n_out == n_in:
        return [(np.arange(n_in), None)]
    if align_corners:
        scale = dtype.type((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        real = np.arange(n_out, dtype=dtype) * scale
    else:
        scale = dtype.type(1.0 / scale_factor if scale_factor is not None and scale_factor > 0
                           else n_in / n_out)
        real = np.maximum((np.arange(n_out, dtype=dtype) + dtype.type(0.5)) * scale
                          - dtype.type(0.5), 0)
    i0 = np.minimum(real.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    l1 = np.clip(real - i0, 0, 1).astype(dtype)
    return [(i0, 1 - l1), (i1, l1)]


class Resample(ArrayFunction):
    """Each axis of ``axes`` resampled by its taps (``taps[k]``: the (index, weight) pairs of
    ``axes[k]``, weight None meaning 1): ``interpolate``, and ``pad``'s reflect, replicate
    and circular modes (a gather with weight 1)."""

    @staticmethod
    def forward(ctx, x, axes, taps):
        ctx.axes, ctx.taps, ctx.sizes = axes, taps, []
        for axis, axis_taps in zip(axes, taps):
            ctx.sizes.append(x.shape[axis])
            x = sum(_weighted(np.take(x, index, axis=axis), weight, axis)
                    for index, weight in axis_taps)
        return x

    @staticmethod
    def backward(ctx, grad):
        for axis, axis_taps, size in reversed(list(zip(ctx.axes, ctx.taps, ctx.sizes))):
            if size * grad.shape[axis] <= DENSE_MAX_CELLS:
                # (..., m) @ (m, n) -> (..., n) with the axis last: one BLAS call
                adjoint = _dense_matrix(axis_taps, grad.shape[axis], size, grad.dtype)
                grad = np.moveaxis(np.moveaxis(grad, axis, -1) @ adjoint, -1, axis)
                continue
            # every tap's slices, with their weights, summed into the cells they were read from
            index = np.concatenate([index for index, _ in axis_taps])
            values = np.concatenate([_weighted(grad, weight, axis) for _, weight in axis_taps],
                                    axis=axis)
            grad = _sum_by_index(values, index, axis, size)
        return np.ascontiguousarray(grad)


# Below this many (outputs x inputs) cells along an axis, backward multiplies by the dense
# (m, n) matrix of the resampling (a BLAS product, several times faster than any scatter);
# above it, its cost m * n per slice would outgrow the scatter's m.
DENSE_MAX_CELLS = 2**16


def _dense_matrix(axis_taps, n_out, n_in, dtype):
    """The resampling of one axis as an (n_out, n_in) matrix: row o holds o's weights."""
    matrix = np.zeros((n_out, n_in), dtype)
    for index, weight in axis_taps:
        np.add.at(matrix, (np.arange(n_out), index), 1 if weight is None else weight)
    return matrix


def _sum_by_index(values, index, axis, size):
    """``out[..., i, ...]`` = the sum of the slices ``values[..., o, ...]`` with ``index[o] ==
    i`` (0 where none): ``np.add.at``'s result, much faster on large arrays, as the slices are
    sorted by index and each run summed by one ``np.add.reduceat``."""
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    starts = np.flatnonzero(np.diff(sorted_index, prepend=-1))  # the first slice of each run
    sums = np.add.reduceat(np.take(values, order, axis=axis), starts, axis=axis)
    if len(starts) == size:  # every cell was read (upsampling, padding): sums is the answer
        return sums
    out = np.zeros(values.shape[:axis] + (size,) + values.shape[axis + 1:], values.dtype)
    out[(slice(None),) * axis + (sorted_index[starts],)] = sums
    return out


def _weighted(values, weight, axis):
    """values times ``weight`` (one per index along ``axis``); None means 1."""
    if weight is None:
        return values
    return values * weight.reshape((-1,) + (1,) * (values.ndim - axis - 1))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of a batch, as PyTorch's ``F.interpolate``.

    Parameters
    ----------
    input : Tensor, shape (N, C, L), (N, C, H, W) or (N, C, D, H, W), float32 or float64
    size : int or tuple of int, optional
        The output's spatial size; give it or ``scale_factor``, not both.
    scale_factor : float or tuple of float, optional
        Output size ``floor(n * scale_factor)``. Unless ``recompute_scale_factor`` is True,
        the index formulas use ``1 / scale_factor``, not the size ratio (PyTorch's rule:
        ``scale_factor=1.7`` on 5 pixels gives 8 outputs that read ``floor(o / 1.7)``).
    mode : 'nearest', 'linear' (3-D input), 'bilinear' (4-D) or 'trilinear' (5-D)
    align_corners : bool, optional
        Linear modes only: True maps the corner pixels' centres onto each other, False
        (the default, as PyTorch's None) treats pixels as areas (half-pixel centres).
    recompute_scale_factor : bool, optional
        True: the size ratio replaces ``scale_factor`` in the index formulas.
    antialias : False
        Antialiased downsampling is not offered.

    Returns
    -------
    Tensor, shape (N, C, *out_size), input's dtype

    Raises
    ------
    TypeError
        Input not float32/float64; size or scale_factor of the wrong type.
    ValueError
        Both or neither of size and scale_factor; a mode minicnn lacks or that does not
        match the input's rank; align_corners with 'nearest'; a size or scale that gives an
        empty output; antialias=True.
    """
    spatial = _check_interpolate(input, size, scale_factor, mode, align_corners, antialias)
    in_sizes = input.shape[2:]
    factors = _per_axis(scale_factor, spatial, "scale_factor", float)
    if size is not None:
        out_sizes = _per_axis(size, spatial, "size", int)
    else:
        out_sizes = tuple(math.floor(float(n) * f) for n, f in zip(in_sizes, factors))
    if min(in_sizes) < 1 or min(out_sizes) < 1:
        raise ValueError(f"interpolate: input and output sizes must be positive, got input "
                         f"{tuple(in_sizes)} and output {out_sizes}")
    if recompute_scale_factor or scale_factor is None:
        factors = (None,) * spatial
    dtype = np.dtype(input.dtype)
    taps = tuple(_nearest_taps(n, m, f) if mode == "nearest"
                 else _linear_taps(n, m, f, bool(align_corners), dtype)
                 for n, m, f in zip(in_sizes, out_sizes, factors))
    return Resample.apply(input, axes=tuple(range(2, input.ndim)), taps=taps)


def _check_interpolate(x, size, scale_factor, mode, align_corners, antialias):
    """The number of spatial axes, or the error PyTorch gives (as ValueError/TypeError)."""
    check_compute_dtype(x, "interpolate: input")
    if antialias:
        raise ValueError("interpolate: antialias=True is not offered by minicnn")
    if mode != "nearest" and mode not in _LINEAR_MODES:
        raise ValueError(f"interpolate: mode must be 'nearest', 'linear', 'bilinear' or "
                         f"'trilinear', got {mode!r}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = x.ndim - 2
    if spatial not in (1, 2, 3) or spatial != _LINEAR_MODES.get(mode, spatial):
        expected = "3-D, 4-D or 5-D" if mode == "nearest" else f"{_LINEAR_MODES[mode] + 2}-D"
        raise ValueError(f"interpolate: mode {mode!r} takes a {expected} input (N, C, ...), "
                         f"got shape {tuple(x.shape)}")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    return spatial


def _per_axis(value, spatial, name, kind):
    """``value`` (one number or one per spatial axis) as a tuple of ``kind``; None stays."""
    if value is None:
        return (None,) * spatial
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * spatial
    number = is_int if kind is int else (lambda v: isinstance(v, (int, float, np.number))
                                         and not isinstance(v, (bool, np.bool_)))
    if len(values) != spatial or not all(number(v) for v in values):
        raise TypeError(f"interpolate: {name} must be a {kind.__name__} or {spatial} of them "
                        f"(one per spatial axis), got {value!r}")
    return tuple(kind(v) for v in values)
