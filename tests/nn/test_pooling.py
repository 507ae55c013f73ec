"""Pooling layers: defaults (stride = kernel), repr, shapes, torch parity."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.nn._parity import assert_same_as_torch


def test_stride_defaults_to_kernel_size():
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d((2, 3)).stride == (2, 3)
    assert nn.MaxPool2d(3, 2).stride == 2


def test_repr():
    assert repr(nn.MaxPool2d(3, 2)) == \
        "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1, count_include_pad=False)) == \
        "AvgPool2d(kernel_size=3, stride=1, padding=1, count_include_pad=False)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert list(nn.MaxPool2d(2).state_dict()) == []


@pytest.mark.parametrize("make", [nn.MaxPool2d, nn.AvgPool2d])
@pytest.mark.parametrize("args, kwargs, error, match", [
    ((0,), {}, ValueError, "kernel_size must be positive, got 0"),
    ((2.0,), {}, TypeError, "kernel_size must be an int or a pair"),
    ((2,), dict(stride=(1, 0)), ValueError, r"stride must be positive, got \(1, 0\)"),
    ((2,), dict(padding="full"), ValueError, "'full'"),
    ((2,), dict(padding=-1), ValueError, "padding must be non-negative"),
    ((3,), dict(padding=2), ValueError, "Pool2d: padding=2 is more than half the kernel"),
    ((2**31,), {}, ValueError, r"Pool2d: kernel_size must be below 2\*\*31, got 2147483648"),
    ((2,), dict(stride=2**64), ValueError, r"Pool2d: stride must be below 2\*\*31"),
])
def test_settings_are_checked_when_built_like_conv2d(make, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        make(*args, **kwargs)


def test_shapes():
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 3, 13, 13)).astype(
        np.float32))
    assert nn.MaxPool2d(3, 2)(x).shape == (2, 3, 6, 6)  # AlexNet's overlapping pooling
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(x).shape == (2, 3, 6, 6)
    assert nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 7, 7)
    assert nn.MaxPool2d(3, 2, padding="same")(x).shape == (2, 3, 7, 7)
    assert nn.AvgPool2d(2)(x).shape == (2, 3, 6, 6)
    out = nn.AdaptiveAvgPool2d(1)(x)
    assert out.shape == (2, 3, 1, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out.data[..., 0, 0], x.data.mean(axis=(2, 3)), rtol=1e-5)


@pytest.mark.parametrize("make_ours, make_theirs", [
    (lambda nn_: nn_.MaxPool2d(3, 2), None),
    (lambda nn_: nn_.MaxPool2d(2, ceil_mode=True), None),
    (lambda nn_: nn_.MaxPool2d((3, 2), stride=(1, 2), padding=1), None),
    (lambda nn_: nn_.AvgPool2d(3, 2, 1), None),
    (lambda nn_: nn_.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), None),
    (lambda nn_: nn_.AdaptiveAvgPool2d((2, 3)), None),
])
def test_matches_torch(make_ours, make_theirs):
    torch = pytest.importorskip("torch")
    # distinct values: no ties in a max window
    x = np.random.default_rng(2).permutation(np.arange(2 * 3 * 9 * 8, dtype=np.float64))
    x = x.reshape(2, 3, 9, 8) / x.size
    assert_same_as_torch(torch, make_ours(nn), make_ours(torch.nn), x)
