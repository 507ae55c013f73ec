"""The losses and one_hot: hand-computed cases, label smoothing against an independent
NumPy formula, stability at logits of 1e4 in float32, gradcheck for every reduction and
option, dtype, errors with their messages, PyTorch as an optional oracle (including a table
of how cross_entropy's weight, ignore_index, smoothing and probability targets combine)."""

import math
import warnings

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
    assert minicnn.gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction,
                                                       label_smoothing=eps), [z])


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
    assert minicnn.gradcheck(lambda z: F.cross_entropy(z, target, reduction=reduction,
                                                       label_smoothing=eps), [z])


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
        loss = F.cross_entropy(z, np.array([0, 1, 2, 0]), reduction=reduction,
                               label_smoothing=0.1)
        assert loss.dtype == np.float32
        loss.backward(np.ones(loss.shape, dtype=np.float32))
        assert z.grad.dtype == np.float32


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 3, 1]), ValueError, r"target 3 at index \(1,\) is out of range for 3 classes "
                                      r"\(valid: 0 to 2, or ignore_index=-100\)"),
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
    with pytest.raises(ValueError, match=r"input must be \(N, K\).*got shape \(\)"):
        loss(leaf(np.zeros(())), np.array(0))
    with pytest.raises(ValueError, match=r"target must have shape \(\) for input of shape "
                                         r"\(3,\), got shape \(1,\)"):
        loss(leaf(np.zeros(3)), np.array([0]))  # one unbatched sample takes a 0-d target
    with pytest.raises(TypeError, match="ignore_index must be an int, got 1.0"):
        loss(leaf(np.zeros((2, 3))), np.array([0, 1]), ignore_index=1.0)
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


# ----------------------------------------------------------------------------- cross_entropy and
# nll_loss: weight, ignore_index, probability targets, smoothing together


def numpy_weighted_cross_entropy(logits, target, weight, ignore_index, eps, reduction):
    """PyTorch's rule written out with explicit loops: the nll part weighted by the target
    class's weight, the smoothing part by every class's weight, ignored samples 0, 'mean'
    divided by the summed target weights of the kept samples."""
    n, k = logits.shape
    weight = np.ones(k) if weight is None else weight
    log_p = logits - logits.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    losses, denominator = np.zeros(n), 0.0
    for i in range(n):
        if target[i] == ignore_index:
            continue
        t = target[i]
        losses[i] = -(1 - eps) * weight[t] * log_p[i, t] - eps / k * (weight * log_p[i]).sum()
        denominator += weight[t]
    if reduction == "mean":
        return losses.sum() / denominator
    return losses.sum() if reduction == "sum" else losses


@st.composite
def weighted_classification(draw):
    """Logits (N, K), targets with some set to ignore_index (never all), class weights or
    None, ignore_index (-100 or a class) and eps."""
    logits, target = draw(classification(max_samples=6, max_classes=4))
    k = logits.shape[1]
    # a class as ignore_index needs a second class for the kept samples
    ignore_index = draw(st.sampled_from([-100, 0] if k > 1 else [-100]))
    ignored = np.array(draw(st.lists(st.booleans(), min_size=len(target),
                                     max_size=len(target))))
    ignored[0] = False  # at least one sample counts: the 'mean' stays finite
    if ignore_index >= 0:
        target = np.where(target == ignore_index, ignore_index + 1, target)
    target = np.where(ignored, ignore_index, target)
    weight = draw(st.none() | arrays((k,), 0.2, 2.0))
    eps = draw(st.sampled_from([0.0, 0.3]))
    return logits, target, weight, ignore_index, eps


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=weighted_classification())
def test_cross_entropy_weight_ignore_index_smoothing_formula_and_gradcheck(reduction, problem):
    logits, target, weight, ignore_index, eps = problem

    def loss(z):
        return F.cross_entropy(z, target, weight, ignore_index=ignore_index,
                               reduction=reduction, label_smoothing=eps)
    expected = numpy_weighted_cross_entropy(logits, target, weight, ignore_index, eps, reduction)
    np.testing.assert_allclose(loss(leaf(logits)).data, expected, rtol=1e-12, atol=1e-15)
    assert minicnn.gradcheck(loss, [leaf(logits)])
    if not eps:  # nll_loss of log_softmax is the same loss, with its own backward
        def nll(x):
            return F.nll_loss(x, target, weight, ignore_index=ignore_index, reduction=reduction)
        log_probs = F.log_softmax(leaf(logits), dim=1).data
        np.testing.assert_allclose(nll(leaf(log_probs)).data, expected, rtol=1e-12, atol=1e-15)
        assert minicnn.gradcheck(nll, [leaf(log_probs)])


