"""MobileNet blocks: ReLU6, the depthwise-separable block (v1) and the inverted residual
(v2): gradient checks, structure and torchvision's keys, and a PyTorch oracle.

Gradient checks run in float64 and training mode (batch statistics), with respect to the
input and every parameter. Batch-norm affine parameters are drawn away from 1 and 0, and
scaled so that some ReLU6 inputs exceed 6 (both kinks are exercised). Seeds whose
activation inputs come within 1e-4 of a kink (0, or 6 for ReLU6) are rejected by an
assertion, never covered by a looser tolerance.
"""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models.blocks import DepthwiseSeparableConv, InvertedResidual, ReLU6
from minicnn.models.blocks.mobilenet import conv_bn_act

KINK_MARGIN = 1e-4
BN_KEYS = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def _randomise_batch_norms(block, rng, scale=(0.5, 1.5), shift=(-0.5, 0.5)):
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[...] = rng.uniform(*scale, m.weight.shape)
            m.bias.data[...] = rng.uniform(*shift, m.bias.shape)


def _kink_distances(block, x):
    """The smallest distance of any activation input to a kink of its activation."""
    distances, handles = [], []

    def record(kinks):
        return lambda module, args: distances.append(
            min(np.abs(args[0].data - kink).min() for kink in kinks))

    for m in block.modules():
        if isinstance(m, nn.ReLU):
            handles.append(m.register_forward_pre_hook(record([0.0])))
        elif isinstance(m, ReLU6):
            handles.append(m.register_forward_pre_hook(record([0.0, 6.0])))
    with minicnn.no_grad():
        block(x)
    for handle in handles:
        handle.remove()
    return distances


# --------------------------------------------------------------------------- ReLU6


