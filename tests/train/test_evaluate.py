"""evaluate: loss and top-k, test-time augmentation (crops averaged in probability) and
ensembles (models averaged in probability)."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F, nn
from minicnn.data import ArrayDataset, DataLoader, transforms as T
from minicnn.train import evaluate, evaluate_ensemble
from minicnn.train.metrics import topk_correct

from ._toy import tiny_cnn, toy_arrays


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _linear(in_features, seed):
    minicnn.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(in_features, 3)).double()
    model[1].weight.data *= 20                        # confident, varied predictions
    return model


def _numpy_logits(model, x):
    w, b = model[1].weight.data, model[1].bias.data
    return x.reshape(len(x), -1) @ w.T + b


def test_plain_evaluation_equals_cross_entropy_and_argmax():
    images, labels = toy_arrays(30, seed=2)
    model = _linear(64, 0)
    result = evaluate(model, DataLoader(ArrayDataset(images, labels), 7))
    logits = _numpy_logits(model, images.astype(np.float64))
    expected = F.cross_entropy(minicnn.Tensor(logits), labels).item()
    assert result.loss == pytest.approx(expected, rel=1e-12)
    assert result.top1 == np.mean(logits.argmax(1) == labels)
    np.testing.assert_array_equal(result.predictions, logits.argmax(1))
    np.testing.assert_array_equal(result.labels, labels)
    loss, top1, top5 = result                          # unpacks as a triple
    assert (loss, top1, top5) == (result.loss, result.top1, result.top5) and top5 == 1.0


def test_tencrop_feeds_ten_crops_per_image_and_averages_their_softmax():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(5, 1, 10, 10)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1])
    model = _linear(64, 1)
    shapes = []
    model.register_forward_hook(lambda m, inputs, out: shapes.append(inputs[0].shape))
    result = evaluate(model, DataLoader(ArrayDataset(images, labels), 5), tta="tencrop",
                      crop_size=8)
    assert shapes == [(50, 1, 8, 8)]                   # (N * 10, C, crop, crop)

    crops = T.TenCrop(8)(images).astype(np.float64)    # (5, 10, 1, 8, 8)
    probs = _softmax(_numpy_logits(model, crops.reshape(50, 1, 8, 8)).reshape(5, 10, 3))
    mean_probs = probs.mean(axis=1)                    # average of probabilities, not logits
    assert result.loss == pytest.approx(-np.mean(np.log(mean_probs[np.arange(5), labels])),
                                        rel=1e-10)
    np.testing.assert_array_equal(result.predictions, mean_probs.argmax(1))
    assert result.top1 == topk_correct(mean_probs, labels, (1,))[0] / 5


def test_fivecrop_and_crops_made_by_the_dataset():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(4, 1, 10, 10)).astype(np.float32)
    labels = np.array([2, 1, 0, 2])
    model = _linear(64, 2)
    in_loader = evaluate(model, DataLoader(ArrayDataset(images, labels), 2), tta="fivecrop",
                         crop_size=8)
    # The same crops, cut by the dataset's transform: batches arrive as (N, 5, C, h, w).
    made = DataLoader(ArrayDataset(images, labels, transform=T.FiveCrop(8)), 3)
    by_dataset = evaluate(model, made)
    assert in_loader.loss == pytest.approx(by_dataset.loss, rel=1e-12)
    np.testing.assert_array_equal(in_loader.predictions, by_dataset.predictions)


def test_tta_errors_name_the_setting():
    images, labels = toy_arrays(4)
    loader = DataLoader(ArrayDataset(images, labels), 4)
    with pytest.raises(ValueError, match="needs crop_size"):
        evaluate(tiny_cnn(), loader, tta="tencrop")
    with pytest.raises(ValueError, match="tta must be False, 'tencrop' or 'fivecrop'"):
        evaluate(tiny_cnn(), loader, tta="mirror")


def test_an_ensemble_averages_the_models_softmax():
    images, labels = toy_arrays(12, seed=3)
    images = images.astype(np.float64)
    models = [_linear(64, seed) for seed in (10, 11, 12)]
    result = evaluate_ensemble(models, DataLoader(ArrayDataset(images, labels), 5))
    mean_probs = np.mean([_softmax(_numpy_logits(m, images)) for m in models], axis=0)
    assert result.loss == pytest.approx(-np.mean(np.log(mean_probs[np.arange(12), labels])),
                                        rel=1e-10)
    np.testing.assert_array_equal(result.predictions, mean_probs.argmax(1))
    single = evaluate_ensemble(models[:1], DataLoader(ArrayDataset(images, labels), 5))
    assert single.loss == pytest.approx(
        evaluate(models[0], DataLoader(ArrayDataset(images, labels), 5)).loss, rel=1e-12)
    with pytest.raises(ValueError, match="at least one model"):
        evaluate_ensemble([], DataLoader(ArrayDataset(images, labels), 5))


def test_evaluation_uses_eval_mode_and_restores_each_module():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.9), nn.Linear(64, 3))
    model[1].eval()                                    # a mixed state must come back as it was
    modes = []
    model[2].register_forward_hook(lambda m, i, o: modes.append(m.training))
    images, labels = toy_arrays(6)
    first = evaluate(model, DataLoader(ArrayDataset(images, labels), 3))
    second = evaluate(model, DataLoader(ArrayDataset(images, labels), 3))
    assert modes == [False] * 4 and first.loss == second.loss   # no dropout at evaluation
    assert model.training and model[2].training and not model[1].training


def test_huge_logits_give_a_finite_loss():
    model = _linear(64, 0)
    model[1].weight.data *= 1e4
    images, labels = toy_arrays(9)
    result = evaluate(model, DataLoader(ArrayDataset(images, 2 - labels), 9))   # all wrong-ish
    assert np.isfinite(result.loss) and result.loss > 100


@pytest.mark.parametrize("labels, message", [
    (np.array([0.9, 1.0, 0.0]), "labels must be class indices, an integer array of shape (3,), "
     "got shape (3,) and dtype float64"),
    (np.array([[0], [1], [2]]), "labels must be class indices"),
    (np.array([0, 3, 1]), "labels must lie in [0, 3) (the model's classes), got values from 0 "
     "to 3"),
    (np.array([-1, 0, 1]), "labels must lie in [0, 3)"),
])
def test_labels_that_are_not_class_indices_are_a_value_error(labels, message):
    """They indexed the scores: floats or labels out of range gave NumPy's IndexError (or,
    for -1, silently the last class)."""
    images, _ = toy_arrays(3)
    with pytest.raises(ValueError) as info:
        evaluate(tiny_cnn(), [(images, labels)])
    assert message in str(info.value)
