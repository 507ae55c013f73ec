"""DataLoader: batching, shuffling, determinism, the prefetching thread and its shutdown."""

import threading
import time

import numpy as np
import pytest

import minicnn
from minicnn.data import ArrayDataset, DataLoader, Dataset, Subset
from minicnn.data import transforms as T


def _dataset(n=10, transform=None):
    images = np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 1, 4, 4), np.float32)
    return ArrayDataset(images, np.arange(n) % 7, transform=transform)


def _loader_threads():
    return [t for t in threading.enumerate() if t.name == "minicnn-DataLoader" and t.is_alive()]


def _collect(loader):
    return [(images.copy(), labels.copy()) for images, labels in loader]


@pytest.mark.parametrize("prefetch", [0, 2])
def test_batches_cover_the_dataset_in_order_without_shuffle(prefetch):
    loader = DataLoader(_dataset(10), batch_size=4, prefetch=prefetch)
    batches = _collect(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 1, 4, 4), (4, 1, 4, 4), (2, 1, 4, 4)]
    assert all(b[0].dtype == np.float32 and b[1].dtype == np.int64 for b in batches)
    firsts = np.concatenate([b[0][:, 0, 0, 0] for b in batches])
    np.testing.assert_array_equal(firsts, np.arange(10))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), np.arange(10) % 7)


