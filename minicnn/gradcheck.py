"""``gradcheck``: compare an op's analytic gradient with central finite differences.

For a function ``f`` of inputs ``x`` and a fixed random upstream gradient ``v`` (the same
shape as ``f``'s output, with distinct values, so a transposed or mis-scaled gradient
cannot hide), the scalar ``L(x) = sum(f(x) * v)`` has the gradient that ``backward(v)``
computes. Each element is checked against the central difference::

    numeric_i = (L(x + eps * e_i) - L(x - eps * e_i)) / (2 * eps)

which is accurate to O(eps^2); float64 is required so that rounding (~1e-16 / eps) stays
far below the tolerance. An element passes when

    |analytic - numeric| <= atol + rtol * |numeric|

(PyTorch's defaults: eps=1e-6, atol=1e-5, rtol=1e-3). The *relative error* reported is
``|analytic - numeric| / (|numeric| + atol / rtol)``, which is at most ``rtol`` exactly when
the element passes. Kinks (relu at 0, ties in a max) have no gradient: keep test inputs
away from them rather than loosening the tolerance.
"""

from dataclasses import dataclass, field

import numpy as np

from .autograd import Tensor, no_grad

__all__ = ["gradcheck", "gradcheck_report", "GradcheckError", "GradcheckReport"]


class GradcheckError(AssertionError):
    """The analytic gradient of some input disagrees with the numeric one."""


@dataclass
class GradcheckReport:
    """Outcome of a gradient check: ``passed``, the worst relative error, and the details."""

    passed: bool
    max_rel_error: float
    num_inputs: int
    failures: list = field(default_factory=list)  # message per failing input

    def message(self):
        return "\n\n".join(self.failures)


def _outputs(result):
    """The differentiable output tensors of ``fn``: one tensor, or a (named) tuple/list."""
    items = result if isinstance(result, (tuple, list)) else [result]
    outputs = [t for t in items if isinstance(t, Tensor) and np.issubdtype(t.dtype, np.floating)]
    if not outputs:
        raise TypeError(f"gradcheck: fn must return a floating Tensor or a tuple of them, "
                        f"got {type(result).__name__}")
    return outputs


def _weighted_sum(outputs, upstream):
    return sum(float(np.sum(o.data * v)) for o, v in zip(outputs, upstream))


def gradcheck_report(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, max_reported=5):
    """Run the check and return a ``GradcheckReport`` instead of raising."""
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; gradient checks "
                            "run in float64 (use dtype=np.float64, or model.double())")

    rng = np.random.default_rng(seed)
    saved_grads = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    try:
        outputs = _outputs(fn(*inputs))
        upstream = [rng.standard_normal(o.shape) for o in outputs]
        for out, v in zip(outputs, upstream):
            if out.requires_grad:
                out.backward(v.astype(out.dtype), retain_graph=True)
        analytic = [np.zeros(inputs[i].shape) if inputs[i].grad is None
                    else inputs[i].grad.data for i in checked]
    finally:
        for i, g in zip(checked, saved_grads):
            inputs[i].grad = g

    def loss():
        with no_grad():
            return _weighted_sum(_outputs(fn(*inputs)), upstream)

    base = _weighted_sum(outputs, upstream)
    if loss() != base:
        raise GradcheckError("gradcheck: fn gave two different outputs for the same inputs; "
                             "it must be deterministic (seed any dropout inside fn)")

    failures, worst = [], 0.0
    for position, i in enumerate(checked):
        x = inputs[i].data
        numeric = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = loss()
            x[index] = original - eps
            minus = loss()
            x[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        rel = np.abs(analytic[position] - numeric) / (np.abs(numeric) + atol / rtol)
        worst = max(worst, float(rel.max(initial=0.0)))
        bad = rel > rtol
        if bad.any():
            failures.append(_describe(i, x, analytic[position], numeric, rel, bad,
                                      atol, rtol, max_reported))
    return GradcheckReport(passed=not failures, max_rel_error=worst,
                           num_inputs=len(checked), failures=failures)


def _describe(i, x, analytic, numeric, rel, bad, atol, rtol, max_reported):
    """A failure report a student can act on: which input, which elements, by how much."""
    lines = [f"Gradient check failed for input {i} (shape {x.shape}, {x.dtype}): "
             f"{int(bad.sum())} of {x.size} elements disagree."]
    if not analytic.any():
        lines.append("The analytic gradient is all zeros: did backward return None for this "
                     "input, or is it not connected to the output?")
    lines.append("Worst elements (index: analytic vs numeric, relative error):")
    order = np.argsort(rel, axis=None)[::-1][:min(max_reported, int(bad.sum()))]
    for flat in order:  # failing elements only: a passing one listed here would mislead
        idx = np.unravel_index(flat, x.shape)
        lines.append(f"  {tuple(int(j) for j in idx)}: analytic {analytic[idx]:.6g} vs numeric "
                     f"{numeric[idx]:.6g}, relative error {rel[idx]:.2e}")
    lines.append(f"An element passes when |analytic - numeric| <= atol + rtol * |numeric| "
                 f"(atol={atol:g}, rtol={rtol:g}); relative error = |analytic - numeric| / "
                 f"(|numeric| + atol / rtol).")
    return "\n".join(lines)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check the gradients of ``fn`` with respect to every input that requires grad.

    Parameters
    ----------
    fn : callable
        ``fn(*inputs)`` returns a Tensor (or a tuple of Tensors). It may also use tensors it
        closes over (a model's parameters): list them in ``inputs`` too to check them.
    inputs : sequence of Tensor
        Those with ``requires_grad=True`` are checked; they must be float64. They are
        perturbed in place and restored.
    eps, atol, rtol : float
        Finite-difference step and tolerances (PyTorch's defaults).

    Returns
    -------
    True, when every element passes.

    Raises
    ------
    GradcheckError
        Naming the input, its worst elements' indices, the analytic and numeric values and
        the relative error.

    Notes
    -----
    ``fn`` is called ``2 * n + 2`` times, ``n`` being the total number of elements of the
    checked inputs: once with recording for the analytic gradient, once more to check it is
    deterministic, then twice per element (``x + eps`` and ``x - eps``). Any state ``fn``
    updates changes with every call: a BatchNorm in training mode moves its running
    statistics and counts ``2 * n + 2`` batches. Check a copy (``copy.deepcopy(model)``) to
    keep the model's buffers as they were, or check in eval mode.
    """
    __tracebackhide__ = True  # pytest shows the failure report, not this function's source
    report = gradcheck_report(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if not report.passed:
        raise GradcheckError(report.message())
    return True
