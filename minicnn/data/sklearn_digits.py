"""scikit-learn's bundled 8 x 8 digits (1,797 images), when scikit-learn is installed.

The images ship inside scikit-learn (``sklearn.datasets.load_digits``, no download): grey
levels 0-16, scaled here to [0, 1]. scikit-learn has no train/test split for them, so a
fixed shuffle (``seed``) puts ``test_fraction`` of the images in the test set.
"""

import numpy as np

from .dataset import ArrayDataset

__all__ = ["SklearnDigits"]


class SklearnDigits(ArrayDataset):
    """The 8 x 8 digits of scikit-learn, (1, 8, 8) float32 in [0, 1], labels 0-9.

    Parameters
    ----------
    train : bool
        The training part or the test part of the fixed split.
    transform : callable, optional
        Applied to each image (see ``minicnn.data.transforms``).
    test_fraction : float
        Share of the images in the test part (rounded to a whole number of images).
    seed : int
        Seed of the shuffle that makes the split.
    """

    classes = tuple("0123456789")

    def __init__(self, train=True, transform=None, test_fraction=0.2, seed=0):
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise ImportError("SklearnDigits needs scikit-learn (pip install scikit-learn); "
                              "the built-in dataset, BuiltinDigits, needs nothing") from None
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
        digits = load_digits()
        images = digits.images.astype(np.uint8)[:, None]            # (N, 8, 8) -> (N, 1, 8, 8)
        labels = digits.target.astype(np.int64)
        order = np.random.default_rng(seed).permutation(len(labels))
        n_test = int(round(len(labels) * test_fraction))
        part = order[n_test:] if train else order[:n_test]
        super().__init__(images[part], labels[part], transform=transform, scale=1 / 16)
        self.train = train
