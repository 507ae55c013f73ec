"""batch_norm and local_response_norm: hand-computed cases, running statistics against NumPy
over several steps, gradcheck on drawn shapes and modes, dtype, errors, PyTorch as an
optional oracle."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.strategies import arrays, distinct_arrays


def leaf(values, dtype=np.float64, requires_grad=True):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


@st.composite
def batch_norm_shapes(draw):
    """(N, C) or (N, C, H, W) with more than one value per channel."""
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (1, 2), (2, 1), (2, 3)]))
    if n * int(np.prod(spatial)) == 1:
        n = 2
    return (n, c) + spatial


def numpy_batch_norm(x, mean, var, weight, bias, eps):
    """Independent formula: normalise over every axis but 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape)
            + bias.reshape(shape))


# ----------------------------------------------------------------------------- batch_norm: golden


def test_batch_norm_training_by_hand():
    x = leaf([[1.0], [2.0], [3.0], [4.0]])  # one channel: mean 2.5, biased variance 1.25
    running_mean, running_var = np.zeros(1), np.ones(1)
    y = F.batch_norm(x, running_mean, running_var, training=True, momentum=0.1, eps=0.0)
    np.testing.assert_allclose(y.data.ravel(), np.array([-1.5, -0.5, 0.5, 1.5]) / np.sqrt(1.25))
    np.testing.assert_allclose(running_mean, [0.1 * 2.5])
    # unbiased variance 5/3 enters the running average
    np.testing.assert_allclose(running_var, [0.9 * 1.0 + 0.1 * 5 / 3])


def test_batch_norm_evaluation_uses_running_statistics_by_hand():
    x = leaf([[1.0, 2.0], [3.0, 6.0]])
    running_mean, running_var = np.array([1.0, 2.0]), np.array([4.0, 16.0])
    weight, bias = leaf([2.0, 1.0]), leaf([0.5, 0.0])
    y = F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=0.0)
    np.testing.assert_allclose(y.data, [[0.5, 0.0], [2.5, 1.0]])  # (x - mean) / std * w + b
    np.testing.assert_array_equal(running_mean, [1.0, 2.0])  # untouched in evaluation
    np.testing.assert_array_equal(running_var, [4.0, 16.0])
    y.backward(np.array([[1.0, 1.0], [1.0, 2.0]]))
    np.testing.assert_allclose(x.grad, [[1.0, 0.25], [1.0, 0.5]])  # weight / sqrt(var) * g
    np.testing.assert_allclose(weight.grad, [0.0 + 1.0, 0.0 + 2.0])  # sum(g * xhat)
    np.testing.assert_allclose(bias.grad, [2.0, 3.0])


