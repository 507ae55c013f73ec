"""Residual blocks (He et al., 2015, "Deep Residual Learning for Image Recognition").

A residual block learns a correction ``F(x)`` to its input instead of a whole new mapping:

    out = relu(F(x) + shortcut(x))

so a block that has nothing to add can drive ``F`` to zero and pass ``x`` through; the
gradient reaches early layers through the ``+`` undiminished. The backward of the sum
sends the same upstream gradient into both branches, and the shortcut's share is added to
what ``F`` gives back for ``x`` (the autograd engine accumulates both).

Blocks (attribute names are torchvision's, so ``state_dict`` keys match and its weights load)
    BasicBlock   conv3x3(stride) - bn1 - relu - conv3x3 - bn2, + shortcut, relu.
                 ``expansion = 1``: the block outputs ``planes`` channels (ResNet-18/34).
    Bottleneck   conv1x1 - bn1 - relu - conv3x3(stride, groups) - bn2 - relu - conv1x1 -
                 bn3, + shortcut, relu. ``expansion = 4``: the 1x1 convolutions narrow the
                 channels to ``width`` for the costly 3x3 and widen them back to
                 ``4 * planes`` (ResNet-50 and deeper, ResNeXt).

Shortcuts
    identity            when the block keeps the shape (``downsample=None``).
    projection ("B")    when stride or channels change: ``downsample = Sequential(conv1x1
                        (stride s), BatchNorm2d)``, as torchvision builds it (``conv1x1``).
    zero padding ("A")  ``ZeroPadShortcut``: parameter-free, subsample with stride ``s`` and
                        append zero channels; the paper's choice for its CIFAR networks.

Where the stride sits in a Bottleneck: in the 3x3 convolution (``conv2``), torchvision's
"ResNet v1.5". The paper (and Caffe's ResNet-50, "v1") put it in the first 1x1, which
simply drops three of every four positions before looking at them; v1.5 costs a little
more compute, is about 0.5% more accurate on ImageNet (NVIDIA's measurement), and is what
torchvision's weights need.

ResNeXt (Xie et al., 2017, "Aggregated Residual Transformations") is the Bottleneck with a
grouped 3x3: ``width = int(planes * base_width / 64) * groups``; ``resnext50_32x4d`` has 32
groups of 4 channels in its first stage (width 128 instead of 64).

Shapes (``s`` = stride): ``(N, inplanes, H, W) -> (N, planes * expansion, ceil(H/s), ceil(W/s))``.
"""

from ... import functional as F
from ... import nn
from ..._checks import check_positive_int

__all__ = ["conv3x3", "conv1x1", "BasicBlock", "Bottleneck", "ZeroPadShortcut"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution, no bias (a batch norm follows), padded to keep the size at stride 1."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias: mixes channels; with stride 2 it also subsamples."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut (ResNet-18/34, and the CIFAR ResNets).

    Parameters
    ----------
    inplanes : int
        Input channels.
    planes : int
        Output channels (``planes * expansion``, expansion 1).
    stride : int
        Of ``conv1``; with stride 2 the shortcut must subsample too (``downsample``).
    downsample : Module or None
        The shortcut when shapes change (a ``Sequential(conv1x1, BatchNorm2d)`` or a
        ``ZeroPadShortcut``); None is the identity.
    groups, base_width : int
        Only 1 and 64 (torchvision's signature, shared with ``Bottleneck``).
    dilation : int
        Only 1.
    norm_layer : callable, optional
        ``norm_layer(channels)`` builds each normalisation; ``nn.BatchNorm2d`` by default.
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock supports only groups=1 and base_width=64, got "
                             f"groups={groups!r}, base_width={base_width!r} (use Bottleneck)")
        if dilation != 1:
            raise ValueError(f"BasicBlock supports only dilation=1, got dilation={dilation!r}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 (narrow) - 3x3 (stride, groups) - 1x1 (widen x4), and a shortcut (ResNet-50+).

    Parameters
    ----------
    inplanes : int
        Input channels.
    planes : int
        The block outputs ``planes * 4`` channels.
    stride : int
        Of the 3x3 convolution ``conv2`` ("v1.5", torchvision's placement).
    downsample : Module or None
        The shortcut when shapes change; None is the identity.
    groups : int
        Groups of the 3x3 convolution (ResNeXt's cardinality).
    base_width : int
        Channels per group at ``planes = 64``; ``width = int(planes * base_width / 64) *
        groups`` is the channel count inside the block (``planes`` for ResNet-50).
    dilation : int
        Dilation (and padding) of the 3x3 convolution.
    norm_layer : callable, optional
        ``nn.BatchNorm2d`` by default.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ZeroPadShortcut(nn.Module):
    """The parameter-free shortcut ("option A" of He et al., section 4.2, CIFAR-10).

    Keeps every ``stride``-th row and column, then pads the channels with zeros:
    ``(N, C_in, H, W) -> (N, C_out, ceil(H/s), ceil(W/s))``. The zero channels go half
    before and half after the input's (``(C_out - C_in) // 2`` before, the rest after), as
    in the widely used PyTorch reproduction of the CIFAR ResNets (Idelbayev's
    ``pytorch_resnet_cifar10``). Backward: the slice scatters the gradient back to the
    kept positions (zeros elsewhere) and the padding's gradient is cut off.

    Parameters
    ----------
    in_channels, out_channels : int
        ``out_channels >= in_channels``.
    stride : int
    """

    def __init__(self, in_channels, out_channels, stride=2):
        super().__init__()
        in_channels = check_positive_int(in_channels, "ZeroPadShortcut: in_channels")
        out_channels = check_positive_int(out_channels, "ZeroPadShortcut: out_channels")
        stride = check_positive_int(stride, "ZeroPadShortcut: stride")
        if out_channels < in_channels:
            raise ValueError(f"ZeroPadShortcut: out_channels={out_channels} < in_channels="
                             f"{in_channels}; zero padding can only add channels")
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ZeroPadShortcut: expected an input (N, {self.in_channels}, H, "
                             f"W), got shape {x.shape}")
        s = self.stride
        x = x[:, :, ::s, ::s]  # (N, C_in, H, W) -> (N, C_in, ceil(H/s), ceil(W/s))
        extra = self.out_channels - self.in_channels
        before = extra // 2
        return F.pad(x, (0, 0, 0, 0, before, extra - before))  # -> (N, C_out, ...)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
