"""The one random number generator behind initialisation, dropout, shuffling and augmentation.

``minicnn.manual_seed(seed)`` replaces it, which makes all of those repeatable.
"""

import numpy as np

__all__ = ["manual_seed", "get_rng", "get_rng_state", "set_rng_state"]

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed minicnn's generator (a fresh ``numpy.random.Generator``)."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng():
    """The generator every random operation in minicnn draws from."""
    return _rng


def get_rng_state():
    """The generator's state (a dict), for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by ``get_rng_state``."""
    _rng.bit_generator.state = state
