"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: golden cases, gradients, PyTorch, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.pool_strategies import dilated_pool_settings
from tests.strategies import arrays, distinct_arrays, pool_settings


def t(values, requires_grad=True, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


def grad_of(op, x, upstream, **kwargs):
    """Output and input gradient of ``op(x, **kwargs)`` for the given upstream gradient."""
    x = t(x)
    out = op(x, **kwargs)
    out.backward(np.asarray(upstream, dtype=np.float64))
    return out.data, x.grad


# ----------------------------------------------------------------------------- golden cases


def test_max_pool_2x2_golden():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, grad = grad_of(F.max_pool2d, x, [[[[1, 2], [3, 4]]]], kernel_size=2)
    np.testing.assert_array_equal(out[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(grad[0, 0], [[0, 0, 0, 0],
                                               [0, 1, 0, 2],
                                               [0, 0, 0, 0],
                                               [0, 3, 0, 4]])


def test_overlapping_windows_accumulate_gradient():
    # 3x3 windows, stride 2 (AlexNet): the centre (2, 2) lies in all four windows and wins them
    x = np.arange(25.0).reshape(1, 1, 5, 5) / 100
    x[0, 0, 2, 2] = 1.0
    out, grad = grad_of(F.max_pool2d, x, [[[[1, 10], [100, 1000]]]], kernel_size=3, stride=2)
    np.testing.assert_array_equal(out[0, 0], [[1, 1], [1, 1]])
    expected = np.zeros((5, 5))
    expected[2, 2] = 1111  # += from every window, not the last one assigned
    np.testing.assert_array_equal(grad[0, 0], expected)


def test_ties_send_the_gradient_to_the_first_maximum_in_scan_order():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 1, 0] = x[0, 0, 0, 1] = 2.0  # window (0, 0): two 2s, (0, 1) comes first
    out, grad = grad_of(F.max_pool2d, x, [[[[1, 2], [3, 4]]]], kernel_size=2)
    np.testing.assert_array_equal(out[0, 0], [[2, 1], [1, 1]])
    np.testing.assert_array_equal(grad[0, 0], [[0, 1, 2, 0],
                                               [0, 0, 0, 0],
                                               [3, 0, 4, 0],
                                               [0, 0, 0, 0]])


def test_padding_never_wins_the_max_and_counts_in_the_average():
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # all negative: a zero pad would win
    # windows: rows {pad, 0} and {1, 2}, columns likewise
    out = F.max_pool2d(t(x), 2, stride=2, padding=1).data
    np.testing.assert_array_equal(out[0, 0], [[-1, -2], [-4, -5]])
    out = F.avg_pool2d(t(x), 2, stride=2, padding=1).data
    np.testing.assert_allclose(out[0, 0], [[-1 / 4, -5 / 4], [-11 / 4, -28 / 4]])
    out = F.avg_pool2d(t(x), 2, stride=2, padding=1, count_include_pad=False).data
    np.testing.assert_allclose(out[0, 0], [[-1, -2.5], [-5.5, -7]])


def test_same_padding_by_hand():
    # 3x3 input, 2x2 window, stride 2, 'same': out = ceil(3 / 2) = 2, total padding
    # (2 - 1) * 2 + 2 - 3 = 1, all of it at the bottom/right (TensorFlow's rule):
    #   1 2 3 .       windows: [1 2; 4 5]  [3 .; 6 .]
    #   4 5 6 .                [7 8; . .]  [9 .; . .]
    #   7 8 9 .
    #   . . . .
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, grad = grad_of(F.max_pool2d, x, [[[[1, 2], [3, 4]]]], kernel_size=2, padding="same")
    np.testing.assert_array_equal(out[0, 0], [[5, 6], [8, 9]])
    np.testing.assert_array_equal(grad[0, 0], [[0, 0, 0], [0, 1, 2], [0, 3, 4]])
    # TensorFlow's 'SAME' average divides by the real cells: count_include_pad=False
    out, grad = grad_of(F.avg_pool2d, x, [[[[1, 2], [3, 4]]]], kernel_size=2, padding="same",
                        count_include_pad=False)
    np.testing.assert_allclose(out[0, 0], [[12 / 4, 9 / 2], [15 / 2, 9]])
    np.testing.assert_allclose(grad[0, 0], [[1 / 4, 1 / 4, 2 / 2],
                                            [1 / 4, 1 / 4, 2 / 2],
                                            [3 / 2, 3 / 2, 4]])
    # count_include_pad=True counts the padding cells, as PyTorch would with explicit padding
    out = F.avg_pool2d(t(x), 2, padding="same").data
    np.testing.assert_allclose(out[0, 0], [[12 / 4, 9 / 4], [15 / 4, 9 / 4]])


def test_same_padding_asymmetric_with_padding_on_top():
    # 3 rows, window 4, stride 1: out 3, total padding 2 + 4 - 3 = 3 -> 1 on top, 2 below
    x = np.array([1.0, 3.0, 2.0]).reshape(1, 1, 3, 1)
    out = F.max_pool2d(t(x), (4, 1), stride=1, padding="same").data
    # windows: {pad, 1, 3, 2}, {1, 3, 2, pad}, {3, 2, pad, pad}
    np.testing.assert_array_equal(out[0, 0, :, 0], [3, 3, 3])
    out = F.avg_pool2d(t(x), (4, 1), stride=1, padding="same", count_include_pad=False).data
    np.testing.assert_allclose(out[0, 0, :, 0], [6 / 3, 6 / 3, 5 / 2])


def test_valid_padding_is_no_padding():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    np.testing.assert_array_equal(F.max_pool2d(t(x), 2, padding="valid").data,
                                  F.max_pool2d(t(x), 2).data)


def test_ceil_mode_adds_the_partial_last_window():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    assert F.max_pool2d(t(x), 2).shape == (1, 1, 2, 2)
    out = F.max_pool2d(t(x), 2, ceil_mode=True).data
    np.testing.assert_array_equal(out[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    # the overhang past the input is not counted, even with count_include_pad=True
    out = F.avg_pool2d(t(x), 2, ceil_mode=True).data
    np.testing.assert_allclose(out[0, 0, 0], [(0 + 1 + 5 + 6) / 4, (2 + 3 + 7 + 8) / 4, 13 / 2])
    np.testing.assert_allclose(out[0, 0, 2, 2], 24)


def test_ceil_mode_drops_a_window_that_would_start_in_the_padding():
    # 5 + 2 * 1 padding, window 2, stride 2: ceil gives 4 windows, the 4th starts at padded
    # position 6 = 5 + 1, inside the right padding: dropped, so 3 as without ceil_mode
    x = np.ones((1, 1, 5, 5))
    assert F.max_pool2d(t(x), 2, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(t(x), 2, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_avg_pool_divisor_with_padding_and_ceil_overhang():
    # one row, window 3, stride 2, padding 1, ceil_mode: windows over columns
    #   {pad, 1, 2}, {2, 3, 4}, {4, pad, overhang}
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 1, 4)
    kwargs = dict(kernel_size=(1, 3), stride=(1, 2), padding=(0, 1), ceil_mode=True)
    out, grad = grad_of(F.avg_pool2d, x, [[[[3, 6, 2]]]], **kwargs)
    np.testing.assert_allclose(out[0, 0, 0], [3 / 3, 9 / 3, 4 / 2])  # overhang not counted
    np.testing.assert_allclose(grad[0, 0, 0], [1, 1 + 2, 2, 2 + 1])
    out, grad = grad_of(F.avg_pool2d, x, [[[[3, 6, 2]]]], count_include_pad=False, **kwargs)
    np.testing.assert_allclose(out[0, 0, 0], [3 / 2, 9 / 3, 4 / 1])
    np.testing.assert_allclose(grad[0, 0, 0], [1.5, 1.5 + 2, 2, 2 + 2])


def test_avg_pool_2x2_golden():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, grad = grad_of(F.avg_pool2d, x, [[[[4, 8], [12, 16]]]], kernel_size=2)
    np.testing.assert_allclose(out[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(grad[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                            [3, 3, 4, 4], [3, 3, 4, 4]])


def test_adaptive_avg_pool_golden():
    x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    # 5 -> 3 columns: PyTorch's bins [0, 2), [1, 4), [3, 5) overlap
    out, grad = grad_of(F.adaptive_avg_pool2d, x, [[[[2, 3, 4]]]], output_size=(1, 3))
    np.testing.assert_allclose(out[0, 0, 0], [1.5, 3, 4.5])
    np.testing.assert_allclose(grad[0, 0, 0], [1, 1 + 1, 1, 1 + 2, 2])
    out = F.adaptive_avg_pool2d(t(x), (None, 3)).data  # None keeps the input size
    np.testing.assert_allclose(out[0, 0, 0], [1.5, 3, 4.5])


def test_adaptive_output_one_is_global_average_pooling():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    out, grad = grad_of(F.adaptive_avg_pool2d, x, np.ones((2, 3, 1, 1)), output_size=1)
    np.testing.assert_allclose(out, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(grad, np.full(x.shape, 1 / 35), rtol=1e-12)


def test_adaptive_divisible_size_equals_avg_pool():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 6))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(t(x), (4, 2)).data,
                               F.avg_pool2d(t(x), (2, 3)).data, rtol=1e-12)


@pytest.mark.parametrize("op, kwargs", [(F.max_pool2d, dict(kernel_size=2, padding=1)),
                                        (F.avg_pool2d, dict(kernel_size=(2, 3), ceil_mode=True)),
                                        (F.adaptive_avg_pool2d, dict(output_size=(2, 3)))])
def test_chw_input_equals_a_batch_of_one(op, kwargs):
    x = np.random.default_rng(0).standard_normal((3, 5, 7))
    x3 = t(x)
    out3 = op(x3, **kwargs)
    upstream = np.random.default_rng(1).standard_normal(out3.shape)
    out3.backward(upstream)
    out4, grad4 = grad_of(op, x[None], upstream[None], **kwargs)
    assert out3.shape == out4.shape[1:]
    np.testing.assert_array_equal(out3.data, out4[0])
    np.testing.assert_array_equal(x3.grad, grad4[0])


POOLS = [(F.max_pool2d, dict(kernel_size=3, stride=2)),
         (F.avg_pool2d, dict(kernel_size=2, padding="same")),
         (F.adaptive_avg_pool2d, dict(output_size=(3, 2)))]


@pytest.mark.parametrize("op, kwargs", POOLS)
def test_non_contiguous_input_equals_its_copy(op, kwargs):
    base = np.random.default_rng(0).standard_normal((2, 7, 3, 12))
    view = base.transpose(0, 2, 1, 3)[..., ::2]  # (2, 3, 7, 6), strided in every axis
    upstream = np.random.default_rng(1).standard_normal(op(t(view), **kwargs).shape)
    out_view, grad_view = grad_of(op, view, upstream, **kwargs)
    out_copy, grad_copy = grad_of(op, view.copy(), upstream, **kwargs)
    np.testing.assert_array_equal(out_view, out_copy)
    np.testing.assert_array_equal(grad_view, grad_copy)


@pytest.mark.parametrize("op, kwargs", POOLS)
def test_empty_batch(op, kwargs):
    out_hw = op(t(np.zeros((1, 3, 7, 6))), **kwargs).shape[2:]
    out, grad = grad_of(op, np.zeros((0, 3, 7, 6)), np.zeros((0, 3) + out_hw), **kwargs)
    assert out.shape == (0, 3) + out_hw and grad.shape == (0, 3, 7, 6)


@pytest.mark.parametrize("op, kwargs", POOLS)
def test_float32_stays_float32(op, kwargs):
    x = t(np.random.default_rng(0).standard_normal((2, 3, 7, 6)), dtype=np.float32)
    out = op(x, **kwargs)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


# ----------------------------------------------------------------------------- gradient checks


# gradcheck evaluates the op twice per input element: small inputs (planes are independent)
SMALL_POOLS = pool_settings(max_batch=1, max_channels=2, max_extra=4)


@given(SMALL_POOLS, st.data())
def test_max_pool_gradcheck(settings, data):
    shape, kwargs = settings
    x = minicnn.tensor(data.draw(distinct_arrays(shape)), requires_grad=True)  # no near-ties
    assert minicnn.gradcheck(lambda x: F.max_pool2d(x, **kwargs), [x])


@given(SMALL_POOLS, st.booleans(), st.data())
def test_avg_pool_gradcheck(settings, count_include_pad, data):
    shape, kwargs = settings
    x = minicnn.tensor(data.draw(arrays(shape)), requires_grad=True)
    assert minicnn.gradcheck(
        lambda x: F.avg_pool2d(x, count_include_pad=count_include_pad, **kwargs), [x])


@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7)),
       st.integers(1, 8), st.none() | st.integers(1, 8), st.data())
def test_adaptive_avg_pool_gradcheck(shape, oh, ow, data):
    x = minicnn.tensor(data.draw(arrays(shape)), requires_grad=True)
    assert minicnn.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (oh, ow)), [x])


