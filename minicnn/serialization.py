"""``minicnn.save`` / ``minicnn.load``: checkpoints of state dicts as ``.npz`` files.

What can be saved: nested dicts (str or int keys), lists and tuples whose leaves are NumPy
arrays, Tensors (saved as their array), NumPy scalars, and Python ``int``, ``float``,
``bool``, ``str`` and ``None``; that covers ``model.state_dict()``, ``optimizer.state_dict()``,
a scheduler's, and a dict bundling them with an epoch number.

The file is an ordinary ``.npz`` archive (``numpy.load`` opens it): each array is stored under
its path of keys joined by ``/`` (a model's ``features.0.weight``, an optimizer's
``state/0/momentum_buffer``), plus one JSON text entry, ``__minicnn_tree__``, recording the
nesting and the non-array values so that ``load`` rebuilds the same structure. Loading never
unpickles (``allow_pickle=False``): opening a checkpoint cannot run code. A plain ``.npz``
without that entry (e.g. weights exported from PyTorch with ``numpy.savez``) loads as a flat
dict of arrays, ready for ``model.load_state_dict``.

Saving is atomic: the archive is written to a temporary file in the same folder, flushed to
disk (``fsync``), then renamed over the destination (``os.replace``), so a crash or an error
mid-save leaves the previous checkpoint intact, never a truncated one. The file gets the
permissions of any new file (``0o666`` less the umask, as ``numpy.savez`` or ``torch.save``
give), not the owner-only ``0o600`` of ``tempfile.mkstemp``. ``write_npz`` does this for any
dict of arrays (the data cache uses it too).
"""

import json
import os
import secrets
import zipfile

import numpy as np

from .autograd import Tensor

__all__ = ["save", "load", "write_npz"]

_TREE_KEY = "__minicnn_tree__"


def _encode(obj, path, arrays):
    """The JSON description of ``obj``; its arrays are added to ``arrays`` by path name."""
    where = "/".join(str(p) for p in path) or "the top level"
    if isinstance(obj, Tensor):
        obj = obj.data
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype == object:
            raise TypeError(f"save: the array at {where} has dtype object, which cannot be "
                            "saved without pickle")
        name = "/".join(str(p) for p in path) or "array"
        if name in arrays:
            raise ValueError(f"save: two entries are both named {name!r} in the file (e.g. "
                             "the keys 0 and '0' in one dict); rename one")
        arrays[name] = np.asarray(obj)
        return {"array": name, "scalar": isinstance(obj, np.generic)}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} at {where}")
            if isinstance(key, str) and ("/" in key or key == _TREE_KEY):
                raise ValueError(f"save: key {key!r} at {where} contains '/' (the path "
                                 "separator in the file) or is reserved")
            items.append([key, _encode(value, path + [key], arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, path + [i], arrays) for i, value in enumerate(obj)]}
    raise TypeError(f"save: cannot save a {type(obj).__name__} (at {where}); expected nested "
                    "dicts, lists and tuples of arrays, Tensors, numbers, strings and None")


def _decode(node, arrays):
    if "array" in node:
        array = arrays[node["array"]]
        return array[()] if node["scalar"] else array
    if "value" in node:
        return node["value"]
    if "dict" in node:
        return {key: _decode(value, arrays) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(value, arrays) for value in node["list"]]
    return tuple(_decode(value, arrays) for value in node["tuple"])


def save(obj, path):
    """Write ``obj`` (e.g. a state dict, or a dict of several) to ``path`` atomically.

    Parameters
    ----------
    obj : nested dict / list / tuple of arrays, Tensors, numbers, strings, None
    path : str or os.PathLike
        Written exactly as given (no ``.npz`` is appended).
    """
    arrays = {}
    tree = _encode(obj, [], arrays)
    arrays[_TREE_KEY] = np.array(json.dumps(tree))
    write_npz(path, arrays)


def write_npz(path, arrays):
    """Write ``arrays`` (a dict of name -> ndarray) to the ``.npz`` file ``path`` atomically.

    The archive goes to a temporary file in the destination's folder (which must exist),
    is flushed to disk, then renamed over ``path``: readers see the old file or the new one,
    never a part. The new file's mode is ``0o666`` less the umask, like any new file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temp_path, fd = _create_temporary(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise
    _fsync_folder(folder)


def _create_temporary(folder, name):
    """``(path, fd)`` of a new hidden file ``.<name>.<random>.tmp`` in ``folder``, opened for
    writing. Created with mode 0o666 so that the OS applies the umask, as for any new file
    (``tempfile.mkstemp`` makes it 0o600; reading the umask to chmod would race threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp_path = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return temp_path, os.open(temp_path, flags, 0o666)
        except FileExistsError:  # a name already taken (practically never): draw another
            continue


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


def load(path):
    """Read a checkpoint written by ``save`` (or any ``.npz`` of arrays, as a flat dict).

    Returns
    -------
    The saved structure: dicts, lists, tuples, NumPy arrays and Python values.

    Raises
    ------
    ValueError
        If the file is not a readable ``.npz`` archive (e.g. truncated) or would need pickle.
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load: {path!r} is not a readable minicnn checkpoint (.npz): "
                         f"{e}") from e
    if _TREE_KEY not in arrays:
        return arrays
    tree = json.loads(str(arrays.pop(_TREE_KEY)))
    return _decode(tree, arrays)
