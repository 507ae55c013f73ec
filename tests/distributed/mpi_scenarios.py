"""What the ranks run in the MPI tests, and the one-process references they are compared with.

Run by ``tests/distributed/test_mpi.py`` as ``mpiexec -n K python -m
tests.distributed.mpi_scenarios SCENARIO OUT_DIR`` from the repository root; each rank
writes ``OUT_DIR/rank<k>.npz``. The references (``train_reference``) run in the test's
own process.
"""

import sys
from pathlib import Path

import numpy as np

import minicnn
from minicnn import functional as F
from minicnn import nn, optim

# The equivalence runs: 120 samples, global batch 12, 2 epochs = 20 SGD steps, in float64.
SAMPLES, GLOBAL_BATCH, EPOCHS, SEED = 120, 12, 2, 7
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 1e-4


def dataset():
    """(images (120, 3, 8, 8) float32, labels (120,) int64), the same on every rank."""
    rng = np.random.default_rng(2024)
    images = rng.standard_normal((SAMPLES, 3, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 5, SAMPLES)
    images[np.arange(SAMPLES), labels % 3] += 1.0  # something to learn
    return images, labels


def build_model(norm, seed):
    """A small float64 CNN; ``norm`` is 'none' or 'batchnorm' (two BatchNorm2d layers)."""
    minicnn.manual_seed(seed)

    def bn(channels):
        return nn.BatchNorm2d(channels) if norm == "batchnorm" else nn.Sequential()

    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), bn(4), nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), bn(6), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5)).double()


def make_optimizer(model):
    return optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)


def global_batches(images, labels):
    """The (x, y) of every step of one process on the global batch, epoch by epoch, in the
    order ``DistributedSampler(shuffle=True, seed=SEED)`` permutes the data."""
    for epoch in range(EPOCHS):
        order = np.random.default_rng(SEED + epoch).permutation(SAMPLES)
        for start in range(0, SAMPLES, GLOBAL_BATCH):
            batch = order[start:start + GLOBAL_BATCH]
            yield images[batch], labels[batch]


def train_reference(norm, shards=1):
    """Parameters and per-step losses of one process. ``shards=K`` computes each step's
    gradient as the mean of K separate passes over the shards the ranks would take (batch
    statistics per shard: what plain BatchNorm does under DistributedDataParallel)."""
    images, labels = dataset()
    model = build_model(norm, seed=0)
    optimizer = make_optimizer(model)
    losses = []
    for x, y in global_batches(images, labels):
        optimizer.zero_grad()
        step_loss, grads = 0.0, None
        for k in range(shards):  # rank k's batch holds positions k, k + K, ... of the step
            loss = F.cross_entropy(model(minicnn.Tensor(x[k::shards].astype(np.float64))),
                                   y[k::shards])
            model.zero_grad()
            loss.backward()
            step_loss += loss.item() / shards
            shard_grads = [np.asarray(p.grad) / shards for p in model.parameters()]
            grads = shard_grads if grads is None else [a + b for a, b in zip(grads, shard_grads)]
        for param, grad in zip(model.parameters(), grads):
            param.grad = grad
        optimizer.step()
        losses.append(step_loss)
    return model.state_dict(), np.array(losses)


def run_training(norm, sync_bn):
    """This rank's part of the distributed run: returns (state dict, local losses)."""
    from minicnn import distributed as dist
    from minicnn.data import ArrayDataset

    dist.init()
    images, labels = dataset()
    # a different initialisation on each rank: the wrapper must broadcast rank 0's
    model = build_model(norm, seed=dist.rank())
    if sync_bn:
        model = dist.convert_sync_batchnorm(model)
    model = dist.DistributedDataParallel(model)
    optimizer = make_optimizer(model)
    loader = dist.ShardedLoader(ArrayDataset(images, labels), GLOBAL_BATCH, shuffle=True,
                                seed=SEED, prefetch=0)
    losses = []
    for epoch in range(EPOCHS):
        loader.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(model(minicnn.Tensor(x.astype(np.float64))), y)
            optimizer.zero_grad()
            loss.backward()        # averages over the ranks by itself, as PyTorch's DDP
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    with minicnn.no_grad():  # a forward copies rank 0's buffers (running statistics) to all
        model(minicnn.Tensor(images[:4].astype(np.float64)))
    return model.module.state_dict(), np.array(losses)


