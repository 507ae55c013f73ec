"""Cases for ``conv2d`` (every padding form and mode) and ``conv_transpose2d`` (strides,
paddings, output_padding, dilation, groups), small and float64."""

from minicnn import functional as F

from ._inputs import rand


def _case(rng, x_shape, weight_shape, bias=True, **settings):
    inputs = [rand(rng, *x_shape), rand(rng, *weight_shape)]
    if bias:
        inputs.append(rand(rng, weight_shape[0]))
    return (lambda *t: F.conv2d(*t, **settings)), inputs


def _transposed_case(rng, x_shape, weight_shape, bias=True, **settings):
    inputs = [rand(rng, *x_shape), rand(rng, *weight_shape)]
    if bias:
        inputs.append(rand(rng, weight_shape[1] * settings.get("groups", 1)))
    return (lambda *t: F.conv_transpose2d(*t, **settings)), inputs


def cases(rng):
    yield "conv2d 3x3 pad 1", *_case(rng, (2, 3, 5, 5), (4, 3, 3, 3), padding=1)
    yield "conv2d stride 2, last row uncovered", *_case(rng, (1, 2, 6, 6), (3, 2, 3, 3),
                                                        stride=2)
    yield "conv2d 'same' stride 2, pads (0, 1), (1, 2)", *_case(rng, (1, 2, 6, 7), (2, 2, 3, 4),
                                                              stride=2, padding="same")
    yield "conv2d dilation 2", *_case(rng, (1, 2, 7, 7), (2, 2, 3, 3), dilation=2, padding=2)
    yield "conv2d grouped (groups=2)", *_case(rng, (1, 4, 5, 5), (6, 2, 3, 3), groups=2,
                                              padding=1)
    yield "conv2d depthwise x2 (groups=C_in=3)", *_case(rng, (2, 3, 5, 5), (6, 1, 3, 3),
                                                        groups=3, padding=1)
    yield "conv2d 1x7 non-square", *_case(rng, (1, 2, 4, 9), (2, 2, 1, 7), padding=(0, 3))
    yield "conv2d 7x1 stride (2, 1)", *_case(rng, (1, 2, 9, 3), (2, 2, 7, 1), stride=(2, 1))
    yield "conv2d pointwise 1x1", *_case(rng, (2, 4, 3, 3), (3, 4, 1, 1))
    yield "conv2d no bias, ((1, 0), (0, 2)) padding", *_case(rng, (1, 2, 4, 4), (3, 2, 2, 3),
                                                             bias=False,
                                                             padding=((1, 0), (0, 2)))
    yield "conv_transpose2d 3x3", *_transposed_case(rng, (2, 3, 4, 4), (3, 2, 3, 3))
    yield "conv_transpose2d 4x4 stride 2 pad 1 (DCGAN)", *_transposed_case(
        rng, (1, 3, 3, 3), (3, 2, 4, 4), stride=2, padding=1)
    yield "conv_transpose2d stride (2, 3), output_padding (1, 2)", *_transposed_case(
        rng, (1, 2, 3, 2), (2, 2, 3, 2), stride=(2, 3), output_padding=(1, 2))
    yield "conv_transpose2d dilation 2, output_padding 1 (< dilation)", *_transposed_case(
        rng, (1, 2, 3, 3), (2, 3, 2, 3), dilation=2, output_padding=1, padding=(1, 0))
    yield "conv_transpose2d grouped (groups=2), no bias", *_transposed_case(
        rng, (2, 4, 3, 3), (4, 3, 3, 1), bias=False, groups=2, stride=2, padding=1)
    yield "conv_transpose2d depthwise (groups=C=3)", *_transposed_case(
        rng, (1, 3, 3, 4), (3, 1, 2, 2), groups=3, stride=2)
