"""CrossEntropyLoss: equals F.cross_entropy and torch.nn.CrossEntropyLoss."""

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
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == \
        "CrossEntropyLoss(label_smoothing=0.1)"
