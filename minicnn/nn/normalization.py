"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``, ``GroupNorm``,
``InstanceNorm1d``, ``InstanceNorm2d`` and ``LocalResponseNorm`` (the math of each, forward
and backward, is in ``minicnn.ops.norm``).

Batch norm (Ioffe & Szegedy, 2015) normalises each channel with the batch's mean and
*biased* variance in training, then scales and shifts (``weight``, ``bias``). It also keeps
running estimates for evaluation, updated with the *unbiased* batch variance:

    running = (1 - momentum) * running + momentum * batch        (momentum 0.1)

Keras writes the same update as ``running = m * running + (1 - m) * batch`` with m = 0.99:
Keras' 0.99 is minicnn's (and PyTorch's) 0.01. ``momentum=None`` uses the cumulative
average ``1 / num_batches_tracked`` instead. In eval mode the running estimates are used,
unless ``track_running_stats=False`` (then batch statistics are always used).

Layer, group and instance norm standardise each *sample* (over its trailing features, a
group of channels, or each channel's spatial values), so they behave the same in training
and evaluation, whatever the batch size; instance norm keeps running statistics only when
asked (``track_running_stats=True``), and then uses them in evaluation.
"""

import warnings

import numpy as np

from .. import functional as F
from .._checks import check_positive_int, is_int
from .module import Module, Parameter, place

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "LayerNorm", "LocalResponseNorm"]


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


class LayerNorm(Module):
    """Layer norm over the trailing ``normalized_shape`` axes of each sample (``F.layer_norm``).

    Parameters
    ----------
    normalized_shape : int or sequence of int
        The trailing shape normalised over, e.g. ``C`` for ``(N, L, C)`` token features or
        ``(C, H, W)`` for whole images.
    eps : float
        Added to the (biased) variance before the square root.
    elementwise_affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros), each of shape ``normalized_shape``.
    bias : bool
        With ``elementwise_affine``, whether to learn the shift too.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if is_int(normalized_shape) else tuple(normalized_shape)
        if not all(is_int(n) and n >= 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be an int or a sequence of "
                             f"non-negative ints, got {normalized_shape!r}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        place(self, device, dtype, "LayerNorm")

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group norm (``F.group_norm``): ``num_groups`` groups of consecutive channels, each
    sample standardised per group over its channels and spatial axes; per-channel affine.

    Parameters
    ----------
    num_groups : int
        G, dividing ``num_channels`` (ValueError otherwise, as PyTorch).
    num_channels : int
        C.
    eps : float
    affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros), each of shape (C,).
    bias : bool (keyword only)
        With ``affine``, whether to learn the shift too (PyTorch 2.13's option).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None,
                 *, bias=True):
        super().__init__()
        num_groups = check_positive_int(num_groups, "GroupNorm: num_groups")
        num_channels = check_positive_int(num_channels, "GroupNorm: num_channels")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=np.float32))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        place(self, device, dtype, "GroupNorm")

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Shared by ``InstanceNorm1d``/``2d``: batch norm's parameters and buffers (PyTorch's
    ``_NormBase``) with PyTorch's instance-norm defaults and forward. An input without the
    batch axis (``(C, L)``, ``(C, H, W)``) is treated as a batch of one. ``num_batches_tracked``
    exists (state-dict keys as PyTorch's) but, as in PyTorch, is never incremented."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self.expected_ndims:
            ranks = " or ".join(f"{n}-D" for n in self.expected_ndims)
            raise ValueError(f"{name}: expected a {ranks} input, got shape {tuple(x.shape)}")
        unbatched = x.ndim == self.expected_ndims[0]
        channel_axis = 0 if unbatched else 1
        if x.shape[channel_axis] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={channel_axis} to match "
                                 f"num_features ({self.num_features}), got {x.shape[channel_axis]}")
            warnings.warn(f"{name}: input's size at dim={channel_axis} does not match "
                          "num_features, which is not used because affine=False", stacklevel=2)
        batch = x.unsqueeze(0) if unbatched else x
        out = F.instance_norm(batch, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats=self.training or not self.track_running_stats,
                              momentum=0.0 if self.momentum is None else self.momentum,
                              eps=self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over ``(N, C, L)`` (or unbatched ``(C, L)``) inputs: each (sample,
    channel) standardised over L (``F.instance_norm``).

    Parameters
    ----------
    num_features : int
        C.
    eps : float
    momentum : float or None
        Weight of the new batch in the running statistics; None keeps them as they are
        (PyTorch passes 0).
    affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros) of shape (C,). Default False (PyTorch).
    track_running_stats : bool
        Keep ``running_mean``/``running_var`` (the batch average of each instance's mean and
        unbiased variance) and use them in evaluation. Default False: instance statistics
        always.
    bias : bool (keyword only)
        With ``affine``, whether to learn the shift too.
    """

    expected_ndims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) inputs: each (sample,
    channel) standardised over H and W (style transfer, GANs). Parameters as
    ``InstanceNorm1d``."""

    expected_ndims = (3, 4)


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
