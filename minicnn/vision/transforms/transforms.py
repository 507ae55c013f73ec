"""torchvision's transforms, on PIL images and on Tensors (image layout ``(..., C, H, W)``).

    transform = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
                         Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])

Each transform takes what torchvision's takes and returns the same kind: a PIL image stays
a PIL image (same mode), a Tensor a Tensor; ``ToTensor``/``PILToTensor`` turn PIL images
(and ``(H, W, C)`` ndarrays) into ``(C, H, W)`` Tensors. The geometry (padding, crops,
flips, normalisation) is ``minicnn.data.transforms``' array code, applied to the image's
pixels; resizing is PIL's (on Tensors, channel by channel), which is what torchvision's
antialiased resize reproduces. Tensor results carry no autograd history.

Randomness: random transforms take an optional ``rng`` (a ``numpy.random.Generator``) and
otherwise draw from minicnn's generator, so ``minicnn.manual_seed`` repeats them; datasets
and the ``DataLoader`` pass each batch's own generator (``minicnn.data.loader``). The draws
are not torch's: the same seed gives other crops than under PyTorch.
"""

import enum
import math
import numbers

import numpy as np
from PIL import Image, ImageEnhance

from ...autograd import Tensor
from ...data import transforms as _array
from ...data.dataset import apply_transform
from ...rng import get_rng

__all__ = ["InterpolationMode", "Compose", "ToTensor", "PILToTensor", "ToPILImage",
           "ConvertImageDtype", "Normalize", "Resize", "CenterCrop", "Pad", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomResizedCrop", "ColorJitter",
           "RandomRotation", "RandomErasing", "Grayscale", "Lambda", "RandomApply",
           "RandomChoice", "RandomOrder", "rotate", "erase"]


class InterpolationMode(enum.Enum):
    """torchvision's interpolation names (values as torchvision's)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {InterpolationMode.NEAREST: Image.Resampling.NEAREST,
                InterpolationMode.NEAREST_EXACT: Image.Resampling.NEAREST,
                InterpolationMode.BILINEAR: Image.Resampling.BILINEAR,
                InterpolationMode.BICUBIC: Image.Resampling.BICUBIC,
                InterpolationMode.BOX: Image.Resampling.BOX,
                InterpolationMode.HAMMING: Image.Resampling.HAMMING,
                InterpolationMode.LANCZOS: Image.Resampling.LANCZOS}


def _rng(rng):
    return get_rng() if rng is None else rng


def _type_error(img):
    return TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _on_pixels(array_fn, img):
    """Apply ``array_fn`` (on a ``(..., C, H, W)`` array) to a PIL image or a Tensor and
    return the same kind."""
    if isinstance(img, Image.Image):
        pixels = np.asarray(img)                                  # (H, W) or (H, W, C)
        grey = pixels.ndim == 2
        chw = pixels[None] if grey else pixels.transpose(2, 0, 1)
        out = array_fn(chw)
        return Image.fromarray(np.ascontiguousarray(out[0] if grey else out.transpose(1, 2, 0)))
    if isinstance(img, Tensor):
        return Tensor(np.ascontiguousarray(array_fn(img.data)))
    raise _type_error(img)


def _on_unit_pixels(fn, img):
    """``fn`` on pixels in [0, 1]: a PIL image's uint8 are scaled, then rounded back."""
    if isinstance(img, Image.Image):
        return _on_pixels(lambda pixels: np.round(
            fn(pixels.astype(np.float32) / np.float32(255)) * 255).astype(np.uint8), img)
    if isinstance(img, Tensor):
        return Tensor(np.ascontiguousarray(fn(img.data)))
    raise _type_error(img)


def _flip(img, axis):
    return _on_pixels(lambda pixels: np.flip(pixels, axis), img)


def _image_size(img):
    """``(height, width)`` of a PIL image or a Tensor ``(..., H, W)``."""
    if isinstance(img, Image.Image):
        return img.height, img.width
    if isinstance(img, Tensor):
        return tuple(img.shape[-2:])
    raise _type_error(img)


