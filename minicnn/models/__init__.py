"""The classic architectures, one file each, assembled from ``minicnn.models.blocks``.

Every constructor takes ``num_classes``; where torchvision has the same model, the
``state_dict`` keys and shapes are torchvision's, so its weights load directly (see
``minicnn.load_torch_state_dict``).
"""

from .resnet import (CifarResNet, ResNet, resnet18, resnet20, resnet32, resnet34, resnet44,
                     resnet50, resnet56, resnext50_32x4d, se_resnet50, wide_resnet50_2)
from .wide_resnet import WideResNet, wide_resnet28_10
from .densenet import DenseNet, densenet121
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .inception import Inception3, InceptionOutputs, inception_v3
from .lenet import LeNet5, lenet5
from .alexnet import AlexNet, alexnet
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .mobilenet import MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2

__all__ = ["get_model", "input_shape"]
__all__ += ["resnet18", "resnet34", "resnet50", "resnext50_32x4d", "resnet20", "resnet32",
            "resnet44", "resnet56"]
__all__ += ["wide_resnet50_2", "se_resnet50", "wide_resnet28_10", "densenet121"]
__all__ += ["googlenet", "inception_v3"]
__all__ += ["lenet5", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
            "vgg19", "vgg19_bn", "squeezenet1_0", "squeezenet1_1", "mobilenet_v1",
            "mobilenet_v2"]


# The input each model is built for, (C, H, W): LeNet-5 reads 32x32 digits, the CIFAR ResNets
# and Wide ResNet-28-10 32x32 colour images, Inception-v3 299x299; every other model takes
# ImageNet's 224x224.
_INPUT_SHAPES = {"lenet5": (1, 32, 32), "inception_v3": (3, 299, 299),
                 "resnet20": (3, 32, 32), "resnet32": (3, 32, 32), "resnet44": (3, 32, 32),
                 "resnet56": (3, 32, 32), "wide_resnet28_10": (3, 32, 32)}
IMAGENET_INPUT = (3, 224, 224)
_NOT_MODELS = ("get_model", "input_shape")


def _check_name(name):
    if name not in __all__ or name in _NOT_MODELS:
        known = ", ".join(sorted(n for n in __all__ if n not in _NOT_MODELS))
        raise ValueError(f"unknown model {name!r}; known models: {known}")


def input_shape(name):
    """The (C, H, W) input model ``name`` is built for, e.g. ``(3, 224, 224)`` for resnet18."""
    _check_name(name)
    return _INPUT_SHAPES.get(name, IMAGENET_INPUT)


def get_model(name, **kwargs):
    """Build a model by name, e.g. ``get_model('resnet18', num_classes=10)``."""
    _check_name(name)
    return globals()[name](**kwargs)
