"""``summary(model, input_shape)``: a table of a model's layers, output shapes, parameters and
multiply-accumulates (MACs), from one forward pass of a single image.

How it works. A forward pre-hook and a forward hook are put on every registered module; one
forward pass of a batch of one (eval mode, under ``no_grad``) then records, per call, which
module ran inside which (the rows, in the order the layers start), its output shape and
its MACs. The hooks are removed and every module's training flag restored afterwards.

What the columns count
----------------------
Parameters
    A row's *own* parameters (those registered directly on that module, not its children's),
    so the column sums to the model's total. A parameter shared by two modules counts once,
    and a module called several times shows its parameters on its first call only.
MACs (multiply-accumulates, for the one image)
    Counted for the leaf layers that do the arithmetic that matters, and only those:

    ``Conv2d``   ``OH * OW * C_out * (C_in / groups) * KH * KW``  (one MAC per kernel tap
                 per output element; dilation changes nothing; the bias add is not counted)
    ``ConvTranspose2d``  ``H * W * C_in * (C_out / groups) * KH * KW`` for an ``H x W``
                 input (each input element meets every tap of its group's filters: the
                 MACs of the convolution it is the gradient of)
    ``Linear``   ``out_features * in_features`` per input row (a ``(1, ..., in_features)``
                 input has ``prod(...)`` rows); the bias add is not counted

    Every other layer counts 0: pooling, batch norm, activations, dropout, flatten, and
    arithmetic written directly in a ``forward`` (a residual addition, ``cat``). Those are
    O(activations), small beside the O(activations x kernel) of convolutions, and this is the
    convention behind torchvision's published figures (its "GFLOPS" column for ResNet-50,
    4.09, counts convolution and linear MACs; several PyTorch tools - thop, ptflops, fvcore -
    differ from one another in exactly these small terms, so their totals can disagree with
    this one in the third digit). One MAC is two FLOPs (a multiply and an add).
    Containers (``Sequential``, blocks, the model itself) have no MACs of their own: only
    leaves count, so nothing is counted twice. A module called several times (shared) is
    counted per call. Layers that are not registered modules (an ``F.conv2d`` call inside a
    ``forward``) are invisible to the hooks and not counted.

Rows
    Row 0 is the model itself (name ``""``, shown as ``(model)``) with its output shape.
    ``depth=k`` keeps the rows at most ``k`` calls deep and folds everything below a kept
    row into it (its parameters and MACs then include its sub-modules'), so the columns
    still sum to the totals. Modules that were not called (GoogLeNet's auxiliary heads in
    eval mode) are listed at the end as "not run": their parameters count, their MACs are 0.
"""

from collections import namedtuple

import numpy as np

from .autograd import Tensor, no_grad
from .nn import Conv2d, ConvTranspose2d, Linear, Module

__all__ = ["summary", "Summary", "SummaryRow", "layer_macs"]

SummaryRow = namedtuple("SummaryRow", ["name", "type", "output_shape", "params",
                                       "trainable_params", "macs", "depth", "call"])
SummaryRow.__doc__ = """One row of a ``Summary``.

name : str (dotted, ``""`` for the model); type : str (class name);
output_shape : tuple of int, a tuple/namedtuple of those for modules returning several
tensors, or None if the module was not run; params, trainable_params, macs : int;
depth : int (0 for the model, 1 for its children, ...); call : int (1 for a module's first
call, 2 for its second, ...).
"""


def layer_macs(module, inputs, output):
    """Multiply-accumulates of one call of a leaf ``module`` on ``inputs`` (the tuple of its
    positional arguments) that produced ``output``.

    ``Conv2d``: ``output.numel() * (C_in / groups) * KH * KW`` (that is
    ``N * C_out * OH * OW * (C_in / groups) * KH * KW``); ``ConvTranspose2d``:
    ``input.numel() * (C_out / groups) * KH * KW``; ``Linear``:
    ``output.numel() * in_features``; any other module: 0 (see the module docstring).
    """
    if isinstance(module, Conv2d):
        kh, kw = module.kernel_size
        return output.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, ConvTranspose2d):
        kh, kw = module.kernel_size
        return inputs[0].numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, Linear):
        return output.numel() * module.in_features
    return 0


def _shape_of(output):
    """The shape of a Tensor; the same structure of shapes for tuples and lists of them."""
    if isinstance(output, (Tensor, np.ndarray)):
        return tuple(output.shape)
    if isinstance(output, tuple) and hasattr(output, "_fields"):  # a named tuple
        return type(output)(*(_shape_of(item) for item in output))
    if isinstance(output, (tuple, list)):
        return tuple(_shape_of(item) for item in output)
    return None if output is None else type(output).__name__


