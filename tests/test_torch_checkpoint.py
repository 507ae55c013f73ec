"""Tests for minicnn.load_torch_state_dict: PyTorch zip checkpoints read without PyTorch.

Three sources of files:
- the checked-in fixtures ``tests/fixtures/torch_checkpoint.pth`` (zip format) and
  ``torch_checkpoint_legacy.pth`` (the pre-1.6 format), written by
  ``tests/fixtures/make_torch_fixtures.py`` with torch, with their expected arrays in
  ``torch_checkpoint_expected.npz``: these tests never import torch;
- files written here by hand, opcode by opcode (``_op_*`` below), for what torch never
  writes: malicious pickles, big-endian data, views outside their storage, wrong sizes;
- files written by ``torch.save`` at test time (skipped when torch is not installed).
"""

import collections
import copy
import io
import os
import pickle
import shlex
import shutil
import struct
import tarfile
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import nn
from minicnn.torch_checkpoint import (TorchCheckpointError, UnsafeCheckpointError,
                                      load_torch_state_dict)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
FIXTURE = os.path.join(FIXTURES, "torch_checkpoint.pth")
FIXTURE_LEGACY = os.path.join(FIXTURES, "torch_checkpoint_legacy.pth")
EXPECTED = os.path.join(FIXTURES, "torch_checkpoint_expected.npz")


@pytest.fixture(scope="module")
def torch():
    """PyTorch as a test oracle: tests that take this fixture skip when it is absent."""
    return pytest.importorskip("torch")


# --- hand-written checkpoints: pickle opcodes and a zip ---------------------------------

def _op_global(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def _op_str(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _op_int(value):
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data  # LONG1


def _op_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def _op_call(module, name, *args):
    return _op_global(module, name) + _op_tuple(*args) + b"R"


def _op_tensor(key, storage_class, numel, offset, size, stride, *legacy_view):
    """A tensor as torch pickles it: _rebuild_tensor_v2 over a persistent storage id. The
    legacy format's id has one more field, ``legacy_view``: b"N" (None) or a view tuple."""
    storage = _op_tuple(_op_str("storage"), _op_global("torch", storage_class), _op_str(key),
                        _op_str("cpu"), _op_int(numel), *legacy_view) + b"Q"  # BINPERSID
    return _op_call("torch._utils", "_rebuild_tensor_v2", storage, _op_int(offset),
                    _op_tuple(*map(_op_int, size)), _op_tuple(*map(_op_int, stride)),
                    b"\x89", _op_call("collections", "OrderedDict"))


def _op_dict(items):
    return b"}(" + b"".join(_op_str(k) + v for k, v in items.items()) + b"u"


def _pickle(body):
    return b"\x80\x02" + body + b"."


def _write_checkpoint(path, pickled, records=None, byteorder="little", folder="archive"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{folder}/data.pkl", pickled)
        if byteorder is not None:
            archive.writestr(f"{folder}/byteorder", byteorder)
        for key, data in (records or {}).items():
            archive.writestr(f"{folder}/data/{key}", data)
        archive.writestr(f"{folder}/version", "3\n")
    return path


def _write_legacy(path, pickled, storages=None, header=None):
    """The pre-1.6 layout: header pickles, the object's pickle, the storage keys, then per
    storage its element count (int64) and bytes; ``storages`` maps key -> (numel, bytes)."""
    storages = storages or {}
    header = header or [0x1950A86A20F9469CFC6C, 1001,
                        {"protocol_version": 1001, "little_endian": True,
                         "type_sizes": {"short": 2, "int": 4, "long": 4}}]
    parts = [pickle.dumps(item, protocol=2) for item in header]
    parts += [pickled, pickle.dumps(sorted(storages), protocol=2)]
    parts += [struct.pack("<q", numel) + data for _, (numel, data) in sorted(storages.items())]
    path.write_bytes(b"".join(parts))
    return path


def test_hand_written_checkpoint_loads(tmp_path):
    # The writer above is what the safety tests below build on: check it makes valid files.
    data = np.arange(6, dtype="<f4")
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 6, 1, (2, 2), (1, 2))}))
    path = _write_checkpoint(tmp_path / "w.pth", pickled, {"0": data.tobytes()})
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], [[1, 3], [2, 4]])
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 6, 1, (2, 2), (1, 2), b"N")}))
    path = _write_legacy(tmp_path / "legacy.pth", pickled, {"0": (6, data.tobytes())})
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], [[1, 3], [2, 4]])


# --- the checked-in fixture, without torch ----------------------------------------------

@pytest.fixture(scope="module", params=[FIXTURE, FIXTURE_LEGACY], ids=["zip", "legacy"])
def fixture_checkpoint(request):
    return load_torch_state_dict(request.param)


def test_fixture_matches_expected_arrays(fixture_checkpoint):
    with np.load(EXPECTED) as expected:
        assert len(expected.files) == 35
        for name in expected.files:
            entry, key = name.split("/")
            got, want = fixture_checkpoint[entry][key], expected[name]
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_array_equal(got, want, err_msg=name)
    assert fixture_checkpoint["epoch"] == 3
    assert fixture_checkpoint["best_accuracy"] == 0.625
    assert fixture_checkpoint["note"] == "minicnn test fixture"


