"""``Optimizer``: the base of SGD, RMSprop and Adam (parameter groups, state, checkpoints).

An optimizer holds *parameter groups*: lists of parameters that share hyperparameters.
``SGD(model.parameters(), lr=0.1)`` makes one group; a list of dicts makes several, each
with its own settings and the constructor's values as defaults::

    SGD([{"params": model.features.parameters()},
         {"params": model.classifier.parameters(), "lr": 0.01}], lr=0.1, momentum=0.9)

``step()`` updates, in place and outside the graph, every parameter that requires grad and
has a gradient (frozen parameters are skipped). Per-parameter buffers (momentum, running
averages) live in ``state``, keyed by the parameter.

``state_dict()`` has PyTorch's structure: ``{"state": {index: {name: value}},
"param_groups": [{hyperparameters..., "params": [index, ...]}]}`` where parameters are
numbered 0, 1, ... across all groups in order, so it can be saved (``minicnn.save``) and
loaded into a fresh optimizer over the same model.
"""

import copy
import numbers

import numpy as np

from ..autograd import Tensor, enable_grad, no_grad

__all__ = ["Optimizer"]


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
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {sorted(unknown)} for "
                             f"{type(self).__name__}; expected some of {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group):
        """Raise ValueError for an invalid setting (subclasses extend)."""
        for name in ("lr", "weight_decay", "momentum", "eps"):
            if name in group:
                value = group[name]
                if not isinstance(value, numbers.Real) or value < 0:
                    raise ValueError(f"{type(self).__name__}: {name} must be a non-negative "
                                     f"number, got {value!r}")

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: ``None`` (PyTorch's default) or zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that requires grad and has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss, which is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.requires_grad and p.grad is not None:
                        if p.grad.shape != p.shape:
                            raise ValueError(f"a parameter of shape {p.shape} has a gradient of "
                                             f"shape {p.grad.shape}")
                        state = self.state.get(p, {})
                        self._update(p, p.grad, group, state)
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
        same way. State arrays are cast to their parameter's dtype. Raises ValueError
        naming every problem, and then changes nothing.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError("an optimizer state dict has exactly the keys 'state' and "
                             f"'param_groups', got {got}")
        saved_groups = list(state_dict["param_groups"])
        problems = []
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"the state dict has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                problems.append(f"group {i} has {len(saved['params'])} parameters in the state "
                                f"dict and {len(group['params'])} in this optimizer")
        if problems:
            raise ValueError("cannot load the optimizer state dict:\n\t" + "\n\t".join(problems))

        # Map saved indices to this optimizer's parameters, group by group.
        param_of = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for index, p in zip(saved["params"], group["params"]):
                param_of[int(index)] = p
        new_state = {}
        for index, entries in state_dict["state"].items():
            index = int(index)  # keys come back as strings from an .npz checkpoint
            if index not in param_of:
                problems.append(f"state for parameter {index}, which no group lists")
                continue
            p = param_of[index]
            restored = {}
            for name, value in entries.items():
                if isinstance(value, (np.ndarray, Tensor)):
                    value = np.asarray(value.data if isinstance(value, Tensor) else value)
                    if value.shape != p.shape:
                        problems.append(f"state {name!r} of parameter {index} has shape "
                                        f"{value.shape}, the parameter has shape {p.shape}")
                        continue
                    value = value.astype(p.dtype, copy=True)
                restored[name] = value
            new_state[p] = restored
        if problems:
            raise ValueError("cannot load the optimizer state dict:\n\t" + "\n\t".join(problems))

        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            settings = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new_groups.append({**settings, "params": group["params"]})
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
