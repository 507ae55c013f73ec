"""``minicnn.vision.transforms``: torchvision's ``transforms`` (see ``transforms.py``).

``minicnn.vision.transforms.v2`` has the same classes plus v2's ``ToImage`` and
``ToDtype``; ``minicnn.vision.transforms.functional`` (``TF``) the functions.
"""

from . import functional, v2
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, Grayscale,
                         InterpolationMode, Lambda, Normalize, Pad, PILToTensor, RandomApply,
                         RandomChoice, RandomCrop, RandomErasing, RandomHorizontalFlip,
                         RandomOrder, RandomResizedCrop, RandomRotation, RandomVerticalFlip,
                         Resize, ToPILImage, ToTensor)

__all__ = ["InterpolationMode", "Compose", "ToTensor", "PILToTensor", "ToPILImage",
           "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop", "RandomRotation",
           "RandomErasing", "ColorJitter", "Grayscale", "Lambda", "RandomApply",
           "RandomChoice", "RandomOrder", "functional", "v2"]
