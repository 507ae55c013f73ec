"""Hypothesis strategies for max pooling with dilation (tests/ops and tests/kernels)."""

from hypothesis import strategies as st

from minicnn.kernels.geometry import output_size


def _axis_ok(n, k, s, p, d, ceil_mode):
    """Whether the axis has at least one window and every window holds an input cell."""
    try:
        out = output_size(n, k, s, p, p, d, ceil_mode=ceil_mode)
    except ValueError:
        return False
    return all(any(0 <= i * s - p + a * d < n for a in range(k)) for i in range(out))


@st.composite
def dilated_pool_settings(draw, max_batch=2, max_channels=2, max_kernel=3, max_dilation=3,
                          max_extra=4):
    """An input shape (N, C, H, W) and ``max_pool2d`` keyword arguments with dilation:
    non-square kernels, strides, dilations and explicit padding (at most half the kernel),
    ``ceil_mode`` either way; only geometries PyTorch and minicnn both accept."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    ceil_mode = draw(st.booleans())
    in_hw = []
    for k, d, s, p in zip(kernel, dilation, stride, padding):
        span = d * (k - 1) + 1
        n = draw(st.integers(max(1, span - 2 * p), span + max_extra)
                 .filter(lambda n, k=k, s=s, p=p, d=d: _axis_ok(n, k, s, p, d, ceil_mode)))
        in_hw.append(n)
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))) + tuple(in_hw)
    return shape, dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                       ceil_mode=ceil_mode)
