"""Element-wise arithmetic: forward and backward of each op, side by side.

Every binary op broadcasts its operands as NumPy does. In backward, an operand that was
broadcast receives the *sum* of the gradient over the axes it was stretched along
(``unbroadcast``), because each of its elements fed every output element along those axes.

Gradients (g is the upstream gradient dL/dout):

    out = a + b        da = g                       db = g
    out = a - b        da = g                       db = -g
    out = a * b        da = g * b                   db = g * a
    out = a / b        da = g / b                   db = -g * a / b**2
    out = a ** b       da = g * b * a**(b - 1)      db = g * out * log(a)   (a > 0)
    out = exp(a)       da = g * out
    out = log(a)       da = g / a
    out = sqrt(a)      da = g / (2 * out)
    out = |a|          da = g * sign(a)                   (0 at a = 0)
    out = max(a, b)    da = g * [a > b] + g/2 * [a == b]  (ties split the gradient)
    out = where(c,a,b) da = g * c                   db = g * (1 - c)
    out = clip(a,lo,hi) da = g * [lo <= a <= hi]

Scalars are "weak" (PyTorch's rule): ``x * 2.0``, ``x * np.float64(2)`` and
``x * np.array(2.0)`` (a 0-d array) all keep a float32 tensor float32. An integer tensor
combined with a Python float gives float32, PyTorch's default dtype (not NumPy's float64).
"""

import numbers

import numpy as np

from ..autograd import Function, Tensor

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs",
           "maximum", "minimum", "where", "clip", "unbroadcast"]


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the reverse of NumPy broadcasting ``shape`` up to it."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape)
                      if n == 1 and grad.shape[i + extra] != 1)
    grad = grad.sum(axis=tuple(range(extra)) + stretched, keepdims=True)
    return grad.reshape(shape)


def _operands(a, b, op):
    """Turn scalars (Python, NumPy, 0-d arrays) into arrays of the tensor operand's dtype
    (no upcasting), and check that the two shapes broadcast (naming both, rather than
    numpy's error)."""
    def coerce(x, like):
        if isinstance(x, Tensor):
            if isinstance(like, float) and not np.issubdtype(x.dtype, np.floating):
                # an integer tensor beside a Python float computes in the default float32
                # (it carries no gradient, so its array stands in for it)
                return x.data.astype(np.float32)
            return x
        scalar = isinstance(x, (numbers.Number, np.generic)) or \
            (isinstance(x, np.ndarray) and x.ndim == 0)
        if not scalar or not isinstance(like, Tensor):
            return x
        if np.issubdtype(like.dtype, np.floating):
            return np.asarray(x, dtype=like.dtype)
        return np.asarray(x, dtype=np.float32 if isinstance(x, float) else None)
    a, b = coerce(a, b), coerce(b, a)
    _check_broadcast(op, np.shape(a), np.shape(b))
    return a, b


def _check_broadcast(op, *shapes):
    if len(set(shapes)) > 1:
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            listed = " and ".join(str(s) for s in shapes)
            raise ValueError(f"{op}: shapes {listed} cannot be broadcast together (each axis, "
                             "aligned from the right, must be equal or 1)") from None


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        da = unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None
        db = unbroadcast(grad, shape_b) if ctx.needs_input_grad[1] else None
        return da, db


def add(a, b):
    """``a + b`` with broadcasting."""
    return Add.apply(*_operands(a, b, "add"))


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(a), np.shape(b)
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        da = unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-grad, shape_b) if ctx.needs_input_grad[1] else None
        return da, db


def sub(a, b):
    """``a - b`` with broadcasting."""
    return Sub.apply(*_operands(a, b, "sub"))


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad * b, np.shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(grad * a, np.shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


def mul(a, b):
    """``a * b`` with broadcasting."""
    return Mul.apply(*_operands(a, b, "mul"))


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-grad * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


def div(a, b):
    """``a / b`` with broadcasting."""
    return Div.apply(*_operands(a, b, "div"))


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(a):
    """``-a``."""
    return Neg.apply(a)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        da = db = None
        # At a = 0 the formulas meet 0 * inf; the limits (PyTorch's values) are used instead:
        # d(a^0)/da = 0, and d(a^b)/db = a^b log a -> 0. For a < 0, db is NaN (no real log).
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                local = np.where(b == 0, 0, b * np.power(a, b - 1))
                da = unbroadcast(grad * local, np.shape(a))
            if ctx.needs_input_grad[1]:
                local = np.where(a == 0, 0, out * np.log(a))
                db = unbroadcast(grad * local, np.shape(b))
        return da, db


def pow(a, b):
    """``a ** b``: tensor ** scalar, scalar ** tensor or tensor ** tensor (the gradient with
    respect to ``b`` needs ``a >= 0``)."""
    return Pow.apply(*_operands(a, b, "pow"))


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


def exp(a):
    """``e ** a``."""
    return Exp.apply(a)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


def log(a):
    """Natural logarithm (``a > 0``)."""
    return Log.apply(a)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


def sqrt(a):
    """Square root (``a >= 0``; the gradient is infinite at 0)."""
    return Sqrt.apply(a)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)


def abs(a):
    """``|a|``; the gradient at 0 is 0 (PyTorch's choice)."""
    return Abs.apply(a)


class _Extremum(Function):
    """Shared forward/backward of element-wise ``maximum`` and ``minimum``."""

    @staticmethod
    def forward(ctx, a, b, pick_max):
        ctx.save_for_backward(a, b)
        ctx.pick_max = pick_max
        return np.maximum(a, b) if pick_max else np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_wins = (a > b) if ctx.pick_max else (a < b)
        share_a = np.where(a == b, 0.5, a_wins).astype(grad.dtype)  # a tie splits evenly
        da = unbroadcast(grad * share_a, np.shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(grad * (1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


def maximum(a, b):
    """Element-wise maximum with broadcasting; at ties each operand gets half the gradient."""
    return _Extremum.apply(*_operands(a, b, "maximum"), pick_max=True)


def minimum(a, b):
    """Element-wise minimum with broadcasting; at ties each operand gets half the gradient."""
    return _Extremum.apply(*_operands(a, b, "minimum"), pick_max=False)


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition = np.broadcast_to(condition, np.broadcast_shapes(
            np.shape(condition), np.shape(a), np.shape(b)))
        ctx.shapes = np.shape(a), np.shape(b)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        zero = np.zeros((), dtype=grad.dtype)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(np.where(ctx.condition, grad, zero), shape_a)
        if ctx.needs_input_grad[1]:
            db = unbroadcast(np.where(ctx.condition, zero, grad), shape_b)
        return da, db


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (broadcast together); no gradient to the mask."""
    if isinstance(condition, Tensor):
        condition = condition.data
    condition = np.asarray(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {condition.dtype}")
    a, b = _operands(a, b, "where")
    _check_broadcast("where", condition.shape, np.shape(a), np.shape(b))
    return Where.apply(a, b, condition=condition)


class Clip(Function):
    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        inside = np.ones(a.shape, dtype=bool)
        if ctx.low is not None:
            inside &= a >= ctx.low
        if ctx.high is not None:
            inside &= a <= ctx.high
        return grad * inside


def clip(a, min=None, max=None):
    """Limit ``a`` to ``[min, max]`` (either may be None); gradient 1 inside, 0 outside."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min={min} is greater than max={max}")
    dtype = a.dtype if isinstance(a, Tensor) else None
    low = None if min is None else np.asarray(min, dtype=dtype)
    high = None if max is None else np.asarray(max, dtype=dtype)
    return Clip.apply(a, low=low, high=high)
