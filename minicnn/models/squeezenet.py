"""SqueezeNet: Iandola, Han, Moskewicz, Ashraf, Dally & Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size", arXiv:1602.07360, 2016.

Input 3x224x224 (smaller sizes run down to 21x21 for 1.0 and 17x17 for 1.1, as in
torchvision: ceil-mode pooling lets the last window hang over the edge). A stem convolution, eight
Fire modules (``blocks.squeezenet.Fire``: a 1x1 squeeze, then 1x1 and 3x3 expands
concatenated) with three max-pools between them, and no fully connected layer at all: a
final 1x1 convolution gives one map per class, and global average pooling turns each map
into a logit.

    name            stem                max-pools after       parameters (1000 classes)
    squeezenet1_0   Conv2d(3, 96, 7/2)  stem, fire4, fire8    1,248,424
    squeezenet1_1   Conv2d(3, 64, 3/2)  stem, fire3, fire5    1,235,496

(the paper numbers the Fire modules fire2 to fire9).

SqueezeNet 1.1 (from the authors' repository, not the paper) pools earlier and has a
smaller stem: 2.4x less computation for the same accuracy. Max-pools are 3x3 stride 2 with
``ceil_mode=True`` (Caffe's rounding: a last, partial window is kept), as torchvision: for
1.0 at 224 the grids are 109 -> 54 -> 27 -> 13, where floor rounding would give 26 and 12.

The Fire modules (squeeze planes, expand1x1 planes = expand3x3 planes):

    1.0: features.3 (16, 64), 4 (16, 64), 5 (32, 128), 7 (32, 128), 8 (48, 192),
         9 (48, 192), 10 (64, 256), 12 (64, 256)
    1.1: features.3 (16, 64), 4 (16, 64), 6 (32, 128), 7 (32, 128), 9 (48, 192),
         10 (48, 192), 11 (64, 256), 12 (64, 256)

Keys are torchvision's: ``features.0.weight``, ``features.3.squeeze.weight``,
``features.12.expand3x3.bias``, ``classifier.1.weight`` (num_classes, 512, 1, 1) and
``classifier.1.bias``; ``classifier`` is Dropout, Conv2d(512, num_classes, 1), ReLU,
AdaptiveAvgPool2d((1, 1)). Initialisation (torchvision's): the final convolution
``normal(0, 0.01)``, every other convolution ``kaiming_uniform_`` (fan_in, gain sqrt(2)),
all biases zero.
"""

from .. import nn
from .blocks.squeezenet import Fire

__all__ = ["SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


def _pool():
    return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)


class SqueezeNet(nn.Module):
    """SqueezeNet 1.0 or 1.1; see the module docstring.

    Parameters
    ----------
    version : '1_0' or '1_1'
    num_classes : int
    dropout : float
        Probability of the dropout before the final convolution.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; 224 for ImageNet.
    """

    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                _pool(),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                _pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True), _pool(),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                _pool(),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                _pool(),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"SqueezeNet: version must be '1_0' or '1_1', got {version!r}")
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv,
                                        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, 0.0, 0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.classifier(self.features(x))
        return x.flatten(1)  # (N, num_classes, 1, 1) -> (N, num_classes)


def squeezenet1_0(num_classes=1000, dropout=0.5):
    """SqueezeNet 1.0 (1,248,424 parameters at 1000 classes)."""
    return SqueezeNet("1_0", num_classes=num_classes, dropout=dropout)


def squeezenet1_1(num_classes=1000, dropout=0.5):
    """SqueezeNet 1.1 (1,235,496 parameters at 1000 classes; 2.4x less computation)."""
    return SqueezeNet("1_1", num_classes=num_classes, dropout=dropout)
