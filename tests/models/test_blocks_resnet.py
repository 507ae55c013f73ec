"""Residual blocks: structure, hand-worked cases, gradient checks and a PyTorch oracle.

Gradient checks run in float64 and training mode (batch statistics), with respect to the
input and every parameter, for each shortcut: identity, 1x1 stride-2 projection, and the
parameter-free zero padding. Batch-norm affine parameters are drawn away from 1 and 0 so
their gradients are not special cases. Inputs whose ReLU inputs come within 1e-4 of zero
(a kink: gradcheck's steps of 1e-6 would straddle it) are rejected by an assertion on the
chosen seed, never covered by a looser tolerance.
"""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models.blocks import BasicBlock, Bottleneck, WideBasicBlock, ZeroPadShortcut
from minicnn.models.blocks.resnet import conv1x1, linear_drop_probs
from minicnn.rng import get_rng_state

from .torch_oracle import assert_same_as_torch, load_twin, randomise_batch_norms, torch_se_block

KINK_MARGIN = 1e-4


def _projection(inplanes, outplanes, stride):
    return nn.Sequential(conv1x1(inplanes, outplanes, stride), nn.BatchNorm2d(outplanes))


def _randomise_batch_norms(block, rng):
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias.data[...] = rng.uniform(-0.5, 0.5, m.bias.shape)


def _relu_inputs(block, x):
    """Every array that goes into one of the block's ReLUs (the block's own is called two or
    three times, an SE block's once)."""
    seen = []
    handles = [m.register_forward_pre_hook(lambda m, args: seen.append(args[0].data))
               for m in block.modules() if isinstance(m, nn.ReLU)]
    with minicnn.no_grad():
        block(x)
    for handle in handles:
        handle.remove()
    return seen


