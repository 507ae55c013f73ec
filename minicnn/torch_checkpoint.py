"""Read PyTorch checkpoint files (``.pth``/``.pt``) into NumPy arrays, without PyTorch.

The file format
---------------
Since PyTorch 1.6, ``torch.save(obj, path)`` writes an uncompressed zip archive::

    <archive>/data.pkl           the pickle of ``obj``; every tensor in it is a call
                                 torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
    <archive>/data/<key>         the raw bytes of one storage (a flat buffer of elements)
    <archive>/byteorder          "little" or "big" (optional; absent means little-endian)
    <archive>/version            the format version (other small records may follow)

``<archive>`` is the file's stem at save time, or ``archive``: it is found from ``data.pkl``.
A tensor is a strided *view* of a storage: element ``(i, j, ...)`` sits at
``storage[offset + i * stride[0] + j * stride[1] + ...]``. Several tensors may view one
storage (a transposed weight, a slice, tied weights). Inside the pickle a storage appears as a
"persistent id", the tuple ``('storage', storage_type, key, location, numel)``, that names
the record ``data/<key>`` holding its bytes; ``storage_type`` (``torch.FloatStorage``, ...)
gives the element type. This module rebuilds each tensor with
``np.lib.stride_tricks.as_strided`` over the storage's bytes and copies it into an owned,
C-contiguous array: float32/float64/float16/complex/integer/bool tensors keep their type,
bfloat16 (which NumPy lacks) becomes float32 exactly (its 16 bits are the top half of a
float32), and ``nn.Parameter`` becomes a plain array.

Before 1.6 (and with ``_use_new_zipfile_serialization=False`` since), ``torch.save`` wrote
the same pickle into a plain stream instead, followed by the storages' bytes: see
``_load_legacy``. Older published weights, some of torchvision's among them, are such files;
the oldest pickle a tensor as its class (``torch.FloatTensor``) plus a state, see
``_LegacyTensor``.

The safety model
----------------
A pickle is a small program: it may import any global and call it, so loading an untrusted
pickle with ``pickle.load`` can run ``os.system``. Here the unpickler resolves globals only
from a fixed allow-list (``_ALLOWED_GLOBALS``): the tensor and parameter rebuilding functions,
``collections.OrderedDict``, ``torch.Size``, the storage types, the dtypes and the old tensor
classes (``torch.FloatTensor``, ...). None of them is the real PyTorch object: each is a
small stand-in from this module that does only what is needed to build arrays, and refuses
to be modified by the pickle (the ``BUILD`` opcode; an old tensor accepts its state once).
Any other global (``os.system``, ``builtins.eval``, a class from someone's training script)
stops the load with :class:`UnsafeCheckpointError` before anything is called. Tensor views
are bounds-checked against their storage, so a crafted size or stride cannot read memory
outside the file's data.

Sizes are checked before anything is read, so a small crafted file cannot make the loader
allocate much more than the file holds: a storage record must hold exactly the bytes the
pickle declares for it (checked against the zip directory before inflating it, and read with
a bounded read); a record may not declare more bytes than the file could hold (stored, or
deflated at deflate's maximum ratio of 1032:1); the pickle (``data.pkl``, or the legacy
stream) may be at most ``MAX_PICKLE_BYTES`` (16 MiB; real ones are kilobytes to a few MiB:
raise the module attribute for an unusual file you trust), and its opcodes are scanned
first (``pickletools``) so that no length it declares reaches past its end and no memo index
exceeds its size; a view whose elements overlap (a stride of 0, as ``expand()`` makes) is
copied only up to ``MAX_EXPANDED_BYTES`` (1 GiB). A file breaking any of these raises
:class:`TorchCheckpointError`, as does any damaged file: the loader raises no other error
for a file's content.

Files this module does not read, each with an error saying so: the tar-based format of
PyTorch's earliest releases, TorchScript archives (``torch.jit.save``), and checkpoints
holding objects other than tensors, numbers, strings and containers (a whole pickled
``nn.Module``, an optimizer object, NumPy arrays).
"""

import collections
import io
import os
import pickle
import pickletools
import zipfile
from collections.abc import Mapping
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["load_torch_state_dict", "TorchCheckpointError", "UnsafeCheckpointError", "TorchDtype",
           "MAX_PICKLE_BYTES", "MAX_EXPANDED_BYTES"]

MAX_PICKLE_BYTES = 16 * 2**20     # the largest pickle read (data.pkl, or the legacy stream's)
MAX_EXPANDED_BYTES = 2**30        # the largest copy of a view whose elements overlap
_DEFLATE_MAX_RATIO = 1032         # deflate never expands a stored byte more than this


class TorchCheckpointError(ValueError):
    """The file is not a PyTorch checkpoint this module can read (truncated, corrupt, a
    storage record missing, a TorchScript archive, ...)."""


class UnsafeCheckpointError(TorchCheckpointError, pickle.UnpicklingError):
    """The checkpoint's pickle asks for a global (or an operation) outside the allow-list:
    the file is not a plain state dict, and may be malicious. Nothing was executed."""


def load_torch_state_dict(path, *, key=None, strip_prefix=None):
    """Load a file written by ``torch.save`` as NumPy arrays, without importing PyTorch.

    Parameters
    ----------
    path : str, os.PathLike or seekable binary file object
        A ``.pth``/``.pt`` file written by ``torch.save``: the zip format of PyTorch >= 1.6,
        or the legacy format before it.
    key : str or sequence of str, optional
        Pick a nested entry of a training checkpoint: ``key='state_dict'`` returns
        ``checkpoint['state_dict']``; ``key=('model', 'backbone')`` goes two levels down.
        ``None`` (the default) returns the whole saved object.
    strip_prefix : str, optional
        Remove this prefix from every key of the (selected) state dict that starts with it,
        e.g. ``'module.'``, which ``nn.DataParallel`` adds to every name.

    Returns
    -------
    object
        What was saved, with every tensor (and ``nn.Parameter``) replaced by an owned,
        C-contiguous ``np.ndarray`` of the same shape: for a state dict, an ``OrderedDict``
        ``{name: ndarray}`` in the saved order. dtypes are kept (float32, float64, float16,
        int64, uint8, bool, ...), except bfloat16, which becomes float32 exactly.
        ``torch.Size`` becomes a tuple; numbers, strings, lists, tuples and dicts pass
        through; a saved ``torch.float32`` object comes back as a ``TorchDtype`` record.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    TorchCheckpointError (a ValueError)
        Not a checkpoint (a TorchScript archive, an ``.npz``, the tar format of PyTorch's
        earliest releases), a truncated, corrupt or crafted file (sizes that do not add up,
        a pickle over ``MAX_PICKLE_BYTES``: see the module docstring), a missing storage
        record, or a ``key`` that is absent. The message names the file.
    UnsafeCheckpointError (a TorchCheckpointError and a pickle.UnpicklingError)
        The pickle references a global outside the allow-list (for instance ``os.system``):
        the file is not a plain state dict and may be malicious. Nothing was executed.

    Examples
    --------
    >>> state = load_torch_state_dict("resnet50-0676ba61.pth")      # doctest: +SKIP
    >>> state["conv1.weight"].shape, state["conv1.weight"].dtype      # doctest: +SKIP
    ((64, 3, 7, 7), dtype('float32'))
    >>> minicnn.models.resnet50().load_state_dict(state)              # doctest: +SKIP
    """
    source = _describe(path)
    if isinstance(path, (str, os.PathLike)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"checkpoint file {source} does not exist")
        with open(path, "rb") as file:
            loaded = _load(file, source)
    else:
        loaded = _load(path, source)
    if key is not None:
        loaded = _select(loaded, key, source)
    if strip_prefix is not None:
        loaded = _strip_prefix(loaded, strip_prefix)
    return loaded


# --- element types ---------------------------------------------------------------------

class TorchDtype(NamedTuple):
    """A PyTorch element type as this module reads it (immutable, so a pickle cannot alter it).

    ``stored`` is the NumPy type of the bytes on disk, without byte order; ``result`` is
    the dtype of the arrays returned (they differ only for bfloat16 and bool).
    """
    name: str                 # 'bfloat16': the torch.bfloat16 global
    storage_class: str | None  # 'BFloat16Storage': the typed-storage global, if one exists
    stored: str               # 'u2'
    result: str               # 'float32'

    def __repr__(self):
        return f"torch.{self.name}"

    def __setstate__(self, state):
        raise UnsafeCheckpointError(f"the pickle tries to modify {self!r} (BUILD opcode): "
                                    "the file is not a plain state dict and may be malicious")


