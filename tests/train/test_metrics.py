"""Top-k accuracy and the confusion matrix on hand-worked scores."""

import numpy as np
import pytest

from minicnn.train import confusion_matrix, topk_accuracy, topk_correct

# Ranks worked out by hand (classes sorted by score, best first):
#   sample 0: 3 (0.9), 1 (0.5), 2 (0.2), 0 (0.1)        label 1 -> rank 2
#   sample 1: 0 (2.0), 2 (1.0), 3 (0.0), 1 (-1.0)       label 0 -> rank 1
#   sample 2: 2 (5), 1 (4), 0 (3), 3 (-7)               label 3 -> rank 4
#   sample 3: 1 (0.3), 3 (0.2), 0 (0.1), 2 (0.0)        label 3 -> rank 2
GOLDEN_LOGITS = np.array([[0.1, 0.5, 0.2, 0.9],
                          [2.0, -1.0, 1.0, 0.0],
                          [3.0, 4.0, 5.0, -7.0],
                          [0.1, 0.3, 0.0, 0.2]])
GOLDEN_LABELS = np.array([1, 0, 3, 3])


def test_topk_on_golden_logits():
    assert topk_correct(GOLDEN_LOGITS, GOLDEN_LABELS, ks=(1, 2, 3, 4)) == [1, 3, 3, 4]
    assert topk_accuracy(GOLDEN_LOGITS, GOLDEN_LABELS, k=1) == 0.25
    assert topk_accuracy(GOLDEN_LOGITS, GOLDEN_LABELS, k=2) == 0.75


def test_topk_is_the_same_on_probabilities_and_log_probabilities():
    probs = np.exp(GOLDEN_LOGITS) / np.exp(GOLDEN_LOGITS).sum(axis=1, keepdims=True)
    assert topk_correct(probs, GOLDEN_LABELS, (1, 2, 3)) == [1, 3, 3]
    assert topk_correct(np.log(probs), GOLDEN_LABELS, (1, 2, 3)) == [1, 3, 3]


def test_k_beyond_the_number_of_classes_counts_every_sample():
    assert topk_correct(GOLDEN_LOGITS, GOLDEN_LABELS, ks=(5, 100)) == [4, 4]


def test_top1_equals_argmax_and_ties_go_to_the_lower_class():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(200, 6)).astype(np.float32)   # many ties
    labels = rng.integers(0, 6, size=200)
    assert topk_correct(scores, labels, (1,))[0] == int((scores.argmax(1) == labels).sum())
    flat = np.zeros((3, 4))                                          # all classes tied
    assert topk_correct(flat, np.array([0, 1, 3]), (1, 2)) == [1, 2]


def test_top5_with_ten_classes_matches_a_sort():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(50, 10))
    labels = rng.integers(0, 10, size=50)
    expected = sum(label in np.argsort(-row)[:5] for row, label in zip(scores, labels))
    assert topk_correct(scores, labels, (5,)) == [expected]


@pytest.mark.parametrize("scores, labels, match", [
    (np.zeros((2, 3, 1)), np.array([0, 1]), "scores must have shape"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), "labels must be an integer array of shape"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), "labels must be an integer array"),
    (np.zeros((2, 3)), np.array([0, 3]), r"labels must lie in \[0, 3\)"),
])
def test_bad_inputs_name_the_argument(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        topk_correct(scores, labels)


def test_confusion_matrix_golden():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0],
                         [0, 1, 0],
                         [1, 0, 2]])
    matrix = confusion_matrix(labels, predictions, 3)
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix.sum(axis=1), [2, 1, 3])


def test_confusion_matrix_rejects_out_of_range_predictions():
    with pytest.raises(ValueError, match=r"predictions must be ints in \[0, 3\)"):
        confusion_matrix(np.array([0, 1]), np.array([0, 3]), 3)