def test_batch_norm_training_output_has_zero_mean_unit_variance(rng):
    x = leaf(rng.uniform(-3, 5, (8, 3, 4, 4)))
    y = F.batch_norm(x, None, None, training=True, eps=0.0).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-14)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-13)


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 4, 5)])
def test_running_statistics_after_several_steps_match_numpy(rng, shape):
    momentum, eps = 0.3, 1e-5
    running_mean, running_var = np.zeros(shape[1]), np.ones(shape[1])
    expected_mean, expected_var = running_mean.copy(), running_var.copy()
    axes = (0,) + tuple(range(2, len(shape)))
    weight, bias = leaf(rng.uniform(0.5, 2, shape[1])), leaf(rng.uniform(-1, 1, shape[1]))
    for step in range(5):
        x = rng.normal(step, 1 + step, shape)
        y = F.batch_norm(leaf(x), running_mean, running_var, weight, bias, training=True,
                         momentum=momentum, eps=eps)
        batch_mean, batch_var = x.mean(axis=axes), x.var(axis=axes)
        expected_mean = (1 - momentum) * expected_mean + momentum * batch_mean
        expected_var = (1 - momentum) * expected_var + momentum * x.var(axis=axes, ddof=1)
        np.testing.assert_allclose(y.data, numpy_batch_norm(x, batch_mean, batch_var,
                                                            weight.data, bias.data, eps),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(running_mean, expected_mean, rtol=1e-13)
        np.testing.assert_allclose(running_var, expected_var, rtol=1e-13)
    x = rng.normal(0, 1, shape)  # evaluation: normalised with what was accumulated
    y = F.batch_norm(leaf(x), running_mean, running_var, weight, bias, training=False, eps=eps)
    np.testing.assert_allclose(y.data, numpy_batch_norm(x, expected_mean, expected_var,
                                                        weight.data, bias.data, eps), rtol=1e-12)


def test_batch_norm_without_running_statistics_uses_batch_statistics(rng):
    x = rng.uniform(-1, 1, (5, 2, 3))
    y = F.batch_norm(leaf(x), None, None, training=True, eps=1e-5)
    mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
    np.testing.assert_allclose(y.data, numpy_batch_norm(x, mean, var, np.ones(2), np.zeros(2),
                                                        1e-5), rtol=1e-12)


def test_batch_norm_accepts_non_contiguous_input(rng):
    x = rng.uniform(-1, 1, (4, 5, 3, 2))
    view = leaf(x).permute(0, 3, 2, 1)  # (N, W, H, C): channel axis 1 now has 2 entries
    y = F.batch_norm(view, None, None, training=True)
    expected = x.transpose(0, 3, 2, 1)
    expected = (expected - expected.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(
        expected.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


# ---------------------------------------------------------------------------- batch_norm: gradients


@given(shape=batch_norm_shapes(), training=st.booleans(), affine=st.booleans(), data=st.data())
def test_batch_norm_gradcheck(shape, training, affine, data):
    channels = shape[1]
    x = leaf(data.draw(distinct_arrays(shape, -2.0, 2.0)))
    running_mean = data.draw(arrays((channels,), -1.0, 1.0))
    running_var = data.draw(arrays((channels,), 0.5, 2.0))
    inputs = [x]
    if affine:
        inputs += [leaf(data.draw(arrays((channels,), 0.5, 2.0))),
                   leaf(data.draw(arrays((channels,), -1.0, 1.0)))]

    def fn(x, weight=None, bias=None):
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias,
                            training=training)

    assert minicnn.gradcheck(fn, inputs)


def test_batch_norm_skips_gradients_nobody_needs(rng):
    x = leaf(rng.uniform(-1, 1, (4, 3, 2, 2)), requires_grad=False)
    weight, bias = leaf(rng.uniform(0.5, 2, 3)), leaf(rng.uniform(-1, 1, 3), requires_grad=False)
    F.batch_norm(x, None, None, weight, bias, training=True).sum().backward()
    assert x.grad is None and bias.grad is None
    assert weight.grad.shape == (3,)
    weight.requires_grad_(False)  # frozen layer: only the input's gradient flows
    x.requires_grad_(True)
    y = F.batch_norm(x, None, None, weight, bias, training=True)
    assert minicnn.gradcheck(lambda x: F.batch_norm(x, None, None, weight, bias, training=True),
                             [x])
    y.sum().backward()
    assert weight.grad.shape == (3,) and x.grad.shape == x.shape


# ----------------------------------------------------------------------------- batch_norm: dtype


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_float32_in_float32_out_accurately(rng, training):
    shape = (8, 3, 5, 5)
    x64 = 100 + 3 * rng.standard_normal(shape)  # offset: float32 statistics must not cancel
    x32 = x64.astype(np.float32)
    weight, bias = rng.uniform(0.5, 2, 3), rng.uniform(-1, 1, 3)
    upstream = rng.standard_normal(shape)
    results = {}
    for dtype in (np.float32, np.float64):
        running_mean = np.full(3, 100.0, dtype=dtype)
        running_var = np.full(3, 9.0, dtype=dtype)
        x, w, b = leaf(x32, dtype), leaf(weight, dtype), leaf(bias, dtype)
        y = F.batch_norm(x, running_mean, running_var, w, b, training=training)
        y.backward(upstream.astype(dtype))
        results[dtype] = (y.data, x.grad.data, w.grad.data, b.grad.data, running_mean, running_var)
    for single, double in zip(results[np.float32], results[np.float64]):
        assert single.dtype == np.float32
        scale = np.abs(double).max()
        np.testing.assert_allclose(single, double, rtol=1e-5, atol=1e-5 * scale)


# ----------------------------------------------------------------------------- batch_norm: errors


def test_batch_norm_one_value_per_channel_in_training_is_an_error():
    for shape in [(1, 3), (1, 3, 1, 1)]:
        with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3"):
            F.batch_norm(leaf(np.ones(shape)), np.zeros(3), np.ones(3), training=True)
    F.batch_norm(leaf(np.ones((1, 3))), np.zeros(3), np.ones(3), training=False)  # fine


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(running_mean=np.zeros(4), running_var=np.ones(3)), ValueError,
     r"running_mean must have shape \(3,\).*4 channels|running_mean must have shape \(3,\)"),
    (dict(running_mean=np.zeros(3), running_var=None), ValueError, "both"),
    (dict(running_mean=None, running_var=None, training=False), ValueError,
     "required when training=False"),
    (dict(weight=np.ones(2)), ValueError, r"weight must have shape \(3,\).*got shape \(2,\)"),
    (dict(bias=np.ones((3, 1))), ValueError, r"bias must have shape \(3,\)"),
    (dict(momentum=None, training=True), TypeError, "momentum must be a number"),
])
def test_batch_norm_argument_errors(kwargs, error, message):
    arguments = dict(running_mean=np.zeros(3), running_var=np.ones(3))
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        F.batch_norm(leaf(np.ones((2, 3))), **arguments)