# ----------------------------------------------------------------------------- PyTorch oracle


def torch_pool(torch, op, x, kernel_size, stride, padding, ceil_mode, count_include_pad=True):
    """PyTorch's pooling, with 'same' done by explicit (possibly asymmetric) padding."""
    from minicnn.kernels.geometry import resolve_padding
    tf = torch.nn.functional
    stride = kernel_size if stride is None else stride
    if not isinstance(padding, str):
        if op == "max":
            return tf.max_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode)
        return tf.avg_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode,
                             count_include_pad=count_include_pad)
    (top, bottom), (left, right) = resolve_padding(padding, x.shape[2:], kernel_size, stride)
    widths = (left, right, top, bottom)
    if op == "max":
        return tf.max_pool2d(tf.pad(x, widths, value=-np.inf), kernel_size, stride,
                             ceil_mode=ceil_mode)
    # 'same' never adds a ceil-mode window, so the padded cells are exactly the padding
    sums = tf.avg_pool2d(tf.pad(x, widths), kernel_size, stride, ceil_mode=ceil_mode,
                         divisor_override=1)
    cells = tf.pad(torch.ones_like(x), widths, value=float(count_include_pad))
    return sums / tf.avg_pool2d(cells, kernel_size, stride, ceil_mode=ceil_mode,
                                divisor_override=1)


