"""``DistributedDataParallel``: the same model on every rank, gradients averaged.

Why averaging gradients over shards equals training on the whole batch. One process on a
global batch of B samples minimises the mean loss, whose gradient is a mean over samples::

    L = 1/B sum_{i<B} l_i          dL/dw = 1/B sum_{i<B} dl_i/dw

Split the batch into K shards of b = B/K samples, one per rank. Rank k computes the mean
gradient of its shard, g_k = 1/b sum_{i in shard k} dl_i/dw, and

    1/K sum_k g_k = 1/K sum_k 1/b sum_{i in shard k} dl_i/dw = 1/B sum_{i<B} dl_i/dw = dL/dw

so after one all-reduce (sum) and a division by K every rank holds the gradient of the
whole batch; starting from the same weights (rank 0's, broadcast at the start) and
applying the same optimizer step, the ranks stay identical, step after step, and equal the
one-process run up to rounding. (Layers that mix samples break this: batch norm's
statistics are per rank unless the layer is a ``SyncBatchNorm``.)

Buckets. One all-reduce per parameter would pay MPI's per-message latency ~60 times a step
for ResNet-20; one all-reduce of every gradient copied into a single buffer needs a second
copy of all of them. As PyTorch does, the gradients are packed into contiguous buckets of
about ``bucket_cap_mb`` (in reverse registration order, roughly the order backward produces
them), every bucket's all-reduce is started non-blocking, and each is unpacked when done.

When. As in PyTorch, ``loss.backward()`` averages by itself: a training forward puts a
hook on the output, and when backward reaches it the hook queues ``sync_gradients`` to run
once backward has accumulated every gradient (``autograd.queue_callback``). PyTorch starts
each bucket's all-reduce while backward is still running, overlapping the two; here the
buckets start together after backward, which costs the overlap, not the result. Inside
``no_sync()`` nothing is averaged: the gradients of several backward passes add up, and the
next synchronised backward (or an explicit ``sync_gradients()``) averages the sums.
"""

from contextlib import contextmanager

import numpy as np

from ..autograd import Tensor, is_grad_enabled, queue_callback
from ..nn.module import Module
from . import comm

__all__ = ["DistributedDataParallel", "gradient_array", "set_gradient"]

BUCKET_CAP_MB = 25      # PyTorch's default bucket size


def gradient_array(param):
    """The NumPy array holding ``param``'s gradient, or None (the one place that knows how
    ``.grad`` is stored: a Tensor, as in PyTorch)."""
    return None if param.grad is None else param.grad.data


