"""Inception blocks: GoogLeNet's module (Inception-v1), Inception-v3's modules A to E, and
the auxiliary classifier heads of both networks.

An Inception module runs several branches side by side on the same input and concatenates
their outputs along the channel axis, so the next layer sees features of several receptive
fields at once (1x1, 3x3, 5x5, pooled). Every branch keeps the spatial size (or, in the
grid-reduction modules, every branch halves it), which is what makes the concatenation
possible: ``(N, C_in, H, W) -> (N, sum of the branches' channels, H', W')``.

Why the 1x1 "reduction" convolutions before the large ones: a convolution costs
``H_out * W_out * C_out * C_in * KH * KW`` multiply-accumulates. A 5x5 'same' convolution from
28x28x192 to 32 channels costs 28*28*32*192*25 = 120,422,400 MACs; reducing to 16 channels
with a 1x1 first costs 28*28*16*192 + 28*28*32*16*25 = 2,408,448 + 10,035,200 = 12,443,648,
ten times less (``minicnn.summary`` reproduces both figures).

Inception-v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture") factorises
further: a 5x5 as two stacked 3x3 (``branch3x3dbl`` in ``InceptionA``: same receptive field,
18/25 of the cost), an n x n as a 1 x n followed by an n x 1 (``InceptionC``, n = 7), and
grid reduction by stride-2 convolutions *beside* a stride-2 pooling (``InceptionB``,
``InceptionD``) rather than pooling first (a bottleneck) or convolving first (expensive).

Every convolution here is a ``BasicConv2d``: conv (no bias, since batch norm's shift takes its
place) -> ``BatchNorm2d(eps=0.001)`` -> ReLU. GoogLeNet in the 2014 paper had no batch norm;
torchvision's GoogLeNet (weights ported from TensorFlow) has it, and these blocks follow
torchvision so that its weights load: sub-module names, their order, and every shape are
torchvision's (``torchvision/models/googlenet.py`` and ``inception.py``). The channel widths
are keyword arguments whose defaults are torchvision's, so that small instances can be
gradient-checked; ``Inception3`` uses the defaults.
"""

import numpy as np

from ... import functional as F
from ... import nn

__all__ = ["BasicConv2d", "Inception", "InceptionAuxV1", "InceptionA", "InceptionB",
           "InceptionC", "InceptionD", "InceptionE", "InceptionAux", "rescale_imagenet_input",
           "init_inception_weights"]


class BasicConv2d(nn.Module):
    """Conv (no bias) -> BatchNorm2d(eps=0.001) -> ReLU; keys ``conv.weight``, ``bn.*``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding
        As ``nn.Conv2d`` (ints or pairs, e.g. ``kernel_size=(1, 7), padding=(0, 3)``).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, OH, OW)``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.out_channels = out_channels

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    """GoogLeNet's Inception module (Szegedy et al., 2014, figure 2b), torchvision's version.

    Four branches on the same input, concatenated on channels:

    - ``branch1``: 1x1 conv to ``ch1x1``;
    - ``branch2``: 1x1 conv to ``ch3x3red``, then 3x3 (padding 1) to ``ch3x3``;
    - ``branch3``: 1x1 conv to ``ch5x5red``, then the "5x5" conv to ``ch5x5``;
    - ``branch4``: 3x3 max pooling, stride 1, padding 1 (keeps H, W), then 1x1 to
      ``pool_proj``.

    The paper's branch3 convolution is 5x5. torchvision's is 3x3 (a bug it keeps because its
    published weights have that shape: pytorch/vision issue 906), and so is the default here,
    so torchvision's weights load. ``branch3_kernel_size=5`` builds the paper's module
    (padding 2; the state-dict keys are the same, the branch3.1 weight shape is not).

    Parameters
    ----------
    in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
        The columns of the paper's table 1, in its order.
    branch3_kernel_size : 3 or 5

    Shapes: ``(N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj,
                 branch3_kernel_size=3):
        super().__init__()
        if branch3_kernel_size not in (3, 5):
            raise ValueError(f"Inception: branch3_kernel_size must be 3 (torchvision) or 5 "
                             f"(the paper), got {branch3_kernel_size!r}")
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=branch3_kernel_size,
                        padding=branch3_kernel_size // 2))
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return F.cat(branches, axis=1)


