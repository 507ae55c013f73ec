"""The autograd core: ``Tensor``, the two ways to write an op, and the reverse-mode engine.

How it works
------------
1. A ``Tensor`` wraps a NumPy array (``.data``). A tensor computed from tensors that require
   grad remembers the op call that produced it: ``t.grad_fn``, one node of the graph (it
   prints as ``<MulBackward0 ...>``; ``grad_fn.next_functions`` are the nodes of its
   inputs). Tensors you create (parameters, inputs) are *leaves*: ``grad_fn`` is None and
   ``is_leaf`` True; a leaf that requires grad is reached through its ``AccumulateGrad`` node.
2. An op is one step of the chain rule: forward computes the output and saves what backward
   will need; backward turns dL/d(output) into dL/d(each input).
3. ``loss.backward()`` visits the nodes below ``loss`` so that each runs after every node that
   uses its output (a topological order, found iteratively, so a 10,000-op chain does not
   hit Python's recursion limit), *adding* the gradients that a tensor used several times
   receives, then calls each node's backward once.
4. Leaves that require grad accumulate into ``.grad`` (a Tensor; ``optimizer.zero_grad()``
   clears it). Intermediate gradients are dropped (``t.retain_grad()`` keeps one in
   ``t.grad``) and so are the saved arrays: a second ``backward`` through the same graph
   raises RuntimeError unless the first one had ``retain_graph=True``.
   ``minicnn.autograd.grad(outputs, inputs)`` runs the same pass but returns the gradients
   (a tuple of Tensors) instead of touching ``.grad``; ``minicnn.autograd.backward(tensors)``
   starts it from several tensors at once; ``t.register_hook(fn)`` calls ``fn`` with the
   gradient arriving at ``t`` (a Tensor; return one to replace it).

Two ways to write an op
-----------------------
``Function`` is PyTorch's ``torch.autograd.Function``: forward and backward receive and return
*Tensors*, so code written for PyTorch runs unchanged (forward runs without recording; its
result gets one node whose backward is yours)::

    class Cube(minicnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):                  # x: Tensor
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):       # grad_output: Tensor, dL/d(output)
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad_output   # dL/dx, a Tensor shaped like x

    y = Cube.apply(t)

``ArrayFunction`` is how minicnn's own ops (everything in ``minicnn.ops``) are written:
forward and backward work on *NumPy arrays*, so the math reads as plain NumPy and no Tensor
is built inside an op::

    class Cube(ArrayFunction):
        @staticmethod
        def forward(ctx, x):                  # x: np.ndarray
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):              # grad: np.ndarray, dL/d(output)
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad          # dL/dx, an array shaped like x

Both are called with ``Cube.apply(t)`` and checked with ``minicnn.gradcheck`` (float64).
backward returns one gradient per positional argument of forward (``None`` for one that
needs none, e.g. an index array); ``ctx.needs_input_grad[i]`` says whether input ``i``
wants one. ArrayFunction's forward gets arrays in place of tensors and keyword arguments as
they are; it returns one array. Function's forward may return several tensors;
``ctx.mark_non_differentiable(*outputs)`` and ``ctx.set_materialize_grads(False)`` work as
in PyTorch.

In-place operations and the version counter
-------------------------------------------
``add_(other, alpha=1)``, ``sub_``, ``mul_``, ``div_``, ``clamp_``, ``zero_``, ``fill_``,
``copy_``, ``uniform_``, ``normal_``, ``+=``, ``-=``, ``*=``, ``/=`` and ``t[index] = value``
change the tensor itself: every name bound to it, and every view sharing its memory, sees
the new values. PyTorch's rules hold:

* On a leaf that requires grad, outside ``no_grad``: RuntimeError ("a leaf Variable that
  requires grad is being used in an in-place operation."). Update parameters inside
  ``with minicnn.no_grad():`` (or through ``p.data``, which bypasses autograd).
* On a tensor inside a graph it is recorded: the tensor's ``grad_fn`` becomes the in-place
  op's node, whose input is the tensor's previous history, which keeps serving the ops that
  used the old value. (The op works on a copy of the old value, so its backward is exact.)
* Every tensor has a version counter (``t._version``) bumped by each in-place write and
  shared with its views made by minicnn ops (``view``/``reshape`` that did not copy,
  ``transpose``, basic slicing) and with ``detach()``. An op records the versions of the
  tensors whose arrays it saved for backward; if one changed before backward runs, backward
  raises RuntimeError "one of the variables needed for gradient computation has been
  modified by an inplace operation: ...".
* Not in minicnn: after a recorded in-place op on a view (``y[1:].mul_(2)`` where ``y``
  requires grad) the view's gradient is right, but backward *through the base* ``y`` raises
  RuntimeError (PyTorch rebuilds the base's history; minicnn gives it a ``CopySlices`` node
  that refuses): write ``y[1:] = y[1:] * 2`` instead. Likewise a view taken before a
  recorded in-place op on its base (or on a sibling view) has an out-of-date history: using
  it in an op, or writing into it, raises RuntimeError (PyTorch rebuilds that history)
  rather than give a wrong gradient; take the view again after the in-place op. On a view
  of a leaf that requires grad it is PyTorch's RuntimeError.
  ``p.data = array`` (or a Tensor, whose array is taken) rebinds the data without a version
  bump (as PyTorch's ``.data``);
  optimizers update parameters in place and bump their versions, as PyTorch's do.

Grad mode
---------
``with minicnn.no_grad():`` (also ``@no_grad`` and ``@no_grad()`` on a function),
``enable_grad``, ``set_grad_enabled(mode)`` (a call, or a ``with`` block) and
``inference_mode()`` (the same as ``no_grad`` in minicnn) decide whether ops are recorded,
per thread (a ``no_grad`` evaluation thread does not stop training in another).
"""

import copy
import functools
import inspect
import operator
import reprlib
import threading
import weakref

import numpy as np

from .rng import get_rng
from .tensor_methods import TensorMethods

