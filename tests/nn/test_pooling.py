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
    (lambda nn_: nn_.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3)), None),
    (lambda nn_: nn_.MaxPool2d(2, dilation=2, ceil_mode=True), None),
    (lambda nn_: nn_.AdaptiveMaxPool2d((4, None)), None),
    (lambda nn_: nn_.AdaptiveMaxPool2d(5), None),
])
def test_matches_torch(make_ours, make_theirs):
    torch = pytest.importorskip("torch")
    # distinct values: no ties in a max window
    x = np.random.default_rng(2).permutation(np.arange(2 * 3 * 9 * 8, dtype=np.float64))
    x = x.reshape(2, 3, 9, 8) / x.size
    assert_same_as_torch(torch, make_ours(nn), make_ours(torch.nn), x)


def test_new_pooling_reprs():
    assert repr(nn.MaxPool2d(3, 2, 1, dilation=2, return_indices=True)) == \
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=False)"
    assert repr(nn.AdaptiveMaxPool2d((2, None))) == "AdaptiveMaxPool2d(output_size=(2, None))"
    assert repr(nn.MaxUnpool2d(2)) == \
        "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool2d((3, 2), 1, (1, 0))) == \
        "MaxUnpool2d(kernel_size=(3, 2), stride=(1, 1), padding=(1, 0))"


def test_max_pool_return_indices_then_unpool_equals_torch():
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(3).standard_normal((2, 3, 9, 7))
    upstream = np.arange(2 * 3 * 9 * 7, dtype=np.float64).reshape(2, 3, 9, 7)
    x, x_t = minicnn.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    pooled, indices = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    pooled_t, indices_t = torch.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x_t)
    out = nn.MaxUnpool2d(3, 2, 1)(pooled, indices, output_size=x.shape)
    out_t = torch.nn.MaxUnpool2d(3, 2, 1)(pooled_t, indices_t, output_size=x_t.shape)
    out.backward(upstream)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(indices.data, indices_t.numpy())
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    np.testing.assert_array_equal(x.grad, x_t.grad.numpy())


def test_adaptive_max_pool_module_returns_indices():
    x = minicnn.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
    out, indices = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(out.data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(indices.data[0, 0], [[5, 7], [13, 15]])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dilation=0), ValueError, "MaxPool2d: dilation must be positive"),
    (dict(dilation=(1, 2, 3)), TypeError, "MaxPool2d: dilation"),
])
def test_max_pool_dilation_is_checked_when_built(kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.MaxPool2d(2, **kwargs)
