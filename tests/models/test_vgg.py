"""VGG: torchvision's keys, shapes and parameter counts, initialisation, forward and
backward at 32x32 (ImageNet size in ``slow`` tests), and the small-input (CIFAR) variant.

The hard-coded keys and shapes are those of torchvision's models of the same name
(torchvision/models/vgg.py); the counts are the published ones. Drawing 138 million
weights takes seconds, so the fast tests build VGG-11 and VGG-16 once each with PyTorch's
layer defaults (``init_weights=False``: the same structure, one random draw instead of
two), check torchvision's initialisation on the small-input variants (the same code
path), and build the other six ImageNet networks only in a ``slow`` test.
"""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import VGG
from minicnn.models.vgg import CONFIGS, make_layers

IMAGENET_COUNTS = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
                   "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
                   "vgg19": 143_667_240, "vgg19_bn": 143_678_248}
# Linear(25088, 4096) + Linear(4096, 4096) + Linear(4096, 1000), with biases
CLASSIFIER_COUNT = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000

# (key, shape) samples: first, inside, last convolution, and the classifier
IMAGENET_KEYS = {
    "vgg11": [("features.0.weight", (64, 3, 3, 3)), ("features.3.weight", (128, 64, 3, 3)),
              ("features.8.bias", (256,)), ("features.18.weight", (512, 512, 3, 3)),
              ("classifier.0.weight", (4096, 25088)), ("classifier.3.weight", (4096, 4096)),
              ("classifier.6.weight", (1000, 4096)), ("classifier.6.bias", (1000,))],
    "vgg16": [("features.0.weight", (64, 3, 3, 3)), ("features.2.weight", (64, 64, 3, 3)),
              ("features.5.weight", (128, 64, 3, 3)), ("features.14.weight", (256, 256, 3, 3)),
              ("features.28.weight", (512, 512, 3, 3)), ("features.28.bias", (512,)),
              ("classifier.0.weight", (4096, 25088)), ("classifier.0.bias", (4096,)),
              ("classifier.6.weight", (1000, 4096))],
}
# torchvision's convolution slots in ``features`` (the others hold ReLU, BN and pooling)
CONV_SLOTS = {"vgg11": [0, 3, 6, 8, 11, 13, 16, 18],
              "vgg16": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
              "vgg16_bn": [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]}


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def imagenet_models():
    """One instance of each ImageNet network asked for, built once (layer defaults)."""
    built = {}

    def get(name):
        if name not in built:
            minicnn.manual_seed(0)
            built[name] = getattr(models, name)(init_weights=False)
        return built[name]

    return get


@pytest.mark.parametrize("name", ["vgg11", "vgg16"])
def test_imagenet_parameter_count_keys_and_shapes(imagenet_models, name):
    model = imagenet_models(name)
    assert _count(model) == IMAGENET_COUNTS[name]
    state = model.state_dict()
    for key, shape in IMAGENET_KEYS[name]:
        assert key in state, key
        assert state[key].shape == shape, key
    conv_keys = [f"features.{i}.{p}" for i in CONV_SLOTS[name] for p in ("weight", "bias")]
    classifier_keys = [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert list(state) == conv_keys + classifier_keys
    assert all(v.dtype == np.float32 for v in state.values())
    assert model.avgpool.output_size == (7, 7)
    assert [type(m) for m in model.classifier] == [nn.Linear, nn.ReLU, nn.Dropout] * 2 + \
        [nn.Linear]


def test_initialisation_is_torchvisions():
    minicnn.manual_seed(0)
    model = models.vgg11(num_classes=100, small_input=True)
    conv = model.features[3]  # 64 -> 128: fan_out = 128 * 9
    assert abs(conv.weight.data.std() / np.sqrt(2 / (128 * 9)) - 1) < 0.02
    assert abs(conv.weight.data.mean()) < 1e-3
    assert all(not m.bias.data.any() for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear)))
    fc = model.classifier[0].weight.data  # 51,200 draws
    assert abs(fc.std() / 0.01 - 1) < 0.02 and abs(fc.mean()) < 2e-4
    # without init_weights, the layers keep PyTorch's defaults: U(-1/sqrt(fan_in), ...)
    minicnn.manual_seed(0)
    plain = models.vgg11(num_classes=100, small_input=True, init_weights=False)
    bound = np.float32(1 / np.sqrt(512))
    assert bound >= np.abs(plain.classifier[0].weight.data).max() > 0.99 * bound


