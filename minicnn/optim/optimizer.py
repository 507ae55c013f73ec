"""``Optimizer``: the base of every optimizer here (parameter groups, state, checkpoints).

An optimizer holds *parameter groups*: lists of parameters that share hyperparameters.
``SGD(model.parameters(), lr=0.1)`` makes one group; a list of dicts makes several, each
with its own settings and the constructor's values as defaults::

    SGD([{"params": model.features.parameters()},
         {"params": model.classifier.parameters(), "lr": 0.01}], lr=0.1, momentum=0.9)

``step()`` updates, in place and outside the graph, every parameter that requires grad and
has a gradient (frozen parameters are skipped); an optimizer with a ``maximize`` setting
climbs (its rule sees ``-g``) where it is True. Per-parameter buffers (momentum, running
averages) live in ``state``, keyed by the parameter.

``state_dict()`` has PyTorch's structure: ``{"state": {index: {name: value}},
"param_groups": [{hyperparameters..., "params": [index, ...]}]}`` where parameters are
numbered 0, 1, ... across all groups in order, so it can be saved (``minicnn.save``) and
loaded into a fresh optimizer over the same model.
"""

import copy
import math
import numbers

import numpy as np

from .._checks import is_int
from ..autograd import Tensor, enable_grad, no_grad

__all__ = ["Optimizer", "check_number", "check_flag", "check_betas"]

# Group entries that learning-rate schedulers keep beside the hyperparameters (PyTorch's
# names): every one a number, allowed in any optimizer's groups and state dicts.
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def _finite(value):
    try:
        return math.isfinite(value)
    except OverflowError:          # an int too large for a float
        return False


def check_number(owner, name, value, low=0, high=None, high_open=False):
    """``value`` if it is a finite real number in ``[low, high]`` (``[low, high)`` with
    ``high_open``; ``None`` leaves a side unbounded), else a ValueError naming ``owner``,
    ``name`` and the value.

    PyTorch's optimizers refuse a negative lr, eps, momentum or weight decay the same way
    ("Invalid learning rate: -5"); here NaN, infinities, bools and non-numbers are refused
    too, whether they come from a constructor, ``add_param_group`` or ``load_state_dict``.
    """
    valid = (isinstance(value, numbers.Real) and not isinstance(value, bool) and _finite(value)
             and (low is None or value >= low)
             and (high is None or (value < high if high_open else value <= high)))
    if not valid:
        if high is not None:
            expected = f"a number in [{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            expected = f"a finite number >= {low}"
        else:
            expected = "a finite number"
        raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}")
    return value


def check_flag(owner, name, value):
    """``value`` if it is True or False (a NumPy bool too), else a ValueError naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: {name} must be True or False, got {value!r}")
    return value


def check_betas(owner, group):
    """Check ``group["betas"]`` (two numbers in [0, 1)) and store it as a tuple (a list or
    array read back from a file, too)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
        raise ValueError(f"{owner}: betas must be two numbers in [0, 1), got {betas!r}")
    for i, beta in enumerate(betas):
        check_number(owner, f"betas[{i}]", beta, high=1, high_open=True)
    group["betas"] = tuple(betas)


