"""minicnn.save / minicnn.load: round trips, plain .npz files, no pickle, atomic writes."""

import errno
import os
import re
import struct
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim, serialization

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


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
    for key in [1.5, True, np.int64(0), (1, 2), None, b"bytes"]:
        with pytest.raises(TypeError, match=re.escape(f"keys must be str or int, got {key!r} "
                                                      f"(a {type(key).__name__}) at a")):
            minicnn.save({"a": {key: np.zeros(1)}}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file


ODD_KEYS = ["file", "allow_pickle", "args", "kwds", "compress", "a/b", "/a", "a/", "a//b",
            "..", "../../etc/passwd", "a.b", "x.npy", "", " ", "\x00", "a\x00b", "back\\slash",
            "ключ/値", "\U0001f600", "\ud800", "k" * 5000, "~", "array~1", "__minicnn_tree__",
            "__minicnn_tree__.npy"]


def test_any_string_key_round_trips(tmp_path):
    """np.savez(**arrays) dropped 'allow_pickle' silently and failed on 'file'; '/' was
    refused. Every str key, at every level, comes back; int keys keep their type."""
    rng = np.random.default_rng(0)
    obj = {key: rng.standard_normal(2) for key in ODD_KEYS}
    obj["nested"] = {key: [rng.standard_normal(1), {key: np.float32(i)}]
                     for i, key in enumerate(ODD_KEYS)}
    obj["paths that collide"] = {"a/b": np.ones(1), "a": {"b": np.zeros(1)}, "a/b~1": np.ones(2),
                                 0: np.ones(3), "0": np.zeros(3)}
    obj["values"] = {key: key for key in ODD_KEYS}
    minicnn.save(obj, tmp_path / "c.npz")
    assert_tree_equal(minicnn.load(tmp_path / "c.npz"), obj)
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        # still a plain .npz whose ordinary names read as their key paths
        assert {"file", "allow_pickle", "a.b", "nested/file/0", "paths that collide/a/b",
                "paths that collide/0", "paths that collide/0~1"} <= set(archive.files)
        np.testing.assert_array_equal(archive["allow_pickle"], obj["allow_pickle"])


def test_nesting_depth_limit(tmp_path):
    deepest = np.ones(1)
    for level in range(serialization.MAX_DEPTH):
        deepest = [deepest] if level % 2 else {"k": deepest}
    minicnn.save(deepest, tmp_path / "deep.npz")
    assert_tree_equal(minicnn.load(tmp_path / "deep.npz"), deepest)
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        minicnn.save([deepest], tmp_path / "deeper.npz")
    itself = {"a": 1}
    itself["self"] = itself
    with pytest.raises(ValueError, match="does a container hold itself"):
        minicnn.save(itself, tmp_path / "loop.npz")
    assert sorted(os.listdir(tmp_path)) == ["deep.npz"]


def test_files_of_the_previous_format_still_load():
    """tests/fixtures/minicnn_checkpoint_v0.npz was written by minicnn.save at commit 7110706
    (np.savez(**arrays) with the same tree record): it loads unchanged."""
    loaded = minicnn.load(os.path.join(FIXTURES, "minicnn_checkpoint_v0.npz"))
    expected = {
        "epoch": 3, "best": 0.625, "name": "run-1", "done": True, "note": None,
        "betas": (0.9, 0.999), "milestones": [3, 6],
        "model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "0.bias": np.array([0.5, -1.5], np.float32),
                  "1.num_batches_tracked": np.array(7, np.int64)},
        "optimizer": {"state": {0: {"momentum_buffer": np.full((2, 3), 0.25, np.float32),
                                    "step": 3}},
                      "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
        "scalar": np.float64(2.5), "labels": np.array(["cat", "dog"])}
    assert_tree_equal(loaded, expected)


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
    checkpoint still holds the previous save, and the next save removes the abandoned
    temporary file (its writer is gone)."""
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
    assert len(leftovers) == 1 and leftovers[0].startswith(".c.npz~")  # the abandoned temp
    loaded = minicnn.load(path)
    assert loaded["epoch"] == 1
    np.testing.assert_array_equal(loaded["w"], np.ones((4, 4)))
    minicnn.save({"epoch": 3}, path)
    assert os.listdir(tmp_path) == ["c.npz"]


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="process liveness is checked on POSIX only")
def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    """What the next save to the same file removes: temporaries whose writer process is dead,
    and any untouched for STALE_TEMPORARY_SECONDS (a writer on another machine, or the
    '.NAME.<hex>.tmp' of earlier versions). Kept: those of live writers (this process's
    other threads, another process), recent ones from another machine, other targets'."""
    name = "checkpoint-" + "x" * 200 + ".npz"
    prefix = serialization._temporary_prefix(name)
    here = serialization._host_tag()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        old = time.time() - serialization.STALE_TEMPORARY_SECONDS - 10
        files = {  # name -> (mtime or None, removed?)
            f"{prefix}{here}~{_dead_pid()}~00000001.tmp": (None, True),
            f"{prefix}{here}~{live.pid}~00000002.tmp": (None, False),
            f"{prefix}{here}~{os.getpid()}~00000003.tmp": (None, False),
            f"{prefix}{here}~{live.pid}~00000004.tmp": (old, True),
            f"{prefix}otherhost~{_dead_pid()}~00000005.tmp": (None, False),
            f"{prefix}otherhost~1~00000006.tmp": (old, True),
            f".{name}.0123456789ab.tmp": (old, True),
            f".{name}.0123456789ac.tmp": (None, False),
            f"{serialization._temporary_prefix('other.npz')}{here}~{_dead_pid()}~7.tmp":
                (None, False),
            f".{name}.notatemporary.tmp": (old, False),
        }
        for file_name, (mtime, _) in files.items():
            (tmp_path / file_name).write_bytes(b"partial")
            if mtime is not None:
                os.utime(tmp_path / file_name, (mtime, mtime))
        minicnn.save({"a": 1}, tmp_path / name)
    finally:
        live.kill()
        live.wait()
    expected = {file_name for file_name, (_, removed) in files.items() if not removed}
    assert set(os.listdir(tmp_path)) == expected | {name}
    assert minicnn.load(tmp_path / name) == {"a": 1}


def test_concurrent_savers_do_not_remove_each_others_temporaries(tmp_path):
    path = tmp_path / "c.npz"
    errors = []

    def saver(value):
        try:
            for _ in range(20):
                minicnn.save({"w": np.full(1000, value)}, path)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=saver, args=(v,)) for v in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert os.listdir(tmp_path) == ["c.npz"]
    assert minicnn.load(path)["w"][0] in range(4)


