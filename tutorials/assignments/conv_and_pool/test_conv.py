"""Tests of Parts 1 and 2 (conv.py). Run ``python -m pytest`` in this folder.

Each part is checked three ways: a small example worked out by hand, agreement with
minicnn's own convolution (``minicnn.functional.conv2d``) on random inputs, and, for the
backward pass, ``minicnn.gradcheck`` (finite differences, in float64).
"""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F

from conv import conv2d, conv2d_backward, conv2d_forward

# (N, C, H, W, F, KH, KW, stride, padding). The kernels are not all square, so swapping KH
# and KW fails; stride 2 on sizes it does not divide leaves rows no window covers.
SETTINGS = [
    (1, 1, 4, 4, 1, 3, 3, 1, 0),
    (2, 2, 4, 5, 2, 2, 3, 1, 1),
    (1, 2, 7, 5, 3, 3, 2, 2, 0),
    (1, 2, 6, 6, 2, 3, 3, 2, 1),
]
IDS = [f"x{N}x{C}x{H}x{W}-w{F_out}x{C}x{KH}x{KW}-stride{s}-pad{p}"
       for N, C, H, W, F_out, KH, KW, s, p in SETTINGS]


def random_inputs(setting, dtype=np.float64, seed=0):
    N, C, H, W, F_out, KH, KW, stride, padding = setting
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    weight = rng.standard_normal((F_out, C, KH, KW)).astype(dtype)
    bias = rng.standard_normal(F_out).astype(dtype)
    return x, weight, bias, stride, padding


# ---------------------------------------------------------------- Part 1: conv2d forward


def test_forward_by_hand():
    x = np.array([[[[1.0, 2.0],
                    [3.0, 4.0]]]])            # (1, 1, 2, 2)
    weight = np.ones((1, 1, 2, 2))
    # Padding 1 makes a 4x4 input; each output sums the 2x2 window at (i, j).
    expected = np.array([[[[1.0, 3.0, 2.0],
                           [4.0, 10.0, 6.0],
                           [3.0, 7.0, 4.0]]]]) + 0.5
    out = conv2d_forward(x, weight, np.array([0.5]), stride=1, padding=1)
    np.testing.assert_allclose(out, expected)


def test_forward_stride_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    weight = np.array([[[[1.0, 0.0],
                         [0.0, -1.0]]]])      # x[top, left] - x[top + 1, left + 1] = -5
    out = conv2d_forward(x, weight, np.zeros(1), stride=2, padding=0)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), -5.0))


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_forward_matches_minicnn(setting):
    x, weight, bias, stride, padding = random_inputs(setting)
    out = conv2d_forward(x, weight, bias, stride, padding)
    expected = F.conv2d(minicnn.tensor(x), minicnn.tensor(weight), minicnn.tensor(bias),
                        stride=stride, padding=padding).data
    assert out.shape == expected.shape, "wrong output shape: check OH and OW"
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_forward_keeps_float32():
    x, weight, bias, stride, padding = random_inputs(SETTINGS[1], dtype=np.float32)
    assert conv2d_forward(x, weight, bias, stride, padding).dtype == np.float32


# ---------------------------------------------------------------- Part 2: conv2d backward


def test_backward_by_hand():
    x = np.array([[[[1.0, 2.0],
                    [3.0, 4.0]]]])
    weight = np.ones((1, 1, 2, 2))
    grad_out = np.ones((1, 1, 3, 3))
    grad_x, grad_weight, grad_bias = conv2d_backward(grad_out, x, weight, stride=1, padding=1)
    # With padding 1 every input cell lies in 4 of the 9 windows; every weight meets every
    # input cell exactly once (1 + 2 + 3 + 4); the bias is added to all 9 outputs.
    np.testing.assert_allclose(grad_x, np.full((1, 1, 2, 2), 4.0))
    np.testing.assert_allclose(grad_weight, np.full((1, 1, 2, 2), 10.0))
    np.testing.assert_allclose(grad_bias, [9.0])


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_backward_passes_gradcheck(setting):
    x, weight, bias, stride, padding = random_inputs(setting)
    inputs = [minicnn.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    minicnn.gradcheck(lambda x, w, b: conv2d(x, w, b, stride, padding), inputs)


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_backward_matches_minicnn(setting):
    x, weight, bias, stride, padding = random_inputs(setting)
    OH, OW = F.conv_output_size(x.shape[2:], weight.shape[2:], stride, padding)
    grad_out = np.random.default_rng(1).standard_normal((x.shape[0], weight.shape[0], OH, OW))
    mine = conv2d_backward(grad_out, x, weight, stride, padding)
    inputs = [minicnn.tensor(a, requires_grad=True) for a in (x, weight, bias)]
    F.conv2d(*inputs, stride=stride, padding=padding).backward(grad_out)
    for name, got, t in zip(("grad_x", "grad_weight", "grad_bias"), mine, inputs):
        assert got.shape == t.shape, f"{name} has shape {got.shape}, expected {t.shape}"
        np.testing.assert_allclose(got, t.grad, rtol=1e-10, atol=1e-12, err_msg=name)


def test_uncovered_rows_get_zero_gradient():
    # H = 5, KH = 2, stride 2: windows start at rows 0 and 2, so row 4 is in none of them.
    x, weight, bias, _, _ = random_inputs((1, 1, 5, 5, 1, 2, 2, 2, 0))
    grad_out = np.ones((1, 1, 2, 2))
    grad_x, _, _ = conv2d_backward(grad_out, x, weight, stride=2, padding=0)
    assert grad_x.shape == x.shape
    np.testing.assert_array_equal(grad_x[0, 0, 4, :], 0.0)
    np.testing.assert_array_equal(grad_x[0, 0, :, 4], 0.0)
