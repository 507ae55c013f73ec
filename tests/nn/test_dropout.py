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
