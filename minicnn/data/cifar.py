"""CIFAR-10 from its python batches in a local folder (never downloaded).

``cifar-10-python.tar.gz`` unpacks to ``cifar-10-batches-py/`` with ``data_batch_1`` ...
``data_batch_5`` (10,000 training images each) and ``test_batch`` (10,000). Each is a
pickled dict with ``'data'``, a uint8 array (10000, 3072) whose rows are the red, green
and blue 32 x 32 planes one after another, and ``'labels'``, a list of ints 0-9 (the
official files were pickled by Python 2, so their keys are bytes, ``b'data'``; files
written by Python 3 have str keys: both are read).

Unpickling can run arbitrary code, so the batches are read with an unpickler that only
rebuilds plain data: dicts, lists, strings, bytes and NumPy arrays of numbers. Any other
global a file names is refused with an error.
"""

import pickle
from pathlib import Path

import numpy as np

from .dataset import ArrayDataset

__all__ = ["CIFAR10", "read_cifar_batch", "read_cifar_meta"]

SOURCE = ("https://www.cs.toronto.edu/~kriz/cifar.html (file: "
          "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz)")
_FOLDER = "cifar-10-batches-py"

# NumPy pickles an array as _reconstruct(ndarray, shape, dtype) followed by __setstate__;
# the function lives in numpy.core (NumPy 1) or numpy._core (NumPy 2): take it from an array.
_numpy_reconstruct = np.zeros(0).__reduce__()[0]


def _reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(f"refusing to rebuild an array of type {subtype!r}")
    return _numpy_reconstruct(np.ndarray, shape, dtype)


def _dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing an array of Python objects (dtype {dtype})")
    return dtype


def _encode(text, encoding):
    # Protocol 2 stores Python 3 bytes as _codecs.encode(str, 'latin1').
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("_codecs", "encode"): _encode,
}


class _PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds plain data and NumPy arrays, and refuses anything else."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only plain data (dicts, lists, bytes, "
                f"NumPy arrays) is allowed") from None


def read_cifar_batch(path, label_key="labels", num_classes=10):
    """Images and labels of one CIFAR python batch file.

    Parameters
    ----------
    path : str or Path
    label_key : str
        ``'labels'`` (CIFAR-10) or ``'fine_labels'``/``'coarse_labels'`` (CIFAR-100).
    num_classes : int
        Labels must lie in ``[0, num_classes)``.

    Returns
    -------
    images : ndarray, uint8, (N, 3, 32, 32)
    labels : ndarray, int64, (N,)
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            # The official files were written by Python 2: keep their strings as bytes.
            batch = _PlainDataUnpickler(file, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as error:
        raise ValueError(f"{path} is not a CIFAR python batch: {error}") from None
    if isinstance(batch, dict):
        # Python 2 wrote the official files (keys come back as bytes); a batch written by
        # Python 3 in the same format has str keys.
        batch = {key.decode("latin1") if isinstance(key, bytes) else key: value
                 for key, value in batch.items()}
    if not isinstance(batch, dict) or "data" not in batch or label_key not in batch:
        keys = sorted(map(str, batch)) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{path} is not a CIFAR python batch: expected a dict with 'data' "
                         f"and {label_key!r}, got {keys}")
    data = np.asarray(batch["data"])
    labels = np.asarray(batch[label_key])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: 'data' must be a uint8 array (N, 3072), got dtype "
                         f"{data.dtype} and shape {data.shape}")
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: {label_key!r} must hold {len(data)} ints, got shape "
                         f"{labels.shape} and dtype {labels.dtype}")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{path}: labels must lie in [0, {num_classes - 1}], got "
                         f"{labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)   # (N, 3072) -> (N, 3, 32, 32)


def read_cifar_meta(path, key="label_names"):
    """The class names of a CIFAR meta file (``batches.meta``: ``label_names``; CIFAR-100's
    ``meta``: ``fine_label_names``), as a list.

    Raises ``ValueError`` naming the file if it is not such a file.
    """
    path = Path(path)
    try:
        with open(path, "rb") as file:
            meta = _PlainDataUnpickler(file, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError) as error:
        raise ValueError(f"{path} is not a CIFAR meta file: {error}") from None
    names = meta.get(key) if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, (str, bytes)) for n in names):
        raise ValueError(f"{path} is not a CIFAR meta file: expected a dict whose {key!r} is "
                         f"a list of strings")
    return [n.decode("latin1") if isinstance(n, bytes) else n for n in names]


class CIFAR10(ArrayDataset):
    """CIFAR-10: 32 x 32 colour images, (3, 32, 32) float32 in [0, 1], 10 classes.

    Parameters
    ----------
    root : str or Path
        ``cifar-10-batches-py`` itself or the folder that contains it.
    train : bool
        The five training batches (50,000 images) or the test batch (10,000).
    transform : callable, optional
        Applied to each image (see ``minicnn.data.transforms``).
    """

    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")

    def __init__(self, root, train=True, transform=None):
        root = Path(root).expanduser()
        folder = root if (root / "test_batch").exists() or root.name == _FOLDER else root / _FOLDER
        names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        missing = [name for name in names if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(
                f"CIFAR-10: missing {', '.join(missing)} in {folder}. Download "
                f"cifar-10-python.tar.gz from {SOURCE} and unpack it in {root} (it makes "
                f"{_FOLDER}/); minicnn does not download anything.")
        batches = [read_cifar_batch(folder / name) for name in names]
        super().__init__(np.concatenate([images for images, _ in batches]),
                         np.concatenate([labels for _, labels in batches]),
                         transform=transform, scale=1 / 255)
        self.train = train

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"CIFAR10({split}, {len(self)} images of 3x32x32)"
