"""``minicnn.utils``: PyTorch's ``torch.utils`` import paths (``minicnn.utils.data``)."""

from . import data

__all__ = ["data"]
