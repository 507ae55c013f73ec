"""``minicnn.vision.utils``: ``make_grid`` (a batch of images tiled into one image) and
``save_image`` (that grid written as a PNG/JPEG file), torchvision's."""

import math

import numpy as np
from PIL import Image

from ..autograd import Tensor

__all__ = ["make_grid", "save_image"]


def _normalized(images, value_range):
    """``images`` clamped to ``value_range`` (default: their min and max) and mapped to [0, 1]."""
    low, high = value_range if value_range is not None else (images.min(), images.max())
    low, high = float(low), float(high)
    return (np.clip(images, low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """Tile images ``(N, C, H, W)`` (or a list of ``(C, H, W)``) into ``(C, H', W')``.

    Parameters
    ----------
    tensor : Tensor (N, C, H, W), (C, H, W) or (H, W), or a list of Tensors (C, H, W)
        One-channel images are repeated to three channels (as torchvision).
    nrow : int
        Images per row of the grid; rows: ``ceil(N / nrow)``.
    padding : int
        Pixels of ``pad_value`` around and between the images.
    normalize : bool
        Shift and scale to [0, 1] by ``value_range`` (``(min, max)``; default the images'
        own), per image when ``scale_each``.

    Returns
    -------
    Tensor (C, rows * (H + padding) + padding, cols * (W + padding) + padding); a single
    image comes back without padding, as in torchvision.

    Raises
    ------
    TypeError
        Not a Tensor or list of Tensors; ``value_range`` not a tuple.
    """
    if isinstance(tensor, list):
        for item in tensor:
            if not isinstance(item, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing "
                                f"{type(item)}")
        images = np.stack([item.data for item in tensor])
    elif isinstance(tensor, Tensor):
        images = tensor.data
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if images.ndim == 2:
        images = images[None]                                    # (H, W) -> (1, H, W)
    if images.ndim == 3:
        images = images[None]                                    # (C, H, W) -> (1, C, H, W)
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)                    # grey -> RGB
    dtype = images.dtype
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and "
                            "max are numbers")
        if scale_each:
            images = np.stack([_normalized(image, value_range) for image in images])
        else:
            images = _normalized(images, value_range)
        images = images.astype(dtype, copy=False)
    if images.shape[0] == 1:
        return Tensor(images[0].copy())
    count, channels, height, width = images.shape
    cols = min(nrow, count)
    rows = int(math.ceil(count / cols))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, rows * cell_h + padding, cols * cell_w + padding), pad_value,
                   dtype=images.dtype)
    for k in range(count):
        top, left = (k // cols) * cell_h + padding, (k % cols) * cell_w + padding
        grid[:, top:top + height, left:left + width] = images[k]
    return Tensor(grid)


def save_image(tensor, fp, format=None, **grid_kwargs):
    """Write ``make_grid(tensor, **grid_kwargs)`` to ``fp`` (a path or file) as an image.

    Values in [0, 1] become 0..255 as torchvision rounds them (``x * 255 + 0.5``, clipped).
    ``format`` overrides the file name's extension (PIL's format names, e.g. ``"PNG"``).
    """
    grid = make_grid(tensor, **grid_kwargs).data
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
