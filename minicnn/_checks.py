"""Argument checks shared by every layer of minicnn (standard library only, so that
``kernels`` may import it as well as ``nn`` or ``data``).

Sizes, counts and strides are accepted as Python *or NumPy* integers (``np.int64(3)`` comes
out of shape arithmetic and indexing all the time; PyTorch accepts it too), never as bools,
and are stored as plain ``int``.
"""

import numbers

__all__ = ["is_int", "check_positive_int"]


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
