"""torchvision's datasets ``MNIST``, ``FashionMNIST``, ``CIFAR10``, ``CIFAR100`` and
``ImageFolder``, read from local files.

    training_data = datasets.FashionMNIST(root="data", train=True, transform=ToTensor())
    image, label = training_data[0]       # a (1, 28, 28) float32 Tensor and an int

As torchvision's: items are ``(PIL image, int)`` before ``transform`` and
``target_transform``; ``.data``, ``.targets``, ``.classes``, ``.class_to_idx``, ``.train``
and ``.root`` as torchvision has them (MNIST: ``data`` a uint8 Tensor (N, 28, 28),
``targets`` an int64 Tensor; CIFAR-10: ``data`` a uint8 ndarray (N, 32, 32, 3), ``targets``
a list of ints). The files are those torchvision downloads, in torchvision's layout::

    root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    root/FashionMNIST/raw/...                 (the same four names)
    root/cifar-10-batches-py/data_batch_1 ... data_batch_5, test_batch, batches.meta
    root/cifar-100-python/train, test, meta

``ImageFolder(root)`` reads ``root/<class name>/**/<image file>``, as torchvision's.

minicnn never downloads: without the files, ``download=True`` or not, the error says which
files to put where and where to get them. The readers are ``minicnn.data``'s (IDX files;
CIFAR pickles through an unpickler that rebuilds plain data only).

Random transforms draw from minicnn's generator (``minicnn.manual_seed``); inside a
``DataLoader`` each batch draws from its own generator, see ``minicnn.data.loader``.
"""

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..autograd import Tensor
from ..data import cifar as _cifar
from ..data import mnist as _mnist
from ..data.dataset import Dataset, apply_transform
from ..rng import get_rng

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolder",
           "DatasetNotFoundError", "IMG_EXTENSIONS"]


class DatasetNotFoundError(RuntimeError, FileNotFoundError):
    """The dataset's files are not in ``root`` (torchvision raises RuntimeError; this is one,
    and a FileNotFoundError as minicnn.data's readers raise)."""


def _check_callable(value, name, owner):
    if value is not None and not callable(value):
        raise TypeError(f"{owner}: {name} must be callable or None, got {value!r}")
    return value


class VisionDataset(Dataset):
    """Base class: ``root``, ``transform``, ``target_transform`` and torchvision's ``repr``."""

    _repr_indent = 4

    def __init__(self, root, transform=None, target_transform=None):
        if isinstance(root, (str, os.PathLike)):
            root = os.path.expanduser(root)
        self.root = root
        name = type(self).__name__
        self.transform = _check_callable(transform, "transform", name)
        self.target_transform = _check_callable(target_transform, "target_transform", name)

    def _item(self, index):
        """``(PIL image, int)`` before the transforms."""
        raise NotImplementedError

    def __getitem__(self, index):
        return self.get(index, get_rng())

    def get(self, index, rng):
        """Item ``index`` with random transforms drawing from ``rng``."""
        image, target = self._item(index)
        return (apply_transform(self.transform, image, rng),
                apply_transform(self.target_transform, target, rng))

    def extra_repr(self):
        return ""

    def __repr__(self):
        # torchvision's text, to the character: the transforms block is one entry of the
        # body, so only its first line ("StandardTransform") is indented.
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        transforms = ["StandardTransform"]
        for label, transform in (("Transform: ", self.transform),
                                 ("Target transform: ", self.target_transform)):
            if transform is not None:
                lines = repr(transform).splitlines()
                transforms += [label + lines[0]] + [" " * len(label) + line
                                                    for line in lines[1:]]
        if len(transforms) > 1:
            body.append("\n".join(transforms))
        return "\n".join([f"Dataset {type(self).__name__}"]
                         + [" " * self._repr_indent + line for line in body])


def _split_repr(train):
    return f"Split: {'Train' if train else 'Test'}"


class MNIST(VisionDataset):
    """MNIST digits as torchvision's ``MNIST``: ``(PIL image 'L' 28 x 28, int)`` items.

    Parameters
    ----------
    root : str or Path
        The folder holding ``MNIST/raw/`` (see the module docstring).
    train : bool
        The training files (``train-*``) or the test files (``t10k-*``).
    transform, target_transform : callable, optional
        Applied to the image and to the label.
    download : bool
        minicnn never downloads; with the files present it changes nothing.

    Raises
    ------
    DatasetNotFoundError
        (a RuntimeError) naming the missing files, the folder and where to get them.
    ValueError
        A file that is not in the IDX format.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _reader = _mnist.MNIST

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = Path(self.raw_folder)
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = [_mnist._find([folder], name) for name in names]
        missing = [name for name, path in zip(names, paths) if path is None]
        if missing:
            raise DatasetNotFoundError(
                f"{type(self).__name__}: {', '.join(missing)} (or the same with .gz) not found "
                f"in {folder}. minicnn never downloads (download={download!r}): put the files "
                f"from {self._reader.source} there, as torchvision would have.")
        images, labels = (_mnist.read_idx(path) for path in paths)
        if images.ndim != 3 or labels.shape != (len(images),):
            raise ValueError(f"{type(self).__name__}: {paths[0]} holds shape {images.shape} "
                             f"and {paths[1]} shape {labels.shape}; expected (N, H, W) and (N,)")
        self.data = Tensor(images.astype(np.uint8))                # (N, 28, 28)
        self.targets = Tensor(labels.astype(np.int64))             # (N,)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.data.data)

    def _item(self, index):
        return Image.fromarray(self.data.data[index]), int(self.targets.data[index])

    def extra_repr(self):
        return _split_repr(self.train)


class FashionMNIST(MNIST):
    """Fashion-MNIST as torchvision's ``FashionMNIST`` (files in ``root/FashionMNIST/raw``)."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    _reader = _mnist.FashionMNIST


