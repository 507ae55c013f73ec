"""minicnn.vision.transforms: torchvision's transforms on PIL images and Tensors.

Expected values are written by hand from torchvision's documented behaviour (torchvision is
not importable here): ToTensor scales uint8 by 1/255 into (C, H, W) float32; Resize(int)
matches the shorter side; CenterCrop's top is round((H - h) / 2); Normalize refuses PIL
images, integer tensors and std 0.
"""

import numpy as np
import pytest
from PIL import Image

import minicnn
from minicnn.vision import transforms as T


def _rgb(height=5, width=7):
    pixels = (np.arange(height * width * 3) % 256).astype(np.uint8).reshape(height, width, 3)
    return Image.fromarray(pixels), pixels


def test_to_tensor_scales_uint8_to_chw_float32():
    image, pixels = _rgb()
    tensor = T.ToTensor()(image)
    assert tensor.shape == (3, 5, 7) and tensor.dtype == np.float32
    assert tensor.data.flags.c_contiguous
    np.testing.assert_array_equal(tensor.data, pixels.transpose(2, 0, 1) / np.float32(255))
    grey = T.ToTensor()(Image.fromarray(pixels[:, :, 0]))
    assert grey.shape == (1, 5, 7)
    floats = np.full((2, 3), 0.25, np.float64)            # not uint8: kept as it is
    assert T.ToTensor()(floats).dtype == np.float64 and T.ToTensor()(floats).shape == (1, 2, 3)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2])


def test_pil_to_tensor_and_back():
    image, pixels = _rgb()
    tensor = T.PILToTensor()(image)
    assert tensor.dtype == np.uint8
    np.testing.assert_array_equal(tensor.data, pixels.transpose(2, 0, 1))
    again = T.ToPILImage()(T.ToTensor()(image))
    np.testing.assert_array_equal(np.asarray(again), pixels)


def test_normalize_as_torchvision():
    x = minicnn.tensor(np.ones((3, 2, 2), np.float32))
    out = T.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 2.0))(x)
    np.testing.assert_allclose(out.data[:, 0, 0], [1.0, 1.5, 0.5])
    assert out.dtype == np.float32
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize(0.5, 0.5)(_rgb()[0])
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        T.Normalize(0.5, 0.5)(minicnn.tensor(np.ones((1, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))(x)
    assert repr(T.Normalize((0.5,), (0.5,))) == "Normalize(mean=(0.5,), std=(0.5,))"


def test_resize_matches_the_shorter_side_on_pil_and_tensors():
    image, _ = _rgb(20, 30)
    small = T.Resize(10)(image)
    assert small.size == (15, 10)                        # PIL: (width, height)
    assert T.Resize((4, 6))(image).size == (6, 4)
    tall = T.Resize(8)(Image.fromarray(np.zeros((30, 20), np.uint8)))
    assert tall.size == (8, 12)
    tensor = T.Resize(10)(T.PILToTensor()(image))
    assert tensor.shape == (3, 10, 15) and tensor.dtype == np.uint8
    np.testing.assert_array_equal(tensor.data, np.asarray(small).transpose(2, 0, 1))
    floats = T.Resize(10)(T.ToTensor()(image))
    assert floats.dtype == np.float32
    np.testing.assert_allclose(floats.data * 255, np.asarray(small).transpose(2, 0, 1), atol=1)
    assert T.Resize(10, max_size=12)(image).size == (12, 8)


def test_center_crop_and_pad_on_pil_and_tensors():
    image, pixels = _rgb(5, 7)
    crop = T.CenterCrop(3)(image)
    # top = round((5 - 3) / 2) = 1, left = round((7 - 3) / 2) = 2
    np.testing.assert_array_equal(np.asarray(crop), pixels[1:4, 2:5])
    tensor = T.CenterCrop((2, 4))(T.PILToTensor()(image))
    np.testing.assert_array_equal(tensor.data, pixels[2:4, 2:6].transpose(2, 0, 1))
    padded = T.Pad((1, 2))(image)                       # left/right 1, top/bottom 2
    assert padded.size == (9, 9) and padded.mode == "RGB"
    assert np.asarray(padded)[0].max() == 0
    np.testing.assert_array_equal(np.asarray(padded)[2:7, 1:8], pixels)
    edge = T.Pad(1, padding_mode="edge")(T.PILToTensor()(image))
    np.testing.assert_array_equal(edge.data[:, 0, 1:-1], pixels[0].T)


def test_random_crop_and_flip_follow_manual_seed():
    image, pixels = _rgb(8, 8)
    augment = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])
    minicnn.manual_seed(4)
    first = [augment(image).data for _ in range(5)]
    minicnn.manual_seed(4)
    again = [augment(image).data for _ in range(5)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], other) for other in first[1:])
    flipped = T.RandomHorizontalFlip(p=1.0)(image)
    np.testing.assert_array_equal(np.asarray(flipped), pixels[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(image) is image
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(image)), pixels[::-1])
    grown = T.RandomCrop(10, pad_if_needed=True)(image)
    assert grown.size == (10, 10)


