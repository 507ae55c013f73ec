"""``SyncBatchNorm``: batch norm whose statistics are those of the global batch.

Plain batch norm on K ranks normalises each shard with its own mean and variance: the
network then computes something else than on the whole batch (and with small shards the
statistics are noisy). ``SyncBatchNorm`` reduces the statistics over the ranks. Shapes:
rank k holds x_k of shape (n_k, C, *), m_k = n_k * L values per channel (L the spatial
size), M = sum_k m_k.

Forward: one all-gather of each rank's (m_k, mean_k, M2_k), M2_k = sum (x - mean_k)^2 per
channel, combined exactly as Chan et al.'s parallel variance::

    mean = sum_k m_k mean_k / M
    var  = sum_k (M2_k + m_k (mean_k - mean)^2) / M          (biased, as batch norm)

(rather than sums of x and x^2, which lose digits when the mean is large), then every rank
normalises its shard with the global ``mean`` and ``var``; the running statistics use
the unbiased ``var * M / (M - 1)``.

Backward: the loss is L = sum_k L_k (each rank's loss), and x_j reaches every rank's
output through the shared mean and variance. With g = dL_k/dy on rank k, the batch-norm
formula over the global batch (``minicnn.ops.norm``) needs two sums over *all* ranks::

    dx_j = weight * invstd / M * (M g_j - sum_all(g) - xhat_j * sum_all(g * xhat))

so backward all-reduces the 2C numbers [sum(g), sum(g * xhat)]. The weight and bias
gradients stay the local sums (sum(g * xhat), sum(g)): ``DistributedDataParallel``
averages them with the other gradients, which makes them the global batch's.
"""

import numpy as np

from ..autograd import ArrayFunction
from ..kernels import norm as kernels
from ..nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ..ops.norm import _flatten_spatial
from . import comm

__all__ = ["SyncBatchNorm", "SyncBatchNormFunction", "convert_sync_batchnorm"]


def _global_statistics(x3):
    """Mean, biased variance (float64, (C,)) and count M of ``x3`` (n, C, L) over all ranks."""
    count = x3.shape[0] * x3.shape[2]
    mean = x3.mean(axis=(0, 2), dtype=np.float64)
    m2 = ((x3 - mean[:, None]) ** 2).sum(axis=(0, 2), dtype=np.float64)
    # (K, 1 + 2C): each rank's count, mean and M2
    gathered = comm.all_gather(np.concatenate([[float(count)], mean, m2]))
    counts, means, m2s = gathered[:, :1], gathered[:, 1:1 + len(mean)], gathered[:, 1 + len(mean):]
    total = counts.sum()
    global_mean = (counts * means).sum(axis=0) / total
    global_m2 = (m2s + counts * (means - global_mean) ** 2).sum(axis=0)
    return global_mean, global_m2 / total, int(total)


class SyncBatchNormFunction(ArrayFunction):
    """Batch norm with statistics reduced over the ranks (see the module docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        x3 = _flatten_spatial(x)  # (n, C, H, W) -> (n, C, H*W)
        channels = x3.shape[1]
        mean, var, total = _global_statistics(x3)
        weight64 = np.ones(channels) if weight is None else weight.astype(np.float64)
        bias64 = np.zeros(channels) if bias is None else bias.astype(np.float64)
        # batch_stats=False: normalise with the given (global) statistics
        out = kernels.batch_norm_forward(x3, mean, var, weight64, bias64, eps, False)
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = ((1 - momentum) * running_var
                                + momentum * var * (total / (total - 1)))
        invstd = 1.0 / np.sqrt(var + eps)
        ctx.save_for_backward(x3, mean, invstd, weight64 * invstd)
        ctx.shape, ctx.total = x.shape, total
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x3, mean, invstd, scale = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        grad3 = np.ascontiguousarray(grad, dtype=x3.dtype).reshape(x3.shape)
        # batch_stats=False gives grad_x = scale * g and this rank's two sums
        grad_x, sum_grad_xhat, sum_grad = kernels.batch_norm_backward(
            grad3, x3, mean, invstd, scale, False, need_x)
        if need_x:  # the same on every rank: the graphs are the same
            sums = comm.all_reduce(np.concatenate([sum_grad, sum_grad_xhat]))
            all_grad, all_grad_xhat = sums[:len(mean)], sums[len(mean):]
            xhat = (x3 - mean[:, None]) * invstd[:, None]                    # (n, C, L)
            grad_x -= ((scale / ctx.total)[:, None]
                       * (all_grad[:, None] + xhat * all_grad_xhat[:, None])).astype(x3.dtype)
        return (grad_x.reshape(ctx.shape) if need_x else None,
                sum_grad_xhat.astype(x3.dtype) if need_weight else None,
                sum_grad.astype(x3.dtype) if need_bias else None)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over ``(N, C, *)`` inputs with statistics of the batch of all ranks.

    Parameters as ``minicnn.nn.BatchNorm2d``. In training, with ``minicnn.distributed``
    initialised, the mean and variance are reduced over the ranks (one all-gather forward,
    one all-reduce backward); otherwise (evaluation, or a single process) it is plain
    batch norm. Every rank must call it in the same order, as any collective.
    """

    expected_ndims = (2, 3, 4, 5)

    def forward(self, x):
        if not (self.training and comm.is_initialized()):
            return super().forward(x)
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected an input (N, {self.num_features}, ...), "
                             f"got shape {x.shape}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.momentum is None:  # cumulative average
            factor = 1.0 / (int(self.num_batches_tracked) + 1)
        running = self.running_mean if self.track_running_stats else None
        out = SyncBatchNormFunction.apply(
            x, self.weight, self.bias, running_mean=running,
            running_var=self.running_var if self.track_running_stats else None,
            momentum=factor, eps=self.eps)
        if self.track_running_stats:
            self.num_batches_tracked += 1  # in place: a 0-d int64 array
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module):
        """PyTorch's spelling of ``convert_sync_batchnorm(module)``."""
        return convert_sync_batchnorm(module)


def convert_sync_batchnorm(module):
    """Replace every ``BatchNorm1d``/``BatchNorm2d`` in ``module`` by a ``SyncBatchNorm``
    holding the same parameters and buffers (the same arrays, not copies).

    Returns the module (a new ``SyncBatchNorm`` if ``module`` itself is a batch norm).
    """
    if isinstance(module, (BatchNorm1d, BatchNorm2d)):
        converted = SyncBatchNorm.__new__(SyncBatchNorm)
        # the same parameters, buffers and settings, in registries of its own
        converted.__dict__.update({key: value.copy() if isinstance(value, (dict, set)) else value
                                   for key, value in module.__dict__.items()})
        return converted
    for name, child in list(module._modules.items()):
        if child is not None:
            module._modules[name] = convert_sync_batchnorm(child)
    return module
