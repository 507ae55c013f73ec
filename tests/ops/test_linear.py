"""matmul (batched, vectors, broadcast batch axes) and linear: hand-computed cases, forward
against NumPy and gradcheck over drawn shapes, dtype, named errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.strategies import arrays, matmul_shapes, shapes


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- matmul


def test_matmul_by_hand():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = leaf([[5.0, 6.0], [7.0, 8.0]])
    out = a @ b
    np.testing.assert_array_equal(out.data, [[19.0, 22.0], [43.0, 50.0]])
    g = np.array([[1.0, 0.0], [0.0, 2.0]])  # asymmetric: a transposition bug shows
    out.backward(g)
    np.testing.assert_array_equal(a.grad, g @ b.data.T)
    np.testing.assert_array_equal(b.grad, a.data.T @ g)


def test_vector_at_vector_is_a_dot_product():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0, 6.0])
    out = a @ b
    assert out.shape == () and out.item() == 32.0
    out.backward()
    np.testing.assert_array_equal(a.grad, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0, 3.0])


def test_matrix_vector_products():
    m, v = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), leaf([1.0, -1.0])
    out = m @ v
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, -1.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(v.grad, [1 + 6 + 15.0, 2 + 8 + 18.0])
    np.testing.assert_array_equal(m.grad, [[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]])
    w = leaf([1.0, 2.0, 3.0])
    out = w @ m
    np.testing.assert_array_equal(out.data, [22.0, 28.0])


def test_broadcast_batch_axes_are_summed_back():
    a = leaf(np.ones((4, 2, 3)))   # a batch of 4
    b = leaf(np.ones((3, 5)))      # shared by the batch
    (a @ b).backward(np.ones((4, 2, 5)))
    np.testing.assert_array_equal(b.grad, np.full((3, 5), 8.0))  # 4 batches x 2 rows
    assert a.grad.shape == (4, 2, 3)


@given(shape_pair=matmul_shapes(), data=st.data())
def test_matmul_forward_and_gradcheck(shape_pair, data):
    shape_a, shape_b = shape_pair
    a, b = leaf(data.draw(arrays(shape_a))), leaf(data.draw(arrays(shape_b)))
    out = a @ b
    expected = np.matmul(a.data, b.data)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    assert minicnn.gradcheck(lambda x, y: x @ y, [a, b])
    out.backward(np.ones(out.shape))
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


def test_ndarray_at_tensor_dispatches_to_the_tensor():
    a = np.ones((2, 3))
    t = leaf(np.ones((3, 4)))
    out = a @ t
    assert isinstance(out, minicnn.Tensor) and out.shape == (2, 4)
    out.backward(np.ones((2, 4)))
    np.testing.assert_array_equal(t.grad, np.full((3, 4), 2.0))
    assert isinstance(t @ np.ones(4), minicnn.Tensor)


def test_matmul_errors_are_named():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) do not line up"):
        leaf(np.ones((2, 3))) @ leaf(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"batch axes of shapes \(2, 2, 3\) and \(3, 3, 2\)"):
        leaf(np.ones((2, 2, 3))) @ leaf(np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="at least one dimension"):
        leaf(2.0) @ leaf(np.ones(3))


# ----------------------------------------------------------------------------- linear


def test_linear_by_hand():
    x = leaf([[1.0, 2.0]])
    w = leaf([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = leaf([0.5, -0.5, 0.0])
    out = F.linear(x, w, b)
    np.testing.assert_array_equal(out.data, [[1.5, 1.5, 3.0]])
    out.backward(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(x.grad, [[4.0, 5.0]])
    np.testing.assert_array_equal(w.grad, [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0, 3.0])


@given(batch=shapes(0, 3, 1, 3), features=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       with_bias=st.booleans(), data=st.data())
def test_linear_forward_and_gradcheck(batch, features, with_bias, data):
    n_in, n_out = features
    x = leaf(data.draw(arrays(batch + (n_in,))))
    w = leaf(data.draw(arrays((n_out, n_in))))
    b = leaf(data.draw(arrays((n_out,)))) if with_bias else None
    out = F.linear(x, w, b)
    expected = x.data @ w.data.T + (b.data if with_bias else 0.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-14)
    inputs = [x, w] + ([b] if with_bias else [])
    assert minicnn.gradcheck(lambda *ts: F.linear(*ts), inputs)


def test_linear_frozen_weight_gets_no_gradient():
    x = leaf(np.ones((2, 3)))
    w = minicnn.tensor(np.ones((4, 3))).requires_grad_(False)
    b = leaf(np.zeros(4))
    F.linear(x, w, b).sum().backward()
    assert w.grad is None
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0))
    np.testing.assert_array_equal(b.grad, [2.0] * 4)


def test_linear_errors_are_named():
    x, w = leaf(np.ones((2, 3))), leaf(np.ones((4, 3)))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(x, leaf(np.ones(3)))
    with pytest.raises(ValueError, match=r"input has 5 features .* in_features=3"):
        F.linear(leaf(np.ones((2, 5))), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\), got \(3,\)"):
        F.linear(x, w, leaf(np.ones(3)))


# ----------------------------------------------------------------------------- dtype


@pytest.mark.parametrize("op, shapes_", [
    (lambda a, b: a @ b, ((2, 3, 4), (4, 5))),
    (lambda a, b: a @ b, ((4,), (4,))),
    (lambda a, b: F.linear(a, b), ((2, 4), (3, 4))),
])
def test_float32_in_float32_out_and_float32_gradients(op, shapes_, rng):
    a = leaf(rng.standard_normal(shapes_[0]), dtype=np.float32)
    b = leaf(rng.standard_normal(shapes_[1]), dtype=np.float32)
    out = op(a, b)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


@pytest.mark.parametrize("dtypes, odd_one", [
    ((np.float64, np.float32, np.float32), "weight has dtype float32 but linear: x has "
                                           "dtype float64"),
    ((np.float32, np.float64, np.float64), "weight has dtype float64 but linear: x has "
                                           "dtype float32"),
    ((np.float32, np.float32, np.float64), "bias has dtype float64 but linear: x has "
                                           "dtype float32"),
])
def test_linear_with_mixed_dtypes_raises_instead_of_upcasting(dtypes, odd_one):
    x, w, b = (leaf(np.ones(shape), dtype=d) for shape, d in zip([(2, 3), (4, 3), (4,)], dtypes))
    with pytest.raises(TypeError, match=odd_one):
        F.linear(x, w, b)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16, np.complex64])
def test_linear_and_matmul_refuse_dtypes_they_do_not_compute_in(dtype):
    x = minicnn.tensor(np.ones((2, 3), dtype=dtype))
    w = minicnn.tensor(np.ones((4, 3), dtype=dtype))
    with pytest.raises(TypeError, match=f"linear: x has dtype {np.dtype(dtype)}; minicnn "
                                        "computes in float32 or float64"):
        F.linear(x, w)
    with pytest.raises(TypeError, match=f"matmul: a has dtype {np.dtype(dtype)}"):
        x @ w.T


def test_linear_refuses_an_object_array_and_non_tensors():
    w = leaf(np.ones((4, 3)))
    with pytest.raises(TypeError, match="linear: x has dtype object"):
        F.linear(np.ones((2, 3), dtype=object), w)
    with pytest.raises(TypeError, match="linear: x must be a Tensor, got list"):
        F.linear([[1.0, 2.0, 3.0]], w)


def test_matmul_with_mixed_dtypes_raises_as_pytorch_does():
    a32 = leaf(np.ones((2, 3)), dtype=np.float32)
    with pytest.raises(TypeError, match="matmul: b has dtype float64 but matmul: a has dtype "
                                        "float32"):
        a32 @ leaf(np.ones((3, 2)))
    with pytest.raises(TypeError, match="matmul: b has dtype float32 but matmul: a has "
                                        "dtype float64"):
        np.ones((2, 2)) @ a32[:, :2].T
    with pytest.raises(TypeError):  # not an array: Python's unsupported-operand error
        a32 @ [[1.0], [2.0], [3.0]]


def test_matmul_and_linear_save_only_what_their_gradients_use_as_pytorch():
    w = minicnn.ones(2, 3, requires_grad=True)
    for op in (lambda x: minicnn.matmul(w, x), lambda x: F.linear(x, w)):
        x = minicnn.ones(3, 3)
        out = op(x)
        w.grad = None
        w_before = w.data.copy()
        out.sum().backward()  # x unchanged: fine
        assert w.grad is not None and np.array_equal(w.data, w_before)
        x = minicnn.ones(3, 3)
        out = op(x)
        x.add_(1)  # w's gradient needs x
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    x = minicnn.ones(4, 3, requires_grad=True)
    frozen = minicnn.ones(2, 3)
    out = F.linear(x, frozen)
    frozen.add_(1)  # x's gradient needs the weight
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