def test_batch_norm_input_errors():
    with pytest.raises(ValueError, match=r"\(N, C\) or \(N, C, H, W\), got shape \(3,\)"):
        F.batch_norm(leaf(np.ones(3)), None, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: x has dtype int64; minicnn computes in"):
        F.batch_norm(minicnn.tensor(np.ones((2, 3), dtype=np.int64)), None, None, training=True)


# ----------------------------------------------------------------------------- batch_norm: PyTorch


@pytest.mark.parametrize("shape", [(7, 4), (3, 4, 5, 6)])
def test_batch_norm_matches_pytorch_including_running_statistics(rng, shape):
    torch = pytest.importorskip("torch")
    weight, bias = rng.uniform(0.5, 2, 4), rng.uniform(-1, 1, 4)
    running_mean, running_var = np.zeros(4), np.ones(4)
    torch_mean, torch_var = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    for step in range(4):
        training = step < 3
        x = rng.normal(step, 2, shape)
        upstream = rng.standard_normal(shape)
        ours = [leaf(x), leaf(weight), leaf(bias)]
        y = F.batch_norm(*ours[:1], running_mean, running_var, *ours[1:], training=training,
                         momentum=0.2, eps=1e-3)
        y.backward(upstream)
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, weight, bias)]
        y_torch = torch.nn.functional.batch_norm(theirs[0], torch_mean, torch_var, *theirs[1:],
                                                 training=training, momentum=0.2, eps=1e-3)
        y_torch.backward(torch.tensor(upstream))
        np.testing.assert_allclose(y.data, y_torch.detach().numpy(), rtol=1e-12, atol=1e-12)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(running_mean, torch_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(running_var, torch_var.numpy(), rtol=1e-13)


# ----------------------------------------------------------------------------- LRN


def test_local_response_norm_by_hand():
    x = leaf(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1))
    # size 3, alpha / n = 1: s = 1 + (sum of squares of c-1, c, c+1)
    y = F.local_response_norm(x, 3, alpha=3.0, beta=1.0, k=1.0)
    np.testing.assert_allclose(y.data.ravel(), [1 / 6, 2 / 15, 3 / 14])
    # size 2 (even): the window is [c - 1, c]; alpha / n = 1
    y = F.local_response_norm(x, 2, alpha=2.0, beta=1.0, k=1.0)
    np.testing.assert_allclose(y.data.ravel(), [1 / 2, 2 / 6, 3 / 14])
    # size 7 > 3 channels: every window holds all of them (the divisor stays 7)
    y = F.local_response_norm(x, 7, alpha=7.0, beta=1.0, k=1.0)
    np.testing.assert_allclose(y.data.ravel(), [1 / 15, 2 / 15, 3 / 15])
    # size 1: only the channel itself: b = a / (k + alpha a^2)^beta
    y = F.local_response_norm(x, 1, alpha=1.0, beta=0.5, k=0.0)
    np.testing.assert_allclose(y.data.ravel(), [1.0, 1.0, 1.0])


def test_local_response_norm_backward_by_hand():
    # One channel, size 1, k=1, alpha=1, beta=1: b = a / (1 + a^2), db/da = (1 - a^2)/(1 + a^2)^2
    x = leaf(np.array([0.5, 2.0]).reshape(2, 1, 1))
    F.local_response_norm(x, 1, alpha=1.0, beta=1.0, k=1.0).backward(np.ones((2, 1, 1)))
    a = np.array([0.5, 2.0])
    np.testing.assert_allclose(x.grad.data.ravel(), (1 - a ** 2) / (1 + a ** 2) ** 2)


def numpy_local_response_norm(x, size, alpha, beta, k):
    """Loops over the window, written from PyTorch's documented formula."""
    out = np.empty_like(x)
    channels = x.shape[1]
    for c in range(channels):
        window = range(max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1))
        energy = sum(x[:, j] ** 2 for j in window)
        out[:, c] = x[:, c] * (k + alpha / size * energy) ** -beta
    return out


@given(n=st.integers(1, 2), channels=st.integers(1, 7), spatial=st.sampled_from([(), (2,), (2, 3)]),
       size=st.integers(1, 6), alpha=st.floats(0.1, 2.0), beta=st.floats(0.3, 1.5),
       k=st.floats(0.5, 2.0), data=st.data())
def test_local_response_norm_forward_and_gradcheck(n, channels, spatial, size, alpha, beta, k,
                                                   data):
    shape = (n, channels) + (spatial or (1,))
    x = leaf(data.draw(arrays(shape, -2.0, 2.0)))
    y = F.local_response_norm(x, size, alpha, beta, k)
    np.testing.assert_allclose(y.data, numpy_local_response_norm(x.data, size, alpha, beta, k),
                               rtol=1e-13)
    assert minicnn.gradcheck(lambda x: F.local_response_norm(x, size, alpha, beta, k), [x])


def test_local_response_norm_tensorflow_mapping(rng):
    # TensorFlow: sqr_sum over [c - r, c + r], b = a / (bias + alpha_tf * sqr_sum)^beta
    x = rng.uniform(-2, 2, (2, 7, 3, 3))
    radius, alpha_tf, bias, beta = 2, 0.3, 1.5, 0.75
    squares = np.pad(x ** 2, ((0, 0), (radius, radius), (0, 0), (0, 0)))
    sqr_sum = sum(squares[:, i:i + 7] for i in range(2 * radius + 1))
    expected = x / (bias + alpha_tf * sqr_sum) ** beta
    y = F.local_response_norm(leaf(x), 2 * radius + 1, alpha=alpha_tf * (2 * radius + 1),
                              beta=beta, k=bias)
    np.testing.assert_allclose(y.data, expected, rtol=1e-13)


def test_local_response_norm_keeps_float32(rng):
    x = leaf(rng.uniform(-1, 1, (2, 6, 3, 3)), dtype=np.float32)
    y = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32
    expected = numpy_local_response_norm(x.data.astype(np.float64), 5, 1e-4, 0.75, 2.0)
    np.testing.assert_allclose(y.data, expected, rtol=1e-6)