def test_relu6_is_nn_relu6_with_pytorchs_gradient_at_the_kinks():
    assert ReLU6 is nn.ReLU6
    x = minicnn.tensor(np.array([-3.0, 0.0, 0.25, 2.0, 5.5, 6.0, 100.0], dtype=np.float32),
                       requires_grad=True)
    out = ReLU6()(x)
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 0.25, 2.0, 5.5, 6.0, 6.0])
    assert out.dtype == np.float32
    out.backward(np.arange(1, 8, dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [0, 0, 3, 4, 5, 0, 0])  # 0 at exactly 0 and 6
    assert x.grad.dtype == np.float32
    assert repr(ReLU6(inplace=True)) == "ReLU6(inplace=True)" and repr(ReLU6()) == "ReLU6()"


def test_relu6_gradcheck(rng):
    values = rng.permutation(np.concatenate([rng.uniform(-2, -0.1, 8), rng.uniform(0.1, 5.9, 8),
                                             rng.uniform(6.1, 9, 8)]))
    x = minicnn.tensor(values.reshape(2, 3, 4), requires_grad=True)
    assert minicnn.gradcheck(ReLU6(), [x])


def test_relu6_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.uniform(-3, 9, (4, 5)).astype(np.float32)
    x[0, :2] = [0.0, 6.0]
    ours, theirs = minicnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ReLU6()(ours), torch.nn.ReLU6()(theirs)
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    out.backward(np.ones_like(x))
    expected.sum().backward()
    np.testing.assert_array_equal(ours.grad, theirs.grad.numpy())


# --------------------------------------------------------------------------- gradient checks


CONFIGS = {
    # name: (builder, input shape, parameter tensors, activation calls)
    "separable-stride1": (lambda: DepthwiseSeparableConv(3, 4), (2, 3, 4, 5), 6, 2),
    "separable-stride2": (lambda: DepthwiseSeparableConv(2, 3, stride=2), (2, 2, 5, 4), 6, 2),
    "inverted-t1": (lambda: InvertedResidual(3, 2, 1, expand_ratio=1), (2, 3, 4, 4), 6, 1),
    "inverted-residual": (lambda: InvertedResidual(2, 2, 1, expand_ratio=3), (2, 2, 4, 5), 9,
                          2),
    "inverted-stride2": (lambda: InvertedResidual(2, 3, 2, expand_ratio=2), (2, 2, 5, 5), 9, 2),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gradcheck_block_in_training_mode(name):
    build, shape, num_params, num_activations = CONFIGS[name]
    minicnn.manual_seed(5)
    block = build().double()
    rng = np.random.default_rng(11)
    # BN outputs spread over about [-4, 8]: ReLU6 sees values on both sides of 0 and of 6
    _randomise_batch_norms(block, rng, scale=(1.5, 3.0), shift=(1.0, 3.0))
    x = minicnn.tensor(rng.standard_normal(shape), requires_grad=True)
    distances = _kink_distances(block, x)
    assert len(distances) == num_activations
    assert min(distances) > KINK_MARGIN, "seed puts an activation on its kink"
    params = list(block.parameters())
    assert len(params) == num_params
    assert minicnn.gradcheck(lambda x, *ps: block(x), [x, *params])


def test_gradcheck_sees_both_relu6_kinks():
    """The configuration above does clip at 6 somewhere (else the upper kink is untested)."""
    build, shape, _, _ = CONFIGS["inverted-residual"]
    minicnn.manual_seed(5)
    block = build().double()
    rng = np.random.default_rng(11)
    _randomise_batch_norms(block, rng, scale=(1.5, 3.0), shift=(1.0, 3.0))
    x = minicnn.tensor(rng.standard_normal(shape))
    seen = []
    for m in block.modules():
        if isinstance(m, ReLU6):
            m.register_forward_pre_hook(lambda module, args: seen.append(args[0].data))
    block(x)
    values = np.concatenate([a.ravel() for a in seen])
    assert (values < 0).any() and (values > 6).any() and ((values > 0) & (values < 6)).any()


# --------------------------------------------------------------------------- structure


def test_depthwise_separable_structure_and_shapes(rng):
    block = DepthwiseSeparableConv(32, 64, stride=2)
    assert block.depthwise.groups == 32 and block.depthwise.weight.shape == (32, 1, 3, 3)
    assert block.depthwise.stride == (2, 2) and block.depthwise.bias is None
    assert block.pointwise.weight.shape == (64, 32, 1, 1) and block.pointwise.bias is None
    assert list(block.state_dict()) == (["depthwise.weight"]
                                        + [f"depthwise_bn.{k}" for k in BN_KEYS]
                                        + ["pointwise.weight"]
                                        + [f"pointwise_bn.{k}" for k in BN_KEYS])
    # 32*9 + 2*32 + 32*64 + 2*64: the paper's cost argument in parameters
    assert sum(p.numel() for p in block.parameters()) == 288 + 64 + 2048 + 128
    x = minicnn.tensor(rng.standard_normal((2, 32, 7, 6)).astype(np.float32))
    out = block(x)
    assert out.shape == (2, 64, 4, 3) and out.dtype == np.float32
    assert (out.data >= 0).all()  # ends with a ReLU


def test_inverted_residual_keys_are_torchvisions():
    block = InvertedResidual(16, 24, 2, expand_ratio=6)
    state = block.state_dict()
    expected = (["conv.0.0.weight"] + [f"conv.0.1.{k}" for k in BN_KEYS]
                + ["conv.1.0.weight"] + [f"conv.1.1.{k}" for k in BN_KEYS]
                + ["conv.2.weight"] + [f"conv.3.{k}" for k in BN_KEYS])
    assert list(state) == expected
    assert state["conv.0.0.weight"].shape == (96, 16, 1, 1)
    assert state["conv.1.0.weight"].shape == (96, 1, 3, 3)
    assert state["conv.2.weight"].shape == (24, 96, 1, 1)
    assert state["conv.3.running_var"].shape == (24,)
    assert not block.use_res_connect and block.out_channels == 24
    # expand_ratio 1: no expansion, the depthwise comes first
    block = InvertedResidual(32, 16, 1, expand_ratio=1)
    assert list(block.state_dict()) == (["conv.0.0.weight"]
                                        + [f"conv.0.1.{k}" for k in BN_KEYS]
                                        + ["conv.1.weight"] + [f"conv.2.{k}" for k in BN_KEYS])
    assert block.conv[0][0].groups == 32
    assert isinstance(block.conv[0][2], ReLU6)


def test_inverted_residual_adds_the_input_only_when_the_shape_is_kept(rng):
    x = rng.standard_normal((2, 8, 5, 5)).astype(np.float32)
    block = InvertedResidual(8, 8, 1, expand_ratio=4)
    assert block.use_res_connect
    block.conv[3].weight.data[...] = 0  # the projection's BN outputs its bias, 0
    np.testing.assert_array_equal(block(minicnn.tensor(x)).data, x)
    block.conv[3].bias.data[...] = 0.5
    np.testing.assert_allclose(block(minicnn.tensor(x)).data, x + 0.5, rtol=1e-6)
    assert not InvertedResidual(8, 8, 2, expand_ratio=4).use_res_connect
    assert not InvertedResidual(8, 16, 1, expand_ratio=4).use_res_connect
    out = InvertedResidual(8, 16, 2, expand_ratio=4)(minicnn.tensor(x))
    assert out.shape == (2, 16, 3, 3)
    # linear bottleneck: no activation after the projection, so outputs can be negative
    assert (out.data < 0).any()


def test_inverted_residual_hidden_width_rounds():
    assert InvertedResidual(10, 10, 1, expand_ratio=2.5).conv[0][0].out_channels == 25
    assert InvertedResidual(3, 4, 1, expand_ratio=1.5).conv[0][0].out_channels == 4  # round(4.5)


def test_inverted_residual_refuses_other_strides():
    with pytest.raises(ValueError, match="stride must be 1 or 2, got 3"):
        InvertedResidual(4, 4, 3, expand_ratio=6)


def test_conv_bn_act_pads_to_keep_the_size(rng):
    layer = conv_bn_act(3, 5, kernel_size=3, stride=1, activation=nn.ReLU)
    assert isinstance(layer[2], nn.ReLU) and layer[0].bias is None
    x = minicnn.tensor(rng.standard_normal((2, 3, 6, 7)).astype(np.float32))
    assert layer(x).shape == (2, 5, 6, 7)
    assert conv_bn_act(3, 5, kernel_size=1)(x).shape == (2, 5, 6, 7)
    assert conv_bn_act(3, 5, stride=2)(x).shape == (2, 5, 3, 4)


# --------------------------------------------------------------------------- PyTorch oracle


def _torch_blocks(torch):
    """torchvision's InvertedResidual and a v1 depthwise-separable block in plain torch.nn."""
    tnn = torch.nn

    def conv_bn_relu6(inp, oup, kernel_size=3, stride=1, groups=1):
        return tnn.Sequential(tnn.Conv2d(inp, oup, kernel_size, stride, (kernel_size - 1) // 2,
                                         groups=groups, bias=False),
                              tnn.BatchNorm2d(oup), tnn.ReLU6(inplace=True))

    class TorchInvertedResidual(tnn.Module):
        def __init__(self, inp, oup, stride, expand_ratio):
            super().__init__()
            hidden_dim = int(round(inp * expand_ratio))
            self.use_res_connect = stride == 1 and inp == oup
            layers = []
            if expand_ratio != 1:
                layers.append(conv_bn_relu6(inp, hidden_dim, kernel_size=1))
            layers += [conv_bn_relu6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                       tnn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), tnn.BatchNorm2d(oup)]
            self.conv = tnn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv(x) if self.use_res_connect else self.conv(x)

    class TorchSeparable(tnn.Module):
        def __init__(self, inp, oup, stride):
            super().__init__()
            self.depthwise = tnn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False)
            self.depthwise_bn = tnn.BatchNorm2d(inp)
            self.pointwise = tnn.Conv2d(inp, oup, 1, bias=False)
            self.pointwise_bn = tnn.BatchNorm2d(oup)

        def forward(self, x):
            x = torch.relu(self.depthwise_bn(self.depthwise(x)))
            return torch.relu(self.pointwise_bn(self.pointwise(x)))

    return TorchInvertedResidual, TorchSeparable


ORACLE_CASES = [("inverted", (6, 6, 1, 6)), ("inverted", (4, 6, 2, 6)),
                ("inverted", (5, 3, 1, 1)), ("separable", (4, 6, 1)), ("separable", (3, 5, 2))]


@pytest.mark.parametrize("kind, args", ORACLE_CASES)
def test_block_matches_torch(kind, args):
    """Load a torch block's state_dict (non-trivial BN statistics, outputs past 6) into
    minicnn's block; compare outputs in eval and training mode, the gradients and the
    updated running statistics (float64)."""
    torch = pytest.importorskip("torch")
    TorchInvertedResidual, TorchSeparable = _torch_blocks(torch)
    torch.manual_seed(0)
    if kind == "inverted":
        reference, block = TorchInvertedResidual(*args), InvertedResidual(*args)
    else:
        reference, block = TorchSeparable(*args), DepthwiseSeparableConv(*args)
    reference, block = reference.double(), block.double()
    with torch.no_grad():
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(1.5, 3.0), m.bias.uniform_(1.0, 3.0)
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(3)
    block.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})

    x = np.random.default_rng(1).standard_normal((3, args[0], 6, 5))
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