__all__ = ["Tensor", "tensor", "Function", "ArrayFunction", "Context", "FunctionCtx", "grad",
           "backward", "queue_callback", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
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
    """A context manager and decorator that sets whether operations are recorded.

    One object may be entered again while already inside it (``ctx = no_grad()``, then
    ``with ctx:`` nested), so the states to restore are kept as a stack, not one value,
    and per thread, so two threads sharing one object restore their own states.
    """

    def __init__(self, enabled):
        self._enabled = enabled
        self._local = threading.local()

    def _previous(self):
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def __enter__(self):
        self._previous().append(_grad_state.enabled)
        _grad_state.enabled = self._enabled

    def __exit__(self, *exc_info):
        _grad_state.enabled = self._previous().pop()

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__} decorates a function, got {fn!r}")
        enabled = self._enabled
        if inspect.isgeneratorfunction(fn):  # the mode holds while the generator's body runs
            @functools.wraps(fn)
            def generator_wrapper(*args, **kwargs):
                with _GradMode(enabled):
                    generator = fn(*args, **kwargs)
                sent = None
                while True:
                    try:
                        with _GradMode(enabled):
                            item = generator.send(sent)
                    except StopIteration as stop:
                        return stop.value
                    sent = yield item
            return generator_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(enabled):
                return fn(*args, **kwargs)
        return wrapper


class _SwitchWithoutArguments(_GradMode):
    """``no_grad``/``enable_grad``: ``with no_grad():``, ``@no_grad()`` and, as PyTorch
    allows, the bare ``@no_grad`` (then the class is called with the function)."""

    _mode = None  # set by each subclass

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        return cls()(func)

    def __init__(self, func=None):
        super().__init__(self._mode)


class no_grad(_SwitchWithoutArguments):
    """Nothing computed inside ``with minicnn.no_grad():`` (or a function decorated with
    ``@no_grad``/``@no_grad()``) is recorded: evaluation, parameter updates."""

    _mode = False


