"""Data: datasets, the ``DataLoader``, transforms and the built-in digits.

    from minicnn.data import BuiltinDigits, DataLoader, transforms as T
    train = BuiltinDigits(train=True, transform=T.Pad(2))           # 1 x 32 x 32 for LeNet-5
    for images, labels in DataLoader(train, batch_size=64, shuffle=True):
        ...   # images: float32 ndarray (64, 1, 32, 32); labels: int64 ndarray (64,)

Batches are NumPy arrays; wrap them with ``minicnn.Tensor`` for a model (or use
``minicnn.utils.data.DataLoader``, this loader with PyTorch's signature, yielding Tensors).
Files: ``dataset`` (Dataset, ArrayDataset, TensorDataset, ConcatDataset, Subset,
random_split), ``sampler`` (PyTorch's samplers), ``loader`` (DataLoader with a prefetching
thread), ``transforms``, ``builtin`` (the generated digits), ``mnist``
(MNIST/Fashion-MNIST IDX files), ``cifar`` (CIFAR-10 python batches), ``sklearn_digits``
(scikit-learn's 8 x 8 digits), ``cache`` (the cache folder).
"""

from . import transforms
from .builtin import BuiltinDigits, generate_digits
from .cache import cache_dir
from .cifar import CIFAR10, read_cifar_batch
from . import sampler
from .dataset import (ArrayDataset, ConcatDataset, Dataset, Subset, TensorDataset,
                      default_collate, random_split)
from .loader import DataLoader
from .mnist import MNIST, FashionMNIST, read_idx
from .sklearn_digits import SklearnDigits

__all__ = ["Dataset", "ArrayDataset", "TensorDataset", "ConcatDataset", "Subset",
           "random_split", "default_collate", "sampler",
           "DataLoader", "BuiltinDigits", "generate_digits", "MNIST", "FashionMNIST",
           "read_idx", "CIFAR10", "read_cifar_batch", "SklearnDigits", "cache_dir",
           "transforms"]
