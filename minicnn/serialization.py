"""``minicnn.save`` / ``minicnn.load``: checkpoints of state dicts as ``.npz`` files.

What can be saved: nested dicts, lists and tuples (at most ``MAX_DEPTH`` levels deep) whose
leaves are NumPy arrays, Tensors (saved as their array), NumPy scalars, and Python ``int``,
``float``, ``bool``, ``str`` and ``None``; that covers ``model.state_dict()``,
``optimizer.state_dict()``, a scheduler's, and a dict bundling them with an epoch number.
Dict keys are ``str`` (any string: empty, with ``/`` or ``.``, unicode, long) or ``int``, and
come back with their type; any other key (``float``, ``bool``, a NumPy integer, a tuple)
raises ``TypeError`` naming it. A whole ``nn.Module`` can be saved too (PyTorch's
``torch.save(model, path)``): its class's import path and its attributes, parameters, buffers
and sub-modules are recorded, and ``load(path, weights_only=False)`` rebuilds it (a module
shared under two names comes back as two copies; hooks and attributes that are not data,
such as functions, cannot be saved).

The file is an ordinary ``.npz`` archive (``numpy.load`` opens it): each array is the member
``<name>.npy``, named by its path of keys joined by ``/`` (a model's ``features.0.weight``,
an optimizer's ``state/0/momentum_buffer``), plus one JSON text member,
``__minicnn_tree__.npy``, recording the nesting, the non-array values and which member holds
each array, so that ``load`` rebuilds the same structure whatever the keys. When a path's
name is taken (the keys ``0`` and ``'0'``, or ``'a/b'`` and ``'a'`` -> ``'b'``), reserved,
or unfit for a zip member (empty or ``..`` parts, a leading ``/``, a backslash, a NUL,
unencodable, over 1000 bytes), the array is stored under ``<name>~<k>`` or ``array~<k>``
instead. Loading never unpickles: opening a checkpoint cannot run code. A plain ``.npz``
without the tree (e.g. weights exported from PyTorch with ``numpy.savez``) loads as a flat
dict of arrays, ready for ``model.load_state_dict``.

Loading checks every size the archive declares before reading it: a member may not be
larger than the file could hold (stored, or deflated at deflate's maximum ratio of
1032:1), and an array's header must declare exactly the bytes its member holds. So a damaged
or crafted file raises ``ValueError`` naming the file, never a ``MemoryError`` or a
``KeyError``.

Saving is atomic: the archive is written to a temporary file in the same folder, flushed to
disk (``fsync``), then renamed over the destination (``os.replace``), so a crash or an error
mid-save leaves the previous checkpoint intact, never a truncated one. The file gets the
permissions of any new file (``0o666`` less the umask, as ``numpy.savez`` or ``torch.save``
give), not the owner-only ``0o600`` of ``tempfile.mkstemp``. ``write_npz`` does this for any
dict of arrays (the data cache uses it too), and ``read_npz`` reads any ``.npz`` with the
checks above.

The temporary file is ``.<first 32 characters of the name>~<target>~<host>~<pid>~<random>.tmp``
(short whatever the destination's name; ``<target>`` a hash of the full name). A process
killed mid-save leaves it behind; the next save to the same destination removes such leftovers
when the process that wrote them is no longer alive on this machine, or when they were not
modified for ``STALE_TEMPORARY_SECONDS`` (a writer on another machine sharing the folder, or a
file of an older minicnn). Concurrent savers never remove each other's live temporaries.
"""

import hashlib
import importlib
import json
import math
import os
import secrets
import socket
import time
import zipfile

import numpy as np

from .autograd import Tensor
from .device import check_device, device
from .nn.module import Module, Parameter

__all__ = ["save", "load", "write_npz", "read_npz", "MAX_DEPTH", "STALE_TEMPORARY_SECONDS"]

MAX_DEPTH = 100                  # nesting levels of dicts, lists and tuples save and load accept
STALE_TEMPORARY_SECONDS = 3600   # an unmodified temporary this old is abandoned, whoever wrote it

_TREE_KEY = "__minicnn_tree__"
_MAX_MEMBER_NAME_BYTES = 1000
_DEFLATE_MAX_RATIO = 1032        # deflate never expands a stored byte more than this


# --- the tree: nesting and values in JSON, arrays as members ------------------------------