class enable_grad(_SwitchWithoutArguments):
    """Record again inside a ``no_grad`` block (``with``, ``@enable_grad`` or
    ``@enable_grad()``)."""

    _mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` turns recording off now, for the calling thread;
    ``with set_grad_enabled(mode):`` sets it for the block (and restores it after); as a
    decorator, for each call. ``mode`` must be a bool (TypeError otherwise), as in PyTorch.
    """

    def __init__(self, mode):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled(mode): mode must be a bool, got {mode!r}")
        super().__init__(bool(mode))
        self._before = _grad_state.enabled
        _grad_state.enabled = bool(mode)

    def __enter__(self):
        pass  # already set by the constructor

    def __exit__(self, *exc_info):
        _grad_state.enabled = self._before

    def __call__(self, fn):
        _grad_state.enabled = self._before  # a decorator changes nothing until it is called
        return super().__call__(fn)


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode(mode=True)``: in minicnn the same as ``no_grad`` (and
    ``inference_mode(False)`` as ``enable_grad``). A context manager, ``@inference_mode()``
    or bare ``@inference_mode``."""

    def __new__(cls, mode=True):
        if isinstance(mode, (bool, np.bool_)):
            return super().__new__(cls)
        return cls()(mode)  # the bare decorator: ``mode`` is the function

    def __init__(self, mode=True):
        super().__init__(not mode)


# ----------------------------------------------------------------------------- ops


_FREED_GRAPH = ("Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")


class Context:
    """What an ``ArrayFunction`` call remembers between its forward and backward (``ctx``).

    ``save_for_backward(*arrays)`` stores arrays (read back as ``saved_tensors``); any other
    attribute (``ctx.stride = 2``) can hold settings. ``needs_input_grad[i]`` tells whether
    positional input ``i`` needs a gradient, so backward can skip work nobody will use.
    """

    saved_tensors = ()  # until save_for_backward is called

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class FunctionCtx:
    """The ``ctx`` of a (PyTorch-style) ``Function``: tensors saved with
    ``save_for_backward`` come back from ``saved_tensors``, version-checked (RuntimeError if
    one was changed in place since), and freed with the graph."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved = ()
        self._versions = ()
        self._non_differentiable = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{len(self._saved)} is of type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple(None if t is None else t._version_counter[0] for t in tensors)

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError(_FREED_GRAPH)
        for t, version in zip(self._saved, self._versions):
            if t is not None and t._version_counter[0] != version:
                raise RuntimeError(_modified_message(t.data, t._version_counter[0], version,
                                                     t._edge))
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """These outputs get no gradient (``requires_grad`` False), as integer indices."""
        self._non_differentiable = tuple(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        """``True`` (the default): backward gets zeros for outputs that received no
        gradient; ``False``: ``None``."""
        self.materialize_grads = bool(value)

    def _free(self):
        self._saved = None


def _modified_message(array, version, expected, edge):
    """PyTorch's message for a tensor saved for backward and modified in place since."""
    origin = ""
    if edge is not None and not isinstance(edge[0], _AccumulateGrad):
        origin = f", which is output {edge[1]} of {edge[0].name()},"
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{array.dtype} tensor of shape {list(array.shape)}]{origin} "
            f"is at version {version}; expected version {expected} instead. Hint: an in-place "
            "operation (add_, +=, t[i] = v, ...) changed a tensor that an earlier op saved; "
            "use its out-of-place form (t = t + 1) or clone() before changing it.")


class _Node:
    """One recorded ``ArrayFunction`` call: what ``grad_fn`` returns.

    ``next_edges`` has one entry per positional forward argument: ``(node, output index)``
    for a tensor that requires grad (the node that produced it, or its leaf's
    ``AccumulateGrad``), else None. ``metas`` holds each output's (shape, dtype), which the
    gradients of that output must have; ``versions``, the version of every tensor whose
    array ``ctx`` saved; ``hooks`` and ``retained``, what ``register_hook``/``retain_grad``
    attached to its outputs.
    """

    __slots__ = ("function", "ctx", "next_edges", "metas", "versions", "hooks", "retained",
                 "__weakref__")

    def __init__(self, function, ctx, next_edges, metas):
        self.function = function
        self.ctx = ctx
        self.next_edges = next_edges
        self.metas = metas
        self.versions = None
        self.hooks = None
        self.retained = None

    def name(self):
        return f"{self.function.__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        """``((node, output index), ...)`` per input, ``(None, 0)`` for one without grad."""
        return tuple((None, 0) if edge is None else edge for edge in self.next_edges)

    def _input_grads(self, grads):
        """The gradients (arrays or None) of the inputs, from those of the outputs."""
        ctx = self.ctx
        if ctx is None:
            raise RuntimeError(_FREED_GRAPH)
        for counter, version, array, edge in self.versions or ():
            if counter[0] != version:
                raise RuntimeError(_modified_message(array, counter[0], version,
                                                     (self, 0) if edge is _OUTPUT else edge))
        input_grads = self.function.backward(ctx, grads[0])
        return input_grads if type(input_grads) is tuple else (input_grads,)

    def _free(self):
        self.ctx = None
        self.versions = None  # they hold the saved arrays too


class _FunctionNode(_Node):
    """One recorded call of a PyTorch-style ``Function``: backward gets and returns Tensors."""

    __slots__ = ()

    def name(self):
        return f"{self.function.__name__}Backward"

    def _input_grads(self, grads):
        ctx = self.ctx
        if ctx is None or ctx._saved is None:
            raise RuntimeError(_FREED_GRAPH)
        arguments = []
        for g, meta in zip(grads, self.metas):
            if g is None and meta is not None and ctx.materialize_grads:
                g = np.zeros(meta[0], meta[1])
            arguments.append(None if g is None else _new_tensor(g))
        with no_grad():
            result = self.function.backward(ctx, *arguments)
        result = result if type(result) is tuple else (result,)
        count = len(self.next_edges)
        if len(result) > count and all(g is None for g in result[count:]):
            result = result[:count]  # PyTorch allows extra Nones
        if len(result) != count:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {count}, got {len(result)})")
        return tuple(g.data if isinstance(g, Tensor) else g for g in result)

    def _free(self):
        if self.ctx is not None:
            self.ctx._free()
        self.ctx = None


class _ChangedThroughView(_Node):
    """The ``grad_fn`` given to a tensor whose values a recorded in-place op changed through
    a view of it. PyTorch rebuilds such a history (CopySlices); minicnn does not, so a
    gradient arriving here is an error rather than a wrong answer. (The view itself has the
    right history.)"""

    __slots__ = ()

    def name(self):
        return "CopySlices"

    def _input_grads(self, grads):
        shape, dtype = self.metas[0]
        raise RuntimeError("one of the variables needed for gradient computation has been "
                           f"modified by an inplace operation: [{dtype} tensor of shape "
                           f"{list(shape)}] was changed through a view of it (an in-place op "
                           "on a slice or view, recorded in the graph). minicnn does not "
                           "differentiate through such a tensor (PyTorch does): write into it "
                           "with item assignment, t[index] = value, or compute it out of "
                           "place.")


class _AccumulateGrad(_Node):
    """The node of a leaf that requires grad: adds the gradient it receives to ``.grad``.

    It refers to its leaf weakly (the leaf owns it, through ``_edge``), so a graph does not
    keep alive leaves nobody else holds, and nothing forms a reference cycle.
    """

    __slots__ = ("_variable", "_meta")

    def __init__(self, variable):  # no ctx, no inputs; ``metas`` is read from the leaf
        self.function = self.ctx = self.versions = self.hooks = self.retained = None
        self.next_edges = ()
        self._variable = weakref.ref(variable)
        self._meta = (variable.shape, variable.dtype)

    def name(self):
        return "AccumulateGrad"

    @property
    def variable(self):
        return self._variable()

    @property
    def metas(self):  # read when needed: ``p.data = ...`` may change the leaf's dtype
        t = self._variable()
        return ((t.shape, t.dtype),) if t is not None else (self._meta,)

    def _accumulate(self, g):
        t = self._variable()
        if t is None:  # nobody can read this gradient any more
            return
        grad = t._grad
        if grad is None:
            t._grad = _new_tensor(np.array(g, dtype=t.data.dtype))  # owned, never a view
        elif grad.data.flags.writeable:
            grad.data += g  # in place, as PyTorch: references to .grad see the sum
        else:
            grad.data = grad.data + g


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook (also as a
    context manager: removed at the end of the ``with`` block)."""

    def __init__(self, entries, entry):
        self._entries, self._entry = entries, entry

    def remove(self):
        for i, entry in enumerate(self._entries):
            if entry is self._entry:
                del self._entries[i]
                return

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _all_false(count, _cache={}):
    """``(False,) * count``, built once per count (unrecorded calls are the common case)."""
    value = _cache.get(count)
    if value is None:
        value = _cache[count] = (False,) * count
    return value


class ArrayFunction:
    """Base class of minicnn's ops: forward and backward on NumPy arrays (see the module
    docstring); ``apply`` records the call when an input requires grad."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays inside ``args`` and record the call if needed."""
        # This runs for every op of every step (the framework's per-op overhead): one pass
        # over the arguments, and the extra work only where it is needed.
        arrays, edges = [], []
        record = False
        enabled = _grad_state.enabled
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if enabled and a.requires_grad:
                    record = True
                    if a._edge is None:
                        edges.append(a._leaf_edge())
                    else:
                        if a._history_gen != a._version_counter[1] and a._node is not None:
                            _stale_history_error(a)  # (a leaf's history has no values)
                        edges.append(a._edge)
                else:
                    edges.append(None)
            else:
                arrays.append(a)
                edges.append(None)
        if record:
            ctx = Context(tuple([edge is not None for edge in edges]))
        else:  # no_grad, or no input requires grad: no backward will run
            ctx = Context(_all_false(len(args)))
        out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is not np.ndarray:
            out = _as_array(out, None)
        result = _new_tensor(out)
        if out.base is not None or arrays and out is arrays[0]:  # a view, or the input
            _share_version_if_view(result, out, args)
        if record:
            node = _Node(cls, ctx, tuple(edges), ((out.shape, out.dtype),))
            result.requires_grad = True
            result._node = node
            result._edge = (node, 0)
            result._history_gen = result._version_counter[1]  # a view's counter is shared
            saved = ctx.saved_tensors
            if saved:
                node.versions = _saved_versions(saved, args, result)
        return result


def _stale_history_error(t):
    """A view whose memory a recorded in-place op rewrote through another tensor (its base
    or a sibling view): its values changed but its recorded history did not. PyTorch
    rebuilds the history; minicnn refuses rather than give a wrong gradient."""
    raise RuntimeError(f"a {t.dtype} tensor of shape {list(t.shape)} is used after a "
                       "recorded in-place operation changed its memory through another tensor "
                       "(its base or another view of it): its history is out of date. "
                       "minicnn does not rebuild it (PyTorch does): take the view again after "
                       "the in-place operation, or compute out of place.")


def _share_version_if_view(result, out, args):
    """A view of an input's array shares that input's version counter (writes through one
    are writes to the other) and remembers its base."""
    for a in args:
        if isinstance(a, Tensor) and np.may_share_memory(out, a.data):
            result._version_counter = a._version_counter
            result._base = a if a._base is None else a._base
            return


_OUTPUT = "output"  # marks the op's own output among the saved arrays' versions


def _saved_versions(saved, args, result):
    """``(counter, version, array, edge)`` for each saved array that is (a view of) an input
    tensor's or the output's array: backward checks that none was changed in place."""
    records = []
    out = result.data
    for array in saved:
        if not isinstance(array, np.ndarray):
            continue
        for a in args:
            if isinstance(a, Tensor) and (a.data is array or array.base is not None
                                          and np.may_share_memory(array, a.data)):
                records.append((a._version_counter, a._version_counter[0], array, a._edge))
                break
        else:
            if array is out or array.base is not None and np.may_share_memory(array, out):
                records.append((result._version_counter, result._version_counter[0], array,
                                _OUTPUT))
    return records or None


class Function:
    """PyTorch's ``torch.autograd.Function``: a custom op whose forward and backward take
    and return Tensors (see the module docstring).

    ``forward(ctx, *args, **kwargs)`` runs without recording and returns a Tensor or a tuple
    (non-tensor arguments arrive as they are); ``backward(ctx, *grad_outputs)`` gets one
    gradient Tensor per output and returns one per positional forward argument (None where
    there is none). PyTorch's newer form also works: ``forward(*args)`` without ``ctx``
    plus ``setup_context(ctx, inputs, output)``.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function subclasses define forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function subclasses define backward(ctx, *grad_outputs) "
                                  "to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Call ``forward`` (unrecorded) and record one node for its result(s)."""
        enabled = _grad_state.enabled
        edges = tuple((a._edge or a._leaf_edge())
                      if enabled and isinstance(a, Tensor) and a.requires_grad else None
                      for a in args)
        ctx = FunctionCtx(tuple(edge is not None for edge in edges))
        with no_grad():
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        if not any(ctx.needs_input_grad):
            return outputs
        single = not isinstance(outputs, tuple)
        results = list((outputs,) if single else outputs)
        node = _FunctionNode(cls, ctx, edges, tuple(
            (o.shape, o.dtype) if isinstance(o, Tensor) else None for o in results))
        saved = list(ctx._saved)
        for i, o in enumerate(results):
            if not isinstance(o, Tensor):
                continue
            differentiable = id(o) not in ctx._non_differentiable and o.dtype.kind == "f"
            if o._node is not None or o.requires_grad or any(o is a for a in args):
                # an input (or a tensor with a history) returned as is: its alias gets the node
                results[i] = o = o.detach()
            if not differentiable:
                continue
            o.requires_grad = True
            o._node = node
            o._edge = (node, i)
            o._history_gen = o._version_counter[1]
            for j, s in enumerate(saved):
                if s is o:  # a saved output would hold its own node: save an alias instead
                    saved[j] = o.detach()
        ctx._saved = tuple(saved)
        return results[0] if single else tuple(results)


# ----------------------------------------------------------------------------- Tensor


# The dtype kinds a Tensor may hold: bool, signed and unsigned integers, floating, complex.
_NUMBER_KINDS = "biufc"


# The dtype PyTorch gives Python data, by the kind NumPy infers: bools stay bool, ints
# become int64, floats the default float32, complex numbers complex64.
_PYTHON_DATA_DTYPES = {"b": np.dtype(np.bool_), "i": np.dtype(np.int64),
                       "u": np.dtype(np.int64), "f": np.dtype(np.float32),
                       "c": np.dtype(np.complex64)}


def _as_array(data, dtype, name="tensor: data"):
    """The array a new Tensor holds: NumPy data keeps its dtype; Python data (numbers,
    nested lists) takes PyTorch's: bools bool, ints int64, floats float32.

    Raises TypeError for data that is not numbers (None, strings, dicts, objects, an array
    of object dtype) and ValueError for ragged nested lists or numbers that do not fit;
    ``name`` says which argument.
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
        inferred = np.asarray(data)
    except ValueError:
        raise ValueError(f"{name} is a ragged nested list ({reprlib.repr(data)}); every row "
                         "must have the same length") from None
    if inferred.dtype == object and _has_only_ints(data):
        raise ValueError(f"{name}: {reprlib.repr(data)} does not fit in int64")
    _check_number_kind(inferred, data, name)
    if dtype is None:
        dtype = _PYTHON_DATA_DTYPES[inferred.dtype.kind]
    if inferred.dtype.kind == "u" and dtype.kind == "i":  # above int64's range
        raise ValueError(f"{name}: {reprlib.repr(data)} does not fit in {dtype}")
    try:
        return np.asarray(data, dtype=dtype)
    except OverflowError:
        raise ValueError(f"{name}: {reprlib.repr(data)} does not fit in {dtype}") from None


def _has_only_ints(data):
    """Whether nested lists hold Python ints only (NumPy makes an object array of ints
    beyond 64 bits)."""
    if isinstance(data, (list, tuple)):
        return all(_has_only_ints(item) for item in data)
    return isinstance(data, int) and not isinstance(data, bool)


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


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it.

    Parameters
    ----------
    data : array_like
        A NumPy array or scalar keeps its dtype (float32, float64, or an integer type for
        class labels); Python data takes PyTorch's dtypes: floats float32 (the default),
        ints int64, bools bool, unless ``dtype`` is given.
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
    # _node: the node that produced this tensor (None for a leaf); _edge: (node, output
    # index) that ops using this tensor link to (a leaf's AccumulateGrad once needed);
    # _version_counter: [number of in-place writes, number of those recorded in the graph],
    # one list shared by views; _history_gen: that second number when _edge was set (if it
    # moved on, a recorded in-place op rewrote this memory through another tensor and this
    # one's history is stale); _base: the tensor this one is a view of.
    __slots__ = ("_data", "_grad", "_node", "_edge", "requires_grad", "_version_counter",
                 "_history_gen", "_base", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None):
        self._data = _as_array(data, dtype)
        self._grad = None
        self._node = None
        self._edge = None
        self._version_counter = [0, 0]
        self._history_gen = 0
        self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place and return self.

        Freezing a parameter is ``p.requires_grad_(False)``; only leaves may change it
        (RuntimeError otherwise, as in PyTorch).
        """
        if flag and not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"requires_grad=True needs a floating dtype, got {self.dtype}; "
                            "only floating point tensors can have gradients")
        if not flag and self._node is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self.requires_grad = bool(flag)
        return self

    def detach(self):
        """A tensor sharing this data and version counter, cut from the graph (it does not
        require grad)."""
        t = _new_tensor(self.data)
        t._version_counter = self._version_counter
        return t

    def _set_data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif isinstance(value, np.generic):
            value = np.asarray(value)
        elif not isinstance(value, np.ndarray):
            raise TypeError("Tensor.data: the assigned data must be a Tensor or a NumPy array, "
                            f"got {type(value).__name__}")
        if value.dtype.kind not in _NUMBER_KINDS:
            raise TypeError(f"Tensor.data: the assigned array must hold numbers, got dtype "
                            f"{value.dtype}")
        self._data = value

    # Reading is a C-level getter (ops read .data all the time); assigning goes through
    # _set_data, which unwraps a Tensor (``p.data = p.data - lr * p.grad`` is a Tensor).
    data = property(operator.attrgetter("_data"), _set_data, doc="""The NumPy array this
        tensor wraps (shared, not copied). Assigning ``p.data = array`` (or a Tensor, whose
        array is taken) replaces it outside autograd: no version bump, as PyTorch's ``.data``.""")

    # Copies and pickles hold the data, requires_grad and grad, never the graph (its nodes
    # refer to their leaves weakly and cannot be copied); a copy starts at version 0.
    def __getstate__(self):
        state = {"data": self.data, "_grad": self._grad, "requires_grad": self.requires_grad}
        state.update(getattr(self, "__dict__", {}))  # a subclass's own attributes
        return state

    def __setstate__(self, state):
        self._node = self._edge = self._base = self._grad = None
        self._version_counter = [0, 0]
        self._history_gen = 0
        for name, value in state.items():
            setattr(self, name, value)

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment. If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return copied

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad. Returns self."""
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node = self._edge = None
        self.requires_grad = False
        return self

    def _leaf_edge(self):
        """The edge to this leaf's ``AccumulateGrad`` node, made the first time an op uses
        the leaf, then kept (all uses of a leaf share one node)."""
        edge = self._edge = (_AccumulateGrad(self), 0)
        return edge

    @property
    def is_leaf(self):
        """True for tensors you created (and every tensor that does not require grad)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that computed this tensor (``<MulBackward0 ...>``), None for a leaf."""
        return self._node

    @property
    def _version(self):
        """How many in-place writes this tensor (or a view sharing its memory) has had."""
        return self._version_counter[0]

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

    # --- hooks --------------------------------------------------------------------------
    def register_hook(self, hook):
        """Call ``hook(grad)`` with each gradient computed for this tensor (a Tensor) before
        it is used; a returned Tensor replaces it. Returns a handle: ``handle.remove()``."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {hook!r}")
        node, index = self._edge or self._leaf_edge()
        if node.hooks is None:
            node.hooks = []
        entry = (index, hook)
        node.hooks.append(entry)
        return RemovableHandle(node.hooks, entry)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` at the next backward (leaves
        keep theirs anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or self.retains_grad:
            return
        node, index = self._edge
        if node.retained is None:
            node.retained = []
        node.retained.append((index, weakref.ref(self)))

    @property
    def retains_grad(self):
        node = self._node
        return bool(node is not None and node.retained
                    and any(ref() is self for _, ref in node.retained))

    # --- backward -----------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) * gradient into ``.grad`` of every leaf that requires
        grad (and of non-leaves that ``retain_grad()``).

        Parameters
        ----------
        gradient : Tensor or array_like, optional
            dL/d(self), shaped like self. Defaults to 1 for a one-element tensor (a loss);
            required otherwise (RuntimeError, as PyTorch).
        retain_graph : bool, optional
            Keep the saved arrays, so backward can run through this graph again; without
            it, a second backward through the graph raises RuntimeError.
        create_graph : bool
            Must be False: minicnn does not differentiate gradients (ValueError otherwise).
        inputs : sequence of Tensors, optional
            Accumulate only into these tensors' ``.grad``.
        """
        backward([self], None if gradient is None else [gradient], retain_graph,
                 create_graph, inputs)

    # --- in-place operations ------------------------------------------------------------
    # Two paths: unrecorded (no_grad, or nothing requires grad), a NumPy write into .data;
    # recorded, the op's out-of-place form applied to the old value (which carries this
    # tensor's history), whose result is written into .data and whose node this tensor
    # takes. Both bump the version counter.
    def _inplace_is_recorded(self, *operands):
        """Whether an in-place op with ``operands`` is recorded; raises PyTorch's errors for
        in-place ops autograd cannot allow."""
        if not _grad_state.enabled:
            return False
        if self.requires_grad:
            if self._node is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            base = self._base
            if base is not None and base.requires_grad and base._node is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
        elif not any(isinstance(o, Tensor) and o.requires_grad for o in operands):
            return False
        return True

    def _old_value(self, copy=True):
        """The current value as a tensor carrying this tensor's history: the input of a
        recorded in-place op (a copy, if that op may save it for its backward)."""
        t = _new_tensor(self.data.copy() if copy else self.data)
        if self.requires_grad:
            if self._history_gen != self._version_counter[1] and self._node is not None:
                _stale_history_error(self)
            t.requires_grad = True
            t._node = self._node
            t._edge = self._edge
        return t

    def _check_writeable(self, name):
        if not self.data.flags.writeable:
            raise RuntimeError(f"{name}: this tensor's data is read-only (an expand()ed "
                               "tensor, or a read-only NumPy array); clone() it before "
                               "writing into it")

    def _bump_version(self):
        """Record one in-place write (every view sharing this memory sees it)."""
        self._version_counter[0] += 1

    def _take_result(self, new, name):
        """Finish a recorded in-place op: write its result ``new`` into this tensor's data
        and make this tensor the output of ``new``'s node."""
        if new.dtype != self.dtype:
            if not np.can_cast(new.dtype, self.dtype, "same_kind"):
                raise RuntimeError(f"{name}: result type {new.dtype} can't be cast to the "
                                   f"desired output type {self.dtype}")
            new = elementwise.cast(new, self.dtype)
        if new.shape != self.shape:
            raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match "
                               f"the broadcast shape {list(new.shape)}")
        self._check_writeable(name)
        np.copyto(self.data, new.data)
        self._version_counter[0] += 1
        self._version_counter[1] += 1  # other views of this memory now have stale histories
        retained = self.retains_grad
        if retained:  # retain_grad() follows the tensor to its new node
            self._node.retained[:] = [(i, ref) for i, ref in self._node.retained
                                      if ref() is not self]
        self._node, self._edge = new._node, new._edge
        self._history_gen = self._version_counter[1]
        self.requires_grad = True
        if retained:
            self.retain_grad()
        if self._base is not None:  # written through a view: the base's history is stale
            base = self._base
            stale = _ChangedThroughView(None, None, (), ((base.shape, base.dtype),))
            base._node, base._edge = stale, (stale, 0)
            base._history_gen = self._version_counter[1]  # its own, clearer error
            base.requires_grad = True
        return self

    def _arithmetic_(self, name, ufunc, op, other, alpha=1):
        if not elementwise.is_operand(other):
            raise TypeError(f"{name}(): argument 'other' must be Tensor or Number, got "
                            f"{type(other).__name__}")
        if alpha != 1:
            alpha = _number(alpha, f"{name}: alpha")
        if self._inplace_is_recorded(other):
            operand = other if alpha == 1 else elementwise.mul(other, alpha)
            return self._take_result(op(self._old_value(), operand), name)
        value = other.data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = np.multiply(value, alpha)
        target = self.data
        shape = np.shape(value)
        if shape != target.shape:
            _check_broadcasts_to(shape, target.shape, name)
        self._check_writeable(name)
        try:
            ufunc(target, value, out=target, casting="same_kind")
        except TypeError:  # NumPy's UFuncTypeError: the result does not fit this dtype
            raise RuntimeError(f"{name}: result type {np.result_type(target, value)} can't be "
                               f"cast to the desired output type {target.dtype}") from None
        self._version_counter[0] += 1
        return self

    def add_(self, other, *, alpha=1):
        """``self += alpha * other`` in place; returns self."""
        return self._arithmetic_("add_", np.add, elementwise.add, other, alpha)

    def sub_(self, other, *, alpha=1):
        """``self -= alpha * other`` in place; returns self."""
        return self._arithmetic_("sub_", np.subtract, elementwise.sub, other, alpha)

    def mul_(self, other):
        """``self *= other`` in place; returns self."""
        return self._arithmetic_("mul_", np.multiply, elementwise.mul, other)

    def div_(self, other):
        """``self /= other`` in place (true division; RuntimeError on an integer tensor, as
        PyTorch); returns self."""
        return self._arithmetic_("div_", np.true_divide, elementwise.div, other)

    def __iadd__(self, other):
        return self.add_(other) if elementwise.is_operand(other) else NotImplemented

    def __isub__(self, other):
        return self.sub_(other) if elementwise.is_operand(other) else NotImplemented

    def __imul__(self, other):
        return self.mul_(other) if elementwise.is_operand(other) else NotImplemented

    def __itruediv__(self, other):
        return self.div_(other) if elementwise.is_operand(other) else NotImplemented

    def clamp_(self, min=None, max=None):
        """Limit to ``[min, max]`` in place (numbers or tensors); returns self."""
        if min is None and max is None:
            raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
        if self._inplace_is_recorded(min, max):
            return self._take_result(elementwise.clamp(self._old_value(), min, max), "clamp_")
        self._check_writeable("clamp_")
        low, high = (b.data if isinstance(b, Tensor) else b for b in (min, max))
        try:
            np.clip(self.data, low, high, out=self.data, casting="same_kind")
        except TypeError:
            raise RuntimeError(f"clamp_: the bounds ({min!r}, {max!r}) can't be cast to the "
                               f"tensor's type {self.dtype}") from None
        self._version_counter[0] += 1
        return self

    clip_ = clamp_

    def __setitem__(self, index, value):
        """``t[index] = value`` (a tensor, a number or nested numbers, broadcast to the
        indexed part): in place, recorded when ``value`` or ``t`` requires grad."""
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        self._assign(index, value, "setitem")

    def _assign(self, index, value, name):
        if not isinstance(value, (Tensor, np.ndarray)) and not elementwise.is_operand(value):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name}: the value must be a Tensor, a number or nested "
                                f"numbers, got {type(value).__name__}")
            value = _as_array(value, self.dtype, f"{name}: value")
        if np.ndim(value):
            value = _without_extra_leading_ones(value, self.data[index].shape)
        if self._inplace_is_recorded(value):
            if self.dtype.kind != "f":
                raise RuntimeError(f"{name}: Index put requires the source and destination "
                                   f"dtypes match, got {self.dtype} for the destination and "
                                   f"{value.dtype} for the source")
            return self._take_result(IndexPut.apply(self._old_value(copy=False), value, index),
                                     name)
        self._check_writeable(name)
        try:
            self.data[index] = value.data if isinstance(value, Tensor) else value
        except ValueError as error:  # NumPy: could not broadcast ...
            raise RuntimeError(f"{name}: shape mismatch: {error}") from None
        self._version_counter[0] += 1
        return self

    def fill_(self, value):
        """Set every element to ``value`` (a number or a 0-d tensor); returns self."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if not isinstance(value, Tensor) and not elementwise.is_operand(value):
            raise TypeError(f"fill_(): argument 'value' must be Number or a 0-d Tensor, got "
                            f"{type(value).__name__}")
        return self._assign(Ellipsis, value, "fill_")

    def zero_(self):
        """Set every element to 0; returns self."""
        return self._assign(Ellipsis, 0, "zero_")

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor; the
        gradient flows to ``src``. Returns self."""
        if not isinstance(src, (Tensor, np.ndarray)):
            raise TypeError(f"copy_(): argument 'src' must be Tensor, got "
                            f"{type(src).__name__}")
        _check_broadcasts_to(src.shape, self.shape, "copy_")
        return self._assign(Ellipsis, src, "copy_")

    def uniform_(self, a=0.0, b=1.0):
        """Fill with draws from U[a, b) (``minicnn.rng``'s generator); returns self."""
        low, high = _number(a, "uniform_: from"), _number(b, "uniform_: to")
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                               f"from={low} > to={high}")
        self._check_floating("uniform_")
        return self._assign(Ellipsis, get_rng().uniform(low, high, self.shape), "uniform_")

    def normal_(self, mean=0.0, std=1.0):
        """Fill with draws from N(mean, std^2) (``minicnn.rng``'s generator); returns self."""
        mean, std = _number(mean, "normal_: mean"), _number(std, "normal_: std")
        if not std >= 0.0:
            raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
        self._check_floating("normal_")
        return self._assign(Ellipsis, get_rng().normal(mean, std, self.shape), "normal_")

    def _check_floating(self, name):
        if self.dtype.kind != "f":
            raise TypeError(f"{name} needs a floating tensor, got dtype {self.dtype}")


