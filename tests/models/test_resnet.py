"""The ResNet family: torchvision's keys, shapes and parameter counts, initialisation, and
forward + backward at small sizes (ImageNet size in ``slow`` tests).

The hard-coded keys and shapes below are those of torchvision's models of the same name
(torchvision/models/resnet.py); the counts are the published ones.
"""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import CifarResNet, ResNet
from minicnn.models.blocks import BasicBlock, Bottleneck, ZeroPadShortcut

IMAGENET_COUNTS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
                   "resnext50_32x4d": 25_028_904}

# (key, shape) samples: first, stem BN counter, inside stages, projections, last
IMAGENET_KEYS = {
    "resnet18": [("conv1.weight", (64, 3, 7, 7)), ("bn1.num_batches_tracked", ()),
                 ("layer1.0.conv1.weight", (64, 64, 3, 3)),
                 ("layer2.0.downsample.0.weight", (128, 64, 1, 1)),
                 ("layer2.0.downsample.1.running_var", (128,)),
                 ("layer3.1.bn2.bias", (256,)), ("layer4.1.conv2.weight", (512, 512, 3, 3)),
                 ("fc.weight", (1000, 512)), ("fc.bias", (1000,))],
    "resnet34": [("conv1.weight", (64, 3, 7, 7)), ("layer1.2.bn2.running_mean", (64,)),
                 ("layer2.3.conv1.weight", (128, 128, 3, 3)),
                 ("layer3.0.downsample.0.weight", (256, 128, 1, 1)),
                 ("layer3.5.conv2.weight", (256, 256, 3, 3)),
                 ("layer4.2.bn2.num_batches_tracked", ()), ("fc.weight", (1000, 512))],
    "resnet50": [("conv1.weight", (64, 3, 7, 7)), ("layer1.0.conv1.weight", (64, 64, 1, 1)),
                 ("layer1.0.conv3.weight", (256, 64, 1, 1)),
                 ("layer1.0.downsample.0.weight", (256, 64, 1, 1)),
                 ("layer2.0.conv2.weight", (128, 128, 3, 3)),
                 ("layer3.5.bn3.weight", (1024,)),
                 ("layer4.0.downsample.0.weight", (2048, 1024, 1, 1)),
                 ("layer4.2.bn3.num_batches_tracked", ()), ("fc.weight", (1000, 2048))],
    "resnext50_32x4d": [("conv1.weight", (64, 3, 7, 7)),
                        ("layer1.0.conv1.weight", (128, 64, 1, 1)),
                        ("layer1.0.conv2.weight", (128, 4, 3, 3)),
                        ("layer1.0.conv3.weight", (256, 128, 1, 1)),
                        ("layer3.2.conv2.weight", (512, 16, 3, 3)),
                        ("layer4.2.conv2.weight", (1024, 32, 3, 3)),
                        ("layer4.2.bn2.running_var", (1024,)),
                        ("fc.weight", (1000, 2048))],
}
# torchvision's len(model.state_dict())
IMAGENET_KEY_COUNTS = {"resnet18": 122, "resnet34": 218, "resnet50": 320,
                       "resnext50_32x4d": 320}

# He et al.'s CIFAR networks at 10 classes: shortcut 'A' (zero padding), 'B' (projections)
CIFAR_COUNTS = {"resnet20": (269_722, 272_474), "resnet32": (464_154, 466_906),
                "resnet44": (658_586, 661_338), "resnet56": (853_018, 855_770)}


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def imagenet_models():
    """One instance of each ImageNet network, built once (a ResNet-50 takes seconds)."""
    built = {}

    def get(name):
        if name not in built:
            minicnn.manual_seed(0)
            built[name] = getattr(models, name)()
        return built[name]

    return get


@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_imagenet_parameter_count_keys_and_shapes(imagenet_models, name):
    model = imagenet_models(name)
    assert _count(model) == IMAGENET_COUNTS[name]
    state = model.state_dict()
    assert len(state) == IMAGENET_KEY_COUNTS[name]
    for key, shape in IMAGENET_KEYS[name]:
        assert key in state, key
        assert state[key].shape == shape, key
    keys = list(state)
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked"]
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    assert state["bn1.num_batches_tracked"].dtype == np.int64
    assert all(v.dtype == np.float32 for k, v in state.items()
               if not k.endswith("num_batches_tracked"))


@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_imagenet_forward_backward_small_batch(imagenet_models, name):
    """Batch 2 at 32x32 (layer4 sees 1x1, so batch norm still has two values per channel)."""
    model = imagenet_models(name)
    model.train()
    model.zero_grad()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 3, 32, 32))
                       .astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.shape == (2, 1000) and out.dtype == np.float32
    out.backward(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32))
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for key, param in model.named_parameters():
        assert param.grad is not None and param.grad.shape == param.shape, key
    assert np.abs(model.conv1.weight.grad.data).sum() > 0
    model.eval()
    with minicnn.no_grad():
        assert model(x).shape == (2, 1000)


@pytest.mark.parametrize("name", list(CIFAR_COUNTS))
def test_cifar_parameter_counts(name):
    count_a, count_b = CIFAR_COUNTS[name]
    assert _count(getattr(models, name)()) == count_a
    assert _count(getattr(models, name)(shortcut="B")) == count_b
    assert _count(getattr(models, name)(shortcut="B")) - count_a == 2752  # 1x1 convs + 2 BNs


def test_resnet20_structure_and_keys():
    model = models.resnet20()
    state = model.state_dict()
    assert len(state) == 116  # 19 convs, 19 batch norms (5 entries each), fc weight and bias
    for key, shape in [("conv1.weight", (16, 3, 3, 3)), ("bn1.running_mean", (16,)),
                       ("layer1.2.conv2.weight", (16, 16, 3, 3)),
                       ("layer2.0.conv1.weight", (32, 16, 3, 3)),
                       ("layer3.0.conv1.weight", (64, 32, 3, 3)),
                       ("layer3.2.bn2.num_batches_tracked", ()), ("fc.weight", (10, 64)),
                       ("fc.bias", (10,))]:
        assert state[key].shape == shape, key
    assert not any("downsample" in key for key in state)  # option A: parameter-free
    assert isinstance(model.layer2[0].downsample, ZeroPadShortcut)
    assert isinstance(model.layer3[0].downsample, ZeroPadShortcut)
    assert model.layer1[0].downsample is None and model.layer2[1].downsample is None
    assert [len(stage) for stage in (model.layer1, model.layer2, model.layer3)] == [3, 3, 3]
    assert [len(getattr(models, n)().layer1) for n in ("resnet32", "resnet44", "resnet56")] \
        == [5, 7, 9]
    state_b = models.resnet20(shortcut="B").state_dict()
    assert state_b["layer2.0.downsample.0.weight"].shape == (32, 16, 1, 1)
    assert state_b["layer3.0.downsample.1.weight"].shape == (64,)


@pytest.mark.parametrize("shortcut, size", [("A", 32), ("B", 16)])
def test_resnet20_forward_backward(shortcut, size):
    minicnn.manual_seed(1)
    model = models.resnet20(num_classes=7, shortcut=shortcut)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((3, 3, size, size))
                       .astype(np.float32), requires_grad=True)
    target = np.array([0, 3, 6])
    loss = nn.CrossEntropyLoss()(model(x), target)
    assert loss.dtype == np.float32 and np.isfinite(loss.item())
    loss.backward()
    assert x.grad.shape == x.shape
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())
    assert int(model.layer3[2].bn2.num_batches_tracked) == 1


def test_resnet20_learns_a_batch():
    """Ten SGD steps on one batch lower its loss: the gradients point downhill."""
    minicnn.manual_seed(2)
    model = models.resnet20(num_classes=3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
    target = np.array([0, 1, 2, 0, 1, 2])
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(10):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(minicnn.tensor(x)), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_small_input_stem():
    """A 3x3 stride-1 stem and no max-pool: the stages see H, H/2, H/4, H/8."""
    minicnn.manual_seed(0)
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10, small_input=True)
    assert model.conv1.weight.shape == (64, 3, 3, 3) and model.conv1.stride == (1, 1)
    assert len(model.maxpool) == 0  # an empty Sequential: the identity
    assert _count(model) == (_count(ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10))
                             - 64 * 3 * (7 * 7 - 3 * 3))
    sizes = []
    model.layer4.register_forward_hook(lambda m, args, out: sizes.append(out.shape))
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 3, 16, 16))
                       .astype(np.float32))
    out = model(x)
    assert out.shape == (2, 10) and sizes == [(2, 512, 2, 2)]
    out.sum().backward()
    assert model.conv1.weight.grad.shape == (64, 3, 3, 3)