@given(pool_settings(), st.sampled_from(["max", "avg"]), st.booleans(), st.data())
def test_pools_equal_torch(settings, op, count_include_pad, data):
    torch = pytest.importorskip("torch")
    shape, kwargs = settings
    # small integers: plenty of ties, so the tie-breaking rule is compared too
    x_np = data.draw(arrays(shape, 0, 3)).round()
    upstream = np.random.default_rng(0).standard_normal(F.max_pool2d(t(x_np), **kwargs).shape)

    x = t(x_np)
    extra = {} if op == "max" else dict(count_include_pad=count_include_pad)
    out = (F.max_pool2d if op == "max" else F.avg_pool2d)(x, **kwargs, **extra)
    out.backward(upstream)
    x_t = torch.tensor(x_np, requires_grad=True)
    out_t = torch_pool(torch, op, x_t, **kwargs, **extra)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


@given(st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
       st.integers(1, 10), st.none() | st.integers(1, 10), st.data())
def test_adaptive_avg_pool_equals_torch(shape, oh, ow, data):
    torch = pytest.importorskip("torch")
    x_np = data.draw(arrays(shape))
    x = t(x_np)
    out = F.adaptive_avg_pool2d(x, (oh, ow))
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    x_t = torch.tensor(x_np, requires_grad=True)
    out_t = torch.nn.functional.adaptive_avg_pool2d(x_t, (oh, ow))
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- errors

