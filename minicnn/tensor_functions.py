"""PyTorch's torch-level functions: ``minicnn.sin(x)``, ``minicnn.sum(x, dim=1)``, ...

Each is the function of ``minicnn.ops`` that the Tensor method of the same name calls
(``minicnn.max(x, 1)`` is ``x.max(1)``), exported at the top of the package as PyTorch
exports them. The common ones take PyTorch's ``out=``: the result is written into that
tensor, which is resized to the result's shape (see ``ops.elementwise.write_out``).
"""

import functools

from .autograd import Tensor
from .ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from .ops import elementwise, reduce
from .ops.elementwise import allclose, equal, isclose, maximum, minimum, write_out
from .ops.linear import bmm, matmul, mm
from .ops.elementwise import masked_fill
from .ops.reduce import (argmax, argmin, argsort, gather, max, min, nonzero, sort, topk)
from .ops.shape import (cat, chunk, clone, flatten, flip, index_select, meshgrid, narrow,
                        permute, repeat, reshape, split, squeeze, stack, swapaxes, t,
                        transpose, unbind, unsqueeze)
from .tensor_methods import Size, set_printoptions

__all__ = ["abs", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "pow", "neg", "negative", "exp", "exp2", "log", "log2", "log10", "sqrt", "rsqrt",
           "sin", "cos", "tan", "sinh", "cosh", "sign", "floor", "ceil", "round", "trunc",
           "clamp", "clip",
           "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge", "equal",
           "allclose", "isclose", "relu", "sigmoid", "tanh", "softmax", "log_softmax",
           "matmul", "mm", "bmm", "sum", "mean", "prod", "var", "std", "norm", "amax", "amin",
           "max", "min", "argmax", "argmin", "all", "any", "logsumexp", "cumsum", "sort",
           "argsort", "topk", "gather", "cat", "concat", "stack", "flatten", "reshape",
           "transpose", "swapaxes", "swapdims", "permute", "squeeze", "unsqueeze", "t",
           "chunk", "split", "repeat", "meshgrid", "flip", "unbind", "narrow", "index_select",
           "masked_fill", "nonzero",
           "clone", "is_tensor", "numel", "is_floating_point", "Size", "set_printoptions"]


def _with_out(op):
    """``op`` taking PyTorch's keyword ``out=`` as well."""
    @functools.wraps(op)
    def function(*args, out=None, **kwargs):
        return write_out(op.__name__, op(*args, **kwargs), out)
    return function


abs, add, sub, mul, div, pow, neg = map(_with_out, (
    elementwise.abs, elementwise.add, elementwise.sub, elementwise.mul, elementwise.div,
    elementwise.pow, elementwise.neg))
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
exp, exp2, log, log2, log10, sqrt, rsqrt = map(_with_out, (
    elementwise.exp, elementwise.exp2, elementwise.log, elementwise.log2, elementwise.log10,
    elementwise.sqrt, elementwise.rsqrt))
sin, cos, tan, sinh, cosh, sign, floor, ceil, round, trunc = map(_with_out, (
    elementwise.sin, elementwise.cos, elementwise.tan, elementwise.sinh, elementwise.cosh,
    elementwise.sign, elementwise.floor, elementwise.ceil, elementwise.round,
    elementwise.trunc))
clamp = clip = _with_out(elementwise.clamp)
eq, ne, lt, le, gt, ge = map(_with_out, (
    elementwise.eq, elementwise.ne, elementwise.lt, elementwise.le, elementwise.gt,
    elementwise.ge))
sum, mean, prod, var, std, norm, amax, amin, logsumexp, cumsum, all, any = map(_with_out, (
    reduce.sum, reduce.mean, reduce.prod, reduce.var, reduce.std, reduce.norm, reduce.amax,
    reduce.amin, reduce.logsumexp, reduce.cumsum, reduce.all, reduce.any))
concat = cat
swapdims = swapaxes


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other`` (broadcast together); with the
    condition alone, the indices where it holds (``nonzero(condition, as_tuple=True)``)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return elementwise.where(condition, input, other)


def is_tensor(obj):
    """Whether ``obj`` is a minicnn Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input):
    """Whether ``input`` holds a floating dtype."""
    return input.is_floating_point()
