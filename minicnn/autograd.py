"""The autograd core: ``Tensor``, ``Function`` and the reverse-mode engine.

How it works, in four sentences:

1. A ``Tensor`` wraps a NumPy array (``.data``). Tensors that ``requires_grad`` remember the
   ``Function`` call that produced them (``._node``), so every computation builds a graph.
2. A ``Function`` is one op: ``forward(ctx, *arrays)`` computes the output array and saves on
   ``ctx`` what the backward pass will need; ``backward(ctx, grad_output)`` returns the gradient
   of the loss with respect to each input (the chain rule, one step).
3. ``loss.backward()`` sorts the graph so each node comes after everything that uses its output
   (reverse topological order, found iteratively so a 10,000-op chain does not hit Python's
   recursion limit) and calls each node's ``backward`` once, *adding* the incoming gradients
   of a tensor that was used more than once.
4. Leaves (tensors that you created, e.g. parameters) accumulate their gradient in ``.grad``;
   intermediate gradients are dropped, and so are the saved arrays once backward is done.

Writing your own op
-------------------
Subclass ``Function``, keep forward and backward side by side, and call it with ``apply``::

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):              # x: np.ndarray
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):          # grad: dL/d(output), same shape as the output
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad      # dL/dx, same shape as x

    y = Cube.apply(t)                     # t: Tensor -> y: Tensor, recorded in the graph
    minicnn.gradcheck(Cube.apply, [minicnn.tensor(np.random.randn(3), dtype=np.float64,
                                                  requires_grad=True)])

``forward`` receives plain NumPy arrays in place of tensors (positional arguments) and any
settings as keyword arguments; ``backward`` returns one gradient per positional argument of
``forward`` (``None`` for one that needs none, e.g. an integer index array).
"""

import reprlib
import threading

import numpy as np

__all__ = ["Tensor", "tensor", "Function", "ArrayFunction", "Context", "no_grad", "enable_grad",
           "is_grad_enabled"]


# ----------------------------------------------------------------------------- grad mode


class _GradState(threading.local):
    """Whether operations are recorded, kept per thread (as PyTorch does): a ``no_grad``
    block in a data-loading or evaluation thread must not stop training in another."""

    enabled = True  # a class attribute: every new thread starts with recording on


_grad_state = _GradState()


def is_grad_enabled():
    """True when new operations are recorded for backward (in the calling thread)."""
    return _grad_state.enabled


class _GradMode:
    """Context manager (and decorator) that sets whether operations are recorded.

    One object may be entered again while already inside it (``ctx = no_grad()``, then
    ``with ctx:`` nested), so the states to restore are kept as a stack, not one value,
    and per thread, so two threads sharing one object restore their own states.
    """

    def __init__(self, enabled):
        self.enabled = enabled
        self._local = threading.local()

    def _previous(self):
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def __enter__(self):
        self._previous().append(_grad_state.enabled)
        _grad_state.enabled = self.enabled

    def __exit__(self, *exc_info):
        _grad_state.enabled = self._previous().pop()

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with _GradMode(self.enabled):
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def no_grad():
    """Nothing computed inside ``with minicnn.no_grad():`` is recorded (evaluation, updates)."""
    return _GradMode(False)


def enable_grad():
    """Re-enable recording inside a ``no_grad`` block."""
    return _GradMode(True)


# ----------------------------------------------------------------------------- Function


class Context:
    """What a ``Function`` call remembers between its forward and its backward pass.

    ``save_for_backward(*arrays)`` stores arrays (read back as ``saved_tensors``); any other
    attribute (``ctx.stride = 2``) can hold settings. ``needs_input_grad[i]`` tells whether
    positional input ``i`` needs a gradient, so backward can skip work nobody will use.
    """

    saved_tensors = ()  # until save_for_backward is called

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class _Node:
    """One recorded ``Function`` call: the op, its context and the tensors it consumed."""

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs  # one entry per positional forward argument: a Tensor or None