def test_fixture_structure_and_dtypes(fixture_checkpoint):
    model = fixture_checkpoint["model"]
    assert isinstance(model, collections.OrderedDict)
    assert list(model) == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                           "bn1.running_var", "bn1.num_batches_tracked", "fc.weight", "fc.bias"]
    assert model["bn1.num_batches_tracked"].shape == ()
    assert model["bn1.num_batches_tracked"].dtype == np.int64
    assert model["bn1.num_batches_tracked"] == 1
    tensors = fixture_checkpoint["tensors"]
    dtypes = {name: tensors[name].dtype for name in
              ("float32", "float64", "float16", "bfloat16", "int64", "uint8", "bool", "uint16")}
    assert dtypes == {"float32": np.float32, "float64": np.float64, "float16": np.float16,
                      "bfloat16": np.float32, "int64": np.int64, "uint8": np.uint8,
                      "bool": np.bool_, "uint16": np.uint16}
    np.testing.assert_array_equal(tensors["uint16"], [0, 1, 65535])


def test_fixture_views_of_one_storage(fixture_checkpoint):
    tensors = fixture_checkpoint["tensors"]
    base = tensors["base"]
    np.testing.assert_array_equal(tensors["transposed"], base.T)
    np.testing.assert_array_equal(tensors["offset_view"], base[1:, 2:])
    np.testing.assert_array_equal(tensors["expanded"], np.repeat(tensors["expanded"][:, :1], 4, 1))
    assert tensors["scalar"].shape == () and tensors["scalar"] == 3.5
    assert tensors["empty"].shape == (0, 3)


@pytest.mark.parametrize("path", [FIXTURE, FIXTURE_LEGACY], ids=["zip", "legacy"])
def test_arrays_are_owned_contiguous_and_writable(path):
    tensors = load_torch_state_dict(path, key="tensors")
    for name, array in tensors.items():
        assert array.flags.c_contiguous and array.flags.writeable and array.flags.owndata, name
    before = tensors["transposed"].copy()
    tensors["base"][...] = 0  # views of one storage come back as independent copies
    np.testing.assert_array_equal(tensors["transposed"], before)


def test_archive_folder_need_not_match_file_name(tmp_path):
    # The archive's folder is 'torch_checkpoint' (the stem at save time); rename the file.
    renamed = shutil.copy(FIXTURE, tmp_path / "weights.pt")
    assert load_torch_state_dict(renamed)["epoch"] == 3
    with open(renamed, "rb") as file:
        assert load_torch_state_dict(file)["epoch"] == 3
    for path in (FIXTURE, FIXTURE_LEGACY):
        with open(path, "rb") as file:
            assert load_torch_state_dict(io.BytesIO(file.read()))["epoch"] == 3


def test_key_picks_a_nested_state_dict(fixture_checkpoint):
    model = load_torch_state_dict(FIXTURE, key="model")
    assert list(model) == list(fixture_checkpoint["model"])
    weight = load_torch_state_dict(FIXTURE, key=("model", "conv1.weight"))
    np.testing.assert_array_equal(weight, fixture_checkpoint["model"]["conv1.weight"])


def test_missing_key_lists_what_is_there():
    with pytest.raises(TorchCheckpointError, match=r"no entry 'state_dict'.*'model'.*'epoch'"):
        load_torch_state_dict(FIXTURE, key="state_dict")
    with pytest.raises(TorchCheckpointError, match=r"\['model'\] .* no entry 'conv9.weight'"):
        load_torch_state_dict(FIXTURE, key=["model", "conv9.weight"])


def test_strip_prefix_undoes_data_parallel(fixture_checkpoint):
    assert all(k.startswith("module.") for k in fixture_checkpoint["data_parallel"])
    stripped = load_torch_state_dict(FIXTURE, key="data_parallel", strip_prefix="module.")
    model = fixture_checkpoint["model"]
    assert list(stripped) == list(model)
    for name in model:
        np.testing.assert_array_equal(stripped[name], model[name])
    with pytest.raises(TypeError, match="strip_prefix='module.' needs a state dict"):
        load_torch_state_dict(FIXTURE, key=("model", "fc.bias"), strip_prefix="module.")


def test_fixture_loads_into_a_minicnn_module():
    class SmallNet(nn.Module):  # the layers of make_torch_fixtures.SmallNet
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(4)
            self.fc = nn.Linear(4, 3)

    state = minicnn.load_torch_state_dict(FIXTURE, key="model")
    net = SmallNet()
    net.load_state_dict(state)  # strict: every key and shape matches
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(np.asarray(getattr(array, "data", array)), state[name])


# --- malicious pickles are refused, and nothing runs -------------------------------------

class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _marker_command(marker):
    return f"touch {shlex.quote(str(marker))}"


def test_crafted_payload_really_runs_under_plain_pickle(tmp_path):
    # Proves the payloads below are live: plain pickle.loads executes the command.
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_RunsCommand(_marker_command(marker)), protocol=2))
    assert marker.exists()


@pytest.mark.parametrize("payload, named", [
    # GLOBAL 'os system' + REDUCE, as written by hand
    (lambda cmd: _pickle(_op_dict({"w": _op_call("os", "system", _op_str(cmd))})), "os.system"),
    # INST (protocol 0): find the class and call it in one opcode
    (lambda cmd: b"(S'" + cmd.encode() + b"'\nios\nsystem\n.", "os.system"),
    # pickle.dumps of a __reduce__ object: GLOBAL at protocol 2, STACK_GLOBAL at protocol 4
    (lambda cmd: pickle.dumps({"w": _RunsCommand(cmd)}, protocol=2),
     f"{os.system.__module__}.system"),
    (lambda cmd: pickle.dumps({"w": _RunsCommand(cmd)}, protocol=4),
     f"{os.system.__module__}.system"),
], ids=["global", "inst", "protocol2", "protocol4"])
@pytest.mark.parametrize("write", [_write_checkpoint, _write_legacy], ids=["zip", "legacy"])
def test_os_system_is_refused_and_not_run(tmp_path, payload, named, write):
    marker = tmp_path / "pwned"
    path = write(tmp_path / "evil.pth", payload(_marker_command(marker)))
    with pytest.raises(UnsafeCheckpointError) as error:
        load_torch_state_dict(path)
    assert not marker.exists()
    message = str(error.value)
    assert f"'{named}'" in message and "may be malicious" in message
    assert "not a plain state dict" in message
    assert isinstance(error.value, ValueError) and isinstance(error.value, pickle.UnpicklingError)


