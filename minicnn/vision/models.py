"""torchvision's model builders, mapped to ``minicnn.models``: ``resnet18(weights=None)``, ...

The architectures and their ``state_dict`` keys are torchvision's (see ``minicnn.models``),
so torchvision's pretrained files load. minicnn never downloads; a weights request

    model = resnet18(weights=ResNet18_Weights.DEFAULT)   # or weights="IMAGENET1K_V1",
                                                         # or pretrained=True
loads the file torchvision would have downloaded, *from torch's cache* (where
``torch.hub`` keeps it): ``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth``
(``TORCH_HOME`` defaults to ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``). Without
that file the error says where to put it and how to load any local ``.pth`` instead::

    model = resnet18()
    model.load_state_dict(minicnn.load_torch_state_dict("resnet18-f37072fd.pth"))

The file is read by ``minicnn.load_torch_state_dict`` (no PyTorch, no unpickling of code).
``weights.transforms()`` is torchvision's ImageNet preset: resize, centre crop, scale to
[0, 1], normalise with ImageNet's mean and std; ``weights.meta["categories"]`` the 1000
class names, so ``weights.meta["categories"][logits.argmax().item()]`` names a prediction.
"""

import enum
import os
import warnings
from pathlib import Path

from .. import models as _models
from ..models import (AlexNet, DenseNet, GoogLeNet, Inception3, MobileNetV2, ResNet,
                      SqueezeNet, VGG)
from ..torch_checkpoint import load_torch_state_dict
from ._imagenet import IMAGENET_CATEGORIES
from .transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor

_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_URL = "https://download.pytorch.org/models/"


class WeightsNotFoundError(RuntimeError, FileNotFoundError):
    """A pretrained file is not in torch's cache (minicnn never downloads it)."""


class Weights:
    """One set of pretrained weights: the file torchvision downloads and its preset."""

    def __init__(self, file_name, crop_size=224, resize_size=256):
        self.url = _URL + file_name
        self.file_name = file_name
        self.crop_size, self.resize_size = crop_size, resize_size
        self.meta = {"categories": list(IMAGENET_CATEGORIES)}

    def transforms(self):
        """torchvision's ``ImageClassification`` preset for these weights."""
        return Compose([Resize(self.resize_size, InterpolationMode.BILINEAR),
                        CenterCrop(self.crop_size), ToTensor(),
                        Normalize(_IMAGENET_MEAN, _IMAGENET_STD)])


class WeightsEnum(enum.Enum):
    """Base of ``ResNet18_Weights`` etc.: members ``IMAGENET1K_V1`` (and ``DEFAULT``)."""

    @property
    def url(self):
        return self.value.url

    @property
    def meta(self):
        return self.value.meta

    def transforms(self):
        return self.value.transforms()

    @classmethod
    def verify(cls, weights):
        """``weights`` as a member: a member, its name (``"DEFAULT"``, ``"IMAGENET1K_V1"``,
        ``"ResNet18_Weights.DEFAULT"``) or None."""
        if weights is None or isinstance(weights, cls):
            return weights
        if isinstance(weights, str):
            name = weights.replace(cls.__name__ + ".", "")
            if name in cls.__members__:
                return cls.__members__[name]
        raise ValueError(f"Invalid weights {weights!r}: expected None, a member of "
                         f"{cls.__name__} or one of the names {list(cls.__members__)}")

    def __repr__(self):
        return f"{type(self).__name__}.{self.name}"


def _weights_enum(name, *files):
    """An enum ``name`` with ``IMAGENET1K_V1`` (, ``IMAGENET1K_V2``) and ``DEFAULT`` = the last
    (torchvision's DEFAULT is its best set)."""
    members = {f"IMAGENET1K_V{i}": Weights(*f) if isinstance(f, tuple) else Weights(f)
               for i, f in enumerate(files, 1)}
    members["DEFAULT"] = members[f"IMAGENET1K_V{len(files)}"]
    return WeightsEnum(name, members)


ResNet18_Weights = _weights_enum("ResNet18_Weights", "resnet18-f37072fd.pth")
ResNet34_Weights = _weights_enum("ResNet34_Weights", "resnet34-b627a593.pth")
ResNet50_Weights = _weights_enum("ResNet50_Weights", "resnet50-0676ba61.pth",
                                 ("resnet50-11ad3fa6.pth", 224, 232))
ResNeXt50_32X4D_Weights = _weights_enum("ResNeXt50_32X4D_Weights",
                                        "resnext50_32x4d-7cdf4587.pth",
                                        ("resnext50_32x4d-1a0047aa.pth", 224, 232))
Wide_ResNet50_2_Weights = _weights_enum("Wide_ResNet50_2_Weights",
                                        "wide_resnet50_2-95faca4d.pth",
                                        ("wide_resnet50_2-9ba9bcbe.pth", 224, 232))
