"""Time transfer learning's two ways of training a new head on a frozen backbone.

    python benchmarks/bench_transfer.py [--images 2000] [--epochs 5]

A CIFAR ResNet-20 (``minicnn.models.resnet20``) is the frozen backbone and its ``fc`` the
head, trained for ``--epochs`` epochs (batch 64, SGD with momentum) on ``--images`` random
3 x 32 x 32 images (at most 50,000, CIFAR-10's size) with 10 classes:

    through the backbone   every epoch runs the frozen backbone forward again
                           (``freeze(model, but="fc")``, ``fit`` with ``eval_modules``)
    on cached features     ``cache_features`` runs the backbone once and writes its
                           64-number features to disk; the head then trains on those

Both give the same head (``tests/train/test_transfer.py`` checks it); this prints the
seconds of each, the cache's share of its total, and the speed-up. No PyTorch involved.
"""

import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import minicnn  # noqa: E402
from minicnn import optim  # noqa: E402
from minicnn.data import ArrayDataset, DataLoader  # noqa: E402
from minicnn.models import resnet20  # noqa: E402
from minicnn.train import fit  # noqa: E402
from minicnn.train.transfer import cache_features, freeze, frozen_modules, split_head  # noqa: E402

from arguments import Parser, int_in_range, run  # noqa: E402

BATCH, LR, MOMENTUM, CLASSES = 64, 0.01, 0.9, 10
MAX_IMAGES = 50_000  # CIFAR-10's training set: 600 MB of float32 images, hours of training


def _model_and_data(images):
    minicnn.manual_seed(0)
    rng = np.random.default_rng(0)
    dataset = ArrayDataset(rng.standard_normal((images, 3, 32, 32)).astype(np.float32),
                           rng.integers(0, CLASSES, images))
    return resnet20(num_classes=CLASSES), dataset


def through_backbone(images, epochs):
    model, dataset = _model_and_data(images)
    freeze(model, but="fc")
    start = time.perf_counter()
    fit(model, DataLoader(dataset, BATCH, shuffle=True, seed=0), None,
        optim.SGD(model.fc.parameters(), lr=LR, momentum=MOMENTUM), epochs=epochs,
        eval_modules=frozen_modules(model), progress=False, verbose=False)
    return time.perf_counter() - start


def on_cached_features(images, epochs, folder):
    model, dataset = _model_and_data(images)
    backbone, head = split_head(model)
    start = time.perf_counter()
    cache = cache_features(backbone, DataLoader(dataset, 256), os.path.join(folder, "f.npz"))
    cached = time.perf_counter()
    fit(head, DataLoader(cache.dataset(), BATCH, shuffle=True, seed=0), None,
        optim.SGD(head.parameters(), lr=LR, momentum=MOMENTUM), epochs=epochs,
        progress=False, verbose=False)
    return cached - start, time.perf_counter() - start


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int_in_range(1, MAX_IMAGES), default=2000,
                        help=f"random training images (default 2000, at most {MAX_IMAGES})")
    parser.add_argument("--epochs", type=int_in_range(1), default=5,
                        help="epochs of head training (default 5)")
    args = parser.parse_args(argv)
    through_backbone(64, 1)  # compile the kernels before timing
    slow = through_backbone(args.images, args.epochs)
    with tempfile.TemporaryDirectory() as folder:
        cache_seconds, fast = on_cached_features(args.images, args.epochs, folder)
    print(f"ResNet-20 backbone, head fc, {args.images} images, {args.epochs} epochs, "
          f"batch {BATCH}")
    print(f"  through the frozen backbone: {slow:8.2f} s")
    print(f"  on cached features:          {fast:8.2f} s  (caching {cache_seconds:.2f} s, "
          f"{cache_seconds / fast:.0%} of it)")
    print(f"  speed-up: {slow / fast:.1f}x")


if __name__ == "__main__":
    run(main)
