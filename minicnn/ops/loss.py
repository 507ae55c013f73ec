"""Loss functions: classification (cross-entropy, NLL, binary cross-entropy, KL divergence)
and regression (MSE, L1, smooth L1, Huber), with PyTorch's options and rules; ``one_hot``.

Shapes: logits or log-probabilities ``(N, K)`` for N samples and K classes, class targets
``(N,)``. Like PyTorch, ``(N, K, d1, d2, ...)`` scores with ``(N, d1, d2, ...)`` targets are
accepted too (one prediction per position, e.g. per pixel): they are treated as
``N * d1 * d2 * ...`` samples; and one unbatched sample, ``(K,)`` scores with a 0-d target,
as one of N = 1. The element-wise losses take an input and a target of one
shape, and both may require grad.

Reductions: ``'none'`` keeps the per-sample (or per-element) losses, ``'sum'`` adds them,
``'mean'`` divides the sum by a denominator D: the element count, except for the weighted
class losses below and ``kl_div``'s ``'batchmean'`` (D = N). An empty input's mean is nan.

Cross-entropy, softmax and loss fused
-------------------------------------
With ``lse_i = logsumexp(z_i)`` and class weights ``w`` (all 1 by default, ``W = sum_k w_k``),
the class-index loss with label smoothing ``eps`` is PyTorch's
``(1 - eps) * nll_loss(log_softmax(z), t, w) + eps / K * (smoothing term)``, per sample::

    loss_i = a_i * (lse_i - z_{i,t_i}) + b_i * (W * lse_i - sum_k w_k z_ik)
    a_i = (1 - eps) * w_{t_i} * v_i,   b_i = eps / K * v_i
    dz_i = g_i * ((a_i + b_i * W) * softmax(z_i) - a_i * one_hot(t_i) - b_i * w)

``v_i`` is 0 for a sample whose target equals ``ignore_index`` (its loss and gradient are 0),
else 1; ``g_i`` the upstream gradient of sample i's loss. For ``'mean'``,
``D = sum_i w_{t_i} * v_i`` (the target classes' weights over the kept samples: PyTorch's
rule, the smoothing term divided by the same D; nan when every sample is ignored). Unweighted
and unsmoothed, ``q = (1 - eps) * one_hot(t) + eps / K`` and ``dz_i = g_i * (softmax - q)``.

Probability ("soft") targets ``q`` of the logits' shape: ``q' = (1 - eps) * q + eps / K``::

    loss_i = -sum_k w_k q'_ik log p_ik
    dz_i = g_i * ((sum_k w_k q'_ik) * p_i - w * q'_i)      dq_i = -(1 - eps) * g_i * w * log p_i

and ``'mean'`` divides by the number of samples (positions), not by the weights (PyTorch).

Computing ``logsumexp`` after subtracting each row's maximum (``z - max z <= 0``, so ``exp``
never overflows) keeps the loss exact for logits of magnitude 1e4 even in float32, where a
separate ``log(softmax(z))`` would give ``log(0) = -inf``. The fused backward never forms the
Jacobian of the softmax.

Negative log-likelihood
-----------------------
``loss_i = -w_{t_i} v_i x_{i,t_i}``, ``dx_ik = -g_i w_{t_i} v_i [k == t_i]``, the same ``D``.
``nll_loss(log_softmax(z), t)`` equals ``cross_entropy(z, t)`` with the same options.

Element-wise losses (x the input, y the target, w an optional weight)
---------------------------------------------------------------------
::

    mse_loss       (x - y)^2                                  dx = 2 (x - y)
    l1_loss        |x - y|                                    dx = sign(x - y)
    smooth_l1_loss 0.5 d^2 / beta  if |d| < beta  else |d| - 0.5 beta     (d = x - y)
                                                              dx = d / beta  or sign(d)
    huber_loss     0.5 d^2         if |d| <= delta else delta (|d| - 0.5 delta)
                                                              dx = d  or delta sign(d)
    binary_cross_entropy  -w (y log x + (1 - y) log(1 - x)),  each log clamped at -100
                                      dx = w (x - y) / max(x (1 - x), 1e-12)
                                      dy = w (log(1 - x) - log x)
    binary_cross_entropy_with_logits, pos_weight pw:  l = 1 + (pw - 1) y
                   w ((1 - y) x - l log sigmoid(x))
                                      dx = w ((1 - y) - l (1 - sigmoid(x)))
                                      dy = w (-x - (pw - 1) log sigmoid(x))
    kl_div         y (log y - x)  (0 where y = 0)         dx = -y    dy = log y + 1 - x
    kl_div, log_target=True:  e^y (y - x)                 dx = -e^y  dy = e^y (y + 1 - x)

For these three, dy = -dx (l1, smooth_l1, huber; mse too). ``smooth_l1_loss`` with
``beta = 0`` is ``l1_loss``; ``huber_loss(delta) = delta * smooth_l1_loss(beta=delta)``.
``log sigmoid(x) = min(x, 0) - log1p(exp(-|x|))`` is exact for logits of magnitude 1e4 in
float32, where ``log(sigmoid(x))`` would give ``log(0)``.

Weights (``weight=``, ``pos_weight=``) are constants: they take no gradient (PyTorch has no
derivative for ``nll_loss``'s or ``binary_cross_entropy``'s weight either), and one that
requires grad is refused rather than silently left without a gradient.
"""

