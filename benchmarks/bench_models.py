"""Time whole models: forward at batch 1 (eval mode, no_grad) at each model's native input
size, and a LeNet-5 training step at batch 64.

    python benchmarks/bench_models.py [names ...] [--repeats 3]

Without names it times lenet5, alexnet, vgg11, vgg16, squeezenet1_0, squeezenet1_1,
mobilenet_v1 and mobilenet_v2 (any name of ``minicnn.models`` works; the input is
``models.input_shape(name)``, e.g. 3x32x32 for resnet20). Each figure is the
median of ``--repeats`` runs after one warm-up run (which compiles the Numba kernels).
The machines drift by 1.3x and more: compare figures from one run only.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import minicnn  # noqa: E402
from minicnn import functional as F  # noqa: E402
from minicnn import models  # noqa: E402

from arguments import Parser, int_in_range, run  # noqa: E402

DEFAULT_MODELS = ["lenet5", "alexnet", "vgg11", "vgg16", "squeezenet1_0", "squeezenet1_1",
                  "mobilenet_v1", "mobilenet_v2"]


def median_seconds(fn, repeats):
    fn()  # warm-up: kernel compilation, first-touch allocations
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def forward_time(name, repeats):
    minicnn.manual_seed(0)
    model = models.get_model(name)
    model.eval()
    shape = models.input_shape(name)  # (C, H, W)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, *shape))
                       .astype(np.float32))

    def run():
        with minicnn.no_grad():
            model(x)

    return shape, median_seconds(run, repeats)


def lenet_training_step_time(repeats, batch=64):
    """Forward, cross-entropy, backward and an SGD step on a (64, 1, 32, 32) batch."""
    minicnn.manual_seed(0)
    model = models.lenet5()
    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((batch, 1, 32, 32)).astype(np.float32))
    y = rng.integers(0, 10, batch)
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return median_seconds(step, repeats)


def model_name(text):
    """An argparse ``type``: a name in ``minicnn.models`` (an unknown one lists them all)."""
    try:
        models.input_shape(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", type=model_name, default=DEFAULT_MODELS,
                        metavar="MODEL",
                        help=f"models to time (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--repeats", type=int_in_range(1), default=3,
                        help="timed runs per model after the warm-up, the median is printed "
                        "(default 3)")
    args = parser.parse_args(argv)
    print(f"forward, batch 1, float32, eval mode, no_grad (median of {args.repeats})")
    for name in args.names:
        shape, seconds = forward_time(name, args.repeats)
        print(f"  {name:<16} {'x'.join(map(str, shape)):>11}  {seconds * 1e3:9.1f} ms")
    seconds = lenet_training_step_time(max(args.repeats, 10))
    print(f"lenet5 training step, batch 64 x 1x32x32 (forward + backward + SGD): "
          f"{seconds * 1e3:.1f} ms")


if __name__ == "__main__":
    run(main)
