"""Cases for ``interpolate`` (nearest and linear, both align_corners, size or scale_factor)
and ``pad``'s reflect, replicate and circular modes and constant crops, small and float64."""

from minicnn import functional as F

from ._inputs import rand


def cases(rng):
    x = rand(rng, 2, 3, 4, 5)
    yield "interpolate nearest x2", lambda t: F.interpolate(t, scale_factor=2), [x]
    yield "interpolate nearest scale 1.7 (index floor(o / 1.7))", (
        lambda t: F.interpolate(t, scale_factor=1.7)), [rand(rng, 1, 2, 4, 5)]
    yield "interpolate nearest down to (3, 2)", (
        lambda t: F.interpolate(t, size=(3, 2))), [rand(rng, 1, 2, 4, 5)]
    yield "interpolate bilinear x2 (align_corners=False)", (
        lambda t: F.interpolate(t, scale_factor=2, mode="bilinear")), [rand(rng, 1, 2, 4, 5)]
    yield "interpolate bilinear size (7, 3), align_corners=True", (
        lambda t: F.interpolate(t, size=(7, 3), mode="bilinear", align_corners=True)), [
        rand(rng, 1, 2, 4, 5)]
    yield "interpolate bilinear scale (0.6, 1.5)", (
        lambda t: F.interpolate(t, scale_factor=(0.6, 1.5), mode="bilinear")), [
        rand(rng, 1, 2, 5, 4)]
    yield "interpolate linear (3-D) x2.5", (
        lambda t: F.interpolate(t, scale_factor=2.5, mode="linear")), [rand(rng, 2, 2, 5)]
    yield "pad reflect (1, 2, 3, 0)", (
        lambda t: F.pad(t, (1, 2, 3, 0), mode="reflect")), [rand(rng, 2, 2, 4, 3)]
    yield "pad replicate (2, 1, 0, 3)", (
        lambda t: F.pad(t, (2, 1, 0, 3), mode="replicate")), [rand(rng, 1, 2, 3, 4)]
    yield "pad circular (3, 1, 2, 2)", (
        lambda t: F.pad(t, (3, 1, 2, 2), mode="circular")), [rand(rng, 1, 2, 3, 4)]
    yield "pad reflect 1-D (2, 1)", lambda t: F.pad(t, (2, 1), mode="reflect"), [rand(rng, 2, 4)]
    yield "pad constant with crops (-1, 2, 1, -2)", (
        lambda t: F.pad(t, (-1, 2, 1, -2), value=0.5)), [rand(rng, 1, 2, 4, 4)]
