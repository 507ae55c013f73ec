"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d: PyTorch's arguments, printout and
results (values and input gradients, with torch as the oracle)."""

import numpy as np
import pytest

import minicnn
from minicnn import nn


def _layers(torch, name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bilinear")),
    ("Upsample", ((7, 3),), dict(mode="bilinear", align_corners=True)),
    ("Upsample", (), dict(size=9, mode="nearest")),
    ("Upsample", (), dict(scale_factor=(2, 0.5))),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)),
    ("UpsamplingBilinear2d", (), dict(size=(8, 2))),   # align_corners=True, PyTorch's choice
    ("UpsamplingBilinear2d", (), dict(scale_factor=2)),
], ids=str)
def test_matches_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = _layers(torch, name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
    xt = torch.tensor(x.data, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_printout_and_attributes():
    layer = nn.Upsample(scale_factor=2)
    assert repr(layer) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert layer.scale_factor == 2.0 and layer.size is None and layer.align_corners is None
    assert repr(nn.UpsamplingBilinear2d(size=3)) == "UpsamplingBilinear2d(size=3, mode='bilinear')"
    assert nn.UpsamplingBilinear2d(size=3).align_corners is True
    assert list(layer.state_dict()) == []


def test_errors_come_from_interpolate():
    x = minicnn.tensor(np.ones((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        nn.Upsample()(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        nn.Upsample(scale_factor=2, align_corners=True)(x)
