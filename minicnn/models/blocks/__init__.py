"""Building blocks of the classic architectures, each gradient-checked on its own.

One module per family: ``resnet`` (BasicBlock, Bottleneck, WideBasicBlock),
``squeeze_excitation`` (SEBlock), ``densenet`` (DenseLayer, DenseBlock, Transition),
``inception`` (Inception-v1 and -v3 modules, auxiliary heads), ``squeezenet`` (Fire),
``mobilenet`` (depthwise-separable and inverted-residual blocks).
"""

from .resnet import BasicBlock, Bottleneck, WideBasicBlock, ZeroPadShortcut
from .squeeze_excitation import SEBlock
from .densenet import DenseBlock, DenseLayer, Transition
from .inception import (BasicConv2d, Inception, InceptionA, InceptionAux, InceptionAuxV1,
                        InceptionB, InceptionC, InceptionD, InceptionE)
from .squeezenet import Fire
from .mobilenet import DepthwiseSeparableConv, InvertedResidual
from ...nn import ReLU6  # defined here before nn had it: still importable from here
