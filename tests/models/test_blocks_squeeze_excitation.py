"""SEBlock: the formula recomputed in NumPy, parameter count and keys, a float64 gradient
check, and torchvision's SqueezeExcitation as the PyTorch oracle."""

import numpy as np
import pytest

import minicnn
from minicnn.models.blocks import SEBlock

from .torch_oracle import assert_same_as_torch, load_twin, torch_se_block


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_se_block_is_the_papers_formula(rng):
    block = SEBlock(8, reduction=4).double()
    x = rng.standard_normal((2, 8, 3, 5))
    w1, b1 = block.fc1.weight.data[:, :, 0, 0], block.fc1.bias.data  # (2, 8), (2,)
    w2, b2 = block.fc2.weight.data[:, :, 0, 0], block.fc2.bias.data  # (8, 2), (8,)
    squeeze = x.mean(axis=(2, 3))                                    # (N, C)
    gate = _sigmoid(np.maximum(squeeze @ w1.T + b1, 0) @ w2.T + b2)   # (N, C)
    expected = x * gate[:, :, None, None]
    out = block(minicnn.tensor(x))
    assert out.shape == x.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)


def test_parameter_count_keys_and_shapes():
    # 2 C^2 / r + C / r + C: at C = 256, r = 16 (SE-ResNet-50's first stage), 8,464
    block = SEBlock(256)
    assert sum(p.numel() for p in block.parameters()) == 2 * 256 * 256 // 16 + 16 + 256 == 8464
    state = block.state_dict()
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert state["fc1.weight"].shape == (16, 256, 1, 1) and state["fc2.weight"].shape == (256, 16,
                                                                                         1, 1)


def test_gradcheck(rng):
    minicnn.manual_seed(0)
    block = SEBlock(6, reduction=3).double()
    x = minicnn.tensor(rng.standard_normal((2, 6, 3, 4)), requires_grad=True)
    hidden = []
    block.relu.register_forward_pre_hook(lambda m, args: hidden.append(args[0].data))
    with minicnn.no_grad():
        block(x)
    assert np.abs(hidden[0]).min() > 1e-4, "seed puts the ReLU on its kink"
    params = list(block.parameters())
    assert len(params) == 4
    assert minicnn.gradcheck(lambda x, *ps: block(x), [x, *params])


def test_gate_is_between_0_and_1_and_keeps_float32(rng):
    block = SEBlock(16, reduction=4)
    x = minicnn.tensor(rng.standard_normal((3, 16, 4, 4)).astype(np.float32) + 2,
                       requires_grad=True)
    out = block(x)
    assert out.dtype == np.float32
    ratio = out.data / x.data  # the gate, the same for every pixel of a channel
    assert ((ratio > 0) & (ratio < 1)).all()
    np.testing.assert_allclose(ratio, ratio[:, :, :1, :1].repeat(4, 2).repeat(4, 3), rtol=1e-5)
    out.sum().backward()
    assert x.grad.dtype == np.float32 and block.fc1.weight.grad.dtype == np.float32


def test_constructor_errors():
    with pytest.raises(ValueError, match="channels // reduction must be at least 1.*"
                                         "channels=8, reduction=16"):
        SEBlock(8)
    with pytest.raises(ValueError, match="reduction must be a positive int, got 0"):
        SEBlock(8, reduction=0)


def test_matches_torchvisions_squeeze_excitation(rng):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch_se_block(torch, 12, 4).double()
    block = SEBlock(12, reduction=4).double()
    load_twin(torch, block, reference)
    assert_same_as_torch(torch, block, reference, rng.standard_normal((3, 12, 5, 4)), rng)