def _format_shape(shape):
    """``(1, 64, 56, 56)`` -> ``[1, 64, 56, 56]``; a named tuple -> ``field [..], ...``."""
    if shape is None:
        return "not run"
    if isinstance(shape, str):
        return shape
    if isinstance(shape, tuple) and hasattr(shape, "_fields"):
        return ", ".join(f"{field} {_format_shape(item)}"
                         for field, item in zip(shape._fields, shape))
    if all(isinstance(dim, (int, np.integer)) for dim in shape):
        return "[" + ", ".join(str(dim) for dim in shape) + "]"
    return "(" + ", ".join(_format_shape(item) for item in shape) + ")"


class _Call:
    """What the hooks record about one call of one module."""

    def __init__(self, name, module, parent, depth):
        self.name, self.module, self.parent, self.depth = name, module, parent, depth
        self.output_shape, self.macs, self.call = None, 0, 1


def _record_calls(model, x):
    """Run ``model(x)`` with hooks on every module; returns the ``_Call`` list in call order
    (then one entry per module that was not called) and the model's output shape."""
    names = {id(module): name for name, module in model.named_modules()}
    calls, stack, count = [], [], {}

    def before(module, inputs):
        parent = stack[-1] if stack else None
        call = _Call(names[id(module)], module, parent, 0 if parent is None else parent.depth + 1)
        count[id(module)] = call.call = count.get(id(module), 0) + 1
        calls.append(call)
        stack.append(call)

    def after(module, inputs, output):
        call = stack.pop()
        call.output_shape = _shape_of(output)
        if next(module.children(), None) is None:  # leaves only: no double counting
            call.macs = layer_macs(module, inputs, output)

    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(before))
            handles.append(module.register_forward_hook(after))
        try:
            output = model(x)
        except (ValueError, TypeError) as e:
            where = f" in layer {stack[-1].name!r}" if stack and stack[-1].name else ""
            raise type(e)(f"summary: the forward pass of {type(model).__name__} on an input of "
                          f"shape {x.shape} failed{where}: {e}") from e
    finally:
        for handle in handles:
            handle.remove()
    by_name = {}
    for call in calls:
        by_name.setdefault(call.name, call)
    for name, module in model.named_modules():  # parents come before their children
        if name not in by_name:
            parent = by_name[name.rpartition(".")[0]]
            by_name[name] = _Call(name, module, parent, parent.depth + 1)
            calls.append(by_name[name])
    return calls, _shape_of(output)


def _build_rows(calls, depth):
    """One row per call at most ``depth`` deep; deeper calls fold into their kept ancestor.

    Returns the rows and, for each, whether rows of its sub-modules are shown too."""
    kept = {}  # id(_Call) -> [params, trainable, macs] of its row
    expanded = set()  # id(_Call) of kept rows with a kept child
    seen_params = set()
    for call in calls:
        owner = call
        while depth is not None and owner.depth > depth:
            owner = owner.parent
        if owner is call and call.parent is not None:
            expanded.add(id(call.parent))
        totals = kept.setdefault(id(owner), [0, 0, 0])
        for param in call.module.parameters(recurse=False):
            if id(param) not in seen_params:
                seen_params.add(id(param))
                totals[0] += param.numel()
                totals[1] += param.numel() if param.requires_grad else 0
        totals[2] += call.macs
    rows = [SummaryRow(call.name, type(call.module).__name__, call.output_shape,
                       *kept[id(call)], call.depth, call.call)
            for call in calls if id(call) in kept]
    return rows, [id(call) in expanded for call in calls if id(call) in kept]


