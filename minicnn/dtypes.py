"""dtype objects under PyTorch's names: ``minicnn.float32``, ``minicnn.long``, ...

minicnn's tensors hold NumPy arrays, so its dtypes *are* NumPy dtypes: ``minicnn.float32``
is ``np.dtype("float32")``, and ``t.dtype == minicnn.float32``, ``t.dtype == np.float32``
and ``t.to(minicnn.float)`` all mean what they say. PyTorch's aliases are kept
(``float`` is float32, ``double`` float64, ``long`` int64, ``int`` int32, ``half`` float16),
so ``dtype=torch.float`` in ported code still selects float32, not Python's float (which
NumPy would read as float64).

minicnn's ops compute in float32 and float64 only (``minicnn._checks.COMPUTE_DTYPES``);
float16 exists here so tensors of it can be made and converted, but ops refuse it.
"""

import builtins

import numpy as np

__all__ = ["float32", "float", "float64", "double", "float16", "half", "int64", "long",
           "int32", "int", "int16", "short", "int8", "uint8", "bool", "get_default_dtype",
           "is_floating_point", "as_dtype"]

float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)

# Python's own types, as a ``dtype=`` argument, mean what PyTorch makes of them: a Python
# float is the default float32 (NumPy would say float64), an int int64. (``builtins``:
# this module's own ``float``, ``int`` and ``bool`` are the dtype objects above.)
_PYTHON_TYPES = {builtins.float: float32, builtins.int: int64, builtins.bool: bool}


def get_default_dtype():
    """The dtype of tensors made from Python floats: float32, as in PyTorch."""
    return float32


def as_dtype(dtype, argument="dtype"):
    """``dtype`` as a NumPy dtype, or a TypeError naming ``argument``.

    Accepts minicnn's dtype objects, NumPy dtypes and scalar types, dtype names
    (``"float32"``), and Python's ``float``/``int``/``bool`` read as PyTorch reads them
    (float32, int64, bool).
    """
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{argument} must be a dtype such as minicnn.float32, got "
                        f"{dtype!r}") from None


def is_floating_point(dtype):
    """Whether ``dtype`` is a floating point type (PyTorch's ``dtype.is_floating_point``)."""
    return np.issubdtype(np.dtype(dtype), np.floating)
