"""Inception blocks: gradient checks, shapes and parameter counts, keys, and a PyTorch oracle.

Gradient checks run in float64 and training mode (batch statistics), with respect to the
input and every parameter, at tiny widths (the widths are keyword arguments whose defaults are
torchvision's). Inputs are a shuffled evenly spaced grid, so the max-pooling branches never
see a tie; batch-norm affine parameters are drawn away from 1 and 0; a chosen seed whose
ReLU inputs come within 1e-4 of zero (a kink, which gradcheck's 1e-6 steps would straddle) is
rejected by an assertion, never covered by a looser tolerance.
"""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.models.blocks import (BasicConv2d, Inception, InceptionA, InceptionAux,
                                   InceptionAuxV1, InceptionB, InceptionC, InceptionD,
                                   InceptionE)
from minicnn.models.blocks.inception import init_inception_weights, rescale_imagenet_input

KINK_MARGIN = 1e-4

# name: (block builder, input shape); every block, at widths of 1 or 2 channels
CONFIGS = {
    "inception-v1": (lambda: Inception(2, 1, 1, 2, 1, 2, 1), (2, 2, 4, 4)),
    "inception-v1-paper-5x5": (lambda: Inception(2, 1, 1, 1, 1, 2, 1, branch3_kernel_size=5),
                               (2, 2, 4, 5)),
    "aux-v1": (lambda: InceptionAuxV1(2, 3, conv_channels=1, hidden_features=3), (2, 2, 5, 6)),
    "A": (lambda: InceptionA(2, 1, ch1x1=1, ch5x5red=1, ch5x5=2, ch3x3dbl_red=1, ch3x3dbl=2),
          (2, 2, 4, 4)),
    "B": (lambda: InceptionB(2, ch3x3=1, ch3x3dbl_red=1, ch3x3dbl=2), (2, 2, 5, 4)),
    "C": (lambda: InceptionC(2, 1, ch_branch=1), (2, 2, 4, 3)),
    "D": (lambda: InceptionD(2, ch_red=1, ch3x3=1, ch7x7x3=1), (2, 2, 5, 4)),
    "E": (lambda: InceptionE(2, ch1x1=1, ch3x3=1, ch3x3dbl_red=1, ch_pool=1), (2, 2, 3, 4)),
    # 17x17 is the smallest grid the head takes; a batch of 3 because conv1 ends on 1x1
    "aux-v3": (lambda: InceptionAux(1, 2, conv0_channels=1, conv1_channels=2), (3, 1, 17, 17)),
}


def _spread_input(shape, rng):
    """Distinct values spaced by at least 4 / size: no max-pool window holds a near-tie."""
    return rng.permutation(np.linspace(-2.0, 2.0, int(np.prod(shape)))).reshape(shape)


def _randomise_batch_norms(block, rng):
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data[...] = rng.uniform(0.5, 1.5, m.weight.shape)
            m.bias.data[...] = rng.uniform(-0.5, 0.5, m.bias.shape)


def _relu_inputs(block, x):
    """Every batch norm's output, i.e. what each BasicConv2d's ReLU receives."""
    seen = []
    handles = [m.bn.register_forward_hook(lambda mod, args, out: seen.append(out.data))
               for m in block.modules() if isinstance(m, BasicConv2d)]
    with minicnn.no_grad():
        block(x)
    for handle in handles:
        handle.remove()
    return seen


@pytest.mark.parametrize("name", list(CONFIGS))
def test_gradcheck_block_in_training_mode(name):
    build, shape = CONFIGS[name]
    minicnn.manual_seed(3)
    block = build().double()
    rng = np.random.default_rng(9)
    _randomise_batch_norms(block, rng)
    x = minicnn.tensor(_spread_input(shape, rng), requires_grad=True)
    relu_inputs = _relu_inputs(block, x)
    assert relu_inputs, "no BasicConv2d ran"
    assert min(np.abs(a).min() for a in relu_inputs) > KINK_MARGIN, "seed puts a ReLU on its kink"
    params = list(block.parameters())
    assert all(p.dtype == np.float64 for p in params)

    def run(x, *params):
        minicnn.manual_seed(5)  # the auxiliary head's dropout: the same mask every call
        return block(x)

    assert block.training
    assert minicnn.gradcheck(run, [x, *params])


