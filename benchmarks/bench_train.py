"""Time one full training step (forward, backward, SGD with momentum) of three networks in
minicnn and in PyTorch, and minicnn's Python overhead per op.

    python benchmarks/bench_train.py [--repeats 20] [--only lenet5|resnet20|mobilenet]

The networks (float32, 10 classes, cross-entropy, ``SGD(lr=0.01, momentum=0.9)``):

    lenet5      LeNet-5 (``minicnn.models.lenet5``), batch 64, 1 x 32 x 32
    resnet20    CIFAR ResNet-20 with zero-padding shortcuts (``resnet20``), batch 32, 3 x 32 x 32
    mobilenet   a MobileNet-style stack, batch 32, 3 x 32 x 32: stem conv 3x3 3->32 + BN +
                ReLU, six depthwise-separable blocks (``minicnn.models.blocks
                .DepthwiseSeparableConv``) 32->64, 64->128 s2, 128->128, 128->256 s2,
                256->256, 256->512 s2 (MobileNet-v1's first six), global average pool, fc

The PyTorch twins are built in this file with the same structure and parameter names, and
start from minicnn's weights (copied through ``state_dict``); the first step's losses are
compared, so the two really compute the same thing. The steps are timed *alternately* in
one run (``bench_ops.time_alternately``): the machines drift by 1.3x and more, only ratios
from one run mean anything. Reported: median wall ms per step, images/s, and the CPU time
per step (user + system of the whole process, all threads; with 2 threads it can exceed
the wall time).

Overhead per op: the time of ``ArrayFunction.apply`` + ``backward`` for a 1-element ``add``
(alone, and amortised over a chain of 100), the number of recorded ops in one LeNet-5 step,
and their product against the step's time: how much of the step is Python bookkeeping.
PyTorch is optional: without it only minicnn's figures are printed.

``--threads N`` limits both frameworks (Numba, BLAS through threadpoolctl, PyTorch) to N
threads. On a busy machine ``--threads 1`` gives the fairer comparison: every parallel
region otherwise waits for a worker to be scheduled (milliseconds each, while the waiting
workers spin and count as CPU time).
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import minicnn  # noqa: E402
from minicnn import functional as F  # noqa: E402
from minicnn import nn, optim  # noqa: E402
from minicnn.autograd import ArrayFunction  # noqa: E402
from minicnn.models import lenet5, resnet20  # noqa: E402
from minicnn.models.blocks import DepthwiseSeparableConv  # noqa: E402

from arguments import Parser, int_in_range, run  # noqa: E402
from bench_ops import blas_description, time_alternately, torch  # noqa: E402

LR, MOMENTUM, CLASSES = 0.01, 0.9, 10

# (in, out, stride) of the six depthwise-separable blocks: MobileNet-v1's first six.
MOBILENET_BLOCKS = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1),
                    (256, 512, 2)]


# ----------------------------------------------------------------------------- minicnn models


class MobileNetStack(nn.Module):
    """Stem conv + BN + ReLU, the depthwise-separable blocks, global average pool, fc."""

    def __init__(self, blocks=MOBILENET_BLOCKS, num_classes=CLASSES):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, blocks[0][0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(blocks[0][0]), nn.ReLU())
        self.blocks = nn.Sequential(*[DepthwiseSeparableConv(i, o, s) for i, o, s in blocks])
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(blocks[-1][1], num_classes)

    def forward(self, x):
        x = self.avgpool(self.blocks(self.stem(x)))  # -> (N, 512, 1, 1)
        return self.fc(x.flatten(1))  # (N, 512, 1, 1) -> (N, 512)


MODELS = {  # name: (build the minicnn model, batch size, (C, H, W))
    "lenet5": (lambda: lenet5(num_classes=CLASSES), 64, (1, 32, 32)),
    "resnet20": (lambda: resnet20(num_classes=CLASSES), 32, (3, 32, 32)),
    "mobilenet": (lambda: MobileNetStack(), 32, (3, 32, 32)),
}


# ----------------------------------------------------------------------------- PyTorch twins


def torch_model(name):
    """The same network in plain PyTorch, with minicnn's parameter names."""
    tnn = torch.nn

    class BasicBlockA(tnn.Module):  # ResNet's BasicBlock with the zero-padding shortcut
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.stride, self.extra = stride, planes - inplanes

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x
            if self.stride != 1 or self.extra:
                identity = x[:, :, ::self.stride, ::self.stride]
                before = self.extra // 2
                identity = tnn.functional.pad(identity, (0, 0, 0, 0, before, self.extra - before))
            return torch.relu(out + identity)

    class ResNet20(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(16)
            layers, inplanes = [], 16
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                layers.append(tnn.Sequential(BasicBlockA(inplanes, planes, stride),
                                             *[BasicBlockA(planes, planes, 1) for _ in range(2)]))
                inplanes = planes
            self.layer1, self.layer2, self.layer3 = layers
            self.fc = tnn.Linear(64, CLASSES)

        def forward(self, x):
            x = torch.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(tnn.functional.adaptive_avg_pool2d(x, 1), 1))

    class Separable(tnn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.depthwise = tnn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False)
            self.depthwise_bn = tnn.BatchNorm2d(c_in)
            self.pointwise = tnn.Conv2d(c_in, c_out, 1, bias=False)
            self.pointwise_bn = tnn.BatchNorm2d(c_out)

        def forward(self, x):
            x = torch.relu(self.depthwise_bn(self.depthwise(x)))
            return torch.relu(self.pointwise_bn(self.pointwise(x)))

    class MobileNet(tnn.Module):
        def __init__(self):
            super().__init__()
            width = MOBILENET_BLOCKS[0][0]
            self.stem = tnn.Sequential(tnn.Conv2d(3, width, 3, padding=1, bias=False),
                                       tnn.BatchNorm2d(width), tnn.ReLU())
            self.blocks = tnn.Sequential(*[Separable(i, o, s) for i, o, s in MOBILENET_BLOCKS])
            self.fc = tnn.Linear(MOBILENET_BLOCKS[-1][1], CLASSES)

        def forward(self, x):
            x = tnn.functional.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1)
            return self.fc(torch.flatten(x, 1))

    if name == "lenet5":
        return tnn.Sequential(
            tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(),   # named "6" here, a call in minicnn: the Linear layers shift by one
            tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
            tnn.Linear(84, CLASSES))
    return {"resnet20": ResNet20, "mobilenet": MobileNet}[name]()


