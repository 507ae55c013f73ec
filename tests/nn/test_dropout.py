"""Dropout: active in training only, repeatable under manual_seed, p validated."""

import numpy as np
import pytest

import minicnn
from minicnn import nn


def test_dropout_train_and_eval():
    x = minicnn.tensor(np.ones((50, 40), dtype=np.float32))
    drop = nn.Dropout(0.25)
    minicnn.manual_seed(0)
    out = drop(x)
    kept = out.data != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(out.data[kept], 1 / 0.75, rtol=1e-6)
    minicnn.manual_seed(0)
    np.testing.assert_array_equal(drop(x).data, out.data)  # repeatable
    drop.eval()
    assert np.array_equal(drop(x).data, x.data)


def test_dropout_validates_p():
    with pytest.raises(ValueError, match="p must be a probability in \\[0, 1\\), got 1.5"):
        nn.Dropout(1.5)
    # the layer and F.dropout agree: p = 1 (zero everything, scale by 1 / 0) is refused by both
    for p in (1, 1.0):
        with pytest.raises(ValueError, match=f"Dropout: p must be a probability in \\[0, 1\\), "
                                             f"got {p!r}"):
            nn.Dropout(p)
    assert nn.Dropout(np.float32(0.5)).p == 0.5


def test_dropout2d_drops_whole_channels():
    x = minicnn.tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    minicnn.manual_seed(0)
    layer = nn.Dropout2d(0.25)
    y = layer(x)
    per_channel = y.data.reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))   # one value a channel
    assert set(np.unique(y.data)) == {0.0, 1 / 0.75} and y.dtype == np.float64
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad.data), y.data)     # d(x * mask)/dx = mask
    assert layer.eval()(x) is x and repr(layer) == "Dropout2d(p=0.25, inplace=False)"
    with pytest.raises(ValueError, match="Dropout2d: expected a"):
        nn.Dropout2d().train()(minicnn.tensor(np.ones((2, 3))))
