# %% [markdown]
# # 10. Data-parallel training: many processes, one model
#
# One process trains on one batch at a time. To train faster, **data parallelism** runs K
# processes (*ranks*), each with a full copy of the model, each computing the gradient of
# a different shard of the batch; then the ranks average their gradients and all take the
# same step. Nothing about the model changes, only who computes which part of the
# gradient. This is how PyTorch's `DistributedDataParallel`, Horovod and minicnn's
# `minicnn.distributed` work, and MPI (the standard that clusters and lab machines run)
# is the engine: `mpiexec -n K python script.py` starts K copies of a script that talk
# through *collectives* such as `all_reduce` (every rank gets the sum of every rank's
# array).
#
# This notebook shows
#
# 1. why averaging the gradients of shards equals the gradient of the big batch,
# 2. the ring all-reduce, drawn step by step and timed,
# 3. `SyncBatchNorm` against batch norm with per-rank statistics,
# 4. two real ranks (started with `mpiexec`) training side by side, equal to one process.
#
# Parts 2-4 launch `mpiexec`; they need `pip install 'minicnn[distributed]'` (mpi4py and
# Open MPI's `mpiexec`). Without it they say so and skip.

# %%
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import distributed as dist
from minicnn import functional as F
from minicnn import nn, optim
from minicnn.data import BuiltinDigits

MPI_MISSING = dist.mpi_missing_reason()
print("MPI:", MPI_MISSING or "mpi4py and mpiexec are installed")

# %% [markdown]
# ## The data and the model
#
# 960 built-in digits, shrunk to 14 x 14 (each 2 x 2 block of pixels averaged) and
# standardised, and a small network with two batch-norm layers. Everything in this
# notebook is float64, so that "equal" can mean equal to 1e-10.

# %%
digits = BuiltinDigits(train=True, size=960)
images = digits.images.astype(np.float64) / 255                      # (960, 1, 28, 28)
images = images.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))       # -> (960, 1, 14, 14)
images = (images - images.mean()) / images.std()
# float32 values (in float64): what a DataLoader hands the ranks is then exactly these numbers
images = images.astype(np.float32).astype(np.float64)
labels = digits.labels


def small_cnn(seed=0):
    minicnn.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).double()


# %% [markdown]
# ## 1. The average of the shards' gradients is the big batch's gradient
#
# The loss of a batch of B samples is a mean, so its gradient is a mean of per-sample
# gradients:
#
# $$\frac{\partial L}{\partial w} = \frac{1}{B}\sum_{i<B}\frac{\partial \ell_i}{\partial w}
# = \frac{1}{K}\sum_{k<K}\underbrace{\frac{1}{b}\sum_{i\in\text{shard }k}
# \frac{\partial \ell_i}{\partial w}}_{g_k\text{: rank }k\text{'s gradient}}
# \qquad (B = K b)$$
#
# So if K ranks each compute $g_k$ on a shard of $b$ samples and average, they get exactly
# the gradient of the whole batch. We check it in one process: the gradient on 48 digits,
# against the mean of the gradients on 4 shards of 12. For the first check the model is in
# evaluation mode, so batch norm uses its fixed running statistics and every sample's loss
# depends on that sample alone.

# %%
def gradients(model, x, y):
    """(loss, [dloss/dp for every parameter p]) on the batch (x, y)."""
    model.zero_grad()
    loss = F.cross_entropy(model(minicnn.Tensor(x)), y)
    loss.backward()
    return loss.item(), [p.grad.data.copy() for p in model.parameters()]


def sharded_gradients(model, x, y, shards):
    """The mean loss and mean gradients of ``shards`` equal parts of the batch, the part
    of shard k being samples k, k + shards, ... (as DistributedSampler deals them)."""
    parts = [gradients(model, x[k::shards], y[k::shards]) for k in range(shards)]
    loss = np.mean([part_loss for part_loss, _ in parts])
    return loss, [np.mean(grads, axis=0) for grads in zip(*[g for _, g in parts])]


