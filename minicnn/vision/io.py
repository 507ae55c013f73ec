"""``minicnn.vision.io.read_image``: an image file as a uint8 Tensor ``(C, H, W)`` (PIL)."""

import enum

import numpy as np
from PIL import Image

from ..autograd import Tensor

__all__ = ["ImageReadMode", "read_image"]


class ImageReadMode(enum.Enum):
    """torchvision's modes: keep the file's channels, or convert."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
              ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def read_image(path, mode=ImageReadMode.UNCHANGED):
    """Read a JPEG/PNG/... file into a uint8 Tensor ``(C, H, W)`` (C: 1, 2, 3 or 4).

    Raises FileNotFoundError for a missing file and ValueError for one PIL cannot read.
    """
    try:
        with Image.open(path) as image:
            image = image.convert(_PIL_MODES[mode]) if mode in _PIL_MODES else image.copy()
    except Image.UnidentifiedImageError as error:
        raise ValueError(f"read_image: {path} is not an image file PIL can read: {error}") \
            from None
    pixels = np.asarray(image)
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
    return Tensor(np.ascontiguousarray(pixels.transpose(2, 0, 1)))     # (H, W, C) -> (C, H, W)
