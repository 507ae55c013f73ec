"""The Tensor's PyTorch surface: its operators, methods and Python protocols.

``Tensor`` (in ``autograd.py``) holds the data and the graph; this mixin gives it PyTorch's
methods, each a thin wrapper over a function in ``minicnn.ops`` (where the math and the
backward live), so ``x.sum(dim=1)`` and ``minicnn.sum(x, dim=1)`` are one code path.

Names and meanings are PyTorch's, and a few differ from NumPy's:

* ``size()`` is a method (``t.size()``, ``t.size(0)``) giving a ``Size`` (a tuple printed
  as ``minicnn.Size([3, 4])``); ``numel()`` counts the elements. ``.shape`` stays a plain
  tuple (one difference from PyTorch, where it is a ``Size`` too): error messages all over
  minicnn show shapes as ``(3, 4)`` and the many shape reads of a step stay cheap.
* ``max(dim)``/``min(dim)`` return ``(values, indices)`` named tuples; ``max()`` a 0-d
  tensor; ``amax`` values only. ``transpose(d0, d1)`` swaps two dims; ``permute`` takes all.
* Reductions take ``dim=``/``keepdim=``; NumPy's ``axis=``/``keepdims=`` are aliases.
* ``view``, ``t``/``transpose``/``permute``, ``squeeze``/``unsqueeze``, ``narrow`` and basic
  indexing (``t[0]``, ``t[:, 1:]``) share memory with their input, as in PyTorch (a ``view``
  that would need a copy raises); ``expand`` is a read-only view; ``reshape`` copies only
  when it must; ``repeat``, ``clone`` and advanced indexing (integer arrays, masks) copy.

NumPy interplay: ``np.asarray(t)`` is a read-only view of the data (so NumPy functions,
``np.testing`` and matplotlib take tensors without a writable alias that could change a
tensor behind autograd's back); ``np.array(t)`` is a writable copy. ``ndarray * t``
reaches ``Tensor.__rmul__``, so the result is a tensor in the graph; NumPy's ufuncs called
on a tensor (``np.exp(t)``) raise ``TypeError``: use ``t.exp()`` or ``minicnn.exp(t)``.
"""

import builtins
import math

import numpy as np

from . import ops
from ._checks import is_int
from .device import CPU, check_device
from .device import device as Device
from .dtypes import as_dtype

__all__ = ["TensorMethods", "Size", "set_printoptions"]


class Size(tuple):
    """A tensor's shape (PyTorch's ``torch.Size``): a tuple of ints that prints as
    ``minicnn.Size([3, 4])`` and knows its ``numel()``."""

    def __repr__(self):
        return f"minicnn.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item  # x.size()[1:] is a Size

    def numel(self):
        return math.prod(self)


# The names ``type()`` gives, as PyTorch's 'torch.FloatTensor'.
_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
               "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
_DTYPE_OF_TYPE_NAME = {f"{prefix}.{name}": np.dtype(dtype) for dtype, name in _TYPE_NAMES.items()
                       for prefix in ("minicnn", "torch")}


def _one_element(t, what):
    """The Python number in a one-element tensor (PyTorch's error otherwise)."""
    if t.data.size != 1:
        raise RuntimeError(f"a Tensor with {t.data.size} elements cannot be converted to "
                           f"Scalar ({what} needs exactly one element; shape {tuple(t.shape)})")
    return t.data.item()


