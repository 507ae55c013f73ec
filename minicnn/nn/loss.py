"""Loss layers: thin modules around ``minicnn.functional``'s losses.

``CrossEntropyLoss`` (softmax and negative log-likelihood, fused: ``F.cross_entropy``),
``NLLLoss`` (after a ``log_softmax``: ``F.nll_loss``) and ``MSELoss`` (``F.mse_loss``).

The options are keyword-only: PyTorch's first positional arguments are a class ``weight``
tensor or the deprecated ``size_average``, which minicnn does not have, so a positional call
fails loudly instead of meaning something else.
"""

from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss"]


class _Loss(Module):
    """Shared by the losses: the ``reduction`` option (not printed: PyTorch prints
    ``MSELoss()`` whatever the settings)."""

    def __init__(self, reduction):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Cross-entropy between logits and class indices, with optional label smoothing.

    ``loss(logits, target)``: ``logits`` ``(N, K)``, ``target`` ``(N,)`` integer class
    indices (a NumPy array or an integer Tensor); a scalar for ``reduction='mean'`` or
    ``'sum'``, ``(N,)`` for ``'none'``.

    Parameters
    ----------
    label_smoothing : float in [0, 1]
        The target distribution is ``(1 - eps) * one_hot + eps / K`` (PyTorch and Keras).
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, *, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing!r}")
        self.label_smoothing = label_smoothing

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, label_smoothing=self.label_smoothing,
                               reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood ``-log_probs[i, target[i]]``, to follow a ``log_softmax``.

    ``loss(log_probs, target)``: ``log_probs`` ``(N, K)``, ``target`` ``(N,)`` integer class
    indices; a scalar for ``reduction='mean'`` or ``'sum'``, ``(N,)`` for ``'none'``.

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, log_probs, target):
        return F.nll_loss(log_probs, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target) ** 2`` over every element.

    ``loss(input, target)``: both of one shape (no broadcasting, see ``F.mse_loss``); a
    scalar for ``reduction='mean'`` or ``'sum'``, the element-wise losses for ``'none'``.

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