def tensor(data, requires_grad=False, dtype=None):
    """Create a ``Tensor`` (same arguments as the class)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _new_tensor(array):
    """``Tensor(array)`` for an op's output ndarray, without ``__init__``'s conversions."""
    t = _tensor_new(Tensor)
    t._data = array
    t._grad = None
    t._node = None
    t._edge = None
    t._version_counter = [0, 0]
    t._history_gen = 0
    t._base = None
    t.requires_grad = False
    return t


_tensor_new = object.__new__


def _number(value, name):
    """A setting (alpha, a bound, a mean) as a Python number: ints stay ints (an integer
    tensor may use them), anything else goes through float() (never upcasts float32)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None


def _without_extra_leading_ones(value, target_shape):
    """``value`` without the leading size-1 dims it has beyond ``target_shape``'s rank
    (PyTorch writes a shape-(1,) tensor into one element; NumPy refuses)."""
    shape = np.shape(value)
    extra = len(shape) - len(target_shape)
    if extra <= 0 or any(n != 1 for n in shape[:extra]):
        return value
    return value.reshape(shape[extra:])


def _check_broadcasts_to(shape, target, name):
    """RuntimeError (PyTorch's words) unless ``shape`` broadcasts to exactly ``target``."""
    try:
        broadcast = np.broadcast_shapes(tuple(shape), tuple(target))
    except ValueError:
        broadcast = None
    if broadcast != tuple(target):
        raise RuntimeError(f"{name}: output with shape {list(target)} doesn't match the "
                           f"broadcast shape {list(shape) if broadcast is None else list(broadcast)}")


