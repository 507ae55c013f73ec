"""``CrossEntropyLoss``: softmax and negative log-likelihood, fused (``F.cross_entropy``)."""

from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Module):
    """Cross-entropy between logits and class indices, with optional label smoothing.

    ``loss(logits, target)``: ``logits`` ``(N, K)``, ``target`` ``(N,)`` integer class
    indices (a NumPy array or an integer Tensor); a scalar for ``reduction='mean'`` or
    ``'sum'``, ``(N,)`` for ``'none'``.

    Parameters
    ----------
    label_smoothing : float in [0, 1]
        The target distribution is ``(1 - eps) * one_hot + eps / K`` (PyTorch and Keras).
    reduction : 'mean', 'sum' or 'none'

    The options are keyword-only: PyTorch's first positional argument is a class ``weight``
    tensor, which minicnn does not have, so a positional call fails loudly instead of meaning
    something else.
    """

    def __init__(self, *, reduction="mean", label_smoothing=0.0):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing!r}")
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, label_smoothing=self.label_smoothing,
                               reduction=self.reduction)

    def extra_repr(self):
        parts = []
        if self.reduction != "mean":
            parts.append(f"reduction={self.reduction!r}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)
