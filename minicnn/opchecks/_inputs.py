"""Helpers to make float64 inputs for gradient-check cases."""

import numpy as np

from ..autograd import Tensor


def rand(rng, *shape, low=-1.0, high=1.0, requires_grad=True):
    """Uniform float64 values, distinct with probability 1."""
    return Tensor(rng.uniform(low, high, size=shape), requires_grad=requires_grad)


def away_from_zero(rng, *shape, margin=0.1):
    """Uniform values in [-1, -margin] U [margin, 1]: no element sits at a kink at 0."""
    magnitude = rng.uniform(margin, 1.0, size=shape)
    return Tensor(magnitude * rng.choice([-1.0, 1.0], size=shape), requires_grad=True)


def distinct(rng, *shape, gap=0.01):
    """A random permutation of well-separated values: no ties, for max and sorting ops."""
    values = (np.arange(int(np.prod(shape))) - np.prod(shape) / 2) * gap
    return Tensor(rng.permutation(values).reshape(shape), requires_grad=True)