def test_os_system_inside_a_real_checkpoint_is_refused(tmp_path):
    # A valid fixture whose data.pkl gains one malicious entry: the tensors before it are
    # fine, and the load still stops at the forbidden global.
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(FIXTURE) as source, zipfile.ZipFile(tmp_path / "evil.pth", "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("/data.pkl"):
                assert data.endswith(b"u.")  # ... SETITEMS STOP: add one more item first
                data = data[:-1] + _op_str("hook") + _op_call(
                    "os", "system", _op_str(_marker_command(marker))) + b"s."
            out.writestr(info, data)
    with pytest.raises(UnsafeCheckpointError, match="'os.system'"):
        load_torch_state_dict(tmp_path / "evil.pth")
    assert not marker.exists()


@pytest.mark.parametrize("module, name", [
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"), ("__builtin__", "eval"),
    ("subprocess", "Popen"), ("posix", "system"), ("numpy", "load"), ("torch", "load"),
    ("torch.nn.modules.conv", "Conv2d"), ("torch.torch_version", "TorchVersion"),
])
def test_other_globals_are_refused(tmp_path, module, name):
    pickled = _pickle(_op_dict({"w": _op_call(module, name, _op_str("1 + 1"))}))
    with pytest.raises(UnsafeCheckpointError, match=f"'{module}.{name}'"):
        load_torch_state_dict(_write_checkpoint(tmp_path / "x.pth", pickled))


def test_extension_registry_goes_through_the_allow_list(tmp_path):
    # EXT1 names a global by a number registered with copyreg: it must still be checked.
    import copyreg
    code = 0xF7
    copyreg.add_extension("os", "system", code)
    try:
        pickled = b"\x80\x02\x82" + bytes([code]) + _op_tuple(_op_str("true")) + b"R."
        with pytest.raises(UnsafeCheckpointError, match="'os.system'"):
            load_torch_state_dict(_write_checkpoint(tmp_path / "x.pth", pickled))
    finally:
        copyreg.remove_extension("os", "system", code)


def test_pickle_cannot_modify_the_allowed_globals(tmp_path):
    # BUILD sets attributes on an object; on an allowed function it would re-wire the loader.
    from minicnn import torch_checkpoint
    rebuild = torch_checkpoint._ALLOWED_GLOBALS[("torch._utils", "_rebuild_tensor_v2")]
    for state in (b"}" + _op_str("function") + _op_global("collections", "OrderedDict") + b"s",
                  _op_tuple(b"N", b"}" + _op_str("name") + _op_str("x") + b"s")):
        for target in (_op_global("torch._utils", "_rebuild_tensor_v2"),
                       _op_global("torch", "float32"), _op_global("torch", "Tensor")):
            pickled = _pickle(target + state + b"b")  # BUILD
            with pytest.raises(UnsafeCheckpointError, match="BUILD"):
                load_torch_state_dict(_write_checkpoint(tmp_path / "x.pth", pickled))
    assert rebuild.function is torch_checkpoint._rebuild_tensor_v2
    assert load_torch_state_dict(FIXTURE)["epoch"] == 3


@pytest.mark.parametrize("pickled", [
    _pickle(_op_str("payload") + b"Q"),                                   # not a storage tuple
    b"Pstorage\n.",                                                         # protocol 0 PERSID
    _pickle(_op_tuple(_op_str("storage"), _op_str("FloatStorage"), _op_str("0"), _op_str("cpu"),
                      _op_int(1)) + b"Q"),                                # type not a global
    _pickle(_op_call("torch._utils", "_rebuild_tensor_v2", _op_str("storage"), _op_int(0),
                     _op_tuple(), _op_tuple(), b"\x89", b"N")),           # no storage at all
], ids=["string-pid", "protocol0-pid", "string-storage-type", "tensor-from-string"])
def test_malformed_storage_references_are_refused(tmp_path, pickled):
    with pytest.raises(UnsafeCheckpointError):
        load_torch_state_dict(_write_checkpoint(tmp_path / "x.pth", pickled))


# --- data layout: byte order, bounds, sizes ----------------------------------------------

def test_big_endian_storages(tmp_path):
    floats = np.array([1.5, -2.0, 3.25], dtype=">f4")
    shorts = np.array([-7, 300], dtype=">i2")
    bfloat16 = (np.array([1.5, -0.375], dtype=np.float32).view(np.uint32) >> 16).astype(">u2")
    pickled = _pickle(_op_dict({
        "f": _op_tensor("0", "FloatStorage", 3, 0, (3,), (1,)),
        "s": _op_tensor("1", "ShortStorage", 2, 0, (2,), (1,)),
        "b": _op_tensor("2", "BFloat16Storage", 2, 0, (2,), (1,)),
    }))
    records = {"0": floats.tobytes(), "1": shorts.tobytes(), "2": bfloat16.tobytes()}
    loaded = load_torch_state_dict(_write_checkpoint(tmp_path / "be.pth", pickled, records,
                                                     byteorder="big"))
    np.testing.assert_array_equal(loaded["f"], [1.5, -2.0, 3.25])
    np.testing.assert_array_equal(loaded["s"], [-7, 300])
    np.testing.assert_array_equal(loaded["b"], [1.5, -0.375])
    assert loaded["f"].dtype == np.float32 and loaded["f"].dtype.isnative
    # Without a byteorder record the bytes are little-endian (early zip-format files).
    pickled = _pickle(_op_dict({"f": _op_tensor("0", "FloatStorage", 3, 0, (3,), (1,))}))
    path = _write_checkpoint(tmp_path / "le.pth", pickled, {"0": floats.astype("<f4").tobytes()},
                             byteorder=None)
    np.testing.assert_array_equal(load_torch_state_dict(path)["f"], [1.5, -2.0, 3.25])


def test_bfloat16_bits_become_exact_float32(tmp_path):
    # zero, -zero, 1, -3.140625, smallest subnormal, largest finite, inf, -inf, nan
    bits = [0x0000, 0x8000, 0x3F80, 0xC049, 0x0001, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0]
    # A little-endian float32 whose two low bytes are zero and whose high bytes are the bf16.
    expected = np.frombuffer(b"".join(b"\0\0" + struct.pack("<H", b) for b in bits), "<f4")
    assert expected[3] == -3.140625 and expected[6] == np.inf
    pickled = _pickle(_op_dict({"b": _op_tensor("0", "BFloat16Storage", 9, 0, (9,), (1,))}))
    loaded = load_torch_state_dict(_write_checkpoint(
        tmp_path / "b.pth", pickled, {"0": np.array(bits, "<u2").tobytes()}))["b"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, expected)
    np.testing.assert_array_equal(np.signbit(loaded), np.signbit(expected))


@pytest.mark.parametrize("offset, size, stride", [
    (0, (5,), (1,)),                 # one element too many
    (4, (1,), (1,)),                 # offset at the end
    (0, (2, 2), (1, 3)),             # last element at index 4
    (2**40, (1,), (1,)),             # far away
    (0, (2,), (2**40,)),
])
def test_views_outside_their_storage_are_refused(tmp_path, offset, size, stride):
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 4, offset, size, stride)}))
    path = _write_checkpoint(tmp_path / "x.pth", pickled, {"0": np.zeros(4, "<f4").tobytes()})
    with pytest.raises(TorchCheckpointError, match="reaches element .* which holds 4"):
        load_torch_state_dict(path)


