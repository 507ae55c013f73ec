"""dropout: identity in evaluation and at p=0, inverted scaling, the fraction dropped,
repeatability under manual_seed, backward through the same mask, gradcheck, dtype, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.strategies import arrays, shapes


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_identity_in_evaluation_and_at_p_zero(rng):
    x = leaf(rng.uniform(-1, 1, (3, 4)))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_inverted_scaling_by_hand():
    minicnn.manual_seed(3)
    x = leaf(np.full((4, 50), 2.0))
    y = F.dropout(x, p=0.75)
    assert set(np.unique(y.data)) == {0.0, 8.0}  # kept elements: 2 / (1 - 0.75)


def test_fraction_dropped_and_mean_preserved():
    minicnn.manual_seed(0)
    p, size = 0.3, 200_000
    y = F.dropout(leaf(np.ones(size)), p).data
    dropped = np.mean(y == 0)
    # Binomial(size, p) / size has standard deviation sqrt(p (1 - p) / size) ~ 0.001.
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / size)
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / size)


def test_repeatable_under_manual_seed(rng):
    x = leaf(rng.uniform(-1, 1, (5, 6)))
    minicnn.manual_seed(42)
    first = F.dropout(x, 0.5).data
    second = F.dropout(x, 0.5).data  # the generator moved on: a new mask
    minicnn.manual_seed(42)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    assert not np.array_equal(first == 0, second == 0)


def test_backward_uses_the_forward_mask(rng):
    minicnn.manual_seed(1)
    x = leaf(rng.uniform(0.5, 1.0, (6, 7)))  # never 0, so a 0 output means dropped
    y = F.dropout(x, 0.4)
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    kept = y.data != 0
    np.testing.assert_allclose(x.grad, np.where(kept, upstream / 0.6, 0.0), rtol=1e-15)


@given(shape=shapes(min_dims=1, max_dims=3), p=st.floats(0.05, 0.9), data=st.data())
def test_gradcheck(shape, p, data):
    x = leaf(data.draw(arrays(shape)))

    def fn(x):
        minicnn.manual_seed(7)  # the same mask on every call
        return F.dropout(x, p)

    assert minicnn.gradcheck(fn, [x])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keeps_dtype(rng, dtype):
    x = leaf(rng.uniform(-1, 1, (3, 5)), dtype=dtype)
    y = F.dropout(x, 0.3)
    assert y.dtype == dtype
    y.backward(np.ones(y.shape, dtype=dtype))
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan")])
def test_p_outside_zero_one_is_an_error(p):
    with pytest.raises(ValueError, match=rf"p must be a probability in \[0, 1\), got {p}"):
        F.dropout(leaf(np.ones(3)), p)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16])
def test_dtypes_dropout_does_not_compute_in_are_refused(dtype):
    with pytest.raises(TypeError, match=f"dropout: x has dtype {np.dtype(dtype)}; minicnn "
                                        "computes in float32 or float64"):
        F.dropout(minicnn.tensor(np.ones(3, dtype=dtype)), 0.5)


def test_a_numpy_float64_p_keeps_float32():
    x = leaf(np.ones(1000), dtype=np.float32)
    y = F.dropout(x, np.float64(0.25))
    assert y.dtype == np.float32
    assert set(np.unique(y.data)) <= {np.float32(0.0), np.float32(1 / 0.75)}
