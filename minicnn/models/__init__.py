"""The classic architectures, one file each, assembled from ``minicnn.models.blocks``.

Every constructor takes ``num_classes``; where torchvision has the same model, the
``state_dict`` keys and shapes are torchvision's, so its weights load directly (see
``minicnn.load_torch_state_dict``).
"""

from .resnet import (CifarResNet, ResNet, resnet18, resnet20, resnet32, resnet34, resnet44,
                     resnet50, resnet56, resnext50_32x4d)
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .inception import Inception3, InceptionOutputs, inception_v3
from .lenet import LeNet5, lenet5
from .alexnet import AlexNet, alexnet
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .mobilenet import MobileNetV1, MobileNetV2, mobilenet_v1, mobilenet_v2

__all__ = ["get_model"]
__all__ += ["resnet18", "resnet34", "resnet50", "resnext50_32x4d", "resnet20", "resnet32",
            "resnet44", "resnet56"]
__all__ += ["googlenet", "inception_v3"]
__all__ += ["lenet5", "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
            "vgg19", "vgg19_bn", "squeezenet1_0", "squeezenet1_1", "mobilenet_v1",
            "mobilenet_v2"]


def get_model(name, **kwargs):
    """Build a model by name, e.g. ``get_model('resnet18', num_classes=10)``."""
    if name not in __all__ or name == "get_model":
        known = ", ".join(sorted(n for n in __all__ if n != "get_model"))
        raise ValueError(f"unknown model {name!r}; known models: {known}")
    return globals()[name](**kwargs)
