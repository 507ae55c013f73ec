"""ResNet (He, Zhang, Ren & Sun, 2015, "Deep Residual Learning for Image Recognition",
arXiv:1512.03385), ResNeXt (Xie et al., 2017, arXiv:1611.05431), Wide ResNet-50-2 (Zagoruyko
& Komodakis, 2016, arXiv:1605.07146), SE-ResNet-50 (Hu et al., 2018, arXiv:1709.01507) and
stochastic depth (Huang et al., 2016, arXiv:1603.09382).

ImageNet networks (input 3x224x224, torchvision's architecture, keys and initialisation)

    stem     conv1 7x7/2 (64) - bn1 - relu - maxpool 3x3/2           224 -> 56
    layer1   blocks at  64 planes, stride 1                            56
    layer2   blocks at 128 planes, first one stride 2                  28
    layer3   blocks at 256 planes, first one stride 2                  14
    layer4   blocks at 512 planes, first one stride 2                   7
    head     global average pool - fc (512 * expansion -> num_classes)

    name              block       blocks per stage  parameters (num_classes=1000)
    resnet18          BasicBlock  2, 2, 2, 2        11,689,512
    resnet34          BasicBlock  3, 4, 6, 3        21,797,672
    resnet50          Bottleneck  3, 4, 6, 3        25,557,032
    resnext50_32x4d   Bottleneck  3, 4, 6, 3        25,028,904  (32 groups x 4 channels)
    wide_resnet50_2   Bottleneck  3, 4, 6, 3        68,883,240  (inner widths doubled)
    se_resnet50       Bottleneck  3, 4, 6, 3        28,088,024  (+ an SEBlock, r = 16)

``wide_resnet50_2`` is torchvision's: ResNet-50 with twice the channels inside each
bottleneck (``width_per_group=128``: the last block is 2048-1024-2048 instead of
2048-512-2048), keys and shapes torchvision's. ``se_resnet50`` is ResNet-50 v1.5 with an
``SEBlock(4 * planes, 16)`` on every residual branch, after ``bn3`` and before the addition
(Hu et al., figure 3); its 2,530,992 extra parameters are the paper's "~2.5 million". The
paper's Caffe model strides in the first 1x1 (v1); the parameters are the same. torchvision
has no SE-ResNet; the keys (``layer1.0.se.fc1.weight`` (16, 256, 1, 1), ...) are those of
timm's ``seresnet50``, which has the same layout.

The first block of a stage changes the shape, so its shortcut is a projection
``downsample = Sequential(conv1x1(stride), BatchNorm2d)`` (the paper's option B); the others
are identities. ResNet-50 here is torchvision's "v1.5": a Bottleneck's stride sits in its
3x3 convolution, not in the first 1x1 as in the paper (see ``blocks/resnet.py``).

Pretrained weights. ``state_dict`` keys and shapes are torchvision's (``conv1.weight``,
``layer1.0.bn1.running_mean``, ``layer2.0.downsample.0.weight``, ``fc.bias``, ...), so
torchvision's published ImageNet checkpoints load without PyTorch::

    import minicnn
    from minicnn.models import resnet50
    model = resnet50()
    model.load_state_dict(minicnn.load_torch_state_dict("resnet50-0676ba61.pth"))
    model.eval()   # batch norm uses the running statistics

Inputs must be prepared as torchvision's were: RGB in [0, 1], normalised per channel with
mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).

Small inputs. ``small_input=True`` replaces the stem by a 3x3 stride-1 convolution without
the max-pool, the usual adaptation to 32x32 images (CIFAR): the stages then see 32, 16, 8
and 4 pixels instead of 8, 4, 2 and 1. Only ``conv1.weight`` changes shape ((64, 3, 3, 3)),
so such a model does not take torchvision's weights.

CIFAR networks (section 4.2 of the paper, input 3x32x32): ``resnet20/32/44/56`` are
``CifarResNet(depth)``, with ``n = (depth - 2) / 6`` BasicBlocks per stage

    stem     conv1 3x3 (16) - bn1 - relu                               32
    layer1   n blocks at 16 channels                                   32
    layer2   n blocks at 32 channels, first one stride 2               16
    layer3   n blocks at 64 channels, first one stride 2                8
    head     global average pool - fc (64 -> num_classes)

    name       shortcut 'A' (default)   shortcut 'B'   (num_classes=10)
    resnet20   269,722                  272,474        (the paper's "0.27M")
    resnet32   464,154                  466,906        (0.46M)
    resnet44   658,586                  661,338        (0.66M)
    resnet56   853,018                  855,770        (0.85M)

Option A, the paper's choice for CIFAR, makes the two shape-changing shortcuts
parameter-free (``ZeroPadShortcut``: subsample by 2 and pad with zero channels, half before
and half after); option B uses 1x1 projections as the ImageNet networks do, adding
16*32 + 32*64 weights and two batch norms (2,752 parameters, whatever the depth). Keys
follow torchvision's naming (``conv1``, ``bn1``, ``layer1.0.conv1``, ..., ``fc``); there is
no torchvision model to match.

Stochastic depth. ``stochastic_depth_prob=d`` (both ``ResNet`` and ``CifarResNet``) gives
block l of the network's L blocks (counted from 1 across all stages) the drop probability
``d * l / L``: the paper's survival probability ``p_l = 1 - (l / L) (1 - p_L)``, decaying
linearly from nearly 1 at the input to ``p_L = 1 - d`` at the last block; the paper uses
``p_L = 0.5`` (``d = 0.5``), with its 110-layer CIFAR ResNet (``CifarResNet(110,
stochastic_depth_prob=0.5)``). Training drops whole residual branches, evaluation scales
each by its survival probability (``blocks/resnet.py`` explains it, and how torchvision's
``StochasticDepth`` differs). No parameter changes.

Initialisation (torchvision's, for every network here): convolutions
``kaiming_normal_(mode='fan_out', nonlinearity='relu')``, batch norms weight 1 and bias 0,
``fc`` PyTorch's default for ``Linear``. ``zero_init_residual=True`` starts the last batch
norm of each residual branch at weight 0, so every block begins as the identity (Goyal et
al., 2017, arXiv:1706.02677).
"""