def set_gradient(param, array):
    """Give ``param`` the gradient ``array`` (shape and dtype of the parameter)."""
    param.grad = array


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the ranks of ``minicnn.distributed``.

    Parameters
    ----------
    module : Module
        The model, built the same way on every rank. Its parameters and buffers are
        overwritten with rank 0's when the wrapper is made.
    bucket_cap_mb : float
        Size of the contiguous gradient buckets, in MiB.
    broadcast_buffers : bool
        Copy rank 0's buffers (batch norm's running statistics) to every rank before each
        forward, as PyTorch does, so that every rank evaluates with rank 0's statistics
        (plain batch norm updates them from each rank's own shard in training).

    The wrapped model is ``ddp.module``; ``state_dict`` keys start with ``module.`` (PyTorch's
    convention); save ``ddp.module.state_dict()`` for a checkpoint any process can load.
    """

    def __init__(self, module, bucket_cap_mb=BUCKET_CAP_MB, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if not (isinstance(bucket_cap_mb, (int, float)) and bucket_cap_mb > 0):
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got "
                             f"{bucket_cap_mb!r}")
        comm.world_size()       # a clear error when init() was not called
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self._buckets = _plan_buckets([p for p in module.parameters() if p.requires_grad],
                                      int(bucket_cap_mb * 2**20))
        self._pending_sync = False   # a training forward whose gradients are not averaged yet
        self._sync_queued = False
        self._accumulating = False
        self._broadcast_state()

    def _broadcast_state(self):
        """Every rank starts from rank 0's parameters and buffers."""
        for param in self.module.parameters():
            param.data = comm.broadcast(np.ascontiguousarray(param.data), src=0)
        self._broadcast_buffers()

    def _broadcast_buffers(self):
        """Rank 0's buffers on every rank: one broadcast per dtype, as they are many and
        small (ResNet-20 has 57)."""
        by_dtype = {}
        for array in self.module.buffers():
            by_dtype.setdefault(array.dtype, []).append(array)
        for arrays in by_dtype.values():
            packed = comm.broadcast(np.concatenate([array.ravel() for array in arrays]), src=0)
            offsets = np.cumsum([0] + [array.size for array in arrays])
            for array, start, end in zip(arrays, offsets[:-1], offsets[1:]):
                array[...] = packed[start:end].reshape(array.shape)

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers:
            self._broadcast_buffers()
        output = self.module(*args, **kwargs)
        if self.training and is_grad_enabled():
            self._pending_sync = True
            self._sync_queued = False  # a backward that raised may have left it set
            if not self._accumulating:
                for tensor in _tensors_in(output):
                    tensor.register_hook(self._queue_sync)
        return output

    def _queue_sync(self, grad):
        """A hook on the output: average once this backward has accumulated every gradient
        (one queued averaging however many outputs the backward reaches)."""
        if not self._sync_queued:
            self._sync_queued = True
            queue_callback(self._sync_after_backward)

    def _sync_after_backward(self):
        self._sync_queued = False
        self.sync_gradients()

    @contextmanager
    def no_sync(self):
        """Forward and backward several batches without averaging (gradient accumulation);
        the ``sync_gradients()`` after the block averages the accumulated sums."""
        self._accumulating = True
        try:
            yield
        finally:
            self._accumulating = False

    def sync_gradients(self):
        """Average every trainable parameter's gradient over the ranks. Backward does it by
        itself; call it after a ``no_sync()`` block to average the accumulated gradients
        (without a training forward since the last averaging it does nothing).

        A parameter without a gradient on this rank counts as a zero gradient, so every rank
        makes the same collectives; afterwards it has the averaged gradient.
        """
        if not self._pending_sync:
            return
        size = comm.world_size()
        # every bucket's all-reduce starts before the first is waited for
        in_flight = [(bucket, comm.all_reduce_start(bucket.pack())) for bucket in self._buckets]
        for bucket, pending in in_flight:
            buffer = pending.wait("sync_gradients (gradient all-reduce)")
            buffer /= size
            bucket.unpack(buffer)
        self._pending_sync = False

    def extra_repr(self):
        sizes = ", ".join(f"{b.size * b.dtype.itemsize / 2**20:.2f}" for b in self._buckets)
        return f"buckets (MiB): [{sizes}]"


def _tensors_in(output):
    """The tensors that require grad in a forward's output: a Tensor, or tuples, lists and
    dicts of them (named tuples such as GoogLeNet's outputs included)."""
    if isinstance(output, Tensor):
        return [output] if output.requires_grad else []
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _tensors_in(item)]
    return []


class _Bucket:
    """Parameters of one dtype whose gradients travel in one contiguous buffer."""

    def __init__(self, params):
        self.params = params
        self.offsets = np.cumsum([0] + [p.data.size for p in params])
        self.size = int(self.offsets[-1])

    @property
    def dtype(self):  # read each time: model.double() may follow the wrapping
        return self.params[0].dtype

    def pack(self):
        """The gradients one after another, flattened: shape (size,)."""
        buffer = np.empty(self.size, dtype=self.dtype)
        for param, start, end in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            grad = gradient_array(param)
            buffer[start:end] = 0 if grad is None else grad.reshape(-1)
        return buffer

    def unpack(self, buffer):
        for param, start, end in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            # a copy: each gradient owns its array, as after backward
            set_gradient(param, buffer[start:end].reshape(param.shape).copy())


def _plan_buckets(params, cap_bytes):
    """Group ``params`` (reversed: the last layers' gradients are ready first) into buckets
    of one dtype and at most ``cap_bytes`` (a larger parameter gets a bucket of its own)."""
    buckets, current, current_bytes = [], [], 0
    for param in reversed(params):
        nbytes = param.data.nbytes
        if current and (param.dtype != current[0].dtype or current_bytes + nbytes > cap_bytes):
            buckets.append(_Bucket(current))
            current, current_bytes = [], 0
        current.append(param)
        current_bytes += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets
