"""GoogLeNet (Inception-v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015
(arXiv 1409.4842, 2014), the winner of ILSVRC 2014.

Nine Inception modules (``blocks.inception.Inception``) in three stages separated by
stride-2 max pooling, then global average pooling, dropout 0.2 and one fc layer, 22 layers
deep with 6,624,904 parameters (torchvision's count; with the two auxiliary heads,
13,004,888).

Input 3x224x224; any size of at least 15x15 runs, as in torchvision (the head and the
auxiliary heads pool adaptively, and ceil-mode pooling lets a window hang over the edge).

Auxiliary classifiers: during training, ``aux1`` (after inception4a) and ``aux2`` (after
inception4d) predict the classes from intermediate features, to push gradient into the
lower layers. The paper adds their losses to the main loss with weight 0.3 each:

    loss = CE(logits) + 0.3 * (CE(aux_logits1) + CE(aux_logits2))

(the trainer's ``aux_weight`` is that 0.3). They are used only in training: in eval mode
the model returns the main logits, and at inference the heads are discarded.

Differences from the paper, all torchvision's (so that its weights load; the keys and
shapes here are torchvision's ``googlenet``):

- every convolution is followed by batch norm (``BasicConv2d``); the paper had none (and
  local response normalisation after the first stages, which torchvision drops);
- the "5x5" branch of every Inception module is a 3x3 convolution (torchvision's weights have
  that shape; ``branch3_kernel_size=5`` builds the paper's 5x5, with different weight shapes
  and 7,005,832 parameters without the auxiliary heads);
- the auxiliary heads pool adaptively to 4x4 (the paper: 5x5 average pooling, stride 3,
  which gives 4x4 on the 14x14 grid of a 224 input) and their first convolution has batch
  norm;
- ``transform_input`` (see ``blocks.inception.rescale_imagenet_input``) for the weights ported
  from TensorFlow.

torchvision's published GoogLeNet checkpoint holds the auxiliary heads too: load it into
``googlenet(aux_logits=True)`` (or with ``load_state_dict(..., strict=False)`` into a model
without them).
"""

from collections import namedtuple

from .. import functional as F
from .. import nn
from .blocks.inception import (BasicConv2d, Inception, InceptionAuxV1, init_inception_weights,
                               rescale_imagenet_input)

__all__ = ["GoogLeNet", "GoogLeNetOutputs", "googlenet"]

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = """GoogLeNet's training-mode output: the main logits and the two
auxiliary heads' logits, each (N, num_classes) (torchvision's order: aux2 before aux1)."""


class GoogLeNet(nn.Module):
    """GoogLeNet; see the module docstring and ``googlenet``.

    Returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` in training mode when
    ``aux_logits`` is set, else the logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, dropout=0.2,
                 dropout_aux=0.7, branch3_kernel_size=3):
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input

        def inception(*channels):
            return Inception(*channels, branch3_kernel_size=branch3_kernel_size)

        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        # in_channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj (paper's table 1)
        self.inception3a = inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = inception(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = InceptionAuxV1(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAuxV1(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        init_inception_weights(self, std=0.01)

    def forward(self, x):
        if self.transform_input:
            x = rescale_imagenet_input(x)
        # Sizes for a 224x224 input.
        x = self.maxpool1(self.conv1(x))  # (N, 3, 224, 224) -> (N, 64, 112, 112) -> 56x56
        x = self.maxpool2(self.conv3(self.conv2(x)))  # -> (N, 192, 56, 56) -> 28x28
        x = self.inception3b(self.inception3a(x))  # -> (N, 256, 28, 28) -> (N, 480, 28, 28)
        x = self.inception4a(self.maxpool3(x))  # -> (N, 480, 14, 14) -> (N, 512, 14, 14)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # -> (N, 528, 14, 14)
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))  # -> (N, 832, 14, 14) -> (N, 832, 7, 7)
        x = self.inception5b(self.inception5a(x))  # -> (N, 1024, 7, 7)
        x = F.flatten(self.avgpool(x), 1)  # -> (N, 1024, 1, 1) -> (N, 1024)
        logits = self.fc(self.dropout(x))  # -> (N, num_classes)
        if self.training and self.aux_logits:
            return GoogLeNetOutputs(logits, aux2, aux1)
        return logits


def googlenet(num_classes=1000, aux_logits=True, transform_input=False, dropout=0.2,
              dropout_aux=0.7, branch3_kernel_size=3):
    """GoogLeNet (Inception-v1) with torchvision's keys, for 224x224 inputs.

    Parameters
    ----------
    num_classes : int
    aux_logits : bool
        Build the two auxiliary heads (``aux1``, ``aux2``); in training mode the model then
        returns ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
    transform_input : bool
        Re-scale ImageNet-normalised inputs to [-1, 1] first, as torchvision's pretrained
        weights expect (``blocks.inception.rescale_imagenet_input``).
    dropout, dropout_aux : float
        Dropout before the main fc (0.2) and before each auxiliary head's last fc (0.7).
    branch3_kernel_size : 3 or 5
        The "5x5" branch's kernel: 3 is torchvision's (its weights load), 5 the paper's.

    Weights: normal with std 0.01 (truncated at +-2, which never bites) for every conv and
    fc, batch norm weight 1 and bias 0, as torchvision.
    """
    return GoogLeNet(num_classes=num_classes, aux_logits=aux_logits,
                     transform_input=transform_input, dropout=dropout, dropout_aux=dropout_aux,
                     branch3_kernel_size=branch3_kernel_size)
