"""What ``minicnn.train.fit(..., distributed=True)`` asks of this package.

``prepare_fit`` joins the job, wraps the model and shards the training loader; the trainer
then calls the wrapper's ``sync_gradients()`` after each backward, ``set_epoch`` on the
loader before each epoch, ``reduce_metrics`` on its sums, and lets only
``is_main_process()`` print and write files.
"""

from . import comm
from .ddp import DistributedDataParallel
from .sampler import ShardedLoader, shard_loader

__all__ = ["prepare_fit"]


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
