"""What ``minicnn.train.fit(..., distributed=True)`` and the ``train`` command ask of this
package.

``prepare_fit`` joins the job, wraps the model (whose backward then averages the gradients
over the ranks) and shards the training loader; the trainer calls ``set_epoch`` on the
loader before each epoch, ``reduce_metrics`` on its sums, and lets only
``is_main_process()`` print and write files. The command line also silences the other
ranks (``silence_other_ranks``) and ends a failed run with ``finish_failed_command``.
"""

import io
import os
import sys

from . import comm
from .ddp import DistributedDataParallel
from .sampler import ShardedLoader, shard_loader

__all__ = ["prepare_fit", "silence_other_ranks", "finish_failed_command"]

FAILED_EXIT_WAIT = 5.0  # seconds a failing rank waits for rank 0 to report the error


def prepare_fit(model, train_loader):
    """``(ddp_model, sharded_loader)`` for training ``model`` on ``train_loader`` over the ranks.

    Parameters
    ----------
    model : Module or DistributedDataParallel
        Wrapped unless it already is (rank 0's weights are broadcast to every rank).
    train_loader : DataLoader or ShardedLoader
        A ``DataLoader``'s ``batch_size`` is the global batch: each rank takes
        ``batch_size / K`` samples of every step (``ValueError`` unless divisible).

    Raises
    ------
    DistributedError
        mpi4py is missing or the process was not started by ``mpiexec``.
    """
    comm.init()
    if not isinstance(train_loader, ShardedLoader):
        train_loader = shard_loader(train_loader)
    if not isinstance(model, DistributedDataParallel):
        model = DistributedDataParallel(model)
    return model, train_loader


def silence_other_ranks():
    """Ranks other than 0 print nothing (one log, not K interleaved copies): their standard
    output is dropped and their standard error kept aside for ``finish_failed_command``.
    An uncaught error still reaches the terminal at once (the exception hook writes to the
    process's own stderr)."""
    if not comm.is_main_process():
        sys.stdout = open(os.devnull, "w")
        sys.stderr = io.StringIO()


def finish_failed_command():
    """Before a rank exits with an error: wait (at most ``FAILED_EXIT_WAIT`` s) for every
    rank to fail too, as they do on a bad setting, which rank 0 alone has reported;
    ``mpiexec`` stops the whole job when one rank exits with an error, and rank 0 must have
    printed why before that. A rank that fails alone prints its kept-aside error itself."""
    try:
        comm.barrier(timeout=FAILED_EXIT_WAIT)
    except comm.DistributedError:
        if isinstance(sys.stderr, io.StringIO):
            sys.__stderr__.write(f"rank {comm.rank()}: {sys.stderr.getvalue()}")
            sys.__stderr__.flush()
