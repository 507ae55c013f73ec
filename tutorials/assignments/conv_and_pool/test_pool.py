"""Tests of Part 3 (pool.py). Run ``python -m pytest`` in this folder.

Gradient checks need inputs without ties (at a tie the maximum has no derivative), so they
use a shuffled set of well-separated values; the tie rule (the first maximum in scan order
wins) is tested separately, by hand and against ``minicnn.functional.max_pool2d``.
"""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F

from pool import max_pool2d, max_pool2d_backward, max_pool2d_forward

# (N, C, H, W, kernel_size, stride): stride < kernel_size overlaps the windows (AlexNet's
# 3x3 stride 2); sizes the stride does not divide leave cells no window covers.
SETTINGS = [
    (1, 1, 4, 4, 2, 2),
    (2, 3, 5, 6, 2, 2),
    (2, 2, 7, 7, 3, 2),
    (1, 2, 5, 4, 2, 1),
]
IDS = [f"x{N}x{C}x{H}x{W}-kernel{k}-stride{s}" for N, C, H, W, k, s in SETTINGS]


def distinct_values(shape, seed=0):
    """A shuffled grid of values 0.1 apart: no ties, far beyond gradcheck's step of 1e-6."""
    values = 0.1 * (np.arange(np.prod(shape)) - np.prod(shape) / 2)
    return np.random.default_rng(seed).permutation(values).reshape(shape)


# ---------------------------------------------------------------- Part 3: max-pool forward


def test_forward_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out = max_pool2d_forward(x, kernel_size=2, stride=2)
    np.testing.assert_allclose(out, [[[[5.0, 7.0],
                                       [13.0, 15.0]]]])


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_forward_matches_minicnn(setting):
    N, C, H, W, kernel_size, stride = setting
    x = distinct_values((N, C, H, W))
    out = max_pool2d_forward(x, kernel_size, stride)
    expected = F.max_pool2d(minicnn.tensor(x), kernel_size, stride).data
    assert out.shape == expected.shape, "wrong output shape: check OH and OW"
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------- Part 3: max-pool backward


def test_backward_first_maximum_wins_a_tie():
    x = np.array([[[[1.0, 3.0],
                    [3.0, 0.0]]]])
    grad_x = max_pool2d_backward(np.array([[[[2.0]]]]), x, kernel_size=2, stride=2)
    np.testing.assert_array_equal(grad_x, [[[[0.0, 2.0],
                                              [0.0, 0.0]]]])


def test_backward_overlapping_windows_add_up():
    x = np.array([[[[0.0, 1.0, 0.0],
                    [2.0, 9.0, 3.0],
                    [0.0, 4.0, 0.0]]]])       # 9 wins all four 2x2 windows
    grad_out = np.array([[[[1.0, 2.0],
                           [3.0, 4.0]]]])
    grad_x = max_pool2d_backward(grad_out, x, kernel_size=2, stride=1)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 1.0 + 2.0 + 3.0 + 4.0
    np.testing.assert_array_equal(grad_x, expected)


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_backward_passes_gradcheck(setting):
    N, C, H, W, kernel_size, stride = setting
    x = minicnn.tensor(distinct_values((N, C, H, W)), requires_grad=True)
    minicnn.gradcheck(lambda x: max_pool2d(x, kernel_size, stride), [x])


@pytest.mark.parametrize("ties", [False, True], ids=["no_ties", "ties"])
@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_backward_matches_minicnn(setting, ties):
    N, C, H, W, kernel_size, stride = setting
    x = distinct_values((N, C, H, W))
    if ties:
        x = np.round(x)  # values 0.1 apart rounded to integers: many ties
    OH, OW = F.conv_output_size((H, W), kernel_size, stride)
    grad_out = np.random.default_rng(1).standard_normal((N, C, OH, OW))
    grad_x = max_pool2d_backward(grad_out, x, kernel_size, stride)
    t = minicnn.tensor(x, requires_grad=True)
    F.max_pool2d(t, kernel_size, stride).backward(grad_out)
    assert grad_x.shape == x.shape, f"grad_x has shape {grad_x.shape}, expected {x.shape}"
    np.testing.assert_allclose(grad_x, t.grad, rtol=1e-12, atol=1e-12)
