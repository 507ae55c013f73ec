"""``minicnn.nn``: layers as ``Module`` objects that own their parameters.

Read ``module.py`` first (how parameters, sub-modules and buffers are registered and how
``state_dict`` names them), then ``init.py`` (why weights start at the scale they do), then
the layers, one family per file, mirroring ``minicnn.ops``.
"""

import sys

from .. import functional
from . import init, utils
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
                         LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax,
                         Softmax2d, Softmin, Softplus, Tanh)
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear
from .linear import Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .module import (IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, ParameterDict,
                     ParameterList, Sequential, StateDictError)
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
                            LayerNorm, LocalResponseNorm)
from .padding import (CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d,
                      ReflectionPad1d, ReflectionPad2d, ReplicationPad1d, ReplicationPad2d)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
from .shape import Flatten, Identity, Unflatten, ZeroPad2d
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# ``import minicnn.nn.functional as F`` (PyTorch's path) is ``minicnn.functional`` itself.
sys.modules[__name__ + ".functional"] = functional

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
           "ModuleDict", "ParameterList", "ParameterDict", "IncompatibleKeys",
           "StateDictError", "Softmax", "LogSoftmax", "Softmax2d", "Linear", "Conv2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d",
           "BatchNorm1d", "BatchNorm2d", "LocalResponseNorm", "ReLU", "ReLU6", "LeakyReLU",
           "Sigmoid", "Tanh", "Dropout", "Dropout2d", "Flatten", "Unflatten", "ZeroPad2d",
           "Identity", "CrossEntropyLoss", "NLLLoss",
           "MSELoss"]
__all__ += ["ConvTranspose2d", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
            "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d", "ReflectionPad2d",
            "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d"]
__all__ += ["LazyLinear", "LazyConv2d", "LazyBatchNorm1d", "LazyBatchNorm2d"]
__all__ += ["Hardtanh", "PReLU", "LogSigmoid", "SiLU", "GELU", "ELU", "SELU", "CELU",
            "Softplus", "Mish", "Hardsigmoid", "Hardswish", "Softmin"]
__all__ += ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]
__all__ += ["BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss"]
