"""Cases for the losses: cross-entropy (with and without label smoothing), NLL, MSE."""

import numpy as np

from minicnn import functional as F

from ._inputs import rand


def cases(rng):
    n_samples, classes = 5, 4
    target = rng.integers(0, classes, n_samples)
    for eps in (0.0, 0.1):
        for reduction in ("mean", "sum", "none"):
            yield (f"cross_entropy (label_smoothing={eps}, {reduction})",
                   lambda z, eps=eps, reduction=reduction: F.cross_entropy(
                       z, target, label_smoothing=eps, reduction=reduction),
                   [rand(rng, n_samples, classes, low=-3, high=3)])
    pixel_target = rng.integers(0, classes, (2, 3, 2))
    yield ("cross_entropy (N, K, H, W)",
           lambda z: F.cross_entropy(z, pixel_target, label_smoothing=0.2),
           [rand(rng, 2, classes, 3, 2, low=-3, high=3)])
    yield ("nll_loss", lambda x: F.nll_loss(x, target),
           [rand(rng, n_samples, classes, low=-3, high=0)])
    yield ("nll_loss (none)", lambda x: F.nll_loss(x, target, reduction="none"),
           [rand(rng, n_samples, classes, low=-3, high=0)])
    yield "mse_loss (input and target)", F.mse_loss, [rand(rng, 3, 4), rand(rng, 3, 4)]
    yield ("mse_loss (sum, fixed target)",
           lambda x: F.mse_loss(x, np.linspace(-1, 1, 12).reshape(3, 4), reduction="sum"),
           [rand(rng, 3, 4)])
