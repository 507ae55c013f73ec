"""``Dropout``: zero each element with probability ``p`` in training, scale the rest by
``1 / (1 - p)`` (inverted dropout, so evaluation needs no rescaling); identity in eval mode.
The mask is drawn from ``minicnn.rng.get_rng()`` (``minicnn.manual_seed`` repeats it)."""

import numbers

from .. import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout, active only in training mode (``model.train()``).

    Parameters
    ----------
    p : float in [0, 1)
        Probability of zeroing an element. ``p = 1`` is refused, as by ``F.dropout`` (it
        would zero everything and scale by 1 / 0).
    inplace : bool
        Accepted for PyTorch compatibility; minicnn computes out of place.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
