"""MNIST and Fashion-MNIST from their standard IDX files in a local folder (never downloaded).

The four files (each may also be gzipped, ``*.gz``)::

    train-images-idx3-ubyte   train-labels-idx1-ubyte   (60,000)
    t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte    (10,000)

are looked for in ``root``, ``root/raw`` and ``root/<MNIST|FashionMNIST>/raw`` (where
torchvision puts them).

The IDX format (big-endian)::

    bytes 0-1   0, 0
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions, d
    4 * d       the size of each dimension, uint32
    rest        the elements, row-major

so the image files start with 0x00000803 (2051) and the label files with 0x00000801 (2049).
"""

import gzip
from pathlib import Path

import numpy as np

from .dataset import ArrayDataset

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path):
    """The array stored in the IDX file ``path`` (gzipped when it starts with gzip's magic).

    Raises ``ValueError`` naming the file if it is not IDX or is truncated.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path} is a damaged gzip file: {error}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (its first bytes are {raw[:4].hex()}, "
                         f"expected 0000 then a type code in 08/09/0b/0c/0d/0e and the number "
                         f"of dimensions)")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header declares {ndim} dimensions")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path} holds {len(raw)} bytes, but an IDX array of shape {shape} and "
                         f"type {dtype} needs {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find(folders, name):
    for folder in folders:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


class _IDXDigits(ArrayDataset):
    """A dataset in MNIST's four IDX files."""

    name = ""
    folder_name = ""
    source = ""

    def __init__(self, root, train=True, transform=None):
        root = Path(root).expanduser()
        folders = [root, root / "raw", root / self.folder_name / "raw"]
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = [_find(folders, name) for name in names]
        missing = [name for name, path in zip(names, paths) if path is None]
        if missing:
            raise FileNotFoundError(
                f"{self.name}: missing {', '.join(n + '[.gz]' for n in missing)} in {root} "
                f"(also looked in {folders[1]} and {folders[2]}). Download the files from "
                f"{self.source} into that folder (gzipped or not); minicnn does not download "
                f"anything.")
        images, labels = (read_idx(path) for path in paths)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{self.name}: {paths[0]} holds an array of shape {images.shape} and "
                             f"{paths[1]} one of shape {labels.shape}; expected (N, H, W) images "
                             f"and (N,) labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"{self.name}: labels in {paths[1]} must lie in "
                             f"[0, {len(self.classes)}), got {labels.min()}..{labels.max()}")
        # (N, H, W) -> (N, 1, H, W)
        super().__init__(images[:, None], labels.astype(np.int64), transform=transform,
                         scale=1 / 255)
        self.train = train

    def __repr__(self):
        split = "train" if self.train else "test"
        shape = "x".join(str(s) for s in self.images.shape[1:])
        return f"{type(self).__name__}({split}, {len(self)} images of {shape})"


class MNIST(_IDXDigits):
    """MNIST handwritten digits, (1, 28, 28) float32 in [0, 1], labels 0-9.

    Parameters
    ----------
    root : str or Path
        The folder holding the IDX files (see the module docstring).
    train : bool
        The 60,000 training images or the 10,000 test images.
    transform : callable, optional
        Applied to each image (see ``minicnn.data.transforms``).
    """

    name = "MNIST"
    folder_name = "MNIST"
    source = ("http://yann.lecun.com/exdb/mnist/ (mirror: "
              "https://ossci-datasets.s3.amazonaws.com/mnist/)")
    classes = tuple("0123456789")


class FashionMNIST(_IDXDigits):
    """Fashion-MNIST (Zalando's clothing images in MNIST's format), as ``MNIST``."""

    name = "Fashion-MNIST"
    folder_name = "FashionMNIST"
    source = ("https://github.com/zalandoresearch/fashion-mnist (files: "
              "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/)")
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
