"""Inception-v3: torchvision's keys, shapes and parameter counts; outputs in training and eval
mode; the input sizes it takes; transform_input; initialisation.

The main path runs on inputs of at least 75x75 (fast tests, batch 2: training at 75x75
without the auxiliary head, eval at 107x91); the head needs 299x299, so the training-mode
``InceptionOutputs`` and the ImageNet-size forward and backward are slow tests.
"""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn.models import Inception3, InceptionOutputs, get_model, inception_v3
from minicnn.models.blocks import InceptionAux, InceptionC, InceptionE


@pytest.fixture(scope="module")
def default_model():
    """``inception_v3()`` as torchvision's defaults, seeded (built once: 27M parameters)."""
    minicnn.manual_seed(0)
    return inception_v3()


@pytest.fixture(scope="module")
def headless():
    """Inception-v3 without the auxiliary head, 10 classes (built once)."""
    minicnn.manual_seed(0)
    return inception_v3(num_classes=10, aux_logits=False)


def _images(shape, seed=0):
    return minicnn.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_equal_torchvisions(default_model):
    assert _count(default_model) == 27_161_264  # torchvision's default, aux_logits=True
    # the head: 1x1 768 -> 128 and 5x5 128 -> 768, each with batch norm, fc 768 -> 1000
    head = 768 * 128 + 2 * 128 + 128 * 768 * 25 + 2 * 768 + 768 * 1000 + 1000
    assert _count(inception_v3(aux_logits=False)) == 27_161_264 - head == 23_834_568


def test_state_dict_keys_and_shapes_are_torchvisions(default_model):
    state = default_model.state_dict()
    keys = list(state)
    # BasicConv2d (6 entries each: conv weight, 5 of batch norm): stem 5, InceptionA 3 x 7,
    # B 4, C 4 x 10, D 6, E 2 x 9, head 2; then the head's fc and the main fc (2 entries each)
    assert len(state) == (5 + 21 + 4 + 40 + 6 + 18 + 2) * 6 + 2 * 2 == 580
    assert keys[:2] == ["Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.weight"]
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    expected = {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Conv2d_2b_3x3.bn.num_batches_tracked": (),
        "Conv2d_3b_1x1.conv.weight": (80, 64, 1, 1),
        "Conv2d_4a_3x3.conv.weight": (192, 80, 3, 3),
        "Mixed_5b.branch5x5_2.conv.weight": (64, 48, 5, 5),
        "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
        "Mixed_5d.branch3x3dbl_3.bn.running_var": (96,),
        "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
        "Mixed_6b.branch7x7_2.conv.weight": (128, 128, 1, 7),
        "Mixed_6e.branch7x7dbl_4.conv.weight": (192, 192, 7, 1),
        "AuxLogits.conv0.conv.weight": (128, 768, 1, 1),
        "AuxLogits.conv1.conv.weight": (768, 128, 5, 5),
        "AuxLogits.fc.weight": (1000, 768),
        "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
        "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
        "Mixed_7c.branch3x3dbl_3b.bn.num_batches_tracked": (),
        "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
        "fc.weight": (1000, 2048),
        "fc.bias": (1000,),
    }
    for key, shape in expected.items():
        assert state[key].shape == shape, key
    # torchvision registers the head between Mixed_6e and Mixed_7a
    assert keys.index("Mixed_6e.branch_pool.bn.num_batches_tracked") + 1 == keys.index(
        "AuxLogits.conv0.conv.weight")
    assert keys.index("AuxLogits.fc.bias") + 1 == keys.index("Mixed_7a.branch3x3_1.conv.weight")
    without = inception_v3(aux_logits=False).state_dict()
    assert list(without) == [k for k in keys if not k.startswith("AuxLogits")]
    assert len(without) == 580 - 2 * 6 - 2


def test_state_dict_round_trip_is_strict_and_exact(headless):
    state = headless.state_dict()
    minicnn.manual_seed(5)
    other = inception_v3(num_classes=10, aux_logits=False)
    assert other.load_state_dict(state) == ([], [])
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


def test_training_forward_and_backward_at_reduced_size_without_the_head(headless):
    model = headless.train()
    model.zero_grad()
    out = model(_images((2, 3, 75, 75)))
    assert isinstance(out, minicnn.Tensor) and out.shape == (2, 10)
    F.cross_entropy(out, np.array([1, 9])).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and np.isfinite(param.grad.data).all(), name
    assert np.abs(model.Conv2d_1a_3x3.conv.weight.grad.data).sum() > 0


def test_eval_mode_returns_logits_and_skips_the_head():
    minicnn.manual_seed(0)
    model = inception_v3(num_classes=4).eval()  # with the head: eval mode never runs it
    calls = []
    model.AuxLogits.register_forward_hook(lambda m, a, o: calls.append(m))
    with minicnn.no_grad():
        logits = model(_images((2, 3, 107, 91)))
    assert isinstance(logits, minicnn.Tensor) and logits.shape == (2, 4)
    assert logits.dtype == np.float32 and calls == []