class InceptionAuxV1(nn.Module):
    """GoogLeNet's auxiliary classifier (torchvision's ``googlenet.InceptionAux``).

    Adaptive average pooling to 4x4 (the paper: 5x5 average pooling, stride 3, on 14x14),
    1x1 conv to 128 channels (a ``BasicConv2d``), flatten, fc to 1024 + ReLU, dropout 0.7,
    fc to ``num_classes``. GoogLeNet attaches one after inception4a and one after
    inception4d; their losses are added to the main loss with weight 0.3 during training.

    Parameters
    ----------
    in_channels, num_classes : int
    dropout : float
        Dropout probability before the last fc (0.7).
    conv_channels, hidden_features : int
        128 and 1024 in GoogLeNet; smaller values make a block small enough to
        gradient-check. ``fc1`` takes ``conv_channels * 16`` features.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``, any H, W >= 1.
    """

    def __init__(self, in_channels, num_classes, dropout=0.7, conv_channels=128,
                 hidden_features=1024):
        super().__init__()
        self.conv = BasicConv2d(in_channels, conv_channels, kernel_size=1)
        self.fc1 = nn.Linear(conv_channels * 4 * 4, hidden_features)
        self.fc2 = nn.Linear(hidden_features, num_classes)
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(x, (4, 4))  # (N, C, H, W) -> (N, C, 4, 4)
        x = F.flatten(self.conv(x), 1)  # (N, 128, 4, 4) -> (N, 2048)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


