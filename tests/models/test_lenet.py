"""LeNet-5: keys, shapes and the 61,706 parameters, both flavours, forward and backward at
its native 1x32x32, a PyTorch oracle, and that a few Adam steps fit a small batch."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import models, nn
from minicnn.models import LeNet5, lenet5

KEYS = [("features.0.weight", (6, 1, 5, 5)), ("features.0.bias", (6,)),
        ("features.3.weight", (16, 6, 5, 5)), ("features.3.bias", (16,)),
        ("classifier.0.weight", (120, 400)), ("classifier.0.bias", (120,)),
        ("classifier.2.weight", (84, 120)), ("classifier.2.bias", (84,)),
        ("classifier.4.weight", (10, 84)), ("classifier.4.bias", (10,))]


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("variant", ["modern", "1998"])
def test_keys_shapes_and_parameter_count(variant):
    model = lenet5(variant=variant)
    assert [(k, v.shape) for k, v in model.state_dict().items()] == KEYS
    # C1 156 + C3 2,416 + F5 48,120 + F6 10,164 + output 850
    assert _count(model) == 156 + 2416 + 48120 + 10164 + 850 == 61_706
    assert all(v.dtype == np.float32 for v in model.state_dict().values())


def test_variants_choose_activation_and_pooling():
    modern, classic = lenet5(variant="modern"), lenet5(variant="1998")
    assert [type(m) for m in modern.features] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d] * 2
    assert [type(m) for m in classic.features] == [nn.Conv2d, nn.Tanh, nn.AvgPool2d] * 2
    assert [type(m) for m in modern.classifier] == [nn.Linear, nn.ReLU] * 2 + [nn.Linear]
    assert [type(m) for m in classic.classifier] == [nn.Linear, nn.Tanh] * 2 + [nn.Linear]
    assert modern.features[2].kernel_size == 2 and classic.features[5].stride == 2
    # the same parameters: weights of one flavour load into the other
    classic.load_state_dict(modern.state_dict())


@pytest.mark.parametrize("variant", ["modern", "1998"])
def test_forward_backward_at_32x32(variant, rng):
    minicnn.manual_seed(0)
    model = lenet5(num_classes=7, variant=variant)
    assert model.classifier[4].weight.shape == (7, 84) and _count(model) == 61_706 - 3 * 85
    x = minicnn.tensor(rng.standard_normal((4, 1, 32, 32)).astype(np.float32),
                       requires_grad=True)
    out = model(x)
    assert out.shape == (4, 7) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and x.grad.dtype == np.float32
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
        assert np.abs(param.grad.data).sum() > 0, key
    model.load_state_dict(model.state_dict())  # strict round trip


def test_feature_shapes_per_layer(rng):
    model = lenet5()
    x = minicnn.tensor(rng.standard_normal((2, 1, 32, 32)).astype(np.float32))
    shapes = []
    for layer in model.features:
        x = layer(x)
        shapes.append(x.shape[1:])
    assert shapes == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10),
                      (16, 5, 5)]


def test_bad_input_and_variant():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 1, 32, 32\), got "
                                         r"\(2, 1, 28, 28\).*pad"):
        lenet5()(minicnn.tensor(np.zeros((2, 1, 28, 28), dtype=np.float32)))
    with pytest.raises(ValueError, match="got \\(1, 32, 32\\)"):
        lenet5()(minicnn.tensor(np.zeros((1, 32, 32), dtype=np.float32)))
    with pytest.raises(ValueError, match="variant must be one of \\['1998', 'modern'\\], got "
                                         "'classic'"):
        lenet5(variant="classic")


def test_registered_by_name():
    assert isinstance(models.get_model("lenet5", num_classes=3), LeNet5)
    assert "variant='1998'" in repr(lenet5(variant="1998"))


@pytest.mark.parametrize("variant", ["modern", "1998"])
def test_matches_torch(variant, rng):
    """The same network in plain torch.nn with the same weights gives the same logits and
    input gradient (float64)."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    act, pool = (tnn.ReLU, tnn.MaxPool2d) if variant == "modern" else (tnn.Tanh, tnn.AvgPool2d)

    class TorchLeNet5(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5), act(), pool(2),
                                           tnn.Conv2d(6, 16, 5), act(), pool(2))
            self.classifier = tnn.Sequential(tnn.Linear(400, 120), act(), tnn.Linear(120, 84),
                                             act(), tnn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    torch.manual_seed(0)
    reference = TorchLeNet5().double()
    model = lenet5(variant=variant).double()
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = rng.standard_normal((3, 1, 32, 32))
    x_torch = torch.from_numpy(x).requires_grad_(True)
    x_mini = minicnn.tensor(x, requires_grad=True)
    out_torch, out_mini = reference(x_torch), model(x_mini)
    np.testing.assert_allclose(out_mini.data, out_torch.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    upstream = rng.standard_normal(out_mini.shape)
    out_torch.backward(torch.from_numpy(upstream))
    out_mini.backward(upstream)
    np.testing.assert_allclose(x_mini.grad, x_torch.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("variant", ["modern", "1998"])
def test_training_fits_a_small_batch(variant, rng):
    """Twenty Adam steps on 8 random images with random labels drive the training loss from
    ln(10) to a quarter of it: every layer receives a useful gradient."""
    minicnn.manual_seed(1)
    model = lenet5(variant=variant)
    x = minicnn.tensor(rng.standard_normal((8, 1, 32, 32)).astype(np.float32))
    y = rng.integers(0, 10, 8)
    optimizer = minicnn.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 2.0 and losses[-1] < 0.25 * losses[0]
