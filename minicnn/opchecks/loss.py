"""Cases for the losses: cross-entropy (label smoothing, class weights, ignore_index,
probability targets), NLL, binary cross-entropy (probabilities and logits), KL divergence,
and the regression losses MSE, L1, smooth L1 and Huber."""

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
    class_weight = rng.uniform(0.5, 2.0, classes)
    partly_ignored = np.where(np.arange(n_samples) % 2 == 1, -100, target)
    yield ("cross_entropy (weight, ignore_index, label_smoothing=0.1)",
           lambda z: F.cross_entropy(z, partly_ignored, class_weight, label_smoothing=0.1),
           [rand(rng, n_samples, classes, low=-3, high=3)])
    yield ("cross_entropy (probability targets, weight, logits and target)",
           lambda z, q: F.cross_entropy(z, q, class_weight, label_smoothing=0.1),
           [rand(rng, n_samples, classes, low=-3, high=3),
            rand(rng, n_samples, classes, low=0, high=1)])
    yield ("nll_loss", lambda x: F.nll_loss(x, target),
           [rand(rng, n_samples, classes, low=-3, high=0)])
    yield ("nll_loss (none)", lambda x: F.nll_loss(x, target, reduction="none"),
           [rand(rng, n_samples, classes, low=-3, high=0)])
    yield ("nll_loss (weight, ignore_index)",
           lambda x: F.nll_loss(x, partly_ignored, class_weight),
           [rand(rng, n_samples, classes, low=-3, high=0)])
    yield "mse_loss (input and target)", F.mse_loss, [rand(rng, 3, 4), rand(rng, 3, 4)]
    yield ("mse_loss (sum, fixed target)",
           lambda x: F.mse_loss(x, np.linspace(-1, 1, 12).reshape(3, 4), reduction="sum"),
           [rand(rng, 3, 4)])
    # |x - y| kinks (at 0, beta, delta) have probability zero for uniform draws
    yield "l1_loss (input and target)", F.l1_loss, [rand(rng, 3, 4), rand(rng, 3, 4)]
    yield ("smooth_l1_loss (beta=0.5, sum)",
           lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.5),
           [rand(rng, 3, 4, low=-2, high=2), rand(rng, 3, 4, low=-2, high=2)])
    yield ("huber_loss (delta=0.7, none)", lambda x, y: F.huber_loss(x, y, "none", 0.7),
           [rand(rng, 3, 4, low=-2, high=2), rand(rng, 3, 4, low=-2, high=2)])
    element_weight = rng.uniform(0.5, 2.0, 4)
    yield ("binary_cross_entropy (weight)",
           lambda p, y: F.binary_cross_entropy(p, y, element_weight),
           [rand(rng, 3, 4, low=0.05, high=0.95), rand(rng, 3, 4, low=0, high=1)])
    pos_weight = rng.uniform(0.5, 3.0, 4)
    yield ("binary_cross_entropy_with_logits (weight, pos_weight)",
           lambda x, y: F.binary_cross_entropy_with_logits(x, y, element_weight,
                                                           pos_weight=pos_weight),
           [rand(rng, 3, 4, low=-4, high=4), rand(rng, 3, 4, low=0, high=1)])
    yield ("kl_div (batchmean)", lambda x, y: F.kl_div(x, y, reduction="batchmean"),
           [rand(rng, 3, 4, low=-3, high=-0.1), rand(rng, 3, 4, low=0.05, high=1)])
    yield ("kl_div (log_target, sum)",
           lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
           [rand(rng, 3, 4, low=-3, high=-0.1), rand(rng, 3, 4, low=-3, high=-0.1)])
