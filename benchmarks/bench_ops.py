"""Time minicnn's ops (forward + backward, float32) and compare with PyTorch when installed.

    python benchmarks/bench_ops.py [--repeats 20] [--only conv]

For each workload it prints the median time of minicnn and, if PyTorch is importable, of
PyTorch, measured *alternately* in the same run (the machines drift by 1.3x and more, so
only ratios from one run mean anything), the GFLOP/s, and the fraction of this machine's
float32 GEMM peak (a 2048^3 ``numpy.matmul`` timed at start-up). It also prints which BLAS
kernels NumPy is using (``OPENBLAS_CORETYPE`` changes them; see README, "Speed").
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import minicnn  # noqa: E402
from minicnn import functional as F  # noqa: E402

from arguments import Parser, int_in_range, run  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: without it only minicnn's figures are printed
    torch = None


# ----------------------------------------------------------------------------- harness


def blas_description():
    """Which BLAS NumPy uses and with which kernels (core type) and threads."""
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            return (f"{i.get('internal_api')} {i.get('version')}, kernels "
                    f"{i.get('architecture')}, {i.get('num_threads')} threads "
                    f"(OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')})")
    except ImportError:
        pass
    return f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"


def gemm_peak_gflops(n=2048, repeats=5):
    """float32 GFLOP/s of one n^3 matmul, best of ``repeats``."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    best = min(_seconds(lambda: a @ a) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_alternately(fns, repeats, warmup=2):
    """Median seconds of each function, calling them in turn so drift hits all alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            times[i].append(_seconds(fn))
    return [float(np.median(t)) for t in times]


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def minicnn_step(forward, *arrays):
    """A closure running forward + backward of ``forward(*tensors)`` with a random upstream."""
    tensors = [minicnn.tensor(a, requires_grad=True) for a in arrays]
    upstream = None

    def step():
        nonlocal upstream
        for t in tensors:
            t.grad = None
        out = forward(*tensors)
        if upstream is None:
            upstream = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        out.backward(upstream)
    return step


def torch_step(forward, *arrays):
    """The same for PyTorch (None when PyTorch is not installed)."""
    if torch is None:
        return None
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    upstream = None

    def step():
        nonlocal upstream
        for t in tensors:
            t.grad = None
        out = forward(*tensors)
        if upstream is None:
            upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
        out.backward(upstream)
    return step


# ----------------------------------------------------------------------------- workloads
# Each workload: (name, GFLOP of forward + backward or None, minicnn step, torch step or None).
# The three conv GEMMs (forward, grad-input, grad-weight) each cost 2 * MACs FLOPs.


def conv_workloads(rng):
    """The convolutions of issue 3: (name, GFLOP, minicnn step, torch step) per workload."""
    from minicnn.kernels.geometry import resolve_padding

    def conv(n, c_in, c_out, size, kernel, stride, padding, groups=1):
        x = rand(rng, n, c_in, size, size)
        weight = rand(rng, c_out, c_in // groups, kernel, kernel) * 0.1
        bias = rand(rng, c_out)
        out_hw = F.conv_output_size(size, kernel, stride, padding)
        macs = n * c_out * out_hw[0] * out_hw[1] * (c_in // groups) * kernel * kernel
        pads = resolve_padding(padding, (size, size), (kernel, kernel), (stride, stride))
        torch_pad = (pads[1][0], pads[1][1], pads[0][0], pads[0][1])  # (left, right, top, bottom)

        def minicnn_forward(x, w, b):
            return F.conv2d(x, w, b, stride=stride, padding=padding, groups=groups)

        def torch_forward(x, w, b):  # explicit padding: torch refuses 'same' with stride > 1
            return torch.nn.functional.conv2d(torch.nn.functional.pad(x, torch_pad), w, b,
                                              stride=stride, groups=groups)
        return (3 * 2 * macs / 1e9, minicnn_step(minicnn_forward, x, weight, bias),
                torch_step(torch_forward, x, weight, bias))

    workloads = [
        ("conv 64->64 3x3 s1 'same' N=32 32x32", conv(32, 64, 64, 32, 3, 1, "same")),
        ("conv 64->128 3x3 s2 'same' N=32 32x32", conv(32, 64, 128, 32, 3, 2, "same")),
        ("conv 1x1 256->64 N=32 16x16", conv(32, 256, 64, 16, 1, 1, 0)),
        ("depthwise 3x3 C=128 N=32 32x32", conv(32, 128, 128, 32, 3, 1, "same", groups=128)),
        ("conv 1->6 5x5 'valid' N=64 32x32", conv(64, 1, 6, 32, 5, 1, "valid")),
    ]
    return [(name, *entry) for name, entry in workloads]


def pool_workloads(rng):
    """The poolings of issue 3: (name, GFLOP, minicnn step, torch step) per workload.

    Pooling does next to no arithmetic (it is bound by memory traffic), so no GFLOP/s.
    """
    x = rand(rng, 32, 64, 32, 32)
    features = rand(rng, 32, 512, 7, 7)
    tf = torch.nn.functional if torch is not None else None
    workloads = [
        ("max-pool 2x2 N=32 C=64 32x32", x,
         lambda x: F.max_pool2d(x, 2), lambda x: tf.max_pool2d(x, 2)),
        ("max-pool 3x3 s2 (overlapping) N=32 C=64 32x32", x,
         lambda x: F.max_pool2d(x, 3, stride=2), lambda x: tf.max_pool2d(x, 3, stride=2)),
        ("avg-pool 2x2 N=32 C=64 32x32", x,
         lambda x: F.avg_pool2d(x, 2), lambda x: tf.avg_pool2d(x, 2)),
        ("global avg-pool N=32 C=512 7x7", features,
         lambda x: F.adaptive_avg_pool2d(x, 1), lambda x: tf.adaptive_avg_pool2d(x, 1)),
    ]
    return [(name, None, minicnn_step(mini, data), torch_step(ref, data))
            for name, data, mini, ref in workloads]


def norm_loss_workloads(rng):
    """Batch norm and the losses of issue 4: (name, GFLOP, minicnn step, torch step).

    Both are bound by memory traffic, not arithmetic, so no GFLOP/s. Batch norm runs in
    training mode with weight, bias and running statistics (updated on every step).
    """
    x = rand(rng, 32, 64, 32, 32)
    weight, bias = 1 + 0.1 * rand(rng, 64), 0.1 * rand(rng, 64)
    running_mean, running_var = np.zeros(64, np.float32), np.ones(64, np.float32)
    features = rand(rng, 256, 1024)
    weight2, bias2 = 1 + 0.1 * rand(rng, 1024), 0.1 * rand(rng, 1024)
    logits = rand(rng, 256, 1000)
    target = rng.integers(0, 1000, 256)
    tf = torch.nn.functional if torch is not None else None
    torch_stats = (torch.zeros(64), torch.ones(64)) if torch is not None else None
    torch_target = torch.tensor(target) if torch is not None else None
    workloads = [
        ("batch_norm train N=32 C=64 32x32", [x, weight, bias],
         lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training=True),
         lambda x, w, b: tf.batch_norm(x, *torch_stats, w, b, training=True)),
        ("batch_norm train (N, C) N=256 C=1024", [features, weight2, bias2],
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda x, w, b: tf.batch_norm(x, None, None, w, b, training=True)),
        ("cross_entropy N=256 K=1000", [logits],
         lambda z: F.cross_entropy(z, target),
         lambda z: tf.cross_entropy(z, torch_target)),
        ("cross_entropy smoothing 0.1 N=256 K=1000", [logits],
         lambda z: F.cross_entropy(z, target, label_smoothing=0.1),
         lambda z: tf.cross_entropy(z, torch_target, label_smoothing=0.1)),
    ]
    return [(name, None, minicnn_step(mini, *data), torch_step(ref, *data))
            for name, data, mini, ref in workloads]


FAMILIES = {"conv": conv_workloads, "pool": pool_workloads, "norm": norm_loss_workloads}


# ----------------------------------------------------------------------------- main


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int_in_range(1), default=20,
                        help="timed calls per workload and framework, the median is printed "
                        "(default 20)")
    parser.add_argument("--only", choices=sorted(FAMILIES), help="one family of workloads")
    args = parser.parse_args(argv)

    print(f"BLAS: {blas_description()}")
    peak = gemm_peak_gflops()
    print(f"float32 GEMM peak (2048^3 numpy.matmul): {peak:.0f} GFLOP/s")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        print("PyTorch not installed: no ratios")
    rng = np.random.default_rng(0)
    print(f"\n{'workload':<44} {'minicnn ms':>10} {'torch ms':>9} {'ratio':>6} "
          f"{'GFLOP/s':>8} {'of peak':>7}")
    for family, make in FAMILIES.items():
        if args.only and family != args.only:
            continue
        for name, gflop, mini, ref in make(rng):
            fns = [mini] + ([ref] if ref is not None else [])
            times = time_alternately(fns, args.repeats)
            t_mini = times[0]
            t_ref = f"{times[1] * 1e3:9.2f}" if ref is not None else f"{'-':>9}"
            ratio = f"{t_mini / times[1]:6.2f}" if ref is not None else f"{'-':>6}"
            rate = f"{gflop / t_mini:8.1f}" if gflop else f"{'-':>8}"
            frac = f"{gflop / t_mini / peak:7.0%}" if gflop else f"{'-':>7}"
            print(f"{name:<44} {t_mini * 1e3:10.2f} {t_ref} {ratio} {rate} {frac}")


if __name__ == "__main__":
    run(main)
