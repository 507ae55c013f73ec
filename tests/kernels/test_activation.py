"""The erfc kernel (exact GELU): hand values, fast == reference on drawn arrays in float64 and
float32, any layout in, the input's shape and dtype out, the input never written."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minicnn.kernels import activation as K
from tests.strategies import arrays, shapes


@pytest.mark.parametrize("kernel", [K.erfc_reference, K.erfc])
def test_erfc_by_hand(kernel):
    x = np.array([0.0, 1.0, -1.0, 0.5, 10.0, -1e4, 1e4])
    expected = [1.0, 0.15729920705028513, 1.8427007929497148, 0.4795001221869535,
                2.088487583762545e-45, 2.0, 0.0]  # erfc(10): a tail 1 - erf would lose
    np.testing.assert_allclose(kernel(x), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(shape=shapes(min_dims=0), data=st.data())
def test_erfc_fast_equals_reference(dtype, shape, data):
    x = data.draw(arrays(shape, -4.0, 4.0, dtype=dtype))
    fast, reference = K.erfc(x), K.erfc_reference(x)
    assert fast.shape == x.shape and fast.dtype == dtype
    # both compute in float64 (float32 inputs too) and round once: the same bits
    np.testing.assert_array_equal(fast, reference)


def test_erfc_reads_read_only_and_strided_input_without_writing_it():
    x = np.linspace(-2, 2, 24).reshape(4, 6)[:, ::2]
    x.flags.writeable = False
    before = x.copy()
    out = K.erfc(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out, K.erfc_reference(np.ascontiguousarray(x)))
    assert out.shape == (4, 3)