def test_cross_entropy_weighted_mean_by_hand():
    # softmax (0.25, 0.75) in both rows; targets 1 and 0 with weights (2, 3):
    # sum = 3 * -log 0.75 + 2 * -log 0.25, divided by w_1 + w_0 = 5, not by N = 2
    logits = leaf([[0.0, math.log(3.0)], [0.0, math.log(3.0)], [5.0, 1.0]])
    weight = np.array([2.0, 3.0])
    loss = F.cross_entropy(logits, np.array([1, 0, -100]), weight)
    np.testing.assert_allclose(loss.data, (-3 * math.log(0.75) - 2 * math.log(0.25)) / 5)
    loss.backward()
    np.testing.assert_allclose(logits.grad, [[3 * 0.25 / 5, 3 * -0.25 / 5],
                                             [2 * -0.75 / 5, 2 * 0.75 / 5], [0, 0]])


def test_cross_entropy_ignored_sample_changes_nothing_but_its_own_row(rng):
    logits, target = rng.uniform(-2, 2, (5, 3)), np.array([0, 2, 1, 1, 0])
    kept = leaf(logits[[0, 1, 3, 4]])
    expected = F.cross_entropy(kept, target[[0, 1, 3, 4]], label_smoothing=0.2)
    expected.backward()
    z = leaf(logits)
    loss = F.cross_entropy(z, np.array([0, 2, 7, 1, 0]), ignore_index=7, label_smoothing=0.2)
    loss.backward()
    np.testing.assert_allclose(loss.data, expected.data, rtol=1e-14)
    np.testing.assert_allclose(z.grad[[0, 1, 3, 4]], kept.grad, rtol=1e-14)
    np.testing.assert_array_equal(z.grad[2], 0)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_every_sample_ignored_gives_nan_mean_and_zero_gradient_as_pytorch(loss):
    z = leaf(np.zeros((3, 4)))
    out = loss(z, np.full(3, -100))
    assert np.isnan(out.data)
    out.backward()
    np.testing.assert_array_equal(z.grad, 0)
    assert np.all(loss(leaf(np.zeros((3, 4))), np.full(3, -100), reduction="none").data == 0)


def numpy_soft_cross_entropy(logits, q, weight, eps):
    k = logits.shape[1]
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    q = (1 - eps) * q + eps / k
    return -(q * log_p * (1.0 if weight is None else weight)).sum(axis=1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(problem=classification(max_classes=4), eps=st.sampled_from([0.0, 0.2]),
       weighted=st.booleans(), data=st.data())
def test_cross_entropy_probability_targets_formula_and_gradcheck(reduction, problem, eps,
                                                                  weighted, data):
    logits, _ = problem
    q = data.draw(arrays(logits.shape, 0.0, 1.0))
    q /= q.sum(axis=1, keepdims=True)
    weight = data.draw(arrays(logits.shape[1:], 0.2, 2.0)) if weighted else None

    def loss(z, target):
        return F.cross_entropy(z, target, weight, reduction=reduction, label_smoothing=eps)
    expected = reduce(numpy_soft_cross_entropy(logits, q, weight, eps), reduction)
    np.testing.assert_allclose(loss(leaf(logits), q).data, expected, rtol=1e-12, atol=1e-15)
    # both the logits and the target distribution get a gradient
    assert minicnn.gradcheck(loss, [leaf(logits), leaf(q)])


def test_cross_entropy_probability_targets_per_position_and_float32_at_1e4(rng):
    logits = (rng.standard_normal((2, 3, 4)) * 1e4).astype(np.float32)
    q = rng.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1)  # float64 target: converted
    z = leaf(logits, dtype=np.float32)
    loss = F.cross_entropy(z, q, reduction="none")
    assert loss.shape == (2, 4) and loss.dtype == np.float32
    flat = np.moveaxis(logits.astype(np.float64), 1, -1).reshape(-1, 3)
    expected = numpy_soft_cross_entropy(flat - flat.max(1, keepdims=True),
                                        np.moveaxis(q, 1, -1).reshape(-1, 3), None, 0.0)
    np.testing.assert_allclose(loss.data.reshape(-1), expected, rtol=1e-5)
    loss.sum().backward()
    assert z.grad.dtype == np.float32 and np.all(np.isfinite(z.grad.data))


