"""The built-in dataset: handwritten-style digits drawn with strokes, no download needed.

``BuiltinDigits(train=True)`` gives 60,000 training or 10,000 test images of the digits
0-9, grey, 1 x 28 x 28, white ink on black like MNIST, ten classes in equal numbers. They
are generated from a fixed seed in a few seconds on first use and cached
(see ``minicnn.data.cache``), so every run sees the same data and the same split.

How an image is drawn
---------------------
1. Each digit has one to three *glyphs* (e.g. a 7 with and without a crossbar, a 4 open or
   closed): pen strokes, i.e. polylines and elliptic arcs, in a glyph box with x in
   [-0.6, 0.6] and y in [-1, 1], y pointing down. An arc ``_arc(cx, cy, rx, ry, a0, a1)``
   runs from angle ``a0`` to ``a1`` in degrees (0 right, 90 down, 180 left, 270 up).
2. For each glyph the distance ``d(u)`` from a point ``u`` to the nearest stroke segment is
   tabulated once on a fine grid (161 x 161 over [-1.6, 1.6]^2).
3. Each image draws a glyph of its class and a random pose: rotation ``r ~ N(0, 10 deg)``,
   shear ``s`` (a slant), height ``h`` px per glyph unit, aspect ``a``, translation ``t``,
   and an elastic displacement ``e(p)`` (a 4 x 4 grid of N(0, 1 px) offsets interpolated
   bilinearly over the image). With ``A = R(r) [[1, -s], [0, 1]] diag(a h, h)``, the glyph
   point under pixel centre ``p`` (relative to the image centre) is
   ``u = A^-1 (p + e(p) - t)``, and ``d`` is read off the table by bilinear interpolation.
4. With stroke half-width ``w`` px, ink ``k`` and ``d_px = d(u) sqrt|det A|``, the pixel is
   ``k * clip((w - d_px) / 1.5 + 1/2, 0, 1)`` (a 1.5-px antialiased edge), plus uniform
   noise of a random level, clipped to [0, 1] and stored as uint8.

Everything for pixel ``p`` is linear in the 3 + 16 numbers (p_x, p_y, 1, grid weights), so a
whole block of images is mapped with one matrix product and rendered with array operations
(no per-image Python loop). Images come in blocks of 1,000 (100 of each digit), each with
its own generator seeded by ``(seed, split, block)``: the first ``n`` images of a larger set
are the set of size ``n``, and blocks are drawn in parallel threads. Same seed, same images
(on one machine: a BLAS library may round the last bit differently elsewhere, which can
move a pixel by one grey level).

Difficulty, measured when the parameters were chosen (60,000 / 10,000 images): softmax
regression on raw pixels reaches about 90% test accuracy (train and test alike: the limit
of a linear model), LeNet-5 (PyTorch, batch 64) 99.0% after one epoch with Adam and 99.3%
with SGD and momentum, 99.7% after two or three.
"""

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .cache import cache_dir, load_arrays, save_arrays
from .dataset import ArrayDataset

__all__ = ["BuiltinDigits", "generate_digits"]

VERSION = 1          # bump whenever the images change, so old caches are not reused
IMAGE_SIZE = 28
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000
BLOCK = 1_000        # images per independently seeded block

# Pose and pen distributions (pixels unless stated).
ROTATION_STD_DEG = 10.0        # clipped at two standard deviations
SHEAR = (-0.15, 0.35)          # x += shear * (-y): positive slants right, as handwriting does
HEIGHT = (8.0, 10.0)           # pixels per glyph unit: digits 16-20 px tall, as MNIST's 20
ASPECT = (0.75, 1.2)           # width / height scale
SHIFT_STD = 1.3
ELASTIC_STD = 1.0              # of each of the 4 x 4 grid offsets
ELASTIC_GRID = 4
HALF_WIDTH = (0.8, 2.0)        # stroke half-width
EDGE = 1.5                     # width of the antialiased ramp at the stroke's edge
INK = (0.8, 1.0)
NOISE = (0.0, 0.08)            # standard deviation of the (uniform) pixel noise

_FIELD_HALF = 1.6              # the distance table covers [-1.6, 1.6]^2 in glyph units
_FIELD_SIZE = 161


def _arc(cx, cy, rx, ry, start, stop, step=12.0):
    """Points on an elliptic arc from angle ``start`` to ``stop`` (degrees, y down)."""
    count = max(2, math.ceil(abs(stop - start) / step) + 1)
    angles = np.radians(np.linspace(start, stop, count))
    return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles)))