class Summary:
    """The result of ``summary``: ``str(s)`` is the table.

    Attributes
    ----------
    rows : list of SummaryRow
    total_params, trainable_params, non_trainable_params : int
        Over ``model.parameters()`` (each parameter once).
    total_macs : int
        Over every call of every leaf layer (independent of ``depth``).
    total_flops : int
        ``2 * total_macs``.
    input_shape, output_shape : tuple
        ``(1, C, H, W)`` and the model's output shape.
    """

    def __init__(self, rows, expanded, total_params, trainable_params, total_macs,
                 input_shape, output_shape):
        self.rows, self._expanded = rows, expanded
        self.total_params, self.trainable_params = total_params, trainable_params
        self.non_trainable_params = total_params - trainable_params
        self.total_macs, self.total_flops = total_macs, 2 * total_macs
        self.input_shape, self.output_shape = input_shape, output_shape

    def __str__(self):
        header = ("Layer", "Type", "Output shape", "Params", "Trainable", "MACs")
        cells = []
        for row, expanded in zip(self.rows, self._expanded):
            name = "(model)" if row.name == "" else "  " * (row.depth - 1) + row.name
            if row.call > 1:
                name += f" (call {row.call})"
            # A container whose layers are listed below it: its own zeros would read as
            # "this block costs nothing".
            numbers = ("--",) * 3 if expanded and not (row.params or row.macs) else (
                f"{row.params:,}", f"{row.trainable_params:,}", f"{row.macs:,}")
            cells.append((name, row.type, _format_shape(row.output_shape)) + numbers)
        widths = [max(len(line[i]) for line in [header] + cells) for i in range(6)]

        def line(values):
            left = [f"{v:<{w}}" for v, w in zip(values[:3], widths)]
            right = [f"{v:>{w}}" for v, w in zip(values[3:], widths[3:])]
            return "  ".join(left + right).rstrip()

        rule = "-" * len(line(tuple("x" * w for w in widths)))
        lines = [f"Summary of {self.rows[0].type} on an input of shape "
                 f"{_format_shape(self.input_shape)} (eval mode)", rule, line(header), rule]
        lines += [line(values) for values in cells]
        lines += [rule,
                  f"Total params:         {self.total_params:,}",
                  f"Trainable params:     {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}",
                  f"Total MACs:           {self.total_macs:,} "
                  f"({self.total_macs / 1e9:.4g} GMACs)",
                  f"FLOPs (2 x MACs):     {self.total_flops:,} "
                  f"({self.total_flops / 1e9:.4g} GFLOPs)",
                  "MACs count leaf layers only (Conv2d, Linear; pooling, batch norm and "
                  "activations: 0).",
                  "One MAC (multiply-accumulate) = two FLOPs."]
        if any(row.output_shape is None for row in self.rows):
            lines.append("'not run': not called in eval mode (e.g. auxiliary heads); "
                         "parameters counted, no MACs.")
        return "\n".join(lines)

    def __repr__(self):
        return (f"<Summary of {self.rows[0].type}: {self.total_params:,} params, "
                f"{self.total_macs:,} MACs>")


def summary(model, input_shape, *, dtype=None, print_table=True, depth=None):
    """Print and return a table of ``model``'s layers, output shapes, parameters and MACs.

    Parameters
    ----------
    model : minicnn.nn.Module
    input_shape : (int, int, int)
        ``(C, H, W)`` of one image; the forward pass uses a batch of one, ``(1, C, H, W)``.
    dtype : numpy dtype, optional
        Of the (random) input image. By default the dtype of the model's first floating
        point parameter (float64 after ``model.double()``), float32 if it has none.
    print_table : bool
        Print the table (it is also ``str()`` of the result).
    depth : int or None
        Show rows at most this many levels deep (0: the model only, 1: its children, ...),
        folding deeper layers' parameters and MACs into their shown ancestor. None: all.

    Returns
    -------
    Summary
        With ``rows``, ``total_params``, ``trainable_params``, ``non_trainable_params``,
        ``total_macs``, ``total_flops``; see the module docstring for what is counted.

    The model runs in eval mode under ``no_grad``; every module's training flag is restored
    afterwards.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a minicnn.nn.Module, got "
                        f"{type(model).__name__}")
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
                       for d in input_shape)):
        raise ValueError(f"summary: input_shape must be (C, H, W), three positive ints, got "
                         f"{input_shape!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 0):
        raise ValueError(f"summary: depth must be None or an int >= 0, got {depth!r}")
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters()
                      if np.issubdtype(p.dtype, np.floating)), np.float32)
    x_shape = (1,) + tuple(int(d) for d in input_shape)
    # A private generator: summarising a model must not move minicnn's global random state.
    x = Tensor(np.random.default_rng(0).standard_normal(x_shape).astype(dtype))
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            calls, output_shape = _record_calls(model, x)
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
    params = list(model.parameters())
    result = Summary(*_build_rows(calls, depth),
                     total_params=sum(p.numel() for p in params),
                     trainable_params=sum(p.numel() for p in params if p.requires_grad),
                     total_macs=sum(call.macs for call in calls),
                     input_shape=x_shape, output_shape=output_shape)
    if print_table:
        print(result)
    return result