class _Transform:
    """Base: callable as ``t(img)`` or ``t(img, rng=generator)``; torchvision's ``repr``."""

    accepts_rng = True

    def __call__(self, img, rng=None):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Compose(_Transform):
    """Apply ``transforms`` one after another (passing each the same generator)."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for transform in self.transforms:
            if not callable(transform):
                raise TypeError(f"Compose: every transform must be callable, got {transform!r}")

    def __call__(self, img, rng=None):
        rng = _rng(rng)
        for transform in self.transforms:
            img = apply_transform(transform, img, rng)
        return img

    def __repr__(self):
        return type(self).__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


def _pixels_hwc(pic):
    """A PIL image or ndarray as an ``(H, W, C)`` ndarray (2-D arrays get C = 1)."""
    if isinstance(pic, Image.Image):
        pixels = np.asarray(pic)
        if pic.mode == "1":
            pixels = pixels.astype(np.uint8) * 255                # torchvision: 255 * bits
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        pixels = pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


class ToTensor(_Transform):
    """PIL image or ndarray ``(H, W, C)`` -> Tensor ``(C, H, W)``; uint8 pixels become
    float32 in [0, 1] (divided by 255), other dtypes are kept as they are (torchvision's)."""

    def __call__(self, pic, rng=None):
        chw = np.ascontiguousarray(_pixels_hwc(pic).transpose(2, 0, 1))   # (H, W, C) -> (C, H, W)
        if chw.dtype == np.uint8:
            return Tensor(chw.astype(np.float32) / np.float32(255))
        return Tensor(chw)


class PILToTensor(_Transform):
    """PIL image -> Tensor ``(C, H, W)`` of its own dtype (uint8 for 'L'/'RGB', bool for
    '1'), unscaled."""

    def __call__(self, pic, rng=None):
        if not isinstance(pic, Image.Image):
            raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
        pixels = np.asarray(pic)
        pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
        return Tensor(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


class ToPILImage(_Transform):
    """Tensor ``(C, H, W)`` or ndarray ``(H, W, C)`` -> PIL image; floating values in [0, 1]
    are scaled by 255 to uint8 (torchvision's rule)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic, rng=None):
        if isinstance(pic, Tensor):
            pixels = pic.data[None] if pic.ndim == 2 else pic.data
            pixels = pixels.transpose(1, 2, 0)                    # (C, H, W) -> (H, W, C)
        elif isinstance(pic, np.ndarray):
            pixels = pic[:, :, None] if pic.ndim == 2 else pic
        else:
            raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
        if pixels.dtype.kind == "f":
            pixels = (pixels * 255).astype(np.uint8)              # torchvision truncates too
        pixels = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
        image = Image.fromarray(np.ascontiguousarray(pixels))
        return image if self.mode is None else image.convert(self.mode)


class ConvertImageDtype(_Transform):
    """Tensor dtype conversion with rescaling: uint8 0..255 <-> floating 0..1."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def __call__(self, image, rng=None):
        if not isinstance(image, Tensor):
            raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
        data, target = image.data, self.dtype
        if data.dtype.kind == "u" and target.kind == "f":
            return Tensor((data / np.iinfo(data.dtype).max).astype(target))
        if data.dtype.kind == "f" and target == np.uint8:
            return Tensor((data * 255.999).astype(np.uint8))      # torchvision's eps rule
        return Tensor(data.astype(target))


class Normalize(_Transform):
    """``(x[c] - mean[c]) / std[c]`` on a floating Tensor ``(..., C, H, W)`` (not on PIL
    images, as torchvision). Raises TypeError for a PIL image or an integer Tensor and
    ValueError for a std of zero."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace
        self._arrays = _array.Normalize(mean, std) if not np.any(np.asarray(std) == 0) else None

    def __call__(self, tensor, rng=None):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
        if tensor.data.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if self._arrays is None:
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, "
                             f"leading to division by zero.")
        return Tensor(self._arrays(tensor.data))

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _check_size(size, owner):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0:
        return int(size)
    if (isinstance(size, (tuple, list)) and len(size) in (1, 2)
            and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
                    for s in size)):
        return [int(s) for s in size]
    raise ValueError(f"{owner}: size must be a positive int or a sequence of 1 or 2 positive "
                     f"ints, got {size!r}")


def _resized_size(height, width, size, max_size):
    """torchvision's rule: an int (or 1-sequence) matches the shorter side, keeping the
    aspect ratio (the longer side truncated), capped by ``max_size``; a pair is (h, w)."""
    if isinstance(size, list) and len(size) == 2:
        return size[0], size[1]
    short, long = (width, height) if width <= height else (height, width)
    new_short = size if isinstance(size, int) else size[0]
    new_long = int(new_short * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _resize_pixels(channels, new_h, new_w, resample):
    """Resize each ``(H, W)`` plane of ``channels (..., H, W)`` with PIL."""
    flat = channels.reshape(-1, *channels.shape[-2:])
    dtype = channels.dtype
    work = np.uint8 if dtype == np.uint8 else np.float32          # PIL modes 'L' and 'F'
    planes = [np.asarray(Image.fromarray(plane.astype(work, copy=False))
                         .resize((new_w, new_h), resample)) for plane in flat]
    return np.stack(planes).reshape(*channels.shape[:-2], new_h, new_w).astype(dtype)


class Resize(_Transform):
    """Resize to ``size``: an int matches the shorter side (aspect ratio kept), ``(h, w)``
    is exact. ``interpolation``: an ``InterpolationMode`` (bilinear by default).

    PIL images are resized by PIL, as torchvision does. Tensors too, channel by channel,
    which equals torchvision's antialiased tensor resize (bilinear, bicubic: within 1e-5);
    NEAREST on tensors picks row ``floor(i * H / new_H)`` as torch's 'nearest'."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        self.size = size                                   # as given, for repr
        self._size = _check_size(size, "Resize")
        if isinstance(interpolation, numbers.Integral):
            interpolation = {v: k for k, v in _PIL_FILTERS.items()}[interpolation]
        if interpolation not in _PIL_FILTERS:
            raise TypeError(f"Resize: interpolation must be an InterpolationMode, got "
                            f"{interpolation!r}")
        self.interpolation, self.max_size, self.antialias = interpolation, max_size, antialias

    def __call__(self, img, rng=None):
        height, width = _image_size(img)
        new_h, new_w = _resized_size(height, width, self._size, self.max_size)
        resample = _PIL_FILTERS[self.interpolation]
        if isinstance(img, Image.Image):
            return img if (new_h, new_w) == (height, width) else img.resize((new_w, new_h),
                                                                              resample)
        if self.interpolation is InterpolationMode.NEAREST:
            # torchvision's tensor NEAREST is torch's legacy 'nearest': source index
            # floor(i * in / out), not PIL's pixel-centre rule (that is NEAREST_EXACT)
            rows = (np.arange(new_h) * (height / new_h)).astype(np.intp)
            cols = (np.arange(new_w) * (width / new_w)).astype(np.intp)
            return Tensor(np.ascontiguousarray(img.data[..., rows[:, None], cols]))
        return Tensor(_resize_pixels(img.data, new_h, new_w, resample))

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class _OnPixels(_Transform):
    """A ``minicnn.data.transforms`` transform applied to a PIL image's or Tensor's pixels."""

    def __init__(self, array_transform):
        self._array_transform = array_transform

    def __call__(self, img, rng=None):
        rng = _rng(rng)
        return _on_pixels(lambda pixels: self._array_transform(pixels, rng=rng), img)


def _pair(size):
    return (size, size) if isinstance(size, numbers.Integral) else tuple(size) * (3 - len(size))


class CenterCrop(_OnPixels):
    """The central ``size`` window (int or ``(h, w)``); a smaller image is zero-padded."""

    def __init__(self, size):
        self.size = _pair(size)
        super().__init__(_array.CenterCrop(self.size))

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(_OnPixels):
    """Pad by ``padding`` (int, ``(left/right, top/bottom)`` or ``(left, top, right,
    bottom)``) with ``fill`` ('constant') or by 'edge', 'reflect', 'symmetric'."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode
        super().__init__(_array.Pad(padding, fill, padding_mode))

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop(_OnPixels):
    """Pad by ``padding`` (optional), then crop ``size`` at a uniformly drawn position.
    ``pad_if_needed`` pads an image smaller than ``size`` first (torchvision's rule)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size, self.padding, self.pad_if_needed = _pair(size), padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode
        super().__init__(_array.RandomCrop(self.size, padding, fill, padding_mode))

    def __call__(self, img, rng=None):
        if self.pad_if_needed:
            height, width = _image_size(img)
            extra = _array._padding(self.padding) if self.padding is not None else (0,) * 4
            grow_w = max(self.size[1] - (width + extra[0] + extra[2]), 0)
            grow_h = max(self.size[0] - (height + extra[1] + extra[3]), 0)
            if grow_w or grow_h:
                img = Pad((grow_w, grow_h), self.fill, self.padding_mode)(img)
        return super().__call__(img, rng)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class _RandomFlip(_Transform):
    """Mirror along ``_axis`` of the pixels with probability ``p`` (one draw per call); an
    image not flipped is returned as it is."""

    _axis = -1

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, img, rng=None):
        return _flip(img, self._axis) if _rng(rng).random() < self.p else img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p``."""

    _axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p``."""

    _axis = -2


class RandomResizedCrop(_Transform):
    """A random window of ``scale`` times the area and aspect ratio in ``ratio`` (drawn
    log-uniformly), resized to ``size`` (torchvision's rule: 10 tries, then a centre crop
    of the nearest allowed ratio). ImageNet training's standard augmentation."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        self.size = _pair(size)
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be of kind (min, max), "
                             f"got scale={scale!r}, ratio={ratio!r}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self._resize = Resize(list(self.size), interpolation)
        self.interpolation, self.antialias = interpolation, antialias

    def get_params(self, height, width, rng):
        """``(top, left, h, w)`` of the window, for an image of ``height x width``."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(height - h + 1)), int(rng.integers(width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            h, w = height, width
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img, rng=None):
        top, left, h, w = self.get_params(*_image_size(img), _rng(rng))
        window = _on_pixels(lambda pixels: pixels[..., top:top + h, left:left + w], img)
        return self._resize(window)

    def __repr__(self):
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _enhance(enhancer, array_adjust):
    """A colour adjustment: PIL's ``ImageEnhance`` on PIL images (torchvision's PIL path),
    ``minicnn.data.transforms``' array formula on Tensors (torchvision's tensor path)."""
    def adjust(img, factor):
        if isinstance(img, Image.Image):
            return enhancer(img).enhance(factor)
        return _on_unit_pixels(lambda pixels: array_adjust(pixels, factor), img)
    return adjust


adjust_brightness = _enhance(ImageEnhance.Brightness, _array.adjust_brightness)
adjust_contrast = _enhance(ImageEnhance.Contrast, _array.adjust_contrast)
adjust_saturation = _enhance(ImageEnhance.Color, _array.adjust_saturation)


def adjust_hue(img, hue_factor):
    """Turn the hue by ``hue_factor`` in [-0.5, 0.5] (ValueError otherwise). PIL images:
    torchvision's PIL rule (PIL's 8-bit HSV, the hue channel shifted with wrap-around);
    Tensors: the RGB <-> HSV formulas of ``minicnn.data.transforms.adjust_hue``."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Image.Image):
        return _on_unit_pixels(lambda pixels: _array.adjust_hue(pixels, hue_factor), img)
    if img.mode in ("L", "1", "I", "F"):
        return img
    hue, saturation, value = img.convert("HSV").split()
    shifted = np.asarray(hue, dtype=np.uint8) + np.int32(hue_factor * 255).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(shifted), saturation, value)).convert(img.mode)


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation and hue, in a random order, as torchvision's:
    the factors are drawn by ``minicnn.data.transforms.ColorJitter``'s rule, each applied by
    ``adjust_brightness``/... (PIL's ImageEnhance on PIL images, as torchvision)."""

    _ADJUST = {"brightness": adjust_brightness, "contrast": adjust_contrast,
               "saturation": adjust_saturation, "hue": adjust_hue}

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self._factors = _array.ColorJitter(brightness, contrast, saturation, hue)
        # torchvision's attributes: the ranges (min, max), or None
        self.brightness, self.contrast = self._factors.brightness, self._factors.contrast
        self.saturation, self.hue = self._factors.saturation, self._factors.hue

    def __call__(self, img, rng=None):
        if not isinstance(img, (Image.Image, Tensor)):
            raise _type_error(img)
        for name, factor in self._factors.draw(_rng(rng)):
            img = self._ADJUST[name](img, factor)
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}"
                f", saturation={self.saturation}, hue={self.hue})")


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=0):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (the image's centre by
    default), uncovered pixels ``fill`` (a number, or one per channel): PIL's
    ``Image.rotate``, as torchvision on PIL images. Tensors are rotated channel by channel
    the same way, which gave torchvision's tensor results (nearest: equal; bilinear: within
    2e-6) in the checks against torchvision 0.28."""
    resample = _PIL_FILTERS[interpolation]
    if isinstance(img, Image.Image):
        if isinstance(fill, (tuple, list)):
            fill = tuple(int(f) for f in fill) if len(fill) > 1 else int(fill[0])
        return img.rotate(angle, resample, expand, center, fillcolor=fill)
    if not isinstance(img, Tensor):
        raise _type_error(img)
    data = img.data
    planes = data.reshape(-1, *data.shape[-2:])
    fills = np.broadcast_to(np.asarray(fill, dtype=np.float64).ravel(), (data.shape[-3],)) \
        if data.ndim >= 3 else np.asarray([fill], dtype=np.float64)
    rotated = [np.asarray(Image.fromarray(plane.astype(np.float32)).rotate(
        angle, resample, expand, center, fillcolor=float(fills[k % len(fills)])))
        for k, plane in enumerate(planes)]
    out = np.stack(rotated).astype(data.dtype)
    return Tensor(out.reshape(*data.shape[:-2], *out.shape[-2:]))


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number ``d``: ``(-d, d)``)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Real):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-degrees, degrees)
        elif not (isinstance(degrees, (tuple, list)) and len(degrees) == 2):
            raise ValueError("degrees should be a sequence of length 2.")
        self.degrees = [float(d) for d in degrees]
        self.interpolation, self.expand, self.center, self.fill = (interpolation, expand,
                                                                   center, fill)

    def __call__(self, img, rng=None):
        angle = float(_rng(rng).uniform(*self.degrees))
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self):
        center = "" if self.center is None else f", center={self.center}"
        fill = "" if self.fill is None else f", fill={self.fill}"
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}{center}{fill})")


def erase(img, i, j, h, w, v, inplace=False):
    """``img`` with the window ``[i:i+h, j:j+w]`` set to ``v`` (a Tensor image only)."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    data = img.data if inplace else img.data.copy()
    data[..., i:i + h, j:j + w] = v.data if isinstance(v, Tensor) else v
    return img if inplace else Tensor(data)


