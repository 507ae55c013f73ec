"""Datasets: indexable collections of ``(image, label)`` samples, as in PyTorch.

A dataset has ``len(ds)`` and ``ds[i] -> (image, label)`` where ``image`` is a float32
array ``(C, H, W)`` and ``label`` a Python int (a class index), or for regression targets
and soft labels a floating-point number or array. Two further methods let the
``DataLoader`` control randomness and go fast; a dataset of your own needs neither:

- ``get(i, rng)`` is ``ds[i]`` with random transforms drawing from ``rng`` (a
  ``numpy.random.Generator``). ``ds[i]`` itself draws from minicnn's generator.
- ``get_batch(indices, rng)`` returns the collated batch ``(images (N, C, H, W) float32,
  labels (N, ...))``, labels as ``default_collate`` makes them. The default calls ``get``
  per sample and stacks; ``ArrayDataset`` indexes its arrays in one step when no
  per-sample work is needed.

Transforms are callables ``transform(x, rng=None)`` on a ``(C, H, W)`` array (see
``minicnn.data.transforms``). A plain callable without an ``rng`` parameter works too
(``transform(x)``); its randomness, if any, is then not controlled by the loader.
"""

import bisect
import inspect
import math
import numbers

import numpy as np

from .._checks import is_int
from ..autograd import Tensor
from ..rng import get_rng

__all__ = ["Dataset", "ArrayDataset", "TensorDataset", "ConcatDataset", "Subset",
           "random_split", "default_collate", "apply_transform", "get_sample", "get_batch"]


def default_collate(samples):
    """Stack ``[(image, label), ...]`` into ``(images (N, ...) float32, labels (N, ...))``.

    Labels keep their kind, as in PyTorch: integer labels (class indices) become int64;
    floating-point labels (regression targets, soft labels) stay floating point, in their
    own dtype (Python floats: float64), never truncated to ints; bools stay bool. Other
    labels (strings, objects) raise TypeError.
    """
    images = np.stack([np.asarray(image, dtype=np.float32) for image, _ in samples])
    labels = np.stack([np.asarray(label) for _, label in samples])
    return images, _collated_labels(labels)


def _collated_labels(labels):
    """``labels`` as a batch hands them on: int64 for integers, floats and bools as they are."""
    if labels.dtype.kind in "iu":
        return labels.astype(np.int64)
    if labels.dtype.kind in "fb":
        return labels
    raise TypeError(f"labels must be integers, floating-point numbers or bools (or arrays of "
                    f"them), got dtype {labels.dtype}")


def _accepts_rng(transform):
    if getattr(transform, "accepts_rng", False):
        return True
    try:
        return "rng" in inspect.signature(transform).parameters
    except (TypeError, ValueError):    # builtins and C callables have no signature
        return False


def apply_transform(transform, x, rng):
    """``transform(x, rng=rng)``, or ``transform(x)`` for a callable without an rng."""
    if transform is None:
        return x
    if _accepts_rng(transform):
        return transform(x, rng=rng)
    return transform(x)


def get_sample(dataset, index, rng):
    """``dataset.get(index, rng)``, or ``dataset[index]`` for a dataset without ``get``."""
    return dataset.get(index, rng) if hasattr(dataset, "get") else dataset[index]


def get_batch(dataset, indices, rng):
    """``dataset.get_batch(indices, rng)``, or its samples collated by ``default_collate``."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices, rng)
    return default_collate([get_sample(dataset, int(i), rng) for i in indices])


class Dataset:
    """Base class: subclasses define ``__len__`` and ``__getitem__(index) -> (image, label)``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def get(self, index, rng):
        """Sample ``index`` with random transforms drawing from ``rng``.

        The base class cannot pass ``rng`` on, so it returns ``self[index]``.
        """
        return self[index]

    def get_batch(self, indices, rng):
        """Samples ``indices`` (in order, all drawing from ``rng``), collated.

        Returns ``(images (N, C, H, W) float32, labels (N,) int64)``.
        """
        return default_collate([self.get(int(i), rng) for i in indices])

    def __add__(self, other):
        """``a + b`` is ``ConcatDataset([a, b])``, as in PyTorch."""
        return ConcatDataset([self, other])


def _check_index(index, length):
    if not isinstance(index, numbers.Integral) or isinstance(index, bool):
        raise TypeError(f"dataset index must be an int, got {index!r}")
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a dataset of {length} samples")
    return int(index) % length