def test_replace_stride_with_dilation():
    model = ResNet(Bottleneck, [1, 1, 1, 2], num_classes=10,
                   replace_stride_with_dilation=[False, True, True])
    sizes = []
    model.layer4.register_forward_hook(lambda m, args, out: sizes.append(out.shape))
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, 3, 32, 32))
                       .astype(np.float32))
    with minicnn.no_grad():
        assert model.eval()(x).shape == (1, 10)
    assert sizes == [(1, 2048, 4, 4)]  # output stride 8 instead of 32
    # torchvision: a stage's first block keeps the previous dilation, the others take the new
    assert model.layer4[0].conv2.dilation == (2, 2) and model.layer4[1].conv2.dilation == (4, 4)
    assert model.layer3[0].conv2.stride == (1, 1) and model.layer2[0].conv2.stride == (2, 2)
    assert _count(model) == _count(ResNet(Bottleneck, [1, 1, 1, 2], num_classes=10))
    with pytest.raises(ValueError, match="dilation=2"):
        ResNet(BasicBlock, [1, 1, 1, 2], replace_stride_with_dilation=[False, False, True])


def test_initialisation_follows_torchvision():
    minicnn.manual_seed(4)
    model = models.resnet20(num_classes=10)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.data == 1).all() and (m.bias.data == 0).all()
    weight = model.layer3[1].conv1.weight.data  # 64 * 64 * 9 = 36,864 values
    fan_out = 64 * 9
    assert abs(weight.mean()) < 0.01 * np.sqrt(2 / fan_out)
    assert weight.std() == pytest.approx(np.sqrt(2 / fan_out), rel=0.02)
    # fc keeps Linear's default, U(-1/sqrt(64), 1/sqrt(64))
    assert np.abs(model.fc.weight.data).max() <= 1 / 8
    assert model.fc.weight.data.std() == pytest.approx(1 / 8 / np.sqrt(3), rel=0.15)


def test_zero_init_residual():
    model = models.resnet20(zero_init_residual=True)
    for block in model.modules():
        if isinstance(block, BasicBlock):
            assert (block.bn2.weight.data == 0).all() and (block.bn1.weight.data == 1).all()
    model = ResNet(Bottleneck, [2, 1, 1, 1], num_classes=10, zero_init_residual=True)
    bottlenecks = [m for m in model.modules() if isinstance(m, Bottleneck)]
    assert len(bottlenecks) == 5
    for block in bottlenecks:
        assert (block.bn3.weight.data == 0).all() and (block.bn2.weight.data == 1).all()
        if block.downsample is not None:
            assert (block.downsample[1].weight.data == 1).all()
    model = ResNet(Bottleneck, [2, 1, 1, 1], num_classes=10)
    assert (model.layer1[1].bn3.weight.data == 1).all()


def test_manual_seed_repeats_and_state_dict_round_trip():
    minicnn.manual_seed(5)
    first = models.resnet20()
    minicnn.manual_seed(5)
    second = models.resnet20()
    for (key, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)
    minicnn.manual_seed(6)
    third = models.resnet20()
    assert not np.array_equal(third.conv1.weight.data, first.conv1.weight.data)

    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 3, 8, 8))
                       .astype(np.float32))
    first(x)  # one training batch: running statistics that are not 0 and 1
    third.load_state_dict(first.state_dict())
    third.load_state_dict(third.state_dict())  # strict round trip onto itself
    first.eval(), third.eval()
    np.testing.assert_array_equal(first(x).data, third(x).data)


def test_get_model_and_num_classes(imagenet_models):
    assert set(IMAGENET_COUNTS) | set(CIFAR_COUNTS) <= set(models.__all__)
    assert "ResNet" not in models.__all__  # classes, not models: get_model builds the others
    model = models.get_model("resnet20", num_classes=100)
    assert isinstance(model, CifarResNet) and model.fc.weight.shape == (100, 64)
    model = models.get_model("resnet18", num_classes=5)
    state = model.state_dict()
    for key, value in imagenet_models("resnet18").state_dict().items():
        expected = (5,) + value.shape[1:] if key.startswith("fc.") else value.shape
        assert state[key].shape == expected, key


def test_constructor_errors():
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2.*got 21"):
        CifarResNet(21)
    with pytest.raises(ValueError, match="shortcut must be 'A'.*got 'C'"):
        models.resnet20(shortcut="C")
    with pytest.raises(ValueError, match="layers must give the blocks of 4 stages"):
        ResNet(BasicBlock, [2, 2, 2])
    with pytest.raises(TypeError, match="block must be BasicBlock or Bottleneck"):
        ResNet(nn.Conv2d, [2, 2, 2, 2])
    with pytest.raises(ValueError, match="replace_stride_with_dilation"):
        ResNet(Bottleneck, [1, 1, 1, 1], replace_stride_with_dilation=[True])