VGG11_Weights = _weights_enum("VGG11_Weights", "vgg11-8a719046.pth")
VGG11_BN_Weights = _weights_enum("VGG11_BN_Weights", "vgg11_bn-6002323d.pth")
VGG13_Weights = _weights_enum("VGG13_Weights", "vgg13-19584684.pth")
VGG13_BN_Weights = _weights_enum("VGG13_BN_Weights", "vgg13_bn-abd245e5.pth")
VGG16_Weights = _weights_enum("VGG16_Weights", "vgg16-397923af.pth")
VGG16_BN_Weights = _weights_enum("VGG16_BN_Weights", "vgg16_bn-6c64b313.pth")
VGG19_Weights = _weights_enum("VGG19_Weights", "vgg19-dcbb9e9d.pth")
VGG19_BN_Weights = _weights_enum("VGG19_BN_Weights", "vgg19_bn-c79401a0.pth")
AlexNet_Weights = _weights_enum("AlexNet_Weights", "alexnet-owt-7be5be79.pth")
SqueezeNet1_0_Weights = _weights_enum("SqueezeNet1_0_Weights", "squeezenet1_0-b66bff10.pth")
SqueezeNet1_1_Weights = _weights_enum("SqueezeNet1_1_Weights", "squeezenet1_1-b8a52dc0.pth")
DenseNet121_Weights = _weights_enum("DenseNet121_Weights", "densenet121-a639ec97.pth")
MobileNet_V2_Weights = _weights_enum("MobileNet_V2_Weights", "mobilenet_v2-b0353104.pth",
                                     ("mobilenet_v2-7ebf99e0.pth", 224, 232))

GoogLeNet_Weights = _weights_enum("GoogLeNet_Weights", "googlenet-1378be20.pth")
Inception_V3_Weights = _weights_enum("Inception_V3_Weights",
                                     ("inception_v3_google-0cc3c7bd.pth", 299, 342))


def hub_checkpoints_dir():
    """Where torch.hub keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints``."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "torch")
    return Path(os.path.expanduser(torch_home)) / "hub" / "checkpoints"


def _weights_file(builder, weights):
    """The cached file of ``weights``, or the error saying where to put it (checked before
    the model is built: building VGG-16 takes seconds)."""
    path = hub_checkpoints_dir() / weights.value.file_name
    if not path.is_file():
        raise WeightsNotFoundError(
            f"{builder}(weights={weights!r}): minicnn never downloads. Put "
            f"{weights.value.file_name} (from {weights.url}) in {path.parent} (torch's cache, "
            f"$TORCH_HOME/hub/checkpoints), where it is read from; or build {builder}() "
            f"without weights and load a local file: model.load_state_dict("
            f"minicnn.load_torch_state_dict('path/to/{weights.value.file_name}')).")
    return path


def _builder(name, weights_enum, auxiliary_heads=()):
    """torchvision's ``name(*, weights=None, progress=True, **kwargs)`` over minicnn's.

    ``auxiliary_heads``: the sub-modules torchvision's pretrained GoogLeNet/Inception-v3
    drop. Their files hold those heads, so with weights the model is built with them and
    ``transform_input=True`` (the defaults torchvision sets then), loaded, and the heads are
    removed unless ``aux_logits=True`` was asked for.
    """
    build = getattr(_models, name)

    def builder(*, weights=None, progress=True, pretrained=None, **kwargs):
        if pretrained is not None:           # the legacy argument, as torchvision maps it
            warnings.warn(f"{name}: the parameter 'pretrained' is deprecated, please use "
                          f"'weights' instead.", UserWarning, stacklevel=2)
            if weights is None and pretrained:
                weights = weights_enum.DEFAULT
        weights = weights_enum.verify(weights)
        if weights is None:
            return build(**kwargs)
        if kwargs.get("num_classes", 1000) != 1000:
            raise ValueError(f"The parameter 'num_classes' expected value 1000 but got "
                             f"{kwargs['num_classes']} instead.")
        keep_heads = True
        if auxiliary_heads:
            kwargs.setdefault("transform_input", True)
            keep_heads = kwargs.get("aux_logits", False)
            kwargs["aux_logits"] = True
        path = _weights_file(name, weights)
        model = build(**kwargs)
        model.load_state_dict(load_torch_state_dict(path))
        if not keep_heads:
            model.aux_logits = False
            for head in auxiliary_heads:
                setattr(model, head, None)
        return model

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (f"torchvision's ``{name}``: ``minicnn.models.{name}(**kwargs)``, "
                       f"with ``weights`` ({weights_enum.__name__}: a member, its name, or "
                       f"None) read from torch's cache (see the module docstring).")
    return builder


_BUILDERS = {"resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights,
             "resnet50": ResNet50_Weights, "resnext50_32x4d": ResNeXt50_32X4D_Weights,
             "wide_resnet50_2": Wide_ResNet50_2_Weights, "vgg11": VGG11_Weights,
             "vgg11_bn": VGG11_BN_Weights, "vgg13": VGG13_Weights, "vgg13_bn": VGG13_BN_Weights,
             "vgg16": VGG16_Weights, "vgg16_bn": VGG16_BN_Weights, "vgg19": VGG19_Weights,
             "vgg19_bn": VGG19_BN_Weights, "alexnet": AlexNet_Weights,
             "squeezenet1_0": SqueezeNet1_0_Weights, "squeezenet1_1": SqueezeNet1_1_Weights,
             "densenet121": DenseNet121_Weights, "mobilenet_v2": MobileNet_V2_Weights}
# resnet18 = _builder("resnet18", ResNet18_Weights), and so on for each entry.
globals().update({name: _builder(name, enum_) for name, enum_ in _BUILDERS.items()})
googlenet = _builder("googlenet", GoogLeNet_Weights, auxiliary_heads=("aux1", "aux2"))
inception_v3 = _builder("inception_v3", Inception_V3_Weights, auxiliary_heads=("AuxLogits",))

__all__ = sorted(_BUILDERS) + sorted(e.__name__ for e in _BUILDERS.values()) + [
    "GoogLeNet_Weights", "Inception_V3_Weights",
    "WeightsEnum", "Weights", "WeightsNotFoundError", "hub_checkpoints_dir", "AlexNet",
    "DenseNet", "GoogLeNet", "Inception3", "MobileNetV2", "ResNet", "SqueezeNet", "VGG",
    "googlenet", "inception_v3"]
