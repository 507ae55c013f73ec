"""minicnn.vision.datasets: torchvision's MNIST/FashionMNIST/CIFAR10 on local files.

Expectations are torchvision's documented behaviour (torchvision is not importable here):
items are (PIL image, int); .data/.targets/.classes as torchvision has them; the files are
those torchvision downloads, in its layout. Fake files are written as /work/compat's
make_data.py writes them (uncompressed IDX, Python 3 pickles with str keys).
"""

import gzip
import pickle
import struct

import numpy as np
import pytest
from PIL import Image

import minicnn
from minicnn.utils.data import DataLoader
from minicnn.vision import datasets, transforms


def _write_idx(path, array, gz=False):
    # IDX: 0, 0, type 0x08 (uint8), ndim, then each size as a big-endian uint32
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def write_mnist(root, name="MNIST", n_train=6, n_test=4, gz=False):
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) * 3 % 10).astype(np.uint8)
        suffix = ".gz" if gz else ""
        _write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", images, gz)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gz)
        arrays[prefix] = images, labels
    return arrays


def write_cifar(root, n=2, meta=True):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        (folder / name).write_bytes(pickle.dumps({"batch_label": name, "data": data,
                                                  "labels": labels,
                                                  "filenames": ["x.png"] * n}))
        written[name] = data, labels
    if meta:
        names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "lorry"]
        (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names,
                                                            "num_cases_per_batch": n}))
    return written


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_items_are_pil_images_and_ints(tmp_path, gz):
    written = write_mnist(tmp_path, gz=gz)
    train = datasets.MNIST(root=tmp_path, train=True)
    image, label = train[4]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert type(label) is int and label == 2
    np.testing.assert_array_equal(np.asarray(image), written["train"][0][4])
    assert len(train) == 6 and len(datasets.MNIST(tmp_path, train=False)) == 4
    assert isinstance(train.data, minicnn.Tensor) and train.data.dtype == np.uint8
    assert train.data.shape == (6, 28, 28) and train.targets.dtype == np.int64
    assert train.classes[0] == "0 - zero" and train.class_to_idx["9 - nine"] == 9


def test_mnist_to_tensor_and_target_transform(tmp_path):
    written = write_mnist(tmp_path, "FashionMNIST")
    data = datasets.FashionMNIST(str(tmp_path), train=False, transform=transforms.ToTensor(),
                                 target_transform=transforms.Lambda(lambda y: y + 100))
    image, label = data[1]
    assert isinstance(image, minicnn.Tensor) and image.shape == (1, 28, 28)
    assert image.dtype == np.float32 and label == 103
    np.testing.assert_allclose(image.data[0], written["t10k"][0][1] / np.float32(255),
                               rtol=1e-6)
    assert data.classes[9] == "Ankle boot"
    # torchvision's text, to the character (its odd indentation included)
    assert repr(data) == (f"Dataset FashionMNIST\n    Number of datapoints: 4\n"
                          f"    Root location: {tmp_path}\n    Split: Test\n"
                          f"    StandardTransform\nTransform: ToTensor()\n"
                          f"Target transform: Lambda()")


def test_missing_files_never_download_and_say_where(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.FashionMNIST(tmp_path, train=True, download=True)
    message = str(info.value)
    assert "never downloads" in message and "train-images-idx3-ubyte" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(RuntimeError, match="cifar-10-python.tar.gz"):
        datasets.CIFAR10(tmp_path, download=True)


def test_cifar10_as_torchvision(tmp_path):
    written = write_cifar(tmp_path, n=2)
    train = datasets.CIFAR10(root=tmp_path, train=True)
    assert len(train) == 10 and train.data.shape == (10, 32, 32, 3)
    assert train.data.dtype == np.uint8 and train.targets == sum(
        (written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    image, label = train[3]                   # data_batch_2, row 1
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    row = written["data_batch_2"][0][1]
    for y, x, c in [(0, 0, 0), (5, 7, 1), (31, 30, 2)]:
        assert image.getpixel((x, y))[c] == row[c * 1024 + y * 32 + x]
    assert train.classes[-1] == "lorry" and train.class_to_idx["car"] == 1   # from the meta
    test = datasets.CIFAR10(tmp_path, train=False)
    assert len(test) == 2


def test_cifar10_without_meta_uses_the_usual_names(tmp_path):
    write_cifar(tmp_path, meta=False)
    assert datasets.CIFAR10(tmp_path).classes[0] == "airplane"


def test_loader_over_a_vision_dataset_repeats_its_augmentation(tmp_path):
    write_cifar(tmp_path, n=4)
    augment = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                  transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                  transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    data = datasets.CIFAR10(tmp_path, transform=augment)

    def epoch(num_workers):
        minicnn.manual_seed(11)
        return [x.data.copy() for x, _ in DataLoader(data, batch_size=8, shuffle=True,
                                                     num_workers=num_workers)]

    first, again = epoch(0), epoch(2)
    assert len(first) == 3 and first[0].shape == (8, 3, 32, 32)
    assert first[0].flags.c_contiguous             # .view() works on a batch, as in PyTorch
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_image_folder_as_torchvision(tmp_path):
    for name, shade in (("dog", 10), ("cat", 200)):
        (tmp_path / name / "deep").mkdir(parents=True)
        Image.fromarray(np.full((4, 6, 3), shade, np.uint8)).save(tmp_path / name / "b.png")
        Image.fromarray(np.full((4, 6), shade, np.uint8)).save(tmp_path / name / "deep" / "a.png")
        (tmp_path / name / "notes.txt").write_text("not an image")
    folder = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert folder.classes == ["cat", "dog"] and folder.class_to_idx == {"cat": 0, "dog": 1}
    assert len(folder) == 4 and folder.targets == [0, 0, 1, 1]
    assert folder.imgs[0][0].endswith("b.png") and folder.imgs[1][0].endswith("a.png")
    image, label = folder[1]                           # grey file, read as RGB
    assert image.shape == (3, 4, 6) and label == 0
    np.testing.assert_allclose(image.data, 200 / 255, rtol=1e-6)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    assert len(datasets.ImageFolder(tmp_path, allow_empty=True)) == 4
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path / "empty")


def test_cifar100_reads_fine_labels_and_names(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data = np.random.default_rng(2).integers(0, 256, (3, 3072), dtype=np.uint8)
    for name in ("train", "test"):
        (folder / name).write_bytes(pickle.dumps({"data": data, "fine_labels": [99, 0, 42],
                                                  "coarse_labels": [1, 2, 3]}))
    with pytest.raises(RuntimeError, match="meta not found.*cifar-100-python.tar.gz"):
        datasets.CIFAR100(tmp_path)
    names = [f"class{i}" for i in range(100)]
    (folder / "meta").write_bytes(pickle.dumps({"fine_label_names": names,
                                                "coarse_label_names": ["x"] * 20}))
    train = datasets.CIFAR100(tmp_path, train=True)
    assert train.targets == [99, 0, 42] and train.classes[99] == "class99"
    assert train.data.shape == (3, 32, 32, 3) and len(datasets.CIFAR100(tmp_path, False)) == 3
