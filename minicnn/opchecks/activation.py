"""Cases for the activations of issue 14 (relu, relu6, leaky_relu, sigmoid, tanh and the
softmaxes are in ``autograd_core``): inputs away from each kink (0 for elu/celu/selu/prelu,
the bounds for hardtanh, -3 and 3 for hardswish/hardsigmoid), and on both sides of it."""

import numpy as np

import minicnn
from minicnn import functional as F

from ._inputs import away_from_zero, rand


def _bands(rng, centres, shape, half_width=0.4):
    """Values within ``half_width`` of randomly chosen ``centres`` (kept away from kinks)."""
    values = rng.choice(centres, size=shape) + rng.uniform(-half_width, half_width, size=shape)
    return minicnn.tensor(values, requires_grad=True)


def cases(rng):
    wide = dict(low=-4.0, high=4.0)
    yield "gelu (exact)", F.gelu, [rand(rng, 3, 4, **wide)]
    yield "gelu (tanh)", lambda x: F.gelu(x, approximate="tanh"), [rand(rng, 3, 4, **wide)]
    yield "silu", F.silu, [rand(rng, 3, 4, **wide)]
    yield "mish", F.mish, [rand(rng, 3, 4, **wide)]
    yield "logsigmoid", F.logsigmoid, [rand(rng, 3, 4, **wide)]
    yield "elu (alpha=0.7)", lambda x: F.elu(x, alpha=0.7), [away_from_zero(rng, 3, 4)]
    yield "selu", F.selu, [away_from_zero(rng, 3, 4)]
    yield "celu (alpha=2)", lambda x: F.celu(x, alpha=2.0), [away_from_zero(rng, 3, 4)]
    # beta * x on both sides of the threshold (2 * 3.5 = 7 > 5): the log and the linear piece
    yield "softplus (beta=2, threshold=5)", lambda x: F.softplus(x, beta=2.0, threshold=5.0), \
        [_bands(rng, [-1.0, 0.5, 3.5], (3, 4))]
    # below -3, between and above 3, at least 0.5 from both kinks
    yield "hardswish", F.hardswish, [_bands(rng, [-4.0, 0.0, 4.0], (3, 4), half_width=0.5)]
    yield "hardsigmoid", F.hardsigmoid, [_bands(rng, [-4.0, 0.0, 4.0], (3, 4), half_width=0.5)]
    yield "hardtanh (-0.5, 1.5)", lambda x: F.hardtanh(x, -0.5, 1.5), \
        [_bands(rng, [-1.0, 0.5, 2.0], (3, 4), half_width=0.3)]
    yield "prelu (one slope per channel)", F.prelu, \
        [away_from_zero(rng, 2, 3, 2, 2), minicnn.tensor(np.array([0.1, 0.25, -0.3]),
                                                         requires_grad=True)]
    yield "prelu (one slope)", F.prelu, \
        [away_from_zero(rng, 2, 3, 2), minicnn.tensor(np.array([0.2]), requires_grad=True)]
    yield "softmin (dim=0)", lambda x: F.softmin(x, dim=0), [rand(rng, 3, 5, low=-3, high=3)]
