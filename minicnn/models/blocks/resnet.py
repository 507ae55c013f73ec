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
    WideBasicBlock
                 bn1 - relu - conv3x3(stride) - bn2 - relu - dropout - conv3x3, + shortcut
                 (Zagoruyko & Komodakis, 2016, "Wide Residual Networks", arXiv:1605.07146):
                 the pre-activation order of He et al.'s "Identity Mappings in Deep
                 Residual Networks" (no ReLU after the sum), with dropout between the
                 convolutions (Wide ResNet-28-10 on CIFAR). torchvision has no such block;
                 its projection is named ``shortcut`` (see ``models/wide_resnet.py``).

Shortcuts
    identity            when the block keeps the shape (``downsample=None``).
    projection ("B")    when stride or channels change: ``downsample = Sequential(conv1x1
                        (stride s), BatchNorm2d)``, as torchvision builds it (``conv1x1``).
    zero padding ("A")  ``ZeroPadShortcut``: parameter-free, subsample with stride ``s`` and
                        append zero channels; the paper's choice for its CIFAR networks.

Options of both blocks (off by default, so torchvision's networks are unchanged)
    se_reduction        Squeeze-and-Excitation (Hu et al., 2018): an ``SEBlock`` (attribute
                        ``se``) reweights the residual branch's channels after its last batch
                        norm, before the shortcut is added: ``relu(se(F(x)) + shortcut(x))``.
    stochastic_depth_prob
                        Stochastic depth (Huang, Sun, Liu, Sedra & Weinberger, 2016, "Deep
                        Networks with Stochastic Depth", arXiv:1603.09382), the paper's rule:
                        with ``d = stochastic_depth_prob`` and survival probability
                        ``p = 1 - d``, a training forward pass drops the whole residual branch
                        with probability ``d`` (one draw per call, so for the whole batch):
                        the block is then ``relu(shortcut(x))`` and its branch is not even
                        computed; a kept branch is used unscaled. In evaluation the branch is
                        multiplied by ``p``, its expected contribution in training.
                        torchvision's ``StochasticDepth`` (its ConvNeXt, EfficientNet, Swin)
                        does the reverse: it scales kept branches by ``1 / p`` in training and
                        leaves evaluation alone ("inverted", like dropout), and its ``'row'``
                        mode draws per sample. Both give the same expectation; weights trained
                        with one rule need the other's scaling to be used with the other.

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

import numbers

from ... import functional as F
from ... import nn
from ..._checks import check_positive_int
from ...rng import get_rng
from .squeeze_excitation import SEBlock

__all__ = ["conv3x3", "conv1x1", "linear_drop_probs", "BasicBlock", "Bottleneck",
           "WideBasicBlock", "ZeroPadShortcut"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution, no bias (a batch norm follows), padded to keep the size at stride 1."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation,
                     groups=groups, bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias: mixes channels; with stride 2 it also subsamples."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


def _check_drop_prob(value, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{owner}: stochastic_depth_prob must be a number in [0, 1), got "
                         f"{value!r}")
    return float(value)


def linear_drop_probs(stochastic_depth_prob, num_blocks):
    """The paper's linear decay, as an iterator over the blocks of a network: block l of L
    (counted from 1) drops its branch with probability ``stochastic_depth_prob * l / L``."""
    final = _check_drop_prob(stochastic_depth_prob, "linear_drop_probs")
    return iter([final * l / num_blocks for l in range(1, num_blocks + 1)])


class _ResidualBlock(nn.Module):
    """What BasicBlock and Bottleneck share: ``relu(se(branch(x)) + shortcut(x))``, with the
    optional SE block and stochastic depth (see the module docstring). Subclasses define
    ``branch(x)``, the residual function ``F`` up to its last batch norm."""

    def __init__(self, stochastic_depth_prob):
        super().__init__()
        self.stochastic_depth_prob = _check_drop_prob(stochastic_depth_prob,
                                                      type(self).__name__)

    def _add_se_and_shortcut(self, out_channels, se_reduction, downsample):
        """Registered after the branch's layers, so the ``state_dict`` keys come in
        torchvision's order (``conv1``, ``bn1``, ..., ``downsample``; timm's ``se`` before it)."""
        self.relu = nn.ReLU(inplace=True)
        self.se = None if se_reduction is None else SEBlock(out_channels, se_reduction)
        self.downsample = downsample

    def _shortcut(self, x):
        return x if self.downsample is None else self.downsample(x)

    def forward(self, x):
        drop = self.stochastic_depth_prob
        if self.training and drop > 0 and get_rng().random() < drop:
            return self.relu(self._shortcut(x))  # branch dropped: not computed at all
        out = self.branch(x)
        if self.se is not None:
            out = self.se(out)
        if not self.training and drop > 0:
            out = out * (1 - drop)  # the survival probability: the branch's expected weight
        return self.relu(out + self._shortcut(x))

    def extra_repr(self):
        return (f"stochastic_depth_prob={self.stochastic_depth_prob}"
                if self.stochastic_depth_prob else "")


class BasicBlock(_ResidualBlock):
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
    se_reduction : int or None
        With an int r, an ``SEBlock(planes, r)`` rescales the branch (SE-ResNet); None: none.
    stochastic_depth_prob : float in [0, 1)
        Probability that a training forward pass drops the residual branch; evaluation
        multiplies the branch by ``1 - stochastic_depth_prob`` (the paper's rule).
    """

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None, se_reduction=None, stochastic_depth_prob=0.0):
        super().__init__(stochastic_depth_prob)
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock supports only groups=1 and base_width=64, got "
                             f"groups={groups!r}, base_width={base_width!r} (use Bottleneck)")
        if dilation != 1:
            raise ValueError(f"BasicBlock supports only dilation=1, got dilation={dilation!r}")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self._add_se_and_shortcut(planes, se_reduction, downsample)
        self.stride = stride

    def branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck(_ResidualBlock):
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
    se_reduction : int or None
        With an int r, an ``SEBlock(4 * planes, r)`` rescales the branch after ``bn3``
        (SE-ResNet-50 uses r = 16); None: no SE block.
    stochastic_depth_prob : float in [0, 1)
        As for ``BasicBlock``.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64,
                 dilation=1, norm_layer=None, se_reduction=None, stochastic_depth_prob=0.0):
        super().__init__(stochastic_depth_prob)
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self._add_se_and_shortcut(planes * self.expansion, se_reduction, downsample)
        self.stride = stride

    def branch(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


class WideBasicBlock(nn.Module):
    """A pre-activation basic block with dropout: Wide ResNet's ``B(3, 3)`` block.

    ``out = conv2(dropout(relu(bn2(conv1(a))))) + shortcut``, with ``a = relu(bn1(x))``. The
    shortcut is ``x`` when the shape is kept; otherwise a 1x1 convolution (stride
    ``stride``, no batch norm) of the activated ``a``, as in the authors' code and the
    common PyTorch reproduction (xternalz/WideResNet-pytorch). No ReLU follows the sum: the
    next block (or the network's final batch norm) begins with one.

    Parameters
    ----------
    in_planes, out_planes : int
    stride : int
        Of ``conv1`` and of the projection.
    dropout : float
        Dropout probability between the two convolutions in training (0.3 in the paper's
        CIFAR runs; 0 turns it off).

    Shapes: ``(N, in_planes, H, W) -> (N, out_planes, ceil(H/s), ceil(W/s))``.
    """

    def __init__(self, in_planes, out_planes, stride=1, dropout=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = conv3x3(in_planes, out_planes, stride)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = conv3x3(out_planes, out_planes)
        self.shortcut = None
        if stride != 1 or in_planes != out_planes:
            self.shortcut = conv1x1(in_planes, out_planes, stride)

    def forward(self, x):
        activated = self.relu(self.bn1(x))
        out = self.conv2(self.dropout(self.relu(self.bn2(self.conv1(activated)))))
        return out + (x if self.shortcut is None else self.shortcut(activated))


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
