"""Wide Residual Networks for CIFAR (Zagoruyko & Komodakis, "Wide Residual Networks", BMVC
2016, arXiv:1605.07146): WRN-d-k, a pre-activation ResNet of depth d whose three stages are
k times wider than He et al.'s CIFAR ResNet, input 3x32x32.

    conv1     3x3, 3 -> 16                                                   32
    layer1    n WideBasicBlocks, 16 -> 16 k channels                          32
    layer2    n blocks, -> 32 k channels, the first one stride 2              16
    layer3    n blocks, -> 64 k channels, the first one stride 2               8
    bn, relu  the last block ends with a sum, so one BN-ReLU before pooling
    avgpool   global average pool
    fc        Linear(64 k, num_classes)

with ``n = (d - 4) / 6`` blocks per stage (each block has two 3x3 convolutions; the stem,
the fc layer and the two stride-2 projections make up the 4). ``wide_resnet28_10``
(d = 28, k = 10, n = 4) has 36,479,194 parameters at 10 classes (the paper's 36.5M) and
5,243,328,768 multiply-accumulates per image (5.24 G). The paper's CIFAR results use dropout 0.3
between a block's convolutions (``dropout=0.3``); the default here is 0, as the common
PyTorch reproduction's.

A block (``blocks.resnet.WideBasicBlock``) is BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3 plus
the shortcut, which is a 1x1 convolution of the activated input where the shape changes
(the first block of each stage: in stage 1 only the channels change, 16 -> 160).

Keys: ``conv1.weight``, ``layer1.0.bn1.*``, ``layer1.0.conv1.weight``, ``layer1.0.bn2.*``,
``layer1.0.conv2.weight``, ``layer1.0.shortcut.weight``, ..., ``bn.*``, ``fc.weight``,
``fc.bias``. torchvision has no CIFAR Wide ResNet; the widely used reproduction
(xternalz/WideResNet-pytorch) has the same layers and shapes under other names:
``block{i}.layer.{j}`` is ``layer{i}.{j}``, its ``convShortcut`` is ``shortcut``, its final
``bn1`` is ``bn``.

Initialisation as the ResNets here (torchvision's): convolutions ``kaiming_normal_
(mode='fan_out', nonlinearity='relu')``, batch norms weight 1 and bias 0, ``fc`` PyTorch's
``Linear`` default.
"""

from .. import nn
from .blocks.resnet import WideBasicBlock
from .resnet import _init_weights

__all__ = ["WideResNet", "wide_resnet28_10"]


class WideResNet(nn.Module):
    """WRN-depth-widen_factor for 32x32 images.

    Parameters
    ----------
    depth : int
        ``6 n + 4`` (10, 16, 22, 28, 40, ...): ``n`` blocks per stage.
    widen_factor : int
        k: the stages have 16 k, 32 k and 64 k channels.
    dropout : float
        Dropout probability inside every block in training (the paper: 0.3).
    num_classes : int

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; 32x32 for CIFAR.
    """

    def __init__(self, depth=28, widen_factor=10, dropout=0.0, num_classes=10):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 \
                or (depth - 4) % 6:
            raise ValueError(f"WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, "
                             f"40, ...), got {depth!r}")
        if isinstance(widen_factor, bool) or not isinstance(widen_factor, int) \
                or widen_factor < 1:
            raise ValueError(f"WideResNet: widen_factor must be a positive int, got "
                             f"{widen_factor!r}")
        blocks = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.layer1 = self._make_layer(16, widths[0], blocks, 1, dropout)
        self.layer2 = self._make_layer(widths[0], widths[1], blocks, 2, dropout)
        self.layer3 = self._make_layer(widths[1], widths[2], blocks, 2, dropout)
        self.bn = nn.BatchNorm2d(widths[2])
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[2], num_classes)
        _init_weights(self, zero_init_residual=False)

    @staticmethod
    def _make_layer(in_planes, out_planes, blocks, stride, dropout):
        layers = [WideBasicBlock(in_planes, out_planes, stride, dropout)]
        layers += [WideBasicBlock(out_planes, out_planes, 1, dropout) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.conv1(x))))
        x = self.avgpool(self.relu(self.bn(x))).flatten(1)  # (N, 64 k, 1, 1) -> (N, 64 k)
        return self.fc(x)


def wide_resnet28_10(num_classes=10, **kwargs):
    """WRN-28-10 for CIFAR (36,479,194 parameters at 10 classes). ``kwargs`` go to
    ``WideResNet`` (e.g. ``dropout=0.3``, the paper's)."""
    return WideResNet(28, 10, num_classes=num_classes, **kwargs)
