"""Building blocks of the classic architectures, each gradient-checked on its own.

One module per family: ``resnet`` (BasicBlock, Bottleneck), ``inception`` (Inception-v1 and
-v3 modules, auxiliary heads), ``squeezenet`` (Fire), ``mobilenet`` (depthwise-separable and
inverted-residual blocks).
"""

from .resnet import BasicBlock, Bottleneck, ZeroPadShortcut
from .inception import (BasicConv2d, Inception, InceptionA, InceptionAux, InceptionAuxV1,
                        InceptionB, InceptionC, InceptionD, InceptionE)
from .squeezenet import Fire
from .mobilenet import DepthwiseSeparableConv, InvertedResidual
from ...nn import ReLU6  # defined here before nn had it: still importable from here
