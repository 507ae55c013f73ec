"""MobileNets: networks of cheap depthwise convolutions, for phones.

MobileNet-v1: Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto & Adam,
"MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
arXiv:1704.04861, 2017. Input 3x224x224; 4,231,976 parameters at width 1.0 and 1000 classes
(the paper's 4.2 million; Keras' ``MobileNet`` reports the same trainable count) and 569
million multiply-accumulates per image (the paper's 569 million mult-adds). A 3x3 stride-2
convolution, then 13 depthwise-separable blocks (``blocks.mobilenet.DepthwiseSeparableConv``,
the paper's table 1), global average pooling and one fc layer:

    features.0       conv_bn_act 3x3/2, 3 -> 32 (ReLU)              224 -> 112
    features.1       32 -> 64                                        112
    features.2-3     -> 128 (first stride 2)                         56
    features.4-5     -> 256 (first stride 2)                         28
    features.6-11    -> 512 (first stride 2)                         14
    features.12-13   -> 1024 (first stride 2)                         7
    avgpool, fc      global average pool, Linear(1024, num_classes)

``width_mult`` (the paper's alpha, e.g. 0.75, 0.5, 0.25) multiplies every layer's channels
(``int(c * alpha)``, as Keras) and cuts parameters and computation by about alpha^2. There
is no torchvision MobileNet-v1, so the keys are chosen here: ``features.0.0.weight`` (stem
convolution), ``features.0.1.*`` (its batch norm), ``features.N.depthwise.weight`` (C, 1, 3,
3), ``features.N.depthwise_bn.*``, ``features.N.pointwise.weight`` (C', C, 1, 1),
``features.N.pointwise_bn.*``, ``fc.weight``, ``fc.bias``. The paper uses no dropout here.

``small_input=True`` adapts v1 to 32x32 images (CIFAR): the stem has stride 1, so the
network downsamples four times instead of five (32 -> 16 -> 8 -> 4 -> 2 before the global
pooling). No layer changes shape, so the parameters and keys are the same as the ImageNet
network's.

MobileNet-v2: Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018 (arXiv:1801.04381), exactly torchvision's ``mobilenet_v2``
(keys, shapes, initialisation): input 3x224x224, 3,504,872 parameters at width 1.0 and 1000
classes, 301 million multiply-accumulates (the paper's 300 million). A 3x3 stride-2 stem
(32 channels), 17 ``InvertedResidual`` blocks in the stages of ``INVERTED_RESIDUAL_SETTING``
(expansion t, channels c, repeats n, first stride s), a 1x1 convolution to 1280 channels,
global average pooling, Dropout(0.2), Linear. Keys: ``features.0.0.weight`` (stem),
``features.1.conv.0.0.weight`` (the first block has t = 1: depthwise first),
``features.2.conv.0.0.weight`` (an expansion), ``features.18.0.weight`` (the 1x1 to 1280),
``classifier.1.weight``. ``width_mult`` scales the channels, rounded to multiples of 8
(``make_divisible``); the last layer keeps 1280 unless ``width_mult > 1``.

Initialisation (torchvision's MobileNet-v2, used for both): convolutions
``kaiming_normal_(mode='fan_out')``, batch norms weight 1 and bias 0, linear layers
``normal(0, 0.01)`` with zero bias.
"""

from .. import nn
from .blocks.mobilenet import DepthwiseSeparableConv, InvertedResidual, conv_bn_act

__all__ = ["MobileNetV1", "MobileNetV2", "make_divisible", "mobilenet_v1", "mobilenet_v2"]

# MobileNet-v1's 13 depthwise-separable blocks: (output channels, stride) at width 1.0
V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
             (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

# MobileNet-v2's stages: expansion t, output channels c, blocks n, stride s of the first
INVERTED_RESIDUAL_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                             [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


def make_divisible(v, divisor=8, min_value=None):
    """Round ``v`` to the nearest multiple of ``divisor`` (at least ``min_value``, default
    ``divisor``), but never more than 10% below ``v`` (torchvision's ``_make_divisible``)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _init_weights(model):
    """torchvision's MobileNet-v2 initialisation (see the module docstring)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


def _check_width(name, width_mult):
    if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) \
            or width_mult <= 0:
        raise ValueError(f"{name}: width_mult must be a positive number, got {width_mult!r}")


class MobileNetV1(nn.Module):
    """MobileNet-v1; see the module docstring.

    Parameters
    ----------
    num_classes : int
    width_mult : float
        The paper's width multiplier alpha.
    small_input : bool
        A stride-1 stem, for 32x32 inputs.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; 224 for ImageNet, 32 with ``small_input``.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, small_input=False):
        super().__init__()
        _check_width("mobilenet_v1", width_mult)

        def width(channels):
            scaled = int(channels * width_mult)
            if scaled < 1:
                raise ValueError(f"mobilenet_v1: width_mult={width_mult} leaves no channel "
                                 f"of {channels}")
            return scaled

        in_channels = width(32)
        layers = [conv_bn_act(3, in_channels, stride=1 if small_input else 2,
                              activation=nn.ReLU)]
        for channels, stride in V1_BLOCKS:
            layers.append(DepthwiseSeparableConv(in_channels, width(channels), stride))
            in_channels = width(channels)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.fc(x.flatten(1))  # (N, 1024, 1, 1) -> (N, 1024)


class MobileNetV2(nn.Module):
    """MobileNet-v2, torchvision's; see the module docstring.

    Parameters
    ----------
    num_classes : int
    width_mult : float
    inverted_residual_setting : list of [t, c, n, s], optional
        ``INVERTED_RESIDUAL_SETTING`` by default.
    round_nearest : int
        Channel counts are rounded to multiples of this (1: no rounding).
    dropout : float
        Probability of the dropout before the classifier's Linear.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; 224 for ImageNet.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None,
                 round_nearest=8, dropout=0.2):
        super().__init__()
        _check_width("mobilenet_v2", width_mult)
        if inverted_residual_setting is None:
            inverted_residual_setting = INVERTED_RESIDUAL_SETTING
        if not inverted_residual_setting or any(len(row) != 4
                                                for row in inverted_residual_setting):
            raise ValueError(f"mobilenet_v2: inverted_residual_setting must be a non-empty "
                             f"list of [t, c, n, s] rows, got {inverted_residual_setting!r}")
        input_channel = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        features = [conv_bn_act(3, input_channel, stride=2)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel,
                                                 s if i == 0 else 1, expand_ratio=t))
                input_channel = output_channel
        features.append(conv_bn_act(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout),
                                        nn.Linear(self.last_channel, num_classes))
        _init_weights(self)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))  # (N, 1280, 1, 1) -> (N, 1280)


def mobilenet_v1(num_classes=1000, width_mult=1.0, small_input=False):
    """MobileNet-v1 (4,231,976 parameters at width 1.0 and 1000 classes); ``small_input``
    for 32x32 images. See ``minicnn.models.mobilenet``."""
    return MobileNetV1(num_classes=num_classes, width_mult=width_mult, small_input=small_input)


def mobilenet_v2(num_classes=1000, width_mult=1.0, **kwargs):
    """MobileNet-v2, torchvision's (3,504,872 parameters at width 1.0 and 1000 classes).
    ``kwargs`` go to ``MobileNetV2``."""
    return MobileNetV2(num_classes=num_classes, width_mult=width_mult, **kwargs)
