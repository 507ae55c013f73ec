"""Transforms: callables on one image, ``transform(x, rng=None) -> array``, as torchvision's.

``x`` is a ``(C, H, W)`` array (float32 in [0, 1] from minicnn's datasets). Random
transforms draw from ``rng`` (a ``numpy.random.Generator``; minicnn's generator when
``None``), so the same generator state gives the same augmentation. Deterministic
transforms ignore ``rng`` and also accept a batch ``(..., C, H, W)``: they set
``batchable = True``, which lets ``ArrayDataset`` apply them to a whole batch at once.

    Compose([...])                chain; batchable when every part is
    ToFloat(scale=1/255)          uint8 -> float32 * scale
    Normalize(mean, std)          (x_c - mean_c) / std_c per channel
    Grayscale(n)                  0.2989 R + 0.587 G + 0.114 B, repeated to n channels
    Pad(padding)                  int, (left/right, top/bottom) or (left, top, right, bottom)
    CenterCrop(size)              the middle (h, w) window; top = round((H - h) / 2)
    RandomCrop(size, padding)     pad, then a uniformly placed (h, w) window
    RandomHorizontalFlip(p)       x[..., ::-1] with probability p
    ColorJitter(b, c, s, h)       brightness, contrast, saturation factors in [1 - v, 1 + v],
                                  hue shifted by up to h turns
    ColorShift(shift)             add a per-channel offset drawn from U(-shift, shift)
    PCAColorAugmentation          AlexNet's lighting noise (below)
    FiveCrop(size), TenCrop(size) test-time crops stacked as (5 or 10, C, h, w)

PCA colour augmentation (Krizhevsky et al. 2012, sec. 4.1). Let ``p_i, lambda_i`` be the
eigenvectors and eigenvalues of the 3 x 3 covariance of the RGB values of all training
pixels (``pca_color_components`` computes them). Each image gets one draw
``alpha_i ~ N(0, std^2)`` (std 0.1) and every pixel the same shift

    delta = [p_1 p_2 p_3] [alpha_1 lambda_1, alpha_2 lambda_2, alpha_3 lambda_3]^T,

so the change lies along the principal components, has mean zero, and is largest along the
direction in which the training colours vary most.

FiveCrop returns the crops in torchvision's order (top-left, top-right, bottom-left,
bottom-right, centre); TenCrop appends the five crops of the horizontally flipped image
(torchvision's rule: its first extra crop is the flip of the top-right crop). A model
evaluates all of them and averages the predictions (test-time augmentation).
"""

import numbers

import numpy as np

from ..rng import get_rng
from .dataset import apply_transform

__all__ = ["Transform", "Compose", "ToFloat", "Normalize", "Grayscale", "Pad", "CenterCrop",
           "RandomCrop", "RandomHorizontalFlip", "ColorJitter", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_hue", "ColorShift",
           "PCAColorAugmentation", "pca_color_components", "FiveCrop", "TenCrop"]

_PAD_MODES = ("constant", "edge", "reflect", "symmetric")
_LUMA = (0.2989, 0.587, 0.114)     # torchvision's rgb_to_grayscale weights


class Transform:
    """Base class. ``batchable``: deterministic and valid on ``(..., C, H, W)`` batches."""

    batchable = False
    accepts_rng = True

    def __call__(self, x, rng=None):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def _rng(rng):
    return get_rng() if rng is None else rng


def _image(x, name="x"):
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"{name} must have shape (C, H, W) (or a batch (..., C, H, W)), got "
                         f"shape {x.shape}")
    return x


def _size(size, name="size"):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, numbers.Integral) and s > 0 for s in size)):
        raise ValueError(f"{name} must be a positive int or a pair (h, w), got {size!r}")
    return int(size[0]), int(size[1])


def _float_dtype(x):
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32


def _crop(x, top, left, height, width):
    return x[..., top:top + height, left:left + width]


class Compose(Transform):
    """Apply ``transforms`` in order, passing each the same ``rng``."""

    def __init__(self, transforms):
        transforms = list(transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose takes callables, got {t!r}")
        self.transforms = transforms
        self.batchable = all(getattr(t, "batchable", False) for t in transforms)

    def __call__(self, x, rng=None):
        rng = _rng(rng)
        for t in self.transforms:
            x = apply_transform(t, x, rng)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class ToFloat(Transform):
    """``x.astype(float32) * scale`` (uint8 pixels 0..255 -> [0, 1] by default)."""

    batchable = True

    def __init__(self, scale=1 / 255):
        self.scale = float(scale)

    def __call__(self, x, rng=None):
        return np.asarray(x).astype(np.float32) * np.float32(self.scale)


class Normalize(Transform):
    """``(x[c] - mean[c]) / std[c]`` for each channel ``c`` (axis -3)."""

    batchable = True

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"mean and std must be numbers or 1-D sequences, got {mean!r} "
                             f"and {std!r}")
        if np.any(self.std <= 0):
            raise ValueError(f"std must be positive, got {std!r}")

    def __call__(self, x, rng=None):
        x = _image(x)
        channels = x.shape[-3]
        for name, value in (("mean", self.mean), ("std", self.std)):
            if len(value) not in (1, channels):
                raise ValueError(f"Normalize got {len(value)} {name} values for an image with "
                                 f"{channels} channels (shape {x.shape})")
        dtype = _float_dtype(x)
        mean = self.mean.astype(dtype)[:, None, None]            # (C, 1, 1)
        std = self.std.astype(dtype)[:, None, None]
        return (x.astype(dtype, copy=False) - mean) / std


class Grayscale(Transform):
    """Luminance ``0.2989 R + 0.587 G + 0.114 B`` (a 1-channel input is kept), repeated
    ``num_output_channels`` times (3 gives a grey image to a model that wants RGB)."""

    batchable = True

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"num_output_channels must be 1 or 3, got {num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def __call__(self, x, rng=None):
        x = _image(x)
        if x.shape[-3] == 3:
            weights = np.asarray(_LUMA, dtype=_float_dtype(x))[:, None, None]
            x = (x * weights).sum(axis=-3, keepdims=True)         # (..., 3, H, W) -> (..., 1, H, W)
        elif x.shape[-3] != 1:
            raise ValueError(f"Grayscale needs 1 or 3 channels, got shape {x.shape}")
        reps = [1] * x.ndim
        reps[-3] = self.num_output_channels
        return np.tile(x, reps)