def scenario_train(out, norm, sync_bn):
    from minicnn import distributed as dist

    state, losses = run_training(norm, sync_bn)
    np.savez(out / f"rank{dist.rank()}.npz", losses=losses,
             **{f"param:{k}": v for k, v in state.items()})


def scenario_fit(out, epochs, resume):
    """``fit(..., distributed=True)`` with SyncBatchNorm, checkpointing into ``out/run``."""
    from minicnn import distributed as dist
    from minicnn.data import ArrayDataset, DataLoader
    from minicnn.train import fit

    images, labels = dataset()
    model = dist.convert_sync_batchnorm(build_model("batchnorm", seed=0))
    loader = DataLoader(ArrayDataset(images, labels), batch_size=GLOBAL_BATCH, shuffle=True,
                        prefetch=0)
    val_loader = DataLoader(ArrayDataset(images[:36], labels[:36]), batch_size=12)
    history = fit(model, loader, val_loader, make_optimizer(model), int(epochs),
                  checkpoint_dir=out / "run", resume=resume == "resume", progress=False,
                  distributed=True)
    columns = ["train_loss", "train_top1", "val_loss", "val_top1"]
    np.savez(out / f"rank{dist.rank()}.npz", ranks=dist.world_size(),
             history=np.array([[row[c] for c in columns] for row in history.rows]),
             **{f"param:{k}": v for k, v in model.state_dict().items()})


def scenario_collectives(out):
    from minicnn import distributed as dist

    dist.init()
    r, k = dist.rank(), dist.world_size()
    total = dist.all_reduce(np.arange(4, dtype=np.float64) + r)
    mean = dist.all_reduce(np.full(3, float(r)), op="mean")
    largest = dist.all_reduce(np.array([r, -r], dtype=np.int64), op="max")
    weights = np.full(5, -1.0) if r else np.arange(5.0)
    dist.broadcast(weights, src=0)
    message = dist.broadcast_object({"from": dist.rank(), "run": "runs/x"} if r == k - 1
                                    else None, src=k - 1)
    gathered = dist.all_gather(np.array([r, 10 * r]))
    dist.barrier()
    metrics = dist.reduce_metrics({"loss_sum": 0.5 * (r + 1), "images": 10})
    sampler = dist.DistributedSampler(range(11), shuffle=True, seed=3)
    shards = []
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        shards.append(sampler.indices())
    np.savez(out / f"rank{r}.npz", total=total, mean=mean, largest=largest, weights=weights,
             message_from=message["from"], gathered=gathered,
             metrics=np.array([metrics["loss_sum"], metrics["images"]]), shards=np.array(shards),
             main=dist.is_main_process())


def scenario_fail(out):
    """Rank 1 raises while rank 0 waits in an all-reduce: both must stop, with rank 1's error."""
    from minicnn import distributed as dist

    dist.init()
    dist.barrier()
    if dist.rank() == 1:
        raise ValueError("rank 1 failed on purpose")
    dist.all_reduce(np.ones(3))


def scenario_hang(out):
    """Rank 1 skips the collective (and stays alive): rank 0 must give up after the timeout."""
    import time

    from minicnn import distributed as dist

    dist.init(timeout=2)
    dist.barrier()
    if dist.rank() == 1:
        time.sleep(120)
    dist.all_reduce(np.ones(3))


def scenario_indivisible(out):
    from minicnn import distributed as dist

    dist.init()
    dist.ShardedLoader(range(10), batch_size=5)


SCENARIOS = {
    "collectives": scenario_collectives,
    "train-plain": lambda out: scenario_train(out, "none", sync_bn=False),
    "train-syncbn": lambda out: scenario_train(out, "batchnorm", sync_bn=True),
    "train-bn": lambda out: scenario_train(out, "batchnorm", sync_bn=False),
    "fail": scenario_fail,
    "hang": scenario_hang,
    "indivisible": scenario_indivisible,
    "fit": scenario_fit,
}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](Path(sys.argv[2]), *sys.argv[3:])
