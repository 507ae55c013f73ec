"""MobileNet-v1 and -v2: parameter counts (v1 from the paper's layer table, v2
torchvision's), keys and shapes, width multipliers, initialisation, forward and backward at
32x32 (ImageNet size in ``slow`` tests), v1's small-input variant, and v2 against a
plain-PyTorch rebuild of torchvision's network.
"""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import MobileNetV1, MobileNetV2
from minicnn.models.blocks import DepthwiseSeparableConv, InvertedResidual, ReLU6
from minicnn.models.mobilenet import make_divisible

BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
# the paper's table 1: (output channels, stride) of the 13 depthwise-separable blocks
V1_TABLE = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
    [(1024, 2), (1024, 1)]


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _v1_count(alpha, num_classes=1000):
    """MobileNet-v1's parameters from the layer table: no convolution has a bias, each batch
    norm learns 2 per channel, the fc layer has a bias."""
    c = int(32 * alpha)
    total = 27 * c + 2 * c  # stem 3x3x3 convolution + BN
    for out, _ in V1_TABLE:
        out = int(out * alpha)
        total += 9 * c + 2 * c + c * out + 2 * out  # depthwise + BN, pointwise + BN
        c = out
    return total + c * num_classes + num_classes


# --------------------------------------------------------------------------- MobileNet-v1


def test_v1_parameter_count_keys_and_shapes():
    minicnn.manual_seed(0)
    model = models.mobilenet_v1()
    assert _count(model) == _v1_count(1.0) == 4_231_976
    state = model.state_dict()
    keys = list(state)
    assert len(keys) == 6 + 13 * 12 + 2
    assert keys[:7] == ["features.0.0.weight"] + [f"features.0.1.{k}" for k in BN_KEYS] + \
        ["features.1.depthwise.weight"]
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    for key, shape in [("features.0.0.weight", (32, 3, 3, 3)),
                       ("features.1.depthwise.weight", (32, 1, 3, 3)),
                       ("features.1.pointwise.weight", (64, 32, 1, 1)),
                       ("features.6.depthwise_bn.running_var", (256,)),
                       ("features.6.pointwise.weight", (512, 256, 1, 1)),
                       ("features.13.pointwise_bn.num_batches_tracked", ()),
                       ("fc.weight", (1000, 1024))]:
        assert state[key].shape == shape, key
    strides = [block.depthwise.stride[0] for block in model.features[1:]]
    assert strides == [s for _, s in V1_TABLE]
    assert model.features[0][0].stride == (2, 2) and isinstance(model.features[0][2], nn.ReLU)
    assert all(isinstance(b, DepthwiseSeparableConv) for b in model.features[1:])
    model.load_state_dict(state)  # strict round trip


@pytest.mark.parametrize("alpha, published", [(0.75, 2.6e6), (0.5, 1.3e6), (0.25, 0.5e6)])
def test_v1_width_multiplier(alpha, published):
    """The paper's table 6 rounds these to 2.6, 1.3 and 0.5 million."""
    model = models.mobilenet_v1(width_mult=alpha)
    assert _count(model) == _v1_count(alpha)
    assert abs(_count(model) - published) < 0.05e6
    assert model.features[1].depthwise.weight.shape == (int(32 * alpha), 1, 3, 3)
    assert model.fc.weight.shape == (1000, int(1024 * alpha))


def test_v1_bad_width():
    with pytest.raises(ValueError, match="width_mult must be a positive number, got 0"):
        models.mobilenet_v1(width_mult=0)
    with pytest.raises(ValueError, match="width_mult=0.01 leaves no channel of 32"):
        models.mobilenet_v1(width_mult=0.01)


def test_v1_forward_backward_at_32x32(rng):
    minicnn.manual_seed(0)
    model = models.mobilenet_v1(num_classes=10)
    model.train()
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape == (2, 1024, 1, 1)
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.features[0][0].weight.grad.data).sum() > 0


def test_v1_small_input_downsamples_four_times(rng):
    minicnn.manual_seed(0)
    model = models.mobilenet_v1(num_classes=10, small_input=True)
    assert model.features[0][0].stride == (1, 1)
    # the same keys and shapes as the ImageNet network
    reference = models.mobilenet_v1(num_classes=10)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == \
        [(k, v.shape) for k, v in reference.state_dict().items()]
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32))
    assert model.features(x).shape == (2, 1024, 2, 2)
    out = model(x)
    assert out.shape == (2, 10)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert np.abs(model.features[0][0].weight.grad.data).sum() > 0


# --------------------------------------------------------------------------- MobileNet-v2


def test_v2_parameter_count_keys_and_shapes():
    minicnn.manual_seed(0)
    model = models.mobilenet_v2()
    assert _count(model) == 3_504_872
    state = model.state_dict()
    assert len(state) == 314  # torchvision's len(mobilenet_v2().state_dict())
    for key, shape in [("features.0.0.weight", (32, 3, 3, 3)),
                       ("features.0.1.num_batches_tracked", ()),
                       ("features.1.conv.0.0.weight", (32, 1, 3, 3)),
                       ("features.1.conv.1.weight", (16, 32, 1, 1)),
                       ("features.1.conv.2.running_mean", (16,)),
                       ("features.2.conv.0.0.weight", (96, 16, 1, 1)),
                       ("features.2.conv.1.0.weight", (96, 1, 3, 3)),
                       ("features.2.conv.2.weight", (24, 96, 1, 1)),
                       ("features.9.conv.1.1.running_var", (384,)),
                       ("features.17.conv.2.weight", (320, 960, 1, 1)),
                       ("features.18.0.weight", (1280, 320, 1, 1)),
                       ("features.18.1.bias", (1280,)),
                       ("classifier.1.weight", (1000, 1280)), ("classifier.1.bias", (1000,))]:
        assert state[key].shape == shape, key
    blocks = list(model.features)[1:18]
    assert all(isinstance(b, InvertedResidual) for b in blocks)
    assert [b.stride for b in blocks] == [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1]
    assert sum(b.use_res_connect for b in blocks) == 10
    assert isinstance(model.features[18][2], ReLU6)
    assert model.classifier[0].p == 0.2
    model.load_state_dict(state)  # strict round trip


