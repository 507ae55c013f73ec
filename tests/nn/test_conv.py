"""Conv2d: constructor (PyTorch's signature and defaults), padding forms, repr, torch parity."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.nn._parity import assert_same_as_torch


def test_weight_shape_and_defaults():
    conv = nn.Conv2d(6, 4, 3)
    assert conv.weight.shape == (4, 6, 3, 3) and conv.bias.shape == (4,)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups) == \
        ((3, 3), (1, 1), (0, 0), (1, 1), 1)
    grouped = nn.Conv2d(6, 4, (1, 7), stride=2, padding=(0, 3), groups=2, bias=False)
    assert grouped.weight.shape == (4, 3, 1, 7) and grouped.bias is None
    assert list(grouped.state_dict()) == ["weight"]
    assert nn.Conv2d(8, 8, 3, groups=8).weight.shape == (8, 1, 3, 3)  # depthwise


@pytest.mark.parametrize("kwargs, expected", [
    (dict(in_channels=3, out_channels=64, kernel_size=3, padding=1),
     "Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"),
    (dict(in_channels=3, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False),
     "Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)"),
    (dict(in_channels=32, out_channels=32, kernel_size=3, groups=32, dilation=2),
     "Conv2d(32, 32, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2), groups=32)"),
    (dict(in_channels=4, out_channels=8, kernel_size=(1, 7), padding="same"),
     "Conv2d(4, 8, kernel_size=(1, 7), stride=(1, 1), padding=same)"),
    (dict(in_channels=4, out_channels=8, kernel_size=3, padding="valid"),  # unquoted too
     "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=valid)"),
])
def test_repr_is_pytorchs(kwargs, expected):
    assert repr(nn.Conv2d(**kwargs)) == expected
    torch = pytest.importorskip("torch")
    assert repr(torch.nn.Conv2d(**kwargs)) == expected


def test_padding_forms():
    x = minicnn.tensor(np.ones((1, 2, 9, 9), dtype=np.float32))
    assert nn.Conv2d(2, 3, 3, padding="same")(x).shape == (1, 3, 9, 9)
    assert nn.Conv2d(2, 3, 4, stride=2, padding="same")(x).shape == (1, 3, 5, 5)
    assert nn.Conv2d(2, 3, 3, padding="valid")(x).shape == (1, 3, 7, 7)
    asym = nn.Conv2d(2, 3, 3, padding=((0, 1), (2, 0)))
    assert asym.padding == ((0, 1), (2, 0))
    assert asym(x).shape == (1, 3, 8, 9)
    assert nn.Conv2d(2, 3, 3, padding=((1, 1), (2, 2))).padding == (1, 2)


def test_validation():
    with pytest.raises(ValueError, match="groups=2 must divide both in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be a positive int"):
        nn.Conv2d(3, 0, 3)
    with pytest.raises(ValueError, match="'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(3, 4, (3, 3, 3))
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match="channels"):
        conv(minicnn.tensor(np.ones((1, 5, 8, 8), dtype=np.float32)))


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=(1, 3), stride=(2, 1), groups=2),
    dict(in_channels=4, out_channels=4, kernel_size=3, dilation=2, groups=4, bias=False),
    dict(in_channels=3, out_channels=2, kernel_size=(3, 1), padding="same"),
])
def test_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, kwargs["in_channels"], 7, 6))
    assert_same_as_torch(torch, nn.Conv2d(**kwargs), torch.nn.Conv2d(**kwargs), x)


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((0, 4, 3), {}, ValueError, "Conv2d: in_channels must be a positive int, got 0"),
    ((3, 0, 3), {}, ValueError, "Conv2d: out_channels must be a positive int, got 0"),
    ((3, 4, 0), {}, ValueError, "Conv2d: kernel_size must be positive, got 0"),
    ((3, 4, (3, 0)), {}, ValueError, r"Conv2d: kernel_size must be positive, got \(3, 0\)"),
    ((3, 4, 3), dict(stride=2**31), ValueError, r"Conv2d: stride must be below 2\*\*31"),
    ((3, 4, 3), dict(dilation=2**64), ValueError, r"Conv2d: dilation must be below 2\*\*31"),
    ((3, 4, 3), dict(padding=(1, 2**40)), ValueError, r"Conv2d: padding must be below 2\*\*31"),
])
def test_impossible_layers_are_refused_when_built(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        nn.Conv2d(*args, **kwargs)


def test_parameters_must_have_the_input_dtype():
    conv = nn.Conv2d(2, 3, 3)
    with pytest.raises(TypeError, match="conv2d: weight has dtype float32 but conv2d: x has "
                                        "dtype float64"):
        conv(minicnn.tensor(np.ones((1, 2, 5, 5))))
    with pytest.raises(TypeError, match="conv2d: x has dtype float16"):
        conv.to(np.float16)(minicnn.tensor(np.ones((1, 2, 5, 5), np.float16)))
    assert conv.double()(minicnn.tensor(np.ones((1, 2, 5, 5)))).dtype == np.float64


def test_pytorchs_padding_mode_and_factory_arguments():
    # CS231n: nn.Conv2d(3, 32, 5, padding='same', padding_mode='zeros')
    layer = nn.Conv2d(3, 4, 5, padding="same", padding_mode="zeros")
    assert layer(minicnn.tensor(np.zeros((1, 3, 8, 8), np.float32))).shape == (1, 4, 8, 8)
    with pytest.raises(ValueError, match="padding_mode must be 'zeros'.*'reflect'"):
        nn.Conv2d(3, 4, 3, padding_mode="reflect")
    double = nn.Conv2d(3, 4, 3, device="cpu", dtype=minicnn.float64)
    assert double.weight.dtype == np.float64 and double.bias.dtype == np.float64
    with pytest.raises(ValueError, match="Conv2d: device.*CPU only"):
        nn.Conv2d(3, 4, 3, device="cuda")