class IndexPut(ArrayFunction):
    """``x[index] = value`` as a recorded op (``__setitem__``, ``copy_``, ``fill_``,
    ``zero_``, ``uniform_``, ``normal_``): the output is a copy of ``x`` with ``value``
    broadcast into ``x[index]``. The overwritten elements pass no gradient to ``x``; the
    gradient of ``value`` is the output gradient at ``index``, summed over broadcasting."""

    @staticmethod
    def forward(ctx, x, value, index):
        out = x.copy()
        out[index] = value
        ctx.index, ctx.value_shape = index, np.shape(value)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = grad.copy()
            grad_x[ctx.index] = 0
        if ctx.needs_input_grad[1]:
            grad_value = elementwise.unbroadcast(grad[ctx.index], ctx.value_shape)
        return grad_x, grad_value, None


# ----------------------------------------------------------------------------- the engine


def _tensors(value, name):
    """A Tensor or a sequence of Tensors, as a list (TypeError naming ``name`` otherwise)."""
    items = [value] if isinstance(value, Tensor) else value
    try:
        items = list(items)
    except TypeError:
        items = [items]
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got "
                            f"{type(item).__name__}")
    return items


def _seed_gradient(output, gradient, name):
    """The array that starts backward at ``output``: ``gradient`` (shaped like it), or 1
    for a one-element output."""
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (got "
                               f"shape {list(output.shape)}); pass the gradient, shaped like "
                               "the output")
        return np.ones_like(output.data)
    gradient = _as_array(gradient, output.dtype, name)
    if gradient.shape != output.shape:
        raise RuntimeError(f"Mismatch in shape: {name} has a shape of {list(gradient.shape)} "
                           f"and the output has a shape of {list(output.shape)}")
    return gradient


