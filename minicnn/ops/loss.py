"""Loss functions: softmax cross-entropy (with label smoothing), negative log-likelihood, MSE.

Shapes: logits or log-probabilities ``(N, K)`` for N samples and K classes, class targets
``(N,)``. Like PyTorch, ``(N, K, d1, d2, ...)`` scores with ``(N, d1, d2, ...)`` targets are
accepted too (one prediction per position, e.g. per pixel): they are treated as
``N * d1 * d2 * ...`` samples.

Cross-entropy, softmax and loss fused
-------------------------------------
With ``p = softmax(z)`` and the smoothed target distribution
``q = (1 - eps) * one_hot(t) + eps / K`` (the true class gets ``1 - eps + eps / K``, every
other class ``eps / K``; PyTorch's and Keras' rule)::

    loss_i = -sum_k q_ik * log p_ik
           = logsumexp(z_i) - (1 - eps) * z_{i, t_i} - eps / K * sum_k z_ik       (sum_k q_ik = 1)
    dz_i   = (p_i - q_i) * w_i

where ``w_i`` is the upstream gradient of sample i's loss: ``g / N`` for ``reduction='mean'``,
``g`` for ``'sum'``, ``g_i`` for ``'none'``. Computing ``logsumexp`` after subtracting each
row's maximum (``z - max z <= 0``, so ``exp`` never overflows) keeps the loss exact for logits
of magnitude 1e4 even in float32, where a separate ``log(softmax(z))`` would give
``log(0) = -inf``. The fused backward never forms the Jacobian of the softmax.

Negative log-likelihood and mean squared error
----------------------------------------------
::

    nll_loss:  loss_i = -x_{i, t_i}         dx_ik = -w_i * [k == t_i]
    mse_loss:  loss   = (x - y)^2           dx = 2 * (x - y) * w,   dy = -dx

``nll_loss(log_softmax(z), t)`` equals ``cross_entropy(z, t)``.
"""

import numbers

import numpy as np

from .._checks import check_compute_dtype
from ..autograd import ArrayFunction, Tensor
from .elementwise import cast, checked_result_type

__all__ = ["cross_entropy", "nll_loss", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction):
    """Apply ``reduction`` to the per-sample (or per-element) losses."""
    if reduction == "none":
        return loss
    return np.asarray(loss.sum() if reduction == "sum" else loss.mean())  # 0-d, dtype kept


