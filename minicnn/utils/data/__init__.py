"""``minicnn.utils.data``: PyTorch's ``torch.utils.data``, built on ``minicnn.data``.

    from minicnn.utils.data import DataLoader, Dataset, TensorDataset, random_split
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    for X, y in loader:          # Tensors, collated by PyTorch's default_collate rules
        ...

The datasets, ``Subset``, ``random_split`` and the samplers are ``minicnn.data``'s own
(one implementation); this ``DataLoader`` is ``minicnn.data.DataLoader`` with PyTorch's
signature and PyTorch's batches (Tensors, via ``default_collate`` below) where
``minicnn.data``'s yields NumPy arrays for minicnn's trainer. The submodules
``minicnn.utils.data.sampler``, ``.dataset`` and ``.dataloader`` exist as in PyTorch.
"""

import sys

from ...data.dataset import (ConcatDataset, Dataset, Subset, TensorDataset, random_split)
from ...data import sampler
from ...data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                             SubsetRandomSampler, WeightedRandomSampler)
from . import dataloader, dataset
from .dataloader import DataLoader, default_collate, get_worker_info

__all__ = ["Dataset", "TensorDataset", "ConcatDataset", "Subset", "random_split",
           "DataLoader", "default_collate", "get_worker_info", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "sampler", "dataset", "dataloader"]

# ``import minicnn.utils.data.sampler`` as ``import torch.utils.data.sampler``.
sys.modules[__name__ + ".sampler"] = sampler