class RandomErasing(_Transform):
    """With probability ``p``, a random rectangle of ``scale`` times the area and aspect
    ratio in ``ratio`` is set to ``value`` (a number, one per channel, or ``'random'``:
    normal noise), torchvision's rule (10 tries; none fitting leaves the image). Tensors
    only, after ``ToTensor`` (and usually after ``Normalize``)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, \
            inplace

    def __call__(self, img, rng=None):
        if not isinstance(img, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(img)}")
        rng = _rng(rng)
        if rng.random() >= self.p:
            return img
        channels, height, width = img.shape[-3:]
        value = None if isinstance(self.value, str) else np.atleast_1d(
            np.asarray(self.value, dtype=img.dtype))
        if value is not None and len(value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < height and w < width):
                continue
            fill = (rng.standard_normal((channels, h, w)).astype(img.dtype) if value is None
                    else value[:, None, None])
            top, left = int(rng.integers(height - h + 1)), int(rng.integers(width - w + 1))
            return erase(img, top, left, h, w, fill, self.inplace)
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")


class Grayscale(_Transform):
    """Grey levels, 1 or 3 channels: PIL's own conversion for PIL images (mode 'L'),
    ``0.2989 R + 0.587 G + 0.114 B`` for Tensors (torchvision's)."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels
        self._arrays = _array.Grayscale(num_output_channels)

    def __call__(self, img, rng=None):
        if isinstance(img, Image.Image):
            grey = img.convert("L")
            return grey if self.num_output_channels == 1 else Image.merge("RGB", [grey] * 3)
        if isinstance(img, Tensor):
            return Tensor(self._arrays(img.data))
        raise _type_error(img)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class Lambda(_Transform):
    """Apply a user function: ``Lambda(lambda y: ...)``."""

    accepts_rng = False

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class RandomApply(_Transform):
    """Apply all of ``transforms`` with probability ``p``, else none."""

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img, rng=None):
        rng = _rng(rng)
        if rng.random() < self.p:
            for transform in self.transforms:
                img = apply_transform(transform, img, rng)
        return img


class RandomChoice(_Transform):
    """Apply one of ``transforms``, drawn with probabilities ``p`` (uniform by default)."""

    def __init__(self, transforms, p=None):
        self.transforms, self.p = list(transforms), p

    def __call__(self, img, rng=None):
        rng = _rng(rng)
        weights = None if self.p is None else np.asarray(self.p, float) / np.sum(self.p)
        return apply_transform(self.transforms[rng.choice(len(self.transforms), p=weights)],
                               img, rng)


class RandomOrder(_Transform):
    """Apply ``transforms`` in a random order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img, rng=None):
        rng = _rng(rng)
        for position in rng.permutation(len(self.transforms)):
            img = apply_transform(self.transforms[position], img, rng)
        return img
