"""PyTorch's ``DataLoader`` and ``default_collate``: batches as Tensors.

``DataLoader`` is ``minicnn.data.DataLoader`` (the same sampling, determinism and
prefetching thread; read its docstring) with PyTorch's signature and PyTorch's batches:
samples are collated by ``default_collate`` below, so ``for X, y in loader`` gives Tensors
(``X.size(0)``, ``X.to(device)``, ``y.dtype == minicnn.int64`` for class indices).

``num_workers``. PyTorch starts that many worker *processes*. minicnn honours the request
with one background *thread* that prepares up to ``num_workers * prefetch_factor``
batches ahead (NumPy and the kernels release the GIL, so loading overlaps training);
``num_workers=0`` loads each batch in the calling thread when it is asked for, as PyTorch
does. Batches and their augmentation are the same for every ``num_workers`` (each batch
draws from its own generator, see ``minicnn.data.loader``). ``pin_memory``, ``timeout``,
``persistent_workers``, ``multiprocessing_context``, ``pin_memory_device`` and
``in_order`` are accepted and change nothing (CPU only, one thread, batches in order).
``worker_init_fn(0)`` is called in the background thread at the start of each pass, as
PyTorch calls it in each worker (and never when ``num_workers=0``).
"""

import collections.abc
import numbers

import numpy as np

from ...autograd import Tensor
from ...data import loader as _loader
from ...data.dataset import ArrayDataset, Subset, TensorDataset, get_batch, get_sample
from ...data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "get_worker_info"]

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                  "or lists; found {}")


def default_collate(batch):
    """Merge a list of samples into a batch, by PyTorch's rules.

    - Tensors and NumPy arrays are stacked into one Tensor (N, ...), keeping their dtype
      (the result records no autograd history);
    - Python ints (and bools) become an int64 (bool) Tensor, Python floats float64, NumPy
      scalars keep their dtype;
    - strings and bytes are returned as they come (a tuple, in a collated sequence);
    - dicts collate key by key, named tuples field by field (same type), other sequences
      position by position: a tuple of samples ``(image, label)`` gives the *list*
      ``[images, labels]``, as in PyTorch.

    Raises TypeError for anything else (a PIL image: add ``transforms.ToTensor()``), and
    RuntimeError when sequences of different lengths meet (PyTorch's kinds and words).
    """
    elem = batch[0]
    # np.stack keeps the memory order of its inputs; torch.stack's result is contiguous.
    if isinstance(elem, Tensor):
        return Tensor(np.ascontiguousarray(np.stack([sample.data for sample in batch])))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SaUO":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor(np.ascontiguousarray(np.stack(batch)))
    if isinstance(elem, np.generic) and elem.dtype.kind not in "SaUO":
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):     # a named tuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(column) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def get_worker_info():
    """None: minicnn has no worker processes (PyTorch's answer in the main process)."""
    return None


def _indexes_whole_batches(dataset):
    """Whether ``get_batch`` of ``dataset`` equals ``default_collate`` of its samples, so a
    batch can be taken from its arrays in one step."""
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, (ArrayDataset, TensorDataset))


def _check_non_negative(value, message):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{message}, got {value!r}")
    return value


class DataLoader(_loader.DataLoader):
    """Iterate over ``dataset`` in batches of Tensors (PyTorch's ``DataLoader``).

    Parameters
    ----------
    dataset : Dataset
        ``len(dataset)`` and ``dataset[i]`` (any sample ``default_collate`` can merge).
    batch_size : int
        Samples per batch (>= 1).
    shuffle : bool
        A new random order every pass (from ``generator``, else minicnn's generator).
    sampler, batch_sampler : see ``minicnn.utils.data.sampler``; exclusive with
        ``shuffle`` (and ``batch_sampler`` with ``batch_size`` and ``drop_last``).
    num_workers : int >= 0
        0: load in the calling thread; more: one background thread prefetching
        ``num_workers * prefetch_factor`` batches (see the module docstring).
    collate_fn : callable, optional
        ``collate_fn(list of samples) -> batch``; default ``default_collate``.
    drop_last : bool
    generator : numpy.random.Generator, optional
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(0)`` in the background thread at each pass's start.
    prefetch_factor : int >= 1, optional
        Batches prefetched per worker (default 2; only with ``num_workers > 0``).

    Raises
    ------
    ValueError, TypeError
        For a bad argument or a contradicting combination, with PyTorch's messages.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool) \
                or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 "
                             f"to disable multiprocessing, got {num_workers!r}")
        _check_non_negative(timeout, "timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if prefetch_factor is None:
            prefetch_factor = 2
        if not isinstance(prefetch_factor, numbers.Integral) or prefetch_factor < 1:
            raise ValueError(f"prefetch_factor must be an int >= 1, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader: worker_init_fn must be callable, got "
                            f"{worker_init_fn!r}")
        super().__init__(dataset, batch_size, False if shuffle is None else shuffle,
                         drop_last=drop_last, generator=generator,
                         prefetch=int(num_workers * prefetch_factor), collate_fn=collate_fn,
                         sampler=sampler, batch_sampler=batch_sampler)
        # PyTorch's attributes: a loader always has a sampler and a batch sampler (iterating
        # them draws the same numbers as minicnn.data's shuffle: one permutation a pass).
        if self.batch_sampler is None:
            if self.sampler is None:
                self.sampler = (RandomSampler(dataset, generator=generator) if self.shuffle
                                else SequentialSampler(dataset))
            self.batch_sampler = BatchSampler(self.sampler, self.batch_size, self.drop_last)
        self.num_workers = int(num_workers)
        self.prefetch_factor = int(prefetch_factor) if num_workers else None
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.persistent_workers = persistent_workers

    def _start_worker(self):
        if self.worker_init_fn is not None:
            self.worker_init_fn(0)

    def _make_batch(self, epoch_seed, k, indices):
        rng = _loader.batch_rng(epoch_seed, k)
        if self.collate_fn is None and _indexes_whole_batches(self.dataset):
            return [Tensor(array) for array in get_batch(self.dataset, indices, rng)]
        collate = self.collate_fn if self.collate_fn is not None else default_collate
        return collate([get_sample(self.dataset, int(i), rng) for i in indices])
