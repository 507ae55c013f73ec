"""Flatten, Unflatten, ZeroPad2d and Identity."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.nn._parity import assert_same_as_torch


def test_flatten_keeps_the_batch_axis():
    x = minicnn.tensor(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5),
                       requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (2, 60)
    np.testing.assert_array_equal(out.data, x.data.reshape(2, 60))
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    out.backward(np.arange(120.0).reshape(2, 60))
    np.testing.assert_array_equal(x.grad, np.arange(120.0).reshape(2, 3, 4, 5))


def test_identity_returns_its_input_and_ignores_arguments():
    x = minicnn.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    identity = nn.Identity(54, unused_argument=0.1)
    assert identity(x) is x
    assert list(identity.parameters()) == [] and repr(identity) == "Identity()"


def test_unflatten_and_zero_pad_match_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 12, dtype=np.float64).reshape(2, 12)
    np.testing.assert_array_equal(nn.Unflatten(1, (3, -1))(minicnn.tensor(x)).data,
                                  torch.nn.Unflatten(1, (3, -1))(torch.tensor(x)).numpy())
    images = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for padding in (2, (1, 2, 3, 0), (-1, 2, 0, -2)):  # negative widths crop
        assert_same_as_torch(torch, nn.ZeroPad2d(padding), torch.nn.ZeroPad2d(padding), images)
        assert repr(nn.ZeroPad2d(padding)) == repr(torch.nn.ZeroPad2d(padding))
    with pytest.raises(ValueError, match="ZeroPad2d: padding"):
        nn.ZeroPad2d((1, 2))