X = np.zeros((1, 2, 4, 4))


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("x, kwargs, error, match", [
    (np.zeros((4, 4)), dict(kernel_size=2), ValueError, r"4-D \(N, C, H, W\).*shape \(4, 4\)"),
    (np.zeros((1, 1, 1, 4, 4)), dict(kernel_size=2), ValueError, "got 5-D"),
    (X, dict(kernel_size=5), ValueError, r"kernel_size=\(5, 5\) does not fit the input"),
    (X, dict(kernel_size=(2, 7), padding=(0, 1)), ValueError, "does not fit"),
    (X, dict(kernel_size=0), ValueError, "kernel_size must be positive"),
    (X, dict(kernel_size=2.0), TypeError, "kernel_size must be an int or a pair"),
    (X, dict(kernel_size=(2, 2, 2)), TypeError, "kernel_size"),
    (X, dict(kernel_size=2, stride=0), ValueError, "stride must be positive"),
    (X, dict(kernel_size=2, stride=(1, -1)), ValueError, "stride"),
    (X, dict(kernel_size=2, padding="full"), ValueError, "'full'"),
    (X, dict(kernel_size=3, padding=2), ValueError, "at most kernel_size / 2"),
    (X, dict(kernel_size=(4, 2), padding=(1, 2)), ValueError, "kernel width 2"),
    (X, dict(kernel_size=2, padding=-1), ValueError, "non-negative"),
    (X.astype(np.int64), dict(kernel_size=2), TypeError, "x has dtype int64; minicnn computes in"),
])
def test_pool_errors(op, x, kwargs, error, match):
    with pytest.raises(error, match=match):
        op(minicnn.tensor(x), **kwargs)


