"""Cases for the element-wise, activation, reduction, shape and matrix ops."""

import numpy as np

import minicnn
from minicnn import functional as F

from ._inputs import away_from_zero, distinct, rand


def cases(rng):
    a, b = rand(rng, 3, 4), rand(rng, 4)
    yield "add (broadcast)", lambda x, y: x + y, [a, b]
    yield "sub (broadcast)", lambda x, y: x - y, [rand(rng, 2, 1, 3), rand(rng, 4, 1)]
    yield "mul (broadcast)", lambda x, y: x * y, [rand(rng, 3, 4), rand(rng, 3, 1)]
    yield "div", lambda x, y: x / y, [rand(rng, 3, 4), rand(rng, 3, 4, low=0.5, high=2.0)]
    yield "neg", lambda x: -x, [rand(rng, 5)]
    yield "pow (tensor ** scalar)", lambda x: x ** 3, [rand(rng, 2, 3)]
    yield "pow (tensor ** tensor)", lambda x, y: x ** y, [rand(rng, 2, 3, low=0.5, high=2.0),
                                                         rand(rng, 3)]
    yield "pow (scalar ** tensor)", lambda x: 1.5 ** x, [rand(rng, 2, 3)]
    yield "exp", F.exp, [rand(rng, 2, 3)]
    yield "log", F.log, [rand(rng, 2, 3, low=0.5, high=2.0)]
    yield "sqrt", F.sqrt, [rand(rng, 2, 3, low=0.5, high=2.0)]
    yield "abs", F.abs, [away_from_zero(rng, 2, 3)]
    yield "maximum", minicnn.maximum, [distinct(rng, 3, 4), distinct(rng, 4)]
    yield "minimum", minicnn.minimum, [distinct(rng, 3, 4), distinct(rng, 3, 1)]
    mask = rng.random((3, 4)) > 0.5
    yield "where", lambda x, y: minicnn.where(mask, x, y), [rand(rng, 3, 4), rand(rng, 4)]
    inside_and_outside = np.array([[-0.9, -0.3, 0.2, 0.8], [0.45, -0.6, 0.1, -0.2]])
    yield "clip", lambda x: F.clip(x, -0.5, 0.5), [minicnn.tensor(inside_and_outside,
                                                                  requires_grad=True)]
    yield "relu", F.relu, [away_from_zero(rng, 3, 4)]
    # below, inside and above (0, 6), at least 0.5 from both kinks
    bands = rng.choice([-2.0, 3.0, 8.0], size=(3, 4)) + rng.uniform(-1.5, 1.5, size=(3, 4))
    yield "relu6", F.relu6, [minicnn.tensor(bands, requires_grad=True)]
    yield "leaky_relu", lambda x: F.leaky_relu(x, 0.1), [away_from_zero(rng, 3, 4)]
    yield "sigmoid", F.sigmoid, [rand(rng, 3, 4, low=-4, high=4)]
    yield "tanh", F.tanh, [rand(rng, 3, 4, low=-2, high=2)]
    yield "softmax", lambda x: F.softmax(x, axis=1), [rand(rng, 3, 5, low=-3, high=3)]
    yield "log_softmax", lambda x: F.log_softmax(x, axis=-1), [rand(rng, 3, 5, low=-3, high=3)]
    yield "sum (axis=1, keepdims)", lambda x: x.sum(axis=1, keepdims=True), [rand(rng, 3, 4, 2)]
    yield "mean (axes 0, 2)", lambda x: x.mean(axis=(0, 2)), [rand(rng, 3, 4, 2)]
    yield "max (axis=-1)", lambda x: x.max(axis=-1), [distinct(rng, 3, 4)]
    yield "max (all axes)", lambda x: x.max(), [distinct(rng, 3, 4)]
    yield "matmul (batched)", lambda x, y: x @ y, [rand(rng, 2, 3, 4), rand(rng, 4, 5)]
    yield "matmul (vector)", lambda x, y: x @ y, [rand(rng, 4), rand(rng, 2, 4, 3)]
    yield "matmul (vector @ vector)", lambda x, y: x @ y, [rand(rng, 4), rand(rng, 4)]
    yield "linear", F.linear, [rand(rng, 4, 3), rand(rng, 2, 3), rand(rng, 2)]
    yield "reshape", lambda x: x.reshape(4, -1), [rand(rng, 2, 3, 2)]
    yield "permute", lambda x: x.permute(2, 0, 1), [rand(rng, 2, 3, 4)]
    yield "transpose", lambda x: x.transpose(0, 2), [rand(rng, 2, 3, 4)]
    yield "flatten", lambda x: x.flatten(1), [rand(rng, 2, 3, 4)]
    index = np.array([0, 2, 2])
    yield "getitem (slice)", lambda x: x[1:, ::2], [rand(rng, 3, 4)]
    yield "getitem (int array, repeats)", lambda x: x[index], [rand(rng, 3, 4)]
    picked = rng.random((3, 4)) > 0.5  # not `mask`: the where case above closes over that
    yield "getitem (boolean mask)", lambda x: x[picked], [rand(rng, 3, 4)]
    yield "cat", lambda x, y: minicnn.cat([x, y], axis=1), [rand(rng, 2, 3), rand(rng, 2, 2)]
    yield "stack", lambda x, y: minicnn.stack([x, y], axis=1), [rand(rng, 2, 3), rand(rng, 2, 3)]
    yield "pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [rand(rng, 2, 3, 4)]