# (name, block builder, input shape): every block kind and every shortcut
CONFIGS = {
    "basic-identity": (lambda: BasicBlock(4, 4), (2, 4, 5, 5)),
    "basic-projection": (lambda: BasicBlock(3, 4, 2, _projection(3, 4, 2)), (2, 3, 5, 4)),
    "basic-zero-pad": (lambda: BasicBlock(2, 4, 2, ZeroPadShortcut(2, 4, 2)), (2, 2, 5, 6)),
    "bottleneck-identity": (lambda: Bottleneck(8, 2), (2, 8, 4, 4)),
    "bottleneck-projection": (lambda: Bottleneck(3, 2, 2, _projection(3, 8, 2)), (2, 3, 5, 5)),
    "bottleneck-grouped": (lambda: Bottleneck(4, 2, 2, _projection(4, 8, 2), groups=2,
                                              base_width=64), (2, 4, 4, 5)),
    "basic-se": (lambda: BasicBlock(4, 4, se_reduction=2), (2, 4, 4, 5)),
    "bottleneck-se-projection": (lambda: Bottleneck(3, 2, 2, _projection(3, 8, 2),
                                                    se_reduction=4), (2, 3, 5, 4)),
    "wide-identity": (lambda: WideBasicBlock(4, 4), (2, 4, 4, 5)),
    "wide-projection": (lambda: WideBasicBlock(3, 5, 2), (2, 3, 5, 5)),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gradcheck_block_in_training_mode(name):
    build, shape = CONFIGS[name]
    minicnn.manual_seed(3)
    block = build().double()
    rng = np.random.default_rng(7)
    _randomise_batch_norms(block, rng)
    x = minicnn.tensor(rng.standard_normal(shape), requires_grad=True)
    relu_inputs = _relu_inputs(block, x)
    se_relus = int(getattr(block, "se", None) is not None)
    assert len(relu_inputs) == (3 if isinstance(block, Bottleneck) else 2) + se_relus
    assert min(np.abs(a).min() for a in relu_inputs) > KINK_MARGIN, "seed puts a ReLU on its kink"
    params = list(block.parameters())
    expected = {"basic-identity": 6, "basic-projection": 9, "basic-zero-pad": 6,
                "bottleneck-identity": 9, "bottleneck-projection": 12,
                "bottleneck-grouped": 12, "basic-se": 10, "bottleneck-se-projection": 16,
                "wide-identity": 6, "wide-projection": 7}[name]
    assert len(params) == expected
    assert minicnn.gradcheck(lambda x, *ps: block(x), [x, *params])


# --------------------------------------------------------------------------- structure


def test_block_shapes_and_expansion():
    x = minicnn.tensor(np.zeros((2, 16, 7, 7), dtype=np.float32))
    assert BasicBlock.expansion == 1 and Bottleneck.expansion == 4
    assert BasicBlock(16, 16)(x).shape == (2, 16, 7, 7)
    assert BasicBlock(16, 8, 2, _projection(16, 8, 2))(x).shape == (2, 8, 4, 4)
    assert BasicBlock(16, 32, 2, ZeroPadShortcut(16, 32))(x).shape == (2, 32, 4, 4)
    assert Bottleneck(16, 4)(x).shape == (2, 16, 7, 7)
    assert Bottleneck(16, 8, 2, _projection(16, 32, 2))(x).shape == (2, 32, 4, 4)


def test_bottleneck_v1_5_stride_in_the_3x3_and_resnext_width():
    block = Bottleneck(256, 128, 2, _projection(256, 512, 2))
    assert block.conv1.stride == (1, 1) and block.conv1.kernel_size == (1, 1)
    assert block.conv2.stride == (2, 2) and block.conv2.kernel_size == (3, 3)
    assert block.conv3.stride == (1, 1)
    # ResNeXt-50 32x4d, first stage: width = int(64 * 4 / 64) * 32 = 128, 4 channels per group
    block = Bottleneck(64, 64, groups=32, base_width=4)
    assert block.conv1.weight.shape == (128, 64, 1, 1)
    assert block.conv2.weight.shape == (128, 4, 3, 3) and block.conv2.groups == 32
    assert block.conv3.weight.shape == (256, 128, 1, 1)


def test_state_dict_keys_are_torchvisions():
    block = Bottleneck(8, 4, 2, _projection(8, 16, 2))
    keys = list(block.state_dict())
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    expected = (["conv1.weight"] + [f"bn1.{k}" for k in bn] + ["conv2.weight"]
                + [f"bn2.{k}" for k in bn] + ["conv3.weight"] + [f"bn3.{k}" for k in bn]
                + ["downsample.0.weight"] + [f"downsample.1.{k}" for k in bn])
    assert keys == expected
    assert list(BasicBlock(4, 4).state_dict()) == (["conv1.weight"] + [f"bn1.{k}" for k in bn]
                                                   + ["conv2.weight"]
                                                   + [f"bn2.{k}" for k in bn])
    # the zero-padding shortcut has no state at all
    assert list(BasicBlock(4, 8, 2, ZeroPadShortcut(4, 8)).state_dict()) == \
        list(BasicBlock(4, 8, 2).state_dict())


def test_basic_block_refuses_groups_and_dilation():
    with pytest.raises(ValueError, match="groups=2"):
        BasicBlock(4, 4, groups=2)
    with pytest.raises(ValueError, match="base_width=32"):
        BasicBlock(4, 4, base_width=32)
    with pytest.raises(ValueError, match="dilation=2"):
        BasicBlock(4, 4, dilation=2)


# --------------------------------------------------------------------------- hand-worked


def test_zero_pad_shortcut_golden():
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)
    out = ZeroPadShortcut(2, 5, stride=2)(minicnn.tensor(x))
    assert out.shape == (2, 5, 2, 2)
    # 3 extra channels: 1 before, 2 after; rows and columns 0 and 2 kept
    expected = np.zeros((2, 5, 2, 2))
    expected[:, 1:3] = x[:, :, ::2, ::2]
    np.testing.assert_array_equal(out.data, expected)
    assert out.dtype == np.float64
    assert ZeroPadShortcut(3, 3, stride=1)(minicnn.tensor(x[:, :1].repeat(3, 1))).shape == \
        (2, 3, 3, 3)


def test_zero_pad_shortcut_backward_golden():
    x = minicnn.tensor(np.ones((1, 1, 4, 3), dtype=np.float32), requires_grad=True)
    out = ZeroPadShortcut(1, 3, stride=2)(x)  # (1, 3, 2, 2): channel 1 carries x
    upstream = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    out.backward(upstream)
    expected = np.zeros((1, 1, 4, 3), dtype=np.float32)
    expected[0, 0, ::2, ::2] = upstream[0, 1]
    np.testing.assert_array_equal(x.grad, expected)


def test_zero_pad_shortcut_errors():
    with pytest.raises(ValueError, match="out_channels=2 < in_channels=4"):
        ZeroPadShortcut(4, 2)
    with pytest.raises(ValueError, match="stride must be a positive int, got 0"):
        ZeroPadShortcut(2, 4, stride=0)
    with pytest.raises(ValueError, match=r"expected an input \(N, 2, H, W\), got shape"):
        ZeroPadShortcut(2, 4)(minicnn.tensor(np.zeros((1, 3, 4, 4), dtype=np.float32)))


