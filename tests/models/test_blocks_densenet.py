"""Dense blocks and transitions: shapes, torchvision's keys, float64 gradient checks in
training mode, dropout, and torchvision's layers (written in plain torch.nn) as the oracle."""

from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models.blocks import DenseBlock, DenseLayer, Transition

from .torch_oracle import assert_same_as_torch, load_twin, randomise_batch_norms

BN = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def _randomise_batch_norms(module, rng):
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias.data[...] = rng.uniform(-0.5, 0.5, m.bias.shape)


def test_dense_block_grows_by_growth_rate_per_layer(rng):
    block = DenseBlock(num_layers=3, num_input_features=5, bn_size=2, growth_rate=4)
    x = minicnn.tensor(rng.standard_normal((2, 5, 6, 7)).astype(np.float32))
    out = block(x)
    assert out.shape == (2, 5 + 3 * 4, 6, 7) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data[:, :5], x.data)  # the input comes through first
    layers = list(block.children())
    assert [layer.conv1.in_channels for layer in layers] == [5, 9, 13]
    assert all(layer.conv1.out_channels == 8 and layer.conv2.out_channels == 4
               for layer in layers)


def test_each_layer_reads_all_features_before_it(rng):
    """Layer 3 reads the input and the new features of layers 1 and 2 (dense connectivity,
    not a chain): the first 6 channels of the block's output."""
    block = DenseBlock(num_layers=3, num_input_features=2, bn_size=1, growth_rate=2).double()
    block.eval()
    seen = []
    block.denselayer3.register_forward_pre_hook(lambda m, args: seen.append(args[0].data))
    with minicnn.no_grad():
        out = block(minicnn.tensor(rng.standard_normal((1, 2, 4, 4))))
    assert seen[0].shape == (1, 6, 4, 4)
    np.testing.assert_array_equal(seen[0], out.data[:, :6])


def test_keys_are_torchvisions():
    layer_keys = ([f"norm1.{k}" for k in BN] + ["conv1.weight"] + [f"norm2.{k}" for k in BN]
                  + ["conv2.weight"])
    assert list(DenseLayer(6, 4, 2).state_dict()) == layer_keys
    assert list(DenseBlock(2, 6, 2, 4).state_dict()) == (
        [f"denselayer1.{k}" for k in layer_keys] + [f"denselayer2.{k}" for k in layer_keys])
    transition = Transition(8, 4)
    assert list(transition.state_dict()) == [f"norm.{k}" for k in BN] + ["conv.weight"]
    assert [type(m).__name__ for m in transition] == ["BatchNorm2d", "ReLU", "Conv2d",
                                                      "AvgPool2d"]


def test_transition_halves_the_grid(rng):
    x = minicnn.tensor(rng.standard_normal((2, 8, 7, 6)).astype(np.float32))
    assert Transition(8, 4)(x).shape == (2, 4, 3, 3)


@pytest.mark.parametrize("build, shape", [
    (lambda: DenseBlock(2, 3, bn_size=2, growth_rate=2), (2, 3, 4, 3)),
    (lambda: Transition(4, 2), (2, 4, 4, 5)),
], ids=["dense-block", "transition"])
def test_gradcheck_in_training_mode(build, shape):
    minicnn.manual_seed(1)
    module = build().double()
    rng = np.random.default_rng(2)
    _randomise_batch_norms(module, rng)
    x = minicnn.tensor(rng.standard_normal(shape), requires_grad=True)
    relu_inputs = []
    for m in module.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_pre_hook(lambda m, args: relu_inputs.append(args[0].data))
    with minicnn.no_grad():
        module(x)
    assert min(np.abs(a).min() for a in relu_inputs) > 1e-4, "seed puts a ReLU on its kink"
    params = list(module.parameters())
    assert minicnn.gradcheck(lambda x, *ps: module(x), [x, *params])


def test_drop_rate_is_dropout_on_the_new_features_in_training_only(rng):
    minicnn.manual_seed(3)
    layer = DenseLayer(4, growth_rate=8, bn_size=2, drop_rate=0.5)
    x = minicnn.tensor(rng.standard_normal((2, 4, 5, 5)).astype(np.float32))
    layer.eval()
    expected = layer(x).data
    layer.train()
    for m in layer.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # running statistics in both passes: only dropout differs
    dropped = layer(x).data
    zeros = dropped == 0
    assert 0.35 < zeros.mean() < 0.65
    np.testing.assert_allclose(dropped[~zeros], 2 * expected[~zeros], rtol=1e-5)


def _torch_dense_modules(torch):
    """torchvision's _DenseLayer, _DenseBlock and _Transition (torchvision/models/
    densenet.py), in plain torch.nn and without the memory-efficient path."""
    tnn, tF = torch.nn, torch.nn.functional

    class TorchDenseLayer(tnn.Module):
        def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
            super().__init__()
            self.norm1 = tnn.BatchNorm2d(num_input_features)
            self.relu1 = tnn.ReLU(inplace=True)
            self.conv1 = tnn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
            self.norm2 = tnn.BatchNorm2d(bn_size * growth_rate)
            self.relu2 = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1,
                                    bias=False)
            self.drop_rate = drop_rate

        def forward(self, features):
            out = self.conv1(self.relu1(self.norm1(torch.cat(features, 1))))
            out = self.conv2(self.relu2(self.norm2(out)))
            return tF.dropout(out, p=self.drop_rate, training=self.training)

    class TorchDenseBlock(tnn.ModuleDict):
        def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate=0.0):
            super().__init__()
            for i in range(num_layers):
                self.add_module(f"denselayer{i + 1}", TorchDenseLayer(
                    num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate))

        def forward(self, x):
            features = [x]
            for layer in self.values():
                features.append(layer(features))
            return torch.cat(features, 1)

    class TorchTransition(tnn.Sequential):
        def __init__(self, num_input_features, num_output_features):
            super().__init__(OrderedDict([
                ("norm", tnn.BatchNorm2d(num_input_features)), ("relu", tnn.ReLU(inplace=True)),
                ("conv", tnn.Conv2d(num_input_features, num_output_features, 1, bias=False)),
                ("pool", tnn.AvgPool2d(2, 2))]))

    return TorchDenseBlock, TorchTransition


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_dense_block_and_transition_match_torch(training, rng):
    torch = pytest.importorskip("torch")
    TorchDenseBlock, TorchTransition = _torch_dense_modules(torch)
    torch.manual_seed(0)
    reference = torch.nn.Sequential(TorchDenseBlock(3, 4, 2, 3), TorchTransition(13, 6)).double()
    randomise_batch_norms(torch, reference)
    module = nn.Sequential(DenseBlock(3, 4, 2, 3), Transition(13, 6)).double()
    load_twin(torch, module, reference)
    reference.train(training), module.train(training)
    assert_same_as_torch(torch, module, reference, rng.standard_normal((2, 4, 6, 5)), rng)
