"""The Fire module of SqueezeNet (Iandola et al., 2016, "SqueezeNet: AlexNet-level accuracy
with 50x fewer parameters and <0.5MB model size", arXiv:1602.07360).

A Fire module first *squeezes* the channels with 1x1 convolutions (``s`` of them, fewer
than its input channels), then *expands* in two parallel branches, ``e1`` 1x1 and ``e3``
3x3 convolutions (padding 1, so both keep the size), and concatenates them along the
channels:

    s   = relu(squeeze(x))                        (N, C_in, H, W) -> (N, s, H, W)
    out = cat([relu(expand1x1(s)), relu(expand3x3(s))], axis=1)
                                                  -> (N, e1 + e3, H, W)

Squeezing first means the 3x3 kernels see ``s`` channels instead of ``C_in``: the module
costs ``C_in*s + s*e1 + 9*s*e3`` weights (plus biases) instead of ``9*C_in*(e1 + e3)`` for one
3x3 layer of the same width. Backward: the concatenation splits the upstream gradient
into the two branches' channels, and the squeeze output receives the sum of what the two
branches send back.

Attribute names are torchvision's (``squeeze``, ``expand1x1``, ``expand3x3`` and their
``*_activation``), so ``state_dict`` keys match and its weights load.
"""

from ... import functional as F
from ... import nn

__all__ = ["Fire"]


class Fire(nn.Module):
    """Squeeze (1x1) then expand (1x1 and 3x3 side by side, concatenated), ReLU after each.

    Parameters
    ----------
    inplanes : int
        Input channels.
    squeeze_planes : int
        Channels after the 1x1 squeeze.
    expand1x1_planes, expand3x3_planes : int
        Channels of the two expand branches; the module outputs their sum.

    Shapes: ``(N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W)``.
    """

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return F.cat([self.expand1x1_activation(self.expand1x1(x)),
                      self.expand3x3_activation(self.expand3x3(x))], axis=1)
