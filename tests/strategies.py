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