def test_local_response_norm_errors():
    with pytest.raises(ValueError, match=r"at least 3 dimensions.*got shape \(2, 3\)"):
        F.local_response_norm(leaf(np.ones((2, 3))), 2)
    for size in (0, -1, 2.5):
        with pytest.raises(ValueError, match=f"size must be a positive int, got {size}"):
            F.local_response_norm(leaf(np.ones((2, 3, 4))), size)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_local_response_norm_matches_pytorch(rng, size):
    torch = pytest.importorskip("torch")
    x = rng.uniform(-2, 2, (2, 6, 4, 3))
    upstream = rng.standard_normal(x.shape)
    ours = leaf(x)
    y = F.local_response_norm(ours, size, alpha=0.5, beta=0.8, k=1.5)
    y.backward(upstream)
    theirs = torch.tensor(x, requires_grad=True)
    y_torch = torch.nn.functional.local_response_norm(theirs, size, alpha=0.5, beta=0.8, k=1.5)
    y_torch.backward(torch.tensor(upstream))
    np.testing.assert_allclose(y.data, y_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- read-only arrays


def _read_only_kinds(array, tmp_path):
    """``array`` as the read-only arrays users hand in: memory-mapped, from bytes, flagged."""
    np.save(tmp_path / "array.npy", array)
    flagged = array.copy()
    flagged.setflags(write=False)
    return [np.load(tmp_path / "array.npy", mmap_mode="r"),
            np.frombuffer(array.tobytes(), array.dtype).reshape(array.shape), flagged]


NORMS = {
    "batch_norm training": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    "batch_norm eval": lambda x, w, b: F.batch_norm(
        x, np.linspace(-1, 1, 3), np.linspace(0.5, 2, 3), w, b),
    "local_response_norm": lambda x, w, b: F.local_response_norm(
        x * w[:, None, None] + b[:, None, None], 2),
}


@pytest.mark.parametrize("norm", NORMS.values(), ids=NORMS.keys())
def test_read_only_inputs_and_upstream_gradients(norm, tmp_path):
    rng = np.random.default_rng(0)
    data = {"x": rng.standard_normal((2, 3, 4, 5)), "w": rng.uniform(0.5, 2, 3),
            "b": rng.standard_normal(3)}
    plain = {name: leaf(a) for name, a in data.items()}
    out = norm(*plain.values())
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    read_only_upstream = upstream.copy()
    read_only_upstream.setflags(write=False)
    kinds = {}
    for name, a in data.items():
        (tmp_path / name).mkdir()
        kinds[name] = _read_only_kinds(a, tmp_path / name)
    for i in range(3):
        tensors = {name: minicnn.tensor(kinds[name][i], requires_grad=True) for name in data}
        out_read_only = norm(*tensors.values())
        out_read_only.backward(read_only_upstream)
        np.testing.assert_array_equal(out_read_only.data, out.data)
        for name in data:
            np.testing.assert_array_equal(tensors[name].grad, plain[name].grad)
    # a broadcast upstream gradient: sum()'s backward hands down a read-only view of ones
    summed, ones = ({name: leaf(a) for name, a in data.items()} for _ in range(2))
    norm(*summed.values()).sum().backward()
    norm(*ones.values()).backward(np.ones(out.shape))
    for name in data:
        np.testing.assert_array_equal(summed[name].grad, ones[name].grad)


def test_read_only_running_statistics_are_refused_in_training_only():
    running_mean, running_var = np.zeros(3), np.ones(3)
    running_mean.setflags(write=False)
    x = leaf(np.random.default_rng(0).standard_normal((4, 3)))
    F.batch_norm(x, running_mean, running_var)  # evaluation only reads them
    with pytest.raises(ValueError, match="batch_norm: running_mean is read-only, but training"):
        F.batch_norm(x, running_mean, running_var, training=True)
    np.testing.assert_array_equal(running_var, 1)  # nothing half-updated


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("op", [
    lambda x: F.batch_norm(x, None, None, training=True),
    lambda x: F.local_response_norm(x, 2),
], ids=["batch_norm", "local_response_norm"])
@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.complex128])
def test_only_float32_and_float64_are_computed(op, dtype):
    # float16 passed batch_norm's check and died inside Numba; LRN computed in float16
    with pytest.raises(TypeError, match=f"norm: x has dtype {np.dtype(dtype)}; minicnn computes"):
        op(minicnn.tensor(np.ones((2, 3, 2, 2), dtype)))


@pytest.mark.parametrize("name", ["weight", "bias", "running_mean", "running_var"])
@pytest.mark.parametrize("x_dtype, other_dtype", [(np.float64, np.float32),
                                                  (np.float32, np.float64),
                                                  (np.float32, np.float16)])
def test_batch_norm_parameters_must_have_the_input_dtype(name, x_dtype, other_dtype):
    # float32 weights on a float64 input gave float64 silently; PyTorch raises
    arrays = dict(running_mean=np.zeros(3, x_dtype), running_var=np.ones(3, x_dtype),
                  weight=leaf(np.ones(3), x_dtype), bias=leaf(np.zeros(3), x_dtype))
    wrong = np.ones(3, other_dtype)
    arrays[name] = wrong if name.startswith("running") else leaf(wrong, other_dtype)
    x = leaf(np.ones((2, 3)), x_dtype)
    for training in (True, False):
        with pytest.raises(TypeError, match=f"batch_norm: {name} has dtype "
                                            f"{np.dtype(other_dtype)} but batch_norm: x has"):
            F.batch_norm(x, training=training, **arrays)