import numbers

import numpy as np

from .._checks import check_compute_dtype, check_same_dtype, is_int
from ..autograd import ArrayFunction, Tensor, is_grad_enabled
from .elementwise import cast, checked_result_type

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "one_hot"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, denominator=None):
    """Apply ``reduction`` to the per-sample (or per-element) losses; ``'mean'`` divides the
    sum by ``denominator`` (default: the element count), nan when it is 0 (an empty input,
    or every sample ignored), as PyTorch."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return np.asarray(total)  # 0-d, dtype kept
    denominator = loss.size if denominator is None else denominator
    if denominator == 0:
        return np.asarray(np.nan, dtype=loss.dtype)
    return np.asarray(total / denominator, dtype=loss.dtype)


def _per_sample_weight(grad, reduction, denominator):
    """dL/d(loss of each sample): ``g_i``, ``g``, or ``g / D`` for ``'mean'`` (0 when D = 0:
    no sample contributed, so none gets a gradient, as in PyTorch)."""
    if reduction == "none":
        return grad
    if reduction == "mean":
        return grad / denominator if denominator else grad * 0
    return grad


def _check_reduction(name, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        options = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{name}: reduction must be {options}, got {reduction!r}")


def _constant(op, argument, value, input, shape_rule):
    """A weight argument ``op: argument`` as an array (or None): a Tensor or an array of the
    input's dtype, not requiring grad (weights are constants here), whose shape passes
    ``shape_rule(shape)`` (which raises otherwise)."""
    if value is None:
        return None
    name = f"{op}: {argument}"
    if isinstance(value, Tensor):
        if value.requires_grad and is_grad_enabled():
            raise ValueError(f"{name} requires grad, but minicnn's loss weights are constants "
                             f"(pass {argument}.detach())")
        value = value.data
    elif not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a Tensor or an ndarray, got {type(value).__name__}")
    check_same_dtype(input, f"{op}: input", [(name, value)])
    shape_rule(value.shape)
    return value


def _classes(scores):
    """K: the class axis is 1, or 0 for one unbatched sample ``(K,)`` (PyTorch's rule)."""
    return scores.shape[1] if scores.ndim > 1 else scores.shape[0]


def _class_weight(name, weight, scores):
    """The per-class weight (K,) of a class loss, or None."""
    if weight is None:
        return None
    classes = _classes(scores)

    def check(shape):
        if shape != (classes,):
            raise ValueError(f"{name}: weight must have shape ({classes},) (one per class), "
                             f"got shape {shape}")
    return _constant(name, "weight", weight, scores, check)


def _check_scores(name, scores, ignore_index):
    if not isinstance(scores, Tensor):
        raise TypeError(f"{name}: input must be a Tensor of scores, got {type(scores).__name__}")
    if scores.ndim < 1:
        raise ValueError(f"{name}: input must be (N, K) (samples x classes), (K,) or "
                         f"(N, K, d1, ...), got shape {scores.shape}")
    check_compute_dtype(scores, f"{name}: input")
    if not is_int(ignore_index):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")


def _class_targets(name, scores, target, ignore_index):
    """Validate class indices for ``scores (N, K, *d)`` (or ``(K,)``): ``(target (N, *d)
    (or ()) as an int array, a boolean mask of the ignored positions or None when there is
    none)``."""
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{name}: target must hold integer class indices, got dtype "
                        f"{target.dtype} (cross_entropy also takes class probabilities of "
                        f"the input's shape)")
    expected = scores.shape[:1] + scores.shape[2:] if scores.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"{name}: target must have shape {expected} for input of shape "
                         f"{scores.shape}, got shape {target.shape}")
    classes = _classes(scores)
    if not target.size or 0 <= target.min() and target.max() < classes:
        # the fast path: every index is a class, so none can equal a negative ignore_index
        ignored = target == ignore_index if 0 <= ignore_index < classes else None
    else:
        ignored = target == ignore_index
        invalid = ((target < 0) | (target >= classes)) & ~ignored
        if invalid.any():
            bad = tuple(int(i) for i in np.argwhere(invalid)[0])
            raise ValueError(f"{name}: target {target[bad]} at index {bad} is out of range "
                             f"for {classes} classes (valid: 0 to {classes - 1}, or "
                             f"ignore_index={ignore_index})")
    if ignored is not None and not ignored.any():
        ignored = None
    return target, ignored