def test_negative_or_malformed_geometry_is_refused(tmp_path):
    bad = _op_call("torch._utils", "_rebuild_tensor_v2",
                   _op_tuple(_op_str("storage"), _op_global("torch", "FloatStorage"), _op_str("0"),
                             _op_str("cpu"), _op_int(4)) + b"Q",
                   _op_int(0), _op_tuple(_op_int(2)), _op_tuple(_op_int(-1)), b"\x89", b"N")
    path = _write_checkpoint(tmp_path / "x.pth", _pickle(bad), {"0": bytes(16)})
    with pytest.raises(TorchCheckpointError, match="stride"):
        load_torch_state_dict(path)


def test_storage_of_the_wrong_length_is_refused(tmp_path):
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 4, 0, (4,), (1,))}))
    path = _write_checkpoint(tmp_path / "x.pth", pickled, {"0": bytes(12)})
    with pytest.raises(TorchCheckpointError, match=r"holds 12 bytes.*4 torch.float32 elements"):
        load_torch_state_dict(path)


# --- truncated, corrupt and foreign files ------------------------------------------------

def _fixture_bytes():
    with open(FIXTURE, "rb") as file:
        return file.read()


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no_such_weights.pth"):
        load_torch_state_dict("no_such_weights.pth")


@pytest.mark.parametrize("keep", [4, 100, 0.5, 0.9, -1, -22])
@pytest.mark.parametrize("fixture", [FIXTURE, FIXTURE_LEGACY], ids=["zip", "legacy"])
def test_truncated_file(tmp_path, keep, fixture):
    with open(fixture, "rb") as file:
        data = file.read()
    keep = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path = tmp_path / "cut.pth"
    path.write_bytes(data[:keep])
    with pytest.raises(TorchCheckpointError, match="truncated or corrupt"):
        load_torch_state_dict(path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(TorchCheckpointError, match="empty"):
        load_torch_state_dict(tmp_path / "empty.pth")


@pytest.mark.parametrize("record", ["data.pkl", "data/0"])
def test_flipped_byte_inside_a_record(tmp_path, record):
    data = bytearray(_fixture_bytes())
    with zipfile.ZipFile(FIXTURE) as archive:
        info = archive.getinfo(f"torch_checkpoint/{record}")
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:
                                                          info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length  # the record's bytes
    data[start + 5] ^= 0xFF
    (tmp_path / "flipped.pth").write_bytes(bytes(data))
    with pytest.raises(TorchCheckpointError, match=f"{record}.*truncated or corrupt"):
        load_torch_state_dict(tmp_path / "flipped.pth")


def test_garbage_pickle(tmp_path):
    path = _write_checkpoint(tmp_path / "x.pth", b"\x80\x02}q\x00(X\x01")
    with pytest.raises(TorchCheckpointError, match="data.pkl is truncated or corrupt"):
        load_torch_state_dict(path)


def test_missing_storage_record(tmp_path):
    with zipfile.ZipFile(FIXTURE) as source, zipfile.ZipFile(tmp_path / "x.pth", "w") as out:
        for info in source.infolist():
            if info.filename != "torch_checkpoint/data/3":
                out.writestr(info, source.read(info))
    with pytest.raises(TorchCheckpointError,
                       match="storage record 'torch_checkpoint/data/3' is missing"):
        load_torch_state_dict(tmp_path / "x.pth")


def test_legacy_storage_views_and_rebuild_v1(tmp_path):
    # Files of PyTorch < 0.4: a storage id may name a view (key, offset, numel) of another
    # storage, and tensors are rebuilt by _rebuild_tensor(storage, offset, size, stride).
    data = np.arange(8, dtype="<f8")
    view = _op_tuple(_op_str("view"), _op_int(2), _op_int(4))  # elements 2..5
    storage = _op_tuple(_op_str("storage"), _op_global("torch", "DoubleStorage"), _op_str("root"),
                        _op_str("cuda:0"), _op_int(8), view) + b"Q"
    tensor = _op_call("torch._utils", "_rebuild_tensor", storage, _op_int(1),
                      _op_tuple(_op_int(3)), _op_tuple(_op_int(1)))
    path = _write_legacy(tmp_path / "old.pth", _pickle(_op_dict({"w": tensor})),
                         {"root": (8, data.tobytes())})
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], [3.0, 4.0, 5.0])


