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
    out = sin(a)       da = g * cos(a)       (cos, tan, log2, log10, exp2, rsqrt alike:
                                              see ``_UNARY``)
    out = floor(a)     da = 0                (ceil, round, trunc, sign: piecewise constant)

Which dtype a result has: PyTorch's ``torch.result_type``
---------------------------------------------------------
One rule for every op with several operands (these ops, the comparisons, ``cat``/``stack``,
``mse_loss``), implemented once in ``result_type``:

1. Categories rank bool < integer < floating: the result takes the highest category present,
   and within a category the smallest dtype that holds every operand (int8 with uint8 is
   int16, float32 with float64 is float64). An integer never widens a float: float32 with
   int64 is float32.
2. Operands come in three groups: tensors and arrays with at least one axis, 0-d tensors and
   arrays, and scalars (Python or NumPy numbers). A later group decides the dtype only when
   its category is higher than every earlier group's: ``x * 2.0``, ``x * np.float64(2)`` and
   ``x * np.array(2.0)`` keep a float32 ``x`` float32, while ``labels * 0.5`` (int64 labels)
   gives float32 and ``labels + 1`` stays int64. A floating scalar stands for float32,
   PyTorch's default dtype, not NumPy's float64.
3. True division, ``exp``, ``log`` and ``sqrt`` of integers or bools give float32.

