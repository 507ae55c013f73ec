"""Samplers: which dataset indices a ``DataLoader`` visits, and in what order (PyTorch's).

    SequentialSampler(data_source)            0, 1, ..., len - 1
    RandomSampler(data_source, replacement=False, num_samples=None, generator=None)
                                              a new permutation every pass (or draws with
                                              replacement)
    SubsetRandomSampler(indices, generator=None)
                                              the given indices, shuffled every pass
    WeightedRandomSampler(weights, num_samples, replacement=True, generator=None)
                                              indices drawn with probability ~ weights
    BatchSampler(sampler, batch_size, drop_last)
                                              a sampler's indices grouped into lists

A sampler is iterable (``iter(sampler)`` gives ints) and has ``len``. Random samplers draw
from ``generator`` (a ``numpy.random.Generator``) or, by default, from minicnn's generator
at the moment a pass starts, so ``minicnn.manual_seed`` makes them repeatable.
"""

import numpy as np

from .._checks import check_positive_int, is_int
from ..rng import get_rng

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def _check_generator(generator, owner):
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"{owner}: generator must be a numpy.random.Generator or None, got "
                        f"{generator!r}")
    return generator


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each pass, or ``num_samples`` draws with replacement.

    Parameters
    ----------
    data_source : sized
    replacement : bool
        Draw each index independently (``num_samples`` of them) instead of permuting.
    num_samples : int > 0, optional
        Indices per pass; default ``len(data_source)``. Without replacement and larger than
        the dataset, whole permutations follow one another (PyTorch's rule).
    generator : numpy.random.Generator, optional
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_flag(replacement, "replacement")
        if num_samples is not None:
            num_samples = check_positive_int(num_samples, "RandomSampler: num_samples")
        self._num_samples = num_samples
        self.generator = _check_generator(generator, "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        rng = self.generator if self.generator is not None else get_rng()
        n = len(self.data_source)
        if self.replacement:
            return iter(rng.integers(n, size=self.num_samples).tolist())
        permutations = -(-self.num_samples // n) if n else 0
        order = [rng.permutation(n) for _ in range(permutations)]
        return iter(np.concatenate(order)[:self.num_samples].tolist() if order else [])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The elements of ``indices`` (any sequence of ints), in a new random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = _check_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        rng = self.generator if self.generator is not None else get_rng()
        for position in rng.permutation(len(self.indices)).tolist():
            yield self.indices[position]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices into ``weights``, each drawn with probability
    ``weights[i] / sum(weights)`` (with or without replacement)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        weights = np.asarray(weights.data if hasattr(weights, "grad") else weights,
                             dtype=np.float64)
        if weights.ndim != 1 or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                or weights.sum() <= 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-D sequence of "
                             f"finite numbers >= 0 with a positive sum, got {weights!r}")
        self.weights = weights
        self.num_samples = check_positive_int(num_samples, "WeightedRandomSampler: num_samples")
        self.replacement = _check_flag(replacement, "replacement")
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples "
                             f"without replacement from {np.count_nonzero(weights)} with "
                             f"nonzero weight")
        self.generator = _check_generator(generator, "WeightedRandomSampler")

    def __iter__(self):
        rng = self.generator if self.generator is not None else get_rng()
        drawn = rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                           p=self.weights / self.weights.sum())
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter,
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = _check_flag(drop_last, "drop_last")

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