def _op_old_tensor(storage_key, numel, offset, size, stride, module="torch"):
    """A tensor as PyTorch 0.1.10 pickled it: FloatTensor(), then BUILD with its state."""
    storage = _op_tuple(_op_str("storage"), _op_global("torch", "FloatStorage"),
                        _op_str(storage_key), _op_str("cpu"), _op_int(numel), b"N") + b"Q"
    state = _op_tuple(storage, _op_int(offset), _op_call("torch", "Size",
                                                         _op_tuple(*map(_op_int, size))),
                      _op_tuple(*map(_op_int, stride)))
    return _op_global(module, "FloatTensor") + b")R" + state + b"b"


def test_legacy_tensors_built_by_setstate(tmp_path):
    data = np.arange(6, dtype="<f4")
    pickled = _pickle(_op_dict({
        "w": _op_old_tensor("0", 6, 0, (2, 3), (3, 1)) + b"q\x07",   # BINPUT 7: memoize
        "again": b"h\x07",                                               # BINGET 7: the same
        "wt": _op_old_tensor("0", 6, 0, (3, 2), (1, 3), module="torch.cuda"),
        "in_list": b"]" + _op_old_tensor("0", 6, 4, (2,), (1,)) + b"a",   # APPEND
        "in_tuple": _op_tuple(_op_old_tensor("0", 6, 5, (), ())),
    }))
    loaded = load_torch_state_dict(_write_legacy(tmp_path / "old.pth", pickled,
                                                 {"0": (6, data.tobytes())}))
    expected = data.reshape(2, 3)
    np.testing.assert_array_equal(loaded["w"], expected)
    assert loaded["again"] is loaded["w"] and type(loaded["w"]) is np.ndarray
    np.testing.assert_array_equal(loaded["wt"], expected.T)
    np.testing.assert_array_equal(loaded["in_list"][0], [4, 5])
    assert type(loaded["in_tuple"]) is tuple and loaded["in_tuple"][0] == 5


def test_legacy_tensor_built_twice_or_never(tmp_path):
    storages = {"0": (2, bytes(8))}
    twice = _op_old_tensor("0", 2, 0, (2,), (1,)) + _op_tuple(b"N", b"N", b"N", b"N") + b"b"
    path = _write_legacy(tmp_path / "x.pth", _pickle(_op_dict({"w": twice})), storages)
    with pytest.raises(UnsafeCheckpointError, match="unexpected BUILD"):
        load_torch_state_dict(path)
    never = (_op_old_tensor("0", 2, 0, (2,), (1,)) + b"0"  # POP it: the storage is declared
             + _op_global("torch", "FloatTensor") + b")R")  # a tensor with no BUILD
    path = _write_legacy(tmp_path / "x.pth", _pickle(_op_dict({"w": never})), storages)
    with pytest.raises(TorchCheckpointError, match="never given its data"):
        load_torch_state_dict(path)
    # A list that contains itself (and a tensor) is walked once, not forever.
    cyclic = b"]q\x09(h\x09" + _op_old_tensor("0", 2, 0, (2,), (1,)) + b"e"  # [itself, tensor]
    path = _write_legacy(tmp_path / "x.pth", _pickle(cyclic), storages)
    loaded = load_torch_state_dict(path)
    assert loaded[0] is loaded and type(loaded[1]) is np.ndarray


def test_legacy_files_with_bad_headers_or_keys(tmp_path):
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 2, 0, (2,), (1,), b"N")}))
    storages = {"0": (2, bytes(8))}
    path = _write_legacy(tmp_path / "x.pth", pickle.dumps({"a": 1}, protocol=2), header=[{"a": 1}])
    with pytest.raises(TorchCheckpointError, match="not the legacy format"):
        load_torch_state_dict(path)
    path = _write_legacy(tmp_path / "x.pth", pickled, storages,
                         header=[0x1950A86A20F9469CFC6C, 1001, {"little_endian": False}])
    with pytest.raises(TorchCheckpointError, match="only little-endian"):
        load_torch_state_dict(path)
    path = _write_legacy(tmp_path / "x.pth", pickled, {"0": (2, bytes(8)), "1": (1, bytes(4))})
    with pytest.raises(TorchCheckpointError, match="key list .* does not match"):
        load_torch_state_dict(path)
    path = _write_legacy(tmp_path / "x.pth", pickled, {"0": (3, bytes(12))})
    with pytest.raises(TorchCheckpointError, match="should hold 2 .* records 3 elements"):
        load_torch_state_dict(path)
    with pytest.raises(TorchCheckpointError, match="not a PyTorch checkpoint: it is a pickle"):
        (tmp_path / "plain.pkl").write_bytes(pickle.dumps([1, 2, 3], protocol=2))
        load_torch_state_dict(tmp_path / "plain.pkl")


