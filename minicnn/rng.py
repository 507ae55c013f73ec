"""The one random number generator behind initialisation, dropout, shuffling and augmentation.

``minicnn.manual_seed(seed)`` replaces it, which makes all of those repeatable.
"""

import numpy as np

from ._checks import is_int

__all__ = ["manual_seed", "get_rng", "get_rng_state", "set_rng_state", "Generator"]

# PyTorch's seed range: a signed or an unsigned 64-bit int; negative seeds wrap modulo 2**64.
MIN_SEED, MAX_SEED = -0x8000_0000_0000_0000, 0xffff_ffff_ffff_ffff

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed minicnn's generator (a fresh ``numpy.random.Generator``) and return it.

    ``seed`` is an int in [-2**63, 2**64 - 1], as in PyTorch; a negative seed means
    ``seed + 2**64`` (so ``manual_seed(-1)`` equals ``manual_seed(2**64 - 1)``).

    Raises TypeError if ``seed`` is not a Python or NumPy int (PyTorch truncates floats and
    takes ``True`` as 1; here those are refused, as everywhere in minicnn), ValueError if it
    is outside that range.
    """
    global _rng
    _rng = np.random.default_rng(_checked_seed(seed, "manual_seed"))
    return _rng


def _checked_seed(seed, name):
    if not is_int(seed):
        raise TypeError(f"{name}: seed must be an int, got {seed!r}")
    if not MIN_SEED <= seed <= MAX_SEED:
        raise ValueError(f"{name}: seed must be an int in [{MIN_SEED}, {MAX_SEED}], "
                         f"got {seed!r}")
    return int(seed) % 2**64


class Generator(np.random.Generator):
    """PyTorch's ``torch.Generator``: a generator of its own, for code that passes one
    (``random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))``).

    It *is* a ``numpy.random.Generator``, so every minicnn function with a ``generator=``
    argument takes it. Its numbers are NumPy's, not PyTorch's, for the same seed.
    """

    def __init__(self, device="cpu"):
        from .device import check_device
        check_device(device, "Generator(): device")
        super().__init__(np.random.PCG64())

    def manual_seed(self, seed):
        """Reseed this generator (PyTorch's seed range) and return it."""
        self.bit_generator.state = np.random.PCG64(_checked_seed(seed, "manual_seed")).state
        return self

    def get_state(self):
        return self.bit_generator.state

    def set_state(self, state):
        self.bit_generator.state = state
        return self


def get_rng():
    """The generator every random operation in minicnn draws from."""
    return _rng


def get_rng_state():
    """The generator's state (a dict), for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by ``get_rng_state``.

    Raises ValueError naming ``state`` if it is not one (NumPy's TypeError, KeyError or
    ValueError otherwise); the generator is then unchanged.
    """
    try:
        _rng.bit_generator.state = state
    except (TypeError, KeyError, ValueError) as e:
        raise ValueError(f"set_rng_state: state must be a dict returned by get_rng_state, "
                         f"got {state!r} ({type(e).__name__}: {e})") from None