def largest_difference(a, b):
    return max(np.abs(p - q).max() for p, q in zip(a, b))


model = small_cnn()
x, y = images[:48], labels[:48]
model.eval()
frozen_statistics = largest_difference(gradients(model, x, y)[1],
                                       sharded_gradients(model, x, y, 4)[1])
model.train()
batch_statistics = largest_difference(gradients(model, x, y)[1],
                                      sharded_gradients(model, x, y, 4)[1])
print(f"eval mode (fixed statistics): largest difference {frozen_statistics:.1e}")
print(f"train mode (batch statistics): largest difference {batch_statistics:.1e}")
assert frozen_statistics < 1e-12
assert batch_statistics > 1e-4

# %% [markdown]
# In training mode the two differ: batch norm normalises with the mean and variance *of the
# batch it is given*, so a shard of 12 is normalised with other statistics than the batch
# of 48. Every sample's loss then depends on the other samples of its shard, and the
# average of the shards' gradients is the gradient of a different computation (each shard
# normalised on its own). Part 3 fixes that with `SyncBatchNorm`.
#
# ## 2. The ring all-reduce
#
# Averaging needs every rank to end with the sum of K arrays. Sending everything to rank 0
# and back makes rank 0's link carry 2(K-1) arrays: it grows with K. The **ring
# all-reduce** cuts each array into K chunks; rank k sends only to rank k+1, one chunk at a
# time, in two phases of K-1 steps:
#
# * reduce-scatter: each rank passes on a chunk with its own contribution added, so after
#   K-1 steps each rank holds one chunk summed over all ranks;
# * all-gather: the summed chunks travel once more around the ring.
#
# `dist.ring_all_reduce` simulates it and logs every message. Below, each panel is one
# moment; cell (rank, chunk) shows how many ranks' contributions that rank's copy of the
# chunk holds (K = 4: full).

# %%
ranks = 4
results, transfers = dist.ring_all_reduce([np.ones(ranks) * (k + 1) for k in range(ranks)])
assert all(np.allclose(r, np.sum(np.arange(1, ranks + 1))) for r in results)

held = np.zeros((ranks, ranks, ranks))  # held[rank, chunk, source]: 1 if source's data is in
for k in range(ranks):
    held[k, :, k] = 1                              # at first each rank holds its own data
moments = [("start", held.sum(axis=2).copy())]
for phase in ("reduce-scatter", "all-gather"):
    for step in range(ranks - 1):
        messages = [t for t in transfers if t[0] == phase and t[1] == step]
        sent = [(sender, receiver, chunk, held[sender, chunk].copy())
                for _, _, sender, receiver, chunk in messages]
        for sender, receiver, chunk, payload in sent:
            held[receiver, chunk] = (np.maximum(held[receiver, chunk], payload)
                                     if phase == "reduce-scatter" else payload)
        moments.append((f"{phase}\nstep {step + 1}", held.sum(axis=2).copy()))
assert (moments[-1][1] == ranks).all()

fig, axes = plt.subplots(1, len(moments), figsize=(2 * len(moments), 2.4), layout="constrained")
for ax, (title, counts) in zip(axes, moments):
    ax.imshow(counts, vmin=0, vmax=ranks, cmap="Greens")
    for (r, c), value in np.ndenumerate(counts):
        ax.text(c, r, int(value), ha="center", va="center", fontsize=8)
    ax.set_title(title, fontsize=8)
    ax.set_xticks(range(ranks), [f"c{c}" for c in range(ranks)], fontsize=7)
    ax.set_yticks(range(ranks), [f"rank {r}" for r in range(ranks)], fontsize=7)
plt.show()
print("messages per rank:", [sum(t[2] == k for t in transfers) for k in range(ranks)],
      "= 2(K-1), each of 1/K of the array")

