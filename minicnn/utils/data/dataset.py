"""``torch.utils.data.dataset``'s names (the classes live in ``minicnn.data.dataset``)."""

from ...data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ["Dataset", "TensorDataset", "ConcatDataset", "Subset", "random_split"]
