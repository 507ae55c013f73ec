"""Learning-rate schedules: ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``.

A scheduler changes the ``lr`` of every parameter group of an optimizer each time its
``step()`` is called (usually once per epoch, after the epoch's optimizer steps). Like
PyTorch's, it sets the lr of epoch 0 when created, and each ``step()`` computes the next lr
from the current one (the *recursive* form), so schedulers can be chained and the lr can be
changed by hand in between. Each also has the closed form, ``lr_at(epoch)``; with nothing
interfering the two agree (the tests check it).

    StepLR(step_size, gamma)          lr = base_lr * gamma ^ floor(epoch / step_size)
    MultiStepLR(milestones, gamma)    lr = base_lr * gamma ^ (number of milestones <= epoch)
    ExponentialLR(gamma)              lr = base_lr * gamma ^ epoch
    CosineAnnealingLR(T_max, eta_min) lr = eta_min + (base_lr - eta_min)
                                             * (1 + cos(pi * epoch / T_max)) / 2

``base_lr`` is each group's lr when the scheduler was created (kept in the group as
``initial_lr``, as PyTorch does).
"""

import bisect
import math

from .._checks import check_positive_int, is_int
from .optimizer import Optimizer, check_number

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"]


def _positive_int(owner, name, value):
    return check_positive_int(value, f"{owner}: {name}")


def _milestones(owner, name, value):
    try:
        milestones = list(value)
    except TypeError:
        milestones = None
    if milestones is None or not all(is_int(m) and m >= 0 for m in milestones):
        raise ValueError(f"{owner}: {name} must be a list of ints >= 0, got {value!r}")
    return sorted(int(m) for m in milestones)


def _epoch(owner, name, value, first):
    if not is_int(value) or value < first:
        raise ValueError(f"{owner}: {name} must be an int >= {first}, got {value!r}")
    return int(value)


def _lrs(owner, name, value, count):
    if not isinstance(value, (list, tuple)) or len(value) != count:
        raise ValueError(f"{owner}: {name} must be a list of {count} learning rates (one per "
                         f"parameter group), got {value!r}")
    return [check_number(owner, f"{name}[{i}]", lr) for i, lr in enumerate(value)]


class LRScheduler:
    """Base class: subclasses define ``_next_lr(group_lr, base_lr)`` (the recursive form,
    from the lr of the previous epoch to ``self.last_epoch``'s) and ``lr_at``."""

    # Settings of the subclass that belong in state_dict() besides the progress, each with
    # its check ``check(owner, name, value) -> value`` (ValueError naming it): the same
    # checks for the constructor's arguments and for load_state_dict.
    _settings = {}

    def _set_settings(self, **settings):
        for name, value in settings.items():
            setattr(self, name, self._settings[name](type(self).__name__, name, value))

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs a minicnn optimizer, got "
                            f"{type(optimizer).__name__}")
        last_epoch = _epoch(type(self).__name__, "last_epoch", last_epoch, first=-1)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs "
                             "'initial_lr' in every parameter group (load the optimizer's "
                             "state dict first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()  # epoch last_epoch + 1 (0 for a fresh start)

    def step(self):
        """Advance one epoch and set each group's lr for it."""
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self._next_lr(group["lr"], base_lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lr of each group set by the last ``step()``."""
        return list(self._last_lr)

    def _next_lr(self, group_lr, base_lr):
        raise NotImplementedError

    def lr_at(self, epoch, base_lr):
        """The closed form: the lr at ``epoch`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def state_dict(self):
        """Progress and settings (not the optimizer: save that with its own state_dict)."""
        state = {name: getattr(self, name) for name in self._settings}
        state.update(last_epoch=self.last_epoch, base_lrs=list(self.base_lrs),
                     last_lr=list(self._last_lr))
        return state

    def load_state_dict(self, state_dict):
        """Restore ``state_dict()``'s output; every value is checked as the constructor
        checks its arguments (ValueError naming it, and then nothing changes)."""
        owner = type(self).__name__
        expected = set(self._settings) | {"last_epoch", "base_lrs", "last_lr"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{owner}.load_state_dict: expected the keys {sorted(expected)}, "
                             f"got {got}")
        settings = {name: check(owner, name, state_dict[name])
                    for name, check in self._settings.items()}
        groups = len(self.optimizer.param_groups)
        last_epoch = _epoch(owner, "last_epoch", state_dict["last_epoch"], first=0)
        base_lrs = _lrs(owner, "base_lrs", state_dict["base_lrs"], groups)
        last_lr = _lrs(owner, "last_lr", state_dict["last_lr"], groups)
        vars(self).update(settings)
        self.last_epoch, self.base_lrs, self._last_lr = last_epoch, base_lrs, last_lr

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._settings)
        return f"{type(self).__name__}({settings}, last_epoch={self.last_epoch})"


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
    gamma : float
    last_epoch : int
        -1 to start; the last finished epoch when resuming.
    """

    _settings = {"step_size": _positive_int, "gamma": check_number}

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self._set_settings(step_size=step_size, gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_lr
        return group_lr * self.gamma

    def lr_at(self, epoch, base_lr):
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``.

    A milestone listed twice multiplies twice, as in PyTorch.
    """

    _settings = {"milestones": _milestones, "gamma": check_number}

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self._set_settings(milestones=milestones, gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        return group_lr * self.gamma ** self.milestones.count(self.last_epoch)

    def lr_at(self, epoch, base_lr):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch."""

    _settings = {"gamma": check_number}

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self._set_settings(gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        return group_lr if self.last_epoch == 0 else group_lr * self.gamma

    def lr_at(self, epoch, base_lr):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from its initial value to ``eta_min`` along half a cosine over
    ``T_max`` epochs (SGDR without restarts, Loshchilov & Hutter 2017).

    The recursive step is PyTorch's:

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))

    (T = T_max) with one special case where the denominator is zero (t - 1 = T, mod 2 T): there
    the closed form's increment ``(base_lr - eta_min) * (1 - cos(pi / T_max)) / 2`` is added.
    Past ``T_max`` the lr rises again along the same cosine, as PyTorch's does.
    """

    _settings = {"T_max": _positive_int, "eta_min": check_number}

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self._set_settings(T_max=T_max, eta_min=eta_min)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return group_lr
        if (t - 1 - T) % (2 * T) == 0:
            return group_lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return (eta_min + (group_lr - eta_min) * (1 + math.cos(math.pi * t / T))
                / (1 + math.cos(math.pi * (t - 1) / T)))

    def lr_at(self, epoch, base_lr):
        return (self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * epoch / self.T_max)) / 2)