# %% [markdown]
# Each rank sends 2(K-1) messages of 1/K of the array, so with B bytes, a link of bandwidth
# $\beta$ bytes/s and a latency $\alpha$ per message:
#
# $$T_\text{ring}(K) = 2\frac{K-1}{K}\frac{B}{\beta} + 2(K-1)\,\alpha
# \qquad\text{against}\qquad T_\text{via rank 0}(K) = 2(K-1)\frac{B}{\beta}$$
#
# The ring's bandwidth term tends to $2B/\beta$: it barely grows with K. For ResNet-20's
# 1.08 MB of float32 gradients on 10 GbE (1.25 GB/s, 50 us a message):

# %%
resnet20_bytes = 4 * 269_722
machines = np.array([2, 4, 8, 16, 32, 64])
ring = [dist.ring_all_reduce_seconds(resnet20_bytes, k, 1.25e9, 50e-6) for k in machines]
via_root = [2 * (k - 1) * resnet20_bytes / 1.25e9 for k in machines]
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(machines, 1e3 * np.array(ring), "o-", label="ring all-reduce")
ax.plot(machines, 1e3 * np.array(via_root), "s--", label="everything through rank 0")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("ranks K")
ax.set_ylabel("ms per step")
ax.set_title("Averaging ResNet-20's gradients on 10 GbE")
ax.legend()
plt.show()
assert ring[-1] < via_root[-1] / 10

# %% [markdown]
# ### Timed for real
#
# Now real MPI: a script that times `dist.all_reduce` on 2 ranks of this machine, for
# arrays from 1 KB to 16 MB, started with `mpiexec -n 2`. (On one machine the "network" is
# shared memory, much faster than 10 GbE.) `dist.mpiexec_command` adds the flags Open MPI
# needs here: `--oversubscribe` (more ranks than cores) and, as root,
# `--allow-run-as-root`.

# %%
workdir = Path(tempfile.mkdtemp(prefix="minicnn-distributed-"))
TIMING_SCRIPT = '''
import json, time, numpy as np
from minicnn import distributed as dist

dist.init()
timings = {}
for nbytes in [2**10, 2**14, 2**18, 2**22, 2**24]:
    array = np.ones(nbytes // 8)
    dist.all_reduce(array)                      # warm up this size
    dist.barrier()
    started = time.perf_counter()
    for _ in range(5):
        dist.all_reduce(array)
    timings[nbytes] = (time.perf_counter() - started) / 5
    assert array[0] == 2 ** (1 + 5)             # six sums of two ranks' arrays
if dist.rank() == 0:
    print(json.dumps(timings))
'''


