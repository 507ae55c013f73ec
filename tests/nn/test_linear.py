"""Linear: shapes, no-bias, validation, repr, and equality with torch.nn.Linear."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.nn._parity import assert_same_as_torch


def test_forward_is_x_times_weight_transposed_plus_bias():
    lin = nn.Linear(3, 2)
    lin.load_state_dict({"weight": np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]),
                         "bias": np.array([0.5, -1.0])})
    out = lin(minicnn.tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)))
    np.testing.assert_array_equal(out.data, [[1 - 3 + 0.5, 2 + 2 + 1.5 - 1]])
    assert out.dtype == np.float32
    assert lin(minicnn.tensor(np.ones((4, 5, 3), dtype=np.float32))).shape == (4, 5, 2)


def test_no_bias_and_state_dict():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert list(lin.state_dict()) == ["weight"]
    assert lin.state_dict()["weight"].shape == (2, 3)
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=False)"


def test_validation():
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, 2.5)
    with pytest.raises(ValueError, match="4 features"):
        nn.Linear(3, 2)(minicnn.tensor(np.ones((2, 4), dtype=np.float32)))


def test_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 5))
    assert_same_as_torch(torch, nn.Linear(5, 3), torch.nn.Linear(5, 3), x)
    assert_same_as_torch(torch, nn.Linear(5, 3, bias=False),
                         torch.nn.Linear(5, 3, bias=False), x)
    assert repr(nn.Linear(5, 3)) == repr(torch.nn.Linear(5, 3))


def test_float32_layer_on_float64_input_raises_like_pytorch():
    lin = nn.Linear(3, 2)
    x = minicnn.tensor(np.ones((4, 3)))  # float64
    with pytest.raises(TypeError, match="linear: weight has dtype float32 but linear: x has "
                                        r"dtype float64; convert one of them \(e.g. "
                                        r"model.double\(\)"):
        lin(x)
    out = lin.double()(x)
    assert out.dtype == np.float64
    with pytest.raises(TypeError, match="linear: x has dtype int64"):
        lin(minicnn.tensor(np.ones((4, 3), dtype=np.int64)))


def test_factory_arguments_device_and_dtype():
    layer = nn.Linear(3, 2, device="cpu", dtype=minicnn.float64)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    assert nn.Linear(3, 2, True, None, None).weight.dtype == np.float32
    with pytest.raises(ValueError, match="Linear: device.*CPU only"):
        nn.Linear(3, 2, device="cuda:0")
    norm = nn.BatchNorm2d(3, device="cpu", dtype=minicnn.float64)
    assert norm.running_var.dtype == np.float64 and norm.num_batches_tracked.dtype == np.int64
