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
    yield "softmax", lambda x: F.softmax(x, dim=1), [rand(rng, 3, 5, low=-3, high=3)]
    yield "log_softmax", lambda x: F.log_softmax(x, dim=-1), [rand(rng, 3, 5, low=-3, high=3)]
    yield "sum (axis=1, keepdims)", lambda x: x.sum(axis=1, keepdims=True), [rand(rng, 3, 4, 2)]
    yield "mean (axes 0, 2)", lambda x: x.mean(axis=(0, 2)), [rand(rng, 3, 4, 2)]
    yield "amax (dim=-1)", lambda x: x.amax(dim=-1), [distinct(rng, 3, 4)]
    yield "amin (dims 0, 2)", lambda x: x.amin(dim=(0, 2)), [distinct(rng, 3, 4, 2)]
    yield "max (all dims)", lambda x: x.max(), [distinct(rng, 3, 4)]
    yield "max (dim=1) values", lambda x: x.max(1).values, [distinct(rng, 3, 4)]
    yield "min (dim=0, keepdim) values", lambda x: x.min(0, keepdim=True)[0], [distinct(rng, 3, 4)]
    with_zero = rand(rng, 3, 4)
    with_zero.data[1, 2] = 0.0  # the product's gradient at a zero is not out / x
    yield "prod (dim=1, a zero)", lambda x: x.prod(dim=1), [with_zero]
    yield "prod (all)", lambda x: x.prod(), [rand(rng, 2, 3, low=0.5, high=1.5)]
    yield "var (dim=1)", lambda x: x.var(dim=1), [rand(rng, 3, 4)]
    yield "std (all, correction=0)", lambda x: x.std(correction=0), [rand(rng, 3, 4)]
    yield "norm (p=2, dim=1)", lambda x: x.norm(dim=1), [rand(rng, 3, 4)]
    yield "norm (p=3)", lambda x: x.norm(p=3), [away_from_zero(rng, 3, 4)]
    yield "logsumexp (dim=1)", lambda x: x.logsumexp(dim=1), [rand(rng, 3, 4, low=-3, high=3)]
    yield "cumsum (dim=1)", lambda x: x.cumsum(dim=1), [rand(rng, 3, 4)]
    yield "sort values (descending)", lambda x: x.sort(dim=1, descending=True).values, \
        [distinct(rng, 3, 4)]
    yield "topk values", lambda x: x.topk(2, dim=1).values, [distinct(rng, 3, 4)]
    yield "gather (repeated index)", lambda x: x.gather(1, np.array([[0, 0], [3, 1], [2, 2]])), \
        [rand(rng, 3, 4)]
    yield "sin", minicnn.sin, [rand(rng, 2, 3, low=-3, high=3)]
    yield "cos", minicnn.cos, [rand(rng, 2, 3, low=-3, high=3)]
    yield "tan", minicnn.tan, [rand(rng, 2, 3, low=-1.2, high=1.2)]
    yield "log2", minicnn.log2, [rand(rng, 2, 3, low=0.5, high=2.0)]
    yield "log10", minicnn.log10, [rand(rng, 2, 3, low=0.5, high=2.0)]
    yield "exp2", minicnn.exp2, [rand(rng, 2, 3)]
    yield "rsqrt", minicnn.rsqrt, [rand(rng, 2, 3, low=0.5, high=2.0)]
    yield "add (alpha=2)", lambda x, y: x.add(y, alpha=2), [rand(rng, 3, 4), rand(rng, 4)]
    yield "sub (alpha=0.5)", lambda x, y: x.sub(y, alpha=0.5), [rand(rng, 3, 4), rand(rng, 4)]
    yield "clamp (tensor bounds)", lambda x, low, high: x.clamp(low, high), \
        [distinct(rng, 3, 4), minicnn.tensor(np.full(4, -0.025), requires_grad=True),
         minicnn.tensor(np.full((3, 1), 0.025), requires_grad=True)]
    yield "matmul (batched)", lambda x, y: x @ y, [rand(rng, 2, 3, 4), rand(rng, 4, 5)]
    yield "matmul (vector)", lambda x, y: x @ y, [rand(rng, 4), rand(rng, 2, 4, 3)]
    yield "matmul (vector @ vector)", lambda x, y: x @ y, [rand(rng, 4), rand(rng, 4)]
    yield "linear", F.linear, [rand(rng, 4, 3), rand(rng, 2, 3), rand(rng, 2)]
    yield "reshape", lambda x: x.reshape(4, -1), [rand(rng, 2, 3, 2)]
    yield "permute", lambda x: x.permute(2, 0, 1), [rand(rng, 2, 3, 4)]
    yield "transpose", lambda x: x.transpose(0, 2), [rand(rng, 2, 3, 4)]
    yield "flatten", lambda x: x.flatten(1), [rand(rng, 2, 3, 4)]
    yield "view", lambda x: x.view(3, -1), [rand(rng, 2, 3, 2)]
    yield "t", lambda x: x.t(), [rand(rng, 2, 3)]
    yield "squeeze / unsqueeze", lambda x: x.squeeze(1).unsqueeze(0), [rand(rng, 2, 1, 3)]
    yield "broadcast by expand (-1 keeps, new dim)", lambda x: x.expand(2, -1, 4), \
        [rand(rng, 3, 1)]
    yield "repeat", lambda x: x.repeat(2, 1, 3), [rand(rng, 2, 3)]
    yield "chunk", lambda x: x.chunk(2, dim=1)[1], [rand(rng, 2, 5)]
    yield "split (sections)", lambda x: x.split([1, 3], dim=1)[1] * 2, [rand(rng, 2, 4)]
    yield "clone", lambda x: x.clone() * x, [rand(rng, 2, 3)]
    yield "flip", lambda x: x.flip(0, 2), [rand(rng, 2, 3, 4)]
    yield "index_select (repeats)", lambda x: x.index_select(1, np.array([2, 0, 2])), \
        [rand(rng, 2, 3)]
    yield "narrow / unbind", lambda x: x.narrow(1, 1, 2).unbind(0)[1], [rand(rng, 2, 3)]
    yield "masked_fill", lambda x: x.masked_fill(np.array([True, False, True]), 0.5), \
        [rand(rng, 2, 3)]
    index = np.array([0, 2, 2])
    yield "getitem (slice)", lambda x: x[1:, ::2], [rand(rng, 3, 4)]
    yield "getitem (int array, repeats)", lambda x: x[index], [rand(rng, 3, 4)]
    picked = rng.random((3, 4)) > 0.5  # not `mask`: the where case above closes over that
    yield "getitem (boolean mask)", lambda x: x[picked], [rand(rng, 3, 4)]
    yield "cat", lambda x, y: minicnn.cat([x, y], dim=1), [rand(rng, 2, 3), rand(rng, 2, 2)]
    yield "stack", lambda x, y: minicnn.stack([x, y], dim=1), [rand(rng, 2, 3), rand(rng, 2, 3)]
    yield "pad", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), [rand(rng, 2, 3, 4)]
