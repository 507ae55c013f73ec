"""Argument checks shared by every layer of minicnn (standard library and NumPy only, so
that ``kernels`` may import it as well as ``nn`` or ``data``).

Sizes, counts and strides are accepted as Python *or NumPy* integers (``np.int64(3)`` comes
out of shape arithmetic and indexing all the time; PyTorch accepts it too), never as bools,
and are stored as plain ``int``.
"""

import numbers

import numpy as np

__all__ = ["is_int", "check_positive_int", "COMPUTE_DTYPES", "check_compute_dtype",
           "check_same_dtype"]

# The floating dtypes minicnn's ops compute in: float32 (the default) and float64 (gradient
# checks). Others (float16, integers, bool, complex, object) are refused at the op's door
# with a TypeError, never by a kernel deep inside.
COMPUTE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def is_int(value):
    """Whether ``value`` is a Python or NumPy integer (a bool is not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(value, name, minimum=1):
    """``value`` as a plain ``int``, or a ValueError naming the argument and its value.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        How the message names it, e.g. ``"Conv2d: in_channels"``.
    minimum : int
        The smallest value allowed (1: "a positive int").
    """
    if not is_int(value) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_compute_dtype(array, name):
    """A TypeError unless ``array`` is float32 or float64; the message names the argument.

    ``name`` reads like ``"conv2d: x"``. float16 and the integer types are refused rather
    than silently converted: which precision a computation runs in is the user's choice
    (``x.float()``), as in PyTorch, which refuses integer inputs to its layers.
    """
    dtype = np.asarray(array).dtype if not hasattr(array, "dtype") else np.dtype(array.dtype)
    if dtype not in COMPUTE_DTYPES:
        raise TypeError(f"{name} has dtype {dtype}; minicnn computes in float32 or float64 "
                        f"(convert it with .astype(np.float32) or .float())")


def check_same_dtype(reference, reference_name, others):
    """A TypeError when a parameter's dtype differs from the input's (PyTorch raises too:
    float32 weights and a float64 input are a mistake to point at, not to upcast silently).

    ``others`` is a sequence of ``(name, array_or_None)``; ``None`` entries are skipped.
    """
    for name, other in others:
        if other is not None and other.dtype != reference.dtype:
            raise TypeError(f"{name} has dtype {other.dtype} but {reference_name} has dtype "
                            f"{reference.dtype}; convert one of them (e.g. model.double() or "
                            f"x.float())")
