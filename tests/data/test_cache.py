"""The data cache (minicnn/data/cache.py): atomic .npz writes through minicnn.serialization."""

import os
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from minicnn.data.cache import load_arrays, save_arrays


def test_save_creates_the_folder_and_round_trips(tmp_path):
    path = tmp_path / "a" / "b" / "digits.npz"
    save_arrays(path, images=np.arange(6, dtype=np.uint8).reshape(2, 3), labels=np.ones(2))
    loaded = load_arrays(path)
    assert sorted(loaded) == ["images", "labels"] and loaded["images"].dtype == np.uint8
    np.testing.assert_array_equal(loaded["images"], np.arange(6).reshape(2, 3))
    assert os.listdir(path.parent) == ["digits.npz"]  # no temporary file left
    assert load_arrays(tmp_path / "missing.npz") is None


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_cache_files_get_the_mode_of_any_new_file(tmp_path):
    previous = os.umask(0o022)
    try:
        save_arrays(tmp_path / "x.npz", a=np.zeros(1))
    finally:
        os.umask(previous)
    assert os.stat(tmp_path / "x.npz").st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def _npy_declaring(shape):
    """A .npy file (format 1.0) whose header declares ``shape`` of float64 but holds 8 bytes."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}".encode("latin1")
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(8)


@pytest.mark.parametrize("shape", [(1099511627776,), (2**31, 2**31), (2,)])
def test_crafted_header_is_unreadable_not_a_memory_error(tmp_path, shape):
    """A header declaring 8 TB (or more than NumPy can index, or too little) made np.load
    allocate it (MemoryError); one declaring 16 bytes holds 8: the cache treats the file as missing."""
    path = tmp_path / "digits.npz"
    save_arrays(path, images=np.zeros((2, 2)))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images.npy", _npy_declaring(shape))
    tracemalloc.start()
    try:
        assert load_arrays(path) is None
        assert tracemalloc.get_traced_memory()[1] < 10 * 2**20
    finally:
        tracemalloc.stop()


def test_damaged_files_read_as_missing(tmp_path):
    path = tmp_path / "digits.npz"
    save_arrays(path, images=np.arange(600, dtype=np.uint8).reshape(6, 100), labels=np.ones(6))
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    for cut in range(0, len(original), 11):
        path.write_bytes(original[:cut])
        assert load_arrays(path) is None
    for _ in range(200):
        data = bytearray(original)
        data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        path.write_bytes(bytes(data))
        loaded = load_arrays(path)
        assert loaded is None or isinstance(loaded, dict)
    (tmp_path / "folder.npz").mkdir()
    assert load_arrays(tmp_path / "folder.npz") is None
