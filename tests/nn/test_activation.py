"""Activation layers, Flatten, Dropout and CrossEntropyLoss: thin modules over functional."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn
from tests.nn._parity import assert_same_as_torch

X = minicnn.tensor(np.array([[-2.0, -0.5, 0.5, 3.0]], dtype=np.float32))


@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), F.relu), (nn.ReLU6(), F.relu6), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
])
def test_activation_equals_functional(module, fn):
    out = module(X)
    np.testing.assert_array_equal(out.data, fn(X).data)
    assert out.dtype == np.float32 and list(module.parameters()) == []


def test_reprs_match_torch():
    modules = ["ReLU()", "ReLU(inplace=True)", "ReLU6()", "ReLU6(inplace=True)",
               "LeakyReLU(negative_slope=0.2)", "Sigmoid()", "Tanh()",
               "Dropout(p=0.3, inplace=False)", "Flatten(start_dim=1, end_dim=-1)", "Identity()",
               "MSELoss()", "NLLLoss()"]
    for text in modules:
        assert repr(eval("nn." + text)) == text
    torch = pytest.importorskip("torch")
    for text in modules:
        assert repr(eval("torch.nn." + text)) == text


def test_relu6_matches_torch_at_and_between_its_kinks():
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 0.0, 0.5, 3.0], [5.9, 6.0, 6.5, 9.0]])
    assert_same_as_torch(torch, nn.ReLU6(), torch.nn.ReLU6(), x)


def test_leaky_relu_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert_same_as_torch(torch, nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1), x)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_modules_match_torch(name, dim):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 4)) * 5
    assert_same_as_torch(torch, getattr(nn, name)(dim=dim), getattr(torch.nn, name)(dim=dim), x)
    assert repr(getattr(nn, name)(dim=dim)) == repr(getattr(torch.nn, name)(dim=dim))


def test_softmax_without_dim_takes_pytorchs_legacy_choice_and_warns():
    x = minicnn.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        rows = nn.Softmax()(x)                  # 2-D: dim 1
    np.testing.assert_allclose(rows.data.sum(axis=1), [1.0, 1.0])
    with pytest.warns(UserWarning, match="log_softmax"):
        nn.LogSoftmax()(x)


def test_softmax2d_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    assert_same_as_torch(torch, nn.Softmax2d(), torch.nn.Softmax2d(), x)