def _accumulate_into(t, g):
    """Add ``g`` to ``t.grad`` (owned on first use; in place after)."""
    grad = t._grad
    if grad is None:
        t._grad = _new_tensor(np.array(g, dtype=t.data.dtype))  # owned, never a view
    elif grad.data.flags.writeable:
        grad.data += g  # in place, as PyTorch: references to .grad see the sum
    else:
        grad.data = grad.data + g


class _EngineState(threading.local):
    """The callbacks queued by the backward passes running in this thread, innermost last
    (a hook may itself call backward)."""

    def __init__(self):
        self.callbacks = []


_engine_state = _EngineState()


def queue_callback(callback):
    """Run ``callback()`` once the backward pass now running has finished (PyTorch's
    ``Variable._execution_engine.queue_callback``). Called from a hook: data-parallel
    training averages the gradients this way, after every one has been accumulated."""
    if not _engine_state.callbacks:
        raise RuntimeError("queue_callback: no backward pass is running in this thread; "
                           "call it from a hook")
    _engine_state.callbacks[-1].append(callback)


def _run_engine(roots, seeds, retain_graph, capture=None):
    """``_backpropagate``, then the callbacks that its hooks queued (``queue_callback``)."""
    _engine_state.callbacks.append([])
    try:
        captured = _backpropagate(roots, seeds, retain_graph, capture)
    finally:
        callbacks = _engine_state.callbacks.pop()
    for callback in callbacks:
        callback()
    return captured


