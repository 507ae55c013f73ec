"""Inception-v3: Szegedy, Vanhoucke, Ioffe, Shlens and Wojna, "Rethinking the Inception
Architecture for Computer Vision", CVPR 2016 (arXiv 1512.00567, 2015).

Input 3x299x299. A stem of plain convolutions and two max poolings (299 -> 35), three
``InceptionA`` modules on the 35x35 grid, a grid reduction (``InceptionB``, 35 -> 17), four
``InceptionC`` modules (7x7 factorised as 1x7 then 7x1) on 17x17, a second reduction
(``InceptionD``, 17 -> 8), two ``InceptionE`` modules on 8x8, global average pooling,
dropout 0.5 and one fc layer. One auxiliary head (``InceptionAux``) after Mixed_6e.
27,161,264 parameters with the auxiliary head (torchvision's default), 23,834,568 without.
Keys and shapes are torchvision's ``inception_v3`` (the TensorFlow names ``Conv2d_1a_3x3``,
``Mixed_5b``, ...), so its weights load.

Input size: the main path runs on inputs of at least 75x75; the auxiliary head needs a
17x17 grid after Mixed_6e, that is inputs of at least 299x299, so below that build the model
with ``aux_logits=False`` (or use eval mode, where the head is skipped). The head's last
convolution ends on a 1x1 grid, so its batch norm needs a batch of at least 2 in training.

Outputs: in training mode with ``aux_logits``, ``InceptionOutputs(logits, aux_logits)``;
otherwise the logits. The paper gives no weight for the auxiliary loss; TF-slim's training
script and PyTorch's fine-tuning tutorial use 0.4: ``loss = CE(logits) + 0.4 *
CE(aux_logits)`` (the trainer's ``aux_weight``).

``transform_input``: torchvision's pretrained weights come from TensorFlow, which scaled
pixels to [-1, 1]; with ``transform_input=True`` an input normalised with ImageNet's
mean/std is first rescaled per channel, ``x * (std / 0.5) + (mean - 0.5) / 0.5`` (see
``blocks.inception.rescale_imagenet_input``). torchvision turns it on when it loads its
pretrained weights; build ``inception_v3(transform_input=True)`` to use them.

The paper's training recipe: RMSprop with decay 0.9 and eps 1.0 in TensorFlow's form (eps
inside the square root), learning rate 0.045 decayed by 0.94 every two epochs, gradient
clipping at 2.0, label smoothing 0.1 (``nn.CrossEntropyLoss(label_smoothing=0.1)``), batch
32 on each of 50 replicas for 100 epochs. With minicnn::

    opt = optim.RMSprop(model.parameters(), lr=0.045, alpha=0.9, eps=1.0, momentum=0.9,
                        eps_inside_sqrt=True)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.94)  # step once per epoch

(momentum 0.9 is TF-slim's setting; the paper does not state it.)
"""

from collections import namedtuple

from .. import functional as F
from .. import nn
from .blocks.inception import (BasicConv2d, InceptionA, InceptionAux, InceptionB, InceptionC,
                               InceptionD, InceptionE, init_inception_weights,
                               rescale_imagenet_input)

__all__ = ["Inception3", "InceptionOutputs", "inception_v3"]

InceptionOutputs = namedtuple("InceptionOutputs", ["logits", "aux_logits"])
InceptionOutputs.__doc__ = """Inception-v3's training-mode output: the main and the auxiliary
head's logits, each (N, num_classes)."""


class Inception3(nn.Module):
    """Inception-v3; see the module docstring and ``inception_v3``.

    Returns ``InceptionOutputs(logits, aux_logits)`` in training mode when ``aux_logits`` is
    set, else the logits ``(N, num_classes)``.
    """

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, dropout=0.5):
        super().__init__()
        self.aux_logits = aux_logits
        self.transform_input = transform_input
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(2048, num_classes)
        init_inception_weights(self, std=0.1)

    def forward(self, x):
        if self.transform_input:
            x = rescale_imagenet_input(x)
        # Sizes for a 299x299 input.
        x = self.Conv2d_1a_3x3(x)  # (N, 3, 299, 299) -> (N, 32, 149, 149)
        x = self.Conv2d_2a_3x3(x)  # -> (N, 32, 147, 147)
        x = self.Conv2d_2b_3x3(x)  # -> (N, 64, 147, 147)
        x = self.maxpool1(x)  # -> (N, 64, 73, 73)
        x = self.Conv2d_3b_1x1(x)  # -> (N, 80, 73, 73)
        x = self.Conv2d_4a_3x3(x)  # -> (N, 192, 71, 71)
        x = self.maxpool2(x)  # -> (N, 192, 35, 35)
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))  # -> (N, 256 | 288 | 288, 35, 35)
        x = self.Mixed_6a(x)  # -> (N, 768, 17, 17)
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))  # -> (N, 768, 17, 17)
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7a(x)  # -> (N, 1280, 8, 8)
        x = self.Mixed_7c(self.Mixed_7b(x))  # -> (N, 2048, 8, 8)
        x = self.dropout(self.avgpool(x))  # -> (N, 2048, 1, 1)
        logits = self.fc(F.flatten(x, 1))  # -> (N, 2048) -> (N, num_classes)
        if self.training and self.aux_logits:
            return InceptionOutputs(logits, aux)
        return logits


def inception_v3(num_classes=1000, aux_logits=True, transform_input=False, dropout=0.5):
    """Inception-v3 with torchvision's keys, for 299x299 inputs.

    Parameters
    ----------
    num_classes : int
    aux_logits : bool
        Build the auxiliary head (``AuxLogits``); in training mode the model then returns
        ``InceptionOutputs(logits, aux_logits)``. It needs inputs of at least 299x299.
    transform_input : bool
        Re-scale ImageNet-normalised inputs to [-1, 1] first, as torchvision's pretrained
        weights expect.
    dropout : float
        Dropout before the fc layer.

    Weights: normal with std 0.1 (truncated at +-2) for every conv and fc, 0.001 for the
    auxiliary fc, batch norm weight 1 and bias 0, as torchvision.
    """
    return Inception3(num_classes=num_classes, aux_logits=aux_logits,
                      transform_input=transform_input, dropout=dropout)