# --------------------------------------------------------------------------- ImageNet size


@pytest.mark.slow
@pytest.mark.parametrize("name", list(IMAGENET_COUNTS))
def test_imagenet_size_forward_backward(imagenet_models, name):
    model = imagenet_models(name)
    model.train()
    model.zero_grad()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, 3, 224, 224))
                       .astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.shape == (1, 1000) and out.dtype == np.float32
    nn.CrossEntropyLoss()(out, np.array([7])).backward()
    assert x.grad.shape == (1, 3, 224, 224) and np.isfinite(x.grad.data).all()
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())


# --------------------------------------------- SE-ResNet-50, Wide ResNet-50-2, stochastic depth

# parameters, len(state_dict()), (key, shape) samples; wide_resnet50_2's are torchvision's,
# se_resnet50's timm's seresnet50 (torchvision has no SE-ResNet)
VARIANTS = {
    "se_resnet50": (28_088_024, 384, [
        ("layer1.0.se.fc1.weight", (16, 256, 1, 1)), ("layer1.0.se.fc1.bias", (16,)),
        ("layer1.0.se.fc2.weight", (256, 16, 1, 1)), ("layer3.5.se.fc2.bias", (1024,)),
        ("layer4.2.se.fc1.weight", (128, 2048, 1, 1)), ("layer2.0.conv2.weight", (128, 128, 3, 3)),
        ("fc.weight", (1000, 2048))]),
    "wide_resnet50_2": (68_883_240, 320, [
        ("layer1.0.conv1.weight", (128, 64, 1, 1)), ("layer1.0.conv2.weight", (128, 128, 3, 3)),
        ("layer1.0.conv3.weight", (256, 128, 1, 1)),
        ("layer4.2.conv1.weight", (1024, 2048, 1, 1)),
        ("layer4.2.conv2.weight", (1024, 1024, 3, 3)),
        ("layer4.0.downsample.0.weight", (2048, 1024, 1, 1)), ("fc.weight", (1000, 2048))]),
}


def _check_variant(model, name):
    count, key_count, keys = VARIANTS[name]
    assert _count(model) == count
    state = model.state_dict()
    assert len(state) == key_count
    for key, shape in keys:
        assert state[key].shape == shape, key


def test_se_resnet50_parameter_count_and_keys(imagenet_models):
    model = imagenet_models("se_resnet50")
    _check_variant(model, "se_resnet50")
    # Hu et al.: "~2.5 million additional parameters"; 2 C^2 / 16 + C / 16 + C per block
    assert _count(model) - IMAGENET_COUNTS["resnet50"] == sum(
        blocks * (2 * c * c // 16 + c // 16 + c)
        for blocks, c in [(3, 256), (4, 512), (6, 1024), (3, 2048)]) == 2_530_992
    keys = list(model.state_dict())
    assert keys.index("layer1.0.se.fc2.bias") + 1 == keys.index("layer1.0.downsample.0.weight")


@pytest.mark.slow
def test_wide_resnet50_2_parameter_count_and_keys(imagenet_models):
    _check_variant(imagenet_models("wide_resnet50_2"), "wide_resnet50_2")


def test_wide_bottlenecks_are_twice_as_wide_inside():
    """base_width=128 (wide_resnet50_2's width_per_group): torchvision's last block,
    2048-1024-2048 instead of ResNet-50's 2048-512-2048."""
    wide, narrow = Bottleneck(2048, 512, base_width=128), Bottleneck(2048, 512)
    assert wide.conv1.weight.shape == (1024, 2048, 1, 1)
    assert wide.conv2.weight.shape == (1024, 1024, 3, 3)
    assert wide.conv3.weight.shape == (2048, 1024, 1, 1)
    assert narrow.conv2.weight.shape == (512, 512, 3, 3)
    assert _count(wide) - _count(narrow) == 2 * 2048 * 512 + 9 * (1024 ** 2 - 512 ** 2) + 2 * 1024


def test_stochastic_depth_decays_linearly_over_all_blocks():
    model = ResNet(BasicBlock, [2, 1, 2, 1], num_classes=10, stochastic_depth_prob=0.3)
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    np.testing.assert_allclose([b.stochastic_depth_prob for b in blocks],
                               [0.05, 0.1, 0.15, 0.2, 0.25, 0.3], rtol=1e-15)
    model = models.resnet20(stochastic_depth_prob=0.5)
    probs = [m.stochastic_depth_prob for m in model.modules() if isinstance(m, BasicBlock)]
    np.testing.assert_allclose(probs, [0.5 * l / 9 for l in range(1, 10)], rtol=1e-15)
    assert _count(model) == CIFAR_COUNTS["resnet20"][0]
    assert all(m.stochastic_depth_prob == 0 for m in models.resnet20().modules()
               if isinstance(m, BasicBlock))
    with pytest.raises(ValueError, match="stochastic_depth_prob must be a number in"):
        models.resnet18(stochastic_depth_prob=1.0)


def _torch_resnet(torch, layers, num_classes, se_reduction, drop_probs):
    """torchvision's ResNet with Bottlenecks in plain torch.nn, from the blocks' twins."""
    from .test_blocks_resnet import _torch_block
    tnn = torch.nn

    class TorchResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            inplanes, probs = 64, iter(drop_probs)
            for index, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
                stride = 1 if index == 0 else 2
                stage = [_torch_block(torch, "bottleneck", inplanes, planes, stride,
                                      se_reduction=se_reduction,
                                      stochastic_depth_prob=next(probs))]
                stage += [_torch_block(torch, "bottleneck", planes * 4, planes, 1,
                                       shortcut="identity", se_reduction=se_reduction,
                                       stochastic_depth_prob=next(probs))
                          for _ in range(1, blocks)]
                setattr(self, f"layer{index + 1}", tnn.Sequential(*stage))
                inplanes = planes * 4
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc = tnn.Linear(2048, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return TorchResNet()


@pytest.mark.parametrize("training", [pytest.param(False, marks=pytest.mark.slow), True],
                         ids=["eval", "train"])
def test_se_resnet_with_stochastic_depth_matches_torch(training):
    """SE blocks and stochastic depth at one block per stage: the same logits and gradients
    as the torch twin (the wider bottlenecks of wide_resnet50_2 are checked against torch
    block by block, as building them wide here would take seconds). In training, the
    twin's blocks are told which branches minicnn's draws kept (a probe model with the same
    structure and seed makes the same draws). Evaluation is ``slow``: the blocks' own torch
    tests check it by default."""
    torch = pytest.importorskip("torch")
    from .torch_oracle import assert_same_as_torch, load_twin, randomise_batch_norms
    torch.manual_seed(0)
    layers, config = [1, 1, 1, 1], dict(num_classes=5, se_reduction=16)
    drop_probs = [0.125, 0.25, 0.375, 0.5]
    reference = _torch_resnet(torch, layers, drop_probs=drop_probs, **config).double()
    randomise_batch_norms(torch, reference)
    model = ResNet(Bottleneck, layers, stochastic_depth_prob=0.5, **config).double()
    load_twin(torch, model, reference)
    rng = np.random.default_rng(0)
    # 48x48: layer4 sees 2x2, so its batch norms have 8 values per channel in training (with
    # 2, a normalised value is +-1 whatever the input, and its gradient is rounding noise)
    x = rng.standard_normal((2, 3, 48, 48))
    reference.train(training), model.train(training)
    if training:
        probe = ResNet(Bottleneck, layers, stochastic_depth_prob=0.5, **config).double()
        ran = []
        for block in (m for m in probe.modules() if isinstance(m, Bottleneck)):
            block.conv1.register_forward_hook(lambda m, args, out: ran.append(m))
        minicnn.manual_seed(7)
        with minicnn.no_grad():
            probe(minicnn.tensor(x))
        kept = {id(m) for m in ran}
        probe_blocks = [m for m in probe.modules() if isinstance(m, Bottleneck)]
        twin_blocks = [m for m in reference.modules() if hasattr(m, "keep")]
        for probe_block, twin_block in zip(probe_blocks, twin_blocks):
            twin_block.keep = id(probe_block.conv1) in kept
        assert 0 < sum(b.keep for b in twin_blocks) < len(twin_blocks)  # both outcomes
        minicnn.manual_seed(7)
    assert_same_as_torch(torch, model, reference, x, rng)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variants_imagenet_size_forward_backward(imagenet_models, name):
    model = imagenet_models(name).train()
    model.zero_grad()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, 3, 224, 224))
                       .astype(np.float32), requires_grad=True)
    out = model(x)
    assert out.shape == (1, 1000)
    nn.CrossEntropyLoss()(out, np.array([7])).backward()
    assert np.isfinite(x.grad.data).all()
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())