@pytest.mark.parametrize("name", ["./cifar_net.pth", "cifar_net.pth", "checkpoint", "c.npz.tmp",
                                  "x" * 255, "ü" * 127, "with space.pt"])
def test_save_and_load_under_any_file_name(tmp_path, monkeypatch, name):
    """The file is written exactly at the path given (np.savez would append '.npz' to
    'cifar_net.pth'), and names up to the 255-byte limit work (the temporary file's name
    was longer than the destination's)."""
    monkeypatch.chdir(tmp_path)
    state = small_model().state_dict()
    minicnn.save(state, name)
    assert os.listdir(tmp_path) == [os.path.basename(name)]
    assert_tree_equal(minicnn.load(name), dict(state))


def test_save_errors_name_the_destination(tmp_path, monkeypatch):
    def assert_names_destination(info, path):
        assert info.value.filename == str(path), info.value
        assert ".tmp" not in str(info.value)

    with pytest.raises(FileNotFoundError) as info:  # the folder does not exist
        minicnn.save({"a": 1}, tmp_path / "missing" / "c.npz")
    assert_names_destination(info, tmp_path / "missing" / "c.npz")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        minicnn.save({"a": 1}, tmp_path / "folder")
    assert_names_destination(info, tmp_path / "folder")
    with pytest.raises(OSError, match="File name too long") as info:
        minicnn.save({"a": 1}, tmp_path / ("x" * 256))
    assert_names_destination(info, tmp_path / ("x" * 256))

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left") as info:
        minicnn.save({"a": 1}, tmp_path / "c.npz")
    monkeypatch.undo()
    assert_names_destination(info, tmp_path / "c.npz")
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(ValueError, match="names a folder"):
        minicnn.save({"a": 1}, str(tmp_path) + os.sep)
    assert sorted(os.listdir(tmp_path)) == ["folder"]  # no temporary left behind


