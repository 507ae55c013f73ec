"""``DataLoader``: batches of a dataset, shuffled and prepared ahead in a background thread.

Each pass (``for images, labels in loader``) yields NumPy arrays ``images (N, C, H, W)
float32`` and ``labels (N,) int64`` (floating-point labels, such as regression targets or
soft labels ``(N, K)``, keep their dtype); wrap them with ``minicnn.Tensor`` to feed a model.

Determinism. At the start of every pass the loader draws, in the calling thread and from
its generator (minicnn's, so ``minicnn.manual_seed`` governs it, unless ``seed`` or
``generator`` is given): the order of the samples (if ``shuffle``; a ``sampler`` or
``batch_sampler`` is iterated there instead, drawing from its own generator or minicnn's)
and one 63-bit *epoch seed*. Batch ``k`` of the pass is then prepared with its own generator
``numpy.random.default_rng((epoch_seed, k))``, so the augmentation of every sample depends
only on the seed, the epoch and the batch size, never on how the background thread is
scheduled. Like PyTorch's, a pass draws from the generator even without shuffling.

Prefetching. With ``prefetch > 0`` a background thread loads, augments and collates up to
``prefetch`` batches ahead while the caller trains on the current one (NumPy releases the
GIL in its array loops, so the two overlap). An exception raised while preparing a batch
is re-raised in the caller's thread, with its original traceback. Breaking out of the loop,
dropping the iterator or an exception in the caller stops the thread. ``prefetch=0``
prepares each batch on demand in the calling thread (easiest to debug). This is PyTorch's
``num_workers`` idea with one thread instead of worker processes.
"""

import math
import queue
import threading

import numpy as np

from .._checks import check_positive_int, is_int
from ..rng import get_rng
from .dataset import get_batch, get_sample

__all__ = ["DataLoader"]

_POLL_SECONDS = 0.05


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``len`` and ``ds[i] -> (image, label)``; minicnn datasets also offer
        ``get``/``get_batch`` (see ``minicnn.data.dataset``), which the loader uses.
    batch_size : int
        Samples per batch (>= 1); the last batch may be smaller unless ``drop_last``.
    shuffle : bool
        A new random order every pass.
    drop_last : bool
        Drop the last batch if it is smaller than ``batch_size``.
    seed : int >= 0, optional
        Give the loader its own generator ``numpy.random.default_rng(seed)`` (passes still
        differ from one another; the sequence of passes repeats).
    generator : numpy.random.Generator, optional
        The generator to draw from (exclusive with ``seed``). Default: minicnn's generator
        at the time each pass starts (``minicnn.rng.get_rng()``).
    prefetch : int
        Batches prepared ahead by a background thread; 0 for no thread.
    collate_fn : callable, optional
        ``collate_fn([(image, label), ...]) -> batch``, called on samples from
        ``dataset.get``; the default stacks them (and lets an in-memory dataset index its
        arrays directly, with no per-sample Python loop).
    sampler : iterable of int, optional
        The indices of a pass, in order (see ``minicnn.data.sampler``); drawn at the start
        of each pass, in the caller's thread. Exclusive with ``shuffle``.
    batch_sampler : iterable of lists of int, optional
        The batches of a pass (e.g. a ``BatchSampler``); exclusive with ``batch_size``,
        ``shuffle``, ``sampler`` and ``drop_last``.

    Yields
    ------
    images : ndarray, float32, (N, C, H, W)
    labels : ndarray, (N,) int64 for class indices; floating-point labels keep their dtype
        (see ``minicnn.data.dataset.default_collate``)

    Raises
    ------
    ValueError or TypeError
        naming the argument, for a bad one (a dataset without ``len``, a seed < 0, ...).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, drop_last=False, seed=None,
                 generator=None, prefetch=2, collate_fn=None, sampler=None,
                 batch_sampler=None):
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must have len() and ds[i], got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = check_positive_int(batch_size, "DataLoader: batch_size")
        self.shuffle = _check_flag(shuffle, "shuffle")
        self.drop_last = _check_flag(drop_last, "drop_last")
        # PyTorch's rules and messages for the combinations that contradict each other.
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and not hasattr(value, "__iter__"):
                raise TypeError(f"DataLoader: {name} must be an iterable of indices, got "
                                f"{value!r}")
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.prefetch = check_positive_int(prefetch, "DataLoader: prefetch", minimum=0)
        if seed is not None and generator is not None:
            raise ValueError("give DataLoader a seed or a generator, not both")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"DataLoader: seed must be None or an int >= 0, got {seed!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator, got "
                            f"{generator!r}")
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.collate_fn = collate_fn

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler if self.sampler is not None else self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _batches(self, rng):
        """The index arrays of one pass's batches."""
        if self.batch_sampler is not None:
            return [np.asarray(batch, dtype=np.intp) for batch in self.batch_sampler]
        if self.sampler is not None:
            order = np.asarray(list(self.sampler), dtype=np.intp)
        else:
            n = len(self.dataset)
            order = rng.permutation(n) if self.shuffle else np.arange(n)
        stops = range(self.batch_size, len(order) + self.batch_size, self.batch_size)
        batches = [order[stop - self.batch_size:stop] for stop in stops]
        if batches and self.drop_last and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def __iter__(self):
        # Everything random about this pass is drawn here, in the caller's thread.
        rng = self.generator if self.generator is not None else get_rng()
        batches = self._batches(rng)
        epoch_seed = int(rng.integers(2**63))
        plan = list(enumerate(batches))
        if self.prefetch == 0:
            return (self._make_batch(epoch_seed, k, indices) for k, indices in plan)
        return _prefetched(self._make_batch, epoch_seed, plan, self.prefetch,
                           self._start_worker)

    def _start_worker(self):
        """Called in the background thread before it prepares a pass's first batch."""

    def _make_batch(self, epoch_seed, k, indices):
        rng = batch_rng(epoch_seed, k)
        if self.collate_fn is not None:
            return self.collate_fn([get_sample(self.dataset, int(i), rng) for i in indices])
        return get_batch(self.dataset, indices, rng)


def batch_rng(epoch_seed, k):
    """The generator that prepares batch ``k`` of the pass with ``epoch_seed``."""
    return np.random.default_rng((epoch_seed, k))


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
    return bool(value)


def _prefetched(make_batch, epoch_seed, plan, depth, start_worker):
    """Yield the batches of ``plan`` while a thread prepares up to ``depth`` of them ahead
    (after calling ``start_worker()`` in it)."""
    batches = queue.Queue(maxsize=depth)
    stop = threading.Event()
    worker = threading.Thread(target=_produce,
                              args=(make_batch, epoch_seed, plan, batches, stop, start_worker),
                              name="minicnn-DataLoader", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = batches.get()
            if kind == "batch":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        # Reached on exhaustion, on an error, and when the caller drops the iterator
        # (breaking out of a for loop closes the generator).
        stop.set()
        while worker.is_alive():
            try:                       # free a slot so a worker blocked in put() sees stop
                batches.get_nowait()
            except queue.Empty:
                pass
            worker.join(_POLL_SECONDS)


def _produce(make_batch, epoch_seed, plan, batches, stop, start_worker):
    """Worker thread: prepare each batch, hand it over, stop when told to."""

    def hand_over(item):
        while not stop.is_set():
            try:
                batches.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    try:
        start_worker()
        for k, indices in plan:
            if stop.is_set() or not hand_over(("batch", make_batch(epoch_seed, k, indices))):
                return
        hand_over(("end", None))
    except BaseException as error:     # re-raised in the caller's thread
        hand_over(("error", error))