def test_random_transforms_take_a_generator():
    image, _ = _rgb(8, 8)
    crop = T.RandomCrop(4)
    a = crop(image, rng=np.random.default_rng(0))
    b = crop(image, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_grayscale_lambda_and_compose_repr():
    image, pixels = _rgb()
    assert T.Grayscale()(image).mode == "L"
    assert T.Grayscale(3)(image).mode == "RGB"
    grey = T.Grayscale()(T.ToTensor()(image))
    expected = (pixels / np.float32(255)) @ np.array([0.2989, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(grey.data[0], expected, rtol=1e-5)
    with pytest.raises(TypeError, match="Argument lambd should be callable"):
        T.Lambda(3)
    one_hot = T.Lambda(lambda y: np.eye(10, dtype=np.float32)[y])
    assert one_hot(3)[3] == 1
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])) == \
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        T.CenterCrop(2)(np.zeros((3, 4, 4)))


def test_v2_to_image_and_to_dtype():
    from minicnn.vision.transforms import v2
    image, pixels = _rgb()
    out = v2.Compose([v2.ToImage(), v2.ToDtype(minicnn.float32, scale=True)])(image)
    np.testing.assert_array_equal(out.data, pixels.transpose(2, 0, 1) / np.float32(255))
    assert v2.ToDtype(minicnn.float32)(v2.ToImage()(image)).data.max() == pixels.max()


def test_random_resized_crop_follows_torchvisions_rule():
    image, pixels = _rgb(40, 60)
    crop = T.RandomResizedCrop(24)
    top, left, h, w = crop.get_params(40, 60, np.random.default_rng(0))
    assert 0 < h <= 40 and 0 < w <= 60 and top + h <= 40 and left + w <= 60
    assert 0.08 * 2400 * 0.9 <= h * w <= 2400 and 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1
    out = crop(image, rng=np.random.default_rng(0))
    expected = image.crop((left, top, left + w, top + h)).resize((24, 24), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    assert crop(T.ToTensor()(image)).shape == (3, 24, 24)
    # impossible ratios: after 10 tries, a centre crop of the nearest allowed ratio
    wide = T.RandomResizedCrop(8, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert wide.get_params(40, 60, np.random.default_rng(0)) == (0, 10, 40, 40)


def test_color_jitter_on_pil_and_tensors():
    import minicnn.vision.transforms.functional as TF
    from minicnn.data import transforms as arrays
    image, pixels = _rgb()
    jitter = T.ColorJitter(brightness=0.5, contrast=0.3, saturation=0.3, hue=0.1)
    out = jitter(image, rng=np.random.default_rng(5))
    expected = image                      # the same draws, applied by PIL as torchvision does
    for name, factor in jitter._factors.draw(np.random.default_rng(5)):
        expected = getattr(TF, f"adjust_{name}")(expected, factor)
    assert out.mode == "RGB" and out.size == image.size
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    tensor = jitter(T.ToTensor()(image), rng=np.random.default_rng(5))
    same = arrays.ColorJitter(0.5, 0.3, 0.3, 0.1)(T.ToTensor()(image).data,
                                                   rng=np.random.default_rng(5))
    assert tensor.dtype == np.float32
    np.testing.assert_allclose(tensor.data, same, rtol=1e-6)
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        jitter(pixels)


def test_pil_colour_adjustments_are_torchvisions_pil_path():
    # torchvision: ImageEnhance.Brightness/Contrast/Color, hue shifted in PIL's 8-bit HSV
    import minicnn.vision.transforms.functional as TF
    from PIL import ImageEnhance
    image, _ = _rgb()
    np.testing.assert_array_equal(np.asarray(TF.adjust_contrast(image, 0.6)),
                                  np.asarray(ImageEnhance.Contrast(image).enhance(0.6)))
    hue, saturation, value = image.convert("HSV").split()
    shifted = (np.asarray(hue).astype(np.int64) + int(0.2 * 255)) % 256
    expected = Image.merge("HSV", (Image.fromarray(shifted.astype(np.uint8)), saturation,
                                   value)).convert("RGB")
    np.testing.assert_array_equal(np.asarray(TF.adjust_hue(image, 0.2)), np.asarray(expected))
    grey = Image.fromarray(np.full((2, 2), 9, np.uint8))
    assert TF.adjust_hue(grey, 0.3) is grey


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("size", [(20, 30), (17, 23), (64, 90)])
def test_tensor_resize_equals_torchvisions_tensor_path(mode, size):
    # torchvision resizes tensors with interpolate(antialias=True) (nearest: no antialias)
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 40, 60)).astype(np.float32)
    ours = T.Resize(list(size), T.InterpolationMode(mode))(minicnn.tensor(x)).data
    reference = torch.nn.functional.interpolate(
        torch.from_numpy(x)[None], size=size, mode=mode,
        **({} if mode == "nearest" else {"align_corners": False, "antialias": True}))[0]
    np.testing.assert_allclose(ours, reference.numpy(), atol=1e-5)


