"""Dense blocks (Huang, Liu, van der Maaten & Weinberger, 2017, "Densely Connected
Convolutional Networks", arXiv:1608.06993), the DenseNet-BC form torchvision builds.

Inside a dense block every layer reads the concatenation of the block's input and of all
earlier layers' outputs, and adds ``growth_rate`` (k) new channels of its own:

    x_0 = input                                  (N, C_0, H, W)
    x_l = H_l(cat(x_0, ..., x_{l-1}))            (N, k, H, W), reading C_0 + (l - 1) k channels
    out = cat(x_0, x_1, ..., x_L)                (N, C_0 + L k, H, W)

Features are reused instead of relearned, so each layer can be narrow (k = 32 in
DenseNet-121), and every layer is a short path from the loss. The backward of ``cat``
slices the gradient back to each piece; a feature read by many later layers receives the
sum of their gradients (the autograd engine accumulates them).

Blocks (attribute names are torchvision's, so its ``state_dict`` keys match)
    DenseLayer   H_l, pre-activation with a bottleneck ("-B"): norm1 - relu1 - conv1 (1x1,
                 ``bn_size * k`` channels) - norm2 - relu2 - conv2 (3x3, k channels), then
                 dropout with ``drop_rate`` (0 in DenseNet-121).
    DenseBlock   ``num_layers`` DenseLayers named ``denselayer1``, ``denselayer2``, ...
    Transition   between dense blocks ("-C", compression 0.5): norm - relu - conv (1x1,
                 halves the channels) - pool (2x2 average, stride 2, halves H and W).

torchvision's layers take the list of earlier features and concatenate it themselves (so
that its memory-efficient option can recompute the concatenation); here the block
concatenates and a layer takes one tensor: the same arithmetic.
"""

from collections import OrderedDict

from ... import functional as F
from ... import nn

__all__ = ["DenseLayer", "DenseBlock", "Transition"]


class DenseLayer(nn.Module):
    """BN - ReLU - 1x1 conv (``bn_size * growth_rate``) - BN - ReLU - 3x3 conv (``growth_rate``).

    Parameters
    ----------
    num_input_features : int
        Channels of the concatenated input.
    growth_rate : int
        k, the channels this layer adds.
    bn_size : int
        The 1x1 bottleneck has ``bn_size * growth_rate`` channels (4 in the paper).
    drop_rate : float
        Dropout probability on the new features in training (0: none).

    Shapes: ``(N, num_input_features, H, W) -> (N, growth_rate, H, W)``.
    """

    def __init__(self, num_input_features, growth_rate, bn_size=4, drop_rate=0.0):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1,
                               bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1,
                               bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, x):
        bottleneck = self.conv1(self.relu1(self.norm1(x)))  # (N, bn_size * k, H, W)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))  # (N, k, H, W)
        if self.drop_rate > 0:
            new_features = F.dropout(new_features, p=self.drop_rate, training=self.training)
        return new_features


class DenseBlock(nn.Module):
    """``num_layers`` DenseLayers, each reading all the features before it.

    Parameters
    ----------
    num_layers : int
    num_input_features : int
        C_0, the block's input channels.
    bn_size, growth_rate, drop_rate
        As for ``DenseLayer``.

    Shapes: ``(N, C_0, H, W) -> (N, C_0 + num_layers * growth_rate, H, W)``.
    """

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate=0.0):
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size,
                               drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x):
        features = [x]
        for layer in self.children():
            features.append(layer(F.cat(features, axis=1)))
        return F.cat(features, axis=1)


class Transition(nn.Sequential):
    """BN - ReLU - 1x1 conv - 2x2 average pool: between two dense blocks.

    Parameters
    ----------
    num_input_features, num_output_features : int
        DenseNet-BC halves the channels (``num_output_features = num_input_features // 2``).

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H // 2, W // 2)``.
    """

    def __init__(self, num_input_features, num_output_features):
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(num_input_features)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1,
                               bias=False)),
            ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
        ]))