# the table: every combination against PyTorch, values and both gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(7, 5), (3, 5, 2, 3)])
# ignore_index applies to class-index targets only
@pytest.mark.parametrize("soft, ignore_index", [(False, None), (False, -100), (False, 2),
                                                (True, None)])
def test_cross_entropy_options_together_match_pytorch(rng, soft, ignore_index, shape, weighted,
                                                      eps, reduction):
    torch = pytest.importorskip("torch")
    logits = rng.uniform(-4, 4, shape)
    if soft:
        target = rng.dirichlet(np.ones(shape[1]), shape[:1] + shape[2:])
        target = np.moveaxis(target, -1, 1)
    else:
        target = rng.integers(0, shape[1], shape[:1] + shape[2:])
        if ignore_index is not None:
            target.flat[::3] = ignore_index
    weight = rng.uniform(0.2, 2.0, shape[1]) if weighted else None
    options = {"reduction": reduction, "label_smoothing": eps}
    if ignore_index is not None:
        options["ignore_index"] = ignore_index
    z, t = leaf(logits), leaf(target) if soft else target
    loss = F.cross_entropy(z, t, weight, **options)
    upstream = rng.standard_normal(loss.shape)
    loss.backward(upstream)
    z_torch = torch.tensor(logits, requires_grad=True)
    t_torch = torch.tensor(target, requires_grad=soft)
    loss_torch = torch.nn.functional.cross_entropy(
        z_torch, t_torch, None if weight is None else torch.tensor(weight), **options)
    loss_torch.backward(torch.tensor(upstream))
    np.testing.assert_allclose(loss.data, loss_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(z.grad, z_torch.grad.numpy(), rtol=1e-10, atol=1e-13)
    if soft:
        np.testing.assert_allclose(t.grad, t_torch.grad.numpy(), rtol=1e-10, atol=1e-13)
    elif not eps:
        options.pop("label_smoothing")
        log_probs = torch.log_softmax(torch.tensor(logits), 1)
        ours = F.nll_loss(leaf(log_probs.numpy()), target, weight, **options)
        theirs = torch.nn.functional.nll_loss(
            log_probs, torch.tensor(target), None if weight is None else torch.tensor(weight),
            **options)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_class_weight_and_ignore_index_errors():
    z = leaf(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\) \(one "
                                         r"per class\), got shape \(2,\)"):
        F.cross_entropy(z, np.array([0, 1]), np.ones(2))
    with pytest.raises(TypeError, match="nll_loss: weight has dtype float32 but nll_loss: input "
                                        "has dtype float64"):
        F.nll_loss(z, np.array([0, 1]), np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="cross_entropy: weight must be a Tensor or an ndarray, "
                                        "got list"):
        F.cross_entropy(z, np.array([0, 1]), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"cross_entropy: weight requires grad.*weight.detach"):
        F.cross_entropy(z, np.array([0, 1]), leaf(np.ones(3)))
    with pytest.raises(ValueError, match="ignore_index=0 is not supported for probability"):
        F.cross_entropy(z, np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"target -100 at index \(1,\) is out of range.*"
                                         r"ignore_index=-1\)"):
        F.nll_loss(z, np.array([0, -100]), ignore_index=-1)
    with pytest.raises(TypeError):
        F.cross_entropy(z, np.array([0, 1]), None, None)  # PyTorch's size_average: not here


# ----------------------------------------------------------------------------- element-wise losses


def _losses_of(name, reduction):
    """The loss ``name`` as ``f(x, y)`` with its settings, and the element-wise NumPy formula."""
    def smooth_l1(d, beta):
        return np.where(np.abs(d) < beta, 0.5 * d * d / (beta or 1.0), np.abs(d) - 0.5 * beta)
    table = {
        "l1_loss": (lambda x, y: F.l1_loss(x, y, reduction=reduction),
                    lambda x, y: np.abs(x - y)),
        "smooth_l1_loss": (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5),
                           lambda x, y: smooth_l1(x - y, 0.5)),
        "smooth_l1_loss beta=0": (lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction,
                                                                 beta=0.0),
                                  lambda x, y: np.abs(x - y)),
        "huber_loss": (lambda x, y: F.huber_loss(x, y, reduction, 0.7),
                       lambda x, y: 0.7 * smooth_l1(x - y, 0.7)),
    }
    return table[name]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "smooth_l1_loss beta=0",
                                  "huber_loss"])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_regression_losses_formula_and_gradcheck(name, reduction, shape, data):
    # uniform draws: an element on a kink (|x - y| = 0, beta or delta) has probability zero
    x, y = data.draw(arrays(shape, -2.0, 2.0)), data.draw(arrays(shape, -2.0, 2.0))
    loss, formula = _losses_of(name, reduction)
    np.testing.assert_allclose(loss(leaf(x), leaf(y)).data, reduce(formula(x, y), reduction),
                               rtol=1e-13, atol=1e-15)
    assert minicnn.gradcheck(loss, [leaf(x), leaf(y)])


