"""Making tensors: PyTorch's creation functions (``zeros``, ``randn``, ``arange``, ...).

Each takes PyTorch's arguments: sizes as separate ints or one sequence
(``zeros(2, 3)`` or ``zeros((2, 3))``), ``dtype=`` (default float32, or what the values
imply: ``arange(5)`` and ``full((2,), 7)`` are int64, as in PyTorch), ``requires_grad=``
and ``device=`` (only the CPU exists; see ``minicnn.device``). Random tensors draw from
minicnn's one generator, so ``minicnn.manual_seed`` makes them repeatable (the streams are
NumPy's, not PyTorch's: the same seed gives other numbers than ``torch.manual_seed``).

``from_numpy`` and ``as_tensor`` share memory with a NumPy array, as in PyTorch; ``tensor``
(in ``autograd.py``) copies.
"""

import builtins
import math
import numbers

import numpy as np

from ._checks import is_int
from .autograd import Tensor, tensor
from .device import check_device
from .dtypes import as_dtype, get_default_dtype, is_floating_point
from .rng import get_rng

__all__ = ["zeros", "ones", "full", "empty", "eye", "arange", "linspace", "rand", "randn",
           "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like",
           "rand_like", "randn_like", "randint_like", "from_numpy", "as_tensor"]


def _size(size, name):
    """A tuple of non-negative ints from ``zeros(2, 3)``-style or ``zeros((2, 3))``-style
    sizes, or a TypeError/ValueError naming the function."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not is_int(s):
            raise TypeError(f"{name}(): size must be ints or one tuple of ints, got "
                            f"{size!r}")
        if s < 0:
            raise ValueError(f"{name}(): negative dimension {s} in size {tuple(size)}")
    return tuple(builtins.int(s) for s in size)


def _finish(array, dtype, requires_grad, device, name):
    """The new tensor: ``array`` in ``dtype``, checked ``device``, ``requires_grad`` set."""
    check_device(device, f"{name}(): device")
    if dtype is not None:
        array = array.astype(as_dtype(dtype), copy=False)
    return Tensor(array, requires_grad=requires_grad)


def _or(dtype, default):
    """``dtype`` unless it is None (not ``dtype or default``: a NumPy dtype is falsy)."""
    return default if dtype is None else dtype


def _float_dtype(dtype, name):
    """The dtype of a random floating tensor: the default float32, or a floating ``dtype``."""
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    if not is_floating_point(dtype):
        raise TypeError(f"{name}(): dtype must be a floating dtype, got {dtype}")
    return dtype


def zeros(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros of the given size (float32 unless ``dtype`` says otherwise)."""
    return _filled(_size(size, "zeros"), 0, _or(dtype, get_default_dtype()), requires_grad,
                   device, "zeros")


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of ones of the given size (float32 unless ``dtype`` says otherwise)."""
    return _filled(_size(size, "ones"), 1, _or(dtype, get_default_dtype()), requires_grad,
                   device, "ones")


def empty(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of the given size. Unlike PyTorch's, its values are zeros, not garbage:
    reading them before writing is still a bug, but a repeatable one."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value as in
    PyTorch (bool -> bool, int -> int64, float -> float32) unless ``dtype`` is given."""
    size = _size((size,) if not isinstance(size, (tuple, list)) else (tuple(size),), "full")
    if dtype is None:
        dtype = _python_value_dtype(fill_value, "full(): fill_value")
    return _filled(size, fill_value, dtype, requires_grad, device, "full")


def _filled(size, value, dtype, requires_grad, device, name):
    check_device(device, f"{name}(): device")
    return Tensor(np.full(size, value, dtype=as_dtype(dtype)), requires_grad=requires_grad)


