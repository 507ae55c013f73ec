"""Upsampling layers: ``Upsample`` (``F.interpolate``) and its two fixed-mode forms."""

from .. import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resize the spatial axes, as PyTorch's ``nn.Upsample`` (see ``F.interpolate``).

    Parameters
    ----------
    size : int or tuple of int, optional
    scale_factor : float or tuple of float, optional
        Give one of size and scale_factor.
    mode : 'nearest', 'linear', 'bilinear' or 'trilinear'
    align_corners : bool, optional (linear modes; None means False)
    recompute_scale_factor : bool, optional

    Shapes: ``(N, C, H, W)`` -> ``(N, C, OH, OW)`` (and likewise for 1 or 3 spatial axes).
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size = tuple(size) if isinstance(size, (tuple, list)) else size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` on ``(N, C, H, W)`` images."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (PyTorch's
    choice for this older layer: corners aligned, unlike ``interpolate``'s default)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
