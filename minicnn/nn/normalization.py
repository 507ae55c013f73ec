"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LocalResponseNorm``.

Batch norm (Ioffe & Szegedy, 2015) normalises each channel with the batch's mean and
*biased* variance in training, then scales and shifts (``weight``, ``bias``). It also keeps
running estimates for evaluation, updated with the *unbiased* batch variance:

    running = (1 - momentum) * running + momentum * batch        (momentum 0.1)

Keras writes the same update as ``running = m * running + (1 - m) * batch`` with m = 0.99:
Keras' 0.99 is minicnn's (and PyTorch's) 0.01. ``momentum=None`` uses the cumulative
average ``1 / num_batches_tracked`` instead. In eval mode the running estimates are used,
unless ``track_running_stats=False`` (then batch statistics are always used).
"""

import numpy as np

from .. import functional as F
from .._checks import check_positive_int
from .module import Module, Parameter, place

__all__ = ["BatchNorm1d", "BatchNorm2d", "LocalResponseNorm"]


class _BatchNorm(Module):
    """Shared by ``BatchNorm1d`` and ``BatchNorm2d``; they differ in the input ranks allowed."""

    expected_ndims = ()
    # Older checkpoints (and other frameworks' exports) lack the counter: keep ours.
    _optional_state_keys = ("num_batches_tracked",)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        num_features = check_positive_int(num_features, f"{type(self).__name__}: num_features")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got "
                             f"{momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        place(self, device, dtype, type(self).__name__)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x):
        if x.ndim not in self.expected_ndims:
            raise ValueError(f"{type(self).__name__}: expected a "
                             f"{' or '.join(f'{n}-D' for n in self.expected_ndims)} input "
                             f"(N, C{', ...' if max(self.expected_ndims) > 2 else ''}), got "
                             f"shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: input has {x.shape[1]} channels (shape "
                             f"{x.shape}), the layer was built for num_features="
                             f"{self.num_features}")
        counting = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:  # cumulative average over the batches so far
            factor = 1.0 / (int(self.num_batches_tracked) + 1)
        # Batch statistics in training, or always when there are no running ones.
        use_batch_stats = self.training or self.running_mean is None
        out = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                           training=use_batch_stats, momentum=factor, eps=self.eps)
        if counting:  # only once the batch was used: a failed call counts nothing
            self.num_batches_tracked += 1  # in place: a 0-d int64 array
        return out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over ``(N, C)`` or ``(N, C, L)`` inputs; statistics per channel ``C``.

    Parameters
    ----------
    num_features : int
        C.
    eps : float
        Added to the variance before the square root.
    momentum : float or None
        Weight of the new batch in the running statistics (PyTorch's convention, 0.1; Keras'
        ``momentum=0.99`` is 0.01 here). None: cumulative average.
    affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros), each of shape (C,).
    track_running_stats : bool
        Keep ``running_mean``, ``running_var`` (float, (C,)) and ``num_batches_tracked``
        (int64, 0-d) as buffers.
    bias : bool (keyword only)
        With ``affine=True``, whether to learn the shift too (PyTorch 2.13's option).
    """

    expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over ``(N, C, H, W)`` inputs; statistics per channel over N, H and W.

    Parameters as ``BatchNorm1d``.
    """

    expected_ndims = (4,)


class LocalResponseNorm(Module):
    """Local response normalisation across channels (AlexNet), PyTorch's definition:

        b_c = a_c * (k + alpha / size * sum_{c' in window} a_{c'}^2) ^ -beta

    over a window of ``size`` channels centred on ``c``. TensorFlow's
    ``depth_radius=r, alpha=A`` is ``size=2r+1, alpha=A*(2r+1)`` here (TensorFlow does not
    divide by the size); Caffe's LRN divides, like PyTorch.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        size = check_positive_int(size, "LocalResponseNorm: size")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
