"""Wide ResNet-28-10 for CIFAR: 36,479,194 parameters, keys and shapes, the stage layout,
and a whole WRN against the reference layout written in plain torch.nn (the authors' and
xternalz/WideResNet-pytorch's: pre-activation blocks, the projection of the activated input)."""

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.models import WideResNet
from minicnn.models.blocks import WideBasicBlock

from .torch_oracle import assert_same_as_torch, load_twin, randomise_batch_norms


def _count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def wrn28_10():
    """Built by name, with the paper's dropout (which changes no parameter)."""
    minicnn.manual_seed(0)
    return models.get_model("wide_resnet28_10", dropout=0.3)


def test_parameter_count_keys_and_shapes(wrn28_10):
    assert _count(wrn28_10) == 36_479_194  # the paper's 36.5M
    state = wrn28_10.state_dict()
    # 25 3x3 convolutions and 3 projections; 25 batch norms; fc weight and bias
    assert len(state) == 28 + 25 * 5 + 2
    for key, shape in [("conv1.weight", (16, 3, 3, 3)), ("layer1.0.bn1.weight", (16,)),
                       ("layer1.0.conv1.weight", (160, 16, 3, 3)),
                       ("layer1.0.shortcut.weight", (160, 16, 1, 1)),
                       ("layer1.3.conv2.weight", (160, 160, 3, 3)),
                       ("layer2.0.conv1.weight", (320, 160, 3, 3)),
                       ("layer2.0.shortcut.weight", (320, 160, 1, 1)),
                       ("layer3.0.shortcut.weight", (640, 320, 1, 1)),
                       ("layer3.3.bn2.running_var", (640,)), ("bn.weight", (640,)),
                       ("fc.weight", (10, 640)), ("fc.bias", (10,))]:
        assert state[key].shape == shape, key
    assert [len(stage) for stage in (wrn28_10.layer1, wrn28_10.layer2, wrn28_10.layer3)] == \
        [4, 4, 4]
    assert wrn28_10.layer1[1].shortcut is None and wrn28_10.layer3[3].shortcut is None
    assert wrn28_10.layer2[0].conv1.stride == (2, 2) and wrn28_10.layer2[0].shortcut.stride \
        == (2, 2) and wrn28_10.layer1[0].conv1.stride == (1, 1)


def test_registered_for_32x32_inputs_with_the_papers_dropout(wrn28_10):
    assert models.input_shape("wide_resnet28_10") == (3, 32, 32)
    assert isinstance(wrn28_10, WideResNet)
    assert all(block.dropout.p == 0.3 for stage in (wrn28_10.layer1, wrn28_10.layer2,
                                                     wrn28_10.layer3) for block in stage)


@pytest.mark.parametrize("depth, widen_factor, count", [(10, 1, 77_850), (16, 4, 2_748_890)])
def test_other_depths_and_widths(depth, widen_factor, count):
    """WRN-16-4 has the paper's 2.7M parameters. WRN-10-1 has one block per stage, and its
    first keeps 16 channels, so it has no projection: 432 + 4,672 + 14,432 + 57,536 + 128
    + 650 by hand."""
    model = WideResNet(depth, widen_factor)
    assert _count(model) == count
    assert len(model.layer1) == (depth - 4) // 6
    assert (model.layer1[0].shortcut is None) == (widen_factor == 1)


def test_forward_backward_with_dropout():
    minicnn.manual_seed(1)
    model = WideResNet(10, 2, dropout=0.3, num_classes=4)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((3, 3, 8, 8))
                       .astype(np.float32), requires_grad=True)
    loss = nn.CrossEntropyLoss()(model(x), np.array([0, 1, 3]))
    loss.backward()
    assert np.isfinite(x.grad.data).all() and x.grad.dtype == np.float32
    assert all(p.grad is not None and np.isfinite(p.grad.data).all() for p in model.parameters())
    model.eval()
    with minicnn.no_grad():  # dropout off: evaluation is deterministic
        np.testing.assert_array_equal(model(x).data, model(x).data)


def test_constructor_errors():
    with pytest.raises(ValueError, match="depth must be 6n \\+ 4.*got 27"):
        WideResNet(27)
    with pytest.raises(ValueError, match="widen_factor must be a positive int, got 0"):
        WideResNet(28, 0)


def torch_wide_resnet(torch, depth, widen_factor, num_classes):
    """The reference WRN (xternalz/WideResNet-pytorch's layers, minicnn's names)."""
    tnn, tF = torch.nn, torch.nn.functional

    class Block(tnn.Module):
        def __init__(self, in_planes, out_planes, stride):
            super().__init__()
            self.bn1 = tnn.BatchNorm2d(in_planes)
            self.conv1 = tnn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(out_planes)
            self.conv2 = tnn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
            self.shortcut = None
            if stride != 1 or in_planes != out_planes:
                self.shortcut = tnn.Conv2d(in_planes, out_planes, 1, stride, bias=False)

        def forward(self, x):
            activated = tF.relu(self.bn1(x))
            out = self.conv2(tF.relu(self.bn2(self.conv1(activated))))
            return out + (x if self.shortcut is None else self.shortcut(activated))

    class TorchWideResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            n, widths = (depth - 4) // 6, [16 * widen_factor, 32 * widen_factor,
                                           64 * widen_factor]
            self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
            stages, in_planes = [], 16
            for width, stride in zip(widths, (1, 2, 2)):
                stages.append(tnn.Sequential(Block(in_planes, width, stride),
                                             *[Block(width, width, 1) for _ in range(1, n)]))
                in_planes = width
            self.layer1, self.layer2, self.layer3 = stages
            self.bn = tnn.BatchNorm2d(widths[2])
            self.fc = tnn.Linear(widths[2], num_classes)

        def forward(self, x):
            x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
            x = tF.adaptive_avg_pool2d(tF.relu(self.bn(x)), 1)
            return self.fc(torch.flatten(x, 1))

    return TorchWideResNet()


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_wide_resnet_matches_the_reference_layout(training, rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch_wide_resnet(torch, 16, 2, 6).double()
    randomise_batch_norms(torch, reference)
    model = WideResNet(16, 2, num_classes=6).double()
    load_twin(torch, model, reference)
    reference.train(training), model.train(training)
    assert_same_as_torch(torch, model, reference, rng.standard_normal((2, 3, 12, 10)), rng)


def test_block_without_projection_adds_the_raw_input(rng):
    """Identity shortcut: x itself, not relu(bn1(x)) (only the projection reads that)."""
    block = WideBasicBlock(4, 4).double().eval()
    block.conv2.weight.data[...] = 0  # the branch contributes nothing
    x = rng.standard_normal((2, 4, 5, 5))
    np.testing.assert_array_equal(block(minicnn.tensor(x)).data, x)
