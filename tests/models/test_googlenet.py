"""GoogLeNet: torchvision's keys, shapes and parameter counts; training-mode outputs (a named
tuple with the auxiliary heads) against eval-mode logits; transform_input; initialisation.

Fast tests run at 31x31 to 64x64 (the heads pool adaptively); the ImageNet-size forward and backward is a slow test.
"""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.models import GoogLeNet, GoogLeNetOutputs, get_model, googlenet
from minicnn.models.blocks import Inception, InceptionAuxV1


@pytest.fixture(scope="module")
def default_model():
    """``googlenet()`` as torchvision's defaults, seeded (built once)."""
    minicnn.manual_seed(0)
    return googlenet()


@pytest.fixture(scope="module")
def small_model():
    """GoogLeNet with 10 classes and the auxiliary heads (built once: 7M parameters)."""
    minicnn.manual_seed(0)
    return googlenet(num_classes=10)


def _images(shape, seed=0):
    return minicnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_torchvisions(default_model):
    assert _count(default_model) == 13_004_888  # torchvision's googlenet(aux_logits=True)
    assert _count(googlenet(aux_logits=False)) == 6_624_904  # the published count
    # the paper's 5x5 branch adds 16 weights per (5x5 reduce, 5x5) channel pair, over the
    # nine modules: 16 * (16*32 + 32*96 + 16*48 + 24*64 + 24*64 + 32*64 + 32*128 + 32*128
    # + 48*128) = 380,928
    assert _count(googlenet(aux_logits=False, branch3_kernel_size=5)) == 6_624_904 + 380_928


def test_state_dict_keys_and_shapes_are_torchvisions(default_model):
    state = default_model.state_dict()
    assert len(state) == 364
    keys = list(state)
    assert keys[:6] == ["conv1.conv.weight", "conv1.bn.weight", "conv1.bn.bias",
                        "conv1.bn.running_mean", "conv1.bn.running_var",
                        "conv1.bn.num_batches_tracked"]
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    expected = {
        "conv1.conv.weight": (64, 3, 7, 7),
        "conv1.bn.num_batches_tracked": (),
        "conv2.conv.weight": (64, 64, 1, 1),
        "conv3.conv.weight": (192, 64, 3, 3),
        "inception3a.branch1.conv.weight": (64, 192, 1, 1),
        "inception3a.branch2.1.conv.weight": (128, 96, 3, 3),
        "inception3b.branch3.1.conv.weight": (96, 32, 3, 3),  # torchvision's 3x3 "5x5"
        "inception4c.branch2.0.bn.running_mean": (128,),
        "inception4e.branch4.1.conv.weight": (128, 528, 1, 1),
        "inception5b.branch1.conv.weight": (384, 832, 1, 1),
        "inception5b.branch4.1.bn.num_batches_tracked": (),
        "aux1.conv.conv.weight": (128, 512, 1, 1),
        "aux1.fc1.weight": (1024, 2048),
        "aux2.conv.conv.weight": (128, 528, 1, 1),
        "aux2.fc2.weight": (1000, 1024),
        "aux2.fc2.bias": (1000,),
        "fc.weight": (1000, 1024),
        "fc.bias": (1000,),
    }
    for key, shape in expected.items():
        assert state[key].shape == shape, key
    # the order torchvision registers them: the heads come after inception5b, before fc
    assert keys.index("inception5b.branch4.1.bn.num_batches_tracked") < keys.index(
        "aux1.conv.conv.weight") < keys.index("aux2.conv.conv.weight") < keys.index("fc.weight")
    without = googlenet(aux_logits=False).state_dict()
    assert list(without) == [k for k in keys if not k.startswith("aux")]
    assert len(without) == 364 - 2 * 10


def test_state_dict_round_trip_is_strict_and_exact():
    minicnn.manual_seed(1)
    model = googlenet(num_classes=7, aux_logits=False)
    state = model.state_dict()
    minicnn.manual_seed(2)
    other = googlenet(num_classes=7, aux_logits=False)
    assert not np.array_equal(other.state_dict()["fc.weight"], state["fc.weight"])
    assert other.load_state_dict(state) == ([], [])
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    # torchvision's checkpoint carries the heads: a model without them needs strict=False
    with pytest.raises(nn.StateDictError, match="Unexpected key.*aux1"):
        other.load_state_dict(googlenet(num_classes=7).state_dict())


def test_training_mode_returns_named_tuple_and_backward_reaches_every_part(small_model):
    model = small_model.train()
    model.zero_grad()
    x = _images((2, 3, 48, 48))
    out = model(x)
    assert type(out) is GoogLeNetOutputs
    assert out._fields == ("logits", "aux_logits2", "aux_logits1")
    for logits in out:
        assert logits.shape == (2, 10) and logits.dtype == np.float32
    target = np.array([3, 7])
    # the paper's weighting: the auxiliary losses count 0.3 each
    loss = F.cross_entropy(out.logits, target) + 0.3 * (F.cross_entropy(out.aux_logits1, target)
                                                        + F.cross_entropy(out.aux_logits2, target))
    loss.backward()
    for name in ("conv1.conv.weight", "inception3a.branch3.1.conv.weight", "aux1.fc2.weight",
                 "aux2.conv.conv.weight", "inception5b.branch1.conv.weight", "fc.bias"):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None, name
        assert np.isfinite(grad.data).all() and np.abs(grad.data).sum() > 0, name