def test_make_divisible_is_torchvisions():
    assert make_divisible(32 * 0.5) == 16 and make_divisible(1280) == 1280
    assert make_divisible(24 * 0.35) == 8   # never below the divisor
    assert make_divisible(96 * 0.35) == 32  # 33.6 rounds to 32 (within 10%)
    assert make_divisible(60) == 64 and make_divisible(44) == 48  # halves round up
    assert make_divisible(19, 8) == 24      # 16 would be more than 10% below 19
    assert make_divisible(10, 1) == 10


def test_v2_initialisation_is_torchvisions():
    minicnn.manual_seed(0)
    model = models.mobilenet_v2()
    conv = model.features[18][0].weight.data  # fan_out = 1280
    assert abs(conv.std() / np.sqrt(2 / 1280) - 1) < 0.01
    fc = model.classifier[1].weight.data
    assert abs(fc.std() / 0.01 - 1) < 0.01 and not model.classifier[1].bias.data.any()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all((m.weight.data == 1).all() and not m.bias.data.any() for m in bns)


def test_v2_forward_backward_at_32x32(rng):
    minicnn.manual_seed(0)
    model = models.mobilenet_v2(num_classes=10, width_mult=0.5)
    model.train()
    x = minicnn.tensor(rng.standard_normal((2, 3, 32, 32)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (2, 10) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.features[0][0].weight.grad.data).sum() > 0


def test_v2_bad_settings():
    with pytest.raises(ValueError, match="non-empty list of \\[t, c, n, s\\] rows"):
        models.mobilenet_v2(inverted_residual_setting=[[6, 24, 2]])
    with pytest.raises(ValueError, match="width_mult must be a positive number, got -1"):
        models.mobilenet_v2(width_mult=-1)


def _torch_mobilenet_v2(torch, width_mult, num_classes):
    """torchvision's MobileNetV2 in plain torch.nn (its source: ConvNormActivation with
    ReLU6, InvertedResidual, _make_divisible)."""
    tnn = torch.nn

    def divisible(v, divisor=8):
        new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
        return new_v + divisor if new_v < 0.9 * v else new_v

    def conv_bn(inp, oup, kernel_size=3, stride=1, groups=1):
        return tnn.Sequential(tnn.Conv2d(inp, oup, kernel_size, stride, (kernel_size - 1) // 2,
                                         groups=groups, bias=False),
                              tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))

    class Block(tnn.Module):
        def __init__(self, inp, oup, stride, t):
            super().__init__()
            hidden = int(round(inp * t))
            self.use_res_connect = stride == 1 and inp == oup
            layers = [conv_bn(inp, hidden, 1)] if t != 1 else []
            layers += [conv_bn(hidden, hidden, stride=stride, groups=hidden),
                       tnn.Conv2d(hidden, oup, 1, 1, 0, bias=False), tnn.BatchNorm2d(oup)]
            self.conv = tnn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            channels = divisible(32 * width_mult)
            last = divisible(1280 * max(1.0, width_mult))
            features = [conv_bn(3, channels, stride=2)]
            for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                               [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
                out = divisible(c * width_mult)
                for i in range(n):
                    features.append(Block(channels, out, s if i == 0 else 1, t))
                    channels = out
            features.append(conv_bn(channels, last, 1))
            self.features = tnn.Sequential(*features)
            self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(last, num_classes))

        def forward(self, x):
            x = tnn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
            return self.classifier(torch.flatten(x, 1))

    return Net()


@pytest.mark.parametrize("width_mult", [1.0, 0.35, 1.4])
def test_v2_matches_torch(width_mult, rng):
    """Identical key lists and shapes at three widths (rounding), and at width 1.0 the same
    logits in eval mode after loading torch's state_dict (non-trivial BN statistics)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = _torch_mobilenet_v2(torch, width_mult, num_classes=10).double()
    model = models.mobilenet_v2(num_classes=10, width_mult=width_mult).double()
    assert [(k, tuple(v.shape)) for k, v in reference.state_dict().items()] == \
        [(k, v.shape) for k, v in model.state_dict().items()]
    if width_mult != 1.0:
        return
    with torch.no_grad():
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.2, 0.5)
                m.running_mean.uniform_(-0.2, 0.2), m.running_var.uniform_(0.5, 2.0)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    reference.eval(), model.eval()
    x = rng.standard_normal((2, 3, 32, 32))
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    with minicnn.no_grad():
        out = model(minicnn.tensor(x)).data
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-12)


def test_registered_by_name():
    assert isinstance(models.get_model("mobilenet_v1", num_classes=3, width_mult=0.25),
                      MobileNetV1)
    assert isinstance(models.get_model("mobilenet_v2", num_classes=3, width_mult=0.25),
                      MobileNetV2)


# --------------------------------------------------------------------------- ImageNet size


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_imagenet_size_forward_backward(name, rng):
    minicnn.manual_seed(0)
    model = getattr(models, name)()
    model.train()
    x = minicnn.tensor(rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape[-2:] == (7, 7)
    out = model(x)
    assert out.shape == (1, 1000)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None for p in model.parameters())