def _samples_by_classes(scores, target):
    """Scores ``(N, K, *d)`` as ``(N * prod(d), K)`` (``(K,)`` as ``(1, K)``); class targets
    ``(N, *d)`` as ``(N * prod(d),)``, probability targets (a Tensor of the scores' shape)
    like the scores."""
    if scores.ndim == 2:
        return scores, target
    if scores.ndim == 1:
        return scores.reshape(1, -1), target.reshape((1, -1) if isinstance(target, Tensor) else 1)
    axes = (0,) + tuple(range(2, scores.ndim)) + (1,)
    flat = scores.permute(*axes).reshape(-1, scores.shape[1])  # (N, K, *d) -> (N*prod(d), K)
    if isinstance(target, Tensor):
        return flat, target.permute(*axes).reshape(-1, scores.shape[1])
    return flat, target.reshape(-1)


def _restore_positions(loss, scores, reduction):
    """Per-sample losses of flattened positions back in shape (N, *d) (or () for an unbatched
    ``(K,)`` input) for ``reduction='none'``."""
    if reduction != "none" or scores.ndim == 2:
        return loss
    return loss.reshape(scores.shape[:1] + scores.shape[2:] if scores.ndim > 1 else ())


def _target_coefficients(target, ignored, weight, dtype):
    """``c_i = w_{t_i} * v_i`` (the number 1.0 when there is neither weight nor ignored
    sample: the fast path) and the targets with the ignored ones replaced by class 0, safe
    to index with."""
    if ignored is None:
        return (1.0 if weight is None else weight[target]), target
    target = np.where(ignored, 0, target)
    kept = (~ignored).astype(dtype)
    return (kept if weight is None else weight[target] * kept), target


def _check_label_smoothing(label_smoothing):
    if (not isinstance(label_smoothing, numbers.Real) or isinstance(label_smoothing, bool)
            or not 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing!r}")
    return float(label_smoothing)