def test_gradcheck_catches_a_wrong_branch_gradient():
    """The checks above can fail: a branch whose backward is scaled wrongly is caught."""
    minicnn.manual_seed(3)
    block = Inception(2, 1, 1, 1, 1, 1, 1).double()
    x = minicnn.tensor(_spread_input((2, 2, 3, 3), np.random.default_rng(0)),
                       requires_grad=True)

    class HalveGradient(minicnn.autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, a):
            return a.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad / 2

    block.branch1.register_forward_hook(lambda m, args, out: HalveGradient.apply(out))
    with pytest.raises(minicnn.GradcheckError):
        minicnn.gradcheck(lambda x: block(x), [x])


# --------------------------------------------------------------------------- structure


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _zeros(*shape):
    return minicnn.tensor(np.zeros(shape, dtype=np.float32))


def test_basic_conv2d_is_conv_without_bias_then_batch_norm_eps_0_001_then_relu():
    block = BasicConv2d(3, 4, kernel_size=(1, 7), stride=2, padding=(0, 3))
    assert list(block.state_dict()) == ["conv.weight", "bn.weight", "bn.bias",
                                        "bn.running_mean", "bn.running_var",
                                        "bn.num_batches_tracked"]
    assert block.conv.bias is None and block.bn.eps == 0.001
    assert block.state_dict()["conv.weight"].shape == (4, 3, 1, 7)
    assert block(_zeros(2, 3, 5, 9)).shape == (2, 4, 3, 5)
    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((2, 3, 4, 4)).astype(np.float32))
    block.eval()
    block.bn.running_mean[...] = rng.standard_normal(4)
    expected = np.maximum(block.bn(block.conv(x)).data, 0)
    np.testing.assert_array_equal(block(x).data, expected)
    assert (expected == 0).any() and (expected > 0).any()


# Parameter counts at torchvision's widths, worked by hand: a BasicConv2d from c to k with an
# a x b kernel holds c*k*a*b conv weights and 2k batch-norm parameters.
def _bc(c, k, a=1, b=1):
    return c * k * a * b + 2 * k


HAND_COUNTS = {
    # GoogLeNet's inception3a: 192 -> 64 | 96 -> 128 | 16 -> 32 (3x3) | pool -> 32
    "inception3a": (lambda: Inception(192, 64, 96, 128, 16, 32, 32),
                    _bc(192, 64) + _bc(192, 96) + _bc(96, 128, 3, 3) + _bc(192, 16)
                    + _bc(16, 32, 3, 3) + _bc(192, 32)),
    "aux1": (lambda: InceptionAuxV1(512, 1000),
             _bc(512, 128) + 2048 * 1024 + 1024 + 1024 * 1000 + 1000),
    "Mixed_5b": (lambda: InceptionA(192, pool_features=32),
                 _bc(192, 64) + _bc(192, 48) + _bc(48, 64, 5, 5) + _bc(192, 64)
                 + _bc(64, 96, 3, 3) + _bc(96, 96, 3, 3) + _bc(192, 32)),
    "Mixed_6a": (lambda: InceptionB(288),
                 _bc(288, 384, 3, 3) + _bc(288, 64) + _bc(64, 96, 3, 3) + _bc(96, 96, 3, 3)),
    "Mixed_6b": (lambda: InceptionC(768, channels_7x7=128),
                 _bc(768, 192) + _bc(768, 128) + _bc(128, 128, 1, 7) + _bc(128, 192, 7, 1)
                 + _bc(768, 128) + 3 * _bc(128, 128, 7, 1) + _bc(128, 192, 1, 7)
                 + _bc(768, 192)),
    "Mixed_7a": (lambda: InceptionD(768),
                 _bc(768, 192) + _bc(192, 320, 3, 3) + _bc(768, 192) + 2 * _bc(192, 192, 1, 7)
                 + _bc(192, 192, 3, 3)),
    "Mixed_7b": (lambda: InceptionE(1280),
                 _bc(1280, 320) + _bc(1280, 384) + 2 * _bc(384, 384, 1, 3) + _bc(1280, 448)
                 + _bc(448, 384, 3, 3) + 2 * _bc(384, 384, 1, 3) + _bc(1280, 192)),
    "AuxLogits": (lambda: InceptionAux(768, 1000),
                  _bc(768, 128) + _bc(128, 768, 5, 5) + 768 * 1000 + 1000),
}