def _encode(obj, path, arrays):
    """The JSON description of ``obj``; its arrays are added to ``arrays`` by member name."""
    where = "/".join(str(p) for p in path) or "the top level"
    if len(path) > MAX_DEPTH:
        raise ValueError(f"save: the object is nested more than {MAX_DEPTH} levels deep (at "
                         f"{where:.200}): does a container hold itself?")
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype.hasobject:
            raise TypeError(f"save: the array at {where} has dtype {obj.dtype}, which cannot be "
                            "saved without pickle")
        name = _free_member_name("/".join(str(p) for p in path), arrays)
        arrays[name] = np.asarray(obj)
        return {"array": name, "scalar": isinstance(obj, np.generic)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} (a "
                                f"{type(key).__name__}) at {where}")
            items.append([key, _encode(value, path + [key], arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, path + [i], arrays) for i, value in enumerate(obj)]}
    if isinstance(obj, Module):
        return {"module": _encode_module(obj, path, arrays, where)}
    raise TypeError(f"save: cannot save a {type(obj).__name__} (at {where}); expected nested "
                    "dicts, lists and tuples of arrays, Tensors, modules, numbers, strings "
                    "and None")


# A whole module (``torch.save(model, path)``) is recorded as its class's import path and its
# contents: plain attributes, parameters, buffers and sub-modules. Loading rebuilds it without
# calling __init__ (as unpickling does), and only with ``weights_only=False``.
_MODULE_REGISTRIES = ("_parameters", "_buffers", "_non_persistent_buffers", "_modules",
                      "_forward_hooks", "_forward_pre_hooks")


def _encode_module(module, path, arrays, where):
    cls = type(module)
    if "<locals>" in cls.__qualname__:
        raise TypeError(f"save: the module at {where} is a {cls.__qualname__}, a class defined "
                        f"inside a function, which load could not find again")
    if module._forward_hooks or module._forward_pre_hooks:
        raise TypeError(f"save: the module at {where} has forward hooks, which cannot be "
                        f"saved; remove them (handle.remove()) or save its state_dict()")
    attributes = {name: value for name, value in vars(module).items()
                  if name not in _MODULE_REGISTRIES}
    contents = {
        "attributes": attributes,
        "parameters": {name: None if p is None else {"data": p.data,
                                                     "requires_grad": p.requires_grad}
                       for name, p in module._parameters.items()},
        "buffers": dict(module._buffers),
        "non_persistent": sorted(module._non_persistent_buffers),
        "modules": dict(module._modules),
    }
    return {"class": f"{cls.__module__}:{cls.__qualname__}",
            "contents": _encode(contents, path, arrays)}


def _free_member_name(readable, taken):
    """``readable`` if it can name a member and is free, else ``<readable or 'array'>~<k>``."""
    usable = _is_member_name(readable) and readable != _TREE_KEY
    if usable and readable not in taken:
        return readable
    base = readable if usable else "array"
    k = 1
    while f"{base}~{k}" in taken:
        k += 1
    return f"{base}~{k}"


def _is_member_name(name):
    """Whether ``name + '.npy'`` is a safe, faithful zip member name: zipfile cuts names at a
    NUL, unzip tools treat '/', '..' and '\\' as paths, and the name field has a size limit."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate
        return False
    parts = name.split("/")
    return (0 < size <= _MAX_MEMBER_NAME_BYTES and "\x00" not in name and "\\" not in name
            and all(part not in ("", ".", "..") for part in parts))


def _decode(node, arrays, depth, modules_allowed=False):
    """The object ``node`` describes; ValueError if the tree is malformed (or holds a module
    and ``modules_allowed`` is false)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"the tree is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise ValueError(f"malformed tree node {node!r:.80}")
    if "array" in node:
        name = node["array"]
        if not isinstance(name, str) or name not in arrays or len(node) != 2 or \
                not isinstance(node.get("scalar"), bool):
            raise ValueError(f"tree node {node!r:.80} names no array of the file")
        return arrays[name][()] if node["scalar"] else arrays[name]
    if len(node) != 1:
        raise ValueError(f"malformed tree node {node!r:.80}")
    (kind, content), = node.items()
    if kind == "value" and (content is None or isinstance(content, (bool, int, float, str))):
        return content
    if kind in ("list", "tuple") and isinstance(content, list):
        items = [_decode(value, arrays, depth + 1, modules_allowed) for value in content]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(content, list):
        result = {}
        for item in content:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))
                    and not isinstance(item[0], bool)):
                raise ValueError(f"malformed dict item {item!r:.80} in the tree")
            result[item[0]] = _decode(item[1], arrays, depth + 1, modules_allowed)
        return result
    if kind == "module" and isinstance(content, dict):
        if not modules_allowed:
            raise _WholeModule(content.get("class"))
        return _decode_module(content, arrays, depth)
    raise ValueError(f"malformed tree node {node!r:.80}")


