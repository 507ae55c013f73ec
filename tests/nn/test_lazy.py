"""Lazy layers take their input size from the first batch and become the ordinary layer."""

import numpy as np
import pytest

import minicnn
from minicnn import nn


def _d2l_lenet():
    # d2l's LeNet chapter, as written for PyTorch.
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(),
        nn.LazyLinear(84), nn.Sigmoid(),
        nn.LazyLinear(10))


def test_the_first_batch_builds_the_layers_and_they_become_ordinary_layers():
    net = _d2l_lenet()
    assert list(net.parameters()) == []
    out = net(minicnn.tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
    assert out.shape == (2, 10)
    assert type(net[0]) is nn.Conv2d and net[0].weight.shape == (6, 1, 5, 5)
    assert type(net[3]) is nn.Conv2d and net[3].weight.shape == (16, 6, 5, 5)
    assert type(net[7]) is nn.Linear and net[7].weight.shape == (120, 400)
    assert sum(p.data.size for p in net.parameters()) == 61706  # LeNet-5's count
    assert list(net.state_dict())[:2] == ["0.weight", "0.bias"]


def test_initialisation_is_the_ordinary_layers():
    minicnn.manual_seed(3)
    lazy = nn.LazyLinear(5)
    lazy(minicnn.tensor(np.zeros((1, 7), dtype=np.float32)))
    minicnn.manual_seed(3)
    eager = nn.Linear(7, 5)
    np.testing.assert_array_equal(lazy.weight.data, eager.weight.data)
    np.testing.assert_array_equal(lazy.bias.data, eager.bias.data)


def test_mode_and_hooks_set_before_the_first_call_are_kept():
    bn = nn.LazyBatchNorm2d(momentum=0.5)
    bn.eval()
    seen = []
    bn.register_forward_hook(lambda module, args, output: seen.append(output.shape))
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32))
    bn(x)
    assert type(bn) is nn.BatchNorm2d and not bn.training and bn.momentum == 0.5
    assert seen == [(4, 3, 2, 2)]
    np.testing.assert_array_equal(bn.running_mean, np.zeros(3))  # eval: statistics untouched


def test_lazy_layers_match_pytorch_shapes_and_types():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LazyConv2d(4, 3, padding=1)
    theirs(torch.zeros(1, 2, 5, 5))
    mine = nn.LazyConv2d(4, 3, padding=1)
    mine(minicnn.tensor(np.zeros((1, 2, 5, 5), dtype=np.float32)))
    assert tuple(theirs.weight.shape) == mine.weight.shape
    assert type(theirs).__name__ == type(mine).__name__ == "Conv2d"


def test_lazy_conv_takes_pytorchs_padding_mode():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LazyConv2d(4, 3, padding=1, padding_mode="reflect")
    theirs(torch.zeros(1, 2, 5, 5))
    mine = nn.LazyConv2d(4, 3, padding=1, padding_mode="reflect")
    mine(minicnn.tensor(np.zeros((1, 2, 5, 5), dtype=np.float32)))
    assert repr(mine) == repr(theirs) and mine.padding_mode == "reflect"
