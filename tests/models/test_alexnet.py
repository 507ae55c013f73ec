"""AlexNet: torchvision's keys, shapes and 61,100,840 parameters; forward and backward at
64x64 (ImageNet size in a ``slow`` test); the paper's local response normalisation option.

The hard-coded keys and shapes are those of torchvision's ``alexnet``
(torchvision/models/alexnet.py).
"""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import AlexNet, alexnet

TORCHVISION_KEYS = [
    ("features.0.weight", (64, 3, 11, 11)), ("features.0.bias", (64,)),
    ("features.3.weight", (192, 64, 5, 5)), ("features.3.bias", (192,)),
    ("features.6.weight", (384, 192, 3, 3)), ("features.6.bias", (384,)),
    ("features.8.weight", (256, 384, 3, 3)), ("features.8.bias", (256,)),
    ("features.10.weight", (256, 256, 3, 3)), ("features.10.bias", (256,)),
    ("classifier.1.weight", (4096, 9216)), ("classifier.1.bias", (4096,)),
    ("classifier.4.weight", (4096, 4096)), ("classifier.4.bias", (4096,)),
    ("classifier.6.weight", (1000, 4096)), ("classifier.6.bias", (1000,)),
]
CONV_SLOTS_WITH_LRN = [0, 4, 8, 10, 12]


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def model():
    """One ImageNet AlexNet for the module (61 million parameters take seconds to draw)."""
    minicnn.manual_seed(0)
    return alexnet()


def test_keys_shapes_and_parameter_count(model):
    state = model.state_dict()
    assert [(k, v.shape) for k, v in state.items()] == TORCHVISION_KEYS
    assert _count(model) == 61_100_840
    assert all(v.dtype == np.float32 for v in state.values())
    model.load_state_dict(state)  # strict round trip


def test_layers_are_torchvisions(model):
    assert [type(m) for m in model.features] == [
        nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d,
        nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    assert model.features[0].stride == (4, 4) and model.features[0].padding == (2, 2)
    assert all(model.features[i].kernel_size == 3 and model.features[i].stride == 2
               for i in (2, 5, 12))  # overlapping pooling
    assert model.avgpool.output_size == (6, 6)
    assert [type(m) for m in model.classifier] == [
        nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Linear]
    assert model.classifier[0].p == model.classifier[3].p == 0.5


def test_default_initialisation_is_pytorchs(model):
    """torchvision's AlexNet keeps PyTorch's per-layer defaults: U(-1/sqrt(fan_in), ...)."""
    weight = model.classifier[1].weight.data
    bound = np.float32(1 / np.sqrt(9216))
    assert bound >= np.abs(weight).max() > 0.99 * bound
    assert abs(weight.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(model.features[0].bias.data).max() <= 1 / np.sqrt(3 * 11 * 11)


def test_forward_backward_at_64x64(model, rng):
    """64x64 is just above the 63x63 minimum: the features end at 1x1, the adaptive pooling
    spreads that pixel over 6x6."""
    model.train()
    model.zero_grad()
    x = minicnn.tensor(rng.standard_normal((2, 3, 64, 64)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape == (2, 256, 1, 1)
    out = model(x)
    assert out.shape == (2, 1000) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.features[0].weight.grad.data).sum() > 0
    model.eval()
    with minicnn.no_grad():
        first, second = model(x), model(x)
    np.testing.assert_array_equal(first.data, second.data)  # no dropout in eval mode
    model.zero_grad()


def test_smallest_input_is_63(model):
    model.eval()
    with minicnn.no_grad():
        assert model(minicnn.tensor(np.zeros((1, 3, 63, 63), dtype=np.float32))).shape == \
            (1, 1000)
        with pytest.raises(ValueError, match="max_pool2d"):
            model(minicnn.tensor(np.zeros((1, 3, 62, 62), dtype=np.float32)))


def test_lrn_option_shifts_indices_not_parameters(rng):
    minicnn.manual_seed(0)
    model = models.get_model("alexnet", num_classes=10, dropout=0.25, lrn=True)
    assert isinstance(model, AlexNet) and models.alexnet is alexnet
    assert model.classifier[0].p == model.classifier[3].p == 0.25
    assert _count(model) == 61_100_840 - 990 * 4097
    assert [k for k in model.state_dict() if k.startswith("features")] == [
        f"features.{i}.{p}" for i in CONV_SLOTS_WITH_LRN for p in ("weight", "bias")]
    assert [type(m) for m in model.features][:8] == [
        nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d,
        nn.Conv2d, nn.ReLU, nn.LocalResponseNorm, nn.MaxPool2d]
    lrn = model.features[2]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 5e-4, 0.75, 2.0)
    # torchvision's weights (the default's indices) do not load into the LRN variant
    with pytest.raises(nn.StateDictError, match="features.3.weight"):
        model.load_state_dict(alexnet(num_classes=10).state_dict())
    x = minicnn.tensor(rng.standard_normal((2, 3, 64, 64)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (2, 10)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert np.abs(model.features[0].weight.grad.data).sum() > 0 and np.isfinite(x.grad.data).all()


def test_lrn_layer_is_the_papers_formula(rng):
    """b_c = a_c / (k + alpha * sum over the 5 channels around c of a^2) ^ beta, with the
    paper's k = 2, alpha = 1e-4, beta = 0.75 (no division by the window size)."""
    from minicnn.models.alexnet import PAPER_LRN
    a = rng.uniform(0, 30, (2, 7, 3, 4))  # post-ReLU activations, large enough to matter
    squares = np.pad(a ** 2, ((0, 0), (2, 2), (0, 0), (0, 0)))
    window_sums = sum(squares[:, i:i + 7] for i in range(5))  # channels c-2 .. c+2
    expected = a / (2.0 + 1e-4 * window_sums) ** 0.75
    out = nn.LocalResponseNorm(**PAPER_LRN)(minicnn.tensor(a)).data
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert np.abs(out - a / 2.0 ** 0.75).max() > 0.01  # the sum does contribute


@pytest.mark.slow
def test_imagenet_size_forward_backward(model, rng):
    model.train()
    model.zero_grad()
    x = minicnn.tensor(rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
                       requires_grad=True)
    assert model.features(x).shape == (1, 256, 6, 6)
    out = model(x)
    assert out.shape == (1, 1000)
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