# --- damaged, crafted and foreign files: always a ValueError naming the file ------------

def _npy(header, data=b""):
    """A .npy file (format 1.0) with the given header dict text."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _tree(text):
    return np.array(text)


def _crafted_files(tmp_path):
    """name -> path of files that are not valid checkpoints, each of a kind that raised
    something other than ValueError (KeyError, TypeError, RecursionError, MemoryError, ...)."""
    def with_tree(name, tree_json, arrays=None):
        np.savez(tmp_path / "tmp.npz", __minicnn_tree__=np.array(tree_json), **(arrays or {}))
        os.replace(tmp_path / "tmp.npz", tmp_path / name)
        return tmp_path / name

    np.save(tmp_path / "single.npy", np.ones(3))
    def deep(levels):
        return '{"list": [' * levels + '{"value": 1}' + ']}' * levels

    return {
        "npy": tmp_path / "single.npy",
        "missing array": with_tree("m.npz", '{"array": "gone", "scalar": false}'),
        "unhashable key": with_tree("u.npz", '{"dict": [[[1], {"value": 1}]]}'),
        "bad node": with_tree("b.npz", '{"dict": [["a", 5]]}'),
        "unknown kind": with_tree("k.npz", '{"set": []}'),
        "value not a value": with_tree("v.npz", '{"value": [1, 2]}'),
        "deeper than save writes": with_tree("d1.npz", deep(serialization.MAX_DEPTH + 1)),
        "900 levels": with_tree("d2.npz", deep(900)),
        "deeper than json": with_tree("dj.npz", "[" * 100000 + "]" * 100000),
        "not json": with_tree("j.npz", "{not json"),
        "tree not text": _zip(tmp_path / "t.npz", {"__minicnn_tree__.npy": _npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(8))}),
        "huge shape": _zip(tmp_path / "h.npz", {"w.npy": _npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", bytes(8))}),
        "shape too small": _zip(tmp_path / "s.npz", {"w.npy": _npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes(16))}),
        "object array": _zip(tmp_path / "o.npz", {"w.npy": _npy(
            "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", bytes(8))}),
        "bad header": _zip(tmp_path / "bh.npz", {"w.npy": _npy("{'descr': 'nonsense'}")}),
        "not npy": _zip(tmp_path / "n.npz", {"w.npy": b"hello"}),
        "deflate bomb": _zip(tmp_path / "z.npz", {"w.npy": _npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2**17,), }", bytes(2**20))},
            zipfile.ZIP_DEFLATED),
        "empty": tmp_path / "empty.npz",
        "text": tmp_path / "text.npz",
    }


def test_crafted_files_give_a_value_error_naming_the_file(tmp_path):
    files = _crafted_files(tmp_path)
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("epoch 3")
    _shrink_deflate_bomb(files["deflate bomb"])
    tracemalloc.start()
    try:
        for kind, path in files.items():
            with pytest.raises(ValueError, match="not a readable minicnn checkpoint") as info:
                minicnn.load(path)
            assert repr(str(path)) in str(info.value), kind
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < 50 * 2**20, (kind, peak)  # refused before allocating what it declares
            tracemalloc.reset_peak()
    finally:
        tracemalloc.stop()
    with pytest.raises(ValueError, match="single-array .npy file"):
        minicnn.load(files["npy"])


@pytest.mark.parametrize("name", ["torch_checkpoint.pth", "torch_checkpoint_legacy.pth"])
def test_load_reads_a_pytorch_checkpoint_like_load_torch_state_dict(name):
    """``torch.load(path)`` ported to ``minicnn.load(path)`` reads PyTorch's own files (the
    zip format and the legacy pickle) through the allow-list reader."""
    path = os.path.join(FIXTURES, name)
    assert_tree_equal(minicnn.load(path), minicnn.load_torch_state_dict(path))


def test_load_of_a_damaged_pytorch_checkpoint_is_a_value_error_naming_it(tmp_path):
    path = _zip(tmp_path / "p.pth", {"archive/data.pkl": b"\x80\x02cos\nsystem\n.",
                                     "archive/version": b"3\n"})
    with pytest.raises(ValueError, match="p.pth"):
        minicnn.load(path)


def _shrink_deflate_bomb(path):
    """Make the deflated member declare 1032 times more bytes than deflate could give."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
    directory = data.rindex(b"PK\x01\x02")  # central directory entry: sizes at +20, +24
    assert struct.unpack_from("<I", data, directory + 24)[0] in (info.file_size, 0xFFFFFFFF)
    struct.pack_into("<I", data, directory + 20, 10)
    path.write_bytes(bytes(data))


