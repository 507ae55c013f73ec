"""cross_entropy, nll_loss, mse_loss: hand-computed cases, label smoothing against an
independent NumPy formula, stability at logits of 1e4 in float32, gradcheck for every
reduction, dtype, errors with their messages, PyTorch as an optional oracle."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from tests.strategies import arrays

REDUCTIONS = ["mean", "sum", "none"]


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def numpy_smoothed_cross_entropy(logits, target, eps):
    """Per-sample loss -sum_k q_k log p_k with q built explicitly, in float64."""
    logits = logits.astype(np.float64)
    n, k = logits.shape
    q = np.full((n, k), eps / k)
    q[np.arange(n), target] += 1 - eps
    log_p = logits - logits.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    return -(q * log_p).sum(axis=1)


def reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


@st.composite
def classification(draw, max_samples=5, max_classes=5, low=-3.0, high=3.0):
    """float64 logits (N, K) and integer targets (N,)."""
    n, k = draw(st.integers(1, max_samples)), draw(st.integers(1, max_classes))
    logits = draw(arrays((n, k), low, high))
    target = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return logits, target


# --------------------------------------------------------------------------- cross_entropy: golden


def test_cross_entropy_by_hand():
    logits = leaf([[0.0, math.log(3.0)]])  # softmax (0.25, 0.75)
    loss = F.cross_entropy(logits, np.array([1]))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, -math.log(0.75))
    loss.backward()
    np.testing.assert_allclose(logits.grad, [[0.25, -0.25]])  # softmax - one_hot


def test_cross_entropy_label_smoothing_by_hand():
    # K = 2, eps = 0.2: q = (0.1, 0.9) for target 1; loss = -(0.1 log 0.25 + 0.9 log 0.75)
    logits = leaf([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    loss = F.cross_entropy(logits, np.array([1, 0]), label_smoothing=0.2, reduction="none")
    np.testing.assert_allclose(loss.data, [-(0.1 * math.log(0.25) + 0.9 * math.log(0.75)),
                                           -(0.9 * math.log(0.25) + 0.1 * math.log(0.75))])
    loss.backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(logits.grad, [[0.25 - 0.1, 0.75 - 0.9],
                                             [2 * (0.25 - 0.9), 2 * (0.75 - 0.1)]])


def test_cross_entropy_full_smoothing_is_uniform_target(rng):
    logits = rng.uniform(-2, 2, (4, 5))
    loss = F.cross_entropy(leaf(logits), np.array([0, 1, 2, 3]), label_smoothing=1.0,
                           reduction="none")
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss.data, -log_p.mean(axis=1), rtol=1e-13)


def test_cross_entropy_accepts_integer_tensor_and_list_targets(rng):
    logits = leaf(rng.uniform(-1, 1, (3, 4)))
    expected = F.cross_entropy(logits, np.array([0, 3, 1])).data
    for target in (minicnn.tensor(np.array([0, 3, 1], dtype=np.int32)), [0, 3, 1]):
        np.testing.assert_array_equal(F.cross_entropy(logits, target).data, expected)


# ----------------------------------------------------------------------------- cross_entropy: drawn


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification(), eps=st.sampled_from([0.0, 0.1]) | st.floats(0.0, 1.0))
def test_cross_entropy_matches_numpy_formula_and_gradcheck(reduction, problem, eps):
    logits, target = problem
    z = leaf(logits)
    loss = F.cross_entropy(z, target, label_smoothing=eps, reduction=reduction)
    expected = reduce(numpy_smoothed_cross_entropy(logits, target, eps), reduction)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-13, atol=1e-15)
    assert minicnn.gradcheck(lambda z: F.cross_entropy(z, target, eps, reduction), [z])


@given(n=st.integers(1, 2), k=st.integers(1, 4), spatial=st.sampled_from([(3,), (2, 2)]),
       eps=st.sampled_from([0.0, 0.1]), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_cross_entropy_per_position_inputs(n, k, spatial, eps, reduction, data):
    # (N, K, d1, ...) is the (N * d1 * ..., K) problem with the class axis moved last.
    logits = data.draw(arrays((n, k) + spatial, -3.0, 3.0))
    positions = n * int(np.prod(spatial))
    target = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=positions,
                                         max_size=positions))).reshape((n,) + spatial)
    z = leaf(logits)
    loss = F.cross_entropy(z, target, label_smoothing=eps, reduction=reduction)
    flat = np.moveaxis(logits, 1, -1).reshape(-1, k)
    per_position = numpy_smoothed_cross_entropy(flat, target.reshape(-1), eps)
    expected = reduce(per_position, reduction)
    if reduction == "none":
        expected = expected.reshape((n,) + spatial)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-13)
    assert minicnn.gradcheck(lambda z: F.cross_entropy(z, target, eps, reduction), [z])


# ----------------------------------------------------------------------------- stability, dtype


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_cross_entropy_stable_for_logits_of_1e4_in_float32(rng, eps):
    logits = (rng.standard_normal((6, 10)) * 1e4).astype(np.float32)
    target = rng.integers(0, 10, 6)
    z = leaf(logits, dtype=np.float32)
    loss = F.cross_entropy(z, target, label_smoothing=eps, reduction="none")
    assert loss.dtype == np.float32
    expected = numpy_smoothed_cross_entropy(logits, target, eps)
    assert np.all(np.isfinite(loss.data))
    np.testing.assert_allclose(loss.data, expected, rtol=1e-6)
    loss.sum().backward()
    assert z.grad.dtype == np.float32 and np.all(np.isfinite(z.grad.data))
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True).astype(np.float64))
    softmax /= softmax.sum(axis=1, keepdims=True)
    q = np.full((6, 10), eps / 10)
    q[np.arange(6), target] += 1 - eps
    np.testing.assert_allclose(z.grad, softmax - q, atol=1e-6)


def test_cross_entropy_float32_in_float32_out(rng):
    z = leaf(rng.uniform(-1, 1, (4, 3)), dtype=np.float32)
    for reduction in REDUCTIONS:
        z.grad = None
        loss = F.cross_entropy(z, np.array([0, 1, 2, 0]), 0.1, reduction)
        assert loss.dtype == np.float32
        loss.backward(np.ones(loss.shape, dtype=np.float32))
        assert z.grad.dtype == np.float32


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 3, 1]), ValueError, r"target 3 at index \(1,\) is out of range for 3 classes "
                                      r"\(valid: 0 to 2\)"),
    (np.array([0, -1, 1]), ValueError, r"target -1 at index \(1,\) is out of range"),
    (np.array([0.0, 1.0, 2.0]), TypeError, "target must hold integer class indices, got dtype "
                                           "float64"),
    (np.array([True, False, True]), TypeError, "target must hold integer class indices, got "
                                               "dtype bool"),
    (np.array([0, 1]), ValueError, r"target must have shape \(3,\).*got shape \(2,\)"),
    (np.array([[0], [1], [2]]), ValueError, r"target must have shape \(3,\).*got shape \(3, 1\)"),
])
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_target_errors(loss, target, error, message):
    with pytest.raises(error, match=f"{loss.__name__}: {message}"):
        loss(leaf(np.zeros((3, 3))), target)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_input_shape_and_reduction_errors(loss):
    with pytest.raises(ValueError, match=r"input must be \(N, K\).*got shape \(3,\)"):
        loss(leaf(np.zeros(3)), np.array([0]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        loss(leaf(np.zeros((2, 3))), np.array([0, 1]), reduction="avg")


@pytest.mark.parametrize("eps", [-0.1, 1.5])
def test_label_smoothing_outside_zero_one_is_an_error(eps):
    with pytest.raises(ValueError, match=rf"label_smoothing must be in \[0, 1\], got {eps}"):
        F.cross_entropy(leaf(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=eps)


# ----------------------------------------------------------------------------- nll_loss


def test_nll_loss_by_hand():
    log_probs = leaf([[-1.0, -2.0, -3.0], [-0.5, -0.25, -4.0]])
    loss = F.nll_loss(log_probs, np.array([2, 0]))
    np.testing.assert_allclose(loss.data, (3.0 + 0.5) / 2)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad, [[0, 0, -0.5], [-0.5, 0, 0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification())
def test_nll_loss_of_log_softmax_is_cross_entropy_and_gradcheck(reduction, problem):
    logits, target = problem
    z = leaf(logits)
    via_nll = F.nll_loss(F.log_softmax(z, axis=1), target, reduction=reduction)
    fused = F.cross_entropy(z, target, reduction=reduction)
    np.testing.assert_allclose(via_nll.data, fused.data, rtol=1e-13, atol=1e-15)
    assert minicnn.gradcheck(lambda x: F.nll_loss(x, target, reduction=reduction),
                             [leaf(logits)])


# ----------------------------------------------------------------------------- mse_loss


def test_mse_loss_by_hand():
    x = leaf([1.0, 2.0, 4.0])
    y = leaf([1.0, 0.0, 1.0])
    loss = F.mse_loss(x, y)
    np.testing.assert_allclose(loss.data, (0 + 4 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(x.grad, [0, 4 / 3, 6 / 3])
    np.testing.assert_allclose(y.grad, [0, -4 / 3, -6 / 3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_mse_loss_matches_numpy_and_gradcheck(reduction, shape, data):
    x, y = leaf(data.draw(arrays(shape))), leaf(data.draw(arrays(shape)))
    loss = F.mse_loss(x, y, reduction=reduction)
    np.testing.assert_allclose(loss.data, reduce((x.data - y.data) ** 2, reduction), rtol=1e-14)
    assert minicnn.gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), [x, y])


@pytest.mark.parametrize("target_dtype, expected", [
    (np.float32, np.float32), (np.int64, np.float32), (np.bool_, np.float32),
    (np.float64, np.float64),  # a float64 array with axes widens, as a tensor would (PyTorch)
])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_mse_loss_dtype_follows_the_promotion_rule(rng, target_dtype, expected, as_tensor):
    x = leaf(rng.uniform(-1, 1, (2, 3)), dtype=np.float32)
    target = rng.uniform(-1, 1, (2, 3)).astype(target_dtype)
    loss = F.mse_loss(x, minicnn.tensor(target) if as_tensor else target)
    assert loss.dtype == expected
    np.testing.assert_allclose(loss.data, np.mean((x.data.astype(expected) - target) ** 2),
                               rtol=1e-6)
    loss.backward()
    assert x.grad.dtype == np.float32  # gradients come back in the operand's own dtype


def test_mse_loss_gradient_to_a_float32_target_of_a_float64_input():
    x, y = leaf([1.0, 2.0]), leaf([0.0, 0.0], dtype=np.float32)
    F.mse_loss(x, y).backward()
    assert y.grad.dtype == np.float32
    np.testing.assert_allclose(y.grad, [-1.0, -2.0])


def test_mse_loss_matches_pytorch_with_mixed_dtypes(rng):
    torch = pytest.importorskip("torch")
    prediction, goal = rng.uniform(-1, 1, (3, 4)).astype(np.float32), rng.uniform(-1, 1, (3, 4))
    ours = F.mse_loss(leaf(prediction, dtype=np.float32), minicnn.tensor(goal))
    theirs = torch.nn.functional.mse_loss(torch.from_numpy(prediction), torch.from_numpy(goal))
    assert str(theirs.dtype) == f"torch.{ours.dtype}"
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("dtype", [np.float16, np.int64])
def test_class_losses_refuse_inputs_of_other_dtypes(loss, dtype):
    with pytest.raises(TypeError, match=f"{loss.__name__}: input has dtype {np.dtype(dtype)}; "
                                        "minicnn computes in float32 or float64"):
        loss(minicnn.tensor(np.zeros((2, 3), dtype=dtype)), np.array([0, 1]))


def test_mse_loss_refuses_dtypes_it_does_not_compute_in():
    with pytest.raises(TypeError, match="mse_loss: input has dtype float16"):
        F.mse_loss(minicnn.tensor(np.zeros(2, dtype=np.float16)), np.zeros(2))
    with pytest.raises(TypeError, match="mse_loss: the operands give dtype complex128"):
        F.mse_loss(leaf([0.0, 1.0]), np.array([1j, 0]))
    with pytest.raises(TypeError, match="mse_loss: input must be a Tensor, got ndarray"):
        F.mse_loss(np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="tensor: data must be numbers"):
        F.mse_loss(leaf([0.0, 1.0]), ["a", "b"])


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) differs from input shape \(3,\)"):
        F.mse_loss(leaf(np.zeros(3)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="reduction must be"):
        F.mse_loss(leaf(np.zeros(3)), np.zeros(3), reduction="max")


# ----------------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.7])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3)])
def test_cross_entropy_matches_pytorch(rng, shape, eps, reduction):
    torch = pytest.importorskip("torch")
    logits = rng.uniform(-4, 4, shape)
    target = rng.integers(0, shape[1], shape[:1] + shape[2:])
    ours = leaf(logits)
    loss = F.cross_entropy(ours, target, label_smoothing=eps, reduction=reduction)
    upstream = rng.standard_normal(loss.shape)
    loss.backward(upstream)
    theirs = torch.tensor(logits, requires_grad=True)
    loss_torch = torch.nn.functional.cross_entropy(theirs, torch.tensor(target),
                                                   label_smoothing=eps, reduction=reduction)
    loss_torch.backward(torch.tensor(upstream))
    np.testing.assert_allclose(loss.data, loss_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_nll_and_mse_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    log_probs, target = rng.uniform(-3, 0, (5, 4)), rng.integers(0, 4, 5)
    prediction, goal = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4))
    for reduction in REDUCTIONS:
        ours = F.nll_loss(leaf(log_probs), target, reduction=reduction)
        theirs = torch.nn.functional.nll_loss(torch.tensor(log_probs), torch.tensor(target),
                                              reduction=reduction)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-14)
        ours = F.mse_loss(leaf(prediction), goal, reduction=reduction)
        theirs = torch.nn.functional.mse_loss(torch.tensor(prediction), torch.tensor(goal),
                                              reduction=reduction)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-14)