def test_lrn_settings_never_change_the_dtype():
    # np.float64 alpha/beta/k made a float32 input's output float64
    x = leaf(np.random.default_rng(0).standard_normal((1, 4, 2, 2)), np.float32)
    out = F.local_response_norm(x, 3, alpha=np.float64(1e-2), beta=np.float64(0.75),
                                k=np.float64(2))
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, F.local_response_norm(x, 3, 1e-2, 0.75, 2.0).data)
    with pytest.raises(TypeError, match="local_response_norm: beta must be a number"):
        F.local_response_norm(x, 3, beta="0.75")


# ----------------------------------------------------------------------------- empty inputs


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 5), (2, 3, 0, 5), (2, 0, 4, 5), (0, 0)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_nothing_is_empty_and_learns_nothing(shape, training):
    # N = 0 gave "cannot reshape array of size 0", C = 0 a ZeroDivisionError; PyTorch
    # returns an empty result in both modes and leaves the running statistics alone
    channels = shape[1]
    running_mean, running_var = np.full(channels, 0.5), np.full(channels, 2.0)
    x, weight, bias = leaf(np.zeros(shape)), leaf(np.ones(channels)), leaf(np.ones(channels))
    out = F.batch_norm(x, running_mean, running_var, weight, bias, training=training)
    assert out.shape == shape and out.dtype == np.float64
    out.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(weight.grad, np.zeros(channels))
    np.testing.assert_array_equal(bias.grad, np.zeros(channels))
    np.testing.assert_array_equal(running_mean, 0.5)
    np.testing.assert_array_equal(running_var, 2.0)


def test_batch_norm_empty_matches_pytorch():
    torch = pytest.importorskip("torch")
    for shape in [(0, 3, 4, 5), (2, 0, 4, 5), (2, 3, 0, 5)]:
        for training in (True, False):
            ours = F.batch_norm(leaf(np.zeros(shape)), np.zeros(shape[1]), np.ones(shape[1]),
                                training=training)
            theirs = torch.nn.functional.batch_norm(
                torch.zeros(shape, dtype=torch.float64), torch.zeros(shape[1], dtype=torch.float64),
                torch.ones(shape[1], dtype=torch.float64), training=training)
            assert ours.shape == tuple(theirs.shape)
    with pytest.raises(ValueError, match="more than 1 value per channel"):  # as PyTorch
        F.batch_norm(leaf(np.zeros((1, 3, 1, 1))), None, None, training=True)


@pytest.mark.parametrize("shape", [(0, 3, 4, 5), (2, 0, 4, 5), (2, 3, 0, 5)])
def test_lrn_of_nothing_is_empty(shape):
    x = leaf(np.zeros(shape))
    out = F.local_response_norm(x, 3)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == shape


# ----------------------------------------------------------------------------- layer/group/instance


def numpy_standardize(x, axes, eps):
    """Independent formula: (x - mean) / sqrt(biased var + eps) over ``axes``."""
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def test_layer_norm_by_hand():
    x = leaf([[1.0, 2.0, 3.0, 6.0]])  # mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5
    weight, bias = leaf([1.0, 2.0, 1.0, 0.5]), leaf([0.0, 1.0, 0.0, 0.0])
    y = F.layer_norm(x, 4, weight, bias, eps=0.0)
    xhat = np.array([-2.0, -1.0, 0.0, 3.0]) / np.sqrt(3.5)
    np.testing.assert_allclose(y.data[0], xhat * [1.0, 2.0, 1.0, 0.5] + [0.0, 1.0, 0.0, 0.0])
    g = np.array([[1.0, 0.0, 0.0, 0.0]])
    y.backward(g)
    np.testing.assert_allclose(weight.grad, g[0] * xhat)
    np.testing.assert_allclose(bias.grad, g[0])
    # dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * weight
    gw = g[0] * weight.data
    expected = (gw - gw.mean() - xhat * np.mean(gw * xhat)) / np.sqrt(3.5)
    np.testing.assert_allclose(x.grad[0], expected, atol=1e-15)


@pytest.mark.parametrize("shape, normalized_shape", [((2, 5), 5), ((3, 2, 4), (4,)),
                                                     ((2, 3, 4, 2), (3, 4, 2)), ((4,), [4])])
def test_layer_norm_forward_matches_numpy(rng, shape, normalized_shape):
    x = rng.normal(2, 3, shape)
    k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = F.layer_norm(leaf(x), normalized_shape, eps=1e-4)
    np.testing.assert_allclose(y.data, numpy_standardize(x, axes, 1e-4), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((3, 4, 2, 2), 1), ((2, 4, 2, 3), 4),
                                           ((2, 6), 2)])
def test_group_norm_forward_matches_numpy(rng, shape, groups):
    x = rng.normal(-1, 2, shape)
    weight, bias = rng.uniform(0.5, 2, shape[1]), rng.uniform(-1, 1, shape[1])
    y = F.group_norm(leaf(x), groups, leaf(weight), leaf(bias), eps=1e-3)
    grouped = x.reshape(shape[0], groups, -1)
    expected = numpy_standardize(grouped, (2,), 1e-3).reshape(shape)
    per_channel = (1, -1) + (1,) * (len(shape) - 2)
    np.testing.assert_allclose(y.data, expected * weight.reshape(per_channel)
                               + bias.reshape(per_channel), rtol=1e-12, atol=1e-13)


