"""The complementary error function ``erfc``, element-wise, for the exact GELU (NumPy has no
``erf``): the standard normal CDF is ``Phi(x) = erfc(-x / sqrt 2) / 2``, which, unlike
``(1 + erf(x / sqrt 2)) / 2``, keeps its relative accuracy in the left tail (no ``1 - 1``).

    erfc(x) = 1 - erf(x) = 2 / sqrt(pi) * integral from x to infinity of exp(-t^2) dt

``erfc_reference`` is the plain loop over ``math.erfc`` (the spec; read it first); ``erfc`` is
the same loop compiled by Numba, tested against it. Both take an array of any shape, compute
each value in float64 and return an array of the input's shape and dtype (a float32 input
is rounded once, at the end). The loop is memory-bound and cheap, so it runs on one thread.
"""

import math

import numpy as np
from numba import njit

__all__ = ["erfc_reference", "erfc"]


def _erfc_flat(values, out):
    """``out[i] = erfc(values[i])`` for 1-D arrays of equal length."""
    for i in range(values.shape[0]):
        # np.float64, not float(): under Numba float() keeps a float32 a float32 (erfcf)
        out[i] = math.erfc(np.float64(values[i]))


_erfc_flat_fast = njit(cache=True)(_erfc_flat)


def _erfc_with(loop, x):
    values = np.ascontiguousarray(x).reshape(-1)  # a read-only or broadcast x is only read
    out = np.empty(values.shape, dtype=x.dtype)
    loop(values, out)
    return out.reshape(x.shape)


def erfc_reference(x):
    """``erfc`` of every element of ``x`` (plain Python loop)."""
    return _erfc_with(_erfc_flat, x)


def erfc(x):
    """``erfc`` of every element of ``x`` (compiled loop; same result as the reference)."""
    return _erfc_with(_erfc_flat_fast, x)
