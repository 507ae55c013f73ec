"""Output sizes and padding rules (kernels/geometry.py), the one place that computes them."""

import doctest
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn import functional as F
from minicnn.kernels import geometry
from minicnn.kernels.geometry import (conv_output_size, output_size, pair, resolve_padding,
                                      same_padding)


@pytest.mark.parametrize("args, expected", [
    ((32, 3, 1, 1, 1), 32),          # 3x3, pad 1: size kept
    ((32, 5), 28),                   # LeNet's 5x5 'valid'
    ((224, 7, 2, 3, 3), 112),        # ResNet stem
    ((224, 11, 4, 2, 2), 55),        # AlexNet conv1
    ((5, 2, 2), 2),                  # stride does not divide: the last row is not covered
    ((7, 3, 1, 0, 0, 2), 3),         # dilation 2: the kernel spans 5
    ((6, 3, 2, 0, 1), 3),            # asymmetric padding
])
def test_output_size_by_hand(args, expected):
    assert output_size(*args) == expected


def test_ceil_mode():
    assert output_size(6, 3, 2) == 2
    assert output_size(6, 3, 2, ceil_mode=True) == 3  # the last window hangs over the edge
    # After the ceil a window would start in the right padding: dropped (PyTorch's rule).
    assert output_size(5, 2, 2, 1, 1) == 3
    assert output_size(5, 2, 2, 1, 1, ceil_mode=True) == 3


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel size 5 .* larger than the padded input size 4"):
        output_size(4, 5)
    with pytest.raises(ValueError, match="spanning 5"):
        output_size(4, 3, dilation=2)
    assert output_size(4, 5, 1, 1, 0) == 1  # one row of padding makes it fit


@pytest.mark.parametrize("args, expected", [
    ((224, 7, 2), (2, 3)),   # the odd cell goes after (bottom/right)
    ((32, 3, 1), (1, 1)),
    ((32, 4, 1), (1, 2)),    # even kernel at stride 1: asymmetric too
    ((5, 3, 2), (1, 1)),
    ((6, 3, 2), (0, 1)),
    ((10, 1, 3), (0, 0)),    # stride larger than the kernel: no padding needed
    ((32, 3, 1, 2), (2, 2)),  # dilation 2: a 5-wide window
])
def test_same_padding_by_hand(args, expected):
    assert same_padding(*args) == expected


@given(n=st.integers(1, 40), k=st.integers(1, 8), s=st.integers(1, 5), d=st.integers(1, 3))
def test_same_gives_ceil_of_input_over_stride(n, k, s, d):
    before, after = same_padding(n, k, s, d)
    assert 0 <= before <= after <= before + 1
    assert output_size(n, k, s, before, after, d) == math.ceil(n / s)


def test_resolve_padding_forms():
    assert resolve_padding(1, (8, 8), (3, 3)) == ((1, 1), (1, 1))
    assert resolve_padding((1, 2), (8, 8), (3, 3)) == ((1, 1), (2, 2))
    assert resolve_padding([1, 2], (8, 8), (3, 3)) == ((1, 1), (2, 2))
    assert resolve_padding(((0, 1), (2, 3)), (8, 8), (3, 3)) == ((0, 1), (2, 3))
    assert resolve_padding("valid", (8, 8), (3, 3)) == ((0, 0), (0, 0))
    assert resolve_padding("same", (224, 224), (7, 7), (2, 2)) == ((2, 3), (2, 3))
    assert resolve_padding("same", (9, 8), (1, 7), (1, 2)) == ((0, 0), (2, 3))


@pytest.mark.parametrize("padding, error, message", [
    ("full", ValueError, "'full'"),
    (-1, ValueError, "non-negative"),
    ((1, 2, 3), TypeError, r"\(1, 2, 3\)"),
    (1.5, TypeError, "1.5"),
    (((1, 2), 3.0), TypeError, "padding must be"),
])
def test_resolve_padding_errors(padding, error, message):
    with pytest.raises(error, match=message):
        resolve_padding(padding, (8, 8), (3, 3))


def test_pair():
    assert pair(3, "kernel_size") == (3, 3)
    assert pair((1, 7), "kernel_size") == (1, 7)
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        pair((1, 2, 3), "stride")
    with pytest.raises(TypeError, match="stride"):
        pair(True, "stride")
    with pytest.raises(ValueError, match=r"dilation must be positive, got \(0, 1\)"):
        pair((0, 1), "dilation")


def test_numpy_integers_are_accepted_and_stored_as_plain_ints():
    kernel = pair(np.int64(3), "kernel_size")
    assert kernel == (3, 3) and all(type(v) is int for v in kernel)
    assert pair((np.int32(1), 7), "stride") == (1, 7)
    pads = resolve_padding(np.int64(2), (8, 8), (3, 3))
    assert pads == ((2, 2), (2, 2)) and all(type(v) is int for p in pads for v in p)
    assert resolve_padding(((np.int64(0), 1), (2, np.uint8(0))), (8, 8), (3, 3)) == \
        ((0, 1), (2, 0))
    assert conv_output_size(np.int64(32), np.int64(5)) == (28, 28)
    with pytest.raises(TypeError, match="padding must be"):
        resolve_padding(((True, 1), (0, 0)), (8, 8), (3, 3))


def test_conv_output_size_is_exported_and_documented():
    assert F.conv_output_size is conv_output_size
    assert conv_output_size(224, 7, stride=2, padding="same") == (112, 112)
    assert conv_output_size((32, 32), 5) == (28, 28)
    assert conv_output_size((17, 9), (1, 7), stride=(2, 1), padding="same") == (9, 9)
    assert conv_output_size(6, 3, stride=2, ceil_mode=True) == (3, 3)
    assert conv_output_size(8, 3, padding=((0, 1), (2, 2)), dilation=2) == (5, 8)
    assert "conv_output_size(224, 7, stride=2, padding='same')" in conv_output_size.__doc__
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(4, 5)


def test_docstring_examples():
    assert doctest.testmod(geometry).failed == 0


@pytest.mark.nojit
@pytest.mark.parametrize("value", [2**31, 2**64, (1, 2**40), np.uint64(2**63)])
def test_sizes_from_2_to_the_31_are_refused_by_name(value):
    # 2**64 reached Numba's dispatcher as an OverflowError; products of such sizes (a
    # window's padded area) would overflow int64 silently
    for name in ("kernel_size", "stride", "dilation"):
        with pytest.raises(ValueError, match=f"{name} must be below 2\\*\\*31, got"):
            pair(value, name)
    with pytest.raises(ValueError, match="padding must be below 2\\*\\*31, got"):
        resolve_padding(value, (8, 8), (3, 3))
    assert pair(2**31 - 1, "stride") == (2**31 - 1, 2**31 - 1)


@pytest.mark.nojit
def test_same_padding_counts_in_integers():
    # ceil(n / s) in floating point lost the odd cell of 2**53 + 1: no padding at all
    assert same_padding(2**53 + 1, 3, 2) == (1, 1)