class ArrayFunction:
    """Base class of every differentiable op. See the module docstring for the pattern."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays inside ``args`` and record the call if needed."""
        # One pass over the arguments (this runs for every op of every step: it is the
        # framework's per-op overhead, so it avoids repeated isinstance work).
        arrays, needs_grad, inputs = [], [], []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                needs_grad.append(a.requires_grad)
                inputs.append(a)
            else:
                arrays.append(a)
                needs_grad.append(False)
                inputs.append(None)
        record = _grad_state.enabled and True in needs_grad
        # unrecorded (no_grad, or no input requires grad): no backward will run
        ctx = Context(tuple(needs_grad) if record else (False,) * len(needs_grad))
        out = cls.forward(ctx, *arrays, **kwargs)
        result = _new_tensor(out if type(out) is np.ndarray else _as_array(out, None))
        if record:
            result.requires_grad = True
            result._node = _Node(cls, ctx, tuple(inputs))
        return result


# ----------------------------------------------------------------------------- Tensor


# The dtype kinds a Tensor may hold: bool, signed and unsigned integers, floating, complex.
_NUMBER_KINDS = "biufc"


def _as_array(data, dtype, name="tensor: data"):
    """The array a new Tensor holds: NumPy data keeps its dtype, Python data is float32.

    Raises TypeError for data that is not numbers (None, strings, dicts, objects, an array
    of object dtype) and ValueError for ragged nested lists; ``name`` says which argument.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = _number_dtype(dtype, name)
    if isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
        _check_number_kind(array, data, name)
        return array if dtype is None else array.astype(dtype, copy=False)
    try:  # without a dtype first: np.asarray(["1.5"], dtype=np.float32) would parse strings
        _check_number_kind(np.asarray(data), data, name)
    except ValueError:
        raise ValueError(f"{name} is a ragged nested list ({reprlib.repr(data)}); every row "
                         "must have the same length") from None
    try:
        return np.asarray(data, dtype=np.float32 if dtype is None else dtype)
    except OverflowError:
        raise ValueError(f"{name}: {reprlib.repr(data)} does not fit in {dtype}") from None


def _check_number_kind(array, data, name):
    if array.dtype.kind not in _NUMBER_KINDS:
        raise TypeError(f"{name} must be numbers (a number, a nested list of numbers or a "
                        f"NumPy array of numbers), got {reprlib.repr(data)} (dtype "
                        f"{array.dtype})")


def _number_dtype(dtype, name):
    """``dtype`` as a NumPy dtype of numbers, or a TypeError naming ``name``."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: dtype {dtype!r} is not a NumPy dtype") from None
    if dtype.kind not in _NUMBER_KINDS:
        raise TypeError(f"{name}: dtype {dtype} is not a number type (bool, integer, "
                        "floating or complex)")
    return dtype


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Parameters
    ----------
    data : array_like
        A NumPy array or scalar keeps its dtype (float32, float64, or an integer type for
        class labels); Python numbers and lists become float32, unless ``dtype`` is given.
    requires_grad : bool
        Whether gradients with respect to this tensor are wanted (floating dtypes only).
    dtype : numpy dtype, optional
        A number type (bool, integer, floating or complex).

    Raises
    ------
    TypeError
        ``data`` (or ``dtype``) is not numbers: None, a string, a dict, an object, an
        array of object or string dtype.
    ValueError
        ``data`` is a ragged nested list, or a number that does not fit in ``dtype``.
    """

    # Fixed attributes: less memory and faster access for the many tensors of a step.
    __slots__ = ("data", "_grad", "_node", "requires_grad", "__weakref__")

    # Make NumPy defer to Tensor in ``ndarray + Tensor`` (so that Tensor.__radd__ runs).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
        self._grad = None
        self._node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # --- basic attributes ---------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    size = property(lambda self: self.data.size)
    T = property(lambda self: self.transpose())

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        # Python's fallback (t[0], t[1], ... until IndexError) would yield nothing for a 0-d
        # tensor instead of failing.
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def numpy(self):
        """The underlying array (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) would otherwise build an object array of one tensor per element.
        return np.array(self.data, dtype=dtype, copy=True if copy else None)

    def __bool__(self):
        # Without this every tensor is true: ``if x == y`` would always pass.
        # NumPy's rule: a one-element tensor is its value, a larger one raises ValueError.
        return bool(self.data)

    def item(self):
        return self.data.item()

    def __repr__(self):
        body = np.array2string(self.data, prefix="tensor(", separator=", ")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({body}, dtype={self.dtype}{extra})"

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place and return self.

        Freezing a parameter is ``p.requires_grad_(False)``.
        """
        if flag and not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"requires_grad=True needs a floating dtype, got {self.dtype}; "
                            "only floating point tensors can have gradients")
        self.requires_grad = bool(flag)
        return self

    def detach(self):
        """A tensor sharing this data, cut from the graph (it does not require grad)."""
        return Tensor(self.data)

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad(self):
        """The gradient that backward accumulated here: a Tensor shaped like this one, or None.

        Assignable, as in PyTorch: ``t.grad = None`` clears it, a Tensor or a NumPy array
        (wrapped, not copied) of this tensor's shape and dtype replaces it.
        """
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if isinstance(value, np.ndarray):
                value = _new_tensor(value)
            elif not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor, a NumPy array or None "
                                f"but got grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad of shape "
                                   f"{value.shape} for a tensor of shape {self.shape}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: grad of dtype "
                                   f"{value.dtype} for a tensor of dtype {self.dtype}")
        self._grad = value

    # --- backward -----------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) * grad into ``.grad`` of every leaf that requires grad.

        Parameters
        ----------
        grad : array_like, optional
            The gradient flowing into this tensor, shaped like it. Defaults to 1 for a
            scalar (a loss); required otherwise.
        retain_graph : bool
            Keep the graph's saved arrays so backward can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input "
                               "of the computation had requires_grad=True")
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar output, got "
                                   f"shape {self.shape}; pass grad= of that shape")
            grad = np.ones_like(self.data)
        grad = _as_array(grad, self.dtype, "backward: grad")
        if grad.shape != self.shape:
            raise ValueError(f"backward(grad): grad has shape {grad.shape}, expected the "
                             f"output's shape {self.shape}")
        _run_backward(self, grad, retain_graph)

    # --- operators and methods: thin wrappers over the ops package (imported below) -------
    # Operands that are not numbers give NotImplemented, so Python raises its usual
    # "unsupported operand type(s)" TypeError (and ``t == None`` is False), as in PyTorch.
    def __add__(self, other):
        return elementwise.add(self, other) if elementwise.is_operand(other) else NotImplemented

    def __radd__(self, other):
        return elementwise.add(other, self) if elementwise.is_operand(other) else NotImplemented

    def __sub__(self, other):
        return elementwise.sub(self, other) if elementwise.is_operand(other) else NotImplemented

    def __rsub__(self, other):
        return elementwise.sub(other, self) if elementwise.is_operand(other) else NotImplemented

    def __mul__(self, other):
        return elementwise.mul(self, other) if elementwise.is_operand(other) else NotImplemented

    def __rmul__(self, other):
        return elementwise.mul(other, self) if elementwise.is_operand(other) else NotImplemented

    def __truediv__(self, other):
        return elementwise.div(self, other) if elementwise.is_operand(other) else NotImplemented

    def __rtruediv__(self, other):
        return elementwise.div(other, self) if elementwise.is_operand(other) else NotImplemented

    def __pow__(self, other):
        return elementwise.pow(self, other) if elementwise.is_operand(other) else NotImplemented

    def __rpow__(self, other):
        return elementwise.pow(other, self) if elementwise.is_operand(other) else NotImplemented

    def __neg__(self):
        return elementwise.neg(self)

    def __matmul__(self, other):
        return linear.matmul(self, other) if _is_array(other) else NotImplemented

    def __rmatmul__(self, other):
        return linear.matmul(other, self) if _is_array(other) else NotImplemented

    def __getitem__(self, index):
        return shape_ops.getitem(self, index)

    # Comparisons give boolean tensors outside the graph (for masks and accuracy), compared
    # in the operands' result_type as PyTorch does.
    def _compare(self, other, numpy_op, name):
        if not elementwise.is_operand(other):
            return NotImplemented
        return elementwise.compare(self, other, numpy_op, name)

    def __eq__(self, other):
        return self._compare(other, np.equal, "eq")

    def __ne__(self, other):
        return self._compare(other, np.not_equal, "ne")

    def __lt__(self, other):
        return self._compare(other, np.less, "lt")

    def __le__(self, other):
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other):
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other):
        return self._compare(other, np.greater_equal, "ge")

    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    def sum(self, axis=None, keepdims=False):
        return reduce.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return reduce.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return reduce.max(self, axis, keepdims)

    def argmax(self, axis=None):
        """Indices of the maxima (an integer tensor, outside the graph)."""
        return reduce.argmax(self, axis)

    def float(self):
        """This tensor as float32 (itself if it already is); the gradient flows back."""
        return elementwise.cast(self, np.float32)

    def double(self):
        """This tensor as float64 (itself if it already is); the gradient flows back."""
        return elementwise.cast(self, np.float64)

    def reshape(self, *shape):
        return shape_ops.reshape(self, *shape)

    def transpose(self, *axes):
        return shape_ops.transpose(self, *axes)

    def permute(self, *axes):
        return shape_ops.permute(self, *axes)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def abs(self):
        return elementwise.abs(self)

    def clip(self, min=None, max=None):
        return elementwise.clip(self, min, max)

    def relu(self):
        return activation.relu(self)

    def sigmoid(self):
        return activation.sigmoid(self)

    def tanh(self):
        return activation.tanh(self)

    def softmax(self, axis=-1):
        return activation.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return activation.log_softmax(self, axis)


def tensor(data, requires_grad=False, dtype=None):
    """Create a ``Tensor`` (same arguments as the class)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _is_array(value):
    return isinstance(value, (Tensor, np.ndarray))