def test_foreign_files(tmp_path):
    (tmp_path / "notes.pth").write_text("hello")
    with pytest.raises(TorchCheckpointError, match="not a PyTorch checkpoint.*b'hello'"):
        load_torch_state_dict(tmp_path / "notes.pth")
    np.savez(tmp_path / "weights.npz", w=np.ones(2))
    with pytest.raises(TorchCheckpointError, match="np.load"):
        load_torch_state_dict(tmp_path / "weights.npz")
    (tmp_path / "sys_info").write_bytes(pickle.dumps({"protocol_version": 1000}, protocol=2))
    with tarfile.open(tmp_path / "old.tar", "w") as tar:  # the members of a pre-0.4 file
        tar.add(tmp_path / "sys_info", arcname="sys_info")
    with pytest.raises(TorchCheckpointError, match="tar archive"):
        load_torch_state_dict(tmp_path / "old.tar")


# --- files written by torch.save ---------------------------------------------------------
# Each in both formats: zip (the default) and legacy (_use_new_zipfile_serialization=False).

FORMATS = pytest.mark.parametrize("new_zipfile", [True, False], ids=["zip", "legacy"])


def _save_and_load(torch, obj, **kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    buffer.seek(0)
    return load_torch_state_dict(buffer)


def _as_numpy(tensor):
    tensor = tensor.detach()
    return (tensor.float() if str(tensor.dtype) == "torch.bfloat16" else tensor).numpy()


@pytest.mark.parametrize("dtype, numpy_dtype", [
    ("float32", np.float32), ("float64", np.float64), ("float16", np.float16),
    ("bfloat16", np.float32), ("complex64", np.complex64), ("int64", np.int64),
    ("int32", np.int32), ("int16", np.int16), ("int8", np.int8), ("uint8", np.uint8),
    ("bool", np.bool_), ("uint16", np.uint16), ("uint32", np.uint32),
])
@FORMATS
def test_torch_dtypes(torch, dtype, numpy_dtype, new_zipfile):
    rng = np.random.default_rng(0)
    if dtype == "bool":
        expected = rng.random((3, 4)) < 0.5
        tensor = torch.from_numpy(expected)
    elif np.issubdtype(numpy_dtype, np.integer):  # the type's whole range, extremes included
        info = np.iinfo(numpy_dtype)
        expected = rng.integers(info.min, info.max, (3, 4), endpoint=True).astype(numpy_dtype)
        expected[0, :2] = info.min, info.max
        # from int64, as torch has no .numpy() / from_numpy for uint16 and uint32
        tensor = torch.from_numpy(expected.astype(np.int64)).to(getattr(torch, dtype))
    else:
        tensor = torch.from_numpy(rng.standard_normal((3, 4)) * 100).to(getattr(torch, dtype))
        expected = _as_numpy(tensor)  # rounded to the type by torch; bfloat16 as float32
    loaded = _save_and_load(torch, {"t": tensor, "tt": tensor.t()},
                            _use_new_zipfile_serialization=new_zipfile)
    assert loaded["t"].dtype == numpy_dtype and loaded["t"].shape == (3, 4)
    np.testing.assert_array_equal(loaded["t"], expected)
    np.testing.assert_array_equal(loaded["tt"], expected.T)


@FORMATS
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4),
       data=st.data())
def test_torch_strided_views(torch, new_zipfile, shape, data):
    # Any permutation of any slicing (with steps) of a tensor loads to the same values.
    base = torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape)
    index = tuple(slice(data.draw(st.integers(0, n)), None, data.draw(st.integers(1, 3)))
                  for n in shape)
    order = data.draw(st.permutations(range(len(shape))))
    view = base[index].permute(*order) if shape else base
    loaded = _save_and_load(torch, {"view": view, "base": base},
                            _use_new_zipfile_serialization=new_zipfile)
    np.testing.assert_array_equal(loaded["view"], view.numpy())
    np.testing.assert_array_equal(loaded["base"], base.numpy())


@FORMATS
def test_torch_shared_storage_and_tied_weights(torch, new_zipfile):
    weight = torch.randn(4, 3)
    saved = collections.OrderedDict(encoder=weight, decoder=weight, decoder_t=weight.t(),
                                    row=weight[2], column=weight[:, 1],
                                    expanded=weight[:1].expand(5, 3))
    loaded = _save_and_load(torch, saved, _use_new_zipfile_serialization=new_zipfile)
    assert list(loaded) == list(saved)
    for name, tensor in saved.items():
        np.testing.assert_array_equal(loaded[name], tensor.numpy(), err_msg=name)


@FORMATS
def test_torch_parameters(torch, new_zipfile):
    with_state = torch.nn.Parameter(torch.randn(2, 3))
    with_state.note = "extra attribute"  # saved with _rebuild_parameter_with_state
    tagged = torch.randn(3)
    tagged.tag = 1  # a tensor with attributes: saved with _rebuild_from_type_v2
    saved = {"p": torch.nn.Parameter(torch.randn(2, 2)),
             "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
             "with_state": with_state, "tagged": tagged}
    loaded = _save_and_load(torch, saved, _use_new_zipfile_serialization=new_zipfile)
    for name, tensor in saved.items():
        assert type(loaded[name]) is np.ndarray
        np.testing.assert_array_equal(loaded[name], tensor.detach().numpy(), err_msg=name)


