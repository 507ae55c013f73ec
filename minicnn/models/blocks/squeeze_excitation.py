"""Squeeze-and-Excitation (Hu, Shen, Albanie, Sun & Wu, "Squeeze-and-Excitation Networks",
CVPR 2018, arXiv:1709.01507).

A convolution mixes channels only inside its small window; an SE block lets every channel
see a summary of the whole image and reweights the channels by it:

    squeeze     z = mean over H, W of x                    (N, C, H, W) -> (N, C, 1, 1)
    excitation  s = sigmoid(fc2(relu(fc1(z))))             (N, C, 1, 1), each in (0, 1)
    scale       out = x * s                                (N, C, H, W), s broadcast over H, W

``fc1`` narrows the channels to ``C / reduction`` (the paper's r = 16) and ``fc2`` widens them
back, so the block adds ``2 C^2 / r + C / r + C`` parameters and almost no computation. The
backward of the broadcast product sends ``g * s`` to ``x`` directly and ``sum over H, W of
g * x`` into the gate, which the autograd engine adds to the path through the squeeze.

The two fully connected layers are 1x1 convolutions with bias, applied to the (N, C, 1, 1)
squeeze: the same arithmetic as ``Linear`` layers, with the keys and shapes of torchvision's
``SqueezeExcitation`` (torchvision/ops/misc.py) and timm's ``SEModule``: ``fc1.weight``
(C/r, C, 1, 1), ``fc1.bias``, ``fc2.weight`` (C, C/r, 1, 1), ``fc2.bias``.

In SE-ResNet the block recalibrates a residual branch after its last batch norm, before the
shortcut is added (the paper's figure 3; see ``blocks/resnet.py``).
"""

from ... import nn
from ..._checks import check_positive_int

__all__ = ["SEBlock"]


class SEBlock(nn.Module):
    """Squeeze (global average pool), excite (fc1 - relu - fc2 - sigmoid), rescale channels.

    Parameters
    ----------
    channels : int
        C, the input's (and output's) channels.
    reduction : int
        r: the excitation's hidden layer has ``channels // reduction`` units (16 in the paper).

    Shapes: ``(N, C, H, W) -> (N, C, H, W)``.
    """

    def __init__(self, channels, reduction=16):
        super().__init__()
        channels = check_positive_int(channels, "SEBlock: channels")
        reduction = check_positive_int(reduction, "SEBlock: reduction")
        squeeze_channels = channels // reduction
        if squeeze_channels < 1:
            raise ValueError(f"SEBlock: channels // reduction must be at least 1, got "
                             f"channels={channels}, reduction={reduction}")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avgpool(x)))))  # (N, C, 1, 1)
        return x * gate