def test_functional_transforms_as_torchvision():
    import minicnn.vision.transforms.functional as TF
    image, pixels = _rgb(5, 7)
    tensor = TF.to_tensor(image)
    assert TF.get_image_size(image) == [7, 5] and TF.get_dimensions(tensor) == [3, 5, 7]
    np.testing.assert_array_equal(np.asarray(TF.hflip(image)), pixels[:, ::-1])
    np.testing.assert_array_equal(TF.vflip(tensor).data, tensor.data[:, ::-1])
    np.testing.assert_array_equal(np.asarray(TF.crop(image, 1, 2, 3, 4)), pixels[1:4, 2:6])
    outside = TF.crop(tensor, -1, 5, 3, 4)             # beyond the edges: zeros
    assert outside.shape == (3, 3, 4) and outside.data[:, 0].max() == 0
    np.testing.assert_array_equal(outside.data[:, 1:, :2], tensor.data[:, :2, 5:])
    assert TF.resized_crop(image, 0, 0, 4, 4, [2, 2]).size == (2, 2)
    np.testing.assert_allclose(TF.adjust_brightness(tensor, 0.5).data, tensor.data * 0.5)
    np.testing.assert_allclose(TF.adjust_saturation(tensor, 0.0).data,
                               TF.rgb_to_grayscale(tensor, 3).data, rtol=1e-6)
    grey_mean = TF.rgb_to_grayscale(tensor).data.mean()
    np.testing.assert_allclose(TF.adjust_contrast(tensor, 0.0).data, grey_mean, rtol=1e-6)
    assert TF.adjust_hue(image, 0.25).mode == "RGB"
    with pytest.raises(ValueError, match="hue_factor"):
        TF.adjust_hue(tensor, 0.7)
    np.testing.assert_allclose(TF.normalize(tensor, [0.5] * 3, [0.5] * 3).data,
                               tensor.data * 2 - 1, rtol=1e-6, atol=1e-7)


def test_binary_images_as_torchvision():
    bits = Image.fromarray(np.array([[True, False]])).convert("1")
    assert T.ToTensor()(bits).data.tolist() == [[[1.0, 0.0]]]          # 255 * bits / 255
    assert T.PILToTensor()(bits).dtype == np.bool_                     # unscaled


def test_rotation_as_torchvisions_pil_path():
    import minicnn.vision.transforms.functional as TF
    image, pixels = _rgb(6, 8)
    quarter = TF.rotate(image, 90, expand=True)                 # counter-clockwise
    np.testing.assert_array_equal(np.asarray(quarter), np.rot90(pixels))
    same = TF.rotate(T.PILToTensor()(image), 90, expand=True)
    np.testing.assert_array_equal(same.data, np.asarray(quarter).transpose(2, 0, 1))
    filled = TF.rotate(image, 45, fill=(1, 2, 3))
    assert filled.size == image.size and tuple(np.asarray(filled)[0, 0]) == (1, 2, 3)
    minicnn.manual_seed(0)
    first = T.RandomRotation(20)(image)
    minicnn.manual_seed(0)
    np.testing.assert_array_equal(np.asarray(T.RandomRotation(20)(image)), np.asarray(first))
    assert repr(T.RandomRotation(10)) == \
        "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, fill=0)"
    with pytest.raises(ValueError, match="it must be positive"):
        T.RandomRotation(-3)


def test_random_erasing_as_torchvision():
    x = minicnn.tensor(np.ones((3, 10, 12), np.float32))
    erased = T.RandomErasing(p=1.0, value=(0.0, 2.0, 3.0))(x, rng=np.random.default_rng(1))
    window = erased.data != 1
    rows, cols = np.nonzero(window[0])
    assert window.any() and np.all(x.data == 1)                 # the input is left alone
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert window[0].sum() == h * w and 0.02 * 120 * 0.5 <= h * w <= 0.33 * 120 * 1.5
    assert np.all(erased.data[1][window[1]] == 2) and np.all(erased.data[2][window[2]] == 3)
    noisy = T.RandomErasing(p=1.0, value="random")(x, rng=np.random.default_rng(2))
    assert noisy.data.std() > 0
    assert T.RandomErasing(p=0.0)(x) is x
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.RandomErasing()(_rgb()[0])
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
