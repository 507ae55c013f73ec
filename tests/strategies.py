"""Hypothesis strategies shared by the tests.

Arrays are float64 with *distinct* values by default (a permutation of evenly spaced
numbers plus a small jitter), so max-pooling, max and maximum have no ties and ReLU has no
input at 0: gradient checks never land on a kink.
"""

import numpy as np
from hypothesis import strategies as st


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=5):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


@st.composite
def distinct_arrays(draw, shape, low=-1.0, high=1.0, dtype=np.float64):
    """Values spread evenly over [low, high] in random order: no ties, none at 0."""
    size = int(np.prod(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grid = np.linspace(low, high, size + 2)[1:-1] if size else np.zeros(0)
    grid = grid + (high - low) / (4 * (size + 2)) * rng.uniform(-1, 1, size)  # break symmetry
    grid = np.where(np.abs(grid) < 1e-3, 1e-3 * np.sign(grid) + 1e-3 * (grid == 0), grid)
    return rng.permutation(grid).reshape(shape).astype(dtype)


@st.composite
def arrays(draw, shape, low=-1.0, high=1.0, dtype=np.float64):
    """Uniform random values (ties have probability zero)."""
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


@st.composite
def broadcastable_shapes(draw, max_dims=4, max_side=4):
    """Two shapes that broadcast together, with size-1 axes and missing leading axes."""
    full = draw(shapes(1, max_dims, 1, max_side))

    def thin(s):
        keep = draw(st.integers(0, len(s)))  # drop leading axes
        s = s[len(s) - keep:]
        return tuple(1 if draw(st.booleans()) else n for n in s)

    return thin(full) or (1,), thin(full) or (1,)


# ----------------------------------------------------------------------------- autograd core ops


@st.composite
def distinct_pair(draw, shape_a, shape_b, low=-1.0, high=1.0, dtype=np.float64):
    """Two arrays whose values are all distinct, from each other too: maximum(a, b) and
    minimum(a, b) never meet a tie."""
    size_a = int(np.prod(shape_a))
    both = draw(distinct_arrays((size_a + int(np.prod(shape_b)),), low, high, dtype))
    return both[:size_a].reshape(shape_a), both[size_a:].reshape(shape_b)


@st.composite
def axes(draw, ndim, allow_none=True):
    """A reduction's ``axis``: None, one axis, or a tuple of distinct axes (negatives mixed in)."""
    kinds = ["none", "int", "tuple"] if allow_none else ["int", "tuple"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


@st.composite
def matmul_shapes(draw, max_batch_dims=2, max_side=4):
    """Shapes ``(a, b)`` for ``a @ b``: either may be a vector; batch axes broadcast (an
    operand may lack some leading batch axes or have size 1 there)."""
    m, k, p = (draw(st.integers(1, max_side)) for _ in range(3))
    batch = draw(shapes(0, max_batch_dims, 1, 3))

    def thin(batch_shape):
        keep = draw(st.integers(0, len(batch_shape)))
        kept = batch_shape[len(batch_shape) - keep:]
        return tuple(1 if draw(st.booleans()) else n for n in kept)

    a = (k,) if draw(st.booleans()) and draw(st.booleans()) else thin(batch) + (m, k)
    b = (k,) if draw(st.booleans()) and draw(st.booleans()) else thin(batch) + (k, p)
    return a, b


@st.composite
def pad_widths(draw, ndim, max_width=2):
    """A PyTorch-style ``pad`` tuple: (before, after) pairs for up to ``ndim`` trailing axes."""
    pairs = draw(st.integers(1, ndim))
    return tuple(draw(st.integers(0, max_width)) for _ in range(2 * pairs))


@st.composite
def clip_bounds(draw, values):
    """``(min, max)`` for clip, each None or halfway between two neighbouring values of the
    array, so no element sits on a bound (where the gradient jumps)."""
    points = np.concatenate([[values.min() - 1.0], np.sort(values.ravel()),
                             [values.max() + 1.0]])
    midpoints = (points[1:] + points[:-1]) / 2
    i, j = sorted(draw(st.lists(st.integers(0, len(midpoints) - 1), min_size=2, max_size=2)))
    low = None if draw(st.booleans()) else float(midpoints[i])
    high = None if low is not None and draw(st.booleans()) else float(midpoints[j])
    return low, high


@st.composite
def pool_settings(draw, max_batch=2, max_channels=3, max_kernel=4, max_stride=3, max_extra=5):
    """An input shape (N, C, H, W) and ``max_pool2d``/``avg_pool2d`` keyword arguments.

    Kernels and strides are non-square; padding is explicit (at most half the kernel on
    each side, PyTorch's limit), 'valid' or 'same' (odd totals make it asymmetric);
    ``ceil_mode`` either way. H and W are drawn so the kernel fits the padded input.
    """
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = draw(st.none() | st.tuples(st.integers(1, max_stride), st.integers(1, max_stride)))
    padding = draw(st.sampled_from(["same", "valid"])
                   | st.tuples(st.integers(0, kernel[0] // 2), st.integers(0, kernel[1] // 2)))
    padded_extra = (0, 0) if isinstance(padding, str) else (2 * padding[0], 2 * padding[1])
    in_hw = tuple(draw(st.integers(max(1, k - extra), k + max_extra))
                  for k, extra in zip(kernel, padded_extra))
    shape = (draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))) + in_hw
    return shape, dict(kernel_size=kernel, stride=stride, padding=padding,
                       ceil_mode=draw(st.booleans()))


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def conv_geometries(draw, max_batch=2, max_channels=4, max_side=7, max_kernel=4,
                    max_stride=3, max_dilation=2):
    """A valid conv2d configuration: ``dict(x_shape, weight_shape, stride, padding, dilation,
    groups)``.

    Non-square kernels and strides, dilation, every padding form (int, ``(ph, pw)``,
    ``((top, bottom), (left, right))``, 'valid', 'same', which is asymmetric for even
    kernels and for strides > 1), and ``groups`` drawn from the divisors of both channel
    counts (so depthwise, ``groups == C_in``, comes up too). Kernels that do not fit the
    padded input are rejected.
    """
    from hypothesis import assume

    from minicnn.kernels.geometry import resolve_padding

    c_in = draw(st.integers(1, max_channels))
    c_out = c_in * draw(st.integers(1, 2)) if draw(st.booleans()) else draw(
        st.integers(1, max_channels))
    groups = draw(st.sampled_from(_divisors(np.gcd(c_in, c_out))))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    pad = st.integers(0, 2)
    padding = draw(st.one_of(pad, st.tuples(pad, pad),
                             st.tuples(st.tuples(pad, pad), st.tuples(pad, pad)),
                             st.sampled_from(["valid", "same"])))
    hw = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    pads = resolve_padding(padding, hw, kernel, stride, dilation)
    assume(all(d * (k - 1) + 1 <= n + sum(p) for n, k, d, p in zip(hw, kernel, dilation, pads)))
    return dict(x_shape=(draw(st.integers(1, max_batch)), c_in) + hw,
                weight_shape=(c_out, c_in // groups) + kernel,
                stride=stride, padding=padding, dilation=dilation, groups=int(groups))


@st.composite
def conv_transpose_geometries(draw, max_batch=2, max_channels=4, max_side=5, max_kernel=4,
                              max_stride=3, max_dilation=3):
    """A valid conv_transpose2d configuration, PyTorch's forms: ``dict(x_shape,
    weight_shape (C_in, C_out // groups, KH, KW), stride, padding (ph, pw), output_padding,
    dilation, groups)``; output_padding below the stride or the dilation (PyTorch's rule, so
    it may exceed the stride when the dilation is larger), outputs of at least one cell."""
    from hypothesis import assume

    c_in = draw(st.integers(1, max_channels))
    c_out = draw(st.integers(1, max_channels))
    groups = draw(st.sampled_from(_divisors(np.gcd(c_in, c_out))))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    hw = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    assume(all((n - 1) * s - 2 * p + d * (k - 1) + o + 1 >= 1 for n, s, p, d, k, o in
               zip(hw, stride, padding, dilation, kernel, output_padding)))
    return dict(x_shape=(draw(st.integers(1, max_batch)), c_in) + hw,
                weight_shape=(c_in, c_out // groups) + kernel, stride=stride, padding=padding,
                output_padding=output_padding, dilation=dilation, groups=int(groups))