@pytest.mark.parametrize("name", list(HAND_COUNTS))
def test_parameter_count_at_torchvision_widths(name):
    build, expected = HAND_COUNTS[name]
    assert _count(build()) == expected


@pytest.mark.parametrize("build, shape, expected", [
    # inception3a on GoogLeNet's 28x28 grid (smaller here): 64 + 128 + 32 + 32 = 256
    (lambda: Inception(192, 64, 96, 128, 16, 32, 32), (2, 192, 6, 7), (2, 256, 6, 7)),
    (lambda: Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=5), (1, 192, 5, 5),
     (1, 256, 5, 5)),
    (lambda: InceptionAuxV1(512, 10), (2, 512, 14, 14), (2, 10)),
    (lambda: InceptionAuxV1(528, 10), (2, 528, 3, 5), (2, 10)),  # any grid: adaptive pooling
    (lambda: InceptionA(192, pool_features=32), (2, 192, 5, 5), (2, 256, 5, 5)),
    (lambda: InceptionA(256, pool_features=64), (1, 256, 5, 5), (1, 288, 5, 5)),
    (lambda: InceptionB(288), (1, 288, 7, 8), (1, 768, 3, 3)),  # 384 + 96 + 288
    (lambda: InceptionC(768, channels_7x7=160), (1, 768, 4, 5), (1, 768, 4, 5)),
    (lambda: InceptionD(768), (1, 768, 9, 8), (1, 1280, 4, 3)),  # 320 + 192 + 768
    (lambda: InceptionE(1280), (1, 1280, 3, 2), (1, 2048, 3, 2)),  # 320 + 4*384 + 192
    (lambda: InceptionAux(768, 10), (2, 768, 17, 17), (2, 10)),
    (lambda: InceptionAux(768, 10), (2, 768, 19, 18), (2, 10)),  # 5x5 stride 3 -> 5x5
])
def test_output_shapes_and_out_channels(build, shape, expected):
    block = build()
    out = block(_zeros(*shape))
    assert out.shape == expected and out.dtype == np.float32
    if len(expected) == 4:
        assert block.out_channels == expected[1]


def test_auxiliary_head_v3_refuses_a_grid_below_17_with_a_clear_error():
    head = InceptionAux(4, 10, conv0_channels=2, conv1_channels=3)
    with pytest.raises(ValueError, match=r"16x17.*17x17.*299x299.*aux_logits=False"):
        head(_zeros(2, 4, 16, 17))


def test_inception_rejects_a_branch3_kernel_other_than_3_or_5():
    with pytest.raises(ValueError, match="branch3_kernel_size must be 3.*or 5.*got 7"):
        Inception(8, 1, 1, 1, 1, 1, 1, branch3_kernel_size=7)


def test_keys_and_shapes_of_googlenet_inception_module():
    state = Inception(480, 192, 96, 208, 16, 48, 64).state_dict()  # GoogLeNet's inception4a
    assert len(state) == 6 * 6
    assert list(state)[:7] == ["branch1.conv.weight", "branch1.bn.weight", "branch1.bn.bias",
                               "branch1.bn.running_mean", "branch1.bn.running_var",
                               "branch1.bn.num_batches_tracked", "branch2.0.conv.weight"]
    assert state["branch2.1.conv.weight"].shape == (208, 96, 3, 3)
    assert state["branch3.1.conv.weight"].shape == (48, 16, 3, 3)  # torchvision's "5x5"
    assert state["branch4.1.conv.weight"].shape == (64, 480, 1, 1)  # branch4.0 is the pool
    assert state["branch4.1.bn.num_batches_tracked"].shape == ()
    paper = Inception(480, 192, 96, 208, 16, 48, 64, branch3_kernel_size=5).state_dict()
    assert list(paper) == list(state)
    assert paper["branch3.1.conv.weight"].shape == (48, 16, 5, 5)