def test_instance_norm_is_group_norm_with_one_group_per_channel(rng):
    x = rng.normal(0, 2, (2, 3, 4, 5))
    np.testing.assert_array_equal(F.instance_norm(leaf(x)).data, F.group_norm(leaf(x), 3).data)
    np.testing.assert_allclose(F.instance_norm(leaf(x)).data,
                               numpy_standardize(x, (2, 3), 1e-5), rtol=1e-12, atol=1e-13)


def test_instance_norm_running_statistics_by_hand():
    # two instances of one channel: means 2 and 10, unbiased variances 1 and 4
    x = leaf([[[1.0, 2.0, 3.0]], [[8.0, 10.0, 12.0]]])
    running_mean, running_var = np.array([1.0]), np.array([1.0])
    F.instance_norm(x, running_mean, running_var, momentum=0.5)
    np.testing.assert_allclose(running_mean, [0.5 * 1.0 + 0.5 * 6.0])
    np.testing.assert_allclose(running_var, [0.5 * 1.0 + 0.5 * 2.5])
    # use_input_stats=False: (x - running_mean) / sqrt(running_var + eps), nothing updated
    y = F.instance_norm(x, running_mean, running_var, use_input_stats=False, eps=0.0)
    np.testing.assert_allclose(y.data, (x.data - 3.5) / np.sqrt(1.75))
    np.testing.assert_allclose(running_mean, [3.5])


@st.composite
def group_norm_cases(draw):
    """(shape, groups) with more than one value per group."""
    n, groups, per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    spatial = draw(st.sampled_from([(), (2,), (1, 3), (2, 2)]))
    if per_group * int(np.prod(spatial)) == 1:
        spatial = (2,)
    return (n, groups * per_group) + spatial, groups


def _affine_inputs(data, shape, affine, bias):
    """[weight, bias] leaves as drawn (weight away from 0), or None for the absent ones."""
    weight = leaf(data.draw(arrays(shape, 0.5, 2.0))) if affine else None
    shift = leaf(data.draw(arrays(shape, -1.0, 1.0))) if bias else None
    return weight, shift


def _gradcheck_with(fn, x, weight, bias):
    inputs = [x] + [p for p in (weight, bias) if p is not None]

    def call(x, *params):
        given = iter(params)
        return fn(x, next(given) if weight is not None else None,
                  next(given) if bias is not None else None)

    return minicnn.gradcheck(call, inputs)


@given(case=group_norm_cases(), affine=st.booleans(), bias=st.booleans(), data=st.data())
def test_group_norm_gradcheck(case, affine, bias, data):
    shape, groups = case
    x = leaf(data.draw(distinct_arrays(shape, -2.0, 2.0)))
    weight, shift = _affine_inputs(data, (shape[1],), affine, bias)
    assert _gradcheck_with(lambda x, w, b: F.group_norm(x, groups, w, b), x, weight, shift)


@given(leading=st.sampled_from([(1,), (3,), (2, 2)]),
       normalized=st.sampled_from([(2,), (3,), (2, 3), (3, 1, 2)]),
       affine=st.booleans(), bias=st.booleans(), data=st.data())
def test_layer_norm_gradcheck(leading, normalized, affine, bias, data):
    x = leaf(data.draw(distinct_arrays(leading + normalized, -2.0, 2.0)))
    weight, shift = _affine_inputs(data, normalized, affine, bias)
    assert _gradcheck_with(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, weight, shift)


@given(n=st.integers(1, 3), channels=st.integers(1, 3),
       spatial=st.sampled_from([(2,), (3,), (2, 2), (1, 3)]), use_input_stats=st.booleans(),
       affine=st.booleans(), data=st.data())
def test_instance_norm_gradcheck(n, channels, spatial, use_input_stats, affine, data):
    shape = (n, channels) + spatial
    x = leaf(data.draw(distinct_arrays(shape, -2.0, 2.0)))
    running_mean = data.draw(arrays((channels,), -1.0, 1.0))
    running_var = data.draw(arrays((channels,), 0.5, 2.0))
    weight, shift = _affine_inputs(data, (channels,), affine, affine)

    def fn(x, w, b):  # copies: use_input_stats updates the running estimates on every call
        return F.instance_norm(x, running_mean.copy(), running_var.copy(), w, b,
                               use_input_stats=use_input_stats)

    assert _gradcheck_with(fn, x, weight, shift)


def test_per_sample_norms_skip_gradients_nobody_needs(rng):
    x = leaf(rng.uniform(-1, 1, (2, 4, 3)), requires_grad=False)
    weight, bias = leaf(rng.uniform(0.5, 2, 4)), leaf(rng.uniform(-1, 1, 4), requires_grad=False)
    F.group_norm(x, 2, weight, bias).sum().backward()
    assert x.grad is None and bias.grad is None and weight.grad.shape == (4,)


def _torch_pair(torch, values):
    return leaf(values, dtype=values.dtype), torch.tensor(values, requires_grad=True)


