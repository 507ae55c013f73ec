"""The data cache (minicnn/data/cache.py): atomic .npz writes through minicnn.serialization."""

import os

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