def test_keys_and_shapes_of_inception_v3_modules():
    e = InceptionE(2048).state_dict()  # Mixed_7c
    assert [k for k in e if k.endswith("conv.weight")] == [
        f"branch{b}.conv.weight" for b in ("1x1", "3x3_1", "3x3_2a", "3x3_2b", "3x3dbl_1",
                                           "3x3dbl_2", "3x3dbl_3a", "3x3dbl_3b", "_pool")]
    assert e["branch3x3_2a.conv.weight"].shape == (384, 384, 1, 3)
    assert e["branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    assert e["branch_pool.bn.running_var"].shape == (192,)
    c = InceptionC(768, channels_7x7=160).state_dict()
    assert c["branch7x7_2.conv.weight"].shape == (160, 160, 1, 7)
    assert c["branch7x7dbl_2.conv.weight"].shape == (160, 160, 7, 1)
    assert c["branch7x7dbl_5.conv.weight"].shape == (192, 160, 1, 7)
    d = InceptionD(768).state_dict()
    assert d["branch7x7x3_4.conv.weight"].shape == (192, 192, 3, 3)
    aux = InceptionAux(768, 1000).state_dict()
    assert list(aux)[-2:] == ["fc.weight", "fc.bias"]
    assert aux["conv1.conv.weight"].shape == (768, 128, 5, 5)
    aux1 = InceptionAuxV1(512, 1000).state_dict()
    assert [k for k in aux1 if "num_batches" not in k][-4:] == ["fc1.weight", "fc1.bias",
                                                                "fc2.weight", "fc2.bias"]
    assert aux1["conv.conv.weight"].shape == (128, 512, 1, 1)


def test_auxiliary_head_v1_dropout_is_active_in_training_only():
    head = InceptionAuxV1(4, 3, dropout=0.7, conv_channels=2, hidden_features=50)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 4, 8, 8)).astype(np.float32))
    head.eval()
    first, second = head(x).data, head(x).data
    np.testing.assert_array_equal(first, second)
    head.train()
    minicnn.manual_seed(0)
    a = head(x).data
    minicnn.manual_seed(1)
    b = head(x).data
    assert not np.allclose(a, b)


def test_rescale_imagenet_input_is_the_per_channel_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    out = rescale_imagenet_input(minicnn.tensor(x))
    assert out.dtype == np.float32 and out.shape == x.shape
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for c in range(3):
        expected = x[:, c] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5
        np.testing.assert_allclose(out.data[:, c], expected, rtol=1e-6, atol=1e-6)
    # the meaning: an image p in [0, 1] normalised with mean/std comes out as (p - 0.5) / 0.5
    pixels = rng.uniform(0, 1, (1, 3, 2, 2))
    normalised = (pixels - np.reshape(mean, (1, 3, 1, 1))) / np.reshape(std, (1, 3, 1, 1))
    np.testing.assert_allclose(rescale_imagenet_input(minicnn.tensor(normalised)).data,
                               (pixels - 0.5) / 0.5, atol=1e-12)


def test_rescale_imagenet_input_is_differentiable_and_checks_its_shape():
    x = minicnn.tensor(np.random.default_rng(1).standard_normal((1, 3, 2, 2)),
                       requires_grad=True)
    assert minicnn.gradcheck(rescale_imagenet_input, [x])
    with pytest.raises(ValueError, match=r"transform_input.*\(N, 3, H, W\).*\(2, 4, 5, 5\)"):
        rescale_imagenet_input(_zeros(2, 4, 5, 5))


def test_init_inception_weights_draws_normal_weights_and_resets_batch_norm():
    minicnn.manual_seed(0)
    head = InceptionAux(768, 1000)
    head.conv0.bn.weight.data[...] = 3
    init_inception_weights(head, std=0.1)
    assert abs(head.conv1.conv.weight.data.std() - 0.1) < 0.002  # 2.5M draws
    assert abs(head.conv0.conv.weight.data.std() - 0.1) < 0.005
    assert abs(head.fc.weight.data.std() - 0.001) < 0.00005  # the head's own std
    assert np.all(head.conv0.bn.weight.data == 1) and np.all(head.conv0.bn.bias.data == 0)
    assert np.abs(head.fc.bias.data).max() <= 1 / np.sqrt(768)  # PyTorch's default bias
    minicnn.manual_seed(0)
    again = InceptionAux(768, 1000)
    init_inception_weights(again, std=0.1)
    for (key, value), other in zip(head.state_dict().items(), again.state_dict().values()):
        np.testing.assert_array_equal(value, other, err_msg=key)


