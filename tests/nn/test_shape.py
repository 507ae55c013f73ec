"""Flatten and Identity."""

import numpy as np

import minicnn
from minicnn import nn


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
