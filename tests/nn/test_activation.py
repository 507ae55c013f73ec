"""Activation layers, Flatten, Dropout and CrossEntropyLoss: thin modules over functional."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn
from tests.nn._parity import assert_same_as_torch

X = minicnn.tensor(np.array([[-2.0, -0.5, 0.5, 3.0]], dtype=np.float32))


@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), F.relu), (nn.ReLU6(), F.relu6), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
])
def test_activation_equals_functional(module, fn):
    out = module(X)
    np.testing.assert_array_equal(out.data, fn(X).data)
    assert out.dtype == np.float32 and list(module.parameters()) == []


def test_reprs_match_torch():
    modules = ["ReLU()", "ReLU(inplace=True)", "ReLU6()", "ReLU6(inplace=True)",
               "LeakyReLU(negative_slope=0.2)", "Sigmoid()", "Tanh()",
               "Dropout(p=0.3, inplace=False)", "Flatten(start_dim=1, end_dim=-1)", "Identity()",
               "MSELoss()", "NLLLoss()"]
    for text in modules:
        assert repr(eval("nn." + text)) == text
    torch = pytest.importorskip("torch")
    for text in modules:
        assert repr(eval("torch.nn." + text)) == text


def test_relu6_matches_torch_at_and_between_its_kinks():
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 0.0, 0.5, 3.0], [5.9, 6.0, 6.5, 9.0]])
    assert_same_as_torch(torch, nn.ReLU6(), torch.nn.ReLU6(), x)


def test_leaky_relu_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert_same_as_torch(torch, nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1), x)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_modules_match_torch(name, dim):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 4)) * 5
    assert_same_as_torch(torch, getattr(nn, name)(dim=dim), getattr(torch.nn, name)(dim=dim), x)
    assert repr(getattr(nn, name)(dim=dim)) == repr(getattr(torch.nn, name)(dim=dim))


def test_softmax_without_dim_takes_pytorchs_legacy_choice_and_warns():
    x = minicnn.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        rows = nn.Softmax()(x)                  # 2-D: dim 1
    np.testing.assert_allclose(rows.data.sum(axis=1), [1.0, 1.0])
    with pytest.warns(UserWarning, match="log_softmax"):
        nn.LogSoftmax()(x)


def test_softmax2d_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    assert_same_as_torch(torch, nn.Softmax2d(), torch.nn.Softmax2d(), x)


# ----------------------------------------------------------------------------- issue 14

NEW_MODULES = ["GELU()", "GELU(approximate='tanh')", "SiLU()", "SiLU(inplace=True)", "ELU()",
               "ELU(alpha=0.5, inplace=True)", "SELU()", "SELU(inplace=True)", "CELU()",
               "CELU(alpha=2.0, inplace=True)", "Softplus()", "Softplus(beta=2, threshold=10)",
               "Hardswish()", "Hardswish(inplace=True)", "Hardsigmoid()",
               "Hardsigmoid(inplace=True)", "Hardtanh()",
               "Hardtanh(min_val=-2, max_val=3, inplace=True)", "PReLU()",
               "PReLU(num_parameters=3, init=0.1)", "Mish()", "Mish(inplace=True)",
               "LogSigmoid()", "Softmin(dim=1)", "Softmin()", "Softmax()", "LogSoftmax()"]


@pytest.mark.parametrize("text", NEW_MODULES)
def test_new_modules_print_as_pytorchs(text):
    torch = pytest.importorskip("torch")
    assert repr(eval("nn." + text)) == repr(eval("torch.nn." + text))


# (PyTorch's inplace=True modules refuse a leaf that requires grad: tested below instead)
@pytest.mark.parametrize("text", [t for t in NEW_MODULES if "inplace" not in t and (
    "Softm" not in t or t == "Softmin(dim=1)")])
def test_new_modules_match_torch_forward_and_backward(text):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 4)) * 4
    x[0, 0, :3] = [0.0, 3.0, -3.0]  # kinks: PyTorch's gradient choices
    # PyTorch's float64 hardsigmoid gradient multiplies by a float32 1/6 (3e-8 off)
    rtol = 1e-7 if text.startswith("Hardsigmoid") else 1e-8
    assert_same_as_torch(torch, eval("nn." + text), eval("torch.nn." + text), x, rtol=rtol)


def test_prelu_learns_one_slope_per_channel_as_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.PReLU(3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.1, -0.2, 0.3]))
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 4))
    ours = nn.PReLU(3)
    assert list(ours.state_dict()) == ["weight"] and ours.weight.shape == (3,)
    np.testing.assert_array_equal(ours.weight.data, [0.25, 0.25, 0.25])  # init=0.25
    assert_same_as_torch(torch, ours, theirs, x)  # the weight's gradient too


def test_prelu_module_gradcheck_of_input_and_weight(rng):
    layer = nn.PReLU(3, init=-0.3).double()
    x = minicnn.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert minicnn.gradcheck(lambda t, w: layer(t), [x, layer.weight])
    assert layer.weight.dtype == np.float64


def test_prelu_factory_arguments_and_errors():
    assert nn.PReLU(2, dtype=np.float64).weight.dtype == np.float64
    assert nn.PReLU().weight.dtype == np.float32
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int, got 0"):
        nn.PReLU(0)
    with pytest.raises(TypeError, match="prelu: weight has dtype float32 but prelu: x has "
                                        "dtype float64"):
        nn.PReLU()(minicnn.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="weight has 2 slopes but the input .* 3 channels"):
        nn.PReLU(2)(minicnn.tensor(np.ones((2, 3), np.float32)))


def test_relu6_is_a_hardtanh_from_0_to_6_as_in_pytorch():
    relu6 = nn.ReLU6()
    assert isinstance(relu6, nn.Hardtanh) and (relu6.min_val, relu6.max_val) == (0.0, 6.0)


def test_hardtanh_bounds_are_checked_and_the_old_names_warn():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than "
                                         r"min_val \(2.0\)"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-2.0)
    assert layer.min_val == -2.0
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        nn.GELU("exact")


@pytest.mark.parametrize("text", ["ReLU(inplace=True)", "ReLU6(inplace=True)",
                                  "LeakyReLU(inplace=True)", "SiLU(inplace=True)",
                                  "ELU(inplace=True)", "SELU(inplace=True)",
                                  "CELU(inplace=True)", "Hardswish(inplace=True)",
                                  "Hardsigmoid(inplace=True)", "Hardtanh(inplace=True)",
                                  "Mish(inplace=True)"])
def test_inplace_modules_return_pytorchs_values_and_leave_their_input(text):
    torch = pytest.importorskip("torch")
    values = np.array([[-4.0, -1.0, 0.5, 7.0]])
    x = minicnn.tensor(values.copy())
    out = eval("nn." + text)(x)
    np.testing.assert_array_equal(x.data, values)  # out of place: documented
    expected = eval("torch.nn." + text)(torch.tensor(values))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-15)


def test_softmin_without_dim_takes_pytorchs_legacy_choice_and_warns():
    torch = pytest.importorskip("torch")
    for shape in [(4,), (2, 3, 4), (2, 3, 4, 5)]:  # legacy dims 0, 0, 1
        x = np.random.default_rng(5).standard_normal(shape)
        for name in ["Softmin", "Softmax", "LogSoftmax"]:
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                ours = getattr(nn, name)()(minicnn.tensor(x))
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                theirs = getattr(torch.nn, name)()(torch.tensor(x))
            np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, err_msg=name)


def test_softmax_modules_of_a_0d_input_as_pytorch():
    torch = pytest.importorskip("torch")
    for name in ["Softmin", "Softmax", "LogSoftmax"]:
        with pytest.warns(UserWarning):
            ours = getattr(nn, name)()(minicnn.tensor(np.float64(3.0)))
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn, name)()(torch.tensor(3.0, dtype=torch.float64))
        assert ours.shape == () and ours.item() == theirs.item()
