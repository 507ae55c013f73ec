"""Conv2d and ConvTranspose2d: constructors (PyTorch's signatures and defaults), padding forms
and padding modes, repr, torch parity."""

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
    with pytest.raises(ValueError, match=r"padding_mode must be one of \['zeros', 'reflect', "
                       r"'replicate', 'circular'\], but got padding_mode='mirror'"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    double = nn.Conv2d(3, 4, 3, device="cpu", dtype=minicnn.float64)
    assert double.weight.dtype == np.float64 and double.bias.dtype == np.float64
    with pytest.raises(ValueError, match="Conv2d: device.*CPU only"):
        nn.Conv2d(3, 4, 3, device="cuda")


# ----------------------------------------------------------------------------- padding_mode


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular", "zeros"])
@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(3, 5), padding=(1, 2), stride=2),
    dict(kernel_size=3, padding=2, dilation=2, groups=2),
    dict(kernel_size=(2, 3), padding="same"),
], ids=str)
def test_padding_modes_match_torch(padding_mode, kwargs):
    # PyTorch: F.pad(x, (left, right, top, bottom), mode=padding_mode), then no padding
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 4, 6, 7))
    args = dict(in_channels=4, out_channels=6, padding_mode=padding_mode, **kwargs)
    theirs = torch.nn.Conv2d(**args)
    ours = nn.Conv2d(**args)
    assert repr(ours) == repr(theirs)
    assert_same_as_torch(torch, ours, theirs, x)


def test_reflect_padding_mode_reads_the_mirrored_cells():
    conv = nn.Conv2d(1, 1, (1, 3), padding=(0, 1), padding_mode="reflect", bias=False)
    conv.weight.data[...] = [1.0, 0.0, 0.0]  # each output is its left neighbour
    x = minicnn.tensor(np.array([[[[1.0, 2.0, 3.0]]]], np.float32))
    np.testing.assert_array_equal(conv(x).data.ravel(), [2.0, 1.0, 2.0])


def test_reflect_padding_mode_needs_padding_below_the_size():
    conv = nn.Conv2d(1, 1, 5, padding=3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding size should be less than"):
        conv(minicnn.tensor(np.ones((1, 1, 3, 3), np.float32)))


# ----------------------------------------------------------------------------- ConvTranspose2d


def test_conv_transpose_weight_shape_and_defaults():
    layer = nn.ConvTranspose2d(6, 4, 3)
    assert layer.weight.shape == (6, 4, 3, 3) and layer.bias.shape == (4,)
    assert (layer.kernel_size, layer.stride, layer.padding, layer.output_padding,
            layer.dilation, layer.groups) == ((3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1)
    grouped = nn.ConvTranspose2d(6, 4, (2, 3), groups=2, bias=False)
    assert grouped.weight.shape == (6, 2, 2, 3) and grouped.bias is None
    # PyTorch's init: fan_in = weight.shape[1] * KH * KW = 2 * 2 * 3 (the out channels' side)
    minicnn.manual_seed(0)
    wide = nn.ConvTranspose2d(64, 2, 2)
    bound = 1 / np.sqrt(2 * 2 * 2)
    assert np.abs(wide.weight.data).max() <= bound and np.abs(wide.bias.data).max() <= bound
    assert np.abs(wide.weight.data).max() > 0.9 * bound  # 512 draws reach near the bound


@pytest.mark.parametrize("kwargs, expected", [
    (dict(in_channels=2, out_channels=3, kernel_size=3, stride=2),
     "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2))"),
    (dict(in_channels=2, out_channels=4, kernel_size=(3, 2), stride=2, padding=1,
          output_padding=1, groups=2, bias=False, dilation=2),
     "ConvTranspose2d(2, 4, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), "
     "dilation=(2, 2), output_padding=(1, 1), groups=2, bias=False)"),
])
def test_conv_transpose_repr_is_pytorchs(kwargs, expected):
    assert repr(nn.ConvTranspose2d(**kwargs)) == expected
    torch = pytest.importorskip("torch")
    assert repr(torch.nn.ConvTranspose2d(**kwargs)) == expected


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=4, kernel_size=4, stride=2, padding=1),  # DCGAN
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 3), output_padding=(1, 2),
         groups=2),
    dict(in_channels=2, out_channels=2, kernel_size=3, dilation=3, output_padding=2, groups=2,
         bias=False),
    dict(in_channels=3, out_channels=5, kernel_size=1),
], ids=str)
def test_conv_transpose_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, kwargs["in_channels"], 5, 4))
    assert_same_as_torch(torch, nn.ConvTranspose2d(**kwargs), torch.nn.ConvTranspose2d(**kwargs),
                         x)


def test_conv_transpose_output_size_picks_the_output_padding():
    # a stride-2 Conv2d maps both 9 and 10 rows to 4 (5, 5): output_size says which to undo
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2)
    x = minicnn.tensor(np.ones((1, 2, 4, 4), np.float32))
    assert layer(x).shape == (1, 3, 9, 9)
    assert layer(x, output_size=(10, 9)).shape == (1, 3, 10, 9)
    assert layer(x, output_size=[1, 3, 10, 10]).shape == (1, 3, 10, 10)
    with pytest.raises(ValueError, match=r"requested an output size of \(11, 9\), but valid sizes "
                                         r"range from \[9, 9\] to \[10, 10\] \(for an input "
                                         r"of \[4, 4\]\)"):
        layer(x, output_size=(11, 9))
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"requested an output size of \(11, 9\), but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2)(torch.ones(1, 2, 4, 4), output_size=(11, 9))


def test_conv_transpose_validation():
    with pytest.raises(ValueError, match='only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="groups=2 must divide both in_channels=3"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="output_padding must be non-negative"):
        nn.ConvTranspose2d(3, 4, 3, output_padding=-1)
    with pytest.raises(ValueError, match="output padding must be smaller than either stride"):
        nn.ConvTranspose2d(3, 4, 3, output_padding=1)(minicnn.tensor(np.ones((1, 3, 4, 4),
                                                                             np.float32)))
    double = nn.ConvTranspose2d(3, 4, 3, dtype=minicnn.float64)
    assert double.weight.dtype == np.float64
    assert double(minicnn.tensor(np.ones((1, 3, 4, 4)))).dtype == np.float64
