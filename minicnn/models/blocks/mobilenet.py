"""MobileNet blocks: the depthwise-separable convolution (MobileNet-v1, Howard et al., 2017,
arXiv:1704.04861) and the inverted residual with a linear bottleneck (MobileNet-v2, Sandler
et al., 2018, arXiv:1801.04381).

Depthwise-separable convolution. A standard KxK convolution from C to C' channels filters
and mixes channels at once: ``K*K*C*C'`` multiply-adds per output pixel. MobileNet splits
it in two:

    depthwise   KxK convolution with ``groups = C``: each channel filtered on its own,
                ``K*K*C`` multiply-adds per pixel;
    pointwise   1x1 convolution mixing the C channels into C', ``C*C'``.

The ratio of costs is ``1/C' + 1/K^2``: 8 to 9 times fewer for 3x3 kernels. Each of the two
convolutions is followed by batch norm and ReLU (``DepthwiseSeparableConv``).

Inverted residual (``InvertedResidual``). MobileNet-v2 turns ResNet's bottleneck inside
out: a 1x1 convolution first *expands* the channels by a factor ``t`` (6), the depthwise 3x3
filters in that wide space, and a 1x1 *projects* back to few channels, with no activation
after the projection (a "linear bottleneck": a ReLU in a narrow space destroys information).
When the shape is kept (stride 1, same channels) the narrow ends are joined by a residual
connection:

    out = x + project(depthwise(expand(x)))       (stride 1 and inp == oup)
    out =     project(depthwise(expand(x)))       (otherwise)

The activations are ReLU6 (``nn.ReLU6``), ``min(max(x, 0), 6)``, chosen for low-precision
arithmetic; like PyTorch's, its gradient is 0 at exactly 0 and 6.
Attribute names follow torchvision's ``InvertedResidual``: ``conv`` is a Sequential of
``[expand (conv_bn_act, 1x1),] depthwise (conv_bn_act, 3x3), Conv2d 1x1, BatchNorm2d``, so
the keys are ``conv.0.0.weight`` (expand conv), ``conv.0.1.running_mean`` (its batch norm),
``conv.1.0.weight`` (depthwise), ``conv.2.weight`` (projection), ``conv.3.bias`` (its batch
norm); with ``expand_ratio == 1`` there is no expansion and the depthwise is ``conv.0``.

Shapes (``s`` = stride): ``(N, C, H, W) -> (N, C', ceil(H/s), ceil(W/s))``.
"""

from ... import nn

__all__ = ["conv_bn_act", "DepthwiseSeparableConv", "InvertedResidual"]


def conv_bn_act(in_channels, out_channels, kernel_size=3, stride=1, groups=1,
                norm_layer=nn.BatchNorm2d, activation=nn.ReLU6):
    """``Sequential(Conv2d (no bias), norm_layer, activation)``, padded to keep the size at
    stride 1 (torchvision's ``Conv2dNormActivation``: keys ``0.weight``, ``1.weight``,
    ``1.running_mean``, ...)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                  padding=(kernel_size - 1) // 2, groups=groups, bias=False),
        norm_layer(out_channels),
        activation(inplace=True),
    )


class DepthwiseSeparableConv(nn.Module):
    """MobileNet-v1's block: depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Of the depthwise convolution (1 or 2 in MobileNet).

    Attributes: ``depthwise`` (Conv2d, weight (in_channels, 1, 3, 3), groups=in_channels),
    ``depthwise_bn``, ``pointwise`` (Conv2d, weight (out_channels, in_channels, 1, 1)),
    ``pointwise_bn``, ``relu``. No convolution has a bias (each batch norm has one).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, ceil(H/s), ceil(W/s))``.
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=stride,
                                   padding=1, groups=in_channels, bias=False)
        self.depthwise_bn = nn.BatchNorm2d(in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pointwise_bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.relu(self.depthwise_bn(self.depthwise(x)))
        return self.relu(self.pointwise_bn(self.pointwise(x)))


class InvertedResidual(nn.Module):
    """MobileNet-v2's block: expand 1x1 (ReLU6), depthwise 3x3 (ReLU6), project 1x1
    (linear), plus the input when the shape is kept; torchvision's structure and keys.

    Parameters
    ----------
    inp, oup : int
        Input and output channels.
    stride : 1 or 2
        Of the depthwise convolution.
    expand_ratio : int or float
        The hidden width is ``round(inp * expand_ratio)``; 1 leaves out the expansion.
    norm_layer : callable, optional
        ``nn.BatchNorm2d`` by default.

    Attributes: ``conv`` (see the module docstring), ``use_res_connect`` (stride 1 and
    ``inp == oup``), ``stride``, ``out_channels``.
    """

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_act(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer))
        layers += [
            conv_bn_act(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim,
                        norm_layer=norm_layer),
            nn.Conv2d(hidden_dim, oup, kernel_size=1, bias=False),
            norm_layer(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)
