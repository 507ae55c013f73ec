"""CrossEntropyLoss, NLLLoss and MSELoss: equal their functions and torch.nn's modules."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn
from tests.nn._parity import assert_same_as_torch

LOGITS = np.random.default_rng(0).standard_normal((5, 4))
TARGET = np.array([0, 3, 1, 1, 2])


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "sum"},
                                    {"reduction": "none", "label_smoothing": 0.2}])
def test_equals_functional(kwargs):
    logits = minicnn.tensor(LOGITS.astype(np.float32))
    np.testing.assert_array_equal(nn.CrossEntropyLoss(**kwargs)(logits, TARGET).data,
                                  F.cross_entropy(logits, TARGET, **kwargs).data)
    # an integer Tensor works as the target too
    assert nn.CrossEntropyLoss(**kwargs)(logits, minicnn.tensor(TARGET)).shape == \
        ((5,) if kwargs.get("reduction") == "none" else ())


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "sum"},
                                    {"reduction": "none", "label_smoothing": 0.2}])
def test_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    assert_same_as_torch(torch, nn.CrossEntropyLoss(**kwargs),
                         torch.nn.CrossEntropyLoss(**kwargs), LOGITS, target=TARGET)


def test_validation_and_repr():
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None)  # PyTorch's positional `weight` is not silently misread
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == "CrossEntropyLoss()"   # as PyTorch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_and_mse_losses_equal_functional_and_torch(reduction):
    log_probs = F.log_softmax(minicnn.tensor(LOGITS), axis=1)
    np.testing.assert_array_equal(nn.NLLLoss(reduction=reduction)(log_probs, TARGET).data,
                                  F.nll_loss(log_probs, TARGET, reduction=reduction).data)
    prediction = minicnn.tensor(LOGITS)
    goal = np.arange(LOGITS.size, dtype=np.float64).reshape(LOGITS.shape) / 10
    np.testing.assert_array_equal(nn.MSELoss(reduction=reduction)(prediction, goal).data,
                                  F.mse_loss(prediction, goal, reduction=reduction).data)
    torch = pytest.importorskip("torch")
    assert_same_as_torch(torch, nn.NLLLoss(reduction=reduction),
                         torch.nn.NLLLoss(reduction=reduction), log_probs.data, target=TARGET)
    assert_same_as_torch(torch, nn.MSELoss(reduction=reduction),
                         torch.nn.MSELoss(reduction=reduction), LOGITS, target=goal)


@pytest.mark.parametrize("make", [nn.NLLLoss, nn.MSELoss])
def test_nll_and_mse_loss_validation(make):
    with pytest.raises(ValueError, match=f"{make.__name__}: reduction must be 'mean', 'sum' or "
                                         f"'none', got 'avg'"):
        make(reduction="avg")
    with pytest.raises(TypeError):
        make(None)  # PyTorch's positional weight / size_average is not silently misread
    # PyTorch prints losses without their settings: MSELoss(reduction='sum') is "MSELoss()".
    assert repr(make(reduction="sum")) == f"{make.__name__}()"
