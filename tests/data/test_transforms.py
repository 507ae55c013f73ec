"""Transforms: golden cases, shapes, exact flips, determinism by seed, batch = per sample."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn.data import transforms as T


def _grid(c=1, h=4, w=4):
    return np.arange(c * h * w, dtype=np.float32).reshape(c, h, w)


def test_normalize_golden():
    x = np.array([[[1, 2], [3, 4]], [[0, 1], [2, 3]]], dtype=np.float32)
    y = T.Normalize(mean=(1, 0), std=(2, 1))(x)
    np.testing.assert_array_equal(y, [[[0, 0.5], [1, 1.5]], [[0, 1], [2, 3]]])
    assert y.dtype == np.float32
    assert T.Normalize(0.5, 0.5)(x.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("kwargs, match", [(dict(mean=(0, 0, 0), std=(1, 1, 1)), "3 mean"),
                                           (dict(mean=0, std=0), "std must be positive")])
def test_normalize_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.Normalize(**kwargs)(np.zeros((2, 3, 3), np.float32))


def test_to_float_and_grayscale_golden():
    x = np.array([[[0, 255]]], dtype=np.uint8)
    np.testing.assert_allclose(T.ToFloat()(x), [[[0, 1]]])
    assert T.ToFloat()(x).dtype == np.float32
    rgb = np.array([[[1.0]], [[2.0]], [[4.0]]], dtype=np.float32)            # (3, 1, 1)
    grey = 0.2989 * 1 + 0.587 * 2 + 0.114 * 4
    np.testing.assert_allclose(T.Grayscale()(rgb), [[[grey]]], rtol=1e-6)
    np.testing.assert_allclose(T.Grayscale(3)(rgb), np.full((3, 1, 1), grey), rtol=1e-6)
    np.testing.assert_array_equal(T.Grayscale(3)(_grid(1, 2, 2)), np.repeat(_grid(1, 2, 2), 3, 0))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        T.Grayscale()(np.zeros((2, 2, 2), np.float32))


def test_pad_golden_forms_and_modes():
    x = np.array([[[1, 2], [3, 4]]], dtype=np.float32)
    assert T.Pad(2)(x).shape == (1, 6, 6)
    assert T.Pad((1, 2))(x).shape == (1, 6, 4)                  # (left/right, top/bottom)
    y = T.Pad((1, 0, 0, 1), fill=9)(x)                          # (left, top, right, bottom)
    np.testing.assert_array_equal(y, [[[9, 1, 2], [9, 3, 4], [9, 9, 9]]])
    np.testing.assert_array_equal(T.Pad(1, padding_mode="edge")(x)[0, 0], [1, 1, 2, 2])
    np.testing.assert_array_equal(T.Pad((1, 0), padding_mode="reflect")(x)[0, 0], [2, 1, 2, 1])
    for bad in (-1, (1, 2, 3), 1.5):
        with pytest.raises(ValueError, match="padding"):
            T.Pad(bad)
    with pytest.raises(ValueError, match="padding_mode"):
        T.Pad(1, padding_mode="wrap")


def test_center_crop_golden_and_torchvision_rounding():
    x = _grid(1, 5, 5)
    np.testing.assert_array_equal(T.CenterCrop(3)(x), x[:, 1:4, 1:4])
    # (4 - 3) / 2 = 0.5 rounds to 0 (Python's round, as torchvision)
    np.testing.assert_array_equal(T.CenterCrop(3)(_grid()), _grid()[:, 0:3, 0:3])
    np.testing.assert_array_equal(T.CenterCrop((2, 4))(_grid()), _grid()[:, 1:3, :])
    grown = T.CenterCrop(4)(np.ones((1, 2, 2), np.float32))       # smaller image: zero border
    np.testing.assert_array_equal(grown, np.pad(np.ones((1, 2, 2)), ((0, 0), (1, 1), (1, 1))))


def test_random_crop_matches_its_draws_and_reaches_every_position():
    x = _grid()
    crop = T.RandomCrop(2, padding=1)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    rng, replay = np.random.default_rng(0), np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        y = crop(x, rng)
        top, left = replay.integers(5), replay.integers(5)
        np.testing.assert_array_equal(y, padded[:, top:top + 2, left:left + 2])
        seen.add((top, left))
    assert len(seen) == 25
    for kwargs in (dict(padding=(3, 0, 1, 4), fill=7.0), dict(padding=2, padding_mode="reflect")):
        crop = T.RandomCrop((3, 2), **kwargs)
        rng, replay = np.random.default_rng(1), np.random.default_rng(1)
        padded = T.Pad(**kwargs)(x)
        for _ in range(50):              # including windows that hold only padding
            top, left = replay.integers(padded.shape[1] - 2), replay.integers(padded.shape[2] - 1)
            np.testing.assert_array_equal(crop(x, rng), padded[:, top:top + 3, left:left + 2])
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(7, padding=1)(x, rng)


def test_horizontal_flip_exact():
    x = _grid(2, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1)(x), x[:, :, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0)(x), x)
    rng = np.random.default_rng(1)
    flips = sum(np.array_equal(T.RandomHorizontalFlip()(x, rng), x[:, :, ::-1])
                for _ in range(400))
    assert 150 < flips < 250          # p = 0.5: the binomial's 5-sigma range
    with pytest.raises(ValueError, match="p must"):
        T.RandomHorizontalFlip(p=1.5)


def test_color_jitter_brightness_golden_and_clipping():
    x = np.full((3, 2, 2), 0.5, np.float32)
    replay = np.random.default_rng(3)
    replay.permutation(1)
    factor = replay.uniform(0.5, 1.5)
    y = T.ColorJitter(brightness=0.5)(x, np.random.default_rng(3))
    np.testing.assert_allclose(y, np.clip(x * factor, 0, 1), rtol=1e-6)
    bright = T.ColorJitter(brightness=10)(np.ones((1, 2, 2), np.float32), np.random.default_rng(0))
    assert bright.max() <= 1


def test_color_jitter_contrast_golden_and_saturation_skips_grey():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.7, (1, 4, 4)).astype(np.float32)
    replay = np.random.default_rng(4)
    replay.permutation(1)
    factor = replay.uniform(0.7, 1.3)
    y = T.ColorJitter(contrast=0.3)(x, np.random.default_rng(4))
    np.testing.assert_allclose(y, factor * x + (1 - factor) * x.mean(), rtol=1e-6)
    np.testing.assert_allclose(y.mean(), x.mean(), rtol=1e-6)     # contrast keeps the mean
    np.testing.assert_array_equal(T.ColorJitter(saturation=0.9)(x, rng), x)


def test_color_shift_adds_one_bounded_offset_per_channel():
    x = np.random.default_rng(0).random((3, 5, 5)).astype(np.float32)
    y = T.ColorShift(0.2)(x, np.random.default_rng(1))
    offset = (y - x).reshape(3, -1)
    np.testing.assert_allclose(offset, offset[:, :1].repeat(25, 1), atol=1e-6)
    assert np.all(np.abs(offset) <= 0.2 + 1e-6) and len(np.unique(offset[:, 0].round(5))) == 3
    assert y.dtype == np.float32


def test_pca_components_recover_a_known_colour_covariance():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    variances = np.array([0.09, 0.01, 0.0025])
    colours = rng.normal(size=(64 * 100, 3)) * np.sqrt(variances) @ basis.T + 0.5
    images = colours.reshape(64, 10, 10, 3).transpose(0, 3, 1, 2)      # (N, 3, H, W)
    values, vectors = T.pca_color_components(images)
    np.testing.assert_allclose(values, variances, rtol=0.08)
    for i in range(3):                      # same directions (up to sign)
        assert abs(vectors[:, i] @ basis[:, i]) > 0.99
    # a dataset of (image, label) pairs gives the same answer as the array
    dataset = [(image, 0) for image in images]
    np.testing.assert_allclose(T.pca_color_components(dataset)[0], values)


def test_pca_augmentation_is_mean_zero_along_the_principal_components():
    vectors = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    values = np.array([0.2, 0.02, 0.0])
    augment = T.PCAColorAugmentation(values, vectors, std=0.1)
    x = np.full((3, 2, 2), 0.5, np.float32)
    rng = np.random.default_rng(2)
    deltas = np.array([(augment(x, rng) - x)[:, 0, 0] for _ in range(2000)])
    alphas = deltas @ vectors                                   # coordinates along p_i
    np.testing.assert_allclose(alphas[:, 2], 0, atol=1e-6)      # nothing along a zero eigenvalue
    scaled = alphas[:, :2] / values[:2]                          # = alpha_i ~ N(0, 0.1^2)
    np.testing.assert_allclose(scaled.mean(0), 0, atol=0.01)
    np.testing.assert_allclose(scaled.std(0), 0.1, rtol=0.08)
    one = augment(x, np.random.default_rng(5))                  # one shift for every pixel
    np.testing.assert_allclose(one - one[:, :1, :1], 0, atol=1e-7)
    with pytest.raises(ValueError, match="fitted to 3 channels"):
        augment(np.zeros((1, 2, 2), np.float32))


def test_five_and_ten_crop_golden():
    x = _grid()
    five = T.FiveCrop(2)(x)
    assert five.shape == (5, 1, 2, 2)
    for crop, window in zip(five, [x[:, :2, :2], x[:, :2, 2:], x[:, 2:, :2], x[:, 2:, 2:],
                                   x[:, 1:3, 1:3]]):
        np.testing.assert_array_equal(crop, window)
    ten = T.TenCrop(2)(x)
    assert ten.shape == (10, 1, 2, 2)
    np.testing.assert_array_equal(ten[:5], five)
    np.testing.assert_array_equal(ten[5:], T.FiveCrop(2)(x[:, :, ::-1]))
    # torchvision's order: the 6th crop is the mirrored top-right corner
    np.testing.assert_array_equal(ten[5], five[1][:, :, ::-1])
    np.testing.assert_array_equal(T.TenCrop(2, vertical_flip=True)(x)[5], x[:, ::-1][:, :2, :2])
    with pytest.raises(ValueError, match="larger than the image"):
        T.FiveCrop(5)(x)


@pytest.mark.parametrize("transform", [
    T.RandomCrop(3, padding=2), T.RandomHorizontalFlip(),
    T.ColorJitter(0.4, 0.4, 0.4), T.ColorShift(0.1),
    T.PCAColorAugmentation([0.1, 0.05, 0.01], np.eye(3)),
    T.Compose([T.RandomCrop(4, padding=1), T.RandomHorizontalFlip(), T.Normalize(0.5, 0.2)]),
])
def test_random_transforms_are_deterministic_given_the_rng(transform):
    x = np.random.default_rng(0).random((3, 5, 5)).astype(np.float32)
    a = [transform(x, np.random.default_rng(7)) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    outputs = {transform(x, np.random.default_rng(seed)).tobytes() for seed in range(8)}
    assert len(outputs) > 1
    assert a[0].dtype == np.float32
    minicnn.manual_seed(11)                       # rng=None draws from minicnn's generator
    b = transform(x)
    minicnn.manual_seed(11)
    np.testing.assert_array_equal(transform(x), b)


_BATCHABLE = [T.Normalize((0.1, 0.2), (0.5, 2.0)), T.Pad((1, 0, 2, 1)), T.CenterCrop(2),
              T.ToFloat(0.5), T.Pad(1, padding_mode="reflect"),
              T.FiveCrop(2), T.TenCrop((2, 3)),
              T.Compose([T.Pad(1), T.CenterCrop(3), T.Normalize(0, 2)])]


@given(n=st.integers(1, 3), h=st.integers(3, 6), w=st.integers(3, 6),
       which=st.integers(0, len(_BATCHABLE) - 1), seed=st.integers(0, 2**16))
def test_batchable_transforms_act_on_a_batch_as_on_each_sample(n, h, w, which, seed):
    transform = _BATCHABLE[which]
    assert transform.batchable
    batch = np.random.default_rng(seed).random((n, 2, h, w)).astype(np.float32)
    np.testing.assert_allclose(transform(batch), np.stack([transform(x) for x in batch]),
                               rtol=1e-6)


def test_compose_batchable_only_when_every_part_is():
    assert not T.Compose([T.Pad(1), T.RandomHorizontalFlip()]).batchable
    assert T.Compose([T.Pad(1), T.Normalize(0, 1)]).batchable
    assert not T.Compose([lambda x: x]).batchable
    with pytest.raises(TypeError, match="callables"):
        T.Compose([3])
    assert "Pad" in repr(T.Compose([T.Pad(1)]))


def test_adjust_hue_turns_the_colour_wheel():
    red, green = np.zeros((3, 1, 2)), np.zeros((3, 1, 2))
    red[0], green[1] = 1.0, 1.0
    red[:, 0, 1] = green[:, 0, 1] = 0.5                       # a grey pixel stays grey
    np.testing.assert_allclose(T.adjust_hue(red, 1 / 3), green, atol=1e-12)
    np.testing.assert_allclose(T.adjust_hue(green, -1 / 3), red, atol=1e-12)
    np.testing.assert_allclose(T.adjust_hue(red, 0.0), red)
    half = T.adjust_hue(red[:, :, :1], 0.5)                   # red -> cyan
    np.testing.assert_allclose(half[:, 0, 0], [0.0, 1.0, 1.0], atol=1e-12)
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]"):
        T.adjust_hue(red, 0.6)


def test_color_jitter_hue_keeps_grey_and_repeats_with_its_generator():
    x = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    jitter = T.ColorJitter(0.4, 0.4, 0.4, hue=0.1)
    a, b = jitter(x, rng=np.random.default_rng(3)), jitter(x, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    grey = np.full((3, 2, 2), 0.25, np.float32)
    np.testing.assert_allclose(T.ColorJitter(hue=0.5)(grey, rng=np.random.default_rng(1)),
                               grey, atol=1e-6)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\)"):
        T.ColorJitter(hue=0.7)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non"):
        T.ColorJitter(brightness=-1)
    ranged = T.ColorJitter(brightness=(0.5, 0.5), hue=(-0.2, 0.1))   # torchvision's pairs
    assert ranged.brightness == (0.5, 0.5) and ranged.hue == (-0.2, 0.1)
    assert ranged.contrast is None and T.ColorJitter(0.4).brightness == (0.6, 1.4)
    np.testing.assert_allclose(ranged(grey[:1], rng=np.random.default_rng(0)), grey[:1] * 0.5)
