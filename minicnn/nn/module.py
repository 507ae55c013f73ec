"""``Module``, ``Parameter`` and the containers ``Sequential``, ``ModuleList``, ``ModuleDict``,
``ParameterList`` and ``ParameterDict``.

A ``Module`` is a piece of a network that owns three kinds of state, each registered simply
by assigning an attribute in ``__init__``:

    self.weight = Parameter(...)        # a Tensor the optimizer trains  -> named_parameters()
    self.conv1 = Conv2d(...)            # a sub-module                     -> named_children()
    self.register_buffer("running_mean", np.zeros(c))   # a NumPy array that is state but
                                                        # not trained     -> named_buffers()

Everything else (``state_dict``, ``train``/``eval``, ``zero_grad``, ``to``, ``repr``) walks
that tree. Names are joined with dots, as in PyTorch, so ``model.state_dict()`` has keys such as
``features.0.weight`` and ``bn1.num_batches_tracked`` and PyTorch weights exported to ``.npz``
load directly.
"""

import operator
from collections import OrderedDict, namedtuple
from itertools import islice

import numpy as np

from ..autograd import Function, Tensor, is_grad_enabled
from ..device import check_device, device
from ..dtypes import as_dtype

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "IncompatibleKeys", "StateDictError", "place"]


class Parameter(Tensor):
    """A ``Tensor`` that is a trainable weight of a ``Module`` (it requires grad by default).

    Parameters
    ----------
    data : array_like or Tensor
        A Tensor's array is shared, not copied; NumPy arrays keep their dtype.
    requires_grad : bool
        ``False`` freezes it: no gradient is computed for it and optimizers skip it.
    """

    def __init__(self, data, requires_grad=True):
        super().__init__(data.data if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(RuntimeError, ValueError):
    """A state dict does not fit the module (missing, unexpected or mis-shaped keys).

    A ``RuntimeError`` as in PyTorch, and a ``ValueError`` as any bad input in minicnn.
    """


# What ``load_state_dict`` returns (PyTorch's ``_IncompatibleKeys``).
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _HookHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook_id):
        self.hooks, self.hook_id = hooks, hook_id

    def remove(self):
        self.hooks.pop(self.hook_id, None)


class BackwardHookFunction(Function):
    """The identity on tensors, whose backward calls ``_BackwardHook``'s hooks: around a
    module's outputs (``hook.output_backward``: the pre-hooks, on the outputs' gradients)
    or its inputs (``hook.input_backward``: the full hooks, on the inputs' gradients)."""

    @staticmethod
    def forward(ctx, *tensors, hook=None, side=None):
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        # as PyTorch: the pre-hooks see None for an output that got no gradient; the full
        # hooks see zeros for a tensor input that got none (or does not require grad)
        ctx.set_materialize_grads(side == "input")
        ctx.hook, ctx.side = hook, side
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        if ctx.side == "output":
            return ctx.hook.output_backward(grads)
        return ctx.hook.input_backward(grads)


def _check_hook_result(result, expected, what):
    if not isinstance(result, (tuple, list)) or len(result) != expected:
        count = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise RuntimeError(f"Backward {what} returned an invalid number of grad_"
                           f"{'output' if 'pre' in what else 'input'}, got {count}, but "
                           f"expected {expected}")
    return tuple(result)