def test_forward_backward_at_32x32(imagenet_models, rng):
    """At 32x32 the five pools leave 1x1, which the adaptive pooling spreads over 7x7."""
    model = imagenet_models("vgg11")
    model.train()
    model.zero_grad()
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (2, 1000) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.features[0].weight.grad.data).sum() > 0
    model.zero_grad()
    model.load_state_dict(model.state_dict())  # strict round trip


def test_small_input_variant(rng):
    minicnn.manual_seed(0)
    model = models.vgg16(num_classes=10, small_input=True)
    # the features' parameters, plus Linear(512, 10)
    assert _count(model) == IMAGENET_COUNTS["vgg16"] - CLASSIFIER_COUNT + 512 * 10 + 10 \
        == 14_719_818
    state = model.state_dict()
    assert list(state)[-2:] == ["classifier.0.weight", "classifier.0.bias"]
    assert state["classifier.0.weight"].shape == (10, 512)
    assert [k for k in state if k.startswith("features")] == [
        f"features.{i}.{p}" for i in CONV_SLOTS["vgg16"] for p in ("weight", "bias")]
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape == (2, 512, 1, 1)
    model.train()
    out = model(x)
    assert out.shape == (2, 10)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert all(p.grad is not None for p in model.parameters())
    assert np.abs(model.features[0].weight.grad.data).sum() > 0
    # global average pooling: larger inputs run too
    model.eval()
    with minicnn.no_grad():
        assert model(minicnn.tensor(np.zeros((1, 3, 64, 48), dtype=np.float32))).shape == (1, 10)


def test_batch_norm_variant_keys_and_training(rng):
    minicnn.manual_seed(0)
    model = models.vgg16_bn(num_classes=10, small_input=True)
    assert _count(model) == IMAGENET_COUNTS["vgg16_bn"] - CLASSIFIER_COUNT + 5130
    state = model.state_dict()
    assert [k for k in state if k.endswith(".weight") and state[k].ndim == 4] == [
        f"features.{i}.weight" for i in CONV_SLOTS["vgg16_bn"]]
    assert state["features.1.running_mean"].shape == (64,)
    assert state["features.41.num_batches_tracked"].dtype == np.int64
    assert [type(m) for m in model.features][:7] == [
        nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d]
    assert model.features[1].weight.data.min() == 1 and not model.features[1].bias.data.any()
    model.train()
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32))
    out = model(x)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert int(model.features[1].num_batches_tracked) == 1
    assert np.abs(model.features[0].weight.grad.data).sum() > 0


def test_make_layers_follows_the_config_table():
    assert [v for v in CONFIGS["D"] if v != "M"] == [64, 64, 128, 128, 256, 256, 256, 512, 512,
                                                     512, 512, 512, 512]
    assert all(config.count("M") == 5 and config[-1] == "M" for config in CONFIGS.values())
    assert [sum(1 for v in CONFIGS[c] if v != "M") for c in "ABDE"] == [8, 10, 13, 16]
    layers = make_layers([4, "M", 8], batch_norm=True)
    assert [type(m) for m in layers] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d,
                                         nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert layers[4].weight.shape == (8, 4, 3, 3) and layers[4].padding == (1, 1)
    # any features ending in 512 channels
    model = VGG(nn.Sequential(nn.Conv2d(3, 512, 1)), num_classes=3, small_input=True)
    assert model(minicnn.tensor(np.ones((2, 3, 4, 4), dtype=np.float32))).shape == (2, 3)


def test_every_name_is_registered():
    assert set(IMAGENET_COUNTS) <= set(models.__all__)


@pytest.mark.slow
def test_other_imagenet_parameter_counts():
    for name in ["vgg11_bn", "vgg13", "vgg13_bn", "vgg16_bn", "vgg19", "vgg19_bn"]:
        model = getattr(models, name)(init_weights=False)
        assert _count(model) == IMAGENET_COUNTS[name], name
        del model


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg11", "vgg16"])
def test_imagenet_size_forward_backward(imagenet_models, name, rng):
    model = imagenet_models(name)
    model.train()
    model.zero_grad()
    x = minicnn.tensor(rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (1, 1000)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