class InceptionA(nn.Module):
    """Inception-v3's 35x35 module (Mixed_5b/c/d; the paper's figure 5).

    - ``branch1x1``: 1x1 to ``ch1x1``;
    - ``branch5x5_1``, ``_2``: 1x1 to ``ch5x5red``, 5x5 (padding 2) to ``ch5x5``;
    - ``branch3x3dbl_1``, ``_2``, ``_3``: 1x1 to ``ch3x3dbl_red``, then two 3x3 (padding 1)
      to ``ch3x3dbl``: the "5x5 as two 3x3" factorisation;
    - ``branch_pool``: 3x3 average pooling (stride 1, padding 1, padding counted in the
      divisor, as torchvision), then 1x1 to ``pool_features``.

    The paper's figure 5 has 1x1 -> 3x3 where the second branch is; TensorFlow's released
    Inception-v3, and torchvision after it, has 1x1 -> 5x5 there (``branch5x5_*``).

    Shapes: ``(N, in_channels, H, W) -> (N, ch1x1 + ch5x5 + ch3x3dbl + pool_features, H, W)``
    (256, 288, 288 channels in Inception3).
    """

    def __init__(self, in_channels, pool_features, ch1x1=64, ch5x5red=48, ch5x5=64,
                 ch3x3dbl_red=64, ch3x3dbl=96):
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, ch5x5red, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(ch5x5red, ch5x5, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, ch3x3dbl_red, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch3x3dbl_red, ch3x3dbl, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch3x3dbl, ch3x3dbl, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)
        self.out_channels = ch1x1 + ch5x5 + ch3x3dbl + pool_features

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return F.cat([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=1)


class InceptionB(nn.Module):
    """Inception-v3's grid reduction 35x35 -> 17x17 (Mixed_6a; the paper's figure 10).

    Three branches, each halving the grid, so no branch is a representational bottleneck:

    - ``branch3x3``: 3x3 stride 2 (no padding) to ``ch3x3``;
    - ``branch3x3dbl_1``, ``_2``, ``_3``: 1x1 to ``ch3x3dbl_red``, 3x3 (padding 1) to
      ``ch3x3dbl``, 3x3 stride 2 (no padding) to ``ch3x3dbl``;
    - 3x3 max pooling, stride 2 (no parameters; keeps the ``in_channels`` channels).

    Shapes: ``(N, C, H, W) -> (N, ch3x3 + ch3x3dbl + C, (H - 3) // 2 + 1, (W - 3) // 2 + 1)``
    (768 channels in Inception3). H and W must be at least 3.
    """

    def __init__(self, in_channels, ch3x3=384, ch3x3dbl_red=64, ch3x3dbl=96):
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, ch3x3, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, ch3x3dbl_red, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch3x3dbl_red, ch3x3dbl, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(ch3x3dbl, ch3x3dbl, kernel_size=3, stride=2)
        self.out_channels = ch3x3 + ch3x3dbl + in_channels

    def forward(self, x):
        branch3x3 = self.branch3x3(x)
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return F.cat([branch3x3, branch3x3dbl, branch_pool], axis=1)


class InceptionC(nn.Module):
    """Inception-v3's 17x17 module (Mixed_6b to 6e; the paper's figure 6, n = 7).

    A 7x7 convolution is factorised as a 1x7 followed by a 7x1 (cost 14 instead of 49 per
    output and channel pair, with the same receptive field):

    - ``branch1x1``: 1x1 to ``ch_branch``;
    - ``branch7x7_1``, ``_2``, ``_3``: 1x1 to ``c7``, 1x7, 7x1 to ``ch_branch``;
    - ``branch7x7dbl_1`` to ``_5``: 1x1 to ``c7``, then 7x1, 1x7, 7x1, 1x7 (the last to
      ``ch_branch``): two factorised 7x7s in a row;
    - ``branch_pool``: 3x3 average pooling (stride 1, padding 1), 1x1 to ``ch_branch``.

    Parameters
    ----------
    in_channels : int
    channels_7x7 : int
        ``c7``, the width inside the factorised branches (128, 160, 160, 192 in Inception3).
    ch_branch : int
        The output width of each of the four branches (192 in Inception3).

    Shapes: ``(N, in_channels, H, W) -> (N, 4 * ch_branch, H, W)``.
    """

    def __init__(self, in_channels, channels_7x7, ch_branch=192):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, ch_branch, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, ch_branch, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, ch_branch, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, ch_branch, kernel_size=1)
        self.out_channels = 4 * ch_branch

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = layer(branch7x7dbl)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return F.cat([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=1)


class InceptionD(nn.Module):
    """Inception-v3's grid reduction 17x17 -> 8x8 (Mixed_7a).

    - ``branch3x3_1``, ``_2``: 1x1 to ``ch_red``, 3x3 stride 2 (no padding) to ``ch3x3``;
    - ``branch7x7x3_1`` to ``_4``: 1x1 to ``ch7x7x3``, 1x7, 7x1, then 3x3 stride 2
      (no padding), all ``ch7x7x3`` wide;
    - 3x3 max pooling, stride 2 (keeps the ``in_channels`` channels).

    Shapes: ``(N, C, H, W) -> (N, ch3x3 + ch7x7x3 + C, (H - 3) // 2 + 1, (W - 3) // 2 + 1)``
    (1280 channels in Inception3). H and W must be at least 3.
    """

    def __init__(self, in_channels, ch_red=192, ch3x3=320, ch7x7x3=192):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, ch_red, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(ch_red, ch3x3, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, ch7x7x3, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(ch7x7x3, ch7x7x3, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(ch7x7x3, ch7x7x3, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(ch7x7x3, ch7x7x3, kernel_size=3, stride=2)
        self.out_channels = ch3x3 + ch7x7x3 + in_channels

    def forward(self, x):
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3,
                      self.branch7x7x3_4):
            branch7x7x3 = layer(branch7x7x3)
        branch_pool = F.max_pool2d(x, kernel_size=3, stride=2)
        return F.cat([branch3x3, branch7x7x3, branch_pool], axis=1)


class InceptionE(nn.Module):
    """Inception-v3's 8x8 module with the expanded filter bank (Mixed_7b/c; figure 7).

    On the coarsest grid the 3x3s are split into a 1x3 and a 3x1 applied *side by side*
    (their outputs concatenated), widening the representation instead of deepening it:

    - ``branch1x1``: 1x1 to ``ch1x1``;
    - ``branch3x3_1``: 1x1 to ``ch3x3``, then ``branch3x3_2a`` (1x3) and ``branch3x3_2b``
      (3x1) on its output, each to ``ch3x3``, concatenated;
    - ``branch3x3dbl_1``, ``_2``: 1x1 to ``ch3x3dbl_red``, 3x3 (padding 1) to ``ch3x3``, then
      ``branch3x3dbl_3a`` (1x3) and ``_3b`` (3x1) side by side, each to ``ch3x3``;
    - ``branch_pool``: 3x3 average pooling (stride 1, padding 1), 1x1 to ``ch_pool``.

    Shapes: ``(N, in_channels, H, W) -> (N, ch1x1 + 4 * ch3x3 + ch_pool, H, W)`` (2048
    channels in Inception3).
    """

    def __init__(self, in_channels, ch1x1=320, ch3x3=384, ch3x3dbl_red=448, ch_pool=192):
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, ch3x3, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(ch3x3, ch3x3, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(ch3x3, ch3x3, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, ch3x3dbl_red, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(ch3x3dbl_red, ch3x3, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(ch3x3, ch3x3, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(ch3x3, ch3x3, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, ch_pool, kernel_size=1)
        self.out_channels = ch1x1 + 4 * ch3x3 + ch_pool

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = F.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], axis=1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = F.cat([self.branch3x3dbl_3a(branch3x3dbl),
                            self.branch3x3dbl_3b(branch3x3dbl)], axis=1)
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return F.cat([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=1)


class InceptionAux(nn.Module):
    """Inception-v3's auxiliary classifier (torchvision's ``inception.InceptionAux``).

    5x5 average pooling with stride 3 (17x17 -> 5x5), 1x1 conv to 128 (``conv0``), 5x5 conv
    to 768 (``conv1``, 5x5 -> 1x1), adaptive average pooling to 1x1, fc to ``num_classes``.
    Attached after Mixed_6e; the paper reports it acts as a regulariser (with batch norm in
    it, the main classifier does better) rather than speeding up early training.

    Parameters
    ----------
    in_channels, num_classes : int
    conv0_channels, conv1_channels : int
        128 and 768 in Inception3.

    Shapes: ``(N, in_channels, H, W) -> (N, num_classes)``. H and W must be at least 17
    (the 5x5 ``conv1`` needs a 5x5 grid after the pooling), so in Inception3 the head only
    runs on inputs of at least 299x299. ``conv1`` ends on a 1x1 grid: its batch norm needs a
    batch of at least 2 in training mode.
    """

    def __init__(self, in_channels, num_classes, conv0_channels=128, conv1_channels=768):
        super().__init__()
        self.conv0 = BasicConv2d(in_channels, conv0_channels, kernel_size=1)
        self.conv1 = BasicConv2d(conv0_channels, conv1_channels, kernel_size=5)
        self.fc = nn.Linear(conv1_channels, num_classes)
        self.fc.init_std = 0.001  # read by init_inception_weights

    def forward(self, x):
        if x.ndim == 4 and min(x.shape[2:]) < 17:
            raise ValueError(f"InceptionAux: input grid {x.shape[2]}x{x.shape[3]} (x shape "
                             f"{x.shape}) is smaller than 17x17, which the 5x5 conv1 needs "
                             f"after the 5x5 stride-3 pooling; in Inception3 that means "
                             f"images of at least 299x299: for smaller ones build the model "
                             f"with aux_logits=False, or run it in eval mode")
        x = F.avg_pool2d(x, kernel_size=5, stride=3)  # (N, 768, 17, 17) -> (N, 768, 5, 5)
        x = self.conv1(self.conv0(x))  # -> (N, 128, 5, 5) -> (N, 768, 1, 1)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.fc(F.flatten(x, 1))  # (N, 768, 1, 1) -> (N, 768) -> (N, num_classes)


def init_inception_weights(model, std):
    """torchvision's initialisation of GoogLeNet (std 0.01) and Inception3 (std 0.1).

    Every ``Conv2d`` and ``Linear`` weight is drawn from a normal of standard deviation
    ``std`` truncated to [-2, 2] (absolute bounds, as torchvision's ``trunc_normal_(a=-2,
    b=2)``: at these standard deviations the bounds never bite, so it is a plain normal);
    biases keep their PyTorch default; batch norm gets weight 1, bias 0. A layer with an
    ``init_std`` attribute uses that std instead: Inception-v3's auxiliary fc, 0.001.
    (torchvision also asks for 0.01 on the auxiliary ``conv1``, but sets it on the
    ``BasicConv2d`` wrapper, which its loop never reads: that conv gets 0.1 in torchvision,
    and here too.)
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(module.weight, mean=0.0, std=getattr(module, "init_std", std),
                                  a=-2.0, b=2.0)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


# ImageNet's per-channel mean and standard deviation (RGB), for torchvision's normalisation.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def rescale_imagenet_input(x):
    """torchvision's ``transform_input``: from ImageNet mean/std normalisation to [-1, 1].

    torchvision's pretrained GoogLeNet and Inception-v3 were ported from TensorFlow, which
    fed pixels scaled as ``(p - 0.5) / 0.5`` (p in [0, 1]). A user who normalises as usual,
    ``x = (p - mean) / std``, gets the TensorFlow scaling back per channel with
    ``p = x * std + mean``:

        x_tf = (p - 0.5) / 0.5 = x * (std / 0.5) + (mean - 0.5) / 0.5

    Parameters
    ----------
    x : Tensor, shape (N, 3, H, W)
        RGB images normalised with ImageNet's mean and std.

    Returns
    -------
    Tensor, shape (N, 3, H, W), x's dtype; differentiable.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"transform_input: expected RGB images of shape (N, 3, H, W), got "
                         f"shape {x.shape}")
    std = np.asarray(IMAGENET_STD, dtype=x.dtype).reshape(1, 3, 1, 1)
    mean = np.asarray(IMAGENET_MEAN, dtype=x.dtype).reshape(1, 3, 1, 1)
    return x * (std / 0.5) + (mean - 0.5) / 0.5