def _per_sample_weight(grad, reduction, count):
    """dL/d(loss of each sample): ``g_i``, or ``g`` / ``g / count`` for a reduced loss."""
    if reduction == "none":
        return grad
    return grad / count if reduction == "mean" else grad


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _class_targets(name, scores, target):
    """Validate class indices for ``scores (N, K, *d)`` and return them as an int array (N, *d)."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{name}: input must be a Tensor of scores, got {type(scores).__name__}")
    if scores.ndim < 2:
        raise ValueError(f"{name}: input must be (N, K) (samples x classes), got shape "
                         f"{scores.shape}")
    check_compute_dtype(scores, f"{name}: input")
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype "
                        f"{target.dtype} (class probabilities are not supported as targets)")
    expected = scores.shape[:1] + scores.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: target must have shape {expected} for input of shape "
                         f"{scores.shape}, got shape {target.shape}")
    classes = scores.shape[1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = tuple(int(i) for i in np.argwhere((target < 0) | (target >= classes))[0])
        raise ValueError(f"{name}: target {target[bad]} at index {bad} is out of range for "
                         f"{classes} classes (valid: 0 to {classes - 1})")
    return target


def _samples_by_classes(scores, target):
    """Scores ``(N, K, *d)`` as ``(N * prod(d), K)``, targets ``(N, *d)`` as ``(N * prod(d),)``."""
    if scores.ndim == 2:
        return scores, target
    axes = (0,) + tuple(range(2, scores.ndim)) + (1,)
    flat = scores.permute(*axes).reshape(-1, scores.shape[1])  # (N, K, *d) -> (N*prod(d), K)
    return flat, target.reshape(-1)


def _restore_positions(loss, scores, reduction):
    """Per-sample losses of flattened positions back in shape (N, *d) for ``reduction='none'``."""
    if reduction != "none" or scores.ndim == 2:
        return loss
    return loss.reshape(scores.shape[:1] + scores.shape[2:])


class CrossEntropy(ArrayFunction):
    @staticmethod
    def forward(ctx, logits, target, label_smoothing, reduction):
        n_samples, classes = logits.shape
        rows = np.arange(n_samples)
        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), every entry <= 0
        loss = -(1 - label_smoothing) * shifted[rows, target]
        if label_smoothing:
            loss -= (label_smoothing / classes) * shifted.sum(axis=1)
        exp = np.exp(shifted, out=shifted)  # in place: the shifted logits are not needed again
        sum_exp = exp.sum(axis=1)
        loss += np.log(sum_exp)  # logsumexp(z) - max(z)
        ctx.save_for_backward(exp, sum_exp, target)
        ctx.label_smoothing, ctx.reduction = label_smoothing, reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None
        exp, sum_exp, target = ctx.saved_tensors
        n_samples, classes = exp.shape
        eps = ctx.label_smoothing
        weight = _per_sample_weight(grad, ctx.reduction, n_samples)  # scalar or (N,)
        grad_logits = exp * (weight / sum_exp)[:, None]  # softmax * w
        grad_logits[np.arange(n_samples), target] -= (1 - eps) * weight
        if eps:
            grad_logits -= (eps / classes) * np.reshape(weight, (-1, 1))  # (p - q) * w
        return grad_logits, None


def cross_entropy(logits, target, label_smoothing=0.0, reduction="mean"):
    """Softmax cross-entropy between logits and class indices, with optional label smoothing.

    Equal to ``nll_loss(log_softmax(logits, axis=1), target)`` when ``label_smoothing=0``,
    but fused: stable for huge logits and with the one-step backward ``(softmax - q) / N``.

    Parameters
    ----------
    logits : Tensor, shape (N, K) (or (N, K, d1, ...))
        Unnormalised scores.
    target : integer ndarray or integer Tensor, shape (N,) (or (N, d1, ...))
        Class indices in ``[0, K)``.
    label_smoothing : float in [0, 1]
        ``eps``: the target distribution is ``(1 - eps) * one_hot + eps / K``.
    reduction : {'mean', 'sum', 'none'}
        Average over the samples, sum, or the per-sample losses of shape (N,) (or (N, d1, ...)).

    Returns
    -------
    Tensor, a scalar (shape ()) or the per-sample losses; dtype of ``logits``
    """
    target = _class_targets("cross_entropy", logits, target)
    _check_reduction("cross_entropy", reduction)
    if (not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, bool)
            or not 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    flat_logits, flat_target = _samples_by_classes(logits, target)
    loss = CrossEntropy.apply(flat_logits, flat_target, label_smoothing=float(label_smoothing),
                              reduction=reduction)
    return _restore_positions(loss, logits, reduction)


class NLLLoss(ArrayFunction):
    @staticmethod
    def forward(ctx, log_probs, target, reduction):
        ctx.save_for_backward(target)
        ctx.shape, ctx.reduction = log_probs.shape, reduction
        return _reduce(-log_probs[np.arange(len(target)), target], reduction)

    @staticmethod
    def backward(ctx, grad):
        (target,) = ctx.saved_tensors
        n_samples = len(target)
        weight = _per_sample_weight(grad, ctx.reduction, n_samples)
        grad_log_probs = np.zeros(ctx.shape, dtype=grad.dtype)
        grad_log_probs[np.arange(n_samples), target] = -weight
        return grad_log_probs, None


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood ``-log_probs[i, target[i]]`` (use after ``log_softmax``).

    Parameters
    ----------
    log_probs : Tensor, shape (N, K) (or (N, K, d1, ...))
        Log-probabilities of the K classes.
    target : integer ndarray or integer Tensor, shape (N,) (or (N, d1, ...))
        Class indices in ``[0, K)``.
    reduction : {'mean', 'sum', 'none'}

    Returns
    -------
    Tensor, a scalar or the per-sample losses; dtype of ``log_probs``
    """
    target = _class_targets("nll_loss", log_probs, target)
    _check_reduction("nll_loss", reduction)
    flat_log_probs, flat_target = _samples_by_classes(log_probs, target)
    loss = NLLLoss.apply(flat_log_probs, flat_target, reduction=reduction)
    return _restore_positions(loss, log_probs, reduction)


class MSELoss(ArrayFunction):
    @staticmethod
    def forward(ctx, prediction, target, reduction):
        diff = prediction - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        grad_prediction = 2 * diff * _per_sample_weight(grad, ctx.reduction, diff.size)
        need_prediction, need_target = ctx.needs_input_grad
        return (grad_prediction if need_prediction else None,
                -grad_prediction if need_target else None)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``(input - target) ** 2``, averaged over every element by default.

    Unlike PyTorch, which broadcasts mismatched shapes with a warning, shapes must be equal:
    an ``(N, 1)`` prediction against an ``(N,)`` target would silently compare all N^2 pairs.

    Parameters
    ----------
    input : Tensor, any shape, float32 or float64
    target : Tensor, ndarray or nested list, the shape of ``input``
        May require grad (both sides then get a gradient).
    reduction : {'mean', 'sum', 'none'}

    Returns
    -------
    Tensor, a scalar or the element-wise losses, of the dtype of ``input - target``
    (``elementwise.result_type``: a float32 input with an integer or float32 target is
    float32, with a float64 array float64, as in PyTorch); each gradient comes back in its
    operand's own dtype.
    """
    _check_reduction("mse_loss", reduction)
    if not isinstance(input, Tensor):
        raise TypeError(f"mse_loss: input must be a Tensor, got {type(input).__name__}")
    check_compute_dtype(input, "mse_loss: input")
    if not isinstance(target, (Tensor, np.ndarray)):
        target = Tensor(target)  # a nested list: float32, like any Python data
    if target.shape != input.shape:
        raise ValueError(f"mse_loss: target shape {target.shape} differs from input shape "
                         f"{input.shape}; reshape one of them (no broadcasting here)")
    dtype = checked_result_type("mse_loss", (input, target))
    return MSELoss.apply(cast(input, dtype), cast(target, dtype), reduction=reduction)
