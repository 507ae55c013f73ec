"""``minicnn.vision``: torchvision's import paths, so ``import minicnn.vision as torchvision``
is the whole port of torchvision code within minicnn's scope.

    datasets     MNIST, FashionMNIST, CIFAR10 from local files (never downloaded)
    transforms   Compose, ToTensor, Normalize, Resize, CenterCrop, RandomCrop, ... (and .v2)
    models       resnet18(weights=...), vgg16, alexnet, ... over minicnn.models
    utils        make_grid
    io           read_image
"""

from . import datasets, io, models, transforms, utils

__all__ = ["datasets", "io", "models", "transforms", "utils"]
