"""The loss modules: equal their functions and torch.nn's modules (weights as buffers)."""

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
        nn.CrossEntropyLoss(None, None)  # PyTorch's positional size_average is not misread
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
    with pytest.raises(TypeError):  # PyTorch's positional size_average is not misread
        make(None) if make is nn.MSELoss else make(None, None)
    # PyTorch prints losses without their settings: MSELoss(reduction='sum') is "MSELoss()".
    assert repr(make(reduction="sum")) == f"{make.__name__}()"


WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])


@pytest.mark.parametrize("make, kwargs", [
    ("CrossEntropyLoss", {"weight": WEIGHT}),
    ("CrossEntropyLoss", {"weight": WEIGHT, "ignore_index": 1, "label_smoothing": 0.1}),
    ("CrossEntropyLoss", {"ignore_index": 3, "reduction": "sum"}),
    ("NLLLoss", {"weight": WEIGHT, "ignore_index": 0}),
    ("NLLLoss", {"weight": WEIGHT, "reduction": "none"}),
])
def test_class_losses_with_weight_and_ignore_index_match_torch(make, kwargs):
    torch = pytest.importorskip("torch")
    theirs_kwargs = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    ours = getattr(nn, make)(**kwargs)
    # the weight is a buffer, as PyTorch's: in the state dict, converted by .double()
    assert list(ours.state_dict()) == (["weight"] if "weight" in kwargs else [])
    assert_same_as_torch(torch, ours, getattr(torch.nn, make)(**theirs_kwargs), LOGITS,
                         target=TARGET)


def test_cross_entropy_loss_weight_is_positional_as_pytorch():
    logits = minicnn.tensor(LOGITS)
    np.testing.assert_array_equal(nn.CrossEntropyLoss(WEIGHT)(logits, TARGET).data,
                                  F.cross_entropy(logits, TARGET, WEIGHT).data)
    model = nn.CrossEntropyLoss(WEIGHT.astype(np.float32)).double()
    assert model.weight.dtype == np.float64


RNG = np.random.default_rng(3)
X, Y = RNG.uniform(-2, 2, (4, 3)), RNG.uniform(-2, 2, (4, 3))
PROBS, BITS = RNG.uniform(0.05, 0.95, (4, 3)), RNG.integers(0, 2, (4, 3)).astype(np.float64)
LOG_P = np.log(RNG.dirichlet(np.ones(3), 4))
TARGET_P = RNG.dirichlet(np.ones(3), 4)


@pytest.mark.parametrize("make, kwargs, x, y", [
    ("L1Loss", {"reduction": "sum"}, X, Y),
    ("SmoothL1Loss", {"beta": 0.5}, X, Y),
    ("HuberLoss", {"delta": 0.7, "reduction": "none"}, X, Y),
    ("BCELoss", {"weight": np.array([1.0, 2.0, 0.5])}, PROBS, BITS),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([3.0, 1.0, 0.5])}, X, BITS),
    ("BCEWithLogitsLoss", {"weight": np.full((4, 1), 2.0), "reduction": "sum"}, X, BITS),
    ("KLDivLoss", {"reduction": "batchmean"}, LOG_P, TARGET_P),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, LOG_P, np.log(TARGET_P)),
])
def test_new_losses_equal_functional_and_torch(make, kwargs, x, y):
    ours = getattr(nn, make)(**kwargs)
    assert repr(ours) == f"{make}()"  # PyTorch prints losses without their settings
    arrays = {k for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    assert sorted(ours.state_dict()) == sorted(arrays)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, make)(**{k: torch.tensor(v) if k in arrays else v
                                        for k, v in kwargs.items()})
    assert_same_as_torch(torch, ours, theirs, x, target=y)


def test_new_loss_validation():
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be 'mean', 'batchmean', "
                                         "'sum' or 'none', got 'avg'"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="BCELoss: reduction must be 'mean', 'sum' or 'none'"):
        nn.BCELoss(reduction="batchmean")
    assert nn.HuberLoss("sum", 2.0).delta == 2.0  # PyTorch's positional order
    for make in (nn.L1Loss, nn.SmoothL1Loss, nn.KLDivLoss):
        with pytest.raises(TypeError):
            make(None)  # PyTorch's positional size_average is not misread