def _torch_net(torch):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                              torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(8, 5))
    net(torch.randn(4, 3, 8, 8))  # move the running statistics; num_batches_tracked = 1
    return net


@pytest.mark.parametrize("protocol", [2, 4])
@FORMATS
def test_torch_module_state_dict(torch, protocol, new_zipfile):
    state = _torch_net(torch).state_dict()
    loaded = _save_and_load(torch, state, pickle_protocol=protocol,
                            _use_new_zipfile_serialization=new_zipfile)
    assert isinstance(loaded, collections.OrderedDict) and list(loaded) == list(state)
    for name, tensor in state.items():
        assert loaded[name].dtype == _as_numpy(tensor).dtype, name
        np.testing.assert_array_equal(loaded[name], tensor.numpy(), err_msg=name)
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    assert loaded["1.num_batches_tracked"] == 1


@FORMATS
def test_torch_training_checkpoint(torch, tmp_path, new_zipfile):
    net = torch.nn.DataParallel(_torch_net(torch))  # on CPU it only adds the 'module.' prefix
    # An Adam state_dict's shape, built by hand: torch.optim's first use costs seconds.
    moment = torch.randn(8, 3, 3, 3)
    optimizer = {"state": {0: {"step": torch.tensor(1.0), "exp_avg": moment}},
                 "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "foreach": None,
                                   "params": [0, 1]}]}
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": net.state_dict(), "optimizer": optimizer,
                "epoch": 7, "shape": torch.Size([3, 8]), "dtype": torch.float16}, path,
               _use_new_zipfile_serialization=new_zipfile)
    loaded = load_torch_state_dict(path)
    assert loaded["epoch"] == 7 and loaded["shape"] == (3, 8)
    assert repr(loaded["dtype"]) == "torch.float16"
    assert loaded["optimizer"]["param_groups"] == [
        {"lr": 1e-3, "betas": (0.9, 0.999), "foreach": None, "params": [0, 1]}]
    assert loaded["optimizer"]["state"][0]["step"] == 1.0
    np.testing.assert_array_equal(loaded["optimizer"]["state"][0]["exp_avg"], moment.numpy())
    state = load_torch_state_dict(path, key="state_dict", strip_prefix="module.")
    expected = net.module.state_dict()
    assert list(state) == list(expected)
    for name, tensor in expected.items():
        np.testing.assert_array_equal(state[name], tensor.numpy(), err_msg=name)
    assert copy.deepcopy(loaded)["epoch"] == 7


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_torchscript_archive(torch, tmp_path):
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), tmp_path / "scripted.pt")
    with pytest.raises(TorchCheckpointError, match="TorchScript"):
        load_torch_state_dict(tmp_path / "scripted.pt")


@FORMATS
def test_torch_whole_module_is_refused(torch, tmp_path, new_zipfile):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt",  # pickles the class itself
               _use_new_zipfile_serialization=new_zipfile)
    with pytest.raises(UnsafeCheckpointError, match="'torch.nn.modules.linear.Linear'"):
        load_torch_state_dict(tmp_path / "module.pt")


# --- hostile files: refused before allocating what they declare --------------------------

@pytest.fixture
def bounded_memory():
    """Asserts the test's Python allocations peak below 20 MB (the hostile files below
    declare 512 MiB to 1 TiB)."""
    tracemalloc.start()
    yield
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak


def _write_zeros(archive, name, nbytes):
    with archive.open(name, "w", force_zip64=True) as record:
        chunk = bytes(2**20)
        for _ in range(nbytes // len(chunk)):
            record.write(chunk)


def test_oversized_deflated_storage_record_is_refused_before_inflating(tmp_path, bounded_memory):
    """A 4-byte tensor on a 512 MiB record (deflated to 0.5 MB) was inflated fully, then
    refused: the record's size in the zip directory is checked first."""
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 1, 0, (1,), (1,))}))
    path = tmp_path / "big.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("archive/data.pkl", pickled)
        _write_zeros(archive, "archive/data/0", 2**29)
    assert path.stat().st_size < 4 * 2**20
    with pytest.raises(TorchCheckpointError, match="holds 536870912 bytes, but the pickle "
                                                   "declares 1 torch.float32 elements"):
        load_torch_state_dict(path)


def _patch_central_directory(path, record, offset, fmt, value):
    """Overwrite a field of ``record``'s central directory entry (zipfile trusts it)."""
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(record.encode()))
    struct.pack_into(fmt, data, entry + offset, value)
    path.write_bytes(bytes(data))