def test_smooth_l1_and_huber_by_hand():
    x, y = leaf([0.0, 0.25, 3.0, -2.0]), np.zeros(4)
    # beta = 0.5: |d| < 0.5 quadratic 0.5 d^2 / 0.5, else |d| - 0.25
    loss = F.smooth_l1_loss(x, y, reduction="none", beta=0.5)
    np.testing.assert_allclose(loss.data, [0.0, 0.0625, 2.75, 1.75])
    loss.backward(np.ones(4))
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 1.0, -1.0])
    # delta = 2: |d| <= 2 quadratic 0.5 d^2, else 2 (|d| - 1); |d| = 2 is on the boundary
    np.testing.assert_allclose(F.huber_loss(x, y, "none", 2.0).data, [0, 0.03125, 4.0, 2.0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_binary_cross_entropy_formula_and_gradcheck(reduction, weighted, shape, data):
    x, y = data.draw(arrays(shape, 0.05, 0.95)), data.draw(arrays(shape, 0.0, 1.0))
    weight = data.draw(arrays(shape[-1:], 0.5, 2.0)) if weighted else None

    def loss(x, y):
        return F.binary_cross_entropy(x, y, weight, reduction=reduction)
    expected = -(y * np.log(x) + (1 - y) * np.log(1 - x)) * (1.0 if weight is None else weight)
    np.testing.assert_allclose(loss(leaf(x), leaf(y)).data, reduce(expected, reduction),
                               rtol=1e-13)
    assert minicnn.gradcheck(loss, [leaf(x), leaf(y)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_pos_weight", [False, True])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), data=st.data())
def test_binary_cross_entropy_with_logits_formula_and_gradcheck(reduction, weighted,
                                                                with_pos_weight, shape, data):
    x, y = data.draw(arrays(shape, -4.0, 4.0)), data.draw(arrays(shape, 0.0, 1.0))
    weight = data.draw(arrays(shape, 0.5, 2.0)) if weighted else None
    pos_weight = data.draw(arrays(shape[-1:], 0.5, 3.0)) if with_pos_weight else None

    def loss(x, y):
        return F.binary_cross_entropy_with_logits(x, y, weight, reduction=reduction,
                                                  pos_weight=pos_weight)
    p = 1 / (1 + np.exp(-x))
    positive = 1.0 if pos_weight is None else pos_weight
    expected = -(positive * y * np.log(p) + (1 - y) * np.log(1 - p))
    expected *= 1.0 if weight is None else weight
    np.testing.assert_allclose(loss(leaf(x), leaf(y)).data, reduce(expected, reduction),
                               rtol=1e-12)
    assert minicnn.gradcheck(loss, [leaf(x), leaf(y)])


def test_binary_cross_entropy_clamps_log_at_minus_100_as_pytorch():
    x = leaf([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(x, np.array([1.0, 0.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    loss.backward(np.ones(4))
    assert np.all(np.isfinite(x.grad.data))  # (x - y) / max(x (1 - x), 1e-12)
    np.testing.assert_allclose(x.grad, [-1e12, 1e12, 0, 0])


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_binary_cross_entropy_with_logits_stable_for_logits_of_1e4_in_float32(rng, pos_weight):
    x = (rng.standard_normal((5, 4)) * 1e4).astype(np.float32)
    y = rng.integers(0, 2, (5, 4)).astype(np.float32)
    pw = None if pos_weight is None else np.full(4, pos_weight, dtype=np.float32)
    z = leaf(x, dtype=np.float32)
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=pw)
    assert loss.dtype == np.float32 and np.all(np.isfinite(loss.data))
    # the exact value: a wrong sign costs |x| (times pos_weight for a missed positive)
    x64 = x.astype(np.float64)
    expected = np.where(y == 1, np.maximum(-x64, 0) * (pos_weight or 1.0), np.maximum(x64, 0))
    np.testing.assert_allclose(loss.data, expected, rtol=1e-6, atol=1e-30)
    loss.sum().backward()
    assert z.grad.dtype == np.float32 and np.all(np.isfinite(z.grad.data))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@given(n=st.integers(1, 4), k=st.integers(1, 4), data=st.data())
def test_kl_div_formula_and_gradcheck(reduction, log_target, n, k, data):
    x = np.log(data.draw(arrays((n, k), 0.1, 1.0)))
    q = data.draw(arrays((n, k), 0.05, 1.0))
    y = np.log(q) if log_target else q

    def loss(x, y):
        return F.kl_div(x, y, reduction=reduction, log_target=log_target)
    pointwise = q * (np.log(q) - x)
    expected = pointwise.sum() / n if reduction == "batchmean" else reduce(pointwise, reduction)
    np.testing.assert_allclose(loss(leaf(x), leaf(y)).data, expected, rtol=1e-12)
    assert minicnn.gradcheck(loss, [leaf(x), leaf(y)])


def test_kl_div_zero_target_adds_nothing():
    x = leaf([[-1.0, -2.0], [-0.5, -3.0]])
    loss = F.kl_div(x, np.array([[0.0, 1.0], [0.5, 0.5]]), reduction="batchmean")
    np.testing.assert_allclose(loss.data, ((0 + 2.0) + 0.5 * (math.log(0.5) + 0.5)
                                           + 0.5 * (math.log(0.5) + 3.0)) / 2)
    loss.backward()
    np.testing.assert_allclose(x.grad, [[0.0, -0.5], [-0.25, -0.25]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_match_pytorch(rng, reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, y = rng.uniform(-3, 3, (4, 5)), rng.uniform(-3, 3, (4, 5))
    p, q = rng.uniform(0.01, 0.99, (4, 5)), rng.uniform(0, 1, (4, 5))
    w, pw = rng.uniform(0.5, 2, (5,)), rng.uniform(0.5, 3, (5,))
    log_p, probs = np.log(rng.dirichlet(np.ones(5), 4)), rng.dirichlet(np.ones(5), 4)
    tw, tpw = torch.tensor(w), torch.tensor(pw)
    cases = [
        (lambda a, b: F.l1_loss(a, b, reduction=reduction),
         lambda a, b: tf.l1_loss(a, b, reduction=reduction), x, y),
        (lambda a, b: F.huber_loss(a, b, reduction, 1.5),
         lambda a, b: tf.huber_loss(a, b, reduction, 1.5), x, y),
        (lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
         lambda a, b: tf.binary_cross_entropy(a, b, tw, reduction=reduction), p, q),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction,
                                                         pos_weight=pw),
         lambda a, b: tf.binary_cross_entropy_with_logits(a, b, tw, reduction=reduction,
                                                          pos_weight=tpw), x, q),
        (lambda a, b: F.kl_div(a, b, reduction=reduction),
         lambda a, b: tf.kl_div(a, b, reduction=reduction), log_p, probs),
        (lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
         lambda a, b: tf.kl_div(a, b, reduction=reduction, log_target=True), log_p,
         np.log(probs)),
    ] + [(lambda a, b, beta=beta: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
          lambda a, b, beta=beta: tf.smooth_l1_loss(a, b, reduction=reduction, beta=beta), x, y)
         for beta in (0.0, 0.5, 2.0)]
    for ours_fn, theirs_fn, a, b in cases:
        ours_a, ours_b = leaf(a), leaf(b)
        ours = ours_fn(ours_a, ours_b)
        upstream = rng.standard_normal(ours.shape)
        ours.backward(upstream)
        theirs_a = torch.tensor(a, requires_grad=True)
        theirs_b = torch.tensor(b, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning
            theirs = theirs_fn(theirs_a, theirs_b)
        theirs.backward(torch.tensor(upstream))
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_a.grad, theirs_a.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours_b.grad, theirs_b.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", [F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy,
                                  F.binary_cross_entropy_with_logits, F.kl_div])
def test_elementwise_losses_float32_in_float32_out(rng, loss):
    x = leaf(rng.uniform(0.1, 0.9, (3, 4)), dtype=np.float32)
    out = loss(x, rng.uniform(0.1, 0.9, (3, 4)).astype(np.float32))
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


def test_elementwise_loss_errors():
    x = leaf(np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=r"l1_loss: target shape \(3,\) differs from input "
                                         r"shape \(2, 3\)"):
        F.l1_loss(x, np.zeros(3))
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be a non-negative number, "
                                         "got -1"):
        F.smooth_l1_loss(x, np.zeros((2, 3)), beta=-1)
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        F.huber_loss(x, np.zeros((2, 3)), delta=0.0)
    with pytest.raises(ValueError, match="binary_cross_entropy: every element of input must "
                                         "be between 0 and 1"):
        F.binary_cross_entropy(leaf([0.5, 1.5]), np.zeros(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight of "
                                         r"shape \(2,\) does not broadcast to the input's shape "
                                         r"\(2, 3\)"):
        F.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(2, 1, 3\) "
                                         r"does not broadcast"):
        F.binary_cross_entropy(x, np.zeros((2, 3)), np.ones((2, 1, 3)))
    with pytest.raises(ValueError, match="kl_div: reduction must be 'mean', 'batchmean', 'sum' "
                                         "or 'none', got 'avg'"):
        F.kl_div(x, np.zeros((2, 3)), reduction="avg")
    with pytest.raises(TypeError, match="binary_cross_entropy_with_logits: input has dtype "
                                        "float16"):
        F.binary_cross_entropy_with_logits(minicnn.tensor(np.zeros(2, np.float16)), np.zeros(2))
    with pytest.raises(TypeError):
        F.l1_loss(x, np.zeros((2, 3)), None, None, "sum")  # PyTorch's size_average: not here


# ----------------------------------------------------------------------------- one_hot


def test_one_hot_values_shape_and_dtype():
    encoded = F.one_hot(minicnn.tensor([[0, 2], [1, 0]]))
    assert encoded.shape == (2, 2, 3) and encoded.dtype == np.int64
    np.testing.assert_array_equal(encoded.data, [[[1, 0, 0], [0, 0, 1]],
                                                 [[0, 1, 0], [1, 0, 0]]])
    assert not encoded.requires_grad
    assert F.one_hot(np.array([1, 0], dtype=np.int32), num_classes=4).shape == (2, 4)
    assert F.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)
    np.testing.assert_array_equal(F.one_hot(minicnn.tensor(2)).data, [0, 0, 1])


@pytest.mark.parametrize("values, num_classes, error, message", [
    ([-1, 0], 3, ValueError, "one_hot: class values must be non-negative, got -1"),
    ([1, 3], 3, ValueError, "one_hot: class values must be smaller than num_classes=3, got 3"),
    ([], -1, ValueError, "one_hot: cannot infer the number of classes from an empty tensor"),
    ([0.0, 1.0], -1, TypeError, "one_hot: tensor must hold integer class indices, got dtype "
                                "float32"),
    ([0, 1], -2, ValueError, "one_hot: num_classes must be a non-negative int or -1, got -2"),
])
def test_one_hot_errors(values, num_classes, error, message):
    tensor = minicnn.tensor(values) if values else minicnn.tensor(np.zeros(0, dtype=np.int64))
    with pytest.raises(error, match=message):
        F.one_hot(tensor, num_classes)


def test_one_hot_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    labels = rng.integers(0, 5, (3, 4))
    for num_classes in (-1, 7):
        np.testing.assert_array_equal(
            F.one_hot(minicnn.tensor(labels), num_classes).data,
            torch.nn.functional.one_hot(torch.tensor(labels), num_classes).numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", [np.array(3), np.array(-100), np.array([0.1, 0.2, 0.3, 0.4])])
def test_one_unbatched_sample_is_a_batch_of_one_as_pytorch(rng, reduction, target):
    torch = pytest.importorskip("torch")
    logits, weight = rng.uniform(-2, 2, 4), rng.uniform(0.5, 2.0, 4)
    z = leaf(logits)
    loss = F.cross_entropy(z, target, weight, reduction=reduction, label_smoothing=0.1)
    assert loss.shape == ()
    loss.backward()
    z_torch = torch.tensor(logits, requires_grad=True)
    loss_torch = torch.nn.functional.cross_entropy(z_torch, torch.tensor(target),
                                                   torch.tensor(weight), reduction=reduction,
                                                   label_smoothing=0.1)
    loss_torch.backward()
    np.testing.assert_allclose(loss.data, loss_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad, z_torch.grad.numpy(), rtol=1e-10, atol=1e-14)
    if target.dtype.kind == "i":
        np.testing.assert_allclose(
            F.nll_loss(leaf(logits), target, weight, reduction=reduction).data,
            torch.nn.functional.nll_loss(torch.tensor(logits), torch.tensor(target),
                                         torch.tensor(weight), reduction=reduction).numpy(),
            rtol=1e-12)