class CrossEntropy(ArrayFunction):
    """Softmax and cross-entropy with class indices, fused (module docstring: ``a_i``, ``b_i``)."""

    @staticmethod
    def forward(ctx, logits, target, weight, ignored, label_smoothing, reduction):
        n_samples, classes = logits.shape
        eps = label_smoothing
        c, target = _target_coefficients(target, ignored, weight, logits.dtype)  # c_i
        a = (1 - eps) * c  # a_i: a number (the plain case) or (N,)
        b = eps / classes if ignored is None else (eps / classes) * (~ignored).astype(logits.dtype)
        total_weight = classes if weight is None else weight.sum()  # W
        shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), every entry <= 0
        loss = -a * shifted[np.arange(n_samples), target]
        if eps:
            loss -= b * (shifted.sum(axis=1) if weight is None else shifted @ weight)
        exp = np.exp(shifted, out=shifted)  # in place: the shifted logits are not needed again
        sum_exp = exp.sum(axis=1)
        log_sum_exp = np.log(sum_exp)  # logsumexp(z) - max(z)
        # a_i + b_i W, the factor of logsumexp and of the softmax: 1 in the plain case
        softmax_scale = None if weight is None and ignored is None else a + b * total_weight
        loss += log_sum_exp if softmax_scale is None else softmax_scale * log_sum_exp
        ctx.save_for_backward(exp, sum_exp, target)
        denominator = n_samples if np.ndim(c) == 0 else c.sum()  # D of 'mean'
        ctx.settings = a, b, eps, weight, softmax_scale, reduction, denominator
        return _reduce(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None
        exp, sum_exp, target = ctx.saved_tensors
        a, b, eps, weight, softmax_scale, reduction, denominator = ctx.settings
        g = _per_sample_weight(grad, reduction, denominator)  # scalar or (N,)
        scaled_g = g if softmax_scale is None else softmax_scale * g
        grad_logits = exp * (scaled_g / sum_exp).reshape(-1, 1)  # softmax * (a + b W) * g
        grad_logits[np.arange(len(exp)), target] -= a * g
        if eps:
            b_g = np.reshape(b * g, (-1, 1))
            grad_logits -= b_g if weight is None else b_g * weight
        return grad_logits, None


class SoftCrossEntropy(ArrayFunction):
    """Softmax and cross-entropy with probability targets, fused (module docstring)."""

    @staticmethod
    def forward(ctx, logits, target, weight, label_smoothing, reduction):
        classes = logits.shape[1]
        eps = label_smoothing
        smoothed = target if not eps else (1 - eps) * target + eps / classes  # q'
        weighted = smoothed if weight is None else smoothed * weight  # w * q'
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -(weighted * log_probs).sum(axis=1)
        ctx.save_for_backward(log_probs, weighted)
        ctx.settings = eps, weight, reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        log_probs, weighted = ctx.saved_tensors
        eps, weight, reduction = ctx.settings
        g = np.reshape(_per_sample_weight(grad, reduction, len(log_probs)), (-1, 1))
        need_logits, need_target = ctx.needs_input_grad
        grad_logits = grad_target = None
        if need_logits:
            grad_logits = g * (weighted.sum(axis=1, keepdims=True) * np.exp(log_probs) - weighted)
        if need_target:
            scaled = -(1 - eps) * g * log_probs
            grad_target = scaled if weight is None else scaled * weight
        return grad_logits, grad_target


def _soft_target(scores, target):
    """Probability targets as a Tensor of the scores' dtype (a Tensor keeps its graph)."""
    if isinstance(target, Tensor):
        check_compute_dtype(target, "cross_entropy: target")
        return cast(target, scores.dtype)
    return Tensor(np.asarray(target, dtype=scores.dtype))


def _is_probability_target(scores, target):
    if np.shape(target) != scores.shape:
        return False
    dtype = np.asarray(target.data if isinstance(target, Tensor) else target).dtype
    return np.issubdtype(dtype, np.floating)


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy between logits and class indices or class probabilities.

    Equal to ``nll_loss(log_softmax(input, 1), target, weight, ignore_index=...)`` when
    ``label_smoothing=0``, but fused: stable for huge logits and with the one-step backward
    ``(softmax - q) / N``. The rules combining weight, ignore_index and smoothing, and the
    'mean' denominator, are PyTorch's (module docstring).

    Parameters
    ----------
    input : Tensor, shape (N, K) (or (N, K, d1, ...), or (K,) for one sample), float32 or
        float64
        Unnormalised scores.
    target : integer ndarray, list or Tensor, shape (N,) (or (N, d1, ...), or ())
        Class indices in ``[0, K)`` or equal to ``ignore_index``; or floating class
        probabilities of the shape of ``input`` (converted to its dtype; a Tensor target
        may require grad).
    weight : Tensor or ndarray, shape (K,), optional
        A weight per class, of the dtype of ``input``; a constant (no gradient).
    ignore_index : int
        Samples with this class index add nothing to the loss, its gradient or the 'mean'
        denominator (class-index targets only; must be negative with probabilities).
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the summed weight of the kept samples' target classes (by N for
        probability targets).
    label_smoothing : float in [0, 1]
        ``eps``: the target distribution is ``(1 - eps) * target + eps / K``.
        Keyword-only, like the two above: PyTorch's third-to-fifth positional arguments
        include the deprecated ``size_average`` and ``reduce``, which minicnn does not have.

    Returns
    -------
    Tensor, a scalar (shape ()) or the per-sample losses (N,) (or (N, d1, ...), or ());
    dtype of ``input``
    """
    _check_scores("cross_entropy", input, ignore_index)
    _check_reduction("cross_entropy", reduction)
    eps = _check_label_smoothing(label_smoothing)
    weight = _class_weight("cross_entropy", weight, input)
    if _is_probability_target(input, target):
        if ignore_index >= 0:
            raise ValueError(f"cross_entropy: ignore_index={ignore_index} is not supported for "
                             f"probability targets (PyTorch neither)")
        flat_logits, flat_target = _samples_by_classes(input, _soft_target(input, target))
        loss = SoftCrossEntropy.apply(flat_logits, flat_target, weight=weight,
                                      label_smoothing=eps, reduction=reduction)
        return _restore_positions(loss, input, reduction)
    target, ignored = _class_targets("cross_entropy", input, target, ignore_index)
    flat_logits, flat_target = _samples_by_classes(input, target)
    flat_ignored = None if ignored is None else ignored.reshape(-1)  # (N * prod(d),)
    loss = CrossEntropy.apply(flat_logits, flat_target, weight=weight, ignored=flat_ignored,
                              label_smoothing=eps, reduction=reduction)
    return _restore_positions(loss, input, reduction)


class NLLLoss(ArrayFunction):
    @staticmethod
    def forward(ctx, log_probs, target, weight, ignored, reduction):
        coefficient, target = _target_coefficients(target, ignored, weight, log_probs.dtype)
        loss = -coefficient * log_probs[np.arange(len(target)), target]
        denominator = coefficient.sum() if np.ndim(coefficient) else len(target)
        ctx.save_for_backward(target)
        ctx.shape, ctx.settings = log_probs.shape, (coefficient, reduction, denominator)
        return _reduce(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        (target,) = ctx.saved_tensors
        coefficient, reduction, denominator = ctx.settings
        g = _per_sample_weight(grad, reduction, denominator)
        grad_log_probs = np.zeros(ctx.shape, dtype=grad.dtype)
        grad_log_probs[np.arange(len(target)), target] = -coefficient * g
        return grad_log_probs, None


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood ``-weight[t_i] * input[i, t_i]`` (use after ``log_softmax``).

    Parameters
    ----------
    input : Tensor, shape (N, K) (or (N, K, d1, ...), or (K,))
        Log-probabilities of the K classes.
    target : integer ndarray, list or Tensor, shape (N,) (or (N, d1, ...), or ())
        Class indices in ``[0, K)`` or equal to ``ignore_index``.
    weight : Tensor or ndarray, shape (K,), optional
        A weight per class (a constant), of the dtype of ``input``.
    ignore_index : int
        Samples with this target add nothing (keyword-only, see ``cross_entropy``).
    reduction : {'mean', 'sum', 'none'}
        'mean' divides by the summed weight of the kept samples' target classes.

    Returns
    -------
    Tensor, a scalar or the per-sample losses; dtype of ``input``
    """
    _check_scores("nll_loss", input, ignore_index)
    _check_reduction("nll_loss", reduction)
    weight = _class_weight("nll_loss", weight, input)
    target, ignored = _class_targets("nll_loss", input, target, ignore_index)
    flat_log_probs, flat_target = _samples_by_classes(input, target)
    flat_ignored = None if ignored is None else ignored.reshape(-1)
    loss = NLLLoss.apply(flat_log_probs, flat_target, weight=weight, ignored=flat_ignored,
                         reduction=reduction)
    return _restore_positions(loss, input, reduction)