def _padding(padding):
    """torchvision's padding forms as ``(left, top, right, bottom)``."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        padding = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (padding[0], padding[1], padding[0], padding[1])
    if (not isinstance(padding, (tuple, list)) or len(padding) != 4
            or not all(isinstance(p, numbers.Integral) and p >= 0 for p in padding)):
        raise ValueError(f"padding must be a non-negative int, (left/right, top/bottom) or "
                         f"(left, top, right, bottom), got {padding!r}")
    return tuple(int(p) for p in padding)


def _pad(x, ltrb, fill, mode):
    left, top, right, bottom = ltrb
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode=mode)


class Pad(Transform):
    """Pad the last two axes. ``padding``: int, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)`` (torchvision's order); ``padding_mode``: 'constant'
    (with ``fill``), 'edge', 'reflect' or 'symmetric'."""

    batchable = True

    def __init__(self, padding, fill=0.0, padding_mode="constant"):
        self.padding = _padding(padding)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {_PAD_MODES}, got {padding_mode!r}")
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, x, rng=None):
        return _pad(_image(x), self.padding, self.fill, self.padding_mode)


class CenterCrop(Transform):
    """The central ``size`` window, ``top = round((H - h) / 2)`` (torchvision's rounding;
    an image smaller than ``size`` is first zero-padded on both sides, as torchvision)."""

    batchable = True

    def __init__(self, size):
        self.size = _size(size)

    def __call__(self, x, rng=None):
        x = _image(x)
        height, width = self.size
        in_h, in_w = x.shape[-2:]
        if height > in_h or width > in_w:
            grow_h, grow_w = max(height - in_h, 0), max(width - in_w, 0)
            x = _pad(x, (grow_w // 2, grow_h // 2, (grow_w + 1) // 2, (grow_h + 1) // 2),
                     0.0, "constant")
            in_h, in_w = x.shape[-2:]
        top = int(round((in_h - height) / 2.0))
        left = int(round((in_w - width) / 2.0))
        return _crop(x, top, left, height, width)


class RandomCrop(Transform):
    """Pad by ``padding`` (optional, as ``Pad``), then crop a ``size`` window whose top-left
    corner is uniform over all positions that fit (e.g. CIFAR: ``RandomCrop(32, padding=4)``).
    """

    def __init__(self, size, padding=None, fill=0.0, padding_mode="constant"):
        self.size = _size(size)
        self.padding = None if padding is None else _padding(padding)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {_PAD_MODES}, got {padding_mode!r}")
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, x, rng=None):
        x = _image(x)
        pad_left, pad_top, pad_right, pad_bottom = self.padding or (0, 0, 0, 0)
        height, width = self.size
        in_h, in_w = x.shape[-2:]
        padded_h, padded_w = in_h + pad_top + pad_bottom, in_w + pad_left + pad_right
        if height > padded_h or width > padded_w:
            raise ValueError(f"RandomCrop size {self.size} is larger than the (padded) image "
                             f"{(padded_h, padded_w)}")
        rng = _rng(rng)
        top = int(rng.integers(padded_h - height + 1))
        left = int(rng.integers(padded_w - width + 1))
        if self.padding_mode != "constant":
            return _crop(_pad(x, self.padding or (0, 0, 0, 0), self.fill, self.padding_mode),
                         top, left, height, width).copy()
        # Constant fill: copy only the part of the window that overlaps the image (the same
        # result as padding first, without building the padded image).
        out = np.full(x.shape[:-2] + (height, width), self.fill, dtype=x.dtype)
        y0, x0 = top - pad_top, left - pad_left            # window origin in image coordinates
        rows = slice(max(y0, 0), min(y0 + height, in_h))
        cols = slice(max(x0, 0), min(x0 + width, in_w))
        if rows.start < rows.stop and cols.start < cols.stop:
            out[..., rows.start - y0:rows.stop - y0,
                cols.start - x0:cols.stop - x0] = x[..., rows, cols]
        return out


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p`` (one draw per call, flipped or not)."""

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, x, rng=None):
        x = _image(x)
        if _rng(rng).random() < self.p:
            return x[..., ::-1].copy()
        return x


