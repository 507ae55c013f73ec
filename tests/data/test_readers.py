"""MNIST / Fashion-MNIST IDX files, CIFAR-10 python batches, scikit-learn's digits.

The tests write small files in the real formats (IDX with its magic numbers, raw and
gzipped; pickled CIFAR batches) and read them back.
"""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from minicnn.data import CIFAR10, MNIST, FashionMNIST, read_cifar_batch, read_idx

_TYPE_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B,
               np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array):
    """``array`` in the IDX format: 0, 0, type code, ndim, big-endian sizes, data."""
    array = np.asarray(array)
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = struct.pack(">BBBB", 0, 0, _TYPE_CODES[big.dtype], array.ndim)
    return header + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()


def write_mnist(folder, n_train=6, n_test=4, h=5, w=4, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, h, w), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for name, array in ((f"{prefix}-images-idx3-ubyte", images),
                            (f"{prefix}-labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            if gz:
                name, data = name + ".gz", gzip.compress(data)
            (folder / name).write_bytes(data)
        arrays[prefix] = (images, labels)
    return arrays


def test_idx_header_is_the_documented_magic_number():
    assert idx_bytes(np.zeros((2, 3, 3), np.uint8))[:4] == struct.pack(">I", 2051)
    assert idx_bytes(np.zeros(2, np.uint8))[:4] == struct.pack(">I", 2049)


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_round_trips_every_type_raw_and_gzipped(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "u1":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("a", "a.gz"):
        out = read_idx(tmp_path / name)
        assert out.shape == (2, 3, 4) and out.dtype.isnative
        np.testing.assert_array_equal(out, array)


def test_read_idx_rejects_wrong_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match=r"bad is not an IDX file"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(idx_bytes(np.zeros((3, 2, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"short holds 27 bytes.*needs 28"):
        read_idx(short)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_both_splits(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    train, test = MNIST(tmp_path), MNIST(tmp_path, train=False)
    assert len(train) == 6 and len(test) == 4
    image, label = train[3]
    assert image.shape == (1, 5, 4) and image.dtype == np.float32
    np.testing.assert_allclose(image[0], arrays["train"][0][3] / 255, rtol=1e-6)
    assert label == arrays["train"][1][3]
    np.testing.assert_array_equal(test.labels, arrays["t10k"][1])
    assert test.labels.dtype == np.int64


def test_mnist_finds_torchvision_layout_and_transform_applies(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, transform=lambda x: x[:, :2])
    assert ds[0][0].shape == (1, 2, 4)


def test_missing_files_error_names_files_folder_and_source(tmp_path):
    write_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    MNIST(tmp_path)                                  # the training files are all there
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message and "t10k-images" not in message
    assert str(tmp_path) in message and "yann.lecun.com/exdb/mnist" in message
    with pytest.raises(FileNotFoundError, match="zalandoresearch/fashion-mnist") as info:
        FashionMNIST(tmp_path / "nowhere")
    assert "train-images-idx3-ubyte" in str(info.value)


def test_fashion_mnist_reads_the_same_format(tmp_path):
    write_mnist(tmp_path / "FashionMNIST" / "raw", gz=True, seed=3)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 4 and ds.classes[9] == "Ankle boot"


def test_mnist_rejects_mismatched_files(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(ValueError, match=r"shape \(6, 5, 4\).*shape \(5,\)"):
        MNIST(tmp_path)


# ----------------------------------------------------------------------------- CIFAR-10

def write_cifar_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    batch = {b"batch_label": b"testing batch", b"labels": labels, b"data": data,
             b"filenames": [b"img%d.png" % i for i in range(n)]}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return data, labels


def write_cifar(root, n=3):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    written = [write_cifar_batch(folder / f"data_batch_{i}", n, i) for i in range(1, 6)]
    written.append(write_cifar_batch(folder / "test_batch", n + 1, 9))
    return written


def test_cifar10_reads_train_and_test_from_parent_or_folder(tmp_path):
    written = write_cifar(tmp_path)
    train = CIFAR10(tmp_path)
    assert len(train) == 15 and train.images.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(train.labels, sum((w[1] for w in written[:5]), []))
    # row = 1024 red values, then 1024 green, then 1024 blue, each row-major 32 x 32
    data = written[1][0]                                 # data_batch_2 -> samples 3..5
    image, _ = train[4]
    assert image.dtype == np.float32
    for c, y, x in [(0, 0, 0), (1, 5, 7), (2, 31, 30)]:
        assert image[c, y, x] == np.float32(data[1, c * 1024 + y * 32 + x]) * np.float32(1 / 255)
    test = CIFAR10(tmp_path / "cifar-10-batches-py", train=False)
    assert len(test) == 4
    np.testing.assert_array_equal(test.labels, written[5][1])


def test_cifar10_missing_files_error(tmp_path):
    write_cifar(tmp_path)
    os.remove(tmp_path / "cifar-10-batches-py" / "data_batch_3")
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(tmp_path)
    message = str(info.value)
    assert "data_batch_3" in message and "data_batch_2" not in message
    assert "cifar-10-batches-py" in message and "cs.toronto.edu/~kriz/cifar" in message
    CIFAR10(tmp_path, train=False)                       # the test batch is still there


def test_cifar_batch_with_numpy1_module_name_and_python2_string_keys(tmp_path):
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    array_pickle = pickle.dumps(data, protocol=2)
    assert b"numpy._core.multiarray" in array_pickle or b"numpy.core.multiarray" in array_pickle
    array_pickle = array_pickle.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    # As Python 2 wrote them: keys are byte strings (SHORT_BINSTRING), read back as bytes.
    body = array_pickle[2:-1]                            # without PROTO and STOP
    py2 = b"\x80\x02}(U\x04data" + body + b"U\x06labels](K\x03K\x01eu."
    path = tmp_path / "batch"
    path.write_bytes(py2)
    images, labels = read_cifar_batch(path)
    np.testing.assert_array_equal(images.reshape(2, -1), data)
    np.testing.assert_array_equal(labels, [3, 1])


def test_cifar_batch_written_by_python3_has_str_keys(tmp_path):
    # torchvision reads with encoding='latin1' and str keys; batches written by Python 3
    # (as /work/compat/make_data.py and many re-packaged copies do) have str keys.
    data = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072) % 251
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"batch_label": "b", "data": data, "labels": [7, 2],
                                   "filenames": ["a.png", "b.png"]}))
    images, labels = read_cifar_batch(path)
    np.testing.assert_array_equal(images.reshape(2, -1), data)
    np.testing.assert_array_equal(labels, [7, 2])


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


@pytest.mark.parametrize("payload, refused", [
    ({b"data": _Exploit(), b"labels": []}, "system"),
    ({b"data": np.array([object()] * 3072, dtype=object)[None], b"labels": [0]}, "object"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": __import__("collections").deque([0])},
     "collections.deque"),
])
def test_cifar_unpickler_refuses_anything_but_plain_data(tmp_path, payload, refused):
    path = tmp_path / "evil"
    try:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    except pickle.PicklingError:
        pytest.skip("this payload cannot be pickled here")
    with pytest.raises(ValueError, match=refused):
        read_cifar_batch(path)


@pytest.mark.parametrize("payload, match", [
    ([1, 2], "expected a dict"),
    ({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, r"\(N, 3072\)"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "must hold 2 ints"),
    ({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, r"\[0, 9\]"),
])
def test_cifar_batch_rejects_wrong_contents(tmp_path, payload, match):
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=match):
        read_cifar_batch(path)


# ----------------------------------------------------------------------------- scikit-learn

def test_sklearn_digits_split_is_fixed_and_disjoint():
    pytest.importorskip("sklearn")
    from minicnn.data import SklearnDigits
    train, test = SklearnDigits(), SklearnDigits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 359
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1 and image.max() > 0.9
    np.testing.assert_array_equal(SklearnDigits().labels, train.labels)
    # the 1,797 images are all different, so a disjoint split shares none
    assert not {img.tobytes() for img in train.images} & {img.tobytes() for img in test.images}