class Optimizer:
    """Base class: subclasses define ``_update(group)`` (one group's update rule).

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        Parameters to optimise, or parameter groups: dicts with a ``"params"`` entry and
        any hyperparameters that override ``defaults`` for that group.
    defaults : dict
        Hyperparameters of every group that does not set its own.
    """

    # Names of per-parameter state entries that are numbers, not arrays (NAdam's mu_product).
    _scalar_state = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Parameters or of dicts, got a single "
                            "Tensor; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group (a dict with ``"params"`` and optional hyperparameters)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with a 'params' entry, got "
                            f"{group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimise Tensors (Parameters), "
                                f"got {type(p).__name__}")
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"{type(self).__name__} can only optimise floating tensors, got "
                                f"one of dtype {p.dtype}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group (or twice "
                             "in one); each parameter may be optimised once")
        settings = {name: value for name, value in group.items() if name != "params"}
        self.param_groups.append({**self._checked_settings(settings, self.defaults),
                                  "params": params})

    def _checked_settings(self, settings, defaults):
        """``defaults`` overridden by ``settings``, after checking that every name is a
        hyperparameter of this optimizer and every value is valid (ValueError otherwise)."""
        unknown = set(settings) - set(self.defaults) - set(SCHEDULER_KEYS)
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {sorted(unknown)} for "
                             f"{type(self).__name__}; expected some of {sorted(self.defaults)}")
        full = {**defaults, **settings}
        self._check_hyperparameters(full)
        return full

    def _check_hyperparameters(self, group):
        """Raise ValueError for an invalid setting (subclasses extend this for their own
        settings, and may put a valid one in its canonical form: Adam's betas as a tuple)."""
        owner = type(self).__name__
        for name in ("lr", "weight_decay", "momentum", "eps") + SCHEDULER_KEYS:
            if name in group:
                check_number(owner, name, group[name])
        for name in ("maximize", "amsgrad", "decoupled_weight_decay"):
            if name in group:
                check_flag(owner, name, group[name])

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: ``None`` (PyTorch's default) or zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that requires grad and has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss, which is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._opt_called = True    # read by the schedulers' order warning, as PyTorch's
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.requires_grad and p.grad is not None:
                        if p.grad.shape != p.shape:
                            raise ValueError(f"a parameter of shape {p.shape} has a gradient of "
                                             f"shape {p.grad.shape}")
                        grad = -p.grad.data if group.get("maximize", False) else p.grad.data
                        state = self.state.get(p, {})
                        self._update(p, grad, group, state)
                        p._bump_version()  # an in-place change, as PyTorch's optimizers make
                        if state:  # plain SGD keeps none
                            self.state[p] = state
        return loss

    def _update(self, p, grad, group, state):
        """Update ``p.data`` in place from ``grad`` using ``group``'s settings and ``state``."""
        raise NotImplementedError

    # --- checkpoints --------------------------------------------------------------------
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` (copies)."""
        index_of = {id(p): i for i, p in enumerate(self._indexed_params())}
        state = {index_of[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                   for k, v in s.items()}
                 for p, s in self.state.items()}
        groups = []
        start = 0
        for group in self.param_groups:
            entry = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            entry["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(entry)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and per-parameter state from ``state_dict()``'s output.

        The optimizer must have been built over parameters of the same shapes, grouped the
        same way. Hyperparameters are checked as the constructor checks them (one a saved
        group lacks keeps this optimizer's value); state arrays must be numeric and are cast
        to their parameter's dtype. Raises ValueError naming every problem, and then
        changes nothing.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError("an optimizer state dict has exactly the keys 'state' and "
                             f"'param_groups', got {got}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError("an optimizer state dict holds a list of parameter groups and a "
                             f"dict of states, got {type(saved_groups).__name__} and "
                             f"{type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"the state dict has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        problems = []
        new_groups, param_of = [], {}      # param_of: saved index -> this optimizer's parameter
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            try:
                new_groups.append(self._loaded_group(i, saved, group, param_of))
            except ValueError as e:
                problems.append(str(e))
        new_state = {}
        for key, entries in saved_state.items():
            index = _parameter_index(key)
            if index is None or index not in param_of:
                if not problems:       # a group's problem may be why param_of lacks it
                    problems.append(f"state for parameter {key!r}, which no group lists")
                continue
            try:
                new_state[param_of[index]] = _loaded_state(index, entries, param_of[index],
                                                            self._scalar_state)
            except ValueError as e:
                problems.append(str(e))
        if problems:
            raise ValueError("cannot load the optimizer state dict:\n\t" + "\n\t".join(problems))
        self.param_groups = new_groups
        self.state = new_state

    def _loaded_group(self, i, saved, group, param_of):
        """This optimizer's group ``i`` with the saved settings; records the saved indices
        of its parameters in ``param_of``. ValueError if the saved group does not fit."""
        if not isinstance(saved, dict) or "params" not in saved:
            raise ValueError(f"group {i} must be a dict with a 'params' entry, got "
                             f"{type(saved).__name__}" + (f" with the keys {sorted(saved)}"
                                                          if isinstance(saved, dict) else ""))
        indices = saved["params"]
        if (not isinstance(indices, (list, tuple))
                or any(_parameter_index(index) is None for index in indices)):
            raise ValueError(f"group {i}: 'params' must be a list of parameter indices, got "
                             f"{indices!r}")
        if len(indices) != len(group["params"]):
            raise ValueError(f"group {i} has {len(indices)} parameters in the state dict and "
                             f"{len(group['params'])} in this optimizer")
        for index, p in zip(indices, group["params"]):
            if int(index) in param_of:
                raise ValueError(f"group {i}: parameter index {index} is listed more than once")
            param_of[int(index)] = p
        settings = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
        current = {k: v for k, v in group.items() if k != "params"}
        try:
            return {**self._checked_settings(settings, current), "params": group["params"]}
        except ValueError as e:
            raise ValueError(f"group {i}: {e}") from None

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _parameter_index(key):
    """A saved parameter index as an int (an .npz checkpoint gives dict keys back as
    strings), or None if it is not one."""
    if is_int(key) and key >= 0:
        return int(key)
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return None


def _loaded_state(index, entries, p, scalar_names):
    """The saved state of parameter ``p`` (number ``index``), its arrays cast to ``p``'s
    dtype, the entries named in ``scalar_names`` as floats; ValueError if an entry cannot be
    its state."""
    if not isinstance(entries, dict):
        raise ValueError(f"the state of parameter {index} must be a dict, got "
                         f"{type(entries).__name__}")
    restored = {}
    for name, value in entries.items():
        if name in scalar_names:
            if isinstance(value, np.ndarray) and value.ndim == 0:
                value = value.item()       # a number read back from an .npz file
            if not (isinstance(value, numbers.Real) and not isinstance(value, bool)
                    and _finite(value)):
                raise ValueError(f"state {name!r} of parameter {index} must be a finite number, "
                                 f"got {value!r}")
            value = float(value)
        elif isinstance(value, (np.ndarray, Tensor)):
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.dtype.kind not in "iuf":
                raise ValueError(f"state {name!r} of parameter {index} has dtype {value.dtype}; "
                                 "expected numbers")
            if value.shape != p.shape:
                raise ValueError(f"state {name!r} of parameter {index} has shape {value.shape}, "
                                 f"the parameter has shape {p.shape}")
            value = value.astype(p.dtype, copy=True)
        elif name == "step":
            if not is_int(value) or value < 0:
                raise ValueError(f"state 'step' of parameter {index} must be an int >= 0, got "
                                 f"{value!r}")
            value = int(value)
        else:
            raise ValueError(f"state {name!r} of parameter {index} must be an array, got "
                             f"{value!r}")
        restored[name] = value
    return restored