class CIFAR10(VisionDataset):
    """CIFAR-10 as torchvision's ``CIFAR10``: ``(PIL image 'RGB' 32 x 32, int)`` items.

    Parameters as ``MNIST``; ``root`` holds ``cifar-10-batches-py/``. ``classes`` come from
    ``batches.meta`` (the usual ten names when that file is absent). torchvision also
    compares each file's md5 with the official one; minicnn does not, so files of your own
    in this format work too.
    """

    base_folder = "cifar-10-batches-py"
    archive = "cifar-10-python.tar.gz"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    _label_key, _num_classes = "labels", 10
    _fallback_classes = list(_cifar.CIFAR10.classes)

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = Path(self.root) / self.base_folder
        names = self.train_list if train else self.test_list
        meta = folder / self.meta["filename"]
        missing = [name for name in names if not (folder / name).is_file()]
        if self._fallback_classes is None and not meta.is_file():
            missing.append(self.meta["filename"])
        if missing:
            raise DatasetNotFoundError(
                f"{type(self).__name__}: {', '.join(missing)} not found in {folder}. minicnn "
                f"never downloads (download={download!r}): get {self.archive} from "
                f"https://www.cs.toronto.edu/~kriz/cifar.html and unpack it in {self.root} "
                f"(it makes {self.base_folder}/).")
        batches = [_cifar.read_cifar_batch(folder / name, self._label_key, self._num_classes)
                   for name in names]
        # (N, 3, 32, 32) -> (N, 32, 32, 3): torchvision keeps CIFAR as HWC
        self.data = np.concatenate([images for images, _ in batches]).transpose(0, 2, 3, 1)
        self.targets = np.concatenate([labels for _, labels in batches]).tolist()
        self.classes = (_cifar.read_cifar_meta(meta, self.meta["key"]) if meta.is_file()
                        else list(self._fallback_classes))
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.data)

    def _item(self, index):
        return Image.fromarray(self.data[index]), self.targets[index]

    def extra_repr(self):
        return _split_repr(self.train)


class CIFAR100(CIFAR10):
    """CIFAR-100 as torchvision's ``CIFAR100``: ``root/cifar-100-python/{train, test,
    meta}``, the 100 fine labels, ``classes`` from ``meta`` (required)."""

    base_folder = "cifar-100-python"
    archive = "cifar-100-python.tar.gz"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    _label_key, _num_classes = "fine_labels", 100
    _fallback_classes = None


IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path):
    """The image file ``path`` as an RGB PIL image (torchvision's default loader)."""
    with open(path, "rb") as file:
        return Image.open(file).convert("RGB")


class ImageFolder(VisionDataset):
    """Images sorted into one folder per class, as torchvision's ``ImageFolder``:
    ``root/dog/xxx.png``, ``root/cat/nested/yyy.jpg``, ...

    Classes are the sub-folders' names, sorted (index = position); each class's files are
    found recursively, in sorted order, keeping those with an image extension (or those
    ``is_valid_file(path)`` accepts). Items: ``(loader(path), class index)``.

    Attributes: ``classes``, ``class_to_idx``, ``samples`` (= ``imgs``: ``(path, index)``
    pairs) and ``targets``.

    Raises FileNotFoundError (torchvision's messages) when ``root`` has no class folder, or
    a class folder has no image and ``allow_empty`` is False.
    """

    def __init__(self, root, transform=None, target_transform=None, loader=pil_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.loader = loader
        self.classes = sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir())
        if not self.classes:
            raise FileNotFoundError(f"Couldn't find any class folder in {self.root}.")
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        if is_valid_file is None:
            def is_valid_file(path):
                return path.lower().endswith(IMG_EXTENSIONS)
        self.samples, empty = [], []
        for name in self.classes:
            found = [(os.path.join(folder, file), self.class_to_idx[name])
                     for folder, _, files in sorted(os.walk(os.path.join(self.root, name),
                                                            followlinks=True))
                     for file in sorted(files) if is_valid_file(os.path.join(folder, file))]
            if not found:
                empty.append(name)
            self.samples += found
        if empty and not allow_empty:
            raise FileNotFoundError(f"Found no valid file for the classes "
                                    f"{', '.join(sorted(empty))}. Supported extensions are: "
                                    f"{', '.join(IMG_EXTENSIONS)}")
        self.imgs = self.samples
        self.targets = [index for _, index in self.samples]

    def __len__(self):
        return len(self.samples)

    def _item(self, index):
        path, target = self.samples[index]
        return self.loader(path), target