_DTYPES = (
    TorchDtype("float32", "FloatStorage", "f4", "float32"),
    TorchDtype("float64", "DoubleStorage", "f8", "float64"),
    TorchDtype("float16", "HalfStorage", "f2", "float16"),
    TorchDtype("bfloat16", "BFloat16Storage", "u2", "float32"),
    TorchDtype("complex64", "ComplexFloatStorage", "c8", "complex64"),
    TorchDtype("complex128", "ComplexDoubleStorage", "c16", "complex128"),
    TorchDtype("int64", "LongStorage", "i8", "int64"),
    TorchDtype("int32", "IntStorage", "i4", "int32"),
    TorchDtype("int16", "ShortStorage", "i2", "int16"),
    TorchDtype("int8", "CharStorage", "i1", "int8"),
    TorchDtype("uint8", "ByteStorage", "u1", "uint8"),
    TorchDtype("bool", "BoolStorage", "u1", "bool"),
    # Newer types have no typed-storage class: tensors of them are saved with
    # _rebuild_tensor_v3 over an untyped (byte) storage, the dtype passed separately.
    TorchDtype("uint16", None, "u2", "uint16"),
    TorchDtype("uint32", None, "u4", "uint32"),
    TorchDtype("uint64", None, "u8", "uint64"),
)
_BYTE = next(d for d in _DTYPES if d.name == "uint8")  # an untyped storage's elements


def _decode(view, dtype):
    """An owned C-contiguous array of ``dtype.result`` holding a strided view's elements."""
    if dtype.name == "bfloat16":  # a bfloat16 is the top 16 bits of a float32: shift them up
        result = np.empty(view.shape, np.float32)
        np.left_shift(view, 16, out=result.view(np.uint32), dtype=np.uint32)
        return result
    if dtype.name == "bool":
        return np.not_equal(view, 0, out=np.empty(view.shape, np.bool_))
    return np.array(view, dtype=np.dtype(dtype.stored).newbyteorder("="), order="C")


# --- the stand-ins the pickle may reach ------------------------------------------------

class _Storage(NamedTuple):
    """One ``data/<key>`` record: its bytes, their element type (uint8 for an untyped
    storage) and byte order ('<' or '>')."""
    key: str
    data: bytes
    dtype: TorchDtype
    byteorder: str

    def __setstate__(self, state):
        raise UnsafeCheckpointError(f"the pickle tries to modify storage {self.key!r} "
                                    "(BUILD opcode): the file is not a plain state dict")


class _TorchClass(NamedTuple):
    """A torch class the pickle may name but never instantiates: Tensor, Parameter,
    UntypedStorage (as a persistent id's storage type)."""
    name: str

    def __setstate__(self, state):
        raise UnsafeCheckpointError(f"the pickle tries to modify {self.name} (BUILD opcode)")


_UNTYPED_STORAGE = _TorchClass("torch.storage.UntypedStorage")


class _AllowedCallable(NamedTuple):
    """A function the pickle may call. A NamedTuple, so the pickle cannot rebind it."""
    name: str
    function: Callable

    def __call__(self, *args):
        return self.function(*args)

    def __setstate__(self, state):
        raise UnsafeCheckpointError(f"the pickle tries to modify {self.name} (BUILD opcode): "
                                    "the file is not a plain state dict and may be malicious")


def _rebuild_tensor(storage, storage_offset, size, stride, dtype=None):
    """The array a tensor views: ``as_strided`` over its storage, bounds-checked, copied."""
    if not isinstance(storage, _Storage):
        raise UnsafeCheckpointError(f"a tensor is rebuilt from {type(storage).__name__}, not "
                                    "from a storage record: not a plain state dict")
    dtype = dtype if dtype is not None else storage.dtype
    if not isinstance(dtype, TorchDtype):
        raise TorchCheckpointError(f"a tensor's dtype {dtype!r} is not a torch dtype")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    offset = _int_tuple((storage_offset,), "storage_offset")[0]
    if len(size) != len(stride):
        raise TorchCheckpointError(f"tensor size {size} and stride {stride} differ in length")
    on_disk = np.dtype(dtype.stored).newbyteorder(storage.byteorder)
    if len(storage.data) % on_disk.itemsize:
        raise TorchCheckpointError(f"storage {storage.key!r} holds {len(storage.data)} bytes, "
                                   f"not a whole number of {dtype!r} elements")
    elements = np.frombuffer(storage.data, dtype=on_disk)
    if 0 in size:
        return np.empty(size, dtype=dtype.result)
    last = offset + sum((n - 1) * step for n, step in zip(size, stride))
    if last >= elements.size:
        raise TorchCheckpointError(
            f"a tensor with size {size}, stride {stride} and offset {offset} reaches element "
            f"{last} of storage {storage.key!r}, which holds {elements.size}: the file is corrupt")
    result_bytes = int(np.prod(size, dtype=object)) * np.dtype(dtype.result).itemsize
    if result_bytes > max(len(storage.data), MAX_EXPANDED_BYTES):  # only overlapping views can
        raise TorchCheckpointError(
            f"a tensor with size {size} and stride {stride} repeats the elements of storage "
            f"{storage.key!r} ({len(storage.data)} bytes) into {result_bytes} bytes, more than "
            f"MAX_EXPANDED_BYTES ({MAX_EXPANDED_BYTES}): refusing to copy it")
    view = np.lib.stride_tricks.as_strided(
        elements[offset:], shape=size, strides=[step * on_disk.itemsize for step in stride],
        writeable=False)
    return _decode(view, dtype)


