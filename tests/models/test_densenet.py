"""DenseNet-121: torchvision's keys, shapes and 7,978,856 parameters, its initialisation,
loading its legacy checkpoint keys, forward and backward at a small size, and a whole
DenseNet against torchvision's (written in plain torch.nn) with the same weights.

The hard-coded keys and shapes are those of torchvision's ``densenet121``
(torchvision/models/densenet.py); the count is torchvision's published one.
"""

import re
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import DenseNet

from .test_blocks_densenet import _torch_dense_modules
from .torch_oracle import assert_same_as_torch, load_twin, randomise_batch_norms

KEYS = [("features.conv0.weight", (64, 3, 7, 7)), ("features.norm0.running_var", (64,)),
        ("features.denseblock1.denselayer1.norm1.weight", (64,)),
        ("features.denseblock1.denselayer1.conv1.weight", (128, 64, 1, 1)),
        ("features.denseblock1.denselayer1.conv2.weight", (32, 128, 3, 3)),
        ("features.denseblock1.denselayer6.conv1.weight", (128, 224, 1, 1)),
        ("features.transition1.norm.weight", (256,)),
        ("features.transition1.conv.weight", (128, 256, 1, 1)),
        ("features.denseblock2.denselayer12.norm1.running_mean", (480,)),
        ("features.transition2.conv.weight", (256, 512, 1, 1)),
        ("features.denseblock3.denselayer24.conv1.weight", (128, 992, 1, 1)),
        ("features.transition3.conv.weight", (512, 1024, 1, 1)),
        ("features.denseblock4.denselayer16.conv2.weight", (32, 128, 3, 3)),
        ("features.norm5.num_batches_tracked", ()), ("classifier.weight", (1000, 1024)),
        ("classifier.bias", (1000,))]


@pytest.fixture(scope="module")
def densenet121():
    minicnn.manual_seed(0)
    return models.densenet121()


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_keys_and_shapes(densenet121):
    assert _count(densenet121) == 7_978_856
    state = densenet121.state_dict()
    # 120 convolutions and a linear layer; 121 batch norms with 5 entries each
    assert len(state) == 120 + 2 + 121 * 5 == 727
    for key, shape in KEYS:
        assert state[key].shape == shape, key
    keys = list(state)
    assert keys[0] == "features.conv0.weight" and keys[-2:] == ["classifier.weight",
                                                                "classifier.bias"]
    assert [name for name, _ in densenet121.features.named_children()] == [
        "conv0", "norm0", "relu0", "pool0", "denseblock1", "transition1", "denseblock2",
        "transition2", "denseblock3", "transition3", "denseblock4", "norm5"]


def test_initialisation_follows_torchvision(densenet121):
    assert (densenet121.classifier.bias.data == 0).all()
    assert np.abs(densenet121.classifier.weight.data).max() <= 1 / np.sqrt(1024)
    weight = densenet121.features.transition3.conv.weight.data  # fan_in 1024
    assert weight.std() == pytest.approx(np.sqrt(2 / 1024), rel=0.01)
    for m in densenet121.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.data == 1).all() and (m.bias.data == 0).all()


def test_loads_torchvisions_legacy_checkpoint_keys(densenet121):
    """torchvision's published file (2017) says ``denselayer1.norm.1.weight`` for
    ``denselayer1.norm1.weight`` and has no ``num_batches_tracked``; the model renames such
    keys as torchvision does, and loads the file strictly."""
    legacy = OrderedDict(
        (re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", key), value)
        for key, value in densenet121.state_dict().items()
        if not key.endswith("num_batches_tracked"))
    assert "features.denseblock1.denselayer1.norm.1.weight" in legacy
    assert "features.denseblock4.denselayer16.conv.2.weight" in legacy
    assert "features.transition1.norm.weight" in legacy  # transitions were never renamed
    minicnn.manual_seed(1)
    other = models.densenet121()
    other.load_state_dict(legacy)
    loaded = other.state_dict()
    for key, value in densenet121.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            np.testing.assert_array_equal(loaded[key], value, err_msg=key)


@pytest.mark.slow
def test_forward_backward_small_batch(densenet121):
    """Batch 2 at 32x32: the last dense block sees 1x1, batch norm two values per channel.
    (Slow: 120 layers take seconds even so; the narrow DenseNet below runs by default.)"""
    model = densenet121.train()
    model.zero_grad()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32))
                       .astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.shape == (2, 1000) and out.dtype == np.float32
    out.backward(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32))
    assert np.isfinite(x.grad.data).all()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert np.abs(model.features.conv0.weight.grad.data).sum() > 0


def test_get_model_and_input_shape():
    model = models.get_model("densenet121", num_classes=7)
    assert isinstance(model, DenseNet) and model.classifier.weight.shape == (7, 1024)
    assert models.input_shape("densenet121") == (3, 224, 224)


def _torch_densenet(torch, growth_rate, block_config, num_init_features, bn_size, num_classes):
    """torchvision's DenseNet (torchvision/models/densenet.py) in plain torch.nn."""
    tnn, tF = torch.nn, torch.nn.functional
    TorchDenseBlock, TorchTransition = _torch_dense_modules(torch)

    class TorchDenseNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(OrderedDict([
                ("conv0", tnn.Conv2d(3, num_init_features, 7, 2, 3, bias=False)),
                ("norm0", tnn.BatchNorm2d(num_init_features)), ("relu0", tnn.ReLU(inplace=True)),
                ("pool0", tnn.MaxPool2d(3, 2, 1))]))
            num_features = num_init_features
            for i, num_layers in enumerate(block_config):
                self.features.add_module(f"denseblock{i + 1}", TorchDenseBlock(
                    num_layers, num_features, bn_size, growth_rate))
                num_features += num_layers * growth_rate
                if i != len(block_config) - 1:
                    self.features.add_module(f"transition{i + 1}",
                                             TorchTransition(num_features, num_features // 2))
                    num_features //= 2
            self.features.add_module("norm5", tnn.BatchNorm2d(num_features))
            self.classifier = tnn.Linear(num_features, num_classes)

        def forward(self, x):
            out = tF.adaptive_avg_pool2d(tF.relu(self.features(x)), (1, 1))
            return self.classifier(torch.flatten(out, 1))

    return TorchDenseNet()


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_densenet_matches_torchvisions(training, rng):
    """A narrow DenseNet (every part of DenseNet-121, fewer and thinner layers): the same
    logits, input gradient, parameter gradients and updated statistics as torch's."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = dict(growth_rate=4, block_config=(2, 3, 2, 2), num_init_features=8, bn_size=2,
                  num_classes=5)
    reference = _torch_densenet(torch, **config).double()
    randomise_batch_norms(torch, reference)
    model = DenseNet(**config).double()
    load_twin(torch, model, reference)
    reference.train(training), model.train(training)
    assert_same_as_torch(torch, model, reference, rng.standard_normal((2, 3, 40, 36)), rng)


@pytest.mark.slow
def test_imagenet_size_forward_backward(densenet121):
    model = densenet121.train()
    model.zero_grad()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, 3, 224, 224))
                       .astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.shape == (1, 1000)
    nn.CrossEntropyLoss()(out, np.array([3])).backward()
    assert x.grad.shape == (1, 3, 224, 224) and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())
