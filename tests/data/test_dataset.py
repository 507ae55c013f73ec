"""Dataset, ArrayDataset, Subset, random_split, default_collate."""

import numpy as np
import pytest

import minicnn
from minicnn.data import ArrayDataset, Dataset, Subset, default_collate, random_split
from minicnn.data import transforms as T


def _images(n=6, c=1, h=3, w=4):
    return np.arange(n * c * h * w, dtype=np.uint8).reshape(n, c, h, w)


def test_array_dataset_item_is_float32_chw_and_int():
    ds = ArrayDataset(_images(), np.arange(6) % 3, scale=0.5)
    image, label = ds[2]
    assert image.dtype == np.float32 and image.shape == (1, 3, 4)
    assert type(label) is int and label == 2
    np.testing.assert_array_equal(image, _images()[2].astype(np.float32) * 0.5)
    assert ds.images.dtype == np.uint8          # kept compact in memory
    assert len(ds) == 6
    np.testing.assert_array_equal(ds[-1][0], ds[5][0])


@pytest.mark.parametrize("images, labels, match", [
    (np.zeros(5), np.zeros(5, int), "images must have shape"),
    (np.zeros((5, 1, 2, 2)), np.zeros(4, int), "same length"),
    (np.zeros((5, 1, 2, 2)), np.array(list("abcde")), "integer"),
    (np.zeros((5, 1, 2, 2)), np.zeros(5, complex), "integer"),
    (np.zeros((5, 1, 2, 2)), np.zeros((5, 1), int), "1-D"),
    (np.zeros((5, 1, 2, 2)), np.float64(0.5), "1-D"),
    (np.array([[["a"]]] * 5), np.zeros(5, int), "images must hold real numbers"),
])
def test_array_dataset_rejects_bad_arrays(images, labels, match):
    with pytest.raises(ValueError, match=match):
        ArrayDataset(images, labels)


@pytest.mark.parametrize("scale", [0, -1.0, float("nan"), float("inf"), "0.5", None, True])
def test_array_dataset_rejects_a_bad_scale(scale):
    with pytest.raises(ValueError, match=f"scale must be a finite number > 0, got {scale!r}"):
        ArrayDataset(_images(), np.zeros(6, int), scale=scale)


def test_float_labels_keep_their_dtype_and_value():
    """Regression targets and soft labels stay floating point (0.9 was truncated to 0)."""
    targets = np.array([0.9, -1.5, 2.25, 0.1, 3.0, 0.5], dtype=np.float32)
    ds = ArrayDataset(_images(), targets)
    assert ds[0][1] == np.float32(0.9) and ds[0][1].dtype == np.float32
    images, labels = ds.get_batch([0, 2], rng=None)
    assert labels.dtype == np.float32
    np.testing.assert_array_equal(labels, [np.float32(0.9), 2.25])
    soft = np.full((6, 3), 1 / 3)
    ds = ArrayDataset(_images(), soft, transform=lambda x: x)       # per-sample path
    images, labels = ds.get_batch([1, 4], rng=None)
    assert labels.shape == (2, 3) and labels.dtype == np.float64
    np.testing.assert_array_equal(labels, soft[[1, 4]])


def test_array_dataset_rejects_bad_transform_and_index():
    with pytest.raises(TypeError, match="transform must be callable"):
        ArrayDataset(_images(), np.zeros(6, int), transform=3)
    ds = ArrayDataset(_images(), np.zeros(6, int))
    with pytest.raises(IndexError, match="index 6 is out of range"):
        ds[6]
    with pytest.raises(TypeError, match="index must be an int"):
        ds[1.0]


def test_get_batch_fast_path_equals_per_sample_stack():
    ds = ArrayDataset(_images(), np.arange(6), scale=1 / 255)
    images, labels = ds.get_batch([4, 0, 2], rng=None)
    assert images.dtype == np.float32 and labels.dtype == np.int64
    assert images.flags.c_contiguous
    expected = default_collate([ds[4], ds[0], ds[2]])
    np.testing.assert_array_equal(images, expected[0])
    np.testing.assert_array_equal(labels, [4, 0, 2])


def test_batchable_transform_applies_to_whole_batch_like_per_sample():
    transform = T.Compose([T.Pad(1), T.Normalize(0.5, 0.25)])
    assert transform.batchable
    ds = ArrayDataset(_images(), np.arange(6), transform=transform, scale=1 / 255)
    images, _ = ds.get_batch([1, 3], rng=None)
    assert images.shape == (2, 1, 5, 6)
    np.testing.assert_allclose(images, np.stack([ds[1][0], ds[3][0]]), rtol=1e-6)