@pytest.mark.parametrize("x, output_size, error, match", [
    (np.zeros((4, 4)), 1, ValueError, "4-D"),
    (X, 0, ValueError, "output_size must be positive"),
    (X, (2, -1), ValueError, "positive"),
    (X, (2, 2, 2), TypeError, "output_size must be an int or a pair"),
    (X, 1.5, TypeError, "output_size"),
    (X, "1", TypeError, "output_size"),
])
def test_adaptive_avg_pool_errors(x, output_size, error, match):
    with pytest.raises(error, match=match):
        F.adaptive_avg_pool2d(minicnn.tensor(x), output_size)


def test_ceil_mode_window_may_overhang_an_input_smaller_than_the_kernel():
    # PyTorch: max_pool2d of a 2x2 input with a 3x3 window, stride 2, ceil_mode -> 1x1
    x = np.array([[[[1.0, 4.0], [3.0, 2.0]]]])
    assert F.max_pool2d(minicnn.tensor(x), 3, 2, ceil_mode=True).data.item() == 4.0
    assert F.avg_pool2d(minicnn.tensor(x), 3, 2, ceil_mode=True).data.item() == 2.5
    # ... but not when even the ceil leaves no window (PyTorch refuses it too)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(minicnn.tensor(np.ones((1, 1, 1, 1))), 3, 2, ceil_mode=True)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(minicnn.tensor(np.ones((1, 1, 2, 2))), 3, 1, ceil_mode=True)


# ----------------------------------------------------------------------------- read-only arrays

POOLS = {
    "max": lambda x: F.max_pool2d(x, 3, 2, padding=1),
    "avg": lambda x: F.avg_pool2d(x, (2, 3), 1, ceil_mode=True),
    "adaptive": lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    "global": lambda x: F.adaptive_avg_pool2d(x, 1),
}


def _read_only_kinds(array, tmp_path):
    """``array`` as the read-only arrays users hand in: memory-mapped, from bytes, flagged."""
    np.save(tmp_path / "array.npy", array)
    flagged = array.copy()
    flagged.setflags(write=False)
    return [np.load(tmp_path / "array.npy", mmap_mode="r"),
            np.frombuffer(array.tobytes(), array.dtype).reshape(array.shape), flagged]


@pytest.mark.parametrize("pool", POOLS.values(), ids=POOLS.keys())
def test_read_only_inputs_and_upstream_gradients(pool, tmp_path):
    rng = np.random.default_rng(0)
    data = rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 7.0  # distinct: no max ties
    x = t(data)
    out = pool(x)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    read_only_upstream = upstream.copy()
    read_only_upstream.setflags(write=False)
    for array in _read_only_kinds(data, tmp_path):
        x_read_only = minicnn.tensor(array, requires_grad=True)
        out_read_only = pool(x_read_only)
        out_read_only.backward(read_only_upstream)
        np.testing.assert_array_equal(out_read_only.data, out.data)
        np.testing.assert_array_equal(x_read_only.grad, x.grad)
    # a broadcast upstream gradient: sum()'s backward hands down a read-only view of ones
    x_sum, x_ones = t(data), t(data)
    pool(x_sum).sum().backward()
    pool(x_ones).backward(np.ones(out.shape))
    np.testing.assert_array_equal(x_sum.grad, x_ones.grad)


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("pool", POOLS.values(), ids=POOLS.keys())
@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.bool_, np.complex64])
def test_only_float32_and_float64_are_computed(pool, dtype):
    with pytest.raises(TypeError, match=f"pool2d: x has dtype {np.dtype(dtype)}; minicnn computes"):
        pool(minicnn.tensor(np.ones((1, 2, 5, 6), dtype)))


# ----------------------------------------------------------------------------- degenerate shapes