class _BackwardHook:
    """One call's backward hooks (PyTorch's ``torch.utils.hooks.BackwardHook``): the hooks
    registered when the call was made, the positions of the tensors among the call's
    arguments and outputs, and the outputs' gradients between the two wrappers' backward."""

    def __init__(self, module):
        self.module = module
        self.hooks = list(module._backward_hooks.values()) if module._backward_hooks else []
        self.pre_hooks = (list(module._backward_pre_hooks.values())
                          if module._backward_pre_hooks else [])
        self.n_inputs = self.n_outputs = 0
        self.input_index = self.output_index = None
        self.grad_outputs = None

    @staticmethod
    def _wrap(values, hook, side):
        """``values`` with its tensors replaced by the identity's outputs, and their
        positions; unchanged (positions None) when none requires grad or grad mode is off."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not is_grad_enabled() or not any(values[i].requires_grad for i in index):
            return values, None
        wrapped = BackwardHookFunction.apply(*[values[i] for i in index], hook=hook, side=side)
        values = list(values)
        for i, t in zip(index, wrapped):
            values[i] = t
        return tuple(values), index

    @staticmethod
    def _pack(index, grads, count):
        packed = [None] * count
        for i, g in zip(index, grads):
            packed[i] = g
        return tuple(packed)

    def wrap_inputs(self, args):
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(args, self, "input")
        return args

    def wrap_outputs(self, output):
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        self.n_outputs = len(outputs)
        outputs, self.output_index = self._wrap(outputs, self, "output")
        return outputs[0] if single else type(output)(outputs)

    def output_backward(self, grads):
        grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_outputs)
            if result is not None:
                grad_outputs = _check_hook_result(result, self.n_outputs, "pre hook")
        self.grad_outputs = grad_outputs
        if self.input_index is None:  # no input requires grad: input_backward won't run
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, grad_outputs)
                if result is not None and not (isinstance(result, tuple)
                                               and all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_index)

    def input_backward(self, grads):
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs
            return grads
        grad_inputs = self._pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            result = hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None:
                grad_inputs = _check_hook_result(result, self.n_inputs, "hook")
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_index)


def _indent(text, spaces):
    """Indent every line of ``text`` but the first (nested reprs, as PyTorch prints them)."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign parameters, sub-modules and buffers
    as attributes, and define ``forward``. Calling the module runs ``forward``.
    """

    # State-dict keys (local names) that ``load_state_dict`` may find missing without error:
    # the module keeps its current value (PyTorch: BatchNorm's ``num_batches_tracked``,
    # absent from checkpoints written before it existed).
    _optional_state_keys = ()

    def __init__(self):
        # Set through object.__setattr__: our own __setattr__ needs these to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward method")

    def __call__(self, *args, **kwargs):
        # Every layer of every step comes through here; most have no hooks, so the lists
        # (copies: a hook may remove itself) are only built when there are some.
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = _BackwardHook(self)
            args = backward_hook.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        if backward_hook is not None:
            output = backward_hook.wrap_outputs(output)
        return output

    # --- registration -------------------------------------------------------------------
    def _check_initialised(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() is called: "
                                 f"call super().__init__() first in {type(self).__name__}")

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._check_initialised("parameters")
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_initialised("sub-modules")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(a Parameter or None expected)")
            self._parameters[name] = None
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as sub-module {name!r} "
                                "(a Module or None expected)")
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if isinstance(value, Tensor):        # PyTorch code assigns tensors: keep the array
                value = value.data
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} "
                                "(a numpy.ndarray or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Drop ``name`` from every registry but ``keep`` (the one about to receive it), so
        one name means one thing; re-assigning within ``keep`` keeps the name's position."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``)."""
        self._check_initialised("parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, got "
                            f"{type(param).__name__}")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, array, persistent=True):
        """Register a NumPy array that is module state but not a trained parameter.

        Parameters
        ----------
        name : str
        array : numpy.ndarray, Tensor or None
            e.g. batch norm's running statistics; updated in place by the ops. A Tensor (as
            PyTorch code passes) is stored as its array, shared: buffers are NumPy arrays.
        persistent : bool
            Whether it belongs in ``state_dict()``.
        """
        self._check_initialised("buffers")
        if isinstance(array, Tensor):
            array = array.data
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(f"register_buffer({name!r}): expected a numpy.ndarray, a Tensor or "
                            f"None, got {type(array).__name__}")
        if "." in name or not name:
            raise ValueError(f"register_buffer: invalid name {name!r} (non-empty, no dots)")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = array
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register ``module`` as the sub-module ``name`` (same as assigning an attribute)."""
        self._check_initialised("sub-modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module or None, got "
                            f"{type(module).__name__}")
        if not isinstance(name, str) or "." in name or not name:
            raise ValueError(f"add_module: invalid module name {name!r} (non-empty, no dots)")
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    register_module = add_module

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward; returns a handle.

        A hook that returns a value replaces the output. ``handle.remove()`` unregisters it.
        """
        hook_id = object()
        self._forward_hooks[hook_id] = hook
        return _HookHandle(self._forward_hooks, hook_id)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, inputs)`` before every forward; returns a handle."""
        hook_id = object()
        self._forward_pre_hooks[hook_id] = hook
        return _HookHandle(self._forward_pre_hooks, hook_id)

    # Backward hooks: empty until one is registered (then an OrderedDict on the instance),
    # so modules built or unpickled before they existed need nothing.
    _backward_hooks = _backward_pre_hooks = ()

    def _add_backward_hook(self, registry, hook, prepend):
        if not callable(hook):
            raise TypeError(f"backward hook must be callable, got {hook!r}")
        hooks = self.__dict__.get(registry)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, registry, hooks)
        hook_id = object()
        hooks[hook_id] = hook
        if prepend:
            hooks.move_to_end(hook_id, last=False)
        return _HookHandle(hooks, hook_id)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        inputs have been computed (PyTorch's semantics); returns a handle (``remove()``).

        ``grad_input``: a tuple with one entry per positional argument of the call, the
        gradient (a Tensor) of a tensor argument that requires grad, else None.
        ``grad_output``: a tuple with one entry per output (the output, or each element of
        a tuple output), the gradient arriving there or None. A hook may return a tuple of
        the same length, which replaces ``grad_input`` (for later hooks and for the graph
        below the module); parameters' gradients are not affected (they were computed
        already). When no input requires grad the hook runs with ``grad_input`` all None
        and must return None. Keyword arguments are not tracked. Registered hooks apply
        to calls made after registration; ``prepend=True`` runs this hook first.

        How: as PyTorch's ``BackwardHook``, each call wraps the tensor arguments and the
        outputs in an identity ``Function`` (``BackwardHookFunctionBackward`` nodes) whose
        backward calls the hooks.
        """
        return self._add_backward_hook("_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs have
        been computed, before they flow into the module; a returned tuple of the same length
        replaces ``grad_output`` (and so every gradient computed from it, the parameters'
        included). Returns a handle (``remove()``); ``grad_output`` as in
        ``register_full_backward_hook``."""
        return self._add_backward_hook("_backward_pre_hooks", hook, prepend)

    # --- walking the tree ---------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(name, module)`` for this module (name ``prefix``) and every descendant, depth
        first in registration order; a module reached twice is listed once unless
        ``remove_duplicate`` is False. ``memo``: a set of modules to skip (PyTorch's)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """``(name, module)`` for the direct sub-modules."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def get_submodule(self, target):
        """The sub-module at the dotted path ``target`` (``""``: self), as PyTorch's."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                if part in module.__dict__ or part in module._parameters or \
                        part in module._buffers:
                    raise AttributeError(f"`{part}` is not an nn.Module")
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = module._modules[part]
        return module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        """``(dotted name, value)`` of a registry over the tree (each value once unless
        ``remove_duplicate`` is False)."""
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen = set()
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, Parameter)`` for every parameter; a shared one appears once
        (unless ``remove_duplicate`` is False). PyTorch's signature."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, numpy.ndarray)`` for every buffer."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, array in self.named_buffers(recurse=recurse):
            yield array

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (batch norm uses batch statistics, dropout drops) everywhere."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode everywhere (same as ``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (``False``) or unfreeze every parameter; returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: ``None`` (PyTorch's default) or zeros."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.data[...] = 0

    # --- dtype --------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """PyTorch's ``to``: ``to(device)``, ``to(dtype)``, ``to(tensor)``,
        ``to(device=None, dtype=None, non_blocking=False)``; returns self.

        A dtype converts parameters (and their gradients) and floating buffers; integer
        buffers (``num_batches_tracked``) keep their type. A device must be the CPU
        (``"cpu"``, ``device("cpu")``): minicnn has no other, so nothing moves; any other
        device is a ValueError saying so. ``non_blocking``/``memory_format`` change nothing.

        Raises
        ------
        TypeError
            A dtype that is not floating (PyTorch's rule), an unknown keyword, or more than
            a device and a dtype.
        ValueError
            A device other than the CPU.
        """
        target_device, dtype = _to_arguments(args, kwargs)
        check_device(target_device, "Module.to()")
        if dtype is None:
            return self
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                param.data = param.data.astype(dtype, copy=False)
                if param.grad is not None:
                    param.grad = param.grad.data.astype(dtype, copy=False)
            for name, array in module._buffers.items():
                if array is not None and np.issubdtype(array.dtype, np.floating):
                    module._buffers[name] = array.astype(dtype, copy=False)
        return self

    def cpu(self):
        """Nothing to move: minicnn computes on the CPU. Returns self."""
        return self

    def cuda(self, device=None):
        """Always a RuntimeError: minicnn has no CUDA device (use ``.to("cpu")``)."""
        raise RuntimeError("Module.cuda(): minicnn computes on the CPU only, there is no "
                           "CUDA device (minicnn.cuda.is_available() is False); use "
                           ".to('cpu') or the device boilerplate that falls back to 'cpu'")

    def double(self):
        """Convert to float64 (what gradient checks need)."""
        return self.to(np.float64)

    def float(self):
        """Convert to float32 (the default)."""
        return self.to(np.float32)

    # --- state dict ---------------------------------------------------------------------
    def state_dict(self):
        """Every parameter and persistent buffer as a NumPy array (a copy), by dotted name.

        Keys and order follow PyTorch: for each module (depth first), its parameters, then
        its buffers, e.g. ``bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var,
        bn1.num_batches_tracked``.
        """
        return OrderedDict((key, np.array(value, copy=True))
                           for key, value in self._state_items())

    def _state_items(self):
        """``(key, live array)`` of everything in the state dict (no copies)."""
        for module_name, module in self._named_modules_with_duplicates():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield prefix + name, param.data
            for name, array in module._buffers.items():
                if array is not None and name not in module._non_persistent_buffers:
                    yield prefix + name, array

    def _named_modules_with_duplicates(self, prefix=""):
        """Like ``named_modules`` but a module reached by two paths is listed under both
        (PyTorch's state dict lists shared weights under every name)."""
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child._named_modules_with_duplicates(f"{prefix}.{name}" if prefix
                                                                else name)

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into this module's parameters and buffers.

        Parameters
        ----------
        state_dict : mapping of str to array_like
            As returned by ``state_dict()`` or ``minicnn.load``. Values are cast to the dtype
            of the parameter or buffer they fill.
        strict : bool
            Whether missing and unexpected keys are errors. Mis-shaped values always are.
            Keys a layer declares optional (BatchNorm's ``num_batches_tracked``) are never
            missing: when absent, the current value is kept, as in PyTorch.

        Returns
        -------
        IncompatibleKeys(missing_keys, unexpected_keys)

        Raises
        ------
        StateDictError
            (a RuntimeError and a ValueError) listing *every* missing, unexpected and
            mis-shaped key. Nothing is loaded then: the module is left as it was.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        targets = OrderedDict(self._state_items())
        optional = {f"{module_name}.{name}" if module_name else name
                    for module_name, module in self._named_modules_with_duplicates()
                    for name in module._optional_state_keys}
        missing = [key for key in targets if key not in state_dict and key not in optional]
        unexpected = [key for key in state_dict if key not in targets]
        mismatched, converted = [], []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != target.shape:
                mismatched.append(f"size mismatch for {key}: the checkpoint has shape "
                                  f"{value.shape}, the module has shape {target.shape}")
                continue
            try:
                converted.append((target, value.astype(target.dtype, casting="unsafe")))
            except (TypeError, ValueError) as e:
                mismatched.append(f"value of {key} cannot be converted to {target.dtype}: {e}")
        problems = []
        if strict and missing:
            problems.append("Missing key(s): " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
        problems += mismatched
        if problems:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__} "
                                 f"(nothing was loaded):\n\t" + "\n\t".join(problems))
        for target, value in converted:  # only now touch the module: all or nothing
            target[...] = value
        return IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------
    def extra_repr(self):
        """The settings shown between the parentheses of ``repr`` (override in layers)."""
        return ""

    def __repr__(self):
        extra_lines = self.extra_repr().split("\n") if self.extra_repr() else []
        child_lines = [f"({name}): {_indent(repr(child), 2)}"
                       for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def place(module, device, dtype, owner):
    """A layer's PyTorch factory arguments (``Linear(..., device=None, dtype=None)``): the
    device must be the CPU (ValueError otherwise), a dtype converts the new parameters and
    floating buffers (``module.to(dtype)``). Returns ``module``."""
    check_device(device, f"{owner}: device")
    return module if dtype is None else module.to(dtype)


def _to_arguments(args, kwargs):
    """``(device, dtype)`` from the arguments of ``Module.to`` (either may be None)."""
    kwargs = dict(kwargs)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    target_device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
    if args and isinstance(args[-1], bool):          # positional non_blocking
        args = args[:-1]
    if len(args) > 2:
        raise TypeError(f"Module.to() takes a device, a dtype or a tensor, got {args!r}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, device) or isinstance(arg, str) and _names_device(arg):
            target_device = arg
        else:
            dtype = arg
    return target_device, None if dtype is None else as_dtype(dtype, "Module.to(): dtype")


def _names_device(text):
    try:
        device(text)
    except ValueError:
        return False
    return True


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named ``"0"``, ``"1"``, ... (or by the keys of an ``OrderedDict`` passed as
    the only argument). Indexing with an int (negative too) gives a module, with a slice a
    new ``Sequential`` sharing the same modules.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def _key(self, index):
        index = operator.index(index)
        size = len(self._modules)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of range for a {type(self).__name__} of "
                             f"{size} modules")
        return next(islice(self._modules, index % size, None))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __delitem__(self, index):
        keys = list(self._modules)[index] if isinstance(index, slice) else [self._key(index)]
        for key in keys:
            del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end (named by the next free index); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters are registered (named ``"0"``, ``"1"``, ...).

    Unlike ``Sequential`` it has no ``forward``: the owner decides how to use them.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, index):
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ModuleList of "
                             f"{len(self)} modules")
        return str(index % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._key(index)]

    def __setitem__(self, index, module):
        self.add_module(self._key(index), module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        del modules[index]
        self._modules.clear()
        self.extend(modules)  # renumber "0", "1", ... as PyTorch does

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of an iterable; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError(f"ModuleList.extend expects an iterable of modules, got a single "
                            f"{type(modules).__name__}; use append")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        self.extend(modules)


class ModuleDict(Module):
    """Sub-modules by name, in insertion order (PyTorch's ``ModuleDict``): ``d["conv"]``,
    ``d["conv"] = Conv2d(...)``, ``len``, ``in``, ``keys()/values()/items()``, ``update``,
    ``pop``, ``clear``. Iterating gives the names. No ``forward``: the owner uses them."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        """Add the ``(name, module)`` pairs of a mapping or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self):
        self._modules.clear()


def _parameter_line(param, type_name=None):
    """``Parameter containing: [minicnn.float32 of size 3x3]``: PyTorch's container line."""
    size = "x".join(str(s) for s in param.shape)
    return f"Parameter containing: [{type_name or f'minicnn.{param.dtype}'} of size {size}]"


class ParameterList(Module):
    """Parameters in a list, registered as ``"0"``, ``"1"``, ... (PyTorch's
    ``ParameterList``); Tensors and arrays appended are wrapped in ``Parameter``."""

    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def _key(self, index):
        index = operator.index(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ParameterList of "
                             f"{len(self)} parameters")
        return str(index % len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[self._key(index)]

    def __setitem__(self, index, value):
        self.register_parameter(self._key(index), _as_parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add ``value`` (a Parameter, Tensor or array) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def extra_repr(self):
        return "\n".join(f"({key}): {_parameter_line(p)}" for key, p in self._parameters.items())

    def __repr__(self):
        lines = self.extra_repr().split("\n") if self._parameters else []
        return f"{type(self).__name__}(" + "".join("\n    " + line for line in lines) + "\n)"


class ParameterDict(Module):
    """Parameters by name (PyTorch's ``ParameterDict``); values are wrapped in
    ``Parameter`` as ``ParameterList`` does."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def update(self, parameters):
        """Add ``parameters``' pairs: in their order from an OrderedDict, a ParameterDict or
        an iterable of pairs, in sorted key order from another mapping (as PyTorch)."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = parameters.items()
        elif hasattr(parameters, "items"):
            pairs = sorted(parameters.items())
        else:
            pairs = parameters
        for key, value in pairs:
            self[key] = value

    def __reversed__(self):
        return reversed(list(self._parameters))

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last inserted ``(key, parameter)`` pair."""
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        self._parameters.clear()

    def copy(self):
        return ParameterDict(OrderedDict(self._parameters))

    def fromkeys(self, keys, default=None):
        return ParameterDict((key, default) for key in keys)

    def extra_repr(self):
        # PyTorch's: two spaces here, indented two more by Module's repr; the legacy type name
        return "\n".join(f"  ({key}): {_parameter_line(p, p.type())}"
                         for key, p in self._parameters.items() if p is not None)


def _as_parameter(value):
    """``value`` as a Parameter (a Tensor's array is shared; requires grad, as PyTorch's)."""
    if value is None or isinstance(value, Parameter):
        return value
    return Parameter(value if isinstance(value, Tensor) else np.asarray(value))