from .. import nn
from .blocks.resnet import BasicBlock, Bottleneck, ZeroPadShortcut, conv1x1, linear_drop_probs

__all__ = ["ResNet", "CifarResNet", "resnet18", "resnet34", "resnet50", "resnext50_32x4d",
           "wide_resnet50_2", "se_resnet50", "resnet20", "resnet32", "resnet44", "resnet56"]


def _init_weights(model, zero_init_residual):
    """torchvision's ResNet initialisation (see the module docstring)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.constant_(m.bn3.weight, 0)
            elif isinstance(m, BasicBlock):
                nn.init.constant_(m.bn2.weight, 0)


class ResNet(nn.Module):
    """The ImageNet ResNet: a stem, four stages of residual blocks, a linear classifier.

    Parameters
    ----------
    block : BasicBlock or Bottleneck (the class)
    layers : sequence of 4 ints
        Blocks per stage.
    num_classes : int
    zero_init_residual : bool
        Start each block's last batch-norm weight at 0 (each block begins as the identity).
    groups, width_per_group : int
        The 3x3 convolutions of Bottlenecks have ``groups`` groups; ``width_per_group``
        channels per group at 64 planes (ResNeXt-50 32x4d: 32 and 4).
    replace_stride_with_dilation : sequence of 3 bools, optional
        For stages 2-4: keep the resolution and dilate the 3x3 convolutions instead of
        striding (torchvision's option for segmentation backbones; Bottleneck only).
    small_input : bool
        A 3x3 stride-1 stem without max-pool, for 32x32 inputs (not torchvision's).
    norm_layer : callable, optional
        ``nn.BatchNorm2d`` by default.
    se_reduction : int or None
        Put an ``SEBlock`` with this reduction on every residual branch (16: SE-ResNet).
    stochastic_depth_prob : float in [0, 1)
        The last block's drop probability; earlier blocks' decay linearly to 0 (see the
        module docstring). 0: no stochastic depth.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``, H and W at least 32 (or 4 with
    ``small_input``) so layer4 keeps a pixel; 224 for ImageNet.
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1,
                 width_per_group=64, replace_stride_with_dilation=None, small_input=False,
                 norm_layer=None, se_reduction=None, stochastic_depth_prob=0.0):
        super().__init__()
        if block not in (BasicBlock, Bottleneck):
            raise TypeError(f"ResNet: block must be BasicBlock or Bottleneck, got {block!r}")
        if len(layers) != 4:
            raise ValueError(f"ResNet: layers must give the blocks of 4 stages, got {layers!r}")
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError(f"ResNet: replace_stride_with_dilation must be None or 3 bools, "
                             f"got {replace_stride_with_dilation!r}")
        self._norm_layer = nn.BatchNorm2d if norm_layer is None else norm_layer
        self.inplanes, self.dilation = 64, 1
        self.groups, self.base_width = groups, width_per_group
        self.se_reduction = se_reduction
        drop_probs = linear_drop_probs(stochastic_depth_prob, sum(layers))
        if small_input:
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        # An empty Sequential is the identity: no max-pool for small inputs.
        self.maxpool = nn.Sequential() if small_input else nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0], drop_probs)
        self.layer2 = self._make_layer(block, 128, layers[1], drop_probs, stride=2,
                                       dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], drop_probs, stride=2,
                                       dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], drop_probs, stride=2,
                                       dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, drop_probs, stride=1, dilate=False):
        """One stage: a first block that may change the shape, then ``blocks - 1`` more;
        each takes its drop probability from the iterator ``drop_probs``."""
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       self._norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups,
                        self.base_width, previous_dilation, self._norm_layer,
                        se_reduction=self.se_reduction,
                        stochastic_depth_prob=next(drop_probs))]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups,
                                base_width=self.base_width, dilation=self.dilation,
                                norm_layer=self._norm_layer, se_reduction=self.se_reduction,
                                stochastic_depth_prob=next(drop_probs)))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x).flatten(1)  # (N, C, 1, 1) -> (N, C)
        return self.fc(x)