def run_on_ranks(script_text, name, ranks=2, arguments=()):
    """Write ``script_text`` to a file and run it on ``ranks`` ranks; return its output."""
    script = workdir / name
    script.write_text(script_text)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    command = dist.mpiexec_command(ranks, [sys.executable, str(script), *arguments])
    result = subprocess.run(command,
                            capture_output=True, text=True, env=env, cwd=workdir,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


if MPI_MISSING:
    print("skipped:", MPI_MISSING)
else:
    import json
    output = run_on_ranks(TIMING_SCRIPT, "time_all_reduce.py")
    timings = {int(k): v for k, v in json.loads(output.strip().splitlines()[0]).items()}
    for nbytes, seconds in timings.items():
        print(f"{nbytes / 2**10:>8.0f} KiB: {1e6 * seconds:>9.1f} us  "
              f"({nbytes / seconds / 1e9:.2f} GB/s of array)")
    sizes = np.array(list(timings))
    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    ax.loglog(sizes, 1e6 * np.array(list(timings.values())), "o-", label="measured, 2 ranks")
    ax.loglog(sizes, [1e6 * dist.ring_all_reduce_seconds(n, 2, 1.25e9, 50e-6) for n in sizes],
              "--", label="model, 10 GbE")
    ax.set_xlabel("bytes per rank")
    ax.set_ylabel("us per all-reduce")
    ax.legend()
    plt.show()

# %% [markdown]
# Small arrays cost a fixed latency whatever their size; large ones cost their bytes. That
# is why `DistributedDataParallel` packs the gradients into a few large *buckets* (25 MiB,
# PyTorch's size) instead of one all-reduce per parameter.
#
# ## 3. SyncBatchNorm against per-rank statistics
#
# Under plain data parallelism each rank's batch norm uses its own shard's statistics:
# the "big batch" is then not one batch, it is K small ones (and with small shards their
# statistics are noisy). `SyncBatchNorm` makes the statistics global: forward, every rank
# sends its count, mean and sum of squared deviations (one all-gather) and combines them,
#
# $$\mu = \frac{\sum_k m_k\mu_k}{M},\qquad
# \sigma^2 = \frac{\sum_k \left(M_{2,k} + m_k(\mu_k-\mu)^2\right)}{M};$$
#
# backward, the two per-channel sums of the batch-norm gradient, $\sum g$ and
# $\sum g\,\hat x$, are summed over the ranks (one all-reduce), because every sample
# influences every rank's output through $\mu$ and $\sigma^2$.
# `dist.convert_sync_batchnorm(model)` swaps every `BatchNorm2d` for one.
#
# Below, the same 20 SGD steps (global batch 48) run three ways in one process: on the
# whole batch, and with 2 shards whose gradients are averaged (per-rank statistics). Then
# 2 real ranks run them with plain batch norm and with `SyncBatchNorm`.

# %%
STEPS, GLOBAL_BATCH, SEED = 20, 48, 3


def step_batches():
    """The global batches of the 20 steps: the order DistributedSampler(seed=SEED) draws."""
    order = np.random.default_rng(SEED).permutation(len(labels))
    for step in range(STEPS):
        batch = order[step * GLOBAL_BATCH:(step + 1) * GLOBAL_BATCH]
        yield images[batch], labels[batch]


def train_one_process(shards=1):
    """20 SGD steps; each gradient is the mean over ``shards`` separate shards' passes."""
    model = small_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in step_batches():
        loss, grads = sharded_gradients(model, x, y, shards)
        for param, grad in zip(model.parameters(), grads):
            param.grad = grad
        optimizer.step()
        losses.append(loss)
    return model.state_dict(), np.array(losses)


def learnt(state):
    """The learnt parameters (running statistics left out: with plain batch norm, each rank
    keeps its own, and DistributedDataParallel copies rank 0's to every rank)."""
    return [v for k, v in state.items() if "running" not in k and "num_batches" not in k]


whole_batch, whole_losses = train_one_process()
per_shard, _ = train_one_process(shards=2)
print("per-rank statistics against the whole batch, largest parameter difference after "
      f"{STEPS} steps: {largest_difference(learnt(whole_batch), learnt(per_shard)):.2e}")

# %% [markdown]
# ## 4. Two ranks, side by side
#
# The script each rank runs: the same model built on every rank (with a *different* seed
# per rank, to show that `DistributedDataParallel` starts everyone from rank 0's weights),
# a `ShardedLoader` that gives each rank its half of every global batch of 48, and the
# ordinary training loop: as with PyTorch's DDP, `loss.backward()` itself averages the
# gradients over the ranks (a hook on the model's output queues the all-reduce to run once
# backward has accumulated every gradient). It writes each rank's losses and the final
# weights.

# %%
RANK_SCRIPT = '''
import sys, numpy as np
import minicnn
from minicnn import distributed as dist, functional as F, nn, optim
from minicnn.data import ArrayDataset

sync_batchnorm = sys.argv[1] == "sync"
data = np.load("data.npz")
dist.init()

minicnn.manual_seed(dist.rank())            # a different start on every rank...
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)).double()
if sync_batchnorm:
    model = dist.convert_sync_batchnorm(model)
model = dist.DistributedDataParallel(model)   # ...replaced by rank 0's weights
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loader = dist.ShardedLoader(ArrayDataset(data["images"], data["labels"]), batch_size=48,
                            shuffle=True, seed=int(data["seed"]), prefetch=0)
loader.set_epoch(0)
losses = []
for step, (x, y) in zip(range(int(data["steps"])), loader):
    loss = F.cross_entropy(model(minicnn.Tensor(x.astype(np.float64))), y)
    optimizer.zero_grad()
    loss.backward()                          # ...and the average over the ranks
    optimizer.step()
    losses.append(loss.item())
np.savez(f"{sys.argv[1]}-rank{dist.rank()}.npz", losses=losses,
         **{f"param:{k}": v for k, v in model.module.state_dict().items()})
'''

# %%
def trained_on_ranks(mode, ranks=2):
    """Run RANK_SCRIPT on ``ranks`` ranks; each rank's (losses, parameters)."""
    run_on_ranks(RANK_SCRIPT, "train_on_ranks.py", ranks, arguments=[mode])
    outputs = []
    for k in range(ranks):
        saved = np.load(workdir / f"{mode}-rank{k}.npz")
        outputs.append((saved["losses"], {key[6:]: saved[key] for key in saved.files
                                          if key.startswith("param:")}))
    return outputs


if MPI_MISSING:
    print("skipped:", MPI_MISSING)
else:
    np.savez(workdir / "data.npz", images=images, labels=labels, seed=SEED, steps=STEPS)
    started = time.perf_counter()
    sync_runs = trained_on_ranks("sync")
    plain_runs = trained_on_ranks("plain")
    print(f"two trainings on 2 ranks: {time.perf_counter() - started:.1f} s")
    for name, runs, reference in [("SyncBatchNorm", sync_runs, whole_batch),
                                  ("plain BatchNorm", plain_runs, per_shard)]:
        for k, (_, state) in enumerate(runs):
            difference = largest_difference(learnt(state), learnt(reference))
            print(f"{name}, rank {k}: largest difference from one process "
                  f"({'whole batch' if reference is whole_batch else 'per-shard statistics'}): "
                  f"{difference:.1e}")
            assert difference < 1e-10
    assert largest_difference(learnt(plain_runs[0][1]), learnt(whole_batch)) > 1e-4

# %% [markdown]
# With `SyncBatchNorm` the two ranks end with the weights of one process on the whole
# batch, to rounding; with plain batch norm they equal the one-process run that normalises
# each shard on its own, and differ from the whole batch. Either way the two ranks hold the
# same weights: they took the same averaged steps.
#
# Each rank's loss is the loss of *its* shard, so the two differ step by step; their mean
# is the loss of the global batch, which one process computes:

# %%
if not MPI_MISSING:
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for k, (losses, _) in enumerate(sync_runs):
        ax.plot(np.arange(1, STEPS + 1), losses, "o-", ms=3, label=f"rank {k} (its 24 samples)")
    mean_loss = np.mean([losses for losses, _ in sync_runs], axis=0)
    ax.plot(np.arange(1, STEPS + 1), whole_losses, "k--", label="one process (all 48)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_title("Two ranks with SyncBatchNorm, side by side")
    ax.legend()
    plt.show()
    print(f"largest |mean of the ranks' losses - one process's loss|: "
          f"{np.abs(mean_loss - whole_losses).max():.1e}")
    assert np.abs(mean_loss - whole_losses).max() < 1e-10

# %% [markdown]
# ## What to take away
#
# * Data parallelism = same model everywhere, a shard of the batch each, gradients averaged
#   with one all-reduce per step (in a few large buckets): exactly the big batch's step.
# * The ring all-reduce moves about 2B bytes per rank whatever K is; latency and the
#   compute left per rank decide when more machines stop paying
#   (`python benchmarks/bench_distributed.py` models 8-64 machines).
# * Batch norm is the one layer that mixes samples: per-rank statistics change the
#   computation, `SyncBatchNorm` restores it at the price of two small collectives per layer.
# * To train this way: `mpiexec -n K python -m minicnn train MODEL ...` (the batch size is
#   the global batch), or `fit(..., distributed=True)` in a script started by `mpiexec`.