@pytest.mark.parametrize("pool", POOLS.values(), ids=POOLS.keys())
def test_an_empty_batch_gives_empty_results(pool):
    x = t(np.zeros((0, 3, 5, 6)))
    out = pool(x)
    assert out.shape == (0,) + pool(t(np.zeros((1, 3, 5, 6)))).shape[1:]
    out.sum().backward()
    assert x.grad.shape == (0, 3, 5, 6)


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("shape", [(2, 0, 4, 4), (2, 3, 0, 4), (2, 3, 4, 0), (0, 4, 4)])
def test_max_and_average_pooling_refuse_empty_planes(op, shape):
    # PyTorch too: only the batch may be empty (H = 0 with padding read a cell that is not there)
    with pytest.raises(ValueError, match=r"pool2d: x of shape .* only the batch \(N\) may be 0"):
        op(t(np.zeros(shape)), 2, padding=1)


def test_adaptive_pooling_takes_no_channels_but_not_an_empty_plane():
    # PyTorch's rules: C = 0 is an empty result, H = 0 or W = 0 an error
    x = t(np.zeros((2, 0, 4, 4)))
    out = F.adaptive_avg_pool2d(x, 2)
    assert out.shape == (2, 0, 2, 2)
    out.sum().backward()
    assert x.grad.shape == (2, 0, 4, 4)
    with pytest.raises(ValueError, match=r"only the batch \(N\) and the channels \(C\) may be 0"):
        F.adaptive_avg_pool2d(t(np.zeros((2, 3, 0, 4))), 1)


# ----------------------------------------------------------------------------- huge settings


@pytest.mark.parametrize("op", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("kwargs, name", [
    (dict(kernel_size=2**31), "kernel_size"),
    (dict(kernel_size=2, stride=2**64), "stride"),
    (dict(kernel_size=2, stride=(1, 2**40)), "stride"),
    (dict(kernel_size=2**40, padding=2**35), "kernel_size"),
    (dict(kernel_size=2**31 - 1, padding=2**31), "padding"),
])
def test_settings_beyond_int32_are_refused_by_name(op, kwargs, name):
    # 2**64 reached Numba as an OverflowError; a 2**40 window's padded area overflows int64
    with pytest.raises(ValueError, match=f"pool2d: {name} must be below 2\\*\\*31, got"):
        op(t(np.ones((1, 1, 4, 4))), **kwargs)


def test_huge_windows_and_strides_cost_only_the_real_cells():
    # a 2**30 window padded by 2**29 on each side covers the whole 5x6 input: one output
    data = np.random.default_rng(0).permutation(30).reshape(1, 1, 5, 6) / 3.0
    big = dict(kernel_size=2**30, padding=2**29)
    np.testing.assert_array_equal(F.max_pool2d(t(data), **big).data, data.max(keepdims=True))
    np.testing.assert_allclose(F.avg_pool2d(t(data), count_include_pad=False, **big).data,
                               data.mean(keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool2d(t(data), **big).data,  # the divisor 2**60 fits int64
                               data.sum(keepdims=True) / 2**60, rtol=1e-12)
    for stride in (10**9, 2**31 - 1):  # a stride past the input: the top-left window only
        np.testing.assert_array_equal(F.max_pool2d(t(data), 2, stride).data, data[..., :2, :2].max(
            keepdims=True))


# ----------------------------------------------------------------------------- dilation,
# return_indices, adaptive max pooling, max unpooling


def test_dilated_max_pool_by_hand():
    # 5x5, kernel 2, dilation 2: each window takes cells (h, w), (h, w+2), (h+2, w), (h+2, w+2)
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    out, indices = F.max_pool2d(t(x), 2, stride=1, dilation=2, return_indices=True)
    np.testing.assert_array_equal(out.data[0, 0], [[12, 13, 14], [17, 18, 19], [22, 23, 24]])
    np.testing.assert_array_equal(indices.data[0, 0], out.data[0, 0])  # x holds its own index
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_return_indices_are_flat_plane_indices_for_a_chw_input():
    x = np.random.default_rng(1).standard_normal((2, 6, 5))
    out, indices = F.max_pool2d(t(x), (3, 2), stride=2, padding=1, return_indices=True)
    assert out.shape == indices.shape == (2, 3, 3)
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(2, -1),
                                                     indices.data.reshape(2, -1), axis=1),
                                  out.data.reshape(2, -1))


