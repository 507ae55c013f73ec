"""``DistributedSampler`` (each rank a disjoint shard of the data) and ``ShardedLoader``.

PyTorch's semantics. Every rank draws the *same* permutation of the N indices (seeded by
``seed + epoch``, so all ranks agree without talking and each epoch has a new order), pads
it by repeating its first indices up to a multiple of K (or, with ``drop_last``, cuts it
down to one), and takes every K-th index starting at its rank::

    indices = permutation(N)                      (or 0..N-1 without shuffle)
    indices = indices + indices[:pad]             total = K * ceil(N / K)
    shard_k = indices[k : total : K]              ceil(N / K) indices per rank

Every rank gets the same number of samples, so the ranks make the same number of steps and
stay in step (a rank with one batch more would wait for ever in its extra all-reduce).
Interleaving makes batch i of rank k part of global batch i: the union over the ranks of
their i-th batches of b samples is ``indices[i*K*b : (i+1)*K*b]``, the batch of K*b that one
process would take from the same permutation.

Call ``set_epoch(epoch)`` before each epoch; without it every epoch repeats the same order.
"""

import math

import numpy as np

from .._checks import check_positive_int, is_int
from ..data.loader import DataLoader
from ..rng import get_rng
from . import comm

__all__ = ["DistributedSampler", "ShardedLoader", "shard_loader"]


class DistributedSampler:
    """The indices of this rank's shard of ``dataset`` for the current epoch.

    Parameters
    ----------
    dataset : sized
        Anything with ``len``.
    num_replicas : int, optional
        K, the number of ranks (default ``minicnn.distributed.world_size()``).
    rank : int, optional
        This rank (default ``minicnn.distributed.rank()``).
    shuffle : bool
        A new permutation every epoch, the same on every rank.
    seed : int
        Must be the same on every rank.
    drop_last : bool
        Cut the data to a multiple of K instead of padding it with repeated samples.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None:
            num_replicas = comm.world_size()
        if rank is None:
            rank = comm.rank()
        num_replicas = check_positive_int(num_replicas, "DistributedSampler: num_replicas")
        if not is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in 0..{num_replicas - 1}, got "
                             f"{rank!r}")
        if not is_int(seed):
            raise TypeError(f"DistributedSampler: seed must be an int, got {seed!r}")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        self.num_samples = n // num_replicas if drop_last else math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Use the permutation of ``epoch`` from the next iteration on (same on every rank)."""
        if not is_int(epoch) or epoch < 0:
            raise ValueError(f"set_epoch: epoch must be an int >= 0, got {epoch!r}")
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch: int64 array of shape (num_samples,)."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:  # pad by repeating the start (as often as needed)
            order = np.resize(order, self.total_size)
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples


class ShardedLoader:
    """Batches of this rank's shard: ``DataLoader(dataset, batch_size / K,
    sampler=DistributedSampler(dataset))``, PyTorch's recipe, with the global batch size.

    Parameters
    ----------
    dataset : Dataset
    batch_size : int
        The *global* batch B, over all ranks; each rank yields batches of B / K.
    shuffle, drop_last, seed : as ``DistributedSampler`` (``drop_last`` also drops a last
        incomplete batch, as ``DataLoader``'s).
    num_replicas, rank : int, optional
        Default: the running job's.
    prefetch, collate_fn : as ``DataLoader``.

    ``set_epoch(epoch)`` sets the epoch of the sampler and of the augmentation generator
    (``numpy.random.default_rng((seed, epoch, rank))``), so a pass depends only on them.
    """

    generator = None    # nothing for a checkpoint to save: a pass depends on its epoch alone

    def __init__(self, dataset, batch_size, shuffle=True, drop_last=False, seed=0,
                 num_replicas=None, rank=None, prefetch=2, collate_fn=None):
        self.sampler = DistributedSampler(dataset, num_replicas, rank, shuffle, seed, drop_last)
        batch_size = check_positive_int(batch_size, "batch_size")
        if batch_size % self.sampler.num_replicas:
            raise ValueError(f"batch_size {batch_size} is the global batch and must be "
                             f"divisible by the {self.sampler.num_replicas} ranks (each takes "
                             f"batch_size / ranks samples a step); use a multiple of "
                             f"{self.sampler.num_replicas}")
        self.dataset, self.batch_size = dataset, batch_size
        self.local_batch_size = batch_size // self.sampler.num_replicas
        self.drop_last, self.prefetch, self.collate_fn = bool(drop_last), prefetch, collate_fn

    def set_epoch(self, epoch):
        self.sampler.set_epoch(epoch)

    def __len__(self):
        count = self.sampler.num_samples
        return count // self.local_batch_size if self.drop_last else \
            math.ceil(count / self.local_batch_size)

    def __iter__(self):
        sampler = self.sampler
        loader = DataLoader(self.dataset, self.local_batch_size, sampler=sampler,
                            drop_last=self.drop_last, prefetch=self.prefetch,
                            collate_fn=self.collate_fn,
                            generator=np.random.default_rng((sampler.seed, sampler.epoch,
                                                             sampler.rank)))
        return iter(loader)


def shard_loader(loader, seed=None, num_replicas=None, rank=None):
    """The ``ShardedLoader`` of a ``DataLoader``: the same dataset, global batch size,
    shuffling, ``drop_last``, prefetching and collation, with this rank's shard.

    ``seed`` defaults to rank 0's draw from minicnn's generator (``minicnn.manual_seed``),
    broadcast so that every rank shuffles alike.
    """
    if not isinstance(loader, DataLoader):
        raise TypeError(f"shard_loader: expected a minicnn.data.DataLoader, got "
                        f"{type(loader).__name__}")
    if loader.sampler is not None or loader.batch_sampler is not None:
        raise ValueError("shard_loader: the loader has its own sampler, which cannot be split "
                         "over the ranks; give it batch_size and shuffle instead, or build a "
                         "DataLoader with sampler=DistributedSampler(dataset)")
    if seed is None:
        seed = comm.broadcast_object(int(get_rng().integers(2**31)) if comm.rank() == 0
                                     else None)
    return ShardedLoader(loader.dataset, loader.batch_size, shuffle=loader.shuffle,
                         drop_last=loader.drop_last, seed=seed, num_replicas=num_replicas,
                         rank=rank, prefetch=loader.prefetch, collate_fn=loader.collate_fn)