@pytest.mark.parametrize("shape, normalized_shape, dtype", [
    ((4, 6), (6,), np.float64), ((2, 3, 4, 5), (4, 5), np.float64),
    ((3, 2, 3), (2, 3), np.float32)])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_pytorch(rng, shape, normalized_shape, dtype, affine):
    torch = pytest.importorskip("torch")
    x = rng.normal(1, 2, shape).astype(dtype)
    params = [rng.uniform(0.5, 2, normalized_shape).astype(dtype),
              rng.uniform(-1, 1, normalized_shape).astype(dtype)]
    present = {"both": 2, "weight": 1, "none": 0}[affine]
    pairs = [_torch_pair(torch, a) for a in [x] + params[:present]]
    ours = [p[0] for p in pairs] + [None] * (2 - present)
    theirs = [p[1] for p in pairs] + [None] * (2 - present)
    upstream = rng.standard_normal(shape).astype(dtype)
    y = F.layer_norm(ours[0], normalized_shape, *ours[1:], eps=1e-3)
    y_torch = torch.nn.functional.layer_norm(theirs[0], normalized_shape, *theirs[1:], eps=1e-3)
    y.backward(upstream)
    y_torch.backward(torch.tensor(upstream))
    tol = dict(rtol=1e-10, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, y_torch.detach().numpy(), **tol)
    for a, b in pairs:
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol)


@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((2, 6, 5), 2), ((2, 4, 3, 3), 4),
                                           ((3, 4, 2, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_norm_matches_pytorch(rng, shape, groups, dtype):
    torch = pytest.importorskip("torch")
    channels = shape[1]
    values = [rng.normal(1, 2, shape), rng.uniform(0.5, 2, channels), rng.uniform(-1, 1, channels)]
    pairs = [_torch_pair(torch, a.astype(dtype)) for a in values]
    upstream = rng.standard_normal(shape).astype(dtype)
    y = F.group_norm(pairs[0][0], groups, pairs[1][0], pairs[2][0], eps=1e-4)
    y_torch = torch.nn.functional.group_norm(pairs[0][1], groups, pairs[1][1], pairs[2][1],
                                             eps=1e-4)
    y.backward(upstream)
    y_torch.backward(torch.tensor(upstream))
    tol = dict(rtol=1e-10, atol=1e-11) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y.data, y_torch.detach().numpy(), **tol)
    for a, b in pairs:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_instance_norm_matches_pytorch_including_running_statistics(rng, shape):
    torch = pytest.importorskip("torch")
    channels = shape[1]
    running_mean, running_var = np.zeros(channels), np.ones(channels)
    torch_mean = torch.zeros(channels, dtype=torch.float64)
    torch_var = torch.ones(channels, dtype=torch.float64)
    weight, bias = rng.uniform(0.5, 2, channels), rng.uniform(-1, 1, channels)
    for step in range(4):
        use_input_stats = step < 3
        pairs = [_torch_pair(torch, a) for a in (rng.normal(step, 2, shape), weight, bias)]
        upstream = rng.standard_normal(shape)
        y = F.instance_norm(pairs[0][0], running_mean, running_var, pairs[1][0], pairs[2][0],
                            use_input_stats=use_input_stats, momentum=0.3, eps=1e-3)
        y_torch = torch.nn.functional.instance_norm(
            pairs[0][1], torch_mean, torch_var, pairs[1][1], pairs[2][1],
            use_input_stats=use_input_stats, momentum=0.3, eps=1e-3)
        y.backward(upstream)
        y_torch.backward(torch.tensor(upstream))
        np.testing.assert_allclose(y.data, y_torch.detach().numpy(), rtol=1e-10, atol=1e-11)
        for a, b in pairs:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-11)
        np.testing.assert_allclose(running_mean, torch_mean.numpy(), rtol=1e-13)
        np.testing.assert_allclose(running_var, torch_var.numpy(), rtol=1e-13)


EMPTY_CASES = {  # op(x, weight, bias) on an empty input, and the parameters' shape
    "layer_norm": (lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b), lambda shape: shape[-1:]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 1, w, b), lambda shape: shape[1:2]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                      lambda shape: shape[1:2]),
}


@pytest.mark.parametrize("op", EMPTY_CASES)
@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (2, 3, 0), (0, 2, 2, 3), (2, 0, 3)])
def test_per_sample_norms_of_nothing_match_pytorch(op, shape):
    """Empty results and zero parameter gradients. Two torch 2.13 quirks are not copied:
    instance_norm with a weight and N or C = 0 raises an internal IndexError, and group_norm's
    weight gradient over empty spatial axes is NaN (a sum over nothing is 0 here)."""
    torch = pytest.importorskip("torch")
    fn, param_shape = EMPTY_CASES[op]
    if op == "instance_norm" and shape == (0, 3):
        return  # one spatial element: an error, tested below
    ours = [leaf(np.zeros(shape)), leaf(np.ones(param_shape(shape))),
            leaf(np.zeros(param_shape(shape)))]
    out = fn(*ours)
    out.sum().backward()
    x_torch = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
    settings = {"layer_norm": (shape[-1:],), "group_norm": (1,), "instance_norm": ()}[op]
    out_torch = getattr(torch.nn.functional, op)(x_torch, *settings)
    out_torch.sum().backward()
    assert out.shape == tuple(out_torch.shape) == shape
    np.testing.assert_array_equal(ours[0].grad, x_torch.grad.numpy())
    for parameter in ours[1:]:
        np.testing.assert_array_equal(parameter.grad, np.zeros(param_shape(shape)))