def _new_tensor(array):
    """``Tensor(array)`` for an op's output ndarray, without ``__init__``'s conversions."""
    t = _tensor_new(Tensor)
    t.data = array
    t._grad = None
    t._node = None
    t.requires_grad = False
    return t


_tensor_new = object.__new__


# ----------------------------------------------------------------------------- the engine


def _topological_order(root):
    """Every recorded tensor that ``root`` depends on, each after all tensors it feeds.

    Iterative depth-first search: a node is emitted when all of its inputs have been, then
    the list is reversed, so consumers come before producers. A node is marked visited when
    it is expanded (popped), not when it is pushed: a tensor reached first from a consumer
    near the root and again from one deeper down must be emitted before the deeper one.
    """
    order, visited = [], set()
    stack = [(root, False)]
    push, pop, emit, visit = stack.append, stack.pop, order.append, visited.add
    while stack:
        t, inputs_done = pop()
        if inputs_done:
            emit(t)
            continue
        if id(t) in visited:  # marked when expanded, not when pushed: see the docstring
            continue
        visit(id(t))
        push((t, True))
        node = t._node
        if node is not None:
            for parent in node.inputs:
                if parent is not None and parent.requires_grad and id(parent) not in visited:
                    push((parent, False))
    order.reverse()
    return order


