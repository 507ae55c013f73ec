"""torchvision's ``transforms.functional`` (``import minicnn.vision.transforms.functional as
TF``): the transforms as functions with explicit parameters, on PIL images and Tensors.

Each is the computation of the class of the same name in ``transforms.py`` (the classes
draw random parameters, these take them as arguments).
"""

import numpy as np
from PIL import Image

from ...autograd import Tensor
from .transforms import (CenterCrop, ConvertImageDtype, Grayscale, InterpolationMode,
                         Normalize, Pad, PILToTensor, Resize, ToPILImage, ToTensor, _flip,
                         _image_size, _on_pixels, _type_error, adjust_brightness,
                         adjust_contrast, adjust_hue, adjust_saturation, erase, rotate)

__all__ = ["get_image_size", "get_dimensions", "to_tensor", "pil_to_tensor", "to_pil_image",
           "convert_image_dtype", "normalize", "resize", "pad", "crop", "center_crop",
           "resized_crop", "hflip", "vflip", "rgb_to_grayscale", "to_grayscale",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "rotate", "erase"]


def get_image_size(img):
    """``[width, height]``, as torchvision's."""
    height, width = _image_size(img)
    return [width, height]


def get_dimensions(img):
    """``[channels, height, width]``."""
    if isinstance(img, Image.Image):
        return [len(img.getbands()), img.height, img.width]
    if isinstance(img, Tensor):
        return [1 if img.ndim == 2 else img.shape[-3], *img.shape[-2:]]
    raise _type_error(img)


def to_tensor(pic):
    return ToTensor()(pic)


def pil_to_tensor(pic):
    return PILToTensor()(pic)


def to_pil_image(pic, mode=None):
    return ToPILImage(mode)(pic)


def convert_image_dtype(image, dtype=np.float32):
    return ConvertImageDtype(dtype)(image)


def normalize(tensor, mean, std, inplace=False):
    return Normalize(mean, std, inplace)(tensor)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    return Resize(size, interpolation, max_size, antialias)(img)


def pad(img, padding, fill=0, padding_mode="constant"):
    return Pad(padding, fill, padding_mode)(img)


def crop(img, top, left, height, width):
    """The window with top-left corner ``(top, left)``; parts outside the image are zeros
    (torchvision's rule)."""
    img_h, img_w = _image_size(img)
    grow = (max(-left, 0), max(-top, 0), max(left + width - img_w, 0),
            max(top + height - img_h, 0))
    if any(grow):
        img = pad(img, grow)
        top, left = top + grow[1], left + grow[0]
    return _on_pixels(lambda pixels: pixels[..., top:top + height, left:left + width], img)


def center_crop(img, output_size):
    return CenterCrop(output_size)(img)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def hflip(img):
    return _flip(img, -1)


def vflip(img):
    return _flip(img, -2)


def rgb_to_grayscale(img, num_output_channels=1):
    return Grayscale(num_output_channels)(img)


to_grayscale = rgb_to_grayscale