class ArrayDataset(Dataset):
    """Samples held in memory as two arrays (PyTorch's ``TensorDataset`` for images).

    Parameters
    ----------
    images : ndarray, (N, C, H, W) (or any (N, ...) such as cached features (N, D))
        Any real dtype; uint8 images stay uint8 in memory and are converted per batch.
    labels : ndarray, (N,) of int, or (N,) or (N, ...) of float
        Class indices (a sample's label is a Python int, a batch's int64), or regression
        targets or soft labels (kept in their floating dtype).
    transform : callable, optional
        Applied to each float32 sample ``(C, H, W)``; see ``minicnn.data.transforms``.
    scale : float
        A finite number > 0. Each sample is ``images[i].astype(float32) * scale`` before
        the transform (``1 / 255`` for uint8 pixels).

    A transform that is deterministic and works on whole batches (``transform.batchable``,
    e.g. ``Pad`` or ``Normalize``) is applied to the batch at once; others run per sample.
    """

    def __init__(self, images, labels, transform=None, scale=1.0):
        images = np.asarray(images)
        labels = np.asarray(labels)
        if images.ndim < 2:
            raise ValueError(f"images must have shape (N, C, H, W) or (N, ...), got shape "
                             f"{images.shape}")
        if images.dtype.kind not in "biuf":
            raise ValueError(f"images must hold real numbers, got dtype {images.dtype}")
        integer_labels = labels.dtype.kind in "iu"
        if not (integer_labels and labels.ndim == 1
                or labels.dtype.kind == "f" and labels.ndim >= 1):
            raise ValueError(f"labels must be a 1-D integer array (class indices) or a float "
                             f"array (N, ...) (regression targets, soft labels), got shape "
                             f"{labels.shape} and dtype {labels.dtype}")
        if len(labels) != len(images):
            raise ValueError(f"images and labels must have the same length, got {len(images)} "
                             f"images and {len(labels)} labels")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        if (not isinstance(scale, numbers.Real) or isinstance(scale, bool)
                or not math.isfinite(scale) or scale <= 0):
            raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
        self.images = images
        self.labels = labels
        self.transform = transform
        self.scale = np.float32(scale)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.get(index, get_rng())

    def _to_float(self, array):
        return array.astype(np.float32) * self.scale

    def get(self, index, rng):
        index = _check_index(index, len(self))
        image = apply_transform(self.transform, self._to_float(self.images[index]), rng)
        label = self.labels[index]
        return image, (int(label) if self.labels.dtype.kind in "iu" else label.copy())

    def get_batch(self, indices, rng):
        indices = np.asarray(indices, dtype=np.intp)
        images = self._to_float(self.images[indices])            # (N, C, H, W) in one copy
        if self.transform is not None:
            if getattr(self.transform, "batchable", False):
                images = self.transform(images)
            else:
                images = np.stack([apply_transform(self.transform, image, rng)
                                   for image in images])
        return (np.ascontiguousarray(images, dtype=np.float32),
                _collated_labels(self.labels[indices]))


class TensorDataset(Dataset):
    """PyTorch's ``TensorDataset``: sample ``i`` is ``tuple(t[i] for t in tensors)``.

    Parameters
    ----------
    *tensors : Tensor or ndarray, each (N, ...)
        The same length N along the first dimension.

    A batch (``get_batch``) is the tuple of the arrays indexed at once, ``t.data[indices]``.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for tensor in tensors:
            if not hasattr(tensor, "shape") or len(tensor.shape) == 0:
                raise TypeError(f"TensorDataset: expected tensors with a first dimension, got "
                                f"{tensor!r}")
        lengths = [tensor.shape[0] for tensor in tensors]
        if len(set(lengths)) != 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions {lengths}")
        self.tensors = tensors

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def get_batch(self, indices, rng):
        indices = np.asarray(indices, dtype=np.intp)
        return tuple(np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)[indices]
                     for tensor in self.tensors)


class ConcatDataset(Dataset):
    """The datasets one after another: ``len`` is the sum, index ``i`` falls in the first
    dataset whose cumulative length exceeds it (PyTorch's ``ConcatDataset``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, index):
        index = _check_index(index, len(self))
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which], index - start

    def __getitem__(self, index):
        dataset, local = self._locate(index)
        return dataset[local]

    def get(self, index, rng):
        dataset, local = self._locate(index)
        return get_sample(dataset, local, rng)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise ValueError(f"indices must be a 1-D sequence of ints, got shape "
                             f"{indices.shape} and dtype {indices.dtype}")
        self.indices = indices.astype(np.intp)
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= len(dataset)):
            raise IndexError(f"indices must lie in [0, {len(dataset)}), got values from "
                             f"{self.indices.min()} to {self.indices.max()}")

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[_check_index(index, len(self))])]

    def get(self, index, rng):
        return get_sample(self.dataset, int(self.indices[_check_index(index, len(self))]), rng)

    def get_batch(self, indices, rng):
        return get_batch(self.dataset, self.indices[np.asarray(indices, dtype=np.intp)], rng)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset`` s (PyTorch's rule).

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1
    (the remainder of flooring is given out one by one, round-robin from the first split).
    ``generator`` is a ``numpy.random.Generator``; minicnn's own by default.
    """
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy.random.Generator, got {generator!r}")
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        if any(not 0 <= x <= 1 for x in lengths):
            raise ValueError(f"fractions in lengths must lie in [0, 1], got {lengths}")
        counts = [int(np.floor(n * x)) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not is_int(x) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"lengths must be non-negative ints summing to the dataset's length "
                         f"{n} (or fractions summing to 1), got {lengths}")
    order = (generator if generator is not None else get_rng()).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]
