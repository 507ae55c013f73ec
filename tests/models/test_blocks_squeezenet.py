"""The Fire module: gradient checks, a NumPy re-computation, keys, and a PyTorch oracle.

Gradient checks run in float64 with respect to the input and all six parameters. Inputs
whose ReLU inputs come within 1e-4 of zero (a kink: gradcheck's steps of 1e-6 would
straddle it) are rejected by an assertion on the chosen seed, never covered by a looser
tolerance.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import nn
from minicnn.models.blocks import Fire

KINK_MARGIN = 1e-4


def _relu_inputs(block, x):
    """Every array that goes into one of the block's ReLUs during a forward."""
    seen, handles = [], []
    for m in block.modules():
        if isinstance(m, nn.ReLU):
            handles.append(m.register_forward_pre_hook(
                lambda module, args: seen.append(args[0].data)))
    with minicnn.no_grad():
        block(x)
    for handle in handles:
        handle.remove()
    return seen


@given(inplanes=st.integers(1, 4), squeeze=st.integers(1, 3), e1=st.integers(1, 3),
       e3=st.integers(1, 3), height=st.integers(1, 5), width=st.integers(1, 5),
       seed=st.integers(0, 2**16))
def test_gradcheck_fire(inplanes, squeeze, e1, e3, height, width, seed):
    minicnn.manual_seed(seed)
    block = Fire(inplanes, squeeze, e1, e3).double()
    rng = np.random.default_rng(seed)
    for p in block.parameters():  # biases too, so some ReLUs are off and some on
        p.data[...] = rng.standard_normal(p.shape)
    x = minicnn.tensor(rng.standard_normal((2, inplanes, height, width)), requires_grad=True)
    relu_inputs = _relu_inputs(block, x)
    assert len(relu_inputs) == 3
    if min(np.abs(a).min() for a in relu_inputs) <= KINK_MARGIN:
        pytest.skip("this draw puts a ReLU on its kink")  # rare: about 1 in 1000 draws
    params = list(block.parameters())
    assert len(params) == 6
    assert minicnn.gradcheck(lambda x, *ps: block(x), [x, *params])


def _conv_numpy(x, w, b, pad):
    """Plain cross-correlation with zero padding, stride 1: the spec the block must meet."""
    n, _, h, wd = x.shape
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(k):
        for j in range(k):
            # (N, C_in, H, W) x (C_out, C_in) -> (N, C_out, H, W)
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return out + b[None, :, None, None]


def test_fire_matches_a_numpy_recomputation(rng):
    block = Fire(5, 3, 4, 2).double()
    x = rng.standard_normal((2, 5, 6, 7))
    out = block(minicnn.tensor(x)).data
    s = np.maximum(_conv_numpy(x, block.squeeze.weight.data, block.squeeze.bias.data, 0), 0)
    e1 = np.maximum(_conv_numpy(s, block.expand1x1.weight.data, block.expand1x1.bias.data, 0),
                    0)
    e3 = np.maximum(_conv_numpy(s, block.expand3x3.weight.data, block.expand3x3.bias.data, 1),
                    0)
    assert out.shape == (2, 6, 6, 7)
    np.testing.assert_allclose(out[:, :4], e1, rtol=1e-12, atol=1e-12)  # 1x1 branch first
    np.testing.assert_allclose(out[:, 4:], e3, rtol=1e-12, atol=1e-12)


def test_fire_keys_shapes_and_dtype(rng):
    block = Fire(96, 16, 64, 64)
    state = block.state_dict()
    assert [(k, v.shape) for k, v in state.items()] == [
        ("squeeze.weight", (16, 96, 1, 1)), ("squeeze.bias", (16,)),
        ("expand1x1.weight", (64, 16, 1, 1)), ("expand1x1.bias", (64,)),
        ("expand3x3.weight", (64, 16, 3, 3)), ("expand3x3.bias", (64,))]
    assert sum(p.numel() for p in block.parameters()) == 11_920  # fire2 of SqueezeNet 1.0
    assert [name for name, _ in block.named_children()] == [
        "squeeze", "squeeze_activation", "expand1x1", "expand1x1_activation", "expand3x3",
        "expand3x3_activation"]
    x = minicnn.tensor(rng.standard_normal((2, 96, 5, 5)).astype(np.float32),
                       requires_grad=True)
    out = block(x)
    assert out.shape == (2, 128, 5, 5) and out.dtype == np.float32
    out.backward(rng.standard_normal(out.shape).astype(np.float32))
    assert x.grad.dtype == np.float32 and block.expand3x3.weight.grad.dtype == np.float32


def test_fire_matches_torch(rng):
    """torchvision's Fire, written in plain torch.nn, with the same state_dict: same output,
    input gradient and parameter gradients (float64)."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchFire(tnn.Module):
        def __init__(self, inplanes, squeeze, e1, e3):
            super().__init__()
            self.squeeze = tnn.Conv2d(inplanes, squeeze, kernel_size=1)
            self.squeeze_activation = tnn.ReLU(inplace=True)
            self.expand1x1 = tnn.Conv2d(squeeze, e1, kernel_size=1)
            self.expand1x1_activation = tnn.ReLU(inplace=True)
            self.expand3x3 = tnn.Conv2d(squeeze, e3, kernel_size=3, padding=1)
            self.expand3x3_activation = tnn.ReLU(inplace=True)

        def forward(self, x):
            x = self.squeeze_activation(self.squeeze(x))
            return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                              self.expand3x3_activation(self.expand3x3(x))], 1)

    torch.manual_seed(0)
    reference = TorchFire(6, 3, 4, 5).double()
    block = Fire(6, 3, 4, 5).double()
    block.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = rng.standard_normal((3, 6, 5, 4))
    x_torch = torch.from_numpy(x).requires_grad_(True)
    x_mini = minicnn.tensor(x, requires_grad=True)
    out_torch, out_mini = reference(x_torch), block(x_mini)
    np.testing.assert_allclose(out_mini.data, out_torch.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    upstream = rng.standard_normal(out_mini.shape)
    out_torch.backward(torch.from_numpy(upstream))
    out_mini.backward(upstream)
    np.testing.assert_allclose(x_mini.grad, x_torch.grad.numpy(), rtol=1e-9, atol=1e-11)
    torch_params = dict(reference.named_parameters())
    for name, param in block.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-11, err_msg=name)