# --------------------------------------------------------------------------- PyTorch oracle
# Each block rebuilt in plain torch.nn from the papers' descriptions, with torchvision's
# sub-module names; torch's state_dict loads into minicnn's block, and both compute the same.


def _torch_blocks():
    torch = pytest.importorskip("torch")
    tnn, tF = torch.nn, torch.nn.functional

    class ConvBN(tnn.Module):
        def __init__(self, cin, cout, kernel_size, stride=1, padding=0):
            super().__init__()
            self.conv = tnn.Conv2d(cin, cout, kernel_size, stride, padding, bias=False)
            self.bn = tnn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return tF.relu(self.bn(self.conv(x)))

    class Graph(tnn.Module):
        """Named layers plus a function that wires them."""

        def __init__(self, layers, wiring):
            super().__init__()
            for name, layer in layers:
                self.add_module(name, layer)
            self.wiring = wiring

        def forward(self, x):
            return self.wiring(self, x)

    def pool3(x):
        return tF.avg_pool2d(x, 3, stride=1, padding=1)

    def v1(cin, c1, c3r, c3, c5r, c5, cp):
        return Graph([
            ("branch1", ConvBN(cin, c1, 1)),
            ("branch2", tnn.Sequential(ConvBN(cin, c3r, 1), ConvBN(c3r, c3, 3, padding=1))),
            ("branch3", tnn.Sequential(ConvBN(cin, c5r, 1), ConvBN(c5r, c5, 3, padding=1))),
            ("branch4", tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True),
                                       ConvBN(cin, cp, 1)))],
            lambda m, x: torch.cat([m.branch1(x), m.branch2(x), m.branch3(x), m.branch4(x)], 1))

    def a(cin, cp, c1, c5r, c5, cdr, cd):
        return Graph([
            ("branch1x1", ConvBN(cin, c1, 1)), ("branch5x5_1", ConvBN(cin, c5r, 1)),
            ("branch5x5_2", ConvBN(c5r, c5, 5, padding=2)),
            ("branch3x3dbl_1", ConvBN(cin, cdr, 1)),
            ("branch3x3dbl_2", ConvBN(cdr, cd, 3, padding=1)),
            ("branch3x3dbl_3", ConvBN(cd, cd, 3, padding=1)), ("branch_pool", ConvBN(cin, cp, 1))],
            lambda m, x: torch.cat([
                m.branch1x1(x), m.branch5x5_2(m.branch5x5_1(x)),
                m.branch3x3dbl_3(m.branch3x3dbl_2(m.branch3x3dbl_1(x))),
                m.branch_pool(pool3(x))], 1))

    def b(cin, c3, cdr, cd):
        return Graph([
            ("branch3x3", ConvBN(cin, c3, 3, stride=2)), ("branch3x3dbl_1", ConvBN(cin, cdr, 1)),
            ("branch3x3dbl_2", ConvBN(cdr, cd, 3, padding=1)),
            ("branch3x3dbl_3", ConvBN(cd, cd, 3, stride=2))],
            lambda m, x: torch.cat([
                m.branch3x3(x), m.branch3x3dbl_3(m.branch3x3dbl_2(m.branch3x3dbl_1(x))),
                tF.max_pool2d(x, 3, stride=2)], 1))

    def c(cin, c7, cb):
        row, col = dict(padding=(0, 3)), dict(padding=(3, 0))
        names = ["branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4",
                 "branch7x7dbl_5"]

        def wiring(m, x):
            dbl = x
            for name in names:
                dbl = getattr(m, name)(dbl)
            return torch.cat([m.branch1x1(x), m.branch7x7_3(m.branch7x7_2(m.branch7x7_1(x))),
                              dbl, m.branch_pool(pool3(x))], 1)
        return Graph([
            ("branch1x1", ConvBN(cin, cb, 1)), ("branch7x7_1", ConvBN(cin, c7, 1)),
            ("branch7x7_2", ConvBN(c7, c7, (1, 7), **row)),
            ("branch7x7_3", ConvBN(c7, cb, (7, 1), **col)),
            (names[0], ConvBN(cin, c7, 1)), (names[1], ConvBN(c7, c7, (7, 1), **col)),
            (names[2], ConvBN(c7, c7, (1, 7), **row)), (names[3], ConvBN(c7, c7, (7, 1), **col)),
            (names[4], ConvBN(c7, cb, (1, 7), **row)), ("branch_pool", ConvBN(cin, cb, 1))],
            wiring)

    def d(cin, cr, c3, c7):
        return Graph([
            ("branch3x3_1", ConvBN(cin, cr, 1)), ("branch3x3_2", ConvBN(cr, c3, 3, stride=2)),
            ("branch7x7x3_1", ConvBN(cin, c7, 1)),
            ("branch7x7x3_2", ConvBN(c7, c7, (1, 7), padding=(0, 3))),
            ("branch7x7x3_3", ConvBN(c7, c7, (7, 1), padding=(3, 0))),
            ("branch7x7x3_4", ConvBN(c7, c7, 3, stride=2))],
            lambda m, x: torch.cat([
                m.branch3x3_2(m.branch3x3_1(x)),
                m.branch7x7x3_4(m.branch7x7x3_3(m.branch7x7x3_2(m.branch7x7x3_1(x)))),
                tF.max_pool2d(x, 3, stride=2)], 1))

    def e(cin, c1, c3, cdr, cp):
        def wiring(m, x):
            mid = m.branch3x3_1(x)
            dbl = m.branch3x3dbl_2(m.branch3x3dbl_1(x))
            return torch.cat([m.branch1x1(x), m.branch3x3_2a(mid), m.branch3x3_2b(mid),
                              m.branch3x3dbl_3a(dbl), m.branch3x3dbl_3b(dbl),
                              m.branch_pool(pool3(x))], 1)
        return Graph([
            ("branch1x1", ConvBN(cin, c1, 1)), ("branch3x3_1", ConvBN(cin, c3, 1)),
            ("branch3x3_2a", ConvBN(c3, c3, (1, 3), padding=(0, 1))),
            ("branch3x3_2b", ConvBN(c3, c3, (3, 1), padding=(1, 0))),
            ("branch3x3dbl_1", ConvBN(cin, cdr, 1)),
            ("branch3x3dbl_2", ConvBN(cdr, c3, 3, padding=1)),
            ("branch3x3dbl_3a", ConvBN(c3, c3, (1, 3), padding=(0, 1))),
            ("branch3x3dbl_3b", ConvBN(c3, c3, (3, 1), padding=(1, 0))),
            ("branch_pool", ConvBN(cin, cp, 1))], wiring)

    def aux_v3(cin, classes, c0, c1):
        return Graph([("conv0", ConvBN(cin, c0, 1)), ("conv1", ConvBN(c0, c1, 5)),
                      ("fc", tnn.Linear(c1, classes))],
                     lambda m, x: m.fc(torch.flatten(tF.adaptive_avg_pool2d(
                         m.conv1(m.conv0(tF.avg_pool2d(x, 5, stride=3))), 1), 1)))

    def aux_v1(cin, classes, cc, hidden):
        return Graph([("conv", ConvBN(cin, cc, 1)), ("fc1", tnn.Linear(cc * 16, hidden)),
                      ("fc2", tnn.Linear(hidden, classes))],
                     lambda m, x: m.fc2(tF.dropout(tF.relu(m.fc1(torch.flatten(
                         m.conv(tF.adaptive_avg_pool2d(x, 4)), 1))), 0.7, m.training)))

    return torch, dict(v1=v1, a=a, b=b, c=c, d=d, e=e, aux_v3=aux_v3, aux_v1=aux_v1)


