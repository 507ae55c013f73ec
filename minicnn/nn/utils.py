"""``minicnn.nn.utils``: gradient clipping and flattening parameters into one vector.

    clip_grad_norm_(params, max_norm, norm_type=2)
        total = || (||g_1||, ||g_2||, ...) ||     (each norm of order norm_type: the norm of
                                                  all gradients as one long vector)
        g_i  <- g_i * min(1, max_norm / (total + 1e-6))      (in place; returns total)
    clip_grad_value_(params, clip_value)          g_i <- clamp(g_i, -clip_value, clip_value)
    parameters_to_vector(params)                  concatenate the flattened parameters
    vector_to_parameters(vec, params)             the inverse: copy slices of vec back

The norm of order ``p`` of a vector is ``(sum |x|^p)^(1/p)``; ``inf`` is ``max |x|``,
``-inf`` ``min |x|`` and 0 the count of non-zeros (``torch.linalg.vector_norm``'s orders).
Clipping by the total norm keeps the gradient's direction (Pascanu et al., 2013: the cure
for exploding gradients in recurrent networks); clipping by value does not.
"""

import math
import numbers

import numpy as np

from ..autograd import Tensor, no_grad, tensor
from ..ops.shape import cat

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _parameter_list(parameters):
    """A single Tensor or an iterable of them (a generator is read once), as a list."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensors (Parameters), got {type(p).__name__}")
    return params


def _number(owner, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return float(value)


def _vector_norm(x, order):
    """``torch.linalg.vector_norm(x, order)`` of a flat array, in its dtype."""
    magnitude = np.abs(x)
    if order == math.inf:
        return magnitude.max()
    if order == -math.inf:
        return magnitude.min()
    if order == 0:
        return np.count_nonzero(x).astype(x.dtype)
    return np.sum(magnitude ** order) ** (1 / order)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale the gradients of ``parameters`` in place so their total norm is at most
    ``max_norm``; return the total norm before clipping, a 0-d Tensor.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Parameters without a gradient are skipped.
    max_norm : float
    norm_type : float
        The order of the norm: 2 (default), 1, any p, ``inf`` (largest magnitude).
    error_if_nonfinite : bool
        Raise RuntimeError if the total norm is NaN or infinite (otherwise the gradients
        are scaled by it anyway, as PyTorch does, and become NaN).
    foreach : ignored (PyTorch's choice of a batched kernel).

    The scale is ``min(1, max_norm / (total + 1e-6))``: gradients already inside the ball
    are left as they are. The total has the gradients' dtype (float32 for no gradients).
    """
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    norm_type = _number("clip_grad_norm_", "norm_type", norm_type)
    grads = [p.grad for p in _parameter_list(parameters) if p.grad is not None]
    if not grads:
        return tensor(0.0)
    dtype = np.result_type(*(g.dtype for g in grads))
    norms = np.array([_vector_norm(g.data.ravel(), norm_type) for g in grads], dtype=dtype)
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    scale = min(max_norm / (total + 1e-6), 1.0)   # min(nan, 1) is nan, as torch's clamp
    with np.errstate(invalid="ignore"):           # a non-finite total makes NaNs: PyTorch's
        for g in grads:
            g.data *= scale
    return tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]`` in
    place (parameters without a gradient are skipped); returns None. ``foreach`` is
    ignored."""
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    for p in _parameter_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated in order: a 1-D Tensor of all their
    elements (differentiable, as PyTorch's)."""
    return cat([p.reshape(-1) for p in _parameter_list(parameters)])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D Tensor ``vec`` into ``parameters`` (each reshaped
    to its parameter; the inverse of ``parameters_to_vector``).

    The values are written into each parameter's own array (its dtype kept) where PyTorch
    rebinds ``param.data`` to a view of ``vec``; a ``vec`` whose length differs from the
    parameters' total is a ValueError (PyTorch fails on a short one, ignores a long one's
    tail).
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected a Tensor, but got: {type(vec).__name__}")
    params = _parameter_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec must be 1-D with {total} elements (the "
                         f"parameters' total), got shape {tuple(vec.shape)}")
    start = 0
    with no_grad():
        for p in params:
            p.data[...] = vec.data[start:start + p.numel()].reshape(p.shape)
            p._bump_version()
            start += p.numel()
