"""Data-parallel training on MPI: K processes ("ranks"), one model each, one shard of every batch.

How distributed SGD works, in four pieces (each a module here, read in this order):

``comm``            start MPI (``init``), ``rank()``/``world_size()``, and the collectives on
                    NumPy arrays (``all_reduce``, ``broadcast``, ``barrier``), each bounded by
                    a timeout, and an exception hook that stops every rank when one fails.
``sampler``         ``DistributedSampler``: every rank draws the same permutation and takes
                    every K-th index, so the shards are disjoint and the same size.
``ddp``             ``DistributedDataParallel``: rank 0's weights broadcast at the start, then
                    after each backward the gradients averaged with an all-reduce (in
                    buckets), so every rank takes the same step: the step of the global batch.
``sync_batchnorm``  ``SyncBatchNorm``: batch norm whose statistics are the global batch's.
``ring``            the ring all-reduce, simulated, and its cost on a network.
``launch``          the ``mpiexec`` command line that starts K ranks from Python.

A script (run with ``mpiexec -n K python script.py``; as root, ``mpiexec --allow-run-as-root
--oversubscribe -n K ...``)::

    import minicnn, minicnn.distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(dist.convert_sync_batchnorm(build_model()))
    loader = dist.ShardedLoader(train_set, batch_size=128)   # global batch: 128 / K per rank
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        for x, y in loader:
            loss = F.cross_entropy(model(minicnn.Tensor(x)), y)
            optimizer.zero_grad(); loss.backward()   # averages over the ranks (see ddp)
            optimizer.step()

or simply ``minicnn.train.fit(..., distributed=True)``. mpi4py is needed only once ``init``
runs (``pip install 'minicnn[distributed]'``); importing this package does not need it.
"""

from .comm import (DEFAULT_TIMEOUT, DistributedError, all_gather, all_reduce, all_reduce_start,
                   barrier, broadcast, broadcast_object, init, is_initialized, is_main_process,
                   launched_by_mpi, rank, reduce_metrics, world_size)
from .ddp import DistributedDataParallel, gradient_array
from .launch import mpi_missing_reason, mpiexec_command
from .ring import ring_all_reduce, ring_all_reduce_seconds
from .sampler import DistributedSampler, ShardedLoader, shard_loader
from .sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm
from .training import finish_failed_command, prepare_fit, silence_other_ranks

__all__ = ["init", "is_initialized", "rank", "world_size", "is_main_process", "launched_by_mpi",
           "all_reduce", "all_reduce_start", "all_gather", "broadcast", "broadcast_object",
           "barrier", "reduce_metrics", "DistributedError", "DEFAULT_TIMEOUT",
           "DistributedDataParallel", "gradient_array", "DistributedSampler", "ShardedLoader",
           "shard_loader", "SyncBatchNorm", "convert_sync_batchnorm", "ring_all_reduce",
           "ring_all_reduce_seconds", "prepare_fit", "silence_other_ranks",
           "finish_failed_command", "mpi_missing_reason", "mpiexec_command"]