class _WholeModule(Exception):
    """Raised inside ``_decode`` when a file holds a module and ``weights_only`` is on."""


def _module_class(name):
    """The ``Module`` subclass ``'package.module:Qual.Name'`` names (its module is imported)."""
    module_name, _, qualname = name.partition(":") if isinstance(name, str) else ("", "", "")
    try:
        target = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(f"the module class {name!r} cannot be found ({error})") from None
    if not (isinstance(target, type) and issubclass(target, Module)):
        raise ValueError(f"{name!r} is not a minicnn.nn.Module subclass")
    return target


def _decode_module(content, arrays, depth):
    cls = _module_class(content.get("class"))
    parts = _decode(content.get("contents"), arrays, depth + 1, modules_allowed=True)
    keys = {"attributes", "parameters", "buffers", "non_persistent", "modules"}
    if not isinstance(parts, dict) or set(parts) != keys:
        raise ValueError(f"the record of a {cls.__name__} module is malformed")
    module = cls.__new__(cls)
    Module.__init__(module)
    for name, value in parts["attributes"].items():
        object.__setattr__(module, name, value)
    for name, param in parts["parameters"].items():
        module.register_parameter(name, None if param is None else Parameter(
            param["data"], requires_grad=param["requires_grad"]))
    for name, array in parts["buffers"].items():
        module.register_buffer(name, array, persistent=name not in parts["non_persistent"])
    for name, child in parts["modules"].items():
        module.add_module(name, child)
    return module


# --- save --------------------------------------------------------------------------------

def save(obj, path):
    """Write ``obj`` (e.g. a state dict, or a dict of several) to ``path`` atomically.

    Parameters
    ----------
    obj : nested dict / list / tuple of arrays, Tensors, numbers, strings, None
        Dict keys: str or int. At most ``MAX_DEPTH`` levels of nesting.
    path : str or os.PathLike
        Written exactly as given, whatever its extension (``cifar_net.pth`` stays
        ``cifar_net.pth``: no ``.npz`` is appended).

    Raises
    ------
    TypeError
        A value or a dict key of an unsupported type (named, with where it sits).
    ValueError
        Nesting deeper than ``MAX_DEPTH`` (or a container that holds itself), or a ``path``
        that names a folder.
    OSError
        The file cannot be written; the message names ``path``, not the temporary file.
    """
    arrays = {}
    tree = _encode(obj, [], arrays)
    arrays[_TREE_KEY] = np.array(json.dumps(tree))
    _write_atomically(path, arrays)


def write_npz(path, arrays):
    """Write ``arrays`` (a dict of name -> ndarray) to the ``.npz`` file ``path`` atomically.

    Each array is the member ``<name>.npy``; a name that cannot name a member faithfully
    (see the module docstring) raises ``ValueError``. The archive goes to a temporary file in
    the destination's folder (which must exist), is flushed to disk, then renamed over
    ``path``: readers see the old file or the new one, never a part. Leftover temporaries of
    killed saves to ``path`` are removed first. The new file's mode is ``0o666`` less the
    umask, like any new file. An ``OSError`` names ``path``.
    """
    for key in arrays:
        if not (isinstance(key, str) and _is_member_name(key)) or key == _TREE_KEY:
            raise ValueError(f"write_npz: {key!r} cannot name an array in a .npz file (or is "
                             "reserved)")
    _write_atomically(path, arrays)