# digit -> glyphs; glyph = list of strokes; stroke = list of (x, y) points joined in order.
GLYPHS = {
    0: [[_arc(0, 0, .55, .95, 0, 360)],
        [_arc(0, 0, .62, .9, -100, 270)]],
    1: [[[(0, -1), (0, 1)]],
        [[(-.3, -.62), (0, -1), (0, 1)]],
        [[(-.3, -.62), (0, -1), (0, 1)], [(-.3, 1), (.3, 1)]]],
    2: [[_arc(0, -.45, .5, .52, 190, 385) + [(-.55, 1), (.6, 1)]],
        [_arc(0, -.5, .45, .47, 200, 395) + [(-.5, 1), (.55, .92)]]],
    3: [[_arc(0, -.5, .45, .45, 200, 460) + _arc(0, .48, .52, .52, -100, 160)],
        [[(-.5, -1), (.5, -1), (-.05, -.15)] + _arc(0, .45, .52, .55, -120, 160)]],
    4: [[[(-.2, -1), (-.6, .35), (.6, .35)], [(.3, -.6), (.3, 1)]],
        [[(.35, 1), (.35, -1), (-.6, .35), (.6, .35)]]],
    5: [[[(.5, -1), (-.35, -1)] + _arc(0, .4, .52, .55, -145, 150)],
        [[(-.35, -1)] + _arc(0, .4, .52, .55, -145, 150), [(-.35, -1), (.5, -1)]]],
    6: [[_arc(.45, .45, .95, 1.4, -100, -180) + _arc(0, .45, .48, .5, 180, -180)],
        [[(.3, -1)] + _arc(0, .42, .48, .52, -160, -520)]],
    7: [[[(-.5, -1), (.55, -1), (-.1, 1)]],
        [[(-.5, -1), (.55, -1), (-.1, 1)], [(-.25, 0), (.4, 0)]],
        [[(-.5, -.95), (.55, -1), (.25, -.4), (.05, .3), (0, 1)]]],
    8: [[_arc(0, -.5, .4, .45, 0, 360), _arc(0, .47, .5, .52, 0, 360)],
        [_arc(0, -.48, .45, .48, 90, 450), _arc(0, .5, .45, .5, -90, 270)]],
    9: [[_arc(0, -.45, .48, .48, 0, 360), [(.48, -.45), (.45, 1)]],
        [_arc(0, -.45, .48, .48, 0, 360), [(.48, -.45), (.45, .3), (.3, .85), (0, 1)]]],
}


def _segments(glyph):
    """A glyph's strokes as segments: (S, 4) rows ``(x0, y0, x1, y1)``."""
    return np.concatenate([np.concatenate([np.asarray(stroke[:-1], dtype=np.float64),
                                           np.asarray(stroke[1:], dtype=np.float64)], axis=1)
                           for stroke in glyph])


