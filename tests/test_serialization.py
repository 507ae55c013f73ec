"""minicnn.save / minicnn.load: round trips, plain .npz files, no pickle, atomic writes."""

import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim


def small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8, 3))


def assert_tree_equal(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_tree_equal(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_tree_equal(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b)  # NaN equals NaN here


def test_round_trip_of_nested_structures(tmp_path):
    obj = {
        "epoch": 7, "best": 0.93, "name": "run-1", "done": False, "note": None,
        "nan": float("nan"), "betas": (0.9, 0.999), "milestones": [3, 6],
        "state": {0: {"momentum_buffer": np.arange(6, dtype=np.float32).reshape(2, 3),
                      "step": 3},
                  1: {}},
        "count": np.array(5, dtype=np.int64), "scalar": np.float32(1.5),
        "empty": [], "labels": np.array(["cat", "dog"]), "flags": np.array([True, False]),
    }
    minicnn.save(obj, tmp_path / "c.npz")
    assert_tree_equal(minicnn.load(tmp_path / "c.npz"), obj)


def test_model_state_dict_round_trip_and_readable_keys(tmp_path):
    model = small_model()
    model(minicnn.tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(
        np.float32)))
    path = tmp_path / "model.npz"
    minicnn.save(model.state_dict(), path)
    with np.load(path, allow_pickle=False) as archive:  # an ordinary .npz
        assert "0.weight" in archive.files and "1.num_batches_tracked" in archive.files
    loaded = minicnn.load(path)
    assert_tree_equal(loaded, dict(model.state_dict()))
    other = small_model()
    other.load_state_dict(loaded)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, model.state_dict()[key])


def test_tensors_are_saved_as_arrays(tmp_path):
    minicnn.save({"w": nn.Parameter(np.ones(3))}, tmp_path / "t.npz")
    loaded = minicnn.load(tmp_path / "t.npz")
    assert isinstance(loaded["w"], np.ndarray) and loaded["w"].dtype == np.float64


def test_plain_npz_exported_elsewhere_loads_as_a_flat_dict(tmp_path):
    model = small_model()
    exported = {k: v.astype(np.float32) for k, v in small_model().state_dict().items()}
    np.savez(tmp_path / "exported.npz", **exported)
    loaded = minicnn.load(tmp_path / "exported.npz")
    assert list(loaded) == list(exported)
    model.load_state_dict(loaded)
    np.testing.assert_array_equal(model[4].weight.data, exported["4.weight"])


