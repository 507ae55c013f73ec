"""The on-disk cache: where minicnn keeps data it generates or computes once.

The folder is ``$MINICNN_CACHE`` if set, else ``~/.cache/minicnn``. Files are written
atomically (to a temporary file in the same folder, then renamed), so a reader never sees a
half-written file, and a file that fails to load is treated as missing.
"""

import os
from pathlib import Path

from ..serialization import read_npz, write_npz

__all__ = ["cache_dir", "save_arrays", "load_arrays"]


def cache_dir():
    """The cache folder (``$MINICNN_CACHE`` or ``~/.cache/minicnn``); not created here."""
    return Path(os.environ.get("MINICNN_CACHE") or "~/.cache/minicnn").expanduser()


def save_arrays(path, **arrays):
    """Write ``arrays`` to the ``.npz`` file ``path`` atomically (``minicnn.serialization.
    write_npz``), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_npz(path, arrays)


def load_arrays(path):
    """The arrays of the ``.npz`` file ``path`` as a dict, or ``None`` if it is missing or
    unreadable (truncated, bad checksum, not an npz, sizes that do not add up: see
    ``minicnn.serialization.read_npz``, which checks them before allocating)."""
    try:
        return read_npz(path)
    except (OSError, ValueError):
        return None