def _backpropagate(roots, seeds, retain_graph, capture=None):
    """Backpropagate ``seeds`` (arrays) from the edges ``roots`` through the graph.

    Each node runs once, after every node that uses one of its outputs (Kahn's algorithm
    on the count of edges arriving at each node: a stack, no recursion), with the sum of
    the gradients its outputs received. ``capture``: a set of edges whose gradients are
    returned ({edge: array}) instead of accumulated into leaves' ``.grad``
    (``autograd.grad``). Unless ``retain_graph``, each node that ran frees its context.
    """
    pending = {}  # node -> number of edges from not-yet-run nodes arriving at it
    stack = list({node: None for node, _ in roots})
    seen = set(stack)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is not None:
                parent = edge[0]
                pending[parent] = pending.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    buffers = {}  # node -> [summed gradient of each output, or None]
    for (node, index), seed in zip(roots, seeds):
        _add_gradient(buffers, node, index, seed)
    ready = [node for node in {node: None for node, _ in roots} if not pending.get(node)]
    captured = {}
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        input_grads = None
        if grads is not None:
            if node.hooks or node.retained:
                grads = _run_hooks(node, grads)
            if capture is not None:
                for index, g in enumerate(grads):
                    if g is not None and (node, index) in capture:
                        captured[(node, index)] = g
            if type(node) is _AccumulateGrad:
                if capture is None:
                    node._accumulate(grads[0])
                continue  # a leaf's node has no inputs
            input_grads = node._input_grads(grads)
            if len(input_grads) != len(node.next_edges):
                raise RuntimeError(f"{node.function.__name__}.backward returned "
                                   f"{len(input_grads)} gradients for "
                                   f"{len(node.next_edges)} inputs")
        for i, edge in enumerate(node.next_edges):
            if edge is None:
                continue
            parent, index = edge
            if input_grads is not None and input_grads[i] is not None:
                _add_gradient(buffers, parent, index,
                              _checked_gradient(node, input_grads[i], parent.metas[index]))
            pending[parent] -= 1
            if not pending[parent]:
                ready.append(parent)
        if grads is not None and not retain_graph:
            node._free()
    return captured


