"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (arXiv:1409.1556).

Input 3x224x224 (any size of at least 32x32 runs: five 2x2 max-pools must leave a pixel,
and an adaptive average pooling makes the classifier's input 512 x 7 x 7 whatever the
size). The idea: only 3x3 convolutions (stride 1, padding 1, so the size is kept) and 2x2
max-pools (halving it); two stacked 3x3 layers see 5x5 and three see 7x7, with fewer
parameters and more nonlinearities than one large kernel. Channels double after each pool,
64 to 512. The configurations are the paper's table 1 (``CONFIGS``; ints are the output
channels of a 3x3 convolution + ReLU, 'M' a max-pool):

    name    config  conv layers  parameters (1000 classes)   with batch norm (``_bn``)
    vgg11   A        8           132,863,336                 132,868,840
    vgg13   B       10           133,047,848                 133,053,736
    vgg16   D       13           138,357,544                 138,365,992
    vgg19   E       16           143,667,240                 143,678,248

Keys are torchvision's: ``features.N`` numbers the layers in order (conv, ReLU, ..., 'M'),
so VGG-16's convolutions are ``features.0, 2, 5, 7, 10, 12, 14, 17, ..., 28`` (with batch
norm each conv takes three slots: ``features.0`` conv, ``features.1`` BatchNorm2d,
``features.2`` ReLU); then ``avgpool`` (AdaptiveAvgPool2d((7, 7))) and ``classifier``:
Linear(25088, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout,
Linear(4096, num_classes) (Linear layers at ``classifier.0, 3, 6``). 123.6 million of
VGG-16's 138.4 million parameters are in that classifier, 102.8 million in its first layer.
The ``_bn`` variants (batch norm after each convolution) are not in the paper; torchvision
adds them, and they train from scratch without the paper's staged initialisation.

Initialisation (torchvision's): convolutions ``kaiming_normal_(mode='fan_out',
nonlinearity='relu')`` with zero bias, batch norms weight 1 and bias 0, linear layers
``normal(0, 0.01)`` with zero bias.

Small inputs. ``small_input=True`` is the usual CIFAR adaptation (32x32 images): the same
``features`` (five pools take 32 to 1x1, 512 channels), then global average pooling
(``avgpool`` = AdaptiveAvgPool2d(1), the identity at 32x32, so other sizes run too) and a
single ``classifier.0`` = Linear(512, num_classes), without the 4096-wide layers:
VGG-16 at 10 classes has 14,719,818 parameters. The ``features`` keys and shapes are
unchanged (torchvision's convolution weights load with ``strict=False``); the classifier's
are not.
"""

from .. import nn

__all__ = ["VGG", "CONFIGS", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]

CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


def make_layers(config, batch_norm=False):
    """The ``features`` Sequential of a configuration: 3x3 conv (+ BatchNorm2d) + ReLU per
    int, a 2x2 stride-2 max-pool per 'M'."""
    layers, in_channels = [], 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network around a ``features`` Sequential (see ``make_layers``).

    Parameters
    ----------
    features : Module
        Ends with 512 channels.
    num_classes : int
    init_weights : bool
        torchvision's initialisation (see the module docstring); False keeps the layers'
        PyTorch defaults.
    dropout : float
        Probability of the two dropout layers of the ImageNet classifier.
    small_input : bool
        Global average pooling and one Linear(512, num_classes), for 32x32 inputs.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``, H and W at least 32; 224 for ImageNet.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5,
                 small_input=False):
        super().__init__()
        self.features = features
        if small_input:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Linear(512, num_classes))
        else:
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
                nn.Linear(4096, num_classes),
            )
        if init_weights:
            self._initialize_weights()

    def _initialize_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))  # (N, 512, 7, 7) -> (N, 25088), or (N, 512)


def _vgg(config, batch_norm, num_classes, **kwargs):
    return VGG(make_layers(CONFIGS[config], batch_norm), num_classes=num_classes, **kwargs)


def vgg11(num_classes=1000, **kwargs):
    """VGG-11, configuration A (132,863,336 parameters at 1000 classes). ``kwargs`` go to
    ``VGG`` (``dropout``, ``small_input``, ``init_weights``)."""
    return _vgg("A", False, num_classes, **kwargs)


def vgg11_bn(num_classes=1000, **kwargs):
    """VGG-11 with batch norm (132,868,840 parameters at 1000 classes)."""
    return _vgg("A", True, num_classes, **kwargs)


def vgg13(num_classes=1000, **kwargs):
    """VGG-13, configuration B (133,047,848 parameters at 1000 classes)."""
    return _vgg("B", False, num_classes, **kwargs)


def vgg13_bn(num_classes=1000, **kwargs):
    """VGG-13 with batch norm (133,053,736 parameters at 1000 classes)."""
    return _vgg("B", True, num_classes, **kwargs)


def vgg16(num_classes=1000, **kwargs):
    """VGG-16, configuration D (138,357,544 parameters at 1000 classes). ``kwargs`` go to
    ``VGG`` (``dropout``, ``small_input``, ``init_weights``)."""
    return _vgg("D", False, num_classes, **kwargs)


def vgg16_bn(num_classes=1000, **kwargs):
    """VGG-16 with batch norm (138,365,992 parameters at 1000 classes)."""
    return _vgg("D", True, num_classes, **kwargs)


def vgg19(num_classes=1000, **kwargs):
    """VGG-19, configuration E (143,667,240 parameters at 1000 classes)."""
    return _vgg("E", False, num_classes, **kwargs)


def vgg19_bn(num_classes=1000, **kwargs):
    """VGG-19 with batch norm (143,678,248 parameters at 1000 classes)."""
    return _vgg("E", True, num_classes, **kwargs)