def test_fuzzed_checkpoints_give_only_value_errors(tmp_path):
    """Truncated at many offsets, bytes flipped or overwritten: load returns something or
    raises ValueError naming the file, nothing else."""
    path = tmp_path / "c.npz"
    model = small_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    minicnn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2}, path)
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    damaged = [original[:n] for n in range(0, len(original), 7)]
    for _ in range(300):
        data = bytearray(original)
        for position in rng.integers(0, len(data), rng.integers(1, 4)):
            data[position] = (data[position] + int(rng.integers(1, 256))) % 256
        damaged.append(bytes(data))
    for data in damaged:
        path.write_bytes(data)
        try:
            minicnn.load(path)
        except ValueError as error:
            assert repr(str(path)) in str(error)


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


def test_load_takes_torch_loads_arguments(tmp_path):
    # The tutorials write torch.load(PATH, weights_only=True) and map_location='cpu'.
    path = tmp_path / "cifar_net.pth"
    minicnn.save({"w": np.arange(3.0)}, path)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                   {"map_location": minicnn.device("cpu"), "mmap": True}):
        np.testing.assert_array_equal(minicnn.load(path, **kwargs)["w"], np.arange(3.0))
    with pytest.raises(ValueError, match="map_location.*CPU only"):
        minicnn.load(path, map_location="cuda:0")


def test_a_whole_module_round_trips_with_weights_only_false(tmp_path):
    # saveloadrun_tutorial: torch.save(model, 'model.pth'); torch.load(..., weights_only=False)
    from minicnn.models import resnet20
    model = resnet20(num_classes=5).eval()
    model.conv1.weight.requires_grad_(False)
    path = tmp_path / "model.pth"
    minicnn.save({"model": model, "epoch": 3}, path)
    with pytest.raises(ValueError, match=r"whole module \(minicnn.models.resnet:CifarResNet\)"
                                         r".*weights_only=False"):
        minicnn.load(path)
    loaded = minicnn.load(path, weights_only=False)
    clone = loaded["model"]
    assert type(clone) is type(model) and loaded["epoch"] == 3 and repr(clone) == repr(model)
    assert not clone.training and not clone.conv1.weight.requires_grad
    assert clone.fc.weight.requires_grad and not clone.bn1.training
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(clone.state_dict()[key], value, err_msg=key)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((1, 3, 32, 32),
                                                                dtype=np.float32))
    np.testing.assert_array_equal(clone(x).data, model(x).data)


def test_saving_a_module_refuses_what_cannot_be_rebuilt(tmp_path):
    def local_class():
        class Local(minicnn.nn.Module):
            pass
        return Local()

    with pytest.raises(TypeError, match="defined inside a function"):
        minicnn.save(local_class(), tmp_path / "x.pth")
    layer = minicnn.nn.Linear(2, 2)
    layer.register_forward_hook(lambda *args: None)
    with pytest.raises(TypeError, match="forward hooks"):
        minicnn.save(layer, tmp_path / "x.pth")
    layer = minicnn.nn.Linear(2, 2)
    layer.activation = print
    with pytest.raises(TypeError, match="builtin_function_or_method"):
        minicnn.save(layer, tmp_path / "x.pth")