def _run_backward(root, grad, retain_graph):
    grads = {id(root): grad}
    ndarray = np.ndarray
    for t in _topological_order(root):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        node = t._node
        if node is None:  # a leaf: accumulate into .grad
            if t._grad is None:
                t._grad = _new_tensor(np.array(g, dtype=t.data.dtype))  # owned, never a view
            else:
                t._grad.data += g
            continue
        if node.ctx is None:
            raise RuntimeError("backward through a graph a second time: its saved arrays "
                               "were freed by the first backward; use "
                               "backward(retain_graph=True) the first time")
        input_grads = node.function.backward(node.ctx, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(f"{node.function.__name__}.backward returned "
                               f"{len(input_grads)} gradients for {len(node.inputs)} inputs")
        for parent, pg in zip(node.inputs, input_grads):
            if pg is None or parent is None or not parent.requires_grad:
                continue
            data = parent.data
            if type(pg) is not ndarray or pg.dtype != data.dtype:
                pg = np.asarray(pg, dtype=data.dtype)  # a NumPy scalar, a list, a Tensor
            if pg.shape != data.shape:
                raise RuntimeError(f"{node.function.__name__}.backward returned a gradient "
                                   f"of shape {pg.shape} for an input of shape {data.shape}")
            key = id(parent)
            previous = grads.get(key)
            grads[key] = pg if previous is None else previous + pg
        if not retain_graph:  # release the saved arrays and the links to the inputs
            node.ctx = None
            t._node = _FREED


# Marks an intermediate tensor whose graph was freed: it cannot be backpropagated again.
class _FreedNode:
    function = None
    ctx = None
    inputs = ()


_FREED = _FreedNode()


# Until PyTorch's tensor-level protocol has its own class (issue 13), Function is the
# array-level base under its old name.
Function = ArrayFunction

# The ops modules build on ArrayFunction and Tensor above; imported last to close the cycle.
from .ops import activation, elementwise, linear, reduce  # noqa: E402
from .ops import shape as shape_ops  # noqa: E402