@pytest.mark.parametrize("shape, expected_mean, expected_var", [
    ((0, 3, 4), np.nan, np.nan), ((2, 3, 0), 0.0, 1.0)])
def test_instance_norm_running_statistics_of_nothing_as_pytorch(shape, expected_mean,
                                                                 expected_var):
    torch = pytest.importorskip("torch")
    running_mean, running_var = np.zeros(3), np.ones(3)
    out = F.instance_norm(leaf(np.zeros(shape)), running_mean, running_var)
    torch_mean, torch_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    torch.nn.functional.instance_norm(torch.zeros(shape, dtype=torch.float64), torch_mean,
                                      torch_var)
    assert out.shape == shape
    np.testing.assert_array_equal(running_mean, torch_mean.numpy())  # NaN == NaN here
    np.testing.assert_array_equal(running_var, torch_var.numpy())
    np.testing.assert_array_equal(running_mean, np.full(3, expected_mean))
    np.testing.assert_array_equal(running_var, np.full(3, expected_var))
    out = F.instance_norm(leaf(np.zeros(shape)), np.zeros(3), np.ones(3), use_input_stats=False)
    assert out.shape == shape


@pytest.mark.parametrize("call, error, message", [
    (lambda x: F.layer_norm(x, 5), ValueError, r"normalized_shape=\[5\].*\(2, 3, 4\)"),
    (lambda x: F.layer_norm(x, ()), ValueError, "non-empty"),
    (lambda x: F.layer_norm(x, (3, 4, 4, 4)), ValueError, "expected input"),
    (lambda x: F.layer_norm(x, 4, leaf(np.ones(3))), ValueError, r"weight must have shape \(4,\)"),
    (lambda x: F.layer_norm(x, 4, eps="1"), TypeError, "eps must be a number"),
    (lambda x: F.group_norm(x, 2), ValueError, "divisible by num_groups.*num_groups=2"),
    (lambda x: F.group_norm(x, 0), ValueError, "num_groups"),
    (lambda x: F.group_norm(x[0, 0], 1), ValueError, "at least 2 dimensions"),
    (lambda x: F.group_norm(x, 3, None, leaf(np.ones(4))), ValueError, r"bias must have shape"),
    (lambda x: F.group_norm(leaf(np.zeros((1, 2, 1))), 2), ValueError,
     "more than 1 value per channel"),
    (lambda x: F.instance_norm(x[:, :, :1]), ValueError, "more than 1 spatial element"),
    (lambda x: F.instance_norm(x[:, :, 0]), ValueError, "more than 1 spatial element"),
    (lambda x: F.instance_norm(x, use_input_stats=False), ValueError, "required when"),
    (lambda x: F.instance_norm(x, np.zeros(3)), ValueError, "both"),
    (lambda x: F.instance_norm(x, np.zeros(2), np.ones(2)), ValueError,
     r"running_mean must have shape \(3,\)"),
    (lambda x: F.instance_norm(x, momentum=None), TypeError, "momentum must be a number"),
])
def test_per_sample_norm_errors(call, error, message):
    with pytest.raises(error, match=message):
        call(leaf(np.zeros((2, 3, 4))))


def test_group_norm_one_group_of_one_value_per_sample_is_allowed_as_pytorch():
    # PyTorch counts N * C / G * L values "per channel": (1, 2, 1) with G = 1 has 2
    assert F.group_norm(leaf(np.array([[[1.0], [3.0]]])), 1).shape == (1, 2, 1)


@pytest.mark.parametrize("op, size", [
    (lambda x, p: F.layer_norm(x, 4, p, None), 4), (lambda x, p: F.group_norm(x, 3, None, p), 3),
    (lambda x, p: F.instance_norm(x, weight=p, bias=p), 3),
    (lambda x, p: F.instance_norm(x, p.data, p.data.copy()), 3)])
@pytest.mark.parametrize("x_dtype, other_dtype", [(np.float64, np.float32),
                                                  (np.float32, np.float64)])
def test_per_sample_norm_parameters_must_have_the_input_dtype(op, size, x_dtype, other_dtype):
    x = leaf(np.ones((2, 3, 4)), dtype=x_dtype)
    with pytest.raises(TypeError, match="dtype"):
        op(x, leaf(np.ones(size), dtype=other_dtype))


@pytest.mark.parametrize("op", [lambda x: F.layer_norm(x, 4), lambda x: F.group_norm(x, 1),
                                lambda x: F.instance_norm(x)])
@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.complex128])
def test_per_sample_norms_compute_in_float32_and_float64_only(op, dtype):
    with pytest.raises(TypeError, match="float32"):
        op(minicnn.tensor(np.ones((2, 3, 4), dtype=dtype)))


@pytest.mark.parametrize("op", [lambda x: F.layer_norm(x, 4, eps=np.float64(1e-3)),
                                lambda x: F.group_norm(x, 3, eps=np.float64(1e-3)),
                                lambda x: F.instance_norm(x, np.zeros(3, np.float32),
                                                          np.ones(3, np.float32),
                                                          momentum=np.float64(0.2))])
def test_per_sample_norms_keep_float32(rng, op):
    x = leaf(rng.normal(0, 1, (2, 3, 4)), dtype=np.float32)
    y = op(x)
    assert y.dtype == np.float32
    y.backward(np.ones_like(y.data))
    assert x.grad.dtype == np.float32