def _int_tuple(values, what):
    if not isinstance(values, tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise TorchCheckpointError(f"tensor {what} {values!r} is not a tuple of "
                                   "non-negative integers: the file is corrupt")
    return values


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    # The storage is untyped (bytes); offset, size and stride count elements of ``dtype``.
    return _rebuild_tensor(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    return _checked_array(data, "a Parameter")


def _rebuild_from_type_v2(rebuild, tensor_class, args, state):
    """A tensor saved with Python attributes (``t.name = ...``): the attributes are dropped."""
    if not isinstance(tensor_class, _TorchClass) or tensor_class is _UNTYPED_STORAGE:
        raise UnsafeCheckpointError(f"a tensor of class {tensor_class!r} is not a plain tensor")
    return _checked_array(rebuild(*args), f"a {tensor_class.name}")


def _checked_array(value, what):
    if not isinstance(value, np.ndarray):
        raise UnsafeCheckpointError(f"{what} is built from {type(value).__name__}, not a tensor")
    return value


def _torch_size(dims=()):
    return _int_tuple(tuple(dims), "torch.Size")


class _LegacyTensor:
    """A tensor as PyTorch 0.1.10 pickled it: its class (``torch.FloatTensor``, ...) called
    with no arguments, then the BUILD opcode passing ``(storage, offset, size, stride)`` to
    ``__setstate__``. When unpickling ends, ``_resolve_legacy_tensors`` swaps in the array."""
    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if self.array is not None or not (isinstance(state, tuple) and len(state) == 4):
            raise UnsafeCheckpointError("unexpected BUILD of a PyTorch 0.1 tensor: the file is "
                                        "not a plain state dict")
        self.array = _rebuild_tensor(*state)


_LEGACY_TENSOR_CLASSES = ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                          "ShortTensor", "CharTensor", "ByteTensor")


def _resolve_legacy_tensors(obj, seen):
    """``obj`` with each ``_LegacyTensor`` in its dicts, lists and tuples replaced by its array
    (dicts and lists in place: the pickle may share them)."""
    if isinstance(obj, _LegacyTensor):
        if obj.array is None:
            raise TorchCheckpointError("a PyTorch 0.1 tensor was never given its data: the file "
                                       "is corrupt")
        return obj.array
    if id(obj) in seen:
        return obj
    if isinstance(obj, dict):
        seen.add(id(obj))
        for key, value in list(obj.items()):
            obj[key] = _resolve_legacy_tensors(value, seen)
    elif isinstance(obj, list):
        seen.add(id(obj))
        obj[:] = [_resolve_legacy_tensors(value, seen) for value in obj]
    elif type(obj) is tuple:
        return tuple(_resolve_legacy_tensors(value, seen) for value in obj)
    return obj


class _Ignored:
    """What the inert rebuild functions of a legacy file's first pass return: BUILD included,
    it ignores everything."""
    __slots__ = ()

    def __setstate__(self, state):
        pass


def _build_nothing(*args):
    return _Ignored()


def _allowed_globals(build_tensors=True):
    """What the pickle may name; ``build_tensors=False`` gives inert rebuild functions (the
    first pass over a legacy file, before its storages' bytes are read)."""
    rebuilds = {
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,  # PyTorch < 0.4
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    }
    for name in _LEGACY_TENSOR_CLASSES:
        rebuilds[("torch", name)] = _LegacyTensor
        rebuilds[("torch.cuda", name)] = _LegacyTensor  # saved from a GPU, loaded on the CPU
    functions = {name: function if build_tensors else _build_nothing
                 for name, function in rebuilds.items()}
    functions[("collections", "OrderedDict")] = collections.OrderedDict
    functions[("torch", "Size")] = _torch_size
    allowed = {(module, name): _AllowedCallable(f"{module}.{name}", function)
               for (module, name), function in functions.items()}
    allowed[("torch", "Tensor")] = _TorchClass("torch.Tensor")
    allowed[("torch.nn.parameter", "Parameter")] = _TorchClass("torch.nn.Parameter")
    allowed[("torch.storage", "UntypedStorage")] = _UNTYPED_STORAGE
    for dtype in _DTYPES:
        allowed[("torch", dtype.name)] = dtype
        if dtype.storage_class is not None:
            allowed[("torch", dtype.storage_class)] = dtype
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()
_SCAN_GLOBALS = _allowed_globals(build_tensors=False)


class _CheckpointUnpickler(pickle.Unpickler):
    """Resolves globals from an allow-list only, and storages through ``read_storage``,
    a function ``(key, dtype, numel) -> _Storage``."""

    def __init__(self, file, source, read_storage=None, allowed=_ALLOWED_GLOBALS):
        super().__init__(file, encoding="utf-8")
        self._source, self._read_storage, self._allowed = source, read_storage, allowed
        self._storages = {}  # key -> _Storage: read once, however many tensors view it

    def find_class(self, module, name):
        # Called for every global the pickle names (GLOBAL, STACK_GLOBAL, INST, EXT opcodes).
        allowed = self._allowed.get((module, name))
        if allowed is None:
            raise UnsafeCheckpointError(
                f"{self._source}: refusing to load global '{module}.{name}', which is not on "
                "minicnn's allow-list (tensors, storages, dtypes, OrderedDict). The file is not "
                "a plain state dict of tensors and may be malicious; nothing was executed. "
                "Load it only if you trust it, with PyTorch, and re-save its state_dict().")
        return allowed

    def persistent_load(self, pid):
        if self._read_storage is None:  # the small header pickles of the legacy format
            raise UnsafeCheckpointError(f"{self._source}: unexpected persistent id {pid!r}")
        key, dtype, numel, view = self._parse_storage_id(pid)
        if key not in self._storages:
            self._storages[key] = self._read_storage(key, dtype, numel)
        storage = self._storages[key]
        return storage if view is None else self._storage_view(storage, view)

    def _parse_storage_id(self, pid):
        """``('storage', storage_type, key, location, numel[, view])``: the legacy format adds
        ``view``, None except in files of PyTorch < 0.4. The location (device) is ignored."""
        is_storage = isinstance(pid, tuple) and pid[:1] in (("storage",), (b"storage",))
        if not (is_storage and len(pid) in (5, 6)):
            raise UnsafeCheckpointError(f"{self._source}: unexpected persistent id {pid!r} "
                                        "(expected a storage record): not a plain state dict")
        storage_type, key, _location, numel = pid[1:5]
        key = key.decode("ascii") if isinstance(key, bytes) else key
        if not (isinstance(storage_type, TorchDtype) or storage_type is _UNTYPED_STORAGE) or \
                not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise UnsafeCheckpointError(f"{self._source}: malformed storage record {pid!r}")
        dtype = _BYTE if storage_type is _UNTYPED_STORAGE else storage_type
        return key, dtype, numel, pid[5] if len(pid) == 6 else None

    def _storage_view(self, root, view):
        """Elements ``[offset, offset + numel)`` of ``root``, named ``view_key``."""
        view_key, offset, numel = view
        itemsize = np.dtype(root.dtype.stored).itemsize
        _int_tuple((offset, numel), "storage view")
        if (offset + numel) * itemsize > len(root.data):
            raise TorchCheckpointError(f"{self._source}: storage view {view!r} reaches past the "
                                       f"end of storage {root.key!r}: the file is corrupt")
        data = root.data[offset * itemsize:(offset + numel) * itemsize]
        return _Storage(str(view_key), data, root.dtype, root.byteorder)


class _StorageScanner(_CheckpointUnpickler):
    """A first pass over a legacy pickle: records each storage's type and size, builds nothing."""

    def __init__(self, file, source):
        super().__init__(file, source, allowed=_SCAN_GLOBALS)
        self.declared = {}  # key -> (dtype, numel), in the order the pickle names them

    def persistent_load(self, pid):
        key, dtype, numel, _view = self._parse_storage_id(pid)
        self.declared.setdefault(key, (dtype, numel))


def _unpickle(unpickler, what, source):
    """Run ``unpickler`` (over a pickle that ``_checked_pickle`` has scanned)."""
    try:
        return _resolve_legacy_tensors(unpickler.load(), set())
    except TorchCheckpointError as error:  # those raised while rebuilding do not name the file
        if str(error).startswith(source):
            raise
        raise type(error)(f"{source}: {error}") from error
    except MemoryError:  # after the checks: a real tensor too big for this machine
        raise
    except Exception as error:  # any other failure means a malformed pickle stream
        raise TorchCheckpointError(
            f"{source}: {what} is truncated or corrupt, or is not a PyTorch checkpoint pickle "
            f"({type(error).__name__}: {error})") from error


class _BoundedReader:
    """``file`` up to position ``stop``: a read never asks the file for more than is left,
    so a huge declared length comes back short instead of being allocated."""

    def __init__(self, file, stop):
        self._file, self._stop = file, stop

    def _left(self):
        return max(self._stop - self._file.tell(), 0)

    def read(self, n=-1):
        return self._file.read(self._left() if n is None or n < 0 else min(n, self._left()))

    def readline(self):
        return self._file.readline(self._left())

    def tell(self):
        return self._file.tell()


def _checked_pickle(file, source, what):
    """The bytes of the pickle starting at ``file``'s position (which is left after its STOP),
    once its opcodes are checked: it ends within ``MAX_PICKLE_BYTES`` and the file, every
    length it declares (bytes, strings, frames) fits in it, and no memo index exceeds its
    size. The C unpickler allocates a declared length, or a memo up to the index, before
    reading: a 368-byte pickle declaring 2**40 bytes would raise MemoryError."""
    start = file.tell()
    stop = min(file.seek(0, os.SEEK_END), start + MAX_PICKLE_BYTES)
    file.seek(start)
    largest_memo_index = 0
    try:
        for opcode, arg, position in pickletools.genops(_BoundedReader(file, stop)):
            if opcode.name == "FRAME" and position + 9 + arg > stop:
                raise ValueError(f"a frame at byte {position} declares {arg} bytes")
            if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
                largest_memo_index = max(largest_memo_index, arg)
        end = file.tell()
        if largest_memo_index >= end - start:  # real pickles number their memo 0, 1, 2, ...
            raise ValueError(f"memo index {largest_memo_index} in a pickle of {end - start} bytes")
    except Exception as error:  # genops raises ValueError for short data and bad opcodes
        if stop - start == MAX_PICKLE_BYTES:
            error = f"{error}; or the pickle is larger than MAX_PICKLE_BYTES ({stop - start})"
        raise TorchCheckpointError(f"{source}: {what} is truncated or corrupt ({error})") from None
    file.seek(start)
    return file.read(end - start)


def _load(file, source):
    """Read the checkpoint in ``file`` (zip or legacy format, told apart by the first bytes)."""
    start = file.tell()
    head = file.read(512)
    file.seek(start)
    if head.startswith(b"\x80"):  # a pickle's first opcode (PROTO): the legacy format
        return _load_legacy(file, source)
    file_size = file.seek(0, os.SEEK_END) - start
    file.seek(start)
    try:
        archive = zipfile.ZipFile(file)
    except MemoryError:
        raise
    except Exception as error:  # BadZipFile, EOFError, OSError, ...: a damaged directory
        raise TorchCheckpointError(_not_a_checkpoint(head, source)) from error
    with archive:
        return _load_zip(archive, source, file_size)


def _describe(path):
    if isinstance(path, (str, os.PathLike)):
        return repr(os.fspath(path))
    return repr(getattr(path, "name", "<file object>"))


def _not_a_checkpoint(head, source):
    """Why a file starting with ``head`` is not a readable checkpoint."""
    if not head:
        return f"{source} is empty (0 bytes): the download or save did not complete"
    if head[257:262] == b"ustar":
        return (f"{source} is a tar archive: the checkpoint format of PyTorch's earliest "
                "releases, which minicnn does not read. Re-save it once with PyTorch: "
                "torch.save(torch.load(path), path, _use_new_zipfile_serialization=True)")
    if head.startswith(b"PK"):
        return (f"{source} starts like a zip archive but its directory cannot be read: the file "
                "is truncated or corrupt (download or save it again)")
    return (f"{source} is not a PyTorch checkpoint: torch.save writes a zip archive (or, before "
            f"PyTorch 1.6, a pickle stream), and this file starts with {head[:8]!r}")


# --- the zip format (PyTorch >= 1.6) ----------------------------------------------------

def _load_zip(archive, source, file_size):
    prefix = _archive_prefix(archive, source)
    byteorder = _byteorder(archive, prefix, source, file_size)

    def read_storage(key, dtype, numel):
        record = f"{prefix}/data/{key}"
        nbytes = numel * np.dtype(dtype.stored).itemsize
        data = _read_record(archive, record, source, file_size, what="storage record",
                            size=nbytes, declared=f"the pickle declares {numel} {dtype!r} "
                                                  f"elements ({nbytes} bytes)")
        return _Storage(key, data, dtype, byteorder)

    name = f"{prefix}/data.pkl"
    pickled = _read_record(archive, name, source, file_size, limit=MAX_PICKLE_BYTES)
    pickled = _checked_pickle(io.BytesIO(pickled), source, name)
    unpickler = _CheckpointUnpickler(io.BytesIO(pickled), source, read_storage)
    return _unpickle(unpickler, name, source)


def _archive_prefix(archive, source):
    """The top folder holding ``data.pkl`` (the file's stem at save time, or 'archive')."""
    names = archive.namelist()
    prefixes = [name[:-len("/data.pkl")] for name in names
                if name.endswith("/data.pkl") and name.count("/") == 1]
    if len(prefixes) != 1:
        hint = " (it looks like a NumPy .npz file: use np.load)" if names and all(
            name.endswith(".npy") for name in names) else ""
        found = "several" if prefixes else "no"
        raise TorchCheckpointError(f"{source} is a zip archive with {found} '<folder>/data.pkl' "
                                   f"record(s), so not a torch.save checkpoint{hint}")
    prefix = prefixes[0]
    if f"{prefix}/constants.pkl" in names or any(n.startswith(f"{prefix}/code/") for n in names):
        raise TorchCheckpointError(
            f"{source} is a TorchScript archive (torch.jit.save), not a state dict: in PyTorch, "
            "save model.state_dict() with torch.save and load that file instead")
    return prefix


def _byteorder(archive, prefix, source, file_size):
    """'<' or '>' for the storages' bytes; the record is absent in early zip files (little)."""
    record = f"{prefix}/byteorder"
    if record not in archive.namelist():
        return "<"
    order = _read_record(archive, record, source, file_size, limit=16)
    order = order.decode("ascii", "replace").strip()
    if order not in ("little", "big"):
        raise TorchCheckpointError(f"{source}: record {record!r} says {order!r}, "
                                   "expected 'little' or 'big'")
    return "<" if order == "little" else ">"


def _read_record(archive, name, source, file_size, what="record", *, size=None, declared=None,
                 limit=None):
    """The bytes of record ``name``: exactly ``size`` (``declared`` says who declared it) or at
    most ``limit``, both checked against the zip directory before reading, and read with a
    bounded read (a directory that understates the size fails the CRC or the length)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise TorchCheckpointError(f"{source}: {what} {name!r} is missing from the archive: "
                                   "the file is truncated or corrupt") from None
    if size is not None and info.file_size != size:
        raise TorchCheckpointError(f"{source}: {what} {name!r} holds {info.file_size} bytes, "
                                   f"but {declared}: the file is corrupt")
    if limit is not None and info.file_size > limit:
        limit_name = " (MAX_PICKLE_BYTES)" if limit == MAX_PICKLE_BYTES else ""
        raise TorchCheckpointError(f"{source}: {what} {name!r} is {info.file_size} bytes, more "
                                   f"than the {limit}{limit_name} accepted")
    ratio = _DEFLATE_MAX_RATIO if info.compress_type == zipfile.ZIP_DEFLATED else 1
    if info.compress_size > file_size or info.file_size > info.compress_size * ratio + 64:
        raise TorchCheckpointError(f"{source}: {what} {name!r} declares {info.file_size} bytes "
                                   f"from {info.compress_size} on disk, in a file of "
                                   f"{file_size} bytes: the file is corrupt")
    try:
        with archive.open(info) as record:
            data = record.read(info.file_size + 1)
    except MemoryError:
        raise
    except Exception as error:  # BadZipFile, zlib.error, NotImplementedError, OSError, ...
        raise TorchCheckpointError(f"{source}: {what} {name!r} cannot be read ({error}): the "
                                   "file is truncated or corrupt") from error
    if len(data) != info.file_size:
        raise TorchCheckpointError(f"{source}: {what} {name!r} holds {len(data)} bytes, the "
                                   f"archive's directory says {info.file_size}: the file is "
                                   "corrupt")
    return data


# --- the legacy format (PyTorch 0.4 to 1.5, and later with the zip format turned off) -------

_LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001


def _load_legacy(file, source):
    """Read the pickle stream ``torch.save`` wrote before PyTorch 1.6::

        pickle(magic number) pickle(1001) pickle(sys_info) pickle(obj) pickle(storage keys)
        then for each key: numel (int64) and the storage's bytes, both little-endian

    The storages' bytes come after the pickle that uses them, so ``obj`` is unpickled twice:
    first by ``_StorageScanner`` (same allow-list, rebuilding nothing) to learn each storage's
    element type and where the pickle ends, then for real, over the storages read in between.
    """
    def header(what):
        pickled = io.BytesIO(_checked_pickle(file, source, what))
        return _unpickle(_CheckpointUnpickler(pickled, source, allowed={}), what, source)

    magic = header("magic number")
    if magic != _LEGACY_MAGIC_NUMBER:
        raise TorchCheckpointError(
            f"{source} is not a PyTorch checkpoint: it is a pickle, but not the legacy format "
            f"torch.save wrote before PyTorch 1.6 (it starts with {magic!r:.60})")
    version, sys_info = header("version"), header("sys_info")
    if version != _LEGACY_PROTOCOL_VERSION:
        raise TorchCheckpointError(f"{source}: legacy format version {version!r}, expected "
                                   f"{_LEGACY_PROTOCOL_VERSION}")
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
        raise TorchCheckpointError(f"{source}: only little-endian legacy files are supported "
                                   f"(sys_info {sys_info!r})")
    pickled = _checked_pickle(file, source, "the legacy pickle")
    scanner = _StorageScanner(io.BytesIO(pickled), source)
    _unpickle(scanner, "the legacy pickle", source)
    keys = header("the storage key list")
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys) or \
            set(keys) != set(scanner.declared):
        raise TorchCheckpointError(f"{source}: the storage key list {keys!r} does not match the "
                                   "storages the pickle names: the file is corrupt")
    data_start = file.tell()
    end_of_file = file.seek(0, os.SEEK_END)
    file.seek(data_start)
    storages = {}
    for key in keys:
        dtype, numel = scanner.declared[key]
        nbytes = numel * np.dtype(dtype.stored).itemsize
        stored_numel = int.from_bytes(file.read(8), "little", signed=True)
        left = end_of_file - file.tell()
        if stored_numel != numel or nbytes > left:
            raise TorchCheckpointError(
                f"{source}: storage {key!r} should hold {numel} {dtype!r} elements ({nbytes} "
                f"bytes); the file records {stored_numel} elements and has {left} bytes left: "
                "the file is truncated or corrupt")
        storages[key] = _Storage(key, file.read(nbytes), dtype, "<")
    unpickler = _CheckpointUnpickler(io.BytesIO(pickled), source,
                                     lambda key, dtype, numel: storages[key])
    return _unpickle(unpickler, "the legacy pickle", source)


# --- choosing inside a checkpoint -------------------------------------------------------

def _select(loaded, key, source):
    path = tuple(key) if isinstance(key, (tuple, list)) else (key,)
    selected = loaded
    for depth, part in enumerate(path):
        if not isinstance(selected, Mapping) or part not in selected:
            where = "".join(f"[{p!r}]" for p in path[:depth]) or "the checkpoint"
            entries = list(selected) if isinstance(selected, Mapping) else type(selected).__name__
            raise TorchCheckpointError(f"key={key!r}: {where} in {source} has no entry {part!r} "
                                       f"(it holds {entries})")
        selected = selected[part]
    return selected


def _strip_prefix(state, prefix):
    if not isinstance(prefix, str):
        raise TypeError(f"strip_prefix must be a str such as 'module.', got {prefix!r}")
    if not isinstance(state, Mapping):
        raise TypeError(f"strip_prefix={prefix!r} needs a state dict, but the loaded object is "
                        f"a {type(state).__name__} (pick one with key=)")
    return collections.OrderedDict(
        (name[len(prefix):] if isinstance(name, str) and name.startswith(prefix) else name, value)
        for name, value in state.items())
