"""Tiny models and a learnable toy problem shared by the training tests."""

from collections import namedtuple

import numpy as np

from minicnn import nn
from minicnn.data import ArrayDataset

CLASSES = 3
SIZE = 8


def toy_arrays(n, seed=0, size=SIZE):
    """``n`` noisy images (N, 1, size, size) of one of three fixed templates, and labels."""
    rng = np.random.default_rng(seed)
    templates = np.zeros((CLASSES, 1, size, size), np.float32)
    templates[0, 0, :size // 2] = 1          # top half
    templates[1, 0, :, :size // 2] = 1       # left half
    templates[2, 0, size // 4:-(size // 4), size // 4:-(size // 4)] = 1   # centre
    labels = np.arange(n) % CLASSES
    images = templates[labels] + rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    return images, labels.astype(np.int64)


def toy_dataset(n, seed=0, transform=None, size=SIZE):
    return ArrayDataset(*toy_arrays(n, seed, size), transform=transform)


def tiny_cnn(dropout=0.0, size=SIZE):
    """conv 3x3 (2 channels) -> ReLU -> flatten -> [dropout] -> linear to 3 classes."""
    layers = [nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(2 * (size - 2) ** 2, CLASSES))
    return nn.Sequential(*layers)


AuxOutputs = namedtuple("AuxOutputs", ["logits", "aux_logits"])


class AuxNet(nn.Module):
    """A trunk with a main and an auxiliary head; like GoogLeNet, a named tuple in training
    mode and the main logits in eval mode."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(SIZE * SIZE, 6), nn.ReLU())
        self.head = nn.Linear(6, CLASSES)
        self.aux = nn.Linear(6, CLASSES)

    def forward(self, x):
        features = self.trunk(x)
        if self.training:
            return AuxOutputs(self.head(features), self.aux(features))
        return self.head(features)