def test_drop_last():
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(b[1]) for b in loader] == [4, 4]
    assert len(DataLoader(_dataset(8), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_a_permutation_and_changes_every_pass():
    loader = DataLoader(_dataset(50), batch_size=8, shuffle=True, seed=0)
    first = np.concatenate([b[0][:, 0, 0, 0] for b in loader])
    second = np.concatenate([b[0][:, 0, 0, 0] for b in loader])
    np.testing.assert_array_equal(np.sort(first), np.arange(50))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_shuffle_follows_manual_seed_by_default():
    loader = DataLoader(_dataset(30), batch_size=5, shuffle=True)

    def order(seed):
        minicnn.manual_seed(seed)
        return np.concatenate([b[0][:, 0, 0, 0] for b in loader])

    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


def test_seed_and_generator_give_repeatable_passes():
    a = DataLoader(_dataset(30), batch_size=5, shuffle=True, seed=4)
    b = DataLoader(_dataset(30), batch_size=5, shuffle=True, generator=np.random.default_rng(4))
    for _ in range(2):                       # the same sequence of passes
        for (xa, ya), (xb, yb) in zip(a, b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)


class _SlowRandomCrop(T.RandomCrop):
    """A random transform whose duration varies, to shuffle thread timing."""

    def __call__(self, x, rng=None):
        time.sleep(np.random.default_rng().uniform(0, 0.002))
        return super().__call__(x, rng)


def test_augmentation_does_not_depend_on_thread_timing():
    data = np.random.default_rng(0).random((23, 1, 6, 6)).astype(np.float32)
    ds = ArrayDataset(data, np.zeros(23, int), transform=T.Compose([_SlowRandomCrop(4, padding=1),
                                                                    T.RandomHorizontalFlip()]))
    runs = []
    for prefetch in (0, 1, 3):
        runs.append(_collect(DataLoader(ds, batch_size=5, shuffle=True, seed=9, prefetch=prefetch)))
    for other in runs[1:]:
        for (x0, y0), (x1, y1) in zip(runs[0], other):
            np.testing.assert_array_equal(x0, x1)
    # and the augmentation really is random: two different passes differ
    loader = DataLoader(ds, batch_size=23, seed=9)
    first, second = _collect(loader)[0][0], _collect(loader)[0][0]
    assert not np.array_equal(first, second)


def test_collate_fn_and_plain_dataset():
    class Plain:                     # only __len__ and __getitem__, no minicnn base class
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((1, 2, 2), i, np.float32), i

    batches = _collect(DataLoader(Plain(), batch_size=2))
    np.testing.assert_array_equal(batches[-1][1], [4])
    subset = _collect(DataLoader(Subset(Plain(), [4, 2]), batch_size=2))
    np.testing.assert_array_equal(subset[0][1], [4, 2])
    sizes = list(DataLoader(Plain(), batch_size=2, collate_fn=lambda samples: len(samples)))
    assert sizes == [2, 2, 1]


class _Failing(Dataset):
    def __init__(self, bad_index):
        self.bad_index = bad_index

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == self.bad_index:
            raise ValueError(f"sample {i} is broken")
        return np.zeros((1, 2, 2), np.float32), 0


@pytest.mark.parametrize("prefetch", [0, 2])
def test_worker_exception_is_reraised_in_the_caller(prefetch):
    loader = DataLoader(_Failing(bad_index=7), batch_size=3, prefetch=prefetch)
    seen = 0
    with pytest.raises(ValueError, match="sample 7 is broken"):
        for _ in loader:
            seen += 1
    assert seen == 2                 # batches 0 and 1 arrived, batch 2 (indices 6-8) failed
    assert not _loader_threads()


def test_thread_stops_when_the_loop_breaks_or_the_iterator_is_dropped():
    loader = DataLoader(_dataset(100), batch_size=2, prefetch=2)
    for _ in loader:
        break
    assert not _loader_threads()
    iterator = iter(loader)
    next(iterator)
    assert _loader_threads()
    del iterator
    assert not _loader_threads()


def test_thread_stops_when_the_caller_raises():
    loader = DataLoader(_dataset(100), batch_size=2, prefetch=2)

    def train():
        for i, _ in enumerate(loader):
            if i == 3:
                raise RuntimeError("loss is nan")

    with pytest.raises(RuntimeError, match="loss is nan"):
        train()
    assert not _loader_threads()


def test_prefetch_runs_ahead_but_is_bounded():
    class Counting(Dataset):
        def __init__(self):
            self.prepared = 0

        def __len__(self):
            return 40

        def __getitem__(self, i):
            return np.zeros((1, 1, 1), np.float32), 0

        def get_batch(self, indices, rng):
            self.prepared += 1
            return super().get_batch(indices, rng)

    ds = Counting()
    iterator = iter(DataLoader(ds, batch_size=2, prefetch=2))
    next(iterator)
    deadline = time.monotonic() + 10
    while ds.prepared < 3 and time.monotonic() < deadline:   # the thread works ahead
        time.sleep(0.01)
    assert ds.prepared >= 3
    time.sleep(0.2)
    # one batch in the caller's hands, two in the queue, one waiting to be queued
    assert ds.prepared <= 4
    del iterator
    assert not _loader_threads()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=2.0), ValueError, "batch_size"),
    (dict(batch_size=None), ValueError, "DataLoader: batch_size must be a positive int, got None"),
    (dict(prefetch=-1), ValueError, "prefetch"),
    (dict(seed=1, generator=np.random.default_rng(1)), ValueError, "not both"),
    (dict(seed=-1), ValueError, r"DataLoader: seed must be None or an int >= 0, got -1"),
    (dict(seed=1.5), ValueError, r"DataLoader: seed must be None or an int >= 0, got 1.5"),
    (dict(seed="0"), ValueError, r"DataLoader: seed must be None or an int >= 0, got '0'"),
    (dict(seed=[1, 2]), ValueError, r"DataLoader: seed must be None or an int >= 0"),
    (dict(shuffle="no"), TypeError, "DataLoader: shuffle must be True or False, got 'no'"),
    (dict(drop_last=None), TypeError, "DataLoader: drop_last must be True or False"),
    (dict(generator=3), TypeError, "generator"),
    (dict(collate_fn=3), TypeError, "collate_fn"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(_dataset(), **kwargs)


def test_a_dataset_without_len_is_a_type_error():
    with pytest.raises(TypeError, match="DataLoader: dataset must have len"):
        DataLoader(iter(range(3)))


@pytest.mark.parametrize("prefetch", [0, 2])
def test_float_labels_are_not_truncated(prefetch):
    """A dataset of regression targets: 0.9 stays 0.9 (it was collated to int64 0)."""
    class Targets:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((1, 2, 2), i, np.float32), 0.9 + i

    (_, labels), = list(DataLoader(Targets(), batch_size=5, prefetch=prefetch))
    assert labels.dtype == np.float64
    np.testing.assert_allclose(labels, 0.9 + np.arange(5), rtol=0, atol=1e-15)
    (_, labels), = list(DataLoader(ArrayDataset(np.zeros((3, 1, 1, 1)),
                                                np.array([0.9, 0.5, 0.1], np.float32)),
                                   batch_size=3, prefetch=prefetch))
    assert labels.dtype == np.float32 and labels[0] == np.float32(0.9)
