"""Padding layers: ConstantPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad1d/2d:
PyTorch's padding forms, printout and results (values and gradients against torch)."""

import numpy as np
import pytest

import minicnn
from minicnn import nn

LAYERS = [
    ("ConstantPad2d", (2, 3.5)), ("ConstantPad2d", ((1, 0, -1, 2), -1.0)),
    ("ConstantPad1d", ((2, 1), 0.25)),
    ("ReflectionPad2d", (2,)), ("ReflectionPad2d", ((1, 0, 3, 2),)), ("ReflectionPad1d", (3,)),
    ("ReplicationPad2d", ((1, 2, 3, 4),)), ("ReplicationPad1d", ((0, 5),)),
    ("CircularPad2d", (1,)), ("CircularPad2d", ((2, -1, 0, 3),)), ("CircularPad1d", ((4, 1),)),
]


@pytest.mark.parametrize("name, args", LAYERS, ids=str)
def test_matches_torch(name, args):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    shape = (2, 3, 5) if name.endswith("1d") else (2, 3, 4, 5)
    x = minicnn.tensor(rng.standard_normal(shape), requires_grad=True)
    xt = torch.tensor(x.data, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_printouts():
    assert repr(nn.ReflectionPad2d(2)) == "ReflectionPad2d((2, 2, 2, 2))"
    assert repr(nn.ConstantPad2d(1, 3.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)"
    assert repr(nn.ReplicationPad1d((1, 2))) == "ReplicationPad1d((1, 2))"


def test_reflection_pad_by_hand_and_its_limit():
    x = minicnn.tensor(np.array([[[[1.0, 2.0, 3.0]]]]))
    np.testing.assert_array_equal(nn.ReflectionPad2d((2, 1, 0, 0))(x).data.ravel(),
                                  [3, 2, 1, 2, 3, 2])
    with pytest.raises(ValueError, match="padding size should be less than"):
        nn.ReflectionPad2d((3, 0, 0, 0))(x)


@pytest.mark.parametrize("name, padding", [("ReflectionPad2d", (1, 2, 3)),
                                           ("ConstantPad1d", (1, 2, 3, 4)),
                                           ("ReplicationPad2d", 1.5)])
def test_bad_padding_is_refused_when_built(name, padding):
    args = (padding, 0.0) if name.startswith("Constant") else (padding,)
    with pytest.raises(ValueError, match=f"{name}: padding must be an int or"):
        getattr(nn, name)(*args)