def test_eval_mode_returns_logits_and_skips_the_auxiliary_heads(small_model):
    model = small_model.eval()
    calls = []
    handles = [getattr(model, name).register_forward_hook(lambda m, a, o: calls.append(m))
               for name in ("aux1", "aux2")]
    try:
        with minicnn.no_grad():
            logits = model(_images((2, 3, 64, 64)))
    finally:
        for handle in handles:
            handle.remove()
        model.train()
    assert isinstance(logits, minicnn.Tensor) and logits.shape == (2, 10)
    assert calls == []


def test_training_mode_without_heads_returns_logits():
    minicnn.manual_seed(0)
    model = googlenet(num_classes=4, aux_logits=False)
    assert model.aux1 is None and model.aux2 is None
    out = model(_images((2, 3, 40, 48)))  # training mode, a non-square input
    assert isinstance(out, minicnn.Tensor) and out.shape == (2, 4)


def test_dropout_acts_in_training_only(small_model):
    model = small_model
    x = _images((2, 3, 32, 32), seed=4)
    model.eval()
    with minicnn.no_grad():
        np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    with minicnn.no_grad():
        minicnn.manual_seed(0)
        first = model(x)
        minicnn.manual_seed(1)
        second = model(x)
        minicnn.manual_seed(0)
        again = model(x)
    assert not np.allclose(first.logits.data, second.logits.data)
    np.testing.assert_array_equal(first.logits.data, again.logits.data)


def test_transform_input_rescales_imagenet_normalised_images(default_model):
    x = _images((2, 3, 31, 32), seed=5)  # small and non-square
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
    model = googlenet(num_classes=2, aux_logits=False, transform_input=True)
    seen = []
    model.conv1.register_forward_pre_hook(lambda m, args: seen.append(args[0].data.copy()))
    with minicnn.no_grad():
        model(x)
        model.transform_input = False
        model(x)
    assert seen[0].dtype == np.float32
    np.testing.assert_allclose(seen[0], x.data * (std / 0.5) + (mean - 0.5) / 0.5, rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_array_equal(seen[1], x.data)
    assert not default_model.transform_input  # the default


def test_paper_5x5_option_builds_5x5_kernels():
    model = googlenet(num_classes=3, aux_logits=False, branch3_kernel_size=5)
    assert model.inception4a.branch3[1].conv.weight.shape == (48, 16, 5, 5)
    assert model(_images((2, 3, 32, 32))).shape == (2, 3)  # 1x1 at the end: a batch of 2


def test_initialisation_is_torchvisions_and_repeatable(default_model):
    state = default_model.state_dict()
    for key in ("conv1.conv.weight", "inception4e.branch2.1.conv.weight", "aux1.fc1.weight",
                "fc.weight"):
        assert abs(state[key].std() - 0.01) < 0.0005, key  # N(0, 0.01^2), >= 9408 draws
        assert abs(state[key].mean()) < 0.0005, key
    assert np.all(state["inception3a.branch1.bn.weight"] == 1)
    assert np.all(state["inception3a.branch1.bn.bias"] == 0)
    assert 0 < np.abs(state["fc.bias"]).max() <= 1 / np.sqrt(1024)  # PyTorch's default bias
    minicnn.manual_seed(0)
    again = googlenet().state_dict()
    for key, value in state.items():
        np.testing.assert_array_equal(value, again[key], err_msg=key)


def test_registered_names_and_structure(default_model):
    model = get_model("googlenet", num_classes=6, aux_logits=False)
    assert isinstance(model, GoogLeNet) and model.fc.weight.shape == (6, 1024)
    assert isinstance(model.inception5b, Inception)
    assert isinstance(default_model.aux2, InceptionAuxV1)
    assert model.inception5b.out_channels == 1024


@pytest.mark.slow
def test_imagenet_size_forward_and_backward_batch_1():
    minicnn.manual_seed(0)
    model = googlenet()
    out = model(_images((1, 3, 224, 224)))
    assert type(out) is GoogLeNetOutputs
    assert [o.shape for o in out] == [(1, 1000)] * 3
    (out.logits.sum() + 0.3 * (out.aux_logits1.sum() + out.aux_logits2.sum())).backward()
    assert model.conv1.conv.weight.grad.shape == (64, 3, 7, 7)
    assert np.isfinite(model.conv1.conv.weight.grad.data).all()
    model.eval()
    with minicnn.no_grad():
        assert model(_images((1, 3, 224, 224))).shape == (1, 1000)
