"""Cases for max (dilated too), average, adaptive average and max pooling, max unpooling.

Max-pool inputs are well-separated distinct values (``distinct``), so no window holds a tie
or a near-tie that a finite-difference step could flip.
"""

from minicnn import functional as F

from ._inputs import distinct, rand


def cases(rng):
    yield "max_pool2d 2x2", lambda x: F.max_pool2d(x, 2), [distinct(rng, 2, 2, 4, 4)]
    yield "max_pool2d 3x3 stride 2 (overlapping)", lambda x: F.max_pool2d(x, 3, stride=2), \
        [distinct(rng, 1, 2, 7, 7)]
    yield "max_pool2d padding 1", lambda x: F.max_pool2d(x, 3, stride=2, padding=1), \
        [distinct(rng, 1, 2, 5, 6)]
    yield "max_pool2d ceil_mode", lambda x: F.max_pool2d(x, 2, ceil_mode=True), \
        [distinct(rng, 1, 2, 5, 5)]
    yield "max_pool2d 'same' (2x3, stride 2)", \
        lambda x: F.max_pool2d(x, (2, 3), stride=2, padding="same"), [distinct(rng, 1, 2, 5, 6)]
    yield "avg_pool2d padding 1, count_include_pad", \
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), [rand(rng, 1, 2, 5, 6)]
    yield "avg_pool2d padding 1, not count_include_pad", \
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False), \
        [rand(rng, 1, 2, 5, 6)]
    yield "avg_pool2d ceil_mode", lambda x: F.avg_pool2d(x, 2, padding=1, ceil_mode=True), \
        [rand(rng, 1, 2, 6, 5)]
    yield "adaptive_avg_pool2d 1 (global)", lambda x: F.adaptive_avg_pool2d(x, 1), \
        [rand(rng, 2, 3, 4, 5)]
    yield "adaptive_avg_pool2d 5x7 -> 3x4", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), \
        [rand(rng, 1, 2, 5, 7)]
    yield "max_pool2d dilation 2, padding 1, ceil_mode", \
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1, dilation=2, ceil_mode=True), \
        [distinct(rng, 1, 2, 7, 6)]
    yield "max_pool2d dilation (2, 3), kernel (2, 3)", \
        lambda x: F.max_pool2d(x, (2, 3), stride=(1, 2), dilation=(2, 3)), \
        [distinct(rng, 1, 2, 5, 9)]
    yield "adaptive_max_pool2d 5x7 -> 3x4 (overlapping bins)", \
        lambda x: F.adaptive_max_pool2d(x, (3, 4)), [distinct(rng, 1, 2, 5, 7)]
    _, indices = F.max_pool2d(distinct(rng, 1, 2, 5, 6), 2, ceil_mode=True, return_indices=True)
    yield "max_unpool2d 2x2 (indices from max_pool2d, ceil_mode)", \
        lambda x: F.max_unpool2d(x, indices, 2, output_size=(5, 6)), [rand(rng, 1, 2, 3, 3)]