def _factor_range(value, name, center=1.0, bound=(0.0, float("inf"))):
    """torchvision's ColorJitter rule: a number ``v`` means ``[center - v, center + v]``
    (clipped at 0 for factors), a pair is ``(min, max)``; both within ``bound``. None when
    the range is the single point ``center`` (nothing to do)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        low, high = center - float(value), center + float(value)
        if center == 1.0:
            low = max(low, 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {[low, high]}.")
    return None if low == high == center else (low, high)


def _luminance(x):
    """(..., C, H, W) -> (..., 1, H, W)"""
    if x.shape[-3] == 3:
        return (x * np.asarray(_LUMA, dtype=x.dtype)[:, None, None]).sum(axis=-3, keepdims=True)
    return x.mean(axis=-3, keepdims=True)


def _rgb_to_hsv(x):
    """(..., 3, H, W) RGB in [0, 1] -> (..., 3, H, W) hue, saturation, value in [0, 1]
    (torchvision's formulas)."""
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    grey = maxc == minc
    chroma = maxc - minc
    saturation = chroma / np.where(grey, 1, maxc)
    divisor = np.where(grey, 1, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hue = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = np.fmod(hue / 6.0 + 1.0, 1.0)
    return np.stack([hue, saturation, maxc], axis=-3).astype(x.dtype, copy=False)


def _hsv_to_rgb(x):
    """The inverse of ``_rgb_to_hsv``."""
    h, s, v = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    p = np.clip(v * (1.0 - s), 0, 1)
    q = np.clip(v * (1.0 - s * f), 0, 1)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0, 1)
    sector = sector.astype(np.int64) % 6
    choices = {0: (v, t, p), 1: (q, v, p), 2: (p, v, t), 3: (p, q, v), 4: (t, p, v),
               5: (v, p, q)}
    channels = [np.select([sector == k for k in range(6)], [choices[k][c] for k in range(6)])
                for c in range(3)]
    return np.stack(channels, axis=-3).astype(x.dtype, copy=False)


def adjust_brightness(x, factor):
    """``clip(x * factor, 0, 1)`` for images in [0, 1]."""
    return np.clip(x * x.dtype.type(factor), 0, 1)


def adjust_contrast(x, factor):
    """Blend with the image's mean grey level: ``clip(f * x + (1 - f) * mean, 0, 1)``."""
    factor = x.dtype.type(factor)
    mean = _luminance(x).mean(axis=(-3, -2, -1), keepdims=True)
    return np.clip(factor * x + (1 - factor) * mean, 0, 1)


def adjust_saturation(x, factor):
    """Blend with the grey image: ``clip(f * x + (1 - f) * luminance(x), 0, 1)``
    (a one-channel image is its own grey image: unchanged)."""
    if x.shape[-3] == 1:
        return x
    factor = x.dtype.type(factor)
    return np.clip(factor * x + (1 - factor) * _luminance(x), 0, 1)


def adjust_hue(x, factor):
    """Rotate the hue of RGB images ``(..., 3, H, W)`` in [0, 1] by ``factor`` turns
    (``factor`` in [-0.5, 0.5]); one-channel images are returned unchanged."""
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if x.shape[-3] == 1:
        return x
    hsv = _rgb_to_hsv(x)
    hsv[..., 0, :, :] = (hsv[..., 0, :, :] + factor) % 1.0
    return _hsv_to_rgb(hsv)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue, in a random order (torchvision's
    rules). Each factor ``f`` is drawn from ``[max(0, 1 - v), 1 + v]`` (hue's shift from
    ``[-hue, hue]``, ``hue`` at most 0.5), or from ``(min, max)`` when a pair is given:

        brightness: x * f
        contrast:   f * x + (1 - f) * mean(luminance(x))
        saturation: f * x + (1 - f) * luminance(x)          (no effect on 1 channel)
        hue:        the hue (HSV) turned by the shift        (no effect on 1 channel)

    and the result is clipped to [0, 1] after each step, so apply it to images in [0, 1]
    (before ``Normalize``).
    """

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
        # As torchvision: each setting is kept as its range (min, max), or None.
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5))
        self._ranges = {name: getattr(self, name)
                        for name in ("brightness", "contrast", "saturation", "hue")
                        if getattr(self, name) is not None}

    _ADJUST = {"brightness": adjust_brightness, "contrast": adjust_contrast,
               "saturation": adjust_saturation, "hue": adjust_hue}

    def draw(self, rng):
        """The adjustments of one call: ``[(name, factor), ...]`` in the order to apply."""
        names = list(self._ranges)
        return [(names[i], float(rng.uniform(*self._ranges[names[i]])))
                for i in rng.permutation(len(names))]

    def __call__(self, x, rng=None):
        x = _image(x)
        x = x.astype(_float_dtype(x), copy=False)
        for name, factor in self.draw(_rng(rng)):
            x = self._ADJUST[name](x, factor)
        return x


class ColorShift(Transform):
    """Add one offset per channel, each drawn from ``U(-shift, shift)`` (a colour cast; not
    clipped, so it works before or after ``Normalize``)."""

    def __init__(self, shift=0.1):
        if not isinstance(shift, numbers.Real) or shift < 0:
            raise ValueError(f"shift must be a non-negative number, got {shift!r}")
        self.shift = shift

    def __call__(self, x, rng=None):
        x = _image(x)
        dtype = _float_dtype(x)
        offset = _rng(rng).uniform(-self.shift, self.shift, x.shape[-3]).astype(dtype)
        return x.astype(dtype, copy=False) + offset[:, None, None]


class PCAColorAugmentation(Transform):
    """AlexNet's PCA colour augmentation: add ``eigenvectors @ (alpha * eigenvalues)`` to
    every pixel, ``alpha ~ N(0, std^2)`` per image (see the module docstring).

    Parameters
    ----------
    eigenvalues : array, (C,)
        Of the training set's pixel-colour covariance (``pca_color_components``).
    eigenvectors : array, (C, C)
        Column ``i`` is the unit eigenvector of ``eigenvalues[i]``.
    std : float
        Standard deviation of ``alpha`` (0.1 in the paper).
    """

    def __init__(self, eigenvalues, eigenvectors, std=0.1):
        self.eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
        self.eigenvectors = np.asarray(eigenvectors, dtype=np.float64)
        c = len(self.eigenvalues)
        if self.eigenvalues.ndim != 1 or self.eigenvectors.shape != (c, c):
            raise ValueError(f"eigenvalues must have shape (C,) and eigenvectors (C, C), got "
                             f"{self.eigenvalues.shape} and {self.eigenvectors.shape}")
        if std < 0:
            raise ValueError(f"std must be non-negative, got {std!r}")
        self.std = std

    def __call__(self, x, rng=None):
        x = _image(x)
        if x.shape[-3] != len(self.eigenvalues):
            raise ValueError(f"PCAColorAugmentation was fitted to {len(self.eigenvalues)} "
                             f"channels, got an image of shape {x.shape}")
        alpha = _rng(rng).normal(0.0, self.std, len(self.eigenvalues))
        delta = self.eigenvectors @ (alpha * self.eigenvalues)    # (C,)
        dtype = _float_dtype(x)
        return x.astype(dtype, copy=False) + delta.astype(dtype)[:, None, None]


def pca_color_components(images, max_images=None):
    """Eigenvalues and eigenvectors of the covariance of the pixel colours of ``images``.

    Parameters
    ----------
    images : ndarray (N, C, H, W), or a dataset of ``(image (C, H, W), label)``
        Usually the training set, as fed to the model (e.g. in [0, 1]).
    max_images : int, optional
        Use only this many images, evenly spaced over the set (deterministic).

    Returns
    -------
    eigenvalues : ndarray, float64, (C,)
        Descending.
    eigenvectors : ndarray, float64, (C, C)
        Column ``i`` belongs to ``eigenvalues[i]``.
    """
    n = len(images)
    if n == 0:
        raise ValueError("pca_color_components needs at least one image")
    take = n if max_images is None else min(n, int(max_images))
    picks = np.linspace(0, n - 1, take).round().astype(np.intp)
    total = None
    count = 0
    for start in range(0, take, 256):
        chunk = picks[start:start + 256]
        if isinstance(images, np.ndarray):
            batch = images[chunk]
        else:
            batch = np.stack([np.asarray(images[int(i)][0]) for i in chunk])
        _image(batch[0], "an image")
        pixels = np.moveaxis(batch, -3, -1).reshape(-1, batch.shape[-3]).astype(np.float64)
        if total is None:
            total = np.zeros(pixels.shape[1])
            outer = np.zeros((pixels.shape[1], pixels.shape[1]))
        total += pixels.sum(axis=0)
        outer += pixels.T @ pixels                                # (C, C)
        count += len(pixels)
    mean = total / count
    covariance = outer / count - np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)       # ascending
    order = np.argsort(eigenvalues)[::-1]
    return np.clip(eigenvalues[order], 0, None), eigenvectors[:, order]


def _five_crops(x, size):
    height, width = size
    in_h, in_w = x.shape[-2:]
    if height > in_h or width > in_w:
        raise ValueError(f"crop size {size} is larger than the image {(in_h, in_w)}")
    return [_crop(x, 0, 0, height, width), _crop(x, 0, in_w - width, height, width),
            _crop(x, in_h - height, 0, height, width),
            _crop(x, in_h - height, in_w - width, height, width), CenterCrop(size)(x)]


class FiveCrop(Transform):
    """The four corner crops and the centre crop, stacked: (C, H, W) -> (5, C, h, w)."""

    batchable = True

    def __init__(self, size):
        self.size = _size(size)

    def __call__(self, x, rng=None):
        return np.stack(_five_crops(_image(x), self.size), axis=-4)


class TenCrop(Transform):
    """``FiveCrop`` of the image and of its mirror image: (C, H, W) -> (10, C, h, w).
    ``vertical_flip=True`` mirrors top-bottom instead."""

    batchable = True

    def __init__(self, size, vertical_flip=False):
        self.size = _size(size)
        self.vertical_flip = vertical_flip

    def __call__(self, x, rng=None):
        x = _image(x)
        mirrored = x[..., ::-1, :] if self.vertical_flip else x[..., ::-1]
        return np.stack(_five_crops(x, self.size) + _five_crops(mirrored, self.size), axis=-4)
