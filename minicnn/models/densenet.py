"""DenseNet-121 (Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017, arXiv:1608.06993), exactly torchvision's ``densenet121``: keys,
shapes, initialisation and 7,978,856 parameters at 1000 classes; input 3x224x224.

    features.conv0 ... pool0   conv 7x7/2 (64) - BN - ReLU - max-pool 3x3/2      224 -> 56
    features.denseblock1       6 DenseLayers, 64 -> 64 + 6 * 32 = 256 channels      56
    features.transition1       BN - ReLU - 1x1 conv (128) - avg-pool 2x2/2         56 -> 28
    features.denseblock2       12 layers, 128 -> 512                                28
    features.transition2       -> 256 channels                                     28 -> 14
    features.denseblock3       24 layers, 256 -> 1024                               14
    features.transition3       -> 512 channels                                     14 -> 7
    features.denseblock4       16 layers, 512 -> 1024                                7
    features.norm5             BN
    (forward)                  ReLU - global average pool
    classifier                 Linear(1024, num_classes)

A dense layer is BN-ReLU-1x1 conv (4k channels)-BN-ReLU-3x3 conv (k = 32 new channels);
see ``blocks/densenet.py``. ``DenseNet(growth_rate, block_config, num_init_features,
bn_size, drop_rate, num_classes)`` builds the others of the family (DenseNet-169 is
``block_config=(6, 12, 32, 32)``, -201 ``(6, 12, 48, 32)``, -161 ``growth_rate=48,
block_config=(6, 12, 36, 24), num_init_features=96``).

Pretrained weights. torchvision's published file (``densenet121-a639ec97.pth``) predates a
rename and stores ``...denselayer1.norm.1.weight`` where the model has
``...denselayer1.norm1.weight``; torchvision renames those keys when it loads the file, and
so does ``DenseNet.load_state_dict`` here, so the file loads directly::

    model = minicnn.models.densenet121()
    model.load_state_dict(minicnn.load_torch_state_dict("densenet121-a639ec97.pth"))

Initialisation (torchvision's): convolutions ``kaiming_normal_`` (fan_in, gain sqrt(2)),
batch norms weight 1 and bias 0, the classifier's bias 0 (its weight keeps ``Linear``'s
default).
"""

import re
from collections import OrderedDict

from .. import functional as F
from .. import nn
from .blocks.densenet import DenseBlock, Transition

__all__ = ["DenseNet", "densenet121"]

# torchvision's regular expression for the keys of its pre-rename checkpoints
_LEGACY_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
                         r"((?:[12])\.(?:weight|bias|running_mean|running_var))$")


class DenseNet(nn.Module):
    """DenseNet-BC: a stem, dense blocks joined by halving transitions, a linear classifier.

    Parameters
    ----------
    growth_rate : int
        k, the channels each dense layer adds (32).
    block_config : sequence of ints
        Dense layers per block ((6, 12, 24, 16) for DenseNet-121).
    num_init_features : int
        Channels of the stem convolution (64).
    bn_size : int
        A dense layer's 1x1 bottleneck has ``bn_size * growth_rate`` channels (4).
    drop_rate : float
        Dropout after each dense layer in training (0).
    num_classes : int

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``, H and W at least 29 (torchvision's minimum:
    the last transition must keep a pixel); 224 for ImageNet.
    """

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64,
                 bn_size=4, drop_rate=0.0, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3,
                                bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", DenseBlock(
                num_layers, num_features, bn_size, growth_rate, drop_rate))
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}",
                                         Transition(num_features, num_features // 2))
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # (N, C, 1, 1) -> (N, C)
        return self.classifier(out)

    def load_state_dict(self, state_dict, strict=True):
        """``Module.load_state_dict``, after renaming torchvision's legacy keys
        (``denselayer1.norm.1.weight`` -> ``denselayer1.norm1.weight``)."""
        renamed = OrderedDict((_LEGACY_KEY.sub(r"\1\2", key), value)
                              for key, value in state_dict.items())
        return super().load_state_dict(renamed, strict=strict)


def densenet121(num_classes=1000, **kwargs):
    """DenseNet-121 (7,978,856 parameters at 1000 classes). ``kwargs`` go to ``DenseNet``."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes, **kwargs)
