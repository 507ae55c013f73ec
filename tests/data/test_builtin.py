"""The built-in digits: shapes, balance, determinism, the cache, and a learnable signal."""

import numpy as np
import pytest

from minicnn.data import BuiltinDigits, builtin, generate_digits
from minicnn.data import transforms as T


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache folder for every test."""
    monkeypatch.setenv("MINICNN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def sample():
    return generate_digits(2000, seed=0)


def test_shapes_dtypes_and_balanced_classes(sample):
    images, labels = sample
    assert images.shape == (2000, 1, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 200))


def test_images_look_like_ink_on_a_dark_background(sample):
    images = sample[0][:, 0].astype(np.float64) / 255
    ink = (images > 0.5).mean(axis=(1, 2))            # MNIST: about 0.1-0.2 of the pixels
    assert ink.min() > 0.015 and ink.max() < 0.45 and 0.08 < ink.mean() < 0.25
    assert np.all(images.max(axis=(1, 2)) > 0.6)
    assert np.median(images) < 0.1                     # background, with a little noise
    # centred: the centre of mass of the ink stays near the middle of the image
    ys, xs = np.mgrid[0:28, 0:28] + 0.5
    mass = images.sum(axis=(1, 2))
    for grid in (ys, xs):
        centre = (images * grid).sum(axis=(1, 2)) / mass
        assert np.all(np.abs(centre - 14) < 6)


def test_deterministic_by_seed_and_split(sample):
    images, labels = generate_digits(1000, seed=0)
    np.testing.assert_array_equal(images, sample[0][:1000])
    np.testing.assert_array_equal(labels, sample[1][:1000])
    other, _ = generate_digits(1000, seed=1)
    test, _ = generate_digits(1000, seed=0, train=False)
    assert not np.array_equal(other, sample[0][:1000])
    assert not np.array_equal(test, sample[0][:1000])


def test_a_smaller_set_is_a_prefix_of_a_larger_one(sample):
    images, labels = generate_digits(1234, seed=0)
    np.testing.assert_array_equal(images, sample[0][:1234])
    np.testing.assert_array_equal(labels, sample[1][:1234])


def test_classes_are_learnable_but_not_trivially(sample):
    """Ridge regression onto one-hot targets: far above chance, below perfect."""
    images, labels = sample
    x = images.reshape(len(images), -1) / 255.0
    x = np.hstack([x, np.ones((len(x), 1))])
    train, test = slice(0, 1500), slice(1500, None)
    targets = np.eye(10)[labels[train]]
    weights = np.linalg.solve(x[train].T @ x[train] + 10 * np.eye(x.shape[1]),
                              x[train].T @ targets)
    accuracy = ((x[test] @ weights).argmax(1) == labels[test]).mean()
    assert 0.5 < accuracy < 0.97


def test_dataset_items_transform_and_size(cache):
    ds = BuiltinDigits(size=30, transform=T.Pad(2))
    image, label = ds[0]
    assert image.shape == (1, 32, 32) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1 and isinstance(label, int)
    assert len(ds) == 30 and ds.classes[3] == "3" and "train" in repr(ds)
    assert len(BuiltinDigits(train=False, size=20)) == 20
    for bad in (0, 60_001, 2.5):
        with pytest.raises(ValueError, match="size must be"):
            BuiltinDigits(size=bad)
    with pytest.raises(ValueError, match=r"\[1, 10000\]"):
        BuiltinDigits(train=False, size=10_001)


def test_cache_is_written_once_and_reused(cache, monkeypatch):
    first = BuiltinDigits(size=50)
    files = list(cache.iterdir())
    assert [f.name for f in files] == ["builtin-digits-v1-train-seed0-n50.npz"]

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached images should have been used")

    monkeypatch.setattr(builtin, "generate_digits", no_generation)
    again = BuiltinDigits(size=50)
    np.testing.assert_array_equal(again.images, first.images)
    np.testing.assert_array_equal(again.labels, first.labels)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "wrong shape"])
def test_a_damaged_cache_file_is_regenerated(cache, damage):
    expected = BuiltinDigits(size=40)
    path = cache / "builtin-digits-v1-train-seed0-n40.npz"
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[:len(raw) // 2]
    elif damage == "flip":
        raw[len(raw) // 2] ^= 0xFF                    # caught by the zip checksum
    elif damage == "garbage":
        raw = bytearray(b"not an npz file")
    else:
        np.savez(path, images=np.zeros((3, 1, 28, 28), np.uint8), labels=np.zeros(3, int))
        raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw))
    again = BuiltinDigits(size=40)
    np.testing.assert_array_equal(again.images, expected.images)
    # and the repaired file is valid again; no temporary files are left behind
    assert builtin._valid(np.load(path), 40)
    assert [f.name for f in cache.iterdir()] == [path.name]


def test_cache_false_writes_nothing(cache):
    BuiltinDigits(size=10, cache=False)
    assert not cache.exists()