@pytest.mark.parametrize("block_type", [BasicBlock, Bottleneck])
def test_zeroed_last_batch_norm_makes_the_block_relu_of_its_shortcut(block_type, rng):
    """With the residual branch's last BN at weight 0 and bias 0 (zero_init_residual), the
    block computes relu(shortcut(x)): relu(x) for the identity."""
    inplanes = 4 * block_type.expansion
    block = block_type(inplanes, 4)
    last_bn = block.bn3 if block_type is Bottleneck else block.bn2
    last_bn.weight.data[...] = 0
    x = rng.standard_normal((2, inplanes, 5, 5)).astype(np.float32)
    out = block(minicnn.tensor(x))
    np.testing.assert_array_equal(out.data, np.maximum(x, 0))
    block = block_type(inplanes, 8, 2, ZeroPadShortcut(inplanes, 8 * block_type.expansion))
    (block.bn3 if block_type is Bottleneck else block.bn2).weight.data[...] = 0
    out = block(minicnn.tensor(x))
    np.testing.assert_array_equal(out.data, np.maximum(block.downsample(minicnn.tensor(x)).data,
                                                       0))


def test_block_keeps_float32(rng):
    x = minicnn.tensor(rng.standard_normal((2, 8, 4, 4)).astype(np.float32), requires_grad=True)
    block = Bottleneck(8, 2)
    out = block(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and block.conv2.weight.grad.dtype == np.float32


# --------------------------------------------------------------------------- PyTorch oracle


def _torch_block(torch, kind, inplanes, planes, stride, groups=1, shortcut="projection",
                 base_width=64, se_reduction=None, stochastic_depth_prob=0.0):
    """The same block written in plain torch.nn (torchvision's structure and names; the SE
    block where timm's SE-ResNet has it; stochastic depth as Huang et al.: the test sets
    ``keep`` to what minicnn's block drew, torch has no such layer)."""
    tnn, tF = torch.nn, torch.nn.functional

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            out = planes * (4 if kind == "bottleneck" else 1)
            if kind == "basic":
                self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
                self.bn1 = tnn.BatchNorm2d(planes)
                self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
                self.bn2 = tnn.BatchNorm2d(planes)
            else:
                width = int(planes * base_width / 64) * groups
                self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
                self.bn1 = tnn.BatchNorm2d(width)
                self.conv2 = tnn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
                self.bn2 = tnn.BatchNorm2d(width)
                self.conv3 = tnn.Conv2d(width, out, 1, bias=False)
                self.bn3 = tnn.BatchNorm2d(out)
            self.se = None if se_reduction is None else torch_se_block(torch, out, se_reduction)
            self.drop_prob, self.keep = stochastic_depth_prob, True
            self.downsample = None
            self.pad = None
            if shortcut == "projection":
                self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, out, 1, stride, bias=False),
                                                 tnn.BatchNorm2d(out))
            elif shortcut == "zero-pad":  # Idelbayev's option A
                self.pad = ((out - inplanes) // 2, out - inplanes - (out - inplanes) // 2)

        def shortcut(self, x):
            if self.downsample is not None:
                return self.downsample(x)
            if self.pad is not None:
                return tF.pad(x[:, :, ::stride, ::stride], (0, 0, 0, 0, *self.pad))
            return x

        def forward(self, x):
            if self.training and not self.keep:
                return tF.relu(self.shortcut(x))
            y = tF.relu(self.bn1(self.conv1(x)))
            if kind == "basic":
                y = self.bn2(self.conv2(y))
            else:
                y = self.bn3(self.conv3(tF.relu(self.bn2(self.conv2(y)))))
            if self.se is not None:
                y = self.se(y)
            if not self.training:
                y = y * (1 - self.drop_prob)
            return tF.relu(y + self.shortcut(x))

    return Block()


ORACLE_CASES = [("basic", 4, 6, 2, 1, "projection"), ("basic", 4, 4, 1, 1, "identity"),
                ("basic", 4, 8, 2, 1, "zero-pad"), ("bottleneck", 6, 3, 2, 1, "projection"),
                ("bottleneck", 8, 2, 1, 1, "identity"), ("bottleneck", 8, 4, 2, 2, "projection")]


@pytest.mark.parametrize("kind, inplanes, planes, stride, groups, shortcut", ORACLE_CASES)
def test_block_matches_torch(kind, inplanes, planes, stride, groups, shortcut):
    """Load a torch block's state_dict (non-trivial BN statistics) into minicnn's block and
    compare outputs in eval and training mode, the gradients, and the updated statistics."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = _torch_block(torch, kind, inplanes, planes, stride, groups, shortcut).double()
    out_planes = planes * (4 if kind == "bottleneck" else 1)
    downsample = {"projection": _projection(inplanes, out_planes, stride),
                  "identity": None,
                  "zero-pad": ZeroPadShortcut(inplanes, out_planes, stride)}[shortcut]
    block_type = Bottleneck if kind == "bottleneck" else BasicBlock
    block = block_type(inplanes, planes, stride, downsample, groups=groups).double()
    with torch.no_grad():
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(3)
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    block.load_state_dict(state)

    x = np.random.default_rng(1).standard_normal((3, inplanes, 6, 5))
    reference.eval(), block.eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(block(minicnn.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)

    reference.train(), block.train()
    x_torch = torch.from_numpy(x).requires_grad_(True)
    x_mini = minicnn.tensor(x, requires_grad=True)
    out_torch, out_mini = reference(x_torch), block(x_mini)
    np.testing.assert_allclose(out_mini.data, out_torch.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    upstream = np.random.default_rng(2).standard_normal(out_mini.shape)
    out_torch.backward(torch.from_numpy(upstream))
    out_mini.backward(upstream)
    np.testing.assert_allclose(x_mini.grad, x_torch.grad.numpy(), rtol=1e-9, atol=1e-11)
    torch_params = dict(reference.named_parameters())
    for name, param in block.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)
    for name, value in reference.state_dict().items():
        np.testing.assert_allclose(block.state_dict()[name], value.numpy(), rtol=1e-12,
                                   err_msg=name)


def test_block_loads_a_torch_save_file(tmp_path):
    """The documented recipe: a checkpoint written by torch.save, read without PyTorch by
    minicnn.load_torch_state_dict, loads strictly and computes what torch computes."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    reference = _torch_block(torch, "bottleneck", 6, 3, 2).eval()
    path = tmp_path / "bottleneck.pth"
    torch.save(reference.state_dict(), path)
    block = Bottleneck(6, 3, 2, _projection(6, 12, 2)).eval()
    block.load_state_dict(minicnn.load_torch_state_dict(path))
    x = np.random.default_rng(0).standard_normal((2, 6, 7, 7)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(block(minicnn.tensor(x)).data, expected, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------- SE and stochastic depth


def _branch_ran(block):
    """A list that gets, for each call of ``block``, whether its residual branch ran."""
    ran, conv1_calls = [], []
    block.register_forward_pre_hook(lambda m, args: conv1_calls.clear())
    block.conv1.register_forward_hook(lambda m, args, out: conv1_calls.append(True))
    block.register_forward_hook(lambda m, args, out: ran.append(bool(conv1_calls)))
    return ran


def test_stochastic_depth_drops_the_whole_branch_with_its_probability_in_training(rng):
    minicnn.manual_seed(0)
    block = BasicBlock(3, 3, stochastic_depth_prob=0.3).double()
    plain = BasicBlock(3, 3).double()  # the same weights, never dropped
    plain.load_state_dict(block.state_dict())
    ran = _branch_ran(block)
    x = rng.standard_normal((2, 3, 4, 4))
    outputs = [block(minicnn.tensor(x)).data for _ in range(400)]
    assert len(ran) == 400
    assert 0.22 < 1 - np.mean(ran) < 0.38  # 0.3 +- 3.5 standard deviations
    expected_kept = plain(minicnn.tensor(x)).data  # batch statistics: the same every call
    for out, kept in zip(outputs, ran):
        # dropped: relu(x) exactly; kept: the branch unscaled, as if there were no dropping
        np.testing.assert_array_equal(out, expected_kept if kept else np.maximum(x, 0))
    assert int(block.bn1.num_batches_tracked) == sum(ran)  # a dropped branch is not run


def test_stochastic_depth_scales_the_branch_by_its_survival_probability_in_eval(rng):
    minicnn.manual_seed(1)
    block = Bottleneck(8, 2, se_reduction=2, stochastic_depth_prob=0.25).double().eval()
    x = minicnn.tensor(rng.standard_normal((2, 8, 3, 3)))
    branch = block.se(block.branch(x)).data
    np.testing.assert_allclose(block(x).data, np.maximum(0.75 * branch + x.data, 0),
                               rtol=1e-12, atol=1e-14)
    state = get_rng_state()
    block(x)  # evaluation draws nothing
    assert state == get_rng_state()


def test_gradcheck_stochastic_depth_in_eval_mode():
    minicnn.manual_seed(2)
    block = BasicBlock(3, 4, 2, _projection(3, 4, 2), stochastic_depth_prob=0.4).double()
    rng = np.random.default_rng(3)
    _randomise_batch_norms(block, rng)
    block.eval()
    x = minicnn.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    assert min(np.abs(a).min() for a in _relu_inputs(block, x)) > KINK_MARGIN
    assert minicnn.gradcheck(lambda x, *ps: block(x), [x, *block.parameters()])


def test_linear_drop_probs_are_the_papers_decay():
    # p_l = 1 - l / L (1 - p_L) with p_L = 0.5 and L = 4: drop 0.125, 0.25, 0.375, 0.5
    assert list(linear_drop_probs(0.5, 4)) == [0.125, 0.25, 0.375, 0.5]
    assert list(linear_drop_probs(0.0, 3)) == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="stochastic_depth_prob must be a number in \\[0, 1\\), "
                                         "got 1.0"):
        linear_drop_probs(1.0, 4)


def test_se_and_stochastic_depth_options_keep_the_keys_and_check_their_arguments():
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = list(Bottleneck(8, 4, 2, _projection(8, 16, 2), se_reduction=4,
                           stochastic_depth_prob=0.2).state_dict())
    assert keys == (["conv1.weight"] + [f"bn1.{k}" for k in bn] + ["conv2.weight"]
                    + [f"bn2.{k}" for k in bn] + ["conv3.weight"] + [f"bn3.{k}" for k in bn]
                    + ["se.fc1.weight", "se.fc1.bias", "se.fc2.weight", "se.fc2.bias"]
                    + ["downsample.0.weight"] + [f"downsample.1.{k}" for k in bn])
    assert list(BasicBlock(4, 4, stochastic_depth_prob=0.5).state_dict()) == \
        list(BasicBlock(4, 4).state_dict())
    assert "stochastic_depth_prob=0.5" in repr(BasicBlock(4, 4, stochastic_depth_prob=0.5))
    for bad in (1.0, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="Bottleneck: stochastic_depth_prob must be"):
            Bottleneck(8, 2, stochastic_depth_prob=bad)
    with pytest.raises(ValueError, match="channels // reduction must be at least 1"):
        BasicBlock(4, 4, se_reduction=8)


@pytest.mark.parametrize("kind, base_width", [("basic", 64), ("bottleneck", 64),
                                              ("bottleneck", 128)])
def test_se_block_with_stochastic_depth_matches_torch(kind, base_width, rng):
    """An SE block with stochastic depth (and wide_resnet50_2's doubled width), against its
    torch twin: in evaluation (branch scaled by 0.5), and in training on a draw that keeps
    the branch and one that drops it."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    inplanes, planes = (6, 8) if kind == "basic" else (6, 3)
    reference = _torch_block(torch, kind, inplanes, planes, 2, base_width=base_width,
                             se_reduction=4, stochastic_depth_prob=0.5).double()
    randomise_batch_norms(torch, reference)
    out_planes = planes * (4 if kind == "bottleneck" else 1)
    block_type = Bottleneck if kind == "bottleneck" else BasicBlock

    def build():
        return block_type(inplanes, planes, 2, _projection(inplanes, out_planes, 2),
                          base_width=base_width, se_reduction=4,
                          stochastic_depth_prob=0.5).double()

    x = rng.standard_normal((2, inplanes, 6, 5))
    block = build()
    load_twin(torch, block, reference)
    reference.eval(), block.eval()
    assert_same_as_torch(torch, block, reference, x, rng)

    probe = build()  # the same draws as ``block`` from the same seed
    ran = _branch_ran(probe)
    seeds = {}
    for seed in range(20):
        minicnn.manual_seed(seed)
        with minicnn.no_grad():
            probe(minicnn.tensor(x))
        seeds.setdefault(ran[-1], seed)
    assert set(seeds) == {True, False}
    for kept, seed in seeds.items():
        reference.train(), block.train()
        block.zero_grad(), reference.zero_grad()
        reference.keep = kept
        minicnn.manual_seed(seed)
        assert_same_as_torch(torch, block, reference, x, rng)
