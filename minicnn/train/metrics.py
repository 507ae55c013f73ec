"""Classification metrics on NumPy arrays: top-k accuracy and the confusion matrix.

Shapes: ``N`` samples, ``K`` classes. Scores are anything monotone in the class
probabilities (logits, log-probabilities or probabilities), ``(N, K)``; labels are class
indices ``(N,)``.

Top-k. Sample ``i`` is correct at ``k`` when its true class is among the ``k`` highest
scores. Ties are broken towards the lower class index (a stable sort of ``-scores``), the
same rule as ``numpy.argmax``, so top-1 is exactly ``argmax(scores) == label``, and a
network whose scores are all equal is not credited with every class at once. With
``k >= K`` every sample is correct.

Confusion matrix. ``matrix[t, p]`` counts the samples of true class ``t`` predicted as
``p`` (rows: truth, columns: prediction, as scikit-learn's); the diagonal holds the correct
ones, and ``matrix.sum(axis=1)`` gives each class's number of samples.
"""

import numpy as np

__all__ = ["topk_correct", "topk_accuracy", "confusion_matrix", "log_softmax_np"]


def _check_scores(scores, labels):
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (N, K), got shape {scores.shape}")
    if labels.shape != (scores.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be an integer array of shape ({scores.shape[0]},) to "
                         f"match scores {scores.shape}, got shape {labels.shape} and dtype "
                         f"{labels.dtype}")
    if len(labels) and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}) (one column of scores per "
                         f"class), got values from {labels.min()} to {labels.max()}")
    return scores, labels


def topk_correct(scores, labels, ks=(1, 5)):
    """How many samples have their label among their ``k`` best scores, for each ``k``.

    Parameters
    ----------
    scores : ndarray, (N, K)
    labels : integer ndarray, (N,)
    ks : sequence of positive int

    Returns
    -------
    list of int, one count per ``k`` (in the order of ``ks``)
    """
    scores, labels = _check_scores(scores, labels)
    ks = [int(k) for k in ks]
    if any(k < 1 for k in ks):
        raise ValueError(f"ks must be positive ints, got {ks}")
    widest = min(max(ks, default=1), scores.shape[1])
    ranked = np.argsort(-scores, axis=1, kind="stable")[:, :widest]   # (N, widest)
    hit_rank = ranked == labels[:, None]                                # (N, widest)
    return [int(hit_rank[:, :min(k, widest)].any(axis=1).sum()) for k in ks]


def topk_accuracy(scores, labels, k=1):
    """Fraction of samples (in [0, 1]) whose label is among their ``k`` best scores."""
    scores, labels = _check_scores(scores, labels)
    if len(labels) == 0:
        raise ValueError("topk_accuracy needs at least one sample")
    return topk_correct(scores, labels, (k,))[0] / len(labels)


def confusion_matrix(labels, predictions, num_classes):
    """``matrix[t, p]``: number of samples of true class ``t`` predicted as class ``p``.

    Parameters
    ----------
    labels, predictions : integer ndarray, (N,)
    num_classes : int

    Returns
    -------
    ndarray, int64, (num_classes, num_classes)
    """
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 1:
        raise ValueError(f"labels and predictions must be 1-D of one length, got shapes "
                         f"{labels.shape} and {predictions.shape}")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if len(values) and (not np.issubdtype(values.dtype, np.integer)
                            or values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must be ints in [0, {num_classes}), got {values.dtype} "
                             f"values from {values.min()} to {values.max()}")
    flat = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)                          # (K * K,) -> (K, K)


def log_softmax_np(logits, axis=-1):
    """``log(softmax(logits))`` of a NumPy array, stable for large logits."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