def _torch_state(name, state):
    """minicnn's state dict renamed for the PyTorch twin (LeNet-5's Sequential differs)."""
    if name != "lenet5":
        return state
    renamed = {}
    for key, value in state.items():
        part, index, leaf = key.split(".")
        renamed[f"{int(index) + (7 if part == 'classifier' else 0)}.{leaf}"] = value
    return renamed


# ----------------------------------------------------------------------------- steps


def minicnn_step(model, x, y):
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    inputs = minicnn.Tensor(x)

    def step():
        loss = F.cross_entropy(model(inputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def torch_step(model, x, y):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    model.train()
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def cpu_ms_per_call(fn, repeats):
    """Process CPU time (all threads) per call, in ms."""
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats * 1e3


def count_ops(fn):
    """How many ``ArrayFunction.apply`` calls ``fn()`` makes (the recorded forward ops)."""
    calls = 0
    original = ArrayFunction.__dict__["apply"]

    def counting(cls, *args, **kwargs):
        nonlocal calls
        calls += 1
        return original.__func__(cls, *args, **kwargs)
    ArrayFunction.apply = classmethod(counting)
    try:
        fn()
    finally:
        ArrayFunction.apply = original
    return calls


# ----------------------------------------------------------------------------- per-op overhead


def op_overhead(samples=30, calls=100, chain=100):
    """Seconds per op of minicnn (and PyTorch) for a 1-element add, forward + backward.

    Returns ``{"single": (minicnn, torch), "chain": (minicnn, torch)}``: ``single`` is one
    ``c = a + b; c.backward(g)`` (engine start-up included), ``chain`` the cost per add of a
    chain of ``chain`` adds followed by one backward. Each sample times ``calls`` calls in a
    row (warm caches), samples alternate between the frameworks; medians. torch is None
    without PyTorch.
    """
    a = minicnn.tensor(np.ones(1, np.float32), requires_grad=True)
    b = minicnn.tensor(np.ones(1, np.float32), requires_grad=True)
    g = np.ones(1, np.float32)

    def single(a, b, g):
        (a + b).backward(g)

    def chained(a, b, g):
        c = a
        for _ in range(chain):
            c = c + b
        c.backward(g)

    def repeated(fn, count, *args):
        def run():
            for _ in range(count):
                fn(*args)
        return run
    fns = [repeated(single, calls, a, b, g), repeated(chained, calls // 10, a, b, g)]
    if torch is not None:
        ta, tb = torch.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)
        fns += [repeated(single, calls, ta, tb, torch.ones(1)),
                repeated(chained, calls // 10, ta, tb, torch.ones(1))]
    times = time_alternately(fns, samples)
    per_single, per_chain = calls, calls // 10 * chain
    return {"single": (times[0] / per_single,
                       times[2] / per_single if torch is not None else None),
            "chain": (times[1] / per_chain, times[3] / per_chain if torch is not None else None)}


# ----------------------------------------------------------------------------- main


def limit_threads(n):
    """Run Numba's kernels, NumPy's BLAS and PyTorch on ``n`` threads."""
    import numba
    numba.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
    except ImportError:
        print("threadpoolctl not installed: BLAS keeps its threads (set OPENBLAS_NUM_THREADS)")
    if torch is not None:
        torch.set_num_threads(n)


def main(argv=None):
    import numba

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in_range(1), default=20,
                        help="timed steps per network and framework, the median is printed "
                        "(default 20)")
    parser.add_argument("--only", choices=sorted(MODELS), help="one network")
    # Numba cannot run on more threads than its pool was started with
    parser.add_argument("--threads", type=int_in_range(1, numba.config.NUMBA_NUM_THREADS),
                        help="threads for both frameworks (default: all; at most "
                        f"{numba.config.NUMBA_NUM_THREADS}, Numba's pool)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        limit_threads(args.threads)

    print(f"BLAS: {blas_description()}; Numba {numba.get_num_threads()} threads")
    print(f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        print("PyTorch not installed: minicnn only, no ratios")
    print(f"\n{'network':<10} {'batch':>5} {'minicnn ms':>10} {'torch ms':>9} {'ratio':>6} "
          f"{'minicnn img/s':>13} {'torch img/s':>11} {'minicnn cpu ms':>14} "
          f"{'torch cpu ms':>12} {'loss diff':>9}")
    rng = np.random.default_rng(0)
    lenet_step_seconds = None
    for name, (build, batch, chw) in MODELS.items():
        if args.only and name != args.only:
            continue
        minicnn.manual_seed(0)
        model = build()
        x = rng.standard_normal((batch, *chw)).astype(np.float32)
        y = rng.integers(0, CLASSES, batch)
        fns = [minicnn_step(model, x, y)]
        loss_diff = "-"
        if torch is not None:
            twin = torch_model(name)
            twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in
                                  _torch_state(name, model.state_dict()).items()})
            fns.append(torch_step(twin, x, y))
            # The first step of each starts from the same weights: the losses must agree.
            loss_diff = f"{abs(fns[0]() - fns[1]()):9.1e}"
        times = time_alternately(fns, args.repeats)
        cpu = [cpu_ms_per_call(fn, max(3, args.repeats // 4)) for fn in fns]
        if name == "lenet5":
            lenet_step_seconds = times[0]
            lenet_ops = count_ops(fns[0])
        t_ref = f"{times[1] * 1e3:9.2f}" if torch is not None else f"{'-':>9}"
        ratio = f"{times[0] / times[1]:6.2f}" if torch is not None else f"{'-':>6}"
        ips_ref = f"{batch / times[1]:11.0f}" if torch is not None else f"{'-':>11}"
        cpu_ref = f"{cpu[1]:12.2f}" if torch is not None else f"{'-':>12}"
        print(f"{name:<10} {batch:>5} {times[0] * 1e3:10.2f} {t_ref} {ratio} "
              f"{batch / times[0]:13.0f} {ips_ref} {cpu[0]:14.2f} {cpu_ref} {loss_diff:>9}")

    overhead = op_overhead()
    mini_single, torch_single = overhead["single"]
    mini_chain, torch_chain = overhead["chain"]
    print("\nPython overhead per op (1-element add, forward + backward):")
    print(f"  one op and its backward:      minicnn {mini_single * 1e6:6.1f} us"
          + (f", PyTorch {torch_single * 1e6:6.1f} us" if torch is not None else ""))
    print(f"  per op in a chain of 100:     minicnn {mini_chain * 1e6:6.1f} us"
          + (f", PyTorch {torch_chain * 1e6:6.1f} us" if torch is not None else ""))
    if lenet_step_seconds is not None:
        bookkeeping = lenet_ops * mini_chain
        print(f"  LeNet-5 step: {lenet_ops} recorded ops x {mini_chain * 1e6:.1f} us = "
              f"{bookkeeping * 1e3:.2f} ms of {lenet_step_seconds * 1e3:.2f} ms "
              f"({bookkeeping / lenet_step_seconds:.0%})")


if __name__ == "__main__":
    run(main)