def _write_atomically(path, arrays):
    """Write the archive of ``arrays`` (names already checked) to ``path``, as described."""
    path = os.fsdecode(os.fspath(path))
    name = os.path.basename(path)
    if not name:
        raise ValueError(f"save: path {path!r} names a folder, not a file")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        _remove_stale_temporaries(folder, name)
        temp_path, fd = _create_temporary(folder, name)
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(fd, "wb") as f:
            _write_archive(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except BaseException as error:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        if isinstance(error, OSError):
            raise _naming(error, path) from error
        raise
    _fsync_folder(folder)


def _write_archive(file, arrays):
    """What ``np.savez`` writes, without passing the names as keyword arguments (where
    'file' and 'allow_pickle' are taken)."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _naming(error, path):
    """``error`` with the destination as its file name (it named the temporary file)."""
    if error.errno is None:
        return type(error)(f"{error} (saving {path!r})")
    return OSError(error.errno, error.strerror, path)  # OSError picks the subclass by errno


def _temporary_prefix(name):
    """``.<first 32 characters of name>~<hash of name>~``: which destination a temporary
    is for, in a name far below the 255-byte limit of file names."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f".{name[:32]}~{digest}~"


def _host_tag():
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def _create_temporary(folder, name):
    """``(path, fd)`` of a new hidden temporary file for ``name`` in ``folder``, opened for
    writing. Created with mode 0o666 so that the OS applies the umask, as for any new file
    (``tempfile.mkstemp`` makes it 0o600; reading the umask to chmod would race threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    prefix = f"{_temporary_prefix(name)}{_host_tag()}~{os.getpid()}~"
    while True:
        temp_path = os.path.join(folder, f"{prefix}{secrets.token_hex(4)}.tmp")
        try:
            return temp_path, os.open(temp_path, flags, 0o666)
        except FileExistsError:  # a name already taken (practically never): draw another
            continue


def _remove_stale_temporaries(folder, name):
    """Remove temporaries of saves to ``name`` abandoned by killed processes: those whose
    writer (a process of this machine) is gone, and any not modified for
    ``STALE_TEMPORARY_SECONDS`` (including the ``.<name>.<12 hex>.tmp`` of older versions)."""
    prefix, legacy_prefix, host = _temporary_prefix(name), f".{name}.", _host_tag()
    now = time.time()
    try:
        with os.scandir(folder) as entries:
            candidates = [entry for entry in entries if entry.name.endswith(".tmp")]
    except OSError:  # cleaning up is best effort; creating the temporary reports real problems
        return
    for entry in candidates:
        if entry.name.startswith(prefix):
            fields = entry.name[len(prefix):-len(".tmp")].split("~")
            if len(fields) != 3:
                continue
            pid = fields[1]
            writer_gone = (fields[0] == host and pid.isascii() and pid.isdigit()
                           and not _process_alive(int(pid)))
        elif _is_legacy_temporary(entry.name, legacy_prefix):
            writer_gone = False
        else:
            continue
        try:
            if writer_gone or now - entry.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                os.remove(entry.path)
        except OSError:  # its writer renamed it, another saver removed it, or not ours to remove
            pass


def _is_legacy_temporary(entry_name, legacy_prefix):
    token = entry_name[len(legacy_prefix):-len(".tmp")]
    return (entry_name.startswith(legacy_prefix) and entry_name.endswith(".tmp")
            and len(token) == 12 and all(c in "0123456789abcdef" for c in token))


def _process_alive(pid):
    """Whether process ``pid`` of this machine may be running (True when it cannot be told)."""
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill would terminate it
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or not a valid pid
        return True
    return True


def _fsync_folder(folder):
    """Make the rename itself durable (where the OS allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- load --------------------------------------------------------------------------------

def load(path, map_location=None, *, weights_only=True, mmap=None):
    """Read a checkpoint written by ``save`` (or any ``.npz`` of arrays, as a flat dict).

    ``map_location``, ``weights_only`` and ``mmap`` are PyTorch's ``torch.load`` arguments:
    the only location is the CPU (another device is a ValueError); ``mmap`` changes nothing.
    ``weights_only=False`` is needed, as in PyTorch, for a file that holds a whole module
    (``save(model, path)``): its class is imported by name and the object rebuilt from the
    saved attributes, parameters and buffers (no unpickling, no ``__init__`` call). With
    the default ``True`` such a file is a ValueError that says so.

    A file written by PyTorch's ``torch.save`` (a ported ``torch.load(path)``) is read by
    ``minicnn.load_torch_state_dict``, which rebuilds tensors as NumPy arrays and runs no
    code (a whole pickled module is refused with ``TorchCheckpointError``, a ValueError).

    Returns
    -------
    The saved structure: dicts, lists, tuples, NumPy arrays and Python values.

    Raises
    ------
    FileNotFoundError, PermissionError, IsADirectoryError
        ``path`` cannot be opened.
    ValueError
        The file is not a readable ``.npz`` archive or PyTorch checkpoint (truncated,
        corrupt, crafted, a ``.npy``) or would need pickle; the message names the file.
    """
    if isinstance(map_location, (str, device)):
        check_device(map_location, "load(): map_location")
    path = os.fspath(path)
    if _written_by_torch(path):
        # torch.load(path) of a real PyTorch checkpoint, ported as minicnn.load(path): read
        # through the allow-list reader, so it runs no code either.
        from .torch_checkpoint import load_torch_state_dict
        return load_torch_state_dict(path)
    arrays = read_npz(path)
    if _TREE_KEY not in arrays:
        return arrays
    tree = arrays.pop(_TREE_KEY)
    try:
        if tree.shape != () or tree.dtype.kind != "U":
            raise ValueError(f"the {_TREE_KEY} entry is a {tree.dtype} array of shape "
                             f"{tree.shape}, not a text")
        return _decode(json.loads(str(tree)), arrays, 0, modules_allowed=not weights_only)
    except _WholeModule as record:
        raise ValueError(f"load: {path!r} holds a whole module ({record.args[0]}); loading it "
                         f"imports that class's Python module and builds the object, so it "
                         f"needs weights_only=False, as torch.load (use it for files you "
                         f"trust), or save and load model.state_dict() instead") from None
    except (ValueError, RecursionError) as error:  # json's errors are ValueErrors
        raise ValueError(f"load: {path!r} is not a readable minicnn checkpoint: its structure "
                         f"record is damaged ({error})") from error


def _written_by_torch(path):
    """Whether ``path`` looks like a ``torch.save`` file: a zip holding ``*/data.pkl``, or a
    pickle (PyTorch's format before 1.6)."""
    with open(path, "rb") as file:
        head = file.read(4)
        if head.startswith(b"\x80"):
            return True
        if head != b"PK\x03\x04":
            return False
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                return any(name.endswith("/data.pkl") for name in archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            return False  # read_npz reports what is wrong with it


def read_npz(path):
    """The arrays of the ``.npz`` file ``path`` as a dict ``{name: ndarray}``, in file order.

    Every declared size is checked against the file's size before anything is read, so a
    damaged or crafted file cannot make it allocate more than about 1000 times the file's
    size (the most deflate expands). Raises ``ValueError`` naming ``path`` if the file is not
    a readable ``.npz`` (or needs pickle); errors opening ``path`` propagate as they are.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:
        try:
            file_size = os.fstat(file.fileno()).st_size
            with zipfile.ZipFile(file) as archive:
                if any(name.endswith("/data.pkl") for name in archive.namelist()):
                    raise ValueError("it is a PyTorch checkpoint (torch.save): read it with "
                                     "minicnn.load_torch_state_dict")
                return {_array_name(info.filename): _read_member(archive, info, file_size)
                        for info in archive.infolist()}
        except MemoryError:  # sizes are checked first: this is a real file too big for RAM
            raise
        except Exception as error:  # any other failure while parsing means a damaged file
            file.seek(0)
            raise ValueError(f"load: {path!r} is not a readable minicnn checkpoint (.npz): "
                             f"{_what_it_is(file.read(8)) or error}") from error


def _array_name(member_name):
    return member_name[:-len(".npy")] if member_name.endswith(".npy") else member_name


def _what_it_is(head):
    """A hint for files that are something else; '' if nothing is recognised."""
    if head.startswith(b"\x93NUMPY"):
        return "it is a single-array .npy file (numpy.save): open it with numpy.load"
    if head.startswith(b"\x80"):
        return "it is a pickle (a PyTorch checkpoint?): see minicnn.load_torch_state_dict"
    return ""


def _read_member(archive, info, file_size):
    """The array in member ``info``, after checking the sizes it declares."""
    if info.flag_bits & 0x1:
        raise ValueError(f"member {info.filename!r} is encrypted")
    ratio = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: _DEFLATE_MAX_RATIO}.get(
        info.compress_type)
    if ratio is None:
        raise ValueError(f"member {info.filename!r} uses compression method "
                         f"{info.compress_type}, not stored or deflate")
    if info.compress_size > file_size or info.file_size > info.compress_size * ratio + 64:
        raise ValueError(f"member {info.filename!r} declares {info.file_size} bytes from "
                         f"{info.compress_size} on disk, in a file of {file_size} bytes")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"member {info.filename!r} is in .npy format version {version}")
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:  # 2.0 and 3.0 differ only in the header's text encoding (latin-1 / utf-8),
            # which can change a structured dtype's field names but not shape or item size
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        if dtype.hasobject:
            raise ValueError(f"member {info.filename!r} holds Python objects, which would need "
                             "pickle")
        declared, held = math.prod(shape) * dtype.itemsize, info.file_size - member.tell()
        if declared != held:
            raise ValueError(f"member {info.filename!r} declares a {dtype} array of shape "
                             f"{shape} ({declared} bytes) but holds {held} bytes")
        member.seek(0)
        return np.lib.format.read_array(member, allow_pickle=False)
