"""Matrix products: batched ``matmul`` and the fully connected layer ``linear``.

Shapes: ``a (..., M, K) @ b (..., K, P) -> (..., M, P)``, batch axes broadcast.

    out = a @ b              da = g @ b^T              db = a^T @ g
    out = x @ W^T + bias     dx = g @ W                dW = g^T @ x     dbias = sum of g over rows

(``^T`` swaps the last two axes; batch axes that were broadcast are summed back.)
A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector, and that axis is removed
from the output, as in NumPy and PyTorch.

Both compute in float32 or float64, and every operand must have the same dtype: a float32
layer on a float64 input raises ``TypeError`` (as in PyTorch) instead of upcasting.
"""

import numpy as np

from .._checks import check_compute_dtype, check_same_dtype
from ..autograd import ArrayFunction, Tensor
from .elementwise import unbroadcast, write_out

__all__ = ["matmul", "mm", "bmm", "linear"]


def _swap(m):
    return np.swapaxes(m, -1, -2)


class MatMul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        # a is needed only for b's gradient and b for a's (saved only then, as PyTorch)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = a.shape, b.shape
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        # the unsaved operand only lends its shape to the formulas below
        a = np.broadcast_to(np.zeros((), grad.dtype), shape_a) if a is None else a
        b = np.broadcast_to(np.zeros((), grad.dtype), shape_b) if b is None else b
        # Treat vectors as (1, K) rows / (K, 1) columns so one formula covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad  # give grad back the axes the vectors lost: (..., M, P)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)  # first: for vector @ vector, grad is 0-d
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(g @ _swap(b2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            db = unbroadcast(_swap(a2) @ g, b2.shape).reshape(b.shape)
        return da, db


def _check_operands(op, reference, others):
    """Tensors or arrays of one compute dtype, or a TypeError naming the odd one out.

    ``reference`` and each of ``others`` (None skipped) is a ``(name, operand)`` pair.
    """
    for name, operand in (reference, *others):
        if operand is not None and not isinstance(operand, (Tensor, np.ndarray)):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(operand).__name__}")
    check_compute_dtype(reference[1], f"{op}: {reference[0]}")
    check_same_dtype(reference[1], f"{op}: {reference[0]}",
                     [(f"{op}: {name}", operand) for name, operand in others])


def matmul(a, b, *, out=None):
    """Matrix product with NumPy's rules (batched, broadcasting batch axes).

    ``a`` and ``b``: tensors (or arrays) of one dtype, float32 or float64; a TypeError
    otherwise (PyTorch refuses mixed dtypes too). ``out``: see ``elementwise.write_out``.
    """
    _check_operands("matmul", ("a", a), [("b", b)])
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: both operands need at least one dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not line up: "
                         f"{a.shape[-1]} columns against {b.shape[-2 if b.ndim > 1 else 0]} rows")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {a.shape} and {b.shape} "
                         f"({a.shape[:-2]} and {b.shape[:-2]}) do not broadcast") from None
    return write_out("matmul", MatMul.apply(a, b), out)


def mm(a, b, *, out=None):
    """The product of two matrices (2-D only; ``matmul`` broadcasts)."""
    return _fixed_rank_matmul("mm", 2, "2D matrices", a, b, out)


def bmm(a, b, *, out=None):
    """Batched products of matrices: ``(B, N, M) @ (B, M, P) -> (B, N, P)`` (3-D only, the
    same batch size)."""
    if getattr(a, "ndim", None) == 3 == getattr(b, "ndim", None) and a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {a.shape} and {b.shape}")
    return _fixed_rank_matmul("bmm", 3, "3D tensors", a, b, out)


def _fixed_rank_matmul(op, ndim, what, a, b, out):
    _check_operands(op, ("input", a), [("mat2", b)])
    for name, operand in (("input", a), ("mat2", b)):
        if operand.ndim != ndim:
            raise ValueError(f"{op}: {name} must be a {ndim}-D tensor ({what}), got shape "
                             f"{operand.shape}")
    return matmul(a, b, out=out)


class Linear(ArrayFunction):
    @staticmethod
    def forward(ctx, x, weight, bias):
        need_x, need_w, _ = ctx.needs_input_grad  # x serves dW only, weight dx only
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        out = x @ weight.T  # (..., in) @ (in, out) -> (..., out)
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = grad @ weight if need_x else None
        dw = grad.reshape(-1, grad.shape[-1]).T @ x.reshape(-1, x.shape[-1]) if need_w else None
        db = grad.reshape(-1, grad.shape[-1]).sum(axis=0) if need_b else None
        return dx, dw, db


def linear(x, weight, bias=None):
    """Fully connected layer ``x @ weight.T + bias``.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
    weight : Tensor, shape (out_features, in_features)
    bias : Tensor, shape (out_features,), optional

    Returns
    -------
    Tensor, shape (..., out_features), the dtype of ``x``

    Raises
    ------
    TypeError
        ``x`` is not float32 or float64, or ``weight``/``bias`` have another dtype than
        ``x`` (convert the layer with ``.double()``/``.float()``, or the input).
    ValueError
        The shapes do not fit together.
    """
    _check_operands("linear", ("x", x), [("weight", weight), ("bias", bias)])
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape "
                         f"{x.shape}), weight expects in_features={weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(x, weight, bias)
