"""``Dropout``: zero each element with probability ``p`` in training, scale the rest by
``1 / (1 - p)`` (inverted dropout, so evaluation needs no rescaling); identity in eval mode.
``Dropout2d`` does the same to whole channels (one draw per sample and channel).
The mask is drawn from ``minicnn.rng.get_rng()`` (``minicnn.manual_seed`` repeats it)."""

import numbers

from .. import functional as F
from ..autograd import Tensor
from ..rng import get_rng
from .module import Module

__all__ = ["Dropout", "Dropout2d"]


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
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1), "
                             f"got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout: in training, each channel of each sample of ``(N, C, H, W)`` (or
    ``(C, H, W)``) is zeroed with probability ``p`` and the others scaled by
    ``1 / (1 - p)``, as PyTorch's ``Dropout2d`` (neighbouring pixels of a feature map are
    correlated, so dropping single pixels regularises little)."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Dropout2d: expected a (N, C, H, W) or (C, H, W) input, got "
                             f"shape {x.shape}")
        if not self.training or self.p == 0:
            return x
        keep = get_rng().random(x.shape[:-2] + (1, 1)) >= self.p        # (N, C, 1, 1)
        return x * Tensor((keep / (1 - self.p)).astype(x.dtype))
