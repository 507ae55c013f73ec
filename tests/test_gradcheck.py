"""minicnn.gradcheck itself: it passes correct ops and catches wrong ones with a message a
student can act on; it refuses float32, nothing-to-check and non-deterministic functions."""

import copy
import re

import numpy as np
import pytest

import minicnn
from minicnn import GradcheckError, Tensor, gradcheck
from minicnn import functional as F
from minicnn.autograd import ArrayFunction
from minicnn.gradcheck import gradcheck_report


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


class SquareMissingFactor2(ArrayFunction):
    """x ** 2 whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # should be 2 * grad * x


class TransposeForgotten(ArrayFunction):
    """The transpose of a square matrix whose backward forgets to transpose back."""

    @staticmethod
    def forward(ctx, x):
        return x.T.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad  # should be grad.T


class OneBadElement(ArrayFunction):
    """3 * x whose backward is off by 1 at element (1, 2) only."""

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, grad):
        dx = 3 * grad
        dx[1, 2] += 1.0
        return dx


class IgnoresUpstream(ArrayFunction):
    """2 * x whose backward returns the local derivative, not scaled by the upstream."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return np.full_like(grad, 2.0)


class NoGradientForB(ArrayFunction):
    """a * b whose backward returns None for b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, None


def _worst_line(message):
    """(index, analytic, numeric, relative error) of the first listed element."""
    match = re.search(r"  (\([\d, ]*\)): analytic (\S+) vs numeric (\S+), relative error (\S+)",
                      message)
    assert match, message
    index, analytic, numeric, rel = match.groups()
    return index, float(analytic), float(numeric), float(rel)


# ----------------------------------------------------------------------------- passes


def test_passes_on_correct_ops(rng):
    x, w = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((2, 4)))
    assert gradcheck(lambda a, b: F.log_softmax(F.linear(a, b), axis=1), [x, w]) is True
    report = gradcheck_report(lambda a: a.exp(), [x])
    assert report.passed and report.num_inputs == 1 and report.max_rel_error < 1e-6


# ----------------------------------------------------------------------------- catches


def test_missing_factor_2_is_reported_with_input_index_values_and_error(rng):
    x = leaf(rng.uniform(0.5, 1.5, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareMissingFactor2.apply, [x])
    message = str(info.value)
    assert "input 0 (shape (3,), float64)" in message
    assert "3 of 3 elements disagree" in message
    index, analytic, numeric, rel = _worst_line(message)
    assert numeric == pytest.approx(2 * analytic, rel=1e-4)  # the missing factor
    assert rel == pytest.approx(abs(analytic - numeric) / (abs(numeric) + 1e-5 / 1e-3),
                                rel=1e-2)
    assert "atol=1e-05, rtol=0.001" in message


def test_the_worst_element_is_named(rng):
    x = leaf(rng.standard_normal((2, 4)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(OneBadElement.apply, [x])
    message = str(info.value)
    assert "1 of 8 elements disagree" in message
    index, analytic, numeric, _ = _worst_line(message)
    assert index == "(1, 2)"
    assert analytic - numeric == pytest.approx(1.0, rel=1e-6)
    assert len(re.findall(r": analytic .* vs numeric", message)) == 1  # passing ones not listed


def test_a_forgotten_transpose_is_caught(rng):
    x = leaf(rng.standard_normal((3, 3)))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(TransposeForgotten.apply, [x])


def test_a_backward_that_ignores_the_upstream_gradient_is_caught(rng):
    # With an all-ones upstream this backward would look right; gradcheck's is random.
    x = leaf(rng.standard_normal(5))
    with pytest.raises(GradcheckError):
        gradcheck(IgnoresUpstream.apply, [x])


def test_the_failing_input_is_named_and_a_missing_gradient_is_explained(rng):
    a, b = leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(NoGradientForB.apply, [a, b])
    message = str(info.value)
    assert "input 1" in message and "input 0" not in message
    assert "all zeros" in message and "return None" in message


def test_checks_every_output_of_a_tuple(rng):
    a, b = leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))
    assert gradcheck(lambda x, y: (x * y, x + y, x.exp()), [a, b])
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda x, y: (x + y, SquareMissingFactor2.apply(x)), [a, b])


def test_checks_parameters_used_through_a_closure(rng):
    w, bias = leaf(rng.standard_normal((2, 3))), leaf(rng.standard_normal(2))

    def model(x):
        return F.linear(x, w, bias)

    x = leaf(rng.standard_normal((4, 3)))
    assert gradcheck(lambda x, *params: model(x), [x, w, bias])

    scale = leaf(rng.uniform(0.5, 1.5, 2))

    def bad_model(x):
        return F.linear(x, w) * SquareMissingFactor2.apply(scale)

    with pytest.raises(GradcheckError, match="input 1 "):
        gradcheck(lambda x, *params: bad_model(x), [x, scale])


def test_inputs_that_do_not_require_grad_are_left_alone(rng):
    x, c = leaf(rng.standard_normal(3)), Tensor(rng.standard_normal(3))
    report = gradcheck_report(lambda a, b: a * b, [x, c])
    assert report.passed and report.num_inputs == 1


def test_data_and_existing_grads_are_restored(rng):
    x = leaf(rng.standard_normal((2, 3)))
    data_before = x.data.copy()
    x.grad = np.full((2, 3), 7.0)
    gradcheck(lambda a: (a * a).sum(), [x])
    np.testing.assert_array_equal(x.data, data_before)
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 7.0))


# ----------------------------------------------------------------------------- refuses


def test_fn_is_called_2n_plus_2_times_and_its_buffers_move_as_documented(rng):
    """The docstring's warning: a BatchNorm in training mode counts every call, so its
    running statistics change; a deep copy keeps the original's."""
    bn = minicnn.nn.BatchNorm1d(2).double()
    original = copy.deepcopy(bn)
    x = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(bn, [x])
    n = x.data.size
    assert int(bn.num_batches_tracked) == 2 * n + 2
    assert not np.array_equal(bn.running_mean, original.running_mean)
    assert "2 * n + 2" in gradcheck.__doc__ and "deepcopy" in gradcheck.__doc__
    checked = copy.deepcopy(original)
    assert gradcheck(checked, [x])
    assert int(original.num_batches_tracked) == 0


def test_float32_inputs_are_refused_with_guidance():
    x = leaf([1.0, 2.0], dtype=np.float32)
    with pytest.raises(TypeError, match=r"input 0 has dtype float32.*float64.*double\(\)"):
        gradcheck(lambda a: a * 2.0, [x])


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        gradcheck(lambda a: a * 2.0, [Tensor(np.ones(2))])


def test_a_non_deterministic_function_is_an_error(rng):
    noise = np.random.default_rng(0)
    x = leaf([1.0, 2.0])
    with pytest.raises(GradcheckError, match="deterministic"):
        gradcheck(lambda a: a * float(noise.uniform()), [x])


def test_a_function_that_returns_no_tensor_is_an_error():
    with pytest.raises(TypeError, match="must return a floating Tensor"):
        gradcheck(lambda a: a.data * 2.0, [leaf([1.0])])
