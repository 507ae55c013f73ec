"""Dropout: zero random activations during training (inverted dropout).

Each element is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``, so every
output's expected value equals its input and evaluation needs no rescaling::

    mask = [u >= p] / (1 - p),   u ~ Uniform[0, 1) independently per element
    y    = x * mask              dx = g * mask

The mask comes from ``minicnn.rng.get_rng()``: ``minicnn.manual_seed`` makes it repeatable.
In evaluation mode (``training=False``) and at ``p = 0`` dropout is the identity.
"""

import numbers

import numpy as np

from .._checks import check_compute_dtype
from ..autograd import ArrayFunction
from ..rng import get_rng

__all__ = ["dropout"]


class Dropout(ArrayFunction):
    @staticmethod
    def forward(ctx, x, p):
        keep = get_rng().random(x.shape, dtype=np.float32) >= p
        mask = keep * np.asarray(1 / (1 - p), dtype=x.dtype)  # 0 or 1/(1-p), dtype of x
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64 (TypeError otherwise)
    p : float in [0, 1)
        Probability of zeroing an element. (``p = 1`` would zero everything and divide by
        0, so it is refused.)
    training : bool
        False makes dropout the identity (evaluation).

    Returns
    -------
    Tensor, the shape and dtype of ``x`` (``x`` itself when ``training=False`` or ``p = 0``)
    """
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1), got {p!r}")
    check_compute_dtype(x, "dropout: x")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))