def _add_gradient(buffers, node, index, g):
    grads = buffers.get(node)
    if grads is None:
        grads = buffers[node] = [None] * len(node.metas)
    previous = grads[index]
    grads[index] = g if previous is None else previous + g


def _checked_gradient(node, g, meta):
    """``g`` as an array of the input's (shape, dtype); RuntimeError for a wrong shape."""
    shape, dtype = meta
    if type(g) is not np.ndarray or g.dtype != dtype:
        g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=dtype)
    if g.shape != shape:
        raise RuntimeError(f"{node.function.__name__}.backward returned a gradient of shape "
                           f"{g.shape} for an input of shape {shape}")
    return g


def _run_hooks(node, grads):
    """Apply the tensor hooks registered on ``node``'s outputs (each may replace the
    gradient), then store the gradients of outputs that ``retain_grad()`` (in
    ``autograd.grad`` too, as PyTorch does)."""
    grads = list(grads)
    for index, hook in list(node.hooks or ()):
        if grads[index] is not None:
            replaced = hook(_new_tensor(grads[index]))
            if replaced is not None:
                grads[index] = _checked_gradient(node, replaced, node.metas[index])
    for index, ref in node.retained or ():
        t = ref()
        if t is not None and grads[index] is not None:
            _accumulate_into(t, grads[index])
    return grads


def _roots_and_seeds(outputs, gradients, caller, outputs_name, gradients_name):
    """The edges to start from and their seed gradients (arrays), checked as PyTorch does."""
    outputs = _tensors(outputs, f"{caller}: {outputs_name}")
    if gradients is None:
        gradients = [None] * len(outputs)
    else:
        gradients = [gradients] if isinstance(gradients, Tensor) else list(gradients)
    if len(gradients) != len(outputs):
        raise RuntimeError(f"{caller}: got {len(gradients)} {gradients_name} for "
                           f"{len(outputs)} {outputs_name}; give one per {outputs_name[:-1]}")
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, gradients)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
        if out._history_gen != out._version_counter[1] and out._node is not None:
            _stale_history_error(out)
        roots.append(out._edge or out._leaf_edge())
        if caller == "backward" and len(outputs) == 1:  # tensor.backward(gradient)
            name = "backward: gradient"
        else:
            name = f"{caller}: {gradients_name}[{i}]"
        seeds.append(_seed_gradient(out, g, name))
    return roots, seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """PyTorch's ``torch.autograd.backward``: backpropagate from several tensors in one pass
    (the sum of their ``backward``s, each graph node visited once), accumulating into the
    ``.grad`` of the leaves (only of ``inputs`` if given). ``tensor.backward(...)`` is this
    with one tensor."""
    if create_graph:
        raise ValueError("backward(create_graph=True): minicnn does not record the backward "
                         "pass, so it has no higher-order gradients; use create_graph=False")
    roots, seeds = _roots_and_seeds(tensors, grad_tensors, "backward", "tensors",
                                    "grad_tensors")
    if inputs is None:
        _run_engine(roots, seeds, bool(retain_graph))
        return
    inputs = _tensors(inputs, "backward: inputs")
    captured = _run_engine(roots, seeds, bool(retain_graph),
                           {t._edge or t._leaf_edge() for t in inputs})
    for t in inputs:
        g = captured.get(t._edge)
        if g is not None:
            _accumulate_into(t, g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors,
    without touching any ``.grad`` (PyTorch's ``torch.autograd.grad``).

    ``grad_outputs``: dL/d(each output) (Tensors, or None for a one-element output).
    ``allow_unused``: an input the outputs do not depend on gives None instead of a
    RuntimeError (zeros with ``materialize_grads=True``). ``retain_graph`` as in
    ``backward``; ``create_graph=True`` is a ValueError (no higher-order gradients).
    """
    if create_graph:
        raise ValueError("grad(create_graph=True): minicnn does not record the backward "
                         "pass, so it has no higher-order gradients; use create_graph=False")
    roots, seeds = _roots_and_seeds(outputs, grad_outputs, "grad", "outputs", "grad_outputs")
    inputs = _tensors(inputs, "grad: inputs")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    targets = [t._edge or t._leaf_edge() for t in inputs]
    captured = _run_engine(roots, seeds, bool(retain_graph), set(targets))
    result = []
    for t, edge in zip(inputs, targets):
        g = captured.get(edge)
        if g is not None:
            result.append(_new_tensor(np.array(g, dtype=t.dtype)))
        elif materialize_grads:
            result.append(_new_tensor(np.zeros_like(t.data)))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError("One of the differentiated Tensors appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
    return tuple(result)


# The ops modules build on ArrayFunction and Tensor above, and Tensor's methods
# (tensor_methods.py) call them: imported last to close the cycle.
from .ops import activation, elementwise, linear, reduce, shape  # noqa: E402,F401