def test_pickle_zip_bomb_is_refused(tmp_path, bounded_memory):
    """data.pkl inflating to more than MAX_PICKLE_BYTES (a pickle that builds millions of
    dicts: 45 s and 2.2 GB before) is refused from its declared size; one whose directory
    understates its size is read only as far as declared."""
    from minicnn import torch_checkpoint

    path = tmp_path / "bomb.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("archive/data.pkl", "w") as record:
            record.write(b"\x80\x02]")  # an empty list, then append an empty dict, again
            for _ in range(torch_checkpoint.MAX_PICKLE_BYTES // 2**20):
                record.write(b"}a" * 2**19)
            record.write(b".")
        archive.writestr("archive/version", "3\n")
    assert path.stat().st_size < 100_000
    with pytest.raises(TorchCheckpointError, match="MAX_PICKLE_BYTES"):
        load_torch_state_dict(path)
    _patch_central_directory(path, "archive/data.pkl", 24, "<I", 1000)  # uncompressed size
    with pytest.raises(TorchCheckpointError, match="data.pkl"):
        load_torch_state_dict(path)


_HUGE_DECLARATIONS = {
    "BINBYTES8 of 2**40 bytes": b"\x80\x04\x8e" + struct.pack("<Q", 2**40) + b"x" * 300 + b".",
    "BINUNICODE8 of 2**40 bytes": b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b"x" * 30 + b".",
    "FRAME of 2**40 bytes": b"\x80\x04\x95" + struct.pack("<Q", 2**40) + b"N.",
    "memo index 2**32 - 1": b"\x80\x02Nr" + struct.pack("<I", 2**32 - 1) + b".",
}


@pytest.mark.parametrize("pickled", _HUGE_DECLARATIONS.values(), ids=_HUGE_DECLARATIONS.keys())
@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_pickles_declaring_huge_sizes_are_refused(tmp_path, bounded_memory, pickled, layout):
    """A 368-byte pickle declaring 2**40 bytes gave a bare MemoryError: the C unpickler
    allocates a declared length (or a memo up to an index) before reading. Each pickle is
    scanned first; the legacy file's header pickles too."""
    path = tmp_path / "x.pth"
    if layout == "zip":
        _write_checkpoint(path, pickled)
    else:
        path.write_bytes(pickled)
    with pytest.raises(TorchCheckpointError, match="truncated or corrupt"):
        load_torch_state_dict(path)


def test_legacy_key_list_of_unhashable_keys(tmp_path):
    """A storage key list holding a list gave 'TypeError: unhashable type'."""
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 1, 0, (1,), (1,), b"N")}))
    path = _write_legacy(tmp_path / "x.pth", pickled, {"0": (1, bytes(4))})
    data = path.read_bytes().replace(pickle.dumps(["0"], protocol=2),
                                     pickle.dumps([["0"]], protocol=2))
    path.write_bytes(data)
    with pytest.raises(TorchCheckpointError, match="storage key list"):
        load_torch_state_dict(path)


def test_expanded_view_is_copied_only_up_to_a_limit(tmp_path, bounded_memory):
    """A stride-0 view of one element, of size 2**20 x 2**20 (4 TiB once copied)."""
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 1, 0, (2**20, 2**20),
                                                (0, 0))}))
    path = _write_checkpoint(tmp_path / "x.pth", pickled, {"0": bytes(4)})
    with pytest.raises(TorchCheckpointError, match="MAX_EXPANDED_BYTES"):
        load_torch_state_dict(path)
    pickled = _pickle(_op_dict({"w": _op_tensor("0", "FloatStorage", 1, 0, (3, 4), (0, 0))}))
    path = _write_checkpoint(tmp_path / "x.pth", pickled, {"0": np.float32(2).tobytes()})
    np.testing.assert_array_equal(load_torch_state_dict(path)["w"], np.full((3, 4), 2.0))


# --- damaged files: only TorchCheckpointError, naming the file -----------------------------

@pytest.mark.parametrize("field, offset, fmt, value", [
    ("version needed to extract", 6, "<H", 0xFF),    # NotImplementedError before
    ("compression method", 10, "<H", 99),           # NotImplementedError before
    ("encrypted flag", 8, "<H", 1),                  # RuntimeError before
    ("local header offset", 42, "<I", 0xFFFFFFF0),  # OSError (seek) or BadZipFile before
])
def test_damaged_zip_directory_fields(tmp_path, field, offset, fmt, value):
    path = tmp_path / "damaged.pth"
    shutil.copy(FIXTURE, path)
    with zipfile.ZipFile(path) as archive:
        record = next(name for name in archive.namelist() if "/data/" in name)
    _patch_central_directory(path, record, offset, fmt, value)
    with pytest.raises(TorchCheckpointError) as info:
        load_torch_state_dict(path)
    assert repr(str(path)) in str(info.value)


def _torch_saved_bytes(tmp_path):
    """Files written by torch.save now (zip and legacy), else the checked-in fixtures."""
    try:
        import torch
    except ImportError:
        return {"zip": open(FIXTURE, "rb").read(), "legacy": open(FIXTURE_LEGACY, "rb").read()}
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    files = {}
    for layout, new_zipfile in [("zip", True), ("legacy", False)]:
        buffer = io.BytesIO()
        torch.save({"model": model.state_dict(), "epoch": 3}, buffer,
                   _use_new_zipfile_serialization=new_zipfile)
        files[layout] = buffer.getvalue()
    return files


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_fuzzed_checkpoints_give_only_checkpoint_errors(tmp_path, layout):
    """Truncated at many offsets, bytes flipped or overwritten: a file loads or raises
    TorchCheckpointError naming it (NotImplementedError, OSError, TypeError, MemoryError
    came out before)."""
    original = _torch_saved_bytes(tmp_path)[layout]
    rng = np.random.default_rng(1)
    damaged = [original[:n] for n in range(0, len(original), max(1, len(original) // 300))]
    for _ in range(400):
        data = bytearray(original)
        for position in rng.integers(0, len(data), rng.integers(1, 4)):
            data[position] = int(rng.integers(0, 256))
        damaged.append(bytes(data))
    path = tmp_path / "fuzzed.pth"
    for data in damaged:
        path.write_bytes(data)
        try:
            load_torch_state_dict(path)
        except TorchCheckpointError as error:
            assert repr(str(path)) in str(error)
