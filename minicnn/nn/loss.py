"""Loss layers: thin modules around ``minicnn.functional``'s losses.

``CrossEntropyLoss`` (softmax and negative log-likelihood, fused: ``F.cross_entropy``),
``NLLLoss`` (after a ``log_softmax``), ``BCELoss``, ``BCEWithLogitsLoss``, ``KLDivLoss``, and
the regression losses ``MSELoss``, ``L1Loss``, ``SmoothL1Loss``, ``HuberLoss``.

As in PyTorch, a ``weight`` (and ``pos_weight``) is a buffer: it is in ``state_dict()`` and
follows ``.double()``/``.float()``. PyTorch's first positional argument is ``weight`` where
the loss has one (``HuberLoss``: ``reduction``); the others are keyword-only here, because
PyTorch's next positional arguments are the deprecated ``size_average`` and ``reduce``, which
minicnn does not have: a positional call fails loudly instead of meaning something else.
PyTorch prints every loss without its settings (``MSELoss()``), and so does minicnn.
"""

from .. import functional as F
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"]


class _Loss(Module):
    """Shared by the losses: the ``reduction`` option."""

    _reductions = ("mean", "sum", "none")

    def __init__(self, reduction):
        super().__init__()
        if reduction not in self._reductions:
            options = ", ".join(repr(r) for r in self._reductions[:-1])
            raise ValueError(f"{type(self).__name__}: reduction must be {options} or "
                             f"{self._reductions[-1]!r}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` buffer (None: not in ``state_dict()``)."""

    def __init__(self, weight, reduction):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices or class probabilities.

    ``loss(logits, target)``: ``logits`` ``(N, K)`` (or ``(N, K, d1, ...)``), ``target``
    ``(N,)`` integer class indices (a NumPy array or an integer Tensor) or probabilities of
    the logits' shape; a scalar for ``reduction='mean'`` or ``'sum'``, ``(N,)`` for
    ``'none'``. See ``F.cross_entropy`` for how the options combine (PyTorch's rules).

    Parameters
    ----------
    weight : Tensor or ndarray, shape (K,), optional
        A weight per class (a buffer).
    ignore_index : int
        Targets equal to it add nothing to the loss or to the 'mean' denominator.
    reduction : 'mean', 'sum' or 'none'
    label_smoothing : float in [0, 1]
        The target distribution is ``(1 - eps) * target + eps / K`` (PyTorch and Keras).
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing!r}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood ``-weight[t_i] * log_probs[i, t_i]``, after a ``log_softmax``.

    ``loss(log_probs, target)``: ``log_probs`` ``(N, K)``, ``target`` ``(N,)`` integer class
    indices; a scalar for ``reduction='mean'`` or ``'sum'``, ``(N,)`` for ``'none'``.

    Parameters
    ----------
    weight : Tensor or ndarray, shape (K,), optional
    ignore_index : int
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (after a ``sigmoid``): ``F.binary_cross_entropy``.

    Parameters
    ----------
    weight : Tensor or ndarray, optional
        Broadcasts to the input's shape (a buffer).
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(weight, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid and binary cross-entropy, fused and stable:
    ``F.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    weight : Tensor or ndarray, optional
        Broadcasts to the input's shape (a buffer).
    reduction : 'mean', 'sum' or 'none'
    pos_weight : Tensor or ndarray, optional
        The positive term's weight, broadcast over the last axis (one per class; a buffer).
    """

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities from a target: ``F.kl_div``.

    Parameters
    ----------
    reduction : 'mean', 'batchmean', 'sum' or 'none'
        'batchmean' gives the mathematical KL divergence averaged over the batch.
    log_target : bool
        Whether the target holds log-probabilities.
    """

    _reductions = ("mean", "batchmean", "sum", "none")

    def __init__(self, *, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


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


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``: ``F.l1_loss``.

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    """

    def __init__(self, *, reduction="mean"):
        super().__init__(reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss, quadratic below ``beta``: ``F.smooth_l1_loss``.

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    beta : float >= 0 (0 gives the L1 loss)
    """

    def __init__(self, *, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss, quadratic up to ``delta``: ``F.huber_loss`` (PyTorch's signature: both
    options may be positional).

    Parameters
    ----------
    reduction : 'mean', 'sum' or 'none'
    delta : float > 0
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)
