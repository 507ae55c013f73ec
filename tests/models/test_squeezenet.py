"""SqueezeNet 1.0 and 1.1: torchvision's keys, shapes and parameter counts, initialisation,
forward and backward at 32x32 (ImageNet size in a ``slow`` test), ceil-mode pooling, and
the whole network against a plain-PyTorch rebuild of torchvision's.
"""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import SqueezeNet
from minicnn.models.blocks import Fire

IMAGENET_COUNTS = {"squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496}
# Fire modules: features index -> (inplanes, squeeze, expand1x1, expand3x3), torchvision's
FIRES = {
    "squeezenet1_0": {3: (96, 16, 64, 64), 4: (128, 16, 64, 64), 5: (128, 32, 128, 128),
                      7: (256, 32, 128, 128), 8: (256, 48, 192, 192), 9: (384, 48, 192, 192),
                      10: (384, 64, 256, 256), 12: (512, 64, 256, 256)},
    "squeezenet1_1": {3: (64, 16, 64, 64), 4: (128, 16, 64, 64), 6: (128, 32, 128, 128),
                      7: (256, 32, 128, 128), 9: (256, 48, 192, 192), 10: (384, 48, 192, 192),
                      11: (384, 64, 256, 256), 12: (512, 64, 256, 256)},
}
POOLS = {"squeezenet1_0": [2, 6, 11], "squeezenet1_1": [2, 5, 8]}
STEMS = {"squeezenet1_0": (96, 3, 7, 7), "squeezenet1_1": (64, 3, 3, 3)}


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _expected_keys(name, num_classes=1000):
    keys = [("features.0.weight", STEMS[name]), ("features.0.bias", (STEMS[name][0],))]
    for index, (inplanes, s, e1, e3) in FIRES[name].items():
        keys += [(f"features.{index}.squeeze.weight", (s, inplanes, 1, 1)),
                 (f"features.{index}.squeeze.bias", (s,)),
                 (f"features.{index}.expand1x1.weight", (e1, s, 1, 1)),
                 (f"features.{index}.expand1x1.bias", (e1,)),
                 (f"features.{index}.expand3x3.weight", (e3, s, 3, 3)),
                 (f"features.{index}.expand3x3.bias", (e3,))]
    return keys + [("classifier.1.weight", (num_classes, 512, 1, 1)),
                   ("classifier.1.bias", (num_classes,))]


@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_imagenet_parameter_count_keys_and_shapes(name):
    minicnn.manual_seed(0)
    model = getattr(models, name)()
    assert _count(model) == IMAGENET_COUNTS[name]
    state = model.state_dict()
    assert [(k, v.shape) for k, v in state.items()] == _expected_keys(name)
    assert len(state) == 52
    assert state["features.12.expand3x3.weight"].shape == (256, 64, 3, 3)  # a hard-coded one
    assert all(v.dtype == np.float32 for v in state.values())
    for index in POOLS[name]:
        pool = model.features[index]
        assert isinstance(pool, nn.MaxPool2d) and pool.ceil_mode
        assert (pool.kernel_size, pool.stride) == (3, 2)
    assert [type(m) for m in model.classifier] == [nn.Dropout, nn.Conv2d, nn.ReLU,
                                                   nn.AdaptiveAvgPool2d]
    model.load_state_dict(state)  # strict round trip


def test_initialisation_is_torchvisions():
    minicnn.manual_seed(0)
    model = models.squeezenet1_0()
    final = model.classifier[1].weight.data  # 512,000 draws of N(0, 0.01^2)
    assert abs(final.std() / 0.01 - 1) < 0.01 and abs(final.mean()) < 1e-4
    # kaiming_uniform_ (fan_in, gain sqrt(2)): U(-b, b) with b = sqrt(6 / fan_in)
    expand = model.features[10].expand3x3.weight.data  # fan_in = 64 * 9
    bound = np.float32(np.sqrt(6 / (64 * 9)))
    assert bound >= np.abs(expand).max() > 0.99 * bound
    assert all(not m.bias.data.any() for m in model.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_forward_backward_at_32x32(name, rng):
    minicnn.manual_seed(0)
    model = getattr(models, name)(num_classes=10)
    model.train()
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == np.float32
    assert (out.data >= 0).all()  # a ReLU before the global average: non-negative logits
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.features[0].weight.grad.data).sum() > 0


def test_ceil_mode_grids_at_224():
    """Caffe's rounding keeps a last partial window: 109 -> 54 (floor would also give 54),
    54 -> 27 (floor: 26), 27 -> 13."""
    model = models.squeezenet1_0()
    model.eval()
    x = minicnn.tensor(np.zeros((1, 3, 224, 224), dtype=np.float32))
    sizes = []
    with minicnn.no_grad():
        for layer in model.features:
            x = layer(x)
            if isinstance(layer, (nn.MaxPool2d, nn.Conv2d)):
                sizes.append(x.shape[-1])
    assert sizes == [109, 54, 27, 13]
    assert all(isinstance(model.features[i], Fire) for i in FIRES["squeezenet1_0"])


def test_bad_version():
    with pytest.raises(ValueError, match="version must be '1_0' or '1_1', got '1_2'"):
        SqueezeNet("1_2")


@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_matches_torch(name, rng):
    """torchvision's SqueezeNet rebuilt in plain torch.nn (its source, without the weights
    API): identical key list and shapes, and the same logits in eval mode (float64)."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchFire(tnn.Module):
        def __init__(self, inplanes, squeeze, e1, e3):
            super().__init__()
            self.squeeze = tnn.Conv2d(inplanes, squeeze, 1)
            self.squeeze_activation = tnn.ReLU(inplace=True)
            self.expand1x1 = tnn.Conv2d(squeeze, e1, 1)
            self.expand1x1_activation = tnn.ReLU(inplace=True)
            self.expand3x3 = tnn.Conv2d(squeeze, e3, 3, padding=1)
            self.expand3x3_activation = tnn.ReLU(inplace=True)

        def forward(self, x):
            x = self.squeeze_activation(self.squeeze(x))
            return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                              self.expand3x3_activation(self.expand3x3(x))], 1)

    def pool():
        return tnn.MaxPool2d(3, 2, ceil_mode=True)

    stem = (tnn.Conv2d(3, 96, 7, stride=2) if name == "squeezenet1_0"
            else tnn.Conv2d(3, 64, 3, stride=2))
    layers = [stem, tnn.ReLU(inplace=True), pool()]
    for index in range(3, 13):
        layers.append(TorchFire(*FIRES[name][index]) if index in FIRES[name] else pool())
    torch.manual_seed(0)
    features = tnn.Sequential(*layers)
    classifier = tnn.Sequential(tnn.Dropout(0.5), tnn.Conv2d(512, 10, 1), tnn.ReLU(inplace=True),
                                tnn.AdaptiveAvgPool2d((1, 1)))
    reference = tnn.Module()
    reference.features, reference.classifier = features, classifier
    reference = reference.double().eval()
    with torch.no_grad():
        classifier[1].bias.uniform_(0.5, 1.0)  # keep the final ReLU mostly open

    model = getattr(models, name)(num_classes=10).double()
    torch_state = reference.state_dict()
    assert [(k, tuple(v.shape)) for k, v in torch_state.items()] == \
        [(k, v.shape) for k, v in model.state_dict().items()]
    model.load_state_dict({k: v.numpy() for k, v in torch_state.items()})
    model.eval()
    # 39x39 ends the features on a 2x2 grid, with partial (ceil-mode) windows on the way
    x = rng.standard_normal((2, 3, 39, 39))
    with torch.no_grad():
        expected = torch.flatten(classifier(features(torch.from_numpy(x))), 1).numpy()
    with minicnn.no_grad():
        out = model(minicnn.tensor(x)).data
    assert (expected > 0).mean() > 0.5
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_imagenet_size_forward_backward(name, rng):
    minicnn.manual_seed(0)
    model = getattr(models, name)()
    model.train()
    x = minicnn.tensor(rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape == (1, 512, 13, 13)
    out = model(x)
    assert out.shape == (1, 1000)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name, smallest", [("squeezenet1_0", 21), ("squeezenet1_1", 17)])
def test_smallest_input_equals_torchvisions(name, smallest):
    # ceil-mode pooling lets the last window overhang the edge, as in PyTorch
    model = getattr(models, name)(num_classes=3).eval()
    with minicnn.no_grad():
        assert model(minicnn.tensor(np.zeros((1, 3, smallest, smallest), np.float32))).shape == (1, 3)
        with pytest.raises(ValueError, match="max_pool2d"):
            model(minicnn.tensor(np.zeros((1, 3, smallest - 1, smallest - 1), np.float32)))