def _python_value_dtype(value, argument):
    """PyTorch's dtype for a Python number: bool, int64 or the default float32."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return get_default_dtype()
    raise TypeError(f"{argument} must be a real number, got {value!r}")


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The ``n x m`` identity (``m`` defaults to ``n``), float32 by default."""
    m = n if m is None else m
    for argument, value in (("n", n), ("m", m)):
        if not is_int(value) or value < 0:
            raise ValueError(f"eye(): {argument} must be a non-negative int, got {value!r}")
    array = np.eye(n, m, dtype=as_dtype(_or(dtype, get_default_dtype())))
    return _finish(array, None, requires_grad, device, "eye")


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from ``start`` (inclusive) to ``end`` (exclusive) in steps of ``step``.

    ``arange(5)`` is ``0, 1, 2, 3, 4``. The dtype is int64 when every bound is an int, the
    default float32 otherwise (PyTorch's rule), and the length is
    ``ceil((end - start) / step)``.
    """
    if end is None:
        start, end = 0, start
    for argument, value in (("start", start), ("end", end), ("step", step)):
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value)):
            raise ValueError(f"arange(): {argument} must be a finite number, got {value!r}")
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange(): upper bound and larger bound inconsistent with step "
                         f"sign (start={start}, end={end}, step={step})")
    if dtype is None:
        all_ints = all(is_int(v) for v in (start, end, step))
        dtype = np.dtype(np.int64) if all_ints else get_default_dtype()
    count = math.ceil((end - start) / step)
    # start + i * step, computed in float64 (or int64) and then cast, as PyTorch does, so a
    # float32 arange does not drift by accumulating rounded steps.
    wide = np.int64 if np.issubdtype(as_dtype(dtype), np.integer) else np.float64
    array = (start + np.arange(count, dtype=wide) * step).astype(as_dtype(dtype))
    return _finish(array, None, requires_grad, device, "arange")


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if not is_int(steps) or steps < 0:
        raise ValueError(f"linspace(): steps must be a non-negative int, got {steps!r}")
    array = np.linspace(start, end, steps, dtype=np.float64)
    return _finish(array, _or(dtype, get_default_dtype()), requires_grad, device, "linspace")


def rand(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Uniform samples from ``[0, 1)``; ``generator`` is a ``numpy.random.Generator``."""
    dtype = _float_dtype(dtype, "rand")
    array = (generator or get_rng()).random(_size(size, "rand"), dtype=np.float64)
    return _finish(array, dtype, requires_grad, device, "rand")


def randn(*size, dtype=None, requires_grad=False, device=None, generator=None):
    """Standard normal samples (mean 0, variance 1)."""
    dtype = _float_dtype(dtype, "randn")
    array = (generator or get_rng()).standard_normal(_size(size, "randn"))
    return _finish(array, dtype, requires_grad, device, "randn")


def randint(*args, size=None, dtype=None, requires_grad=False, device=None, generator=None):
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``, as in PyTorch; int64 by default."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        args = (0,) + args
    if len(args) != 3:
        raise TypeError("randint() takes (high, size) or (low, high, size)")
    low, high, size = args
    if not is_int(low) or not is_int(high):
        raise TypeError(f"randint(): low and high must be ints, got {low!r} and {high!r}")
    if high <= low:
        raise ValueError(f"randint(): expected low < high, got low={low}, high={high}")
    size = _size((tuple(size),) if isinstance(size, (tuple, list)) else (size,), "randint")
    array = (generator or get_rng()).integers(low, high, size, dtype=np.int64)
    return _finish(array, dtype, requires_grad, device, "randint")


def randperm(n, dtype=None, requires_grad=False, device=None, generator=None):
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype`` says otherwise)."""
    if not is_int(n) or n < 0:
        raise ValueError(f"randperm(): n must be a non-negative int, got {n!r}")
    array = (generator or get_rng()).permutation(builtins.int(n))
    return _finish(array.astype(np.int64), dtype, requires_grad, device, "randperm")


def normal(mean, std=1.0, size=None, dtype=None, requires_grad=False, device=None,
           generator=None):
    """Normal samples: ``normal(mean, std, size)`` with numbers, or element-wise means and
    standard deviations given as tensors (broadcast together), as in PyTorch."""
    mean_array = mean.data if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    std_array = std.data if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    if np.any(std_array < 0):
        raise ValueError(f"normal(): std must be >= 0, got {std!r}")
    if size is None:
        size = np.broadcast_shapes(mean_array.shape, std_array.shape)
    else:
        size = _size((tuple(size),) if isinstance(size, (tuple, list)) else (size,), "normal")
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if dtype is None:
        dtype = tensors[0].dtype if tensors else get_default_dtype()
    array = mean_array + std_array * (generator or get_rng()).standard_normal(size)
    return _finish(array, _float_dtype(dtype, "normal"), requires_grad, device, "normal")


# ----------------------------------------------------------------------------- *_like


def zeros_like(input, dtype=None, requires_grad=False, device=None):
    return zeros(tuple(input.shape), dtype=_or(dtype, input.dtype),
                 requires_grad=requires_grad, device=device)


def ones_like(input, dtype=None, requires_grad=False, device=None):
    return ones(tuple(input.shape), dtype=_or(dtype, input.dtype),
                requires_grad=requires_grad, device=device)


def empty_like(input, dtype=None, requires_grad=False, device=None):
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None):
    return full(tuple(input.shape), fill_value, dtype=_or(dtype, input.dtype),
                requires_grad=requires_grad, device=device)


def rand_like(input, dtype=None, requires_grad=False, device=None):
    return rand(tuple(input.shape), dtype=_or(dtype, input.dtype),
                requires_grad=requires_grad, device=device)


def randn_like(input, dtype=None, requires_grad=False, device=None):
    return randn(tuple(input.shape), dtype=_or(dtype, input.dtype),
                 requires_grad=requires_grad, device=device)


def randint_like(input, low=0, high=None, dtype=None, requires_grad=False, device=None):
    """``randint_like(t, high)`` or ``randint_like(t, low, high)``, with ``t``'s dtype."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=_or(dtype, input.dtype),
                   requires_grad=requires_grad, device=device)


# ----------------------------------------------------------------------------- from NumPy


def from_numpy(ndarray):
    """A tensor sharing ``ndarray``'s memory: writing to one changes the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor(ndarray)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is a tensor or a NumPy array of
    the wanted dtype (copying otherwise), as in PyTorch."""
    check_device(device, "as_tensor(): device")
    if isinstance(data, Tensor):
        if dtype is None or as_dtype(dtype) == data.dtype:
            return data
        return Tensor(data.data.astype(as_dtype(dtype)))
    if isinstance(data, np.ndarray):
        return Tensor(data if dtype is None else data.astype(as_dtype(dtype), copy=False))
    return tensor(data, dtype=dtype)