# name: (torch builder name, its arguments, minicnn block, input shape), at small widths
ORACLE_CASES = {
    "inception-v1": ("v1", (6, 3, 4, 5, 2, 3, 2), lambda: Inception(6, 3, 4, 5, 2, 3, 2),
                     (3, 6, 7, 6)),
    "A": ("a", (6, 3, 4, 2, 3, 4, 5),
          lambda: InceptionA(6, 3, ch1x1=4, ch5x5red=2, ch5x5=3, ch3x3dbl_red=4, ch3x3dbl=5),
          (3, 6, 6, 7)),
    "B": ("b", (5, 4, 3, 6), lambda: InceptionB(5, ch3x3=4, ch3x3dbl_red=3, ch3x3dbl=6),
          (2, 5, 9, 8)),
    "C": ("c", (5, 3, 4), lambda: InceptionC(5, 3, ch_branch=4), (2, 5, 8, 9)),
    "D": ("d", (5, 3, 4, 2), lambda: InceptionD(5, ch_red=3, ch3x3=4, ch7x7x3=2), (2, 5, 9, 9)),
    "E": ("e", (5, 2, 3, 4, 2),
          lambda: InceptionE(5, ch1x1=2, ch3x3=3, ch3x3dbl_red=4, ch_pool=2), (2, 5, 5, 4)),
    "aux-v3": ("aux_v3", (4, 5, 3, 6),
               lambda: InceptionAux(4, 5, conv0_channels=3, conv1_channels=6), (3, 4, 18, 17)),
    "aux-v1": ("aux_v1", (4, 5, 3, 7),
               lambda: InceptionAuxV1(4, 5, conv_channels=3, hidden_features=7), (2, 4, 9, 10)),
}