Operands are converted to the result's dtype before the op; a tensor's gradient comes back
in its own dtype. Element-wise ops compute in bool, the integer types, float32 or float64:
a result of float16, complex or object dtype raises ``TypeError`` (as every op does).
"""

import numbers

import numpy as np

from .._checks import COMPUTE_DTYPES
from ..autograd import ArrayFunction, Tensor, is_grad_enabled

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "abs",
           "sin", "cos", "tan", "sinh", "cosh", "log2", "log10", "exp2", "rsqrt", "floor", "ceil",
           "round", "trunc", "sign", "masked_fill", "maximum", "minimum", "where", "clip", "clamp",
           "compare",
           "eq", "ne", "lt", "le", "gt", "ge", "equal", "allclose", "isclose", "unbroadcast",
           "result_type", "promote_types", "checked_result_type", "is_operand", "cast"]


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the reverse of NumPy broadcasting ``shape`` up to it."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape)
                      if n == 1 and grad.shape[i + extra] != 1)
    grad = grad.sum(axis=tuple(range(extra)) + stretched, keepdims=True)
    return grad.reshape(shape)


# ----------------------------------------------------------------------------- dtype rule

_BOOL, _INTEGER, _FLOATING, _COMPLEX = range(4)
_CATEGORY_OF_KIND = {"b": _BOOL, "i": _INTEGER, "u": _INTEGER, "f": _FLOATING, "c": _COMPLEX}
# The dtype a scalar of each category stands for (PyTorch's defaults).
_SCALAR_DTYPES = (np.dtype(np.bool_), np.dtype(np.int64), np.dtype(np.float32),
                  np.dtype(np.complex64))
_DEFAULT_FLOAT = np.dtype(np.float32)


def _category(dtype):
    try:
        return _CATEGORY_OF_KIND[dtype.kind]
    except KeyError:
        raise TypeError(f"dtype {dtype} is not a number type (bool, integer, floating or "
                        "complex)") from None


def promote_types(a, b):
    """The dtype that holds values of dtypes ``a`` and ``b`` (``torch.promote_types``).

    The higher category wins whatever the sizes (int64 with float32 is float32, where NumPy
    says float64); within one category, NumPy's smallest common dtype. ``None`` stands for
    "no operand yet".
    """
    if a is None or b is None:
        return b if a is None else a
    category_a, category_b = _category(a), _category(b)
    if category_a != category_b and min(category_a, category_b) < _FLOATING:
        return a if category_a > category_b else b
    promoted = np.promote_types(a, b)
    if _category(promoted) != max(category_a, category_b):  # uint64 with a signed integer
        raise TypeError(f"no integer dtype holds both {a} and {b} (PyTorch refuses this "
                        "promotion too); convert one of them")
    return promoted


def _combine(higher, lower):
    """The dtype of two operand groups, ``higher`` the group of higher priority: ``lower``
    decides only when its category is higher (``torch``'s combine_categories)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if _category(lower) <= _category(higher):
        return higher
    if _category(higher) == _FLOATING:  # a complex scalar keeps a float64 tensor's precision
        return np.promote_types(higher, np.complex64)
    return lower


def _scalar_category(value):
    """The category of a Python or NumPy number, or None for anything else."""
    if isinstance(value, np.generic):
        return _CATEGORY_OF_KIND.get(value.dtype.kind)
    if isinstance(value, bool):
        return _BOOL
    for kind, category in ((numbers.Integral, _INTEGER), (numbers.Real, _FLOATING),
                           (numbers.Complex, _COMPLEX)):
        if isinstance(value, kind):
            return category
    return None


def is_operand(value):
    """Whether ``value`` can take part in arithmetic with a Tensor: a Tensor, an array, or a
    Python or NumPy number."""
    return isinstance(value, (Tensor, np.ndarray)) or _scalar_category(value) is not None


def result_type(*operands):
    """The dtype of an element-wise op on ``operands`` (``torch.result_type``; the rule is in
    the module docstring).

    Parameters
    ----------
    *operands : Tensor, ndarray, or a Python or NumPy number

    Raises
    ------
    TypeError
        For an operand that is not a number, or an array of a non-number dtype.
    """
    dimensioned = zero_dim = scalars = None
    for operand in operands:
        array = operand.data if isinstance(operand, Tensor) else operand
        if isinstance(array, np.ndarray):
            _category(array.dtype)  # refuses object, string and datetime arrays
            if array.ndim:
                dimensioned = promote_types(dimensioned, array.dtype)
            else:
                zero_dim = promote_types(zero_dim, array.dtype)
            continue
        category = _scalar_category(operand)
        if category is None:
            raise TypeError(f"expected a Tensor, an array or a number, got "
                            f"{type(operand).__name__}")
        scalars = promote_types(scalars, _SCALAR_DTYPES[category])
    return _combine(dimensioned, _combine(zero_dim, scalars))


def checked_result_type(op, operands, true_division=False):
    """``result_type`` of ``operands``, or a TypeError naming ``op`` unless it is bool, an
    integer type, float32 or float64 (what element-wise ops, ``sum`` and ``max`` compute in).

    ``true_division``: integer and bool results become float32 (``/``, ``exp``, ...).
    """
    try:
        dtype = result_type(*operands)
    except TypeError as error:
        raise TypeError(f"{op}: {error}") from None
    if true_division and _category(dtype) < _FLOATING:
        dtype = _DEFAULT_FLOAT
    if not (_category(dtype) < _FLOATING or dtype in COMPUTE_DTYPES):
        raise TypeError(f"{op}: the operands give dtype {dtype}; {op} computes in bool, "
                        "integer types, float32 or float64 (convert with .float())")
    return dtype


class Cast(ArrayFunction):
    """A dtype conversion that stays in the graph: the gradient goes back in the input's
    dtype."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype)


def cast(a, dtype):
    """``a`` converted to ``dtype`` (itself when it already has it); differentiable."""
    dtype = np.dtype(dtype)
    return a if a.dtype == dtype else Cast.apply(a, dtype=dtype)


def _array_of(op, value, dtype):
    """A Tensor's data, an array or a number as an array of ``dtype`` (no graph)."""
    value = value.data if isinstance(value, Tensor) else value
    try:
        return np.asarray(value, dtype=dtype)
    except OverflowError:
        raise ValueError(f"{op}: the scalar {value!r} does not fit in {dtype}") from None


def _converted(op, operand, dtype):
    """A tensor cast to ``dtype`` in the graph (its gradient comes back in its own dtype);
    an array or a number as an array of ``dtype``."""
    return cast(operand, dtype) if isinstance(operand, Tensor) else _array_of(op, operand, dtype)


def _operands(op, *operands, true_division=False):
    """``operands`` converted to their common dtype (``result_type``), with the shapes checked
    to broadcast."""
    dtype = checked_result_type(op, operands, true_division)
    converted = [_converted(op, x, dtype) for x in operands]
    _check_broadcast(op, *(np.shape(x) for x in converted))
    return converted


def _check_broadcast(op, *shapes):
    """A ValueError naming the shapes when they do not broadcast (rather than NumPy's)."""
    if len(set(shapes)) > 1:
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            listed = " and ".join(str(s) for s in shapes)
            raise ValueError(f"{op}: shapes {listed} cannot be broadcast together (each axis, "
                             "aligned from the right, must be equal or 1)") from None


class Add(ArrayFunction):
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


def add(a, b, alpha=1):
    """``a + alpha * b`` with broadcasting (``alpha``: a number, PyTorch's keyword)."""
    return Add.apply(*_operands("add", a, _scaled("add", b, alpha)))


def _scaled(op, b, alpha):
    """``alpha * b`` for ``add``/``sub``'s ``alpha=`` (``b`` itself when alpha is 1)."""
    if _scalar_category(alpha) is None:
        raise TypeError(f"{op}: alpha must be a number, got {alpha!r}")
    return b if alpha == 1 and not isinstance(alpha, float) else mul(b, alpha)


class Sub(ArrayFunction):
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


def sub(a, b, alpha=1):
    """``a - alpha * b`` with broadcasting (not for two bools: use ``^``, as in PyTorch)."""
    a, b = _operands("sub", a, _scaled("sub", b, alpha))
    if a.dtype == np.bool_:
        raise TypeError("sub: subtracting bool tensors is not supported; use ^ (logical "
                        "xor) or convert them with .float()")
    return Sub.apply(a, b)


class Mul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        # Save only what a needed gradient uses (as PyTorch): ``y * 2.0`` keeps nothing of
        # y, so changing y in place afterwards does not invalidate this op's backward.
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = np.shape(a), np.shape(b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        da = unbroadcast(grad * b, shape_a) if ctx.needs_input_grad[0] else None
        db = unbroadcast(grad * a, shape_b) if ctx.needs_input_grad[1] else None
        return da, db


def mul(a, b):
    """``a * b`` with broadcasting."""
    return Mul.apply(*_operands("mul", a, b))


class Div(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # as Mul: a if used
        ctx.shape_a = np.shape(a)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        da = unbroadcast(grad / b, ctx.shape_a) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-grad * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


def div(a, b, rounding_mode=None):
    """``a / b`` with broadcasting: true division (integers and bools give float32), or
    rounded as PyTorch's ``rounding_mode``: ``"trunc"`` (toward zero) or ``"floor"``
    (integers stay integers then; the gradient of a rounded quotient is 0)."""
    if rounding_mode is None:
        return Div.apply(*_operands("div", a, b, true_division=True))
    rounders = {"trunc": np.trunc, "floor": np.floor}
    if rounding_mode not in rounders:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    numerator, denominator = (_array_of("div", x, None) for x in _operands("div", a, b))
    if numerator.dtype.kind in "iub" and np.any(denominator == 0):
        raise ZeroDivisionError("div: integer division by zero")
    with np.errstate(divide="ignore", invalid="ignore"):  # x / 0.0: inf or NaN, as PyTorch
        rounded = rounders[rounding_mode](np.divide(numerator, denominator))
    return Tensor(rounded.astype(numerator.dtype, copy=False))


class Neg(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


def neg(a):
    """``-a`` (not for bools: use ``~``, as in PyTorch)."""
    (a,) = _operands("neg", a)
    if a.dtype == np.bool_:
        raise TypeError("neg: negating a bool tensor is not supported; use ~ (logical not)")
    return Neg.apply(a)


class Pow(ArrayFunction):
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
    respect to ``b`` needs ``a >= 0``). Integers to negative integer powers raise, as in
    PyTorch; bool ** bool raises too."""
    a, b = _operands("pow", a, b)
    if a.dtype == np.bool_:  # NumPy would give int8
        raise TypeError("pow: a bool tensor to a bool power is not supported; convert one "
                        "of them with .float()")
    exponent = b.data if isinstance(b, Tensor) else b
    if _category(a.dtype) == _INTEGER and np.any(exponent < 0):
        raise ValueError("pow: integers to negative integer powers are not allowed (the "
                         "result is not an integer); use a floating base, e.g. x.float()")
    return Pow.apply(a, b)


class Exp(ArrayFunction):
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
    """``e ** a`` (integers and bools give float32)."""
    return Exp.apply(*_operands("exp", a, true_division=True))


class Log(ArrayFunction):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


def log(a):
    """Natural logarithm (``a > 0``; integers and bools give float32)."""
    return Log.apply(*_operands("log", a, true_division=True))


class Sqrt(ArrayFunction):
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
    """Square root (``a >= 0``; the gradient is infinite at 0; integers and bools give
    float32)."""
    return Sqrt.apply(*_operands("sqrt", a, true_division=True))


class Abs(ArrayFunction):
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
    return Abs.apply(*_operands("abs", a))


def _unary_op(name, forward, derivative):
    """An ArrayFunction class computing ``forward(a)`` whose local derivative is
    ``derivative(a, out)`` (None: the op is piecewise constant, its gradient is 0)."""

    def forward_(ctx, a):
        out = forward(a)
        if derivative is not None:
            ctx.save_for_backward(a, out)
        return out

    def backward_(ctx, grad):
        if derivative is None:
            return np.zeros_like(grad)
        a, out = ctx.saved_tensors
        return grad * derivative(a, out)

    return type(name, (ArrayFunction,), {"forward": staticmethod(forward_),
                                         "backward": staticmethod(backward_)})


_LN2, _LN10 = np.log(2), np.log(10)

# name: (NumPy function, local derivative from (a, out), integers give float32)
_UNARY = {
    "sin": (np.sin, lambda a, out: np.cos(a), True),
    "cos": (np.cos, lambda a, out: -np.sin(a), True),
    "tan": (np.tan, lambda a, out: 1 + out * out, True),
    "sinh": (np.sinh, lambda a, out: np.cosh(a), True),
    "cosh": (np.cosh, lambda a, out: np.sinh(a), True),
    "log2": (np.log2, lambda a, out: 1 / (a * a.dtype.type(_LN2)), True),
    "log10": (np.log10, lambda a, out: 1 / (a * a.dtype.type(_LN10)), True),
    "exp2": (np.exp2, lambda a, out: out * out.dtype.type(_LN2), True),
    "rsqrt": (lambda a: 1 / np.sqrt(a), lambda a, out: -0.5 * out * out * out, True),
    "floor": (np.floor, None, False),
    "ceil": (np.ceil, None, False),
    "round": (np.round, None, False),  # halves to even, as PyTorch
    "trunc": (np.trunc, None, False),
    "sign": (np.sign, None, False),
}
_UNARY_CLASSES = {name: _unary_op(name.capitalize(), forward, derivative)
                  for name, (forward, derivative, _) in _UNARY.items()}


def _unary(name, a):
    (a,) = _operands(name, a, true_division=_UNARY[name][2])
    # Rounding an integer changes nothing, nor does the sign of a bool (NumPy's sign
    # refuses bools): a copy, as PyTorch returns a new tensor.
    if a.dtype.kind in "iub" and (name != "sign" or a.dtype == np.bool_):
        return Tensor(np.array(_array_of(name, a, None)))
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as PyTorch
        return _UNARY_CLASSES[name].apply(a)


def sin(a):
    """Sine (radians; integers give float32)."""
    return _unary("sin", a)


def cos(a):
    """Cosine (radians; integers give float32)."""
    return _unary("cos", a)


def tan(a):
    """Tangent (radians; integers give float32)."""
    return _unary("tan", a)


def sinh(a):
    """Hyperbolic sine (integers give float32)."""
    return _unary("sinh", a)


def cosh(a):
    """Hyperbolic cosine (integers give float32)."""
    return _unary("cosh", a)


def log2(a):
    """Base-2 logarithm (``a > 0``; integers give float32)."""
    return _unary("log2", a)


def log10(a):
    """Base-10 logarithm (``a > 0``; integers give float32)."""
    return _unary("log10", a)


def exp2(a):
    """``2 ** a`` (integers give float32)."""
    return _unary("exp2", a)


def rsqrt(a):
    """``1 / sqrt(a)`` (integers give float32)."""
    return _unary("rsqrt", a)


def floor(a):
    """Round down (integers unchanged); gradient 0."""
    return _unary("floor", a)


def ceil(a):
    """Round up (integers unchanged); gradient 0."""
    return _unary("ceil", a)


def round(a):
    """Round to the nearest integer, halves to even (as PyTorch); gradient 0."""
    return _unary("round", a)


def trunc(a):
    """Round toward zero; gradient 0."""
    return _unary("trunc", a)


def sign(a):
    """-1, 0 or 1 by the sign of each element (bools unchanged); gradient 0."""
    return _unary("sign", a)


class _Extremum(ArrayFunction):
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
    return _Extremum.apply(*_operands("maximum", a, b), pick_max=True)


def minimum(a, b):
    """Element-wise minimum with broadcasting; at ties each operand gets half the gradient."""
    return _Extremum.apply(*_operands("minimum", a, b), pick_max=False)


class Where(ArrayFunction):
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
    a, b = _operands("where", a, b)
    _check_broadcast("where", condition.shape, np.shape(a), np.shape(b))
    return Where.apply(a, b, condition=condition)


class Clip(ArrayFunction):
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
    """Limit ``a`` to ``[min, max]`` (either may be None); gradient 1 inside, 0 outside.

    ``min`` and ``max`` are numbers; the result's dtype follows ``result_type`` (an integer
    tensor clipped at 0.5 gives float32, as ``torch.clamp`` does).
    """
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    bounds = {name: bound for name, bound in (("min", min), ("max", max)) if bound is not None}
    for name, bound in bounds.items():
        if not is_operand(bound) or np.ndim(bound) != 0:
            raise TypeError(f"clip: {name} must be a number, got {bound!r}")
    dtype = checked_result_type("clip", [a, *bounds.values()])
    low, high = (None if bound is None else _array_of("clip", bound, dtype)
                 for bound in (min, max))
    if low is not None and high is not None and low > high:
        raise ValueError(f"clip: min={min} is greater than max={max}")
    return Clip.apply(_converted("clip", a, dtype), low=low, high=high)


def compare(a, b, numpy_op, op):
    """A boolean tensor (outside the graph): ``numpy_op`` (``np.less``, ...) applied after
    converting both operands to their ``result_type``, as PyTorch compares: a float32 tensor
    equals the Python float 0.1 where it holds float32(0.1)."""
    dtype = checked_result_type(op, (a, b))
    a, b = _array_of(op, a, dtype), _array_of(op, b, dtype)
    _check_broadcast(op, a.shape, b.shape)
    return Tensor(numpy_op(a, b))


def _comparison(numpy_op, name):
    def op(input, other):
        if not is_operand(other):
            raise TypeError(f"{name}(): other must be a Tensor or a number, got "
                            f"{type(other).__name__}")
        return compare(input, other, numpy_op, name)
    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` as a bool tensor (outside the graph), compared " \
                 "in the operands' result_type."
    return op


eq = _comparison(np.equal, "eq")
ne = _comparison(np.not_equal, "ne")
lt = _comparison(np.less, "lt")
le = _comparison(np.less_equal, "le")
gt = _comparison(np.greater, "gt")
ge = _comparison(np.greater_equal, "ge")


def equal(input, other):
    """True when both tensors have the same shape and the same values (a Python bool)."""
    return input.shape == other.shape and bool(np.all(eq(input, other).data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` element-wise, a bool tensor."""
    dtype = checked_result_type("isclose", (input, other))
    a, b = _array_of("isclose", input, dtype), _array_of("isclose", other, dtype)
    _check_broadcast("isclose", a.shape, b.shape)
    return Tensor(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``isclose`` holds everywhere (a Python bool)."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan).data))


def clamp(input, min=None, max=None):
    """``input`` limited to ``[min, max]`` (PyTorch's ``clamp``/``clip``).

    ``min`` and ``max`` are numbers (see ``clip``) or tensors broadcast against ``input``:
    then ``min`` is applied first, so where ``min > max`` the result is ``max``, and the
    gradient goes to whichever of ``input``, ``min`` and ``max`` each output came from.
    """
    if not isinstance(min, (Tensor, np.ndarray)) and not isinstance(max, (Tensor, np.ndarray)):
        return clip(input, min, max)
    out = input
    if min is not None:
        out = where(lt(out, min), min, out)
    if max is not None:
        out = where(gt(out, max), max, out)
    return out


def write_out(op, result, out):
    """PyTorch's ``out=``: ``result`` written into the tensor ``out`` and ``out`` returned
    (``result`` itself when ``out`` is None).

    ``out`` is resized to the result's shape when it differs (as PyTorch does) and keeps its
    dtype, which must hold the result's (a floating result cannot go into an integer ``out``).
    Like PyTorch, ``out=`` is refused while recording a graph that involves it.
    """
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if promote_types(result.dtype, out.dtype) != out.dtype and _category(
            result.dtype) > _category(out.dtype):
        raise TypeError(f"{op}(): result type {result.dtype} can't be cast to the desired "
                        f"output type {out.dtype} (argument 'out')")
    if out.shape == result.shape:
        out._check_writeable(f"{op}(): out")
        np.copyto(out.data, result.data, casting="same_kind")
    else:
        out.data = result.data.astype(out.dtype)
    out._bump_version()  # an in-place write: graphs that saved ``out`` must notice
    return out


def masked_fill(input, mask, value):
    """``input`` with ``value`` where the bool ``mask`` (broadcast) is True; the gradient
    flows to ``input`` elsewhere (and to a tensor ``value`` where the mask holds)."""
    if not is_operand(value) or np.ndim(value.data if isinstance(value, Tensor) else value):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {value!r}")
    return where(mask, value, input)