@given(dilated_pool_settings(max_batch=1), st.data())
def test_dilated_max_pool_gradcheck(settings, data):
    shape, kwargs = settings
    x = minicnn.tensor(data.draw(distinct_arrays(shape)), requires_grad=True)
    assert minicnn.gradcheck(lambda x: F.max_pool2d(x, **kwargs), [x])


@given(dilated_pool_settings(), st.data())
def test_dilated_max_pool_and_indices_equal_torch(settings, data):
    torch = pytest.importorskip("torch")
    shape, kwargs = settings
    x_np = data.draw(arrays(shape, 0, 3)).round()  # ties: the tie rule is compared too
    x = t(x_np)
    out, indices = F.max_pool2d(x, **kwargs, return_indices=True)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    x_t = torch.tensor(x_np, requires_grad=True)
    out_t, indices_t = torch.nn.functional.max_pool2d(x_t, **kwargs, return_indices=True)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    np.testing.assert_array_equal(indices.data, indices_t.numpy())
    np.testing.assert_array_equal(x.grad, x_t.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dilation_one_and_return_indices_change_nothing(dtype):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6)).astype(dtype)
    plain = F.max_pool2d(t(x, dtype=dtype), 3, 2, 1)
    out, _ = F.max_pool2d(t(x, dtype=dtype), 3, 2, 1, dilation=(1, 1), return_indices=True)
    np.testing.assert_array_equal(plain.data, out.data)
    assert out.dtype == dtype


ADAPTIVE_SHAPES = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9),
                            st.integers(1, 9))


@given(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 6), st.integers(1, 6)),
       st.integers(1, 7), st.none() | st.integers(1, 7), st.data())
def test_adaptive_max_pool_gradcheck(shape, oh, ow, data):
    x = minicnn.tensor(data.draw(distinct_arrays(shape)), requires_grad=True)
    assert minicnn.gradcheck(lambda x: F.adaptive_max_pool2d(x, (oh, ow)), [x])


@given(ADAPTIVE_SHAPES, st.integers(1, 10), st.none() | st.integers(1, 10), st.booleans(),
       st.data())
def test_adaptive_max_pool_equals_torch(shape, oh, ow, ties, data):
    torch = pytest.importorskip("torch")
    x_np = data.draw(arrays(shape, 0, 3))
    x_np = x_np.round() if ties else x_np
    x = t(x_np)
    out, indices = F.adaptive_max_pool2d(x, (oh, ow), return_indices=True)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    x_t = torch.tensor(x_np, requires_grad=True)
    out_t, indices_t = torch.nn.functional.adaptive_max_pool2d(x_t, (oh, ow),
                                                               return_indices=True)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    np.testing.assert_array_equal(indices.data, indices_t.numpy())
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_adaptive_max_pool_golden_overlapping_bins():
    # 5 columns -> 3 bins [0, 2), [1, 4), [3, 5): column 2 wins the middle bin
    x = np.array([[[[1.0, 3, 9, 2, 0]]]])
    out, grad = grad_of(F.adaptive_max_pool2d, x, [[[[1, 10, 100]]]], output_size=(1, 3))
    np.testing.assert_array_equal(out[0, 0], [[3, 9, 2]])
    np.testing.assert_array_equal(grad[0, 0], [[0, 1, 10, 100, 0]])
    assert F.adaptive_max_pool2d(t(x), (None, 2)).shape == (1, 1, 1, 2)


def _unpool_case(torch, shape, kernel, stride, padding, ceil_mode, data):
    """An input, its max-pooled values and indices, from PyTorch (ties: the oracle's own)."""
    x_np = data.draw(arrays(shape))
    pooled, indices = torch.nn.functional.max_pool2d(torch.tensor(x_np), kernel, stride,
                                                     padding, ceil_mode=ceil_mode,
                                                     return_indices=True)
    return pooled.numpy(), indices.numpy()


@given(pool_settings(max_batch=1).filter(lambda s: not isinstance(s[1]["padding"], str)),
       st.booleans(), st.data())