@pytest.mark.parametrize("name", list(ORACLE_CASES))
def test_block_matches_torch_with_torchs_state_dict(name):
    torch, torch_builders = _torch_blocks()
    torch_name, torch_args, build_ours, shape = ORACLE_CASES[name]
    torch.manual_seed(0)
    reference = torch_builders[torch_name](*torch_args).double()
    rng = np.random.default_rng(2)
    with torch.no_grad():  # non-trivial batch-norm state, so eval mode tests it
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.copy_(torch.from_numpy(rng.standard_normal(m.num_features)))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2, m.num_features)))
    torch_state = {k: v.numpy() for k, v in reference.state_dict().items()}
    ours = build_ours().double()
    assert list(ours.state_dict()) == list(torch_state)  # names and order
    ours.load_state_dict(torch_state)
    x_np = rng.standard_normal(shape)

    # eval first (training mode updates the running stats); the v1 head's dropout draws
    # different masks in the two frameworks, so it is compared in eval mode only
    for training in (False,) if name == "aux-v1" else (False, True):
        reference.train(training)
        ours.train(training)
        x_torch = torch.from_numpy(x_np.copy()).requires_grad_(True)
        x = minicnn.tensor(x_np.copy(), requires_grad=True)
        expected = reference(x_torch)
        out = ours(x)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-10)
        upstream = rng.standard_normal(out.shape)
        expected.backward(torch.from_numpy(upstream))
        out.backward(upstream)
        np.testing.assert_allclose(x.grad, x_torch.grad.numpy(), rtol=1e-8, atol=1e-10)
    after = {k: v.numpy() for k, v in reference.state_dict().items()}
    for key, value in ours.state_dict().items():  # running statistics updated alike
        np.testing.assert_allclose(value, after[key], rtol=1e-9, atol=1e-12, err_msg=key)


# At torchvision's widths (the blocks' defaults): torch's names, order and shapes.
TORCHVISION_WIDTHS = {
    "inception4a": ("v1", (480, 192, 96, 208, 16, 48, 64),
                    lambda: Inception(480, 192, 96, 208, 16, 48, 64)),
    "Mixed_5b": ("a", (192, 32, 64, 48, 64, 64, 96), lambda: InceptionA(192, 32)),
    "Mixed_6a": ("b", (288, 384, 64, 96), lambda: InceptionB(288)),
    "Mixed_6c": ("c", (768, 160, 192), lambda: InceptionC(768, 160)),
    "Mixed_7a": ("d", (768, 192, 320, 192), lambda: InceptionD(768)),
    "Mixed_7b": ("e", (1280, 320, 384, 448, 192), lambda: InceptionE(1280)),
    "AuxLogits": ("aux_v3", (768, 1000, 128, 768), lambda: InceptionAux(768, 1000)),
    "aux2": ("aux_v1", (528, 1000, 128, 1024), lambda: InceptionAuxV1(528, 1000)),
}


@pytest.mark.parametrize("name", list(TORCHVISION_WIDTHS))
def test_blocks_at_torchvision_widths_have_torchs_keys_and_shapes(name):
    _, torch_builders = _torch_blocks()
    torch_name, torch_args, build_ours = TORCHVISION_WIDTHS[name]
    expected = {k: tuple(v.shape) for k, v in
                torch_builders[torch_name](*torch_args).state_dict().items()}
    ours = {k: v.shape for k, v in build_ours().state_dict().items()}
    assert list(ours) == list(expected)
    assert ours == expected