def test_inputs_below_75_are_refused_and_the_head_asks_for_299():
    minicnn.manual_seed(0)
    model = inception_v3(num_classes=3)
    model.eval()
    with minicnn.no_grad(), pytest.raises(ValueError, match="larger than the padded input"):
        model(_images((1, 3, 74, 74)))
    # in training the head runs on Mixed_6e's grid, 16x16 for a 298x298 image (17 needed);
    # reaching it costs a full forward at 298, so the head is asked directly here
    with pytest.raises(ValueError, match="299x299.*aux_logits=False"):
        model.AuxLogits(_images((2, 768, 16, 16)))


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the input it looks at was seen."""


def _first_conv_input(model, x):
    """What ``Conv2d_1a_3x3`` receives (the forward stops there: no need to run the rest)."""
    seen = []

    def record(module, args):
        seen.append(args[0].data.copy())
        raise _Stop

    handle = model.Conv2d_1a_3x3.register_forward_pre_hook(record)
    try:
        with pytest.raises(_Stop):
            model(x)
    finally:
        handle.remove()
    return seen[0]


def test_transform_input_rescales_imagenet_normalised_images(headless):
    x = _images((2, 3, 80, 81), seed=3)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(1, 3, 1, 1)
    model = inception_v3(num_classes=2, aux_logits=False, transform_input=True)
    seen = _first_conv_input(model, x)
    assert seen.dtype == np.float32
    np.testing.assert_allclose(seen, x.data * (std / 0.5) + (mean - 0.5) / 0.5, rtol=1e-6,
                               atol=1e-6)
    model.transform_input = False
    np.testing.assert_array_equal(_first_conv_input(model, x), x.data)
    assert not headless.transform_input  # the default


def test_initialisation_is_torchvisions_and_repeatable(default_model):
    state = default_model.state_dict()
    for key in ("Conv2d_1a_3x3.conv.weight", "Mixed_6c.branch7x7dbl_3.conv.weight",
                "AuxLogits.conv1.conv.weight", "fc.weight"):
        assert abs(state[key].std() - 0.1) < 0.005, key  # N(0, 0.1^2), >= 864 draws
    assert abs(state["AuxLogits.fc.weight"].std() - 0.001) < 0.00002
    assert np.all(state["Mixed_7c.branch1x1.bn.weight"] == 1)
    assert np.all(state["Mixed_7c.branch1x1.bn.bias"] == 0)
    minicnn.manual_seed(0)
    again = inception_v3().state_dict()
    for key, value in state.items():
        np.testing.assert_array_equal(value, again[key], err_msg=key)


def test_registered_names_and_structure(default_model):
    model = get_model("inception_v3", num_classes=6, aux_logits=False, dropout=0.2)
    assert isinstance(model, Inception3) and model.fc.weight.shape == (6, 2048)
    assert model.AuxLogits is None and model.dropout.p == 0.2
    assert isinstance(model.Mixed_6b, InceptionC) and isinstance(model.Mixed_7c, InceptionE)
    assert model.Mixed_6b.branch7x7_1.conv.weight.shape == (128, 768, 1, 1)  # channels_7x7
    assert model.Mixed_6e.branch7x7_1.conv.weight.shape == (192, 768, 1, 1)
    assert isinstance(default_model.AuxLogits, InceptionAux)


@pytest.mark.slow
def test_training_mode_with_the_head_returns_named_tuple_at_299():
    minicnn.manual_seed(0)
    model = inception_v3(num_classes=5)
    out = model(_images((2, 3, 299, 299)))  # batch 2: the head's last batch norm sees 1x1
    assert type(out) is InceptionOutputs and out._fields == ("logits", "aux_logits")
    assert out.logits.shape == (2, 5) and out.aux_logits.shape == (2, 5)
    target = np.array([0, 4])
    # TF-slim and PyTorch's fine-tuning tutorial weight the auxiliary loss 0.4
    loss = F.cross_entropy(out.logits, target) + 0.4 * F.cross_entropy(out.aux_logits, target)
    loss.backward()
    for name in ("AuxLogits.fc.weight", "AuxLogits.conv0.conv.weight",
                 "Mixed_7c.branch1x1.conv.weight", "Conv2d_1a_3x3.conv.weight"):
        grad = dict(model.named_parameters())[name].grad
        assert grad is not None and np.abs(grad.data).sum() > 0, name


@pytest.mark.slow
def test_imagenet_size_forward_and_backward_batch_1():
    minicnn.manual_seed(0)
    # training mode with batch 1 needs no head: its last batch norm would see one value
    model = inception_v3(aux_logits=False)
    out = model(_images((1, 3, 299, 299)))
    assert out.shape == (1, 1000)
    out.sum().backward()
    assert model.Conv2d_1a_3x3.conv.weight.grad.shape == (32, 3, 3, 3)
    assert np.isfinite(model.Conv2d_1a_3x3.conv.weight.grad.data).all()
    model.eval()
    with minicnn.no_grad():
        assert model(_images((1, 3, 299, 299))).shape == (1, 1000)