# ----------------------------------------------------------------------------- element-wise


class _ElementwiseLoss(ArrayFunction):
    """``reduce(l(x, y))`` for a loss ``l`` applied element by element. Each subclass gives
    ``pointwise(x, y, **settings)``: the losses and the partial derivatives ``dl/dx`` and
    ``dl/dy``, arrays of the shape of x (the math is in the module docstring); forward and
    backward are shared: ``dx = g * dl/dx``, ``dy = g * dl/dy`` with ``g`` the upstream
    gradient of each element's loss."""

    @staticmethod
    def pointwise(x, y, **settings):
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, input, target, reduction, denominator=None, **settings):
        loss, d_input, d_target = cls.pointwise(input, target, **settings)
        need_input, need_target = ctx.needs_input_grad
        ctx.save_for_backward(d_input if need_input else None,
                              d_target if need_target else None)
        ctx.reduction = reduction
        ctx.denominator = loss.size if denominator is None else denominator
        return _reduce(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        d_input, d_target = ctx.saved_tensors
        g = _per_sample_weight(grad, ctx.reduction, ctx.denominator)
        return (None if d_input is None else d_input * g,
                None if d_target is None else d_target * g)


class MSELoss(_ElementwiseLoss):
    @staticmethod
    def pointwise(x, y):
        diff = x - y
        return diff * diff, 2 * diff, -2 * diff


class L1Loss(_ElementwiseLoss):
    @staticmethod
    def pointwise(x, y):
        diff = x - y
        sign = np.sign(diff)
        return np.abs(diff), sign, -sign


class SmoothL1Loss(_ElementwiseLoss):
    """Smooth L1 (``huber=False``), or Huber's loss (``huber=True``, ``beta`` = delta):
    ``huber = delta * smooth_l1(beta=delta)``."""

    @staticmethod
    def pointwise(x, y, beta, huber):
        diff = x - y
        size = np.abs(diff)
        quadratic = size < beta
        factor = beta if huber else 1.0  # huber_loss = delta * smooth_l1_loss(beta=delta)
        safe_beta = beta if beta else 1.0  # beta = 0: no element is quadratic (L1 loss)
        loss = np.where(quadratic, (0.5 * factor / safe_beta) * diff * diff,
                        factor * (size - 0.5 * beta))
        d_input = np.where(quadratic, (factor / safe_beta) * diff, factor * np.sign(diff))
        return loss.astype(x.dtype, copy=False), d_input, -d_input


_LOG_CLAMP = -100.0  # PyTorch's: log(0) counts as -100, so a confident mistake stays finite
_BCE_EPSILON = 1e-12  # PyTorch's floor of x (1 - x) in binary_cross_entropy's gradient


class BinaryCrossEntropy(_ElementwiseLoss):
    @staticmethod
    def pointwise(x, y, weight):
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_x = np.maximum(np.log(x), _LOG_CLAMP)
            log_1mx = np.maximum(np.log1p(-x), _LOG_CLAMP)
        loss = -(y * log_x + (1 - y) * log_1mx)
        d_input = (x - y) / np.maximum(x * (1 - x), _BCE_EPSILON)
        d_target = log_1mx - log_x
        if weight is not None:
            loss, d_input, d_target = loss * weight, d_input * weight, d_target * weight
        return loss, d_input, d_target


def _log_sigmoid(x):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: exact for any x, no overflow."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogits(_ElementwiseLoss):
    @staticmethod
    def pointwise(x, y, weight, pos_weight):
        log_sigmoid = _log_sigmoid(x)
        sigmoid = np.exp(log_sigmoid)
        log_weight = 1.0 if pos_weight is None else 1 + (pos_weight - 1) * y  # l
        loss = (1 - y) * x - log_weight * log_sigmoid
        d_input = (1 - y) - log_weight * (1 - sigmoid)
        d_target = -x if pos_weight is None else -x - (pos_weight - 1) * log_sigmoid
        if weight is not None:
            loss, d_input, d_target = loss * weight, d_input * weight, d_target * weight
        return loss, d_input, d_target


class KLDivergence(_ElementwiseLoss):
    @staticmethod
    def pointwise(x, y, log_target):
        if log_target:
            target = np.exp(y)
            return target * (y - x), -target, target * (y + 1 - x)
        positive = y > 0
        log_y = np.log(np.where(positive, y, 1.0))  # y log y = 0 at y = 0
        loss = np.where(positive, y * (log_y - x), 0.0 * x)  # 0 * x keeps a nan input nan
        # the derivative of y log y at y = 0 is -inf; minicnn gives 0 there (PyTorch: nan)
        d_target = np.where(positive, log_y + 1 - x, 0.0)
        return loss.astype(x.dtype, copy=False), -y, d_target.astype(x.dtype, copy=False)


def _paired(name, input, target):
    """``input`` and ``target`` (Tensor, array or nested list) of one shape, converted to
    their common dtype (``elementwise.result_type``; a Tensor stays in the graph)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    check_compute_dtype(input, f"{name}: input")
    if not isinstance(target, (Tensor, np.ndarray)):
        target = Tensor(target)  # a nested list: float32, like any Python data
    if target.shape != input.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from input shape "
                         f"{input.shape}; reshape one of them (no broadcasting here)")
    dtype = checked_result_type(name, (input, target))
    return cast(input, dtype), cast(target, dtype) if isinstance(target, Tensor) else \
        target.astype(dtype, copy=False)


def _elementwise_weight(op, argument, weight, input):
    """An optional weight that broadcasts to the input's shape, as an array."""
    name = f"{op}: {argument}"

    def check(shape):
        try:
            broadcast = np.broadcast_shapes(shape, input.shape)
        except ValueError:
            broadcast = None
        if broadcast != input.shape:
            raise ValueError(f"{name} of shape {shape} does not broadcast to the input's "
                             f"shape {input.shape}")
    return _constant(op, argument, weight, input, check)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``(input - target) ** 2``, averaged over every element by default.

    Unlike PyTorch, which broadcasts mismatched shapes with a warning, shapes must be equal
    (for every element-wise loss here): an ``(N, 1)`` prediction against an ``(N,)`` target
    would silently compare all N^2 pairs.

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
    operand's own dtype. The other element-wise losses follow the same rules.
    """
    _check_reduction("mse_loss", reduction)
    return MSELoss.apply(*_paired("mse_loss", input, target), reduction=reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Mean absolute error ``|input - target|`` (gradient ``sign``, 0 at a tie).

    Parameters
    ----------
    input : Tensor, any shape, float32 or float64
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    reduction : {'mean', 'sum', 'none'}
        Keyword-only: PyTorch's third and fourth positional arguments are the deprecated
        ``size_average`` and ``reduce``, which minicnn does not have.

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)
    """
    _check_reduction("l1_loss", reduction)
    return L1Loss.apply(*_paired("l1_loss", input, target), reduction=reduction)


def _non_negative(name, value):
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """Smooth L1 loss: quadratic ``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta``.

    ``beta=0`` gives ``l1_loss`` (PyTorch's rule).

    Parameters
    ----------
    input : Tensor, any shape, float32 or float64
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    reduction : {'mean', 'sum', 'none'} (keyword-only, see ``l1_loss``)
    beta : float >= 0

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)
    """
    _check_reduction("smooth_l1_loss", reduction)
    beta = _non_negative("smooth_l1_loss: beta", beta)
    return SmoothL1Loss.apply(*_paired("smooth_l1_loss", input, target), reduction=reduction,
                              beta=beta, huber=False)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: ``0.5 d^2`` for ``|d| <= delta``, else ``delta (|d| - 0.5 delta)``.

    Equal to ``delta * smooth_l1_loss(beta=delta)``. PyTorch's signature: ``reduction`` is
    the third positional argument here.

    Parameters
    ----------
    input : Tensor, any shape, float32 or float64
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    reduction : {'mean', 'sum', 'none'}
    delta : float > 0

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)
    """
    _check_reduction("huber_loss", reduction)
    if _non_negative("huber_loss: delta", delta) == 0:
        raise ValueError("huber_loss: delta must be positive, got 0 (PyTorch refuses it too)")
    return SmoothL1Loss.apply(*_paired("huber_loss", input, target), reduction=reduction,
                              beta=float(delta), huber=True)


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """Binary cross-entropy ``-w (y log x + (1 - y) log(1 - x))`` of probabilities x.

    Each log is clamped at -100 (PyTorch's rule), so x = 0 or 1 gives a finite loss. For
    logits use ``binary_cross_entropy_with_logits``: stable and one op fewer.

    Parameters
    ----------
    input : Tensor, any shape, float32 or float64, values in [0, 1]
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    weight : Tensor or ndarray, optional
        Broadcasts to the input's shape (e.g. per element or per class); a constant.
    reduction : {'mean', 'sum', 'none'} (keyword-only, see ``l1_loss``)

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)

    Raises
    ------
    ValueError
        For input values outside [0, 1] (PyTorch raises too).
    """
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _paired("binary_cross_entropy", input, target)
    weight = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    if input.size and not (input.data.min() >= 0 and input.data.max() <= 1):
        raise ValueError("binary_cross_entropy: every element of input must be between 0 and 1 "
                         "(probabilities; for logits use binary_cross_entropy_with_logits)")
    return BinaryCrossEntropy.apply(input, target, reduction=reduction, weight=weight)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross-entropy, fused and stable:
    ``-w (p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))`` with ``p`` = ``pos_weight``.

    Parameters
    ----------
    input : Tensor, any shape (..., C), float32 or float64
        Logits.
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    weight : Tensor or ndarray, optional
        Broadcasts to the input's shape; a constant.
    reduction : {'mean', 'sum', 'none'} (keyword-only, see ``l1_loss``)
    pos_weight : Tensor or ndarray, optional
        Weight of the positive term, broadcast over the last axis: shape (C,) weighs each
        class (``num_negatives / num_positives`` balances a class); a constant.

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _paired("binary_cross_entropy_with_logits", input, target)
    weight = _elementwise_weight("binary_cross_entropy_with_logits", "weight", weight, input)
    pos_weight = _elementwise_weight("binary_cross_entropy_with_logits", "pos_weight",
                                     pos_weight, input)
    return BinaryCrossEntropyWithLogits.apply(input, target, reduction=reduction,
                                              weight=weight, pos_weight=pos_weight)


def kl_div(input, target, *, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log target - input)`` of log-probabilities.

    ``input`` holds log-probabilities (e.g. ``log_softmax``), ``target`` probabilities, or
    log-probabilities with ``log_target=True`` (``exp(target) * (target - input)``). The
    divergence KL(target || exp(input)) of each sample is the sum over its elements:
    ``reduction='batchmean'`` (sum / N) gives it, ``'mean'`` divides by every element
    (PyTorch's default, and warning; minicnn does not warn).

    Parameters
    ----------
    input : Tensor, shape (N, *), float32 or float64
    target : Tensor, ndarray or nested list, the shape of ``input`` (may require grad)
    reduction : {'mean', 'batchmean', 'sum', 'none'} (keyword-only, see ``l1_loss``)
    log_target : bool

    Returns
    -------
    Tensor, a scalar or the element-wise losses (dtype as ``mse_loss``)
    """
    _check_reduction("kl_div", reduction, ("mean", "batchmean", "sum", "none"))
    input, target = _paired("kl_div", input, target)
    denominator = None
    if reduction == "batchmean":
        reduction, denominator = "mean", input.shape[0] if input.ndim else 1
    return KLDivergence.apply(input, target, reduction=reduction, denominator=denominator,
                              log_target=bool(log_target))


def one_hot(tensor, num_classes=-1):
    """One-hot encoding: ``out[..., k] = 1`` where ``k = tensor[...]``, int64, shape
    ``tensor.shape + (num_classes,)``. No gradient (an index has none).

    Parameters
    ----------
    tensor : integer Tensor or ndarray (PyTorch requires int64; any integer dtype here)
    num_classes : int
        -1 (default): ``tensor.max() + 1``.

    Raises
    ------
    TypeError
        For a non-integer tensor.
    ValueError
        For a negative class, one ``>= num_classes``, or ``num_classes=-1`` with an empty
        tensor (PyTorch's three errors).
    """
    values = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"one_hot: tensor must hold integer class indices, got dtype "
                        f"{values.dtype}")
    if not is_int(num_classes) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got "
                         f"{num_classes!r}")
    if num_classes == -1:
        if not values.size:
            raise ValueError("one_hot: cannot infer the number of classes from an empty "
                             "tensor; pass num_classes")
        num_classes = int(values.max()) + 1
    if values.size and values.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {values.min()}")
    if values.size and values.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes="
                         f"{num_classes}, got {values.max()}")
    encoded = np.zeros(values.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(encoded, values[..., None].astype(np.intp), 1, axis=-1)
    return Tensor(encoded)