def test_no_pickle_on_load(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.write(tmp_path / "obj.npy", "x.npy")
    with pytest.raises(ValueError, match="not a readable minicnn checkpoint"):
        minicnn.load(tmp_path / "evil.npz")
    with pytest.raises(TypeError, match="dtype object"):
        minicnn.save({"x": np.array([{}], dtype=object)}, tmp_path / "no.npz")


def test_unsupported_values_and_keys_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="cannot save a set \\(at a/b\\)"):
        minicnn.save({"a": {"b": {1, 2}}}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="'/'"):
        minicnn.save({"a/b": np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be str or int"):
        minicnn.save({1.5: np.zeros(1)}, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="both named '0'"):
        minicnn.save({0: np.zeros(1), "0": np.zeros(1)}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file


def test_save_writes_exactly_the_given_path(tmp_path):
    minicnn.save({"a": 1}, tmp_path / "checkpoint")
    assert os.listdir(tmp_path) == ["checkpoint"]
    assert minicnn.load(str(tmp_path / "checkpoint")) == {"a": 1}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_file_gets_the_mode_of_any_new_file(tmp_path, umask):
    """0o666 less the umask (as numpy.savez gives), not mkstemp's owner-only 0o600; also when
    replacing a file."""
    previous = os.umask(umask)
    try:
        for _ in range(2):
            minicnn.save({"a": np.ones(2)}, tmp_path / "c.npz")
            np.save(tmp_path / "reference.npy", np.ones(2))
            mode = os.stat(tmp_path / "c.npz").st_mode & 0o777
            assert mode == 0o666 & ~umask == os.stat(tmp_path / "reference.npy").st_mode & 0o777
    finally:
        os.umask(previous)


def test_truncated_or_missing_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    minicnn.save(small_model().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable minicnn checkpoint"):
        minicnn.load(path)
    with pytest.raises(FileNotFoundError):
        minicnn.load(tmp_path / "missing.npz")


def test_failure_mid_write_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    """An exception after part of the archive is written: the old file is untouched and no
    temporary file is left behind."""
    path = tmp_path / "c.npz"
    old = {"weight": np.ones(3), "step": 1}
    minicnn.save(old, path)
    original_write = np.lib.format.write_array
    written = []

    def failing_write(*args, **kwargs):
        if written:
            raise OSError("disk full (simulated)")
        written.append(True)
        return original_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        minicnn.save({"weight": np.zeros(3), "bias": np.zeros(2)}, path)
    assert written  # it did fail part-way through
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.npz"]
    assert_tree_equal(minicnn.load(path), old)


def test_failure_at_rename_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    minicnn.save({"a": np.ones(2)}, path)

    def failing_replace(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="before rename"):
        minicnn.save({"a": np.zeros(2)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.npz"]
    np.testing.assert_array_equal(minicnn.load(path)["a"], np.ones(2))


def test_process_killed_mid_write_leaves_the_old_checkpoint_intact(tmp_path):
    """A process that dies abruptly (os._exit, no cleanup) half-way through writing: the
    checkpoint still holds the previous save."""
    path = tmp_path / "c.npz"
    minicnn.save({"epoch": 1, "w": np.ones((4, 4))}, path)
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        import minicnn
        original = np.lib.format.write_array
        def dying_write(fp, array, *args, **kwargs):
            original(fp, array, *args, **kwargs)
            fp.flush()
            os._exit(3)   # killed after the first array reached the file
        np.lib.format.write_array = dying_write
        minicnn.save({{"epoch": 2, "w": np.zeros((4, 4)), "v": np.zeros(9)}}, {str(path)!r})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 3, result.stderr.decode()
    leftovers = [name for name in os.listdir(tmp_path) if name != "c.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".c.npz.")  # the abandoned temp
    loaded = minicnn.load(path)
    assert loaded["epoch"] == 1
    np.testing.assert_array_equal(loaded["w"], np.ones((4, 4)))


def test_loading_a_bad_checkpoint_into_a_model_changes_nothing(tmp_path):
    model = small_model()
    before = model.state_dict()
    sd = small_model().state_dict()
    del sd["1.running_var"]
    sd["4.weight"] = np.zeros((3, 9), dtype=np.float32)
    minicnn.save(sd, tmp_path / "bad.npz")
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(minicnn.load(tmp_path / "bad.npz"))
    assert "Missing key(s): '1.running_var'" in str(info.value)
    assert "size mismatch for 4.weight: the checkpoint has shape (3, 9), the module has " \
           "shape (3, 8)" in str(info.value)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_full_training_checkpoint(tmp_path):
    """Model, optimizer and scheduler in one file, as a training loop saves them."""
    model = small_model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(
        np.float32))
    nn.CrossEntropyLoss()(model(x), np.array([0, 2])).backward()
    opt.step()
    sched.step()
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(),
                  "scheduler": sched.state_dict(), "epoch": 1}
    minicnn.save(checkpoint, tmp_path / "ckpt.npz")
    loaded = minicnn.load(tmp_path / "ckpt.npz")
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(loaded["optimizer"]["state"]) == list(range(6))
    assert loaded["scheduler"]["last_lr"] == [0.005]
    opt2 = optim.Adam(small_model().parameters(), lr=0.01)
    opt2.load_state_dict(loaded["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.005 and opt2.param_groups[0]["initial_lr"] == 0.01