class CifarResNet(nn.Module):
    """He et al.'s ResNet for 32x32 images: 3 stages of BasicBlocks at 16, 32, 64 channels.

    Parameters
    ----------
    depth : int
        ``6 n + 2`` (20, 32, 44, 56, 110, ...): ``n`` blocks per stage.
    num_classes : int
    shortcut : 'A' or 'B'
        How the two shape-changing blocks bypass: 'A' zero-pads (no parameters, the paper's
        CIFAR choice), 'B' projects with a 1x1 convolution and batch norm.
    zero_init_residual : bool
        Start each block's ``bn2.weight`` at 0.
    stochastic_depth_prob : float in [0, 1)
        The last block's drop probability, decaying linearly to 0 at the first (the paper
        trains ResNet-110 with 0.5); 0: no stochastic depth.

    Shapes: ``(N, 3, H, W) -> (N, num_classes)``; 32x32 for CIFAR.
    """

    def __init__(self, depth, num_classes=10, shortcut="A", zero_init_residual=False,
                 stochastic_depth_prob=0.0):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 \
                or (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, "
                             f"110, ...), got {depth!r}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"CifarResNet: shortcut must be 'A' (zero padding) or 'B' (1x1 "
                             f"projection), got {shortcut!r}")
        blocks = (depth - 2) // 6
        self.shortcut = shortcut
        self.inplanes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        drop_probs = linear_drop_probs(stochastic_depth_prob, 3 * blocks)
        self.layer1 = self._make_layer(16, blocks, drop_probs)
        self.layer2 = self._make_layer(32, blocks, drop_probs, stride=2)
        self.layer3 = self._make_layer(64, blocks, drop_probs, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, planes, blocks, drop_probs, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            if self.shortcut == "A":
                downsample = ZeroPadShortcut(self.inplanes, planes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                           nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample,
                             stochastic_depth_prob=next(drop_probs))]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, stochastic_depth_prob=next(drop_probs))
                   for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x).flatten(1)  # (N, 64, 1, 1) -> (N, 64)
        return self.fc(x)


def resnet18(num_classes=1000, **kwargs):
    """ResNet-18 (11,689,512 parameters at 1000 classes). ``kwargs`` go to ``ResNet``."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(num_classes=1000, **kwargs):
    """ResNet-34 (21,797,672 parameters at 1000 classes). ``kwargs`` go to ``ResNet``."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(num_classes=1000, **kwargs):
    """ResNet-50 v1.5 (25,557,032 parameters at 1000 classes). ``kwargs`` go to ``ResNet``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnext50_32x4d(num_classes=1000, **kwargs):
    """ResNeXt-50 32x4d (25,028,904 parameters at 1000 classes): ResNet-50 whose 3x3
    convolutions have 32 groups of 4 channels (x planes / 64). ``kwargs`` go to ``ResNet``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, groups=32,
                  width_per_group=4, **kwargs)


def wide_resnet50_2(num_classes=1000, **kwargs):
    """Wide ResNet-50-2 (68,883,240 parameters at 1000 classes): ResNet-50 with the channels
    inside each bottleneck doubled, torchvision's. ``kwargs`` go to ``ResNet``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, width_per_group=128,
                  **kwargs)


def se_resnet50(num_classes=1000, se_reduction=16, **kwargs):
    """SE-ResNet-50 (28,088,024 parameters at 1000 classes): ResNet-50 v1.5 with an SEBlock
    (reduction 16) on every residual branch. ``kwargs`` go to ``ResNet``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, se_reduction=se_reduction,
                  **kwargs)


def resnet20(num_classes=10, shortcut="A", **kwargs):
    """CIFAR ResNet-20 (269,722 parameters with shortcut 'A', 272,474 with 'B')."""
    return CifarResNet(20, num_classes=num_classes, shortcut=shortcut, **kwargs)


def resnet32(num_classes=10, shortcut="A", **kwargs):
    """CIFAR ResNet-32 (464,154 parameters with shortcut 'A')."""
    return CifarResNet(32, num_classes=num_classes, shortcut=shortcut, **kwargs)


def resnet44(num_classes=10, shortcut="A", **kwargs):
    """CIFAR ResNet-44 (658,586 parameters with shortcut 'A')."""
    return CifarResNet(44, num_classes=num_classes, shortcut=shortcut, **kwargs)


def resnet56(num_classes=10, shortcut="A", **kwargs):
    """CIFAR ResNet-56 (853,018 parameters with shortcut 'A')."""
    return CifarResNet(56, num_classes=num_classes, shortcut=shortcut, **kwargs)