class TensorMethods:
    """Methods of ``Tensor``; see the module docstring. Needs ``self.data`` (an ndarray) and
    ``self.requires_grad``."""

    __slots__ = ()

    # NumPy defers to Tensor in ``ndarray + Tensor`` (so that Tensor.__radd__ runs, with the
    # operand as it was given: a NumPy scalar never upcasts a float32 tensor), and NumPy's
    # ufuncs refuse tensors (``np.exp(t)``: use ``t.exp()`` or ``minicnn.exp(t)``). A
    # ufunc override would see NumPy scalars already turned into 0-d arrays, which promote
    # differently (see ops.elementwise.result_type).
    __array_ufunc__ = None

    # --- shape, dtype, device -----------------------------------------------------------
    @property
    def shape(self):
        """The shape, a plain tuple (NumPy's; ``size()`` gives PyTorch's ``Size``). Plain so
        that error messages show ``(2, 3)`` and the many shape reads of a step stay cheap."""
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        """Always ``minicnn.device('cpu')``: minicnn computes on the CPU only."""
        return CPU

    is_cuda = False

    def size(self, dim=None):
        """The shape as a ``Size`` (a tuple), or the length of dim ``dim`` (negatives count
        from the end)."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[ops.reduce.normalize_axis(dim, self.ndim, "size")]

    def dim(self):
        """The number of dims (``ndim``)."""
        return self.data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements."""
        return self.data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_contiguous(self):
        return self.data.flags.c_contiguous

    # --- Python protocols ---------------------------------------------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        # Python's fallback (t[0], t[1], ... until IndexError) would yield nothing for a 0-d
        # tensor instead of failing.
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __contains__(self, element):
        if not _is_operand(element):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element).__name__}")
        return bool((self == element).data.any())

    def __bool__(self):
        # Without this every tensor is true: ``if x == y`` would always pass.
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is "
                               f"ambiguous (shape {tuple(self.shape)}; use .any() or .all())")
        return bool(self.data)

    def __float__(self):
        return builtins.float(_one_element(self, "float()"))

    def __int__(self):
        return builtins.int(_one_element(self, "int()"))

    def __complex__(self):
        return builtins.complex(_one_element(self, "complex()"))

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an "
                            f"index (got dtype {self.dtype}, shape {tuple(self.shape)})")
        return self.data.item()

    def __format__(self, format_spec):
        # PyTorch's rule: a 0-d tensor formats as its number (f"{loss:.3f}"); any other
        # tensor as object.__format__ (its str for an empty spec, TypeError otherwise).
        if self.ndim == 0:
            return format(self.data.item(), format_spec)
        return object.__format__(self, format_spec)

    def __array__(self, dtype=None, copy=None):
        """The data for NumPy: a read-only view (``np.asarray(t)``), or a writable copy when
        a copy is asked for or a dtype needs one."""
        if copy or (dtype is not None and np.dtype(dtype) != self.data.dtype):
            if copy is False:
                raise ValueError(f"Tensor.__array__: a copy is needed to convert "
                                 f"{self.dtype} to {np.dtype(dtype)}, but copy=False")
            return np.array(self.data, dtype=dtype)
        view = self.data.view()
        view.flags.writeable = False
        return view

    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    def __repr__(self):
        return _tensor_repr(self)

    # --- conversions --------------------------------------------------------------------
    def item(self):
        """The one element as a Python number."""
        return _one_element(self, "item()")

    def tolist(self):
        """The data as (nested) Python lists of Python numbers; a 0-d tensor as a number."""
        return self.data.tolist()

    def numpy(self, *, force=False):
        """The underlying array, shared (not copied). Like PyTorch, refused for a tensor that
        requires grad: ``t.detach().numpy()`` says that the array is outside the graph."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self.data

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
           memory_format=None):
        """This tensor on ``device`` (the CPU only) in ``dtype``: ``to(minicnn.float64)``,
        ``to("cpu")``, ``to("cpu", minicnn.float64)``, ``to(other_tensor)`` (its dtype).
        ``self`` when nothing changes (unless ``copy=True``); floating conversions stay in
        the graph."""
        for arg in args:
            if isinstance(arg, TensorMethods):
                dtype = arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        check_device(device, "Tensor.to: device")
        result = self if dtype is None else self._converted(as_dtype(dtype, "Tensor.to: dtype"))
        return result.clone() if copy and result is self else result

    def _converted(self, dtype):
        """This tensor in ``dtype``: in the graph between floating dtypes (as PyTorch), a
        tensor outside it for integer and bool targets (which carry no gradient)."""
        if dtype == self.dtype:
            return self
        if dtype.kind == "f" and self.dtype.kind == "f":
            return ops.elementwise.cast(self, dtype)
        return type(self)(self.data.astype(dtype))

    def float(self):
        """This tensor as float32 (itself if it already is); the gradient flows back."""
        return self._converted(np.dtype(np.float32))

    def double(self):
        """This tensor as float64 (itself if it already is); the gradient flows back."""
        return self._converted(np.dtype(np.float64))

    def half(self):
        """This tensor as float16 (for storage: minicnn's ops compute in float32/64)."""
        return self._converted(np.dtype(np.float16))

    def long(self):
        return self._converted(np.dtype(np.int64))

    def int(self):
        return self._converted(np.dtype(np.int32))

    def short(self):
        return self._converted(np.dtype(np.int16))

    def char(self):
        return self._converted(np.dtype(np.int8))

    def byte(self):
        return self._converted(np.dtype(np.uint8))

    def bool(self):
        return self._converted(np.dtype(np.bool_))

    def type(self, dtype=None):
        """With no argument, the type's name (``'minicnn.FloatTensor'``, PyTorch's
        ``'torch.FloatTensor'``); with a dtype (or such a name), the converted tensor."""
        if dtype is None:
            return f"minicnn.{_TYPE_NAMES.get(self.dtype.name, self.dtype.name)}"
        if isinstance(dtype, str) and dtype in _DTYPE_OF_TYPE_NAME:
            dtype = _DTYPE_OF_TYPE_NAME[dtype]
        return self._converted(as_dtype(dtype, "Tensor.type: dtype"))

    def type_as(self, other):
        return self._converted(other.dtype)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        check_device("cuda" if device is None else device, "Tensor.cuda")

    # --- arithmetic operators -----------------------------------------------------------
    # Operands that are not numbers give NotImplemented, so Python raises its usual
    # "unsupported operand type(s)" TypeError (and ``t == None`` is False), as in PyTorch.
    def __add__(self, other):
        return ops.elementwise.add(self, other) if _is_operand(other) else NotImplemented

    def __radd__(self, other):
        return ops.elementwise.add(other, self) if _is_operand(other) else NotImplemented

    def __sub__(self, other):
        return ops.elementwise.sub(self, other) if _is_operand(other) else NotImplemented

    def __rsub__(self, other):
        return ops.elementwise.sub(other, self) if _is_operand(other) else NotImplemented

    def __mul__(self, other):
        return ops.elementwise.mul(self, other) if _is_operand(other) else NotImplemented

    def __rmul__(self, other):
        return ops.elementwise.mul(other, self) if _is_operand(other) else NotImplemented

    def __truediv__(self, other):
        return ops.elementwise.div(self, other) if _is_operand(other) else NotImplemented

    def __rtruediv__(self, other):
        return ops.elementwise.div(other, self) if _is_operand(other) else NotImplemented

    def __floordiv__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return ops.elementwise.div(self, other, rounding_mode="floor")

    def __rfloordiv__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return ops.elementwise.div(other, self, rounding_mode="floor")

    def __pow__(self, other):
        return ops.elementwise.pow(self, other) if _is_operand(other) else NotImplemented

    def __rpow__(self, other):
        return ops.elementwise.pow(other, self) if _is_operand(other) else NotImplemented

    def __neg__(self):
        return ops.elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.elementwise.abs(self)

    def __matmul__(self, other):
        return ops.linear.matmul(self, other) if _is_array(other) else NotImplemented

    def __rmatmul__(self, other):
        return ops.linear.matmul(other, self) if _is_array(other) else NotImplemented

    def __getitem__(self, index):
        return ops.shape.getitem(self, index)

    # Logical operators on bool tensors (masks); on integers, bitwise as in PyTorch.
    def __and__(self, other):
        return _bitwise(np.bitwise_and, self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _bitwise(np.bitwise_or, self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _bitwise(np.bitwise_xor, self, other)

    __rxor__ = __xor__

    def __invert__(self):
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ (bitwise_not) is only for bool and integer tensors, got "
                            f"{self.dtype}")
        return type(self)(np.invert(self.data))

    # Comparisons give boolean tensors outside the graph (for masks and accuracy), compared
    # in the operands' result_type as PyTorch does.
    def __eq__(self, other):
        return ops.elementwise.eq(self, other) if _is_operand(other) else NotImplemented

    def __ne__(self, other):
        return ops.elementwise.ne(self, other) if _is_operand(other) else NotImplemented

    def __lt__(self, other):
        return ops.elementwise.lt(self, other) if _is_operand(other) else NotImplemented

    def __le__(self, other):
        return ops.elementwise.le(self, other) if _is_operand(other) else NotImplemented

    def __gt__(self, other):
        return ops.elementwise.gt(self, other) if _is_operand(other) else NotImplemented

    def __ge__(self, other):
        return ops.elementwise.ge(self, other) if _is_operand(other) else NotImplemented

    # --- arithmetic methods -------------------------------------------------------------
    def add(self, other, *, alpha=1):
        """``self + alpha * other``."""
        return ops.elementwise.add(self, other, alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``."""
        return ops.elementwise.sub(self, other, alpha)

    subtract = sub

    def mul(self, other):
        return ops.elementwise.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return ops.elementwise.div(self, other, rounding_mode)

    divide = true_divide = div

    def pow(self, exponent):
        return ops.elementwise.pow(self, exponent)

    def neg(self):
        return ops.elementwise.neg(self)

    negative = neg

    def matmul(self, other):
        return ops.linear.matmul(self, other)

    def mm(self, mat2):
        return ops.linear.mm(self, mat2)

    def bmm(self, mat2):
        return ops.linear.bmm(self, mat2)

    def maximum(self, other):
        return ops.elementwise.maximum(self, other)

    def minimum(self, other):
        return ops.elementwise.minimum(self, other)

    def clamp(self, min=None, max=None):
        return ops.elementwise.clamp(self, min, max)

    clip = clamp

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's ``x.where(c, y)``)."""
        return ops.elementwise.where(condition, self, other)

    def eq(self, other):
        return ops.elementwise.eq(self, other)

    def ne(self, other):
        return ops.elementwise.ne(self, other)

    def lt(self, other):
        return ops.elementwise.lt(self, other)

    def le(self, other):
        return ops.elementwise.le(self, other)

    def gt(self, other):
        return ops.elementwise.gt(self, other)

    def ge(self, other):
        return ops.elementwise.ge(self, other)

    def equal(self, other):
        return ops.elementwise.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.elementwise.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return ops.elementwise.isclose(self, other, rtol, atol, equal_nan)

    # --- element-wise functions ---------------------------------------------------------
    def exp(self):
        return ops.elementwise.exp(self)

    def exp2(self):
        return ops.elementwise.exp2(self)

    def log(self):
        return ops.elementwise.log(self)

    def log2(self):
        return ops.elementwise.log2(self)

    def log10(self):
        return ops.elementwise.log10(self)

    def sqrt(self):
        return ops.elementwise.sqrt(self)

    def rsqrt(self):
        return ops.elementwise.rsqrt(self)

    def abs(self):
        return ops.elementwise.abs(self)

    def sin(self):
        return ops.elementwise.sin(self)

    def cos(self):
        return ops.elementwise.cos(self)

    def tan(self):
        return ops.elementwise.tan(self)

    def sinh(self):
        return ops.elementwise.sinh(self)

    def cosh(self):
        return ops.elementwise.cosh(self)

    def sign(self):
        return ops.elementwise.sign(self)

    def floor(self):
        return ops.elementwise.floor(self)

    def ceil(self):
        return ops.elementwise.ceil(self)

    def round(self):
        return ops.elementwise.round(self)

    def trunc(self):
        return ops.elementwise.trunc(self)

    def relu(self):
        return ops.activation.relu(self)

    def sigmoid(self):
        return ops.activation.sigmoid(self)

    def tanh(self):
        return ops.activation.tanh(self)

    def softmax(self, dim=-1, *, dtype=None, axis=None):
        return ops.activation.softmax(self, dim, dtype=dtype, axis=axis)

    def log_softmax(self, dim=-1, *, dtype=None, axis=None):
        return ops.activation.log_softmax(self, dim, dtype=dtype, axis=axis)

    # --- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.reduce.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.reduce.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def prod(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.reduce.prod(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        return ops.reduce.var(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                              keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None):
        return ops.reduce.std(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                              keepdims=keepdims)

    def norm(self, p="fro", dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.reduce.norm(self, p, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def cumsum(self, dim=None, *, dtype=None, axis=None):
        return ops.reduce.cumsum(self, dim, dtype=dtype, axis=axis)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """``max()``: a 0-d tensor; ``max(dim)``: ``(values, indices)``; ``max(other)``:
        element-wise (see ``minicnn.max``)."""
        return ops.reduce.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As ``max``: ``min()``, ``min(dim)`` -> ``(values, indices)``, ``min(other)``."""
        return ops.reduce.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Indices of the maxima (an int64 tensor, outside the graph)."""
        return ops.reduce.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.all(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.reduce.any(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def sort(self, dim=-1, descending=False, stable=False):
        return ops.reduce.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return ops.reduce.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return ops.reduce.topk(self, k, dim, largest, sorted)

    def gather(self, dim, index):
        return ops.reduce.gather(self, dim, index)

    # --- shape --------------------------------------------------------------------------
    @property
    def T(self):
        """The dims reversed (the transpose of a matrix)."""
        return ops.shape.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):
        """The last two dims swapped (a batch of matrices transposed)."""
        return ops.shape.transpose(self, -2, -1)

    def t(self):
        return ops.shape.t(self)

    def transpose(self, dim0, dim1):
        """Swap two dims (PyTorch's ``transpose``; ``permute`` reorders all of them)."""
        return ops.shape.transpose(self, dim0, dim1)

    def swapaxes(self, axis0, axis1):
        """``transpose(axis0, axis1)`` under NumPy's name (PyTorch has both)."""
        return ops.shape.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def permute(self, *dims):
        return ops.shape.permute(self, *dims)

    def reshape(self, *shape):
        return ops.shape.reshape(self, *shape)

    def reshape_as(self, other):
        return ops.shape.reshape(self, *other.shape)

    def view(self, *shape):
        """The same memory in another shape (see ``ops.shape.view``)."""
        return ops.shape.view(self, *shape)

    def view_as(self, other):
        return ops.shape.view(self, *other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return ops.shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return ops.shape.unsqueeze(self, dim)

    def expand(self, *sizes):
        return ops.shape.expand(self, *sizes)

    def expand_as(self, other):
        return ops.shape.expand(self, *other.shape)

    def repeat(self, *repeats):
        return ops.shape.repeat(self, *repeats)

    def split(self, split_size, dim=0):
        return ops.shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return ops.shape.chunk(self, chunks, dim)

    def flip(self, *dims):
        return ops.shape.flip(self, ops.shape._shape_args(dims))

    def unbind(self, dim=0):
        return ops.shape.unbind(self, dim)

    def narrow(self, dim, start, length):
        return ops.shape.narrow(self, dim, start, length)

    def index_select(self, dim, index):
        return ops.shape.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return ops.elementwise.masked_fill(self, mask, value)

    def nonzero(self, *, as_tuple=False):
        return ops.reduce.nonzero(self, as_tuple=as_tuple)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new tensor of ``data`` in this tensor's dtype (or ``dtype``)."""
        return type(self)(data, dtype=self.dtype if dtype is None else as_dtype(dtype),
                          requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        """A tensor of ``size`` filled with ``fill_value``, in this tensor's dtype."""
        dtype = self.dtype if dtype is None else as_dtype(dtype, "new_full: dtype")
        shape = (size,) if is_int(size) else tuple(size)
        return type(self)(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return self.new_full(ops.shape._shape_args(size), 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return self.new_full(ops.shape._shape_args(size), 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False):
        return self.new_full(ops.shape._shape_args(size), 0, dtype, requires_grad)

    def clone(self):
        """A copy in the graph (the gradient flows back unchanged)."""
        return ops.shape.clone(self)

    def contiguous(self):
        """Itself when its data is C-contiguous, else a contiguous copy in the graph."""
        return self if self.data.flags.c_contiguous else ops.shape.clone(self)


def _is_operand(value):
    return ops.elementwise.is_operand(value)


def _is_array(value):
    return isinstance(value, (TensorMethods, np.ndarray))


def _bitwise(numpy_op, a, b):
    """``&``, ``|``, ``^`` on bool and integer tensors (outside the graph)."""
    if not _is_operand(b):
        return NotImplemented
    dtype = ops.elementwise.checked_result_type(numpy_op.__name__, (a, b))
    if dtype.kind not in "biu":
        raise TypeError(f"{numpy_op.__name__} is only for bool and integer tensors, got {dtype}")
    arrays = [np.asarray(x.data if isinstance(x, TensorMethods) else x, dtype=dtype)
              for x in (a, b)]
    return type(a)(numpy_op(*arrays))


# How tensors print (PyTorch's defaults); ``set_printoptions`` changes them.
_PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                  "sci_mode": None}
_PROFILES = {"default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
             "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
             "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80}}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print, as PyTorch's ``torch.set_printoptions``: ``precision`` (decimals),
    ``threshold`` (elements above which a tensor is summarized), ``edgeitems`` (items shown
    at each end of a summarized dim), ``linewidth``, ``profile`` (``"default"``,
    ``"short"``, ``"full"``) and ``sci_mode`` (True/False forces scientific notation on or
    off; None chooses as PyTorch)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        _PRINT_OPTIONS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be a number >= 0, got "
                                 f"{value!r}")
            _PRINT_OPTIONS[name] = value
    _PRINT_OPTIONS["sci_mode"] = sci_mode


def _tensor_repr(t):
    """PyTorch's look: ``tensor([1.0000, 2.5000])``, ``tensor([1, 2])``, a dtype suffix for
    dtypes other than float32, int64 and bool, and ``requires_grad=True``/``grad_fn=``.
    The layout follows PyTorch's ``_tensor_str`` (elements per line, summaries)."""
    data = t.data
    summarize = data.size > _PRINT_OPTIONS["threshold"]
    suffix = []
    if data.size == 0 and data.ndim != 1:
        body = "[]"
        suffix.append(f"size={tuple(data.shape)}")
    elif data.dtype.kind == "c":  # not PyTorch's layout, but readable
        body = np.array2string(data, separator=", ", prefix="tensor(")
    else:
        shown = _summarized(data) if summarize else data
        body = _nested_str(data, len("tensor("), summarize, _formatter(shown))
    if data.dtype.name not in ("float32", "int64", "bool"):
        suffix.append(f"dtype=minicnn.{data.dtype.name}")
    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None and hasattr(grad_fn, "name"):
        suffix.append(f"grad_fn=<{grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + suffix) + ")"


def _summarized(data):
    """The edge items of every dim of a large array (what a summary shows)."""
    edge = _PRINT_OPTIONS["edgeitems"]
    if data.ndim == 0:
        return data
    if data.shape[0] > 2 * edge:
        data = np.concatenate([data[:edge], data[-edge:]])
    return np.stack([_summarized(row) for row in data]) if data.ndim > 1 else data


def _nested_str(data, indent, summarize, text):
    """``[...]`` of ``data`` with PyTorch's line breaks; ``text`` formats one element."""
    edge = _PRINT_OPTIONS["edgeitems"]
    if data.ndim == 0:
        return text(data.item())
    if data.ndim == 1:
        items = data.tolist()
        if summarize and len(items) > 2 * edge:
            cells = ([text(v) for v in items[:edge]] + [" ..."]
                     + [text(v) for v in items[-edge:]])
        else:
            cells = [text(v) for v in items]
        per_line = builtins.max(1, int((_PRINT_OPTIONS["linewidth"] - indent)
                                       // (text.width + 2)))
        lines = [", ".join(cells[i:i + per_line]) for i in range(0, len(cells), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(len(data))
    if summarize and len(data) > 2 * edge:
        rows = [*range(edge), None, *range(len(data) - edge, len(data))]
    slices = ["..." if i is None else _nested_str(data[i], indent + 1, summarize, text)
              for i in rows]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _formatter(data):
    """A function formatting one element as PyTorch does, padded to the widest element of
    ``data``, with that width as its ``.width``. Floats: ``1.`` when every value is whole,
    four decimals, or ``1.0000e-05`` when magnitudes span more than 1000x (or fall below
    1e-4 or above 1e8)."""
    if data.dtype.kind == "f":
        finite = np.abs(data[np.isfinite(data)]).astype(np.float64)
        nonzero = finite[finite != 0]
        whole = bool(np.all(finite == np.round(finite)))
        largest = nonzero.max() if nonzero.size else 0.0
        if _PRINT_OPTIONS["sci_mode"] is not None:
            scientific = _PRINT_OPTIONS["sci_mode"]
        elif whole:
            scientific = largest > 1e8
        else:
            scientific = nonzero.size and (largest / nonzero.min() > 1000 or largest > 1e8
                                           or nonzero.min() < 1e-4)
        digits = _PRINT_OPTIONS["precision"]
        spec = f".{digits}e" if scientific else ".0f" if whole else f".{digits}f"
        point = "." if spec == ".0f" else ""

        def plain(value):
            return f"{value:{spec}}{point}" if math.isfinite(value) else str(value)
    else:
        plain = str
    width = builtins.max((len(plain(v)) for v in data.ravel().tolist()), default=0)

    def text(value):
        return plain(value).rjust(width)
    text.width = width
    return text
