"""minicnn.vision.utils.make_grid and minicnn.vision.io.read_image (torchvision's rules)."""

import numpy as np
import pytest
from PIL import Image

import minicnn
import minicnn.vision as torchvision
from minicnn.vision.io import ImageReadMode, read_image


def test_make_grid_places_images_as_torchvision():
    images = minicnn.tensor(np.arange(1, 4, dtype=np.float32)[:, None, None, None]
                            * np.ones((3, 1, 2, 2), np.float32))
    grid = torchvision.utils.make_grid(images, nrow=2, padding=1)
    # 3 images, 2 per row -> 2 rows; each cell 2 + 1 pixels, plus the outer padding
    assert grid.shape == (3, 7, 7)
    assert np.all(grid.data[:, 1:3, 1:3] == 1) and np.all(grid.data[:, 1:3, 4:6] == 2)
    assert np.all(grid.data[:, 4:6, 1:3] == 3) and np.all(grid.data[:, 4:6, 4:6] == 0)
    assert np.all(grid.data[:, 0, :] == 0) and np.all(grid.data[:, :, 3] == 0)
    default = torchvision.utils.make_grid(images)
    assert default.shape == (3, 2 + 4, 3 * 4 + 2)          # padding 2, all in one row


def test_make_grid_normalize_and_single_image():
    images = minicnn.tensor(np.array([[[[-1.0, 1.0]]], [[[0.0, 3.0]]]], np.float32))
    grid = torchvision.utils.make_grid(images, padding=0, normalize=True)
    np.testing.assert_allclose(grid.data[0], [[0.0, 0.5, 0.25, 1.0]])
    each = torchvision.utils.make_grid(images, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(each.data[0], [[0.0, 1.0, 0.0, 1.0]])
    ranged = torchvision.utils.make_grid(images, padding=0, normalize=True, value_range=(0, 2))
    np.testing.assert_allclose(ranged.data[0], [[0.0, 0.5, 0.0, 1.0]])
    single = torchvision.utils.make_grid(images[0])
    assert single.shape == (3, 1, 2)                        # no padding around one image
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        torchvision.utils.make_grid(np.zeros((2, 3, 4, 4)))


def test_read_image_gives_uint8_chw(tmp_path):
    pixels = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    Image.fromarray(pixels).save(tmp_path / "x.png")
    image = read_image(str(tmp_path / "x.png"))
    assert image.dtype == np.uint8 and image.shape == (3, 4, 5)
    np.testing.assert_array_equal(image.data, pixels.transpose(2, 0, 1))
    assert read_image(tmp_path / "x.png", ImageReadMode.GRAY).shape == (1, 4, 5)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="not an image file"):
        read_image(tmp_path / "bad.png")


def test_save_image_writes_the_grid(tmp_path):
    images = minicnn.tensor(np.array([0.0, 0.5, 1.0], np.float32).reshape(3, 1, 1, 1)
                            * np.ones((3, 1, 2, 2), np.float32))
    torchvision.utils.save_image(images, tmp_path / "grid.png", nrow=3, padding=0)
    saved = np.asarray(Image.open(tmp_path / "grid.png"))
    assert saved.shape == (2, 6, 3)
    np.testing.assert_array_equal(saved[0, ::2, 0], [0, 128, 255])     # x * 255 + 0.5
