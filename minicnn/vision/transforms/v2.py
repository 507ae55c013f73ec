"""torchvision's ``transforms.v2`` names for the transforms minicnn has.

``ToImage()`` is ``PILToTensor`` (also taking ndarrays ``(H, W, C)`` and Tensors);
``ToDtype(dtype, scale=False)`` converts, and with ``scale=True`` rescales uint8 0..255 to
floating 0..1 (and back). Everything else is ``minicnn.vision.transforms``' class.
"""

import numpy as np

from ...autograd import Tensor
from ...dtypes import as_dtype
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, Grayscale,
                         InterpolationMode, Lambda, Normalize, Pad, PILToTensor, RandomApply,
                         RandomChoice, RandomCrop, RandomErasing, RandomHorizontalFlip,
                         RandomOrder, RandomResizedCrop, RandomRotation, RandomVerticalFlip,
                         Resize, ToPILImage, ToTensor, _Transform, _pixels_hwc)

__all__ = ["InterpolationMode", "Compose", "ToImage", "ToDtype", "ToTensor", "PILToTensor",
           "ToPILImage", "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad",
           "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop",
           "RandomRotation", "RandomErasing", "ColorJitter", "Grayscale", "Lambda",
           "RandomApply", "RandomChoice", "RandomOrder"]


class ToImage(_Transform):
    """PIL image or ndarray ``(H, W, C)`` -> Tensor ``(C, H, W)`` of the same dtype; a
    Tensor passes through."""

    def __call__(self, img, rng=None):
        if isinstance(img, Tensor):
            return img
        return Tensor(np.ascontiguousarray(_pixels_hwc(img).transpose(2, 0, 1)))


class ToDtype(_Transform):
    """Convert a Tensor to ``dtype``; ``scale=True`` maps uint8 0..255 to floating 0..1
    (and floating to uint8 back), as ``ConvertImageDtype``."""

    def __init__(self, dtype, scale=False):
        self.dtype, self.scale = as_dtype(dtype), scale

    def __call__(self, img, rng=None):
        if not isinstance(img, Tensor):
            return img                    # v2 leaves what is not an image tensor alone
        if self.scale:
            return ConvertImageDtype(self.dtype)(img)
        return Tensor(img.data.astype(self.dtype))

    def __repr__(self):
        return f"{type(self).__name__}(scale={self.scale})"