def test_max_unpool_equals_torch(settings, give_size, data):
    torch = pytest.importorskip("torch")
    shape, kwargs = settings
    kernel, stride, padding = kwargs["kernel_size"], kwargs["stride"], kwargs["padding"]
    pooled, indices = _unpool_case(torch, shape, kernel, stride or kernel, padding,
                                   kwargs["ceil_mode"], data)
    size = shape[2:] if give_size else None
    try:
        empty = torch.nn.functional.max_unpool2d(torch.tensor(pooled), torch.tensor(indices),
                                                 kernel, stride, padding, size).numel() == 0
    except (RuntimeError, ValueError):
        empty = True
    if empty:
        # PyTorch refuses (the size is out of its range, or an index past the default plane)
        # or returns an empty plane that no index can be in: minicnn refuses
        with pytest.raises(ValueError):
            F.max_unpool2d(t(pooled), indices, kernel, stride, padding, size)
        return
    x = t(pooled)
    out = F.max_unpool2d(x, minicnn.tensor(indices), kernel, stride, padding, size)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(upstream)
    x_t = torch.tensor(pooled, requires_grad=True)
    out_t = torch.nn.functional.max_unpool2d(x_t, torch.tensor(indices), kernel, stride,
                                             padding, size)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    np.testing.assert_array_equal(x.grad, x_t.grad.numpy())


@given(st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 6), st.integers(2, 6)),
       st.data())
def test_max_unpool_gradcheck(shape, data):
    x = data.draw(distinct_arrays(shape))
    pooled, indices = F.max_pool2d(t(x), 2, ceil_mode=True, return_indices=True)
    source = minicnn.tensor(data.draw(arrays(pooled.shape)), requires_grad=True)
    assert minicnn.gradcheck(
        lambda v: F.max_unpool2d(v, indices, 2, output_size=shape[2:]), [source])


def test_max_unpool_golden_round_trip():
    x = np.array([[[[1.0, 5, 2, 0], [3, 4, 8, 7]]]])
    pooled, indices = F.max_pool2d(t(x), 2, return_indices=True)
    out, grad = grad_of(lambda v: F.max_unpool2d(v, indices, 2), pooled.data,
                        np.arange(8.0).reshape(1, 1, 2, 4))
    np.testing.assert_array_equal(out[0, 0], [[0, 5, 0, 0], [0, 0, 8, 0]])
    np.testing.assert_array_equal(grad[0, 0], [[1, 6]])  # the gather at each index


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(kernel_size=2, dilation=0), ValueError, "max_pool2d: dilation must be positive"),
    (dict(kernel_size=2, dilation=1.5), TypeError, "max_pool2d: dilation"),
    (dict(kernel_size=2, dilation=3), ValueError, r"spanning 4\) is larger"),
    (dict(kernel_size=2, stride=1, padding=1, dilation=(1, 3)), ValueError,
     "holds no input cell"),
])
def test_dilated_max_pool_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        F.max_pool2d(minicnn.tensor(np.zeros((1, 1, 3, 2))), **kwargs)


@pytest.mark.parametrize("x, output_size, error, match", [
    (np.zeros((4, 4)), 1, ValueError, "adaptive_max_pool2d: x must be 4-D"),
    (X, 0, ValueError, "adaptive_max_pool2d: output_size must be positive"),
    (X, (2, 2, 2), TypeError, "adaptive_max_pool2d: output_size must be an int or a pair"),
    (X.astype(np.int64), 2, TypeError, "int64"),
])
def test_adaptive_max_pool_errors(x, output_size, error, match):
    with pytest.raises(error, match=match):
        F.adaptive_max_pool2d(minicnn.tensor(x), output_size)


POOLED = np.ones((1, 2, 2, 2))
INDICES = np.zeros((1, 2, 2, 2), dtype=np.int64)


@pytest.mark.parametrize("indices, kwargs, error, match", [
    (INDICES.astype(np.int32), {}, TypeError, "indices must be int64"),
    (INDICES[:, :1], {}, ValueError, "do not match the input's shape"),
    (INDICES + 16, {}, ValueError, "outside the output plane of 4 x 4"),
    (INDICES - 1, {}, ValueError, "outside the output plane"),
    (INDICES, dict(output_size=(6, 4)), ValueError, r"dim 0 must be between 2 and 6"),
    (INDICES, dict(output_size=(4,)), ValueError, "sequence of 2 ints"),
    (INDICES, dict(padding=-1), ValueError, "max_unpool2d: padding"),
])
def test_max_unpool_errors(indices, kwargs, error, match):
    with pytest.raises(error, match=match):
        F.max_unpool2d(minicnn.tensor(POOLED), indices, 2, **kwargs)
