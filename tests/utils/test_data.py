"""minicnn.utils.data: PyTorch's import paths, DataLoader yielding Tensors, default_collate."""

import collections
import importlib
import threading

import numpy as np
import pytest

import minicnn
from minicnn.data import ArrayDataset
from minicnn.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                RandomSampler, SequentialSampler, Subset,
                                SubsetRandomSampler, TensorDataset, default_collate,
                                random_split)


def test_pytorch_import_paths_exist():
    import minicnn.nn.functional as F
    assert F is minicnn.functional and minicnn.nn.functional is F
    assert importlib.import_module("minicnn.utils.data.sampler").SubsetRandomSampler \
        is SubsetRandomSampler
    from minicnn.utils.data import sampler
    assert sampler.SequentialSampler is SequentialSampler
    assert minicnn.utils.data.DataLoader is DataLoader      # torch.utils.data.DataLoader
    assert importlib.import_module("minicnn.optim.lr_scheduler").StepLR


class _Squares(Dataset):
    """A user's dataset, written as in PyTorch's tutorials."""

    def __len__(self):
        return 7

    def __getitem__(self, index):
        return np.full((2, 3), index, dtype=np.float32), index * index


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_yields_tensors_as_pytorch(num_workers):
    loader = DataLoader(_Squares(), batch_size=3, num_workers=num_workers)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    images, labels = batches[0]
    assert isinstance(images, minicnn.Tensor) and isinstance(labels, minicnn.Tensor)
    assert images.shape == (3, 2, 3) and images.dtype == np.float32
    assert labels.dtype == np.int64 and labels.data.tolist() == [0, 1, 4]
    assert batches[-1][1].data.tolist() == [36]


def test_drop_last_and_batch_sampler_lengths():
    assert len(DataLoader(_Squares(), batch_size=3, drop_last=True)) == 2
    loader = DataLoader(_Squares(), batch_sampler=BatchSampler(SequentialSampler(range(7)), 2,
                                                               drop_last=False))
    assert [b[1].data.tolist() for b in loader] == [[0, 1], [4, 9], [16, 25], [36]]


def test_default_collate_follows_pytorch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    Point = collections.namedtuple("Point", "x y")
    samples = [(np.arange(3, dtype=np.float32) + i, i, 0.5 * i, True, "s", {"k": i},
                Point(i, float(i)), np.float32(i)) for i in range(4)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    assert type(ours) is list and type(theirs) is list and len(ours) == len(theirs)
    for mine, reference in zip(ours[:4] + [ours[7]], theirs[:4] + [theirs[7]]):
        assert str(mine.dtype) == str(reference.dtype).replace("torch.", "")
        np.testing.assert_array_equal(mine.data, reference.numpy())
    assert ours[4] == theirs[4] == ("s",) * 4
    assert ours[5]["k"].data.tolist() == theirs[5]["k"].tolist()
    assert type(ours[6]) is Point and ours[6].y.dtype == np.float64


def test_default_collate_refuses_what_pytorch_refuses():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])


def test_tensor_dataset_batches_equal_collated_samples():
    x = minicnn.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    y = minicnn.tensor(np.arange(10))
    dataset = TensorDataset(x, y)
    assert len(dataset) == 10 and dataset[3][1].item() == 3
    fast = list(DataLoader(dataset, batch_size=4))
    slow = list(DataLoader(dataset, batch_size=4, collate_fn=default_collate))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.data, sx.data)
        np.testing.assert_array_equal(fy.data, sy.data)
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype == np.int64
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(x, minicnn.tensor(np.arange(9)))


def test_subset_random_sampler_visits_exactly_its_indices():
    minicnn.manual_seed(0)
    loader = DataLoader(_Squares(), batch_size=2, sampler=SubsetRandomSampler(range(2, 6)))
    seen = sorted(int(v) for _, labels in loader for v in labels.data)
    assert seen == [4, 9, 16, 25] and len(loader) == 2


def test_samplers_follow_manual_seed():
    minicnn.manual_seed(3)
    first = list(RandomSampler(range(10)))
    minicnn.manual_seed(3)
    assert list(RandomSampler(range(10))) == first and sorted(first) == list(range(10))
    assert len(list(RandomSampler(range(4), replacement=True, num_samples=9))) == 9
    assert len(RandomSampler(range(3), num_samples=7)) == 7
    assert sorted(RandomSampler(range(3), num_samples=6)) == [0, 0, 1, 1, 2, 2]


def test_shuffle_follows_manual_seed_for_every_num_workers():
    def labels(num_workers):
        minicnn.manual_seed(5)
        return [b[1].data.tolist() for b in DataLoader(_Squares(), batch_size=2, shuffle=True,
                                                        num_workers=num_workers)]
    assert labels(0) == labels(3)
    assert sorted(sum(labels(0), [])) == sorted(i * i for i in range(7))


def test_pytorch_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(_Squares(), sampler=SequentialSampler(range(7)), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(_Squares(), batch_size=4, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(_Squares(), num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(_Squares(), prefetch_factor=2)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


def test_worker_init_fn_runs_in_the_background_thread():
    calls = []
    loader = DataLoader(_Squares(), batch_size=4, num_workers=1,
                        worker_init_fn=lambda worker: calls.append(
                            (worker, threading.current_thread().name)))
    list(loader)
    assert calls == [(0, "minicnn-DataLoader")]
    list(DataLoader(_Squares(), worker_init_fn=calls.append))
    assert len(calls) == 1        # num_workers=0: no worker, no call (as PyTorch)


def test_random_split_fractions_and_concat():
    minicnn.manual_seed(0)
    parts = random_split(_Squares(), [0.5, 0.5])
    assert [len(p) for p in parts] == [4, 3]      # PyTorch: the remainder goes to the first
    assert sorted(p.indices[i] for p in parts for i in range(len(p))) == list(range(7))
    both = _Squares() + _Squares()
    assert isinstance(both, ConcatDataset) and len(both) == 14 and both[8][1] == 1
    subset = Subset(_Squares(), [6, 0])
    assert [b[1].data.tolist() for b in DataLoader(subset, batch_size=2)] == [[36, 0]]


def test_minicnn_data_loader_still_yields_arrays():
    images = np.zeros((4, 1, 2, 2), np.float32)
    batch = next(iter(minicnn.data.DataLoader(ArrayDataset(images, np.arange(4)), 2)))
    assert isinstance(batch[0], np.ndarray) and isinstance(batch[1], np.ndarray)


def test_loader_has_pytorchs_sampler_attributes():
    loader = DataLoader(_Squares(), batch_size=3, shuffle=True, drop_last=True)
    assert isinstance(loader.sampler, RandomSampler) and len(loader.sampler) == 7
    assert isinstance(loader.batch_sampler, BatchSampler) and len(loader) == 2
    assert isinstance(DataLoader(_Squares()).sampler, SequentialSampler)
    subset = SubsetRandomSampler(range(5))
    assert DataLoader(_Squares(), sampler=subset).sampler is subset   # len(loader.sampler): 5


def test_shuffled_batches_equal_minicnn_data_loaders():
    images = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    dataset = ArrayDataset(images, np.arange(10))
    minicnn.manual_seed(2)
    ours = [y.data.tolist() for _, y in DataLoader(dataset, batch_size=4, shuffle=True)]
    minicnn.manual_seed(2)
    theirs = [y.tolist() for _, y in minicnn.data.DataLoader(dataset, 4, shuffle=True)]
    assert ours == theirs