def _distance_table(segments):
    """Distance from each grid point of the table to the nearest segment: (G, G), [y, x]."""
    axis = np.linspace(-_FIELD_HALF, _FIELD_HALF, _FIELD_SIZE)
    px, py = np.meshgrid(axis, axis)                                  # (G, G) each
    nearest_sq = np.full(px.shape, np.inf)
    for x0, y0, x1, y1 in segments:
        dx, dy = x1 - x0, y1 - y0
        # Project onto the segment, clamp to its ends, measure.
        along = np.clip(((px - x0) * dx + (py - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
        np.minimum(nearest_sq, (px - x0 - along * dx) ** 2 + (py - y0 - along * dy) ** 2,
                   out=nearest_sq)
    return np.sqrt(nearest_sq)


def _bilinear_weights(coarse, fine):
    """(fine, coarse) matrix that interpolates ``coarse`` values (spanning the image) at the
    ``fine`` pixel centres."""
    position = (np.arange(fine) + 0.5) / fine * (coarse - 1)
    low = np.minimum(position.astype(np.intp), coarse - 2)
    weights = np.zeros((fine, coarse))
    weights[np.arange(fine), low] = 1 - (position - low)
    weights[np.arange(fine), low + 1] = position - low
    return weights


class _Renderer:
    """The tables shared by all images (built once, on first use)."""

    def __init__(self):
        glyphs = [(digit, glyph) for digit in range(10) for glyph in GLYPHS[digit]]
        self.first_glyph = np.array([sum(len(GLYPHS[d]) for d in range(digit))
                                     for digit in range(10)])
        self.glyph_count = np.array([len(GLYPHS[digit]) for digit in range(10)])
        tables = np.stack([_distance_table(_segments(glyph)) for _, glyph in glyphs])
        # Bilinear interpolation in cell (i, j) with fractions (fx, fy) is
        # c0 + c1 fx + (c2 + c3 fx) fy; one row of 4 coefficients per cell, gathered at once.
        t00, t01 = tables[:, :-1, :-1], tables[:, :-1, 1:]
        t10, t11 = tables[:, 1:, :-1], tables[:, 1:, 1:]
        self.cells = np.stack([t00, t01 - t00, t10 - t00, t11 - t10 - t01 + t00],
                              axis=-1).reshape(-1, 4).astype(np.float32)       # (glyphs*(G-1)^2, 4)
        centres = np.arange(IMAGE_SIZE) + 0.5 - IMAGE_SIZE / 2
        grid = _bilinear_weights(ELASTIC_GRID, IMAGE_SIZE)
        # Basis rows: p_x, p_y, 1, then the weight of each elastic grid node, per pixel.
        self.basis = np.concatenate([
            np.stack([np.tile(centres, IMAGE_SIZE), np.repeat(centres, IMAGE_SIZE),
                      np.ones(IMAGE_SIZE ** 2)]),
            np.einsum("ya,xb->abyx", grid, grid).reshape(ELASTIC_GRID ** 2, IMAGE_SIZE ** 2),
        ]).astype(np.float32)                                                  # (3 + 16, 784)

    def render(self, rng, labels):
        """Images of ``labels`` (B,) drawing every random choice from ``rng``: (B, 28, 28) uint8."""
        b = len(labels)
        choice = (rng.random(b) * self.glyph_count[labels]).astype(np.intp)
        glyph = self.first_glyph[labels] + choice
        rotation = np.radians(np.clip(rng.normal(0, ROTATION_STD_DEG, b),
                                      -2 * ROTATION_STD_DEG, 2 * ROTATION_STD_DEG))
        shear = rng.uniform(*SHEAR, b)
        height = rng.uniform(*HEIGHT, b)
        aspect = rng.uniform(*ASPECT, b)
        shift = rng.normal(0, SHIFT_STD, (b, 2))
        elastic = rng.normal(0, ELASTIC_STD, (b, 2, ELASTIC_GRID ** 2))
        half_width = rng.uniform(*HALF_WIDTH, b)
        ink = rng.uniform(*INK, b)
        noise = rng.uniform(*NOISE, b)

        # A = R(rotation) @ [[1, -shear], [0, 1]] @ diag(aspect * height, height): (B, 2, 2)
        cos, sin = np.cos(rotation), np.sin(rotation)
        width = aspect * height
        pose = np.empty((b, 2, 2))
        pose[:, 0, 0], pose[:, 0, 1] = cos * width, -(cos * shear + sin) * height
        pose[:, 1, 0], pose[:, 1, 1] = sin * width, (cos - sin * shear) * height
        pixel_scale = np.sqrt(np.abs(np.linalg.det(pose)))            # px per glyph unit
        # Pixel offsets -> table cells: M = A^-1 * cells per glyph unit; table centre at (G-1)/2.
        to_cells = np.linalg.inv(pose) * ((_FIELD_SIZE - 1) / (2 * _FIELD_HALF))
        centre = (_FIELD_SIZE - 1) / 2 - np.einsum("bij,bj->bi", to_cells, shift)
        coefficients = np.concatenate([to_cells, centre[:, :, None], to_cells @ elastic],
                                      axis=2).astype(np.float32)      # (B, 2, 3 + 16)
        position = (coefficients.reshape(2 * b, -1) @ self.basis).reshape(b, 2, -1)  # (B, 2, 784)

        cells_per_side = _FIELD_SIZE - 1
        np.clip(position, 0, cells_per_side - 1e-3, out=position)
        cell = position.astype(np.intp)
        position -= cell                                              # fractions within the cell
        index = (glyph[:, None] * cells_per_side + cell[:, 1]) * cells_per_side + cell[:, 0]
        c = np.take(self.cells, index, axis=0)                        # (B, 784, 4)
        fx, fy = position[:, 0], position[:, 1]
        distance = c[..., 0] + c[..., 1] * fx + (c[..., 2] + c[..., 3] * fx) * fy  # glyph units

        # k * clip((w - d * scale) / EDGE + 1/2, 0, 1) + noise
        image = (distance * (-pixel_scale / EDGE)[:, None].astype(np.float32)
                 + (half_width / EDGE + 0.5)[:, None].astype(np.float32))
        np.clip(image, 0, 1, out=image)
        image *= ink[:, None].astype(np.float32)
        # Uniform noise on [-1/2, 1/2) times sqrt(12) * level has standard deviation `level`.
        image += ((rng.random(image.shape, dtype=np.float32) - np.float32(0.5))
                  * (math.sqrt(12) * noise)[:, None].astype(np.float32))
        np.clip(image, 0, 1, out=image)
        image = image * np.float32(255) + np.float32(0.5)
        return image.astype(np.uint8).reshape(b, IMAGE_SIZE, IMAGE_SIZE)


_renderer = None


def _get_renderer():
    global _renderer
    if _renderer is None:
        _renderer = _Renderer()
    return _renderer


def _block(seed, split, block, count):
    """The first ``count`` images of block ``block`` (always drawn in full, so an image does
    not depend on how many are asked for)."""
    rng = np.random.default_rng((seed, split, block))
    labels = rng.permutation(np.arange(BLOCK) % 10)                   # balanced classes
    return _get_renderer().render(rng, labels)[:count], labels[:count]


def generate_digits(n, seed=0, train=True):
    """Generate ``n`` digit images (no cache).

    Returns
    -------
    images : ndarray, uint8, (n, 1, 28, 28)
    labels : ndarray, int64, (n,)
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    split = 0 if train else 1
    jobs = [(seed, split, k, min(BLOCK, n - start)) for k, start in enumerate(range(0, n, BLOCK))]
    _get_renderer()                    # build the shared tables once, before the threads
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        blocks = list(pool.map(lambda job: _block(*job), jobs))
    images = np.concatenate([im for im, _ in blocks]) if blocks else np.zeros((0, 28, 28), np.uint8)
    labels = np.concatenate([lb for _, lb in blocks]) if blocks else np.zeros(0, np.int64)
    return images[:, None], labels.astype(np.int64)


class BuiltinDigits(ArrayDataset):
    """Handwritten-style digits, generated and cached on first use (see the module docstring).

    Parameters
    ----------
    train : bool
        The training set (60,000 images) or the test set (10,000).
    transform : callable, optional
        Applied to each ``(1, 28, 28)`` float32 image in [0, 1], e.g. ``Pad(2)`` for the
        32 x 32 input of LeNet-5.
    size : int, optional
        Use only the first ``size`` images of the set (quick experiments, tests).
    seed : int
        0 is *the* dataset; other seeds give other draws of the same distribution.
    cache : bool
        Keep the images in ``cache_dir()`` and load them from there next time.

    Attributes
    ----------
    images : ndarray, uint8, (N, 1, 28, 28)
    labels : ndarray, int64, (N,)
    classes : tuple of str
    """

    classes = tuple("0123456789")

    def __init__(self, train=True, transform=None, size=None, seed=0, cache=True):
        full = TRAIN_SIZE if train else TEST_SIZE
        if size is None:
            size = full
        if (not isinstance(size, (int, np.integer)) or isinstance(size, bool)
                or not 0 < size <= full):
            raise ValueError(f"size must be an int in [1, {full}], got {size!r}")
        images, labels = _load_or_generate(int(size), seed, train, cache)
        super().__init__(images, labels, transform=transform, scale=1 / 255)
        self.train = train

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"BuiltinDigits({split}, {len(self)} images of 1x28x28, 10 classes)"


def _load_or_generate(n, seed, train, cache):
    split = "train" if train else "test"
    path = cache_dir() / f"builtin-digits-v{VERSION}-{split}-seed{seed}-n{n}.npz"
    if cache:
        arrays = load_arrays(path)
        if arrays is not None and _valid(arrays, n):
            return arrays["images"], arrays["labels"]
    images, labels = generate_digits(n, seed, train)
    if cache:
        try:
            save_arrays(path, images=images, labels=labels)
        except OSError as error:       # a read-only home still gets its data, just slower
            warnings.warn(f"could not cache the built-in digits in {path.parent}: {error}",
                          stacklevel=3)
    return images, labels


def _valid(arrays, n):
    images, labels = arrays.get("images"), arrays.get("labels")
    return (images is not None and labels is not None
            and images.shape == (n, 1, IMAGE_SIZE, IMAGE_SIZE) and images.dtype == np.uint8
            and labels.shape == (n,) and np.issubdtype(labels.dtype, np.integer)
            and (n == 0 or (labels.min() >= 0 and labels.max() <= 9)))