def test_random_transform_in_batch_draws_in_sample_order_from_the_rng():
    ds = ArrayDataset(_images(), np.arange(6), transform=T.RandomCrop(2), scale=1.0)
    batch, _ = ds.get_batch([0, 1, 2], np.random.default_rng(5))
    rng = np.random.default_rng(5)
    singles = np.stack([ds.get(i, rng)[0] for i in (0, 1, 2)])
    np.testing.assert_array_equal(batch, singles)


def test_item_without_rng_follows_manual_seed():
    ds = ArrayDataset(np.random.default_rng(0).random((4, 1, 8, 8)), np.zeros(4, int),
                      transform=T.RandomCrop(3))
    minicnn.manual_seed(3)
    first = ds[0][0]
    minicnn.manual_seed(3)
    np.testing.assert_array_equal(ds[0][0], first)


def test_plain_callable_transform_without_rng():
    ds = ArrayDataset(_images(), np.zeros(6, int), transform=lambda x: x * 2)
    np.testing.assert_array_equal(ds[1][0], _images()[1] * 2.0)
    images, _ = ds.get_batch([1], np.random.default_rng(0))
    np.testing.assert_array_equal(images[0], _images()[1] * 2.0)


def test_base_dataset_get_batch_uses_getitem():
    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full((1, 2, 2), i * i, dtype=np.float64), i

    images, labels = Squares().get_batch([3, 1], rng=None)
    assert images.dtype == np.float32 and images.shape == (2, 1, 2, 2)
    np.testing.assert_array_equal(images[:, 0, 0, 0], [9, 1])
    np.testing.assert_array_equal(labels, [3, 1])
    with pytest.raises(NotImplementedError):
        len(Dataset())


def test_subset_maps_indices_and_keeps_the_fast_path():
    ds = ArrayDataset(_images(), np.arange(6))
    sub = Subset(ds, [5, 1, 3])
    assert len(sub) == 3
    assert sub[0][1] == 5 and sub[-1][1] == 3
    images, labels = sub.get_batch([2, 0], rng=None)
    np.testing.assert_array_equal(labels, [3, 5])
    np.testing.assert_array_equal(images, ds.get_batch([3, 5], rng=None)[0])
    with pytest.raises(IndexError, match=r"\[0, 6\)"):
        Subset(ds, [0, 6])
    with pytest.raises(IndexError):
        sub[3]


def test_random_split_counts_and_pytorch_fraction_rule():
    ds = ArrayDataset(np.zeros((10, 1, 1, 1)), np.arange(10))
    parts = random_split(ds, [0.33, 0.33, 0.34], generator=np.random.default_rng(0))
    # floor gives 3, 3, 3; the one left over goes to the first part (PyTorch's rule)
    assert [len(p) for p in parts] == [4, 3, 3]
    labels = sorted(int(p[i][1]) for p in parts for i in range(len(p)))
    assert labels == list(range(10))                           # disjoint and complete
    again = random_split(ds, [4, 3, 3], generator=np.random.default_rng(0))
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize("lengths", [[5, 4], [11, -1], [0.5, 0.6]])
def test_random_split_rejects_bad_lengths(lengths):
    ds = ArrayDataset(np.zeros((10, 1, 1, 1)), np.arange(10))
    with pytest.raises(ValueError, match="lengths"):
        random_split(ds, lengths)


def test_default_collate():
    images, labels = default_collate([(np.ones((1, 2, 2)), 3), (np.zeros((1, 2, 2)), 7)])
    assert images.dtype == np.float32 and images.shape == (2, 1, 2, 2)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [3, 7])
    _, labels = default_collate([(np.ones((1, 2, 2)), np.uint8(3))])
    assert labels.dtype == np.int64


def test_default_collate_keeps_float_labels_as_pytorch_does():
    image = np.zeros((1, 2, 2))
    _, labels = default_collate([(image, 0.9), (image, 0.1)])
    assert labels.dtype == np.float64                      # torch: float64 for Python floats
    np.testing.assert_array_equal(labels, [0.9, 0.1])
    _, labels = default_collate([(image, np.float32(0.9)), (image, np.float32(0.25))])
    assert labels.dtype == np.float32 and labels[0] == np.float32(0.9)
    _, labels = default_collate([(image, np.array([0.2, 0.8])), (image, np.array([1.0, 0.0]))])
    np.testing.assert_array_equal(labels, [[0.2, 0.8], [1.0, 0.0]])
    with pytest.raises(TypeError, match="labels must be integers, floating-point numbers"):
        default_collate([(image, "cat"), (image, "dog")])


@pytest.mark.parametrize("indices", [[0.5, 1.7], [True, False], [[0, 1]]])
def test_subset_refuses_indices_that_are_not_ints(indices):
    with pytest.raises(ValueError, match="indices must be a 1-D sequence of ints"):
        Subset(ArrayDataset(_images(), np.arange(6)), indices)


def test_random_split_refuses_a_bad_generator():
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        random_split(ArrayDataset(_images(), np.arange(6)), [3, 3], generator=0)
