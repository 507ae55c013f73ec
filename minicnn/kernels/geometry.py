"""Output sizes and padding: the only place minicnn computes them.

For one spatial axis with input size ``n``, kernel ``k``, stride ``s``, dilation ``d`` and
padding ``p_before``/``p_after`` the window spans ``d * (k - 1) + 1`` cells, and

    out = floor((n + p_before + p_after - d * (k - 1) - 1) / s) + 1

``ceil_mode`` (pooling) rounds up instead, but a last window that would *start* in the right
padding is dropped (PyTorch): ``if (out - 1) * s >= n + p_before: out -= 1``.

'valid' means no padding. 'same' (TensorFlow's rule, for any stride) gives
``out = ceil(n / s)`` and pads

    total  = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    before = total // 2,  after = total - before     (the odd cell goes bottom/right)

e.g. n=224, k=7, s=2 -> out 112, padding (2, 3). For stride 1 this equals PyTorch's 'same'.

A transposed convolution (the input gradient of the convolution above) maps ``n`` inputs to

    out = (n - 1) * s - p_before - p_after + d * (k - 1) + output_padding + 1

cells: the full scatter spans ``(n - 1) * s + d * (k - 1) + 1``, the padding is cut off and
``output_padding`` extra cells are added at the end (``transposed_output_size``).

Kernel sizes, strides, dilations and paddings must be below ``SIZE_LIMIT`` (2**31, the
int32 range PyTorch's kernels take): larger ones describe no real computation, and their
products (a window's padded area, an offset ``o * s + k * d``) must stay far inside int64,
which the Numba kernels compute in.
"""

from .._checks import is_int

__all__ = ["SIZE_LIMIT", "pair", "output_size", "transposed_output_size", "same_padding",
           "resolve_padding", "conv_output_size"]

SIZE_LIMIT = 2**31


def pair(value, name, minimum=1):
    """An int or a pair of ints (Python or NumPy) as an ``(h, w)`` tuple of ints from
    ``minimum`` (1: positive; 0 for output_padding) to below ``SIZE_LIMIT``."""
    given = value  # what the messages show
    if is_int(value):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(is_int(v) for v in value)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {given!r}")
    if min(value) < minimum:
        raise ValueError(f"{name} must be {'positive' if minimum == 1 else 'non-negative'}, "
                         f"got {given!r}")
    _check_limit(value, name, given)
    return int(value[0]), int(value[1])


def _check_limit(values, name, given):
    if max(values) >= SIZE_LIMIT:
        raise ValueError(f"{name} must be below 2**31, got {given!r}")


def output_size(n, kernel, stride=1, pad_before=0, pad_after=0, dilation=1, ceil_mode=False):
    """Output size along one axis (see the module docstring for the formula)."""
    span = dilation * (kernel - 1) + 1
    room = n + pad_before + pad_after - span
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + pad_before:
        out -= 1
    # ceil_mode lets one window overhang the padded input (PyTorch's rule: out >= 1)
    if out < 1:
        raise ValueError(f"kernel size {kernel} (dilation {dilation}, spanning {span}) is larger "
                         f"than the padded input size {n + pad_before + pad_after}")
    return out


def transposed_output_size(n, kernel, stride=1, pad_before=0, pad_after=0, output_padding=0,
                           dilation=1):
    """Output size of a transposed convolution along one axis (the module docstring's formula)."""
    out = (n - 1) * stride - pad_before - pad_after + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"input size {n} gives output size {out} (kernel size {kernel}, stride "
                         f"{stride}, padding ({pad_before}, {pad_after}), output_padding "
                         f"{output_padding}, dilation {dilation}): output size is too small")
    return out


def same_padding(n, kernel, stride=1, dilation=1):
    """TensorFlow's 'same' padding ``(before, after)`` along one axis: ``out = ceil(n / s)``."""
    out = -(-n // stride)  # ceil(n / stride) in integers: exact for any size
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def resolve_padding(padding, in_hw, kernel_hw, stride_hw=(1, 1), dilation_hw=(1, 1)):
    """Any accepted padding spec as ``((top, bottom), (left, right))``.

    Accepts an int, ``(ph, pw)``, ``((top, bottom), (left, right))``, 'valid' or 'same'.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            return tuple(same_padding(n, k, s, d)
                         for n, k, s, d in zip(in_hw, kernel_hw, stride_hw, dilation_hw))
        raise ValueError(f"padding must be an int, a pair, a pair of pairs, 'valid' or 'same'; "
                         f"got the string {padding!r}")
    if is_int(padding):
        padding = (padding, padding)
    try:
        pads = tuple((p, p) if is_int(p) else tuple(p) for p in padding)
        ok = len(pads) == 2 and all(len(p) == 2 and all(is_int(v) for v in p)
                                    for p in pads)
    except TypeError:
        ok = False
    if not ok:
        raise TypeError(f"padding must be an int, (ph, pw), ((top, bottom), (left, right)), "
                        f"'valid' or 'same'; got {padding!r}")
    if min(min(p) for p in pads) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    _check_limit(sum(pads, ()), "padding", padding)
    return tuple((int(before), int(after)) for before, after in pads)


def conv_output_size(in_size, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Output ``(OH, OW)`` of a convolution or pooling on an ``(H, W)`` input.

    Parameters take every form ``conv2d``/``max_pool2d`` accept (ints, pairs, 'same', ...).
    ``in_size`` may be an int for a square input.

    >>> conv_output_size(224, 7, stride=2, padding='same')
    (112, 112)
    >>> conv_output_size((32, 32), 5)
    (28, 28)
    """
    in_hw = pair(in_size, "in_size")
    kernel_hw, stride_hw = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    dilation_hw = pair(dilation, "dilation")
    pads = resolve_padding(padding, in_hw, kernel_hw, stride_hw, dilation_hw)
    return tuple(output_size(n, k, s, p[0], p[1], d, ceil_mode)
                 for n, k, s, p, d in zip(in_hw, kernel_hw, stride_hw, pads, dilation_hw))
