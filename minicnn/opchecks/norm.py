"""Cases for batch normalisation (training and evaluation), layer, group and instance norm,
local response norm and dropout."""

import minicnn
from minicnn import functional as F

from ._inputs import rand


def _seeded_dropout(p):
    """Dropout with the same mask on every call (gradcheck calls fn many times)."""
    def fn(x):
        minicnn.manual_seed(0)
        return F.dropout(x, p)
    return fn


def cases(rng):
    channels = 3
    running_mean, running_var = rng.uniform(-1, 1, channels), rng.uniform(0.5, 2, channels)

    def batch_norm(training):
        def fn(x, weight, bias):
            # Copies: training mode updates the running statistics in place on every call.
            return F.batch_norm(x, running_mean.copy(), running_var.copy(), weight, bias,
                                training=training)
        return fn

    def affine():  # weight, bias
        return [rand(rng, channels, low=0.5, high=1.5), rand(rng, channels)]

    yield "batch_norm (N, C), training", batch_norm(True), [rand(rng, 5, channels), *affine()]
    yield ("batch_norm (N, C, H, W), training", batch_norm(True),
           [rand(rng, 2, channels, 3, 2), *affine()])
    yield ("batch_norm (N, C, H, W), evaluation", batch_norm(False),
           [rand(rng, 2, channels, 3, 2), *affine()])
    yield ("batch_norm, no affine, no running stats",
           lambda x: F.batch_norm(x, None, None, training=True), [rand(rng, 4, channels, 2)])
    yield ("layer_norm (N, L, D) over D", lambda x, w, b: F.layer_norm(x, 4, w, b),
           [rand(rng, 2, 3, 4), rand(rng, 4, low=0.5, high=1.5), rand(rng, 4)])
    yield ("layer_norm over (C, H, W), no affine", lambda x: F.layer_norm(x, (2, 3, 2)),
           [rand(rng, 2, 2, 3, 2)])
    yield ("group_norm (2 groups of 2 channels)", lambda x, w, b: F.group_norm(x, 2, w, b),
           [rand(rng, 2, 4, 3, 2), rand(rng, 4, low=0.5, high=1.5), rand(rng, 4)])

    def instance_norm(use_input_stats):
        def fn(x, weight, bias):  # copies: the running statistics are updated in place
            return F.instance_norm(x, running_mean.copy(), running_var.copy(), weight, bias,
                                   use_input_stats=use_input_stats)
        return fn

    yield ("instance_norm (N, C, H, W), instance statistics", instance_norm(True),
           [rand(rng, 2, channels, 3, 2), *affine()])
    yield ("instance_norm (N, C, L), running statistics", instance_norm(False),
           [rand(rng, 2, channels, 4), *affine()])
    yield ("local_response_norm (size 3)",
           lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.0),
           [rand(rng, 2, 5, 2, 3)])
    yield ("local_response_norm (size 4, even)",
           lambda x: F.local_response_norm(x, 4, alpha=1.0, beta=0.6, k=2.0),
           [rand(rng, 2, 6, 3, 2)])
    yield "dropout (p=0.4)", _seeded_dropout(0.4), [rand(rng, 4, 5)]
