"""Learning-rate schedules, PyTorch's (``torch.optim.lr_scheduler``) with the same values.

A scheduler changes the ``lr`` of every parameter group of an optimizer each time its
``step()`` is called (once per epoch, or once per batch for ``OneCycleLR``/``CyclicLR``,
*after* the optimizer's step: called before any ``optimizer.step()`` it warns, as PyTorch
does, since the first lr of the schedule would be skipped). Like PyTorch's, it sets the lr
of epoch 0 when created, and most compute the next lr from the current one (the *recursive*
or chainable form), so schedulers can be chained and the lr changed by hand in between.
Those with a closed form also have ``lr_at(epoch, base_lr)``; with nothing interfering the
two agree (the tests check it). ``base_lr`` is each group's lr when the first scheduler was
created (kept in the group as ``initial_lr``, as PyTorch does).

    StepLR(step_size, gamma)          lr = base_lr * gamma ^ floor(epoch / step_size)
    MultiStepLR(milestones, gamma)    lr = base_lr * gamma ^ (number of milestones <= epoch)
    ExponentialLR(gamma)              lr = base_lr * gamma ^ epoch
    CosineAnnealingLR(T_max, eta_min) lr = eta_min + (base_lr - eta_min)
                                             * (1 + cos(pi * epoch / T_max)) / 2
    LambdaLR(lr_lambda)               lr = base_lr * lr_lambda(epoch)
    MultiplicativeLR(lr_lambda)       lr = previous lr * lr_lambda(epoch)   (epoch >= 1)
    ConstantLR(factor, total_iters)   lr = base_lr * factor   while epoch < total_iters,
                                           base_lr             after
    LinearLR(start_factor, end_factor, total_iters)
                                      lr = base_lr * (start_factor + (end_factor - start_factor)
                                                      * min(epoch, total_iters) / total_iters)
    PolynomialLR(total_iters, power)  lr = base_lr * (1 - min(epoch, total_iters)
                                                      / total_iters) ^ power
    CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)
                                      lr = eta_min + (base_lr - eta_min)
                                           * (1 + cos(pi T_cur / T_i)) / 2
                                      (T_cur: epochs since the last restart, fractional allowed;
                                      the period T_i starts at T_0, times T_mult at each restart)
    CyclicLR, OneCycleLR              per batch: the lr goes up and down between bounds, and
                                      the momentum (or Adam's beta1) the opposite way
    ReduceLROnPlateau                 lr *= factor once a metric stops improving
    SequentialLR, ChainedScheduler    one schedule after another, or several at once

``state_dict()`` holds the progress and the settings (not the optimizer: save that with its
own state_dict); ``load_state_dict`` checks every value as the constructor checks its
arguments. Where a schedule calls a function of yours (``LambdaLR``, ``MultiplicativeLR``,
``CyclicLR(scale_fn=)``), only a callable *object*'s attributes (``__dict__``) are saved, a
plain function or lambda is saved as None and must be passed again: PyTorch's rule.
"""

import bisect
import math
import types
import warnings

from .._checks import check_positive_int, is_int
from .optimizer import Optimizer, check_flag, check_number

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LambdaLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "PolynomialLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR", "ReduceLROnPlateau",
           "SequentialLR", "ChainedScheduler"]

# PyTorch's text, word for word (tutorials and forum answers quote it).
ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first "
    "value of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")


# --- checks shared by constructors and load_state_dict: check(owner, name, value) -> value
def _positive_int(owner, name, value):
    return check_positive_int(value, f"{owner}: {name}")


def _count(owner, name, value):
    return check_positive_int(value, f"{owner}: {name}", minimum=0)


def _real(owner, name, value):
    return check_number(owner, name, value, low=None)


def _fraction(owner, name, value):
    return check_number(owner, name, value, high=1)


def _positive(owner, name, value):
    value = check_number(owner, name, value)
    if value == 0:
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value!r}")
    return value


def _choice(*options):
    def check(owner, name, value):
        if value not in options:
            raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, options))}, "
                             f"got {value!r}")
        return value
    return check


def _optional(check):
    return lambda owner, name, value: None if value is None else check(owner, name, value)


def _numbers(owner, name, value):
    """A list of numbers >= 0 (one per parameter group: ``_per_group`` checks the count)."""
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{owner}: {name} must be a list of numbers (one per parameter "
                         f"group), got {value!r}")
    return [check_number(owner, f"{name}[{i}]", v) for i, v in enumerate(value)]


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


def _per_group_values(owner, name, value, optimizer, check=check_number):
    """PyTorch's ``_format_param``: one value for every group, or a list with one each."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{owner}: {name} must have one value per parameter group "
                             f"({count}), got {len(value)}")
        return [check(owner, f"{name}[{i}]", v) for i, v in enumerate(value)]
    return [check(owner, name, value)] * count


def _callables(owner, name, value, optimizer):
    functions = _per_group_values(owner, name, value, optimizer, check=lambda *a: a[2])
    for function in functions:
        if not callable(function):
            raise TypeError(f"{owner}: {name} must be a function (or one per parameter group), "
                            f"got {type(function).__name__}")
    return functions


def _saved_attributes(function):
    """What PyTorch saves of a user's function: a callable object's ``__dict__`` (a copy),
    None for a plain function."""
    return None if isinstance(function, types.FunctionType) else dict(vars(function))


def _restore_attributes(owner, name, saved, functions):
    if not isinstance(saved, (list, tuple)) or len(saved) != len(functions):
        raise ValueError(f"{owner}: {name} must be a list of {len(functions)} entries (None or "
                         f"a dict of attributes), got {saved!r}")
    for attributes in saved:
        if attributes is not None and not isinstance(attributes, dict):
            raise ValueError(f"{owner}: {name} entries must be None or a dict of attributes, "
                             f"got {attributes!r}")
    return lambda: [vars(f).update(a) for f, a in zip(functions, saved) if a is not None]


def _set_momentum(group, momentum, use_beta1):
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _momentum_kind(owner, optimizer):
    """True if the optimizer's momentum is Adam's beta1, False if it is ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: optimizer must support momentum or beta1 with "
                         "`cycle_momentum` option enabled")
    return "betas" in optimizer.defaults


class LRScheduler:
    """Base class: subclasses define ``_next_lr(group_lr, base_lr)`` (the recursive form,
    from the lr of the previous epoch to ``self.last_epoch``'s) and ``lr_at``, or override
    ``_get_lrs()`` (all groups' lrs for ``self.last_epoch``)."""

    # Attributes of the subclass that belong in state_dict() besides the progress, each with
    # its check ``check(owner, name, value) -> value`` (ValueError naming it): the same
    # checks for the constructor's arguments and for load_state_dict. Those named in
    # _per_group are lists with one value per parameter group.
    _settings = {}
    _per_group = ()
    _is_initial = False

    def _set_settings(self, **settings):
        for name, value in settings.items():
            setattr(self, name, self._settings[name](type(self).__name__, name, value))

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
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
        self._initial_step()  # epoch last_epoch + 1 (0 for a fresh start)

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def step(self):
        """Advance one epoch and set each group's lr for it."""
        self._warn_if_optimizer_did_not_step()
        self._step_count += 1
        self._update_lr()

    def _warn_if_optimizer_did_not_step(self):
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(ORDER_WARNING, UserWarning, stacklevel=3)

    def _update_lr(self, epoch=None):
        """Set the lrs of the next epoch (the recursive form), or of ``epoch`` (the closed
        form where the schedule has one: how SequentialLR starts a schedule afresh)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self._get_lrs()
        else:
            self.last_epoch = epoch
            has_closed_form = type(self).lr_at is not LRScheduler.lr_at
            lrs = ([self.lr_at(epoch, base_lr) for base_lr in self.base_lrs] if has_closed_form
                   else self._get_lrs())
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _get_lrs(self):
        return [self._next_lr(group["lr"], base_lr)
                for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs)]

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
        _check_keys(owner, state_dict, set(self._settings) | {"last_epoch", "base_lrs",
                                                              "last_lr"})
        settings = self._checked_settings(state_dict)
        groups = len(self.optimizer.param_groups)
        # -1: a schedule of a SequentialLR that has not started yet
        last_epoch = _epoch(owner, "last_epoch", state_dict["last_epoch"], first=-1)
        base_lrs = _lrs(owner, "base_lrs", state_dict["base_lrs"], groups)
        last_lr = _lrs(owner, "last_lr", state_dict["last_lr"], groups)
        vars(self).update(settings)
        self.last_epoch, self.base_lrs, self._last_lr = last_epoch, base_lrs, last_lr
        self._step_count = last_epoch + 1    # PyTorch saves the count; it is this unless chained

    def _checked_settings(self, state_dict):
        owner = type(self).__name__
        settings = {name: check(owner, name, state_dict[name])
                    for name, check in self._settings.items()}
        for name in self._per_group:
            value = settings[name]
            if value is not None and len(value) != len(self.optimizer.param_groups):
                raise ValueError(f"{owner}: {name} must have one value per parameter group "
                                 f"({len(self.optimizer.param_groups)}), got {value!r}")
        return settings

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._settings)
        return f"{type(self).__name__}({settings}, last_epoch={self.last_epoch})"


def _check_optimizer(owner, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner} needs a minicnn optimizer, got {type(optimizer).__name__}")


def _check_keys(owner, state_dict, expected):
    if not isinstance(state_dict, dict) or set(state_dict) != expected:
        got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
        raise ValueError(f"{owner}.load_state_dict: expected the keys {sorted(expected)}, "
                         f"got {got}")


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
        return group_lr if self._is_initial else group_lr * self.gamma

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
        if self._is_initial:
            return group_lr
        if self._step_count == 1 and t > 0:       # PyTorch's: the closed form
            return self.lr_at(t, base_lr)
        if (t - 1 - T) % (2 * T) == 0:
            return group_lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return ((1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
                * (group_lr - eta_min) + eta_min)

    def lr_at(self, epoch, base_lr):
        return (self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * epoch / self.T_max)) / 2)


class _FunctionScheduler(LRScheduler):
    """A schedule given as ``lr_lambda``, a function of the epoch (one for every group, or
    one per group): LambdaLR and MultiplicativeLR."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(type(self).__name__, optimizer)
        self.lr_lambdas = _callables(type(self).__name__, "lr_lambda", lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        """As the base's, plus ``lr_lambdas``: each callable object's attributes (a copy of
        its ``__dict__``), None for a plain function (PyTorch's rule)."""
        return {**super().state_dict(),
                "lr_lambdas": [_saved_attributes(f) for f in self.lr_lambdas]}

    def load_state_dict(self, state_dict):
        owner = type(self).__name__
        _check_keys(owner, state_dict, set(self._settings) | {"last_epoch", "base_lrs",
                                                              "last_lr", "lr_lambdas"})
        restore = _restore_attributes(owner, "lr_lambdas", state_dict["lr_lambdas"],
                                      self.lr_lambdas)
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        restore()


class LambdaLR(_FunctionScheduler):
    """The lr is ``base_lr * lr_lambda(epoch)``: any schedule written as a function.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        ``epoch -> factor``; one for every group, or one per group.
    last_epoch : int

    Warm-up then inverse square root (the Transformer's schedule), say::

        LambdaLR(opt, lambda epoch: min((epoch + 1) / 10, (10 / (epoch + 1)) ** 0.5))
    """

    def _get_lrs(self):
        return [base_lr * lr_lambda(self.last_epoch)
                for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_FunctionScheduler):
    """Multiply the lr by ``lr_lambda(epoch)`` at every epoch after the first:
    ``lr_t = lr_{t-1} * lr_lambda(t)`` (parameters as LambdaLR's)."""

    def _get_lrs(self):
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * lr_lambda(self.last_epoch)
                for lr_lambda, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class ConstantLR(LRScheduler):
    """Scale the lr by ``factor`` for the first ``total_iters`` epochs, then restore it
    (a constant warm-up).

    Recursive form (PyTorch's): times ``factor`` at epoch 0, divided by it at epoch
    ``total_iters``. With ``factor = 0`` the division is replaced by the closed form.
    """

    _settings = {"factor": _fraction, "total_iters": _count}

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        self._set_settings(factor=factor, total_iters=total_iters)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        if self.last_epoch == 0:
            return group_lr * self.factor
        if self.last_epoch != self.total_iters:
            return group_lr
        if self.factor == 0:
            return self.lr_at(self.last_epoch, base_lr)
        return group_lr * (1.0 / self.factor)

    def lr_at(self, epoch, base_lr):
        return base_lr * (self.factor + (epoch >= self.total_iters) * (1 - self.factor))


def _start_factor(owner, name, value):
    value = _fraction(owner, name, value)
    if value == 0:
        raise ValueError(f"{owner}: {name} must be a number in (0, 1], got {value!r}")
    return value


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (a linear warm-up with the defaults), then keep it.

    Recursive form (PyTorch's), for ``0 < t <= total_iters`` (s, e: the factors, T: total_iters):

        lr_t = lr_{t-1} * (1 + (e - s) / (T s + (t - 1)(e - s)))
    """

    _settings = {"start_factor": _start_factor, "end_factor": _fraction,
                 "total_iters": _positive_int}

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self._set_settings(start_factor=start_factor, end_factor=end_factor,
                           total_iters=total_iters)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        start, end, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return group_lr * start
        if self._is_initial or t > T:
            return group_lr
        return group_lr * (1.0 + (end - start) / (T * start + (t - 1) * (end - start)))

    def lr_at(self, epoch, base_lr):
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                          * min(self.total_iters, epoch) / self.total_iters)


class PolynomialLR(LRScheduler):
    """Decay the lr to 0 over ``total_iters`` epochs along ``(1 - t / total_iters)^power``.

    Recursive form: ``lr_t = lr_{t-1} * ((1 - t / T) / (1 - (t - 1) / T))^power``.
    """

    _settings = {"total_iters": _positive_int, "power": check_number}

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self._set_settings(total_iters=total_iters, power=power)
        super().__init__(optimizer, last_epoch)

    def _next_lr(self, group_lr, base_lr):
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:
            return group_lr
        return group_lr * ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power

    def lr_at(self, epoch, base_lr):
        return base_lr * (1.0 - min(self.total_iters, epoch) / self.total_iters) ** self.power


def _T_mult(owner, name, value):
    return check_positive_int(value, f"{owner}: {name}")


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing from ``base_lr`` to ``eta_min``
    over ``T_i`` epochs, then a restart at ``base_lr`` with ``T_i *= T_mult`` (``T_0`` first).

    ``step()`` advances one epoch; ``step(epoch)`` jumps to ``epoch``, which may be
    fractional (``scheduler.step(epoch + i / iters_per_epoch)`` once per batch, as PyTorch's
    documentation shows). This schedule does not warn when stepped before the optimizer
    (PyTorch's neither).
    """

    _settings = {"T_0": _positive_int, "T_mult": _T_mult, "eta_min": check_number,
                 "T_i": _positive_int, "T_cur": _real}

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self._set_settings(T_0=T_0, T_mult=T_mult, eta_min=eta_min, T_i=T_0)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def _get_lrs(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or go to ``epoch`` (a number >= 0, fractional allowed)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = check_number(type(self).__name__, "epoch", epoch)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self._get_lrs()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), stepped once per *batch*: the lr climbs from
    ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and back over ``step_size_down``,
    the momentum (or Adam's beta1) the opposite way between ``max_momentum`` and
    ``base_momentum``.

    With ``c = floor(1 + t / (up + down))`` the cycle and ``x = 1 + t / (up + down) - c``:

        h  = x / r   if x <= r   else   (x - 1) / (r - 1)        (r = up / (up + down))
        lr = base_lr + (max_lr - base_lr) * h * scale

    ``scale`` is 1 (``"triangular"``), ``1 / 2^(c - 1)`` (``"triangular2"``: the height
    halves every cycle), ``gamma^t`` (``"exp_range"``), or ``scale_fn`` of the cycle or the
    step (``scale_mode``). Creating it sets each group's lr to ``base_lr``.
    """

    _settings = {"max_lrs": _numbers, "total_size": _positive, "step_ratio": _fraction,
                 "mode": _choice("triangular", "triangular2", "exp_range"),
                 "gamma": check_number, "scale_mode": _choice("cycle", "iterations"),
                 "cycle_momentum": check_flag, "use_beta1": _optional(check_flag),
                 "base_momentums": _optional(_numbers), "max_momentums": _optional(_numbers)}
    _per_group = ("max_lrs", "base_momentums", "max_momentums")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        owner = type(self).__name__
        _check_optimizer(owner, optimizer)
        base_lrs = _per_group_values(owner, "base_lr", base_lr, optimizer)
        max_lrs = _per_group_values(owner, "max_lr", max_lr, optimizer)
        up = _positive(owner, "step_size_up", step_size_up)
        down = up if step_size_down is None else check_number(owner, "step_size_down",
                                                              step_size_down)
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{owner}: scale_fn must be a function, got "
                            f"{type(scale_fn).__name__}")
        use_beta1 = base_momentums = max_momentums = None
        if check_flag(owner, "cycle_momentum", cycle_momentum):
            use_beta1 = _momentum_kind(owner, optimizer)
            base_momentums = _per_group_values(owner, "base_momentum", base_momentum, optimizer)
            max_momentums = _per_group_values(owner, "max_momentum", max_momentum, optimizer)
        self._set_settings(max_lrs=max_lrs, total_size=float(up + down),
                           step_ratio=float(up) / (up + down), mode=mode, gamma=gamma,
                           scale_mode=scale_mode, cycle_momentum=cycle_momentum,
                           use_beta1=use_beta1, base_momentums=base_momentums,
                           max_momentums=max_momentums)
        self.scale_fn_custom = scale_fn
        if scale_fn is None:       # the built-in modes fix what their scale is a function of
            self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
            if cycle_momentum:
                for group, low, high in zip(optimizer.param_groups, base_momentums,
                                            max_momentums):
                    _set_momentum(group, high, use_beta1)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x):
        if self.scale_fn_custom is not None:
            return self.scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _get_lrs(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, high - (high - low) * scale_factor * scale,
                              self.use_beta1)
        return lrs

    def state_dict(self):
        """As the base's, plus ``scale_fn``: a callable object's attributes, else None."""
        return {**super().state_dict(), "scale_fn": (None if self.scale_fn_custom is None
                                                     else _saved_attributes(self.scale_fn_custom))}

    def load_state_dict(self, state_dict):
        owner = type(self).__name__
        _check_keys(owner, state_dict, set(self._settings) | {"last_epoch", "base_lrs",
                                                              "last_lr", "scale_fn"})
        saved = state_dict["scale_fn"]
        restore = (_restore_attributes(owner, "scale_fn", [saved], [self.scale_fn_custom])
                   if saved is not None and self.scale_fn_custom is not None else lambda: None)
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "scale_fn"})
        restore()


def _phases(owner, name, value):
    keys = {"end_step", "start_lr", "end_lr", "start_momentum", "end_momentum"}
    names = {"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"}
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(p, dict) and set(p) == keys
                       and all(p[k] in names for k in keys - {"end_step"}) for p in value)):
        raise ValueError(f"{owner}: {name} must be a list of phases (dicts with the keys "
                         f"{sorted(keys)}), got {value!r}")
    for i, phase in enumerate(value):
        _real(owner, f"{name}[{i}]['end_step']", phase["end_step"])
    return [dict(p) for p in value]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per *batch* for
    ``total_steps`` (or ``epochs * steps_per_epoch``) steps.

    The lr warms up from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start``
    of the steps, then anneals to ``initial_lr / final_div_factor``; the momentum (or Adam's
    beta1) goes the opposite way between ``max_momentum`` and ``base_momentum``. With
    ``three_phase`` the lr comes back down to its start symmetrically and the last phase
    anneals to the minimum. Annealing from ``a`` to ``b`` over a phase, at fraction ``pct``
    of it: ``b + (a - b) (1 + cos(pi pct)) / 2`` (``"cos"``) or ``a + (b - a) pct``
    (``"linear"``). Stepping past ``total_steps`` is a ValueError, as in PyTorch.
    """

    _settings = {"total_steps": _positive_int, "phases": _phases,
                 "anneal_strategy": _choice("cos", "linear"), "cycle_momentum": check_flag,
                 "use_beta1": _optional(check_flag)}

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
                 base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        owner = type(self).__name__
        _check_optimizer(owner, optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{owner}: You must define either total_steps OR (epochs AND "
                                 "steps_per_epoch)")
            total_steps = (_positive_int(owner, "epochs", epochs)
                           * _positive_int(owner, "steps_per_epoch", steps_per_epoch))
        total_steps = _positive_int(owner, "total_steps", total_steps)
        pct_start = _fraction(owner, "pct_start", pct_start)
        div_factor = _positive(owner, "div_factor", div_factor)
        final_div_factor = _positive(owner, "final_div_factor", final_div_factor)
        check_flag(owner, "three_phase", three_phase)
        up_end = float(pct_start * total_steps) - 1
        if three_phase:
            phases = [_phase(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      _phase(float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                      _phase(total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            phases = [_phase(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      _phase(total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        max_lrs = _per_group_values(owner, "max_lr", max_lr, optimizer)
        use_beta1 = None
        if check_flag(owner, "cycle_momentum", cycle_momentum):
            use_beta1 = _momentum_kind(owner, optimizer)
            max_momentums = _per_group_values(owner, "max_momentum", max_momentum, optimizer)
            base_momentums = _per_group_values(owner, "base_momentum", base_momentum, optimizer)
        self._set_settings(total_steps=total_steps, phases=phases,
                           anneal_strategy=anneal_strategy, cycle_momentum=cycle_momentum,
                           use_beta1=use_beta1)
        if last_epoch == -1:
            for group, peak in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, high, low in zip(optimizer.param_groups, max_momentums,
                                            base_momentums):
                    _set_momentum(group, high, use_beta1)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _get_lrs(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self.phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self.phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]],
                                            pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                          group[phase["end_momentum"]], pct),
                                      self.use_beta1)
                    break
                start_step = end_step
        return lrs


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
    return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
            "start_momentum": start_momentum, "end_momentum": end_momentum}


def _factor_below_one(owner, name, value):
    return check_number(owner, name, value, high=1, high_open=True)


def _best(owner, name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a number (infinite before any metric), got "
                         f"{value!r}")
    return float(value)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has not improved for more than
    ``patience`` epochs: ``scheduler.step(val_loss)`` once per epoch.

    Parameters
    ----------
    optimizer : Optimizer
    mode : "min" or "max"
        Whether the metric should fall (a loss) or rise (an accuracy).
    factor : float in [0, 1)
    patience : int
        Epochs without improvement tolerated; the lr drops at the next one.
    threshold : float
        The least change that counts as an improvement: relative (``"rel"``: better than
        ``best * (1 - threshold)`` in min mode, ``best * (1 + threshold)`` in max mode) or
        absolute (``"abs"``: ``best -/+ threshold``), per ``threshold_mode``.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted.
    min_lr : float or list of floats
        The lr never goes below it (one per group, or one for all).
    eps : float
        A reduction smaller than this is skipped.
    """

    _settings = {"mode": _choice("min", "max"), "factor": _factor_below_one,
                 "patience": _count, "threshold": _real,
                 "threshold_mode": _choice("rel", "abs"), "cooldown": _count,
                 "min_lrs": _numbers, "default_min_lr": _optional(check_number),
                 "eps": check_number, "best": _best, "num_bad_epochs": _count,
                 "cooldown_counter": _count}
    _per_group = ("min_lrs",)

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        owner = type(self).__name__
        _check_optimizer(owner, optimizer)
        self.optimizer = optimizer
        min_lrs = _per_group_values(owner, "min_lr", min_lr, optimizer)
        self._set_settings(mode=mode, factor=factor, patience=patience, threshold=threshold,
                           threshold_mode=threshold_mode, cooldown=cooldown, min_lrs=min_lrs,
                           eps=eps, default_min_lr=(None if isinstance(min_lr, (list, tuple))
                                                    else min_lr),
                           best=math.inf if mode == "min" else -math.inf,
                           num_bad_epochs=0, cooldown_counter=0)
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold) if self.mode == "min" else \
                a > best * (self.threshold + 1.0)
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics):
        """Record this epoch's metric (a number or a 0-d Tensor) and reduce the lr if it has
        not improved for more than ``patience`` epochs."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0           # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the `optimizer` "
                                   f"({len(self.optimizer.param_groups)}) differs from when "
                                   f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                                   "usually due to a new param group being added to the "
                                   "optimizer. Please modify the `min_lrs` field to match the "
                                   "length of the `optimizer` param groups.")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def state_dict(self):
        state = {name: getattr(self, name) for name in self._settings}
        state.update(last_epoch=self.last_epoch, last_lr=list(self._last_lr))
        return state

    def load_state_dict(self, state_dict):
        owner = type(self).__name__
        _check_keys(owner, state_dict, set(self._settings) | {"last_epoch", "last_lr"})
        settings = self._checked_settings(state_dict)
        last_epoch = _epoch(owner, "last_epoch", state_dict["last_epoch"], first=0)
        last_lr = _lrs(owner, "last_lr", state_dict["last_lr"], len(self.optimizer.param_groups))
        vars(self).update(settings)
        self.last_epoch, self._last_lr = last_epoch, last_lr


def _sub_schedulers(owner, schedulers, optimizer):
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{owner} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"{owner}: the scheduler at index {i} is a "
                            f"{type(scheduler).__name__}, not a minicnn LRScheduler")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling `step`, "
                             f"but got one at index {i} in the given schedulers sequence.")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but got scheduler {type(scheduler).__name__} at index {i} with "
                             "another optimizer.")
    return schedulers


def _load_sub_states(owner, schedulers, saved):
    if not isinstance(saved, (list, tuple)) or len(saved) != len(schedulers):
        raise ValueError(f"{owner}: schedulers must be a list of {len(schedulers)} state dicts, "
                         f"got {saved!r}")
    for scheduler, state in zip(schedulers, saved):
        scheduler.load_state_dict(state)


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the epochs in ``milestones``
    (one fewer than the schedulers). Each starts afresh at its milestone: PyTorch's way,
    its lr for epoch 0 computed in closed form where it has one. Warm-up then decay, say::

        SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 45)],
                     milestones=[5])
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        owner = type(self).__name__
        _check_optimizer(owner, optimizer)
        schedulers = _sub_schedulers(owner, schedulers, optimizer)
        milestones = _milestones(owner, "milestones", milestones)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be "
                             "one more than the number of milestone points, but got number of "
                             f"schedulers {len(schedulers)} and the number of milestones to be "
                             f"equal to {len(milestones)}")
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = _epoch(owner, "last_epoch", last_epoch, first=-1) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:   # undo what the schedulers' creation did
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            _undo_one_step(scheduler)
        first = schedulers[bisect.bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        return {"milestones": list(self._milestones), "last_epoch": self.last_epoch,
                "last_lr": list(self._last_lr),
                "schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict):
        owner = type(self).__name__
        _check_keys(owner, state_dict, {"milestones", "last_epoch", "last_lr", "schedulers"})
        milestones = _milestones(owner, "milestones", state_dict["milestones"])
        if len(milestones) != len(self._schedulers) - 1:
            raise ValueError(f"{owner}: milestones must hold {len(self._schedulers) - 1} "
                             f"epochs, got {milestones!r}")
        last_epoch = _epoch(owner, "last_epoch", state_dict["last_epoch"], first=0)
        last_lr = _lrs(owner, "last_lr", state_dict["last_lr"], len(self.optimizer.param_groups))
        _load_sub_states(owner, self._schedulers, state_dict["schedulers"])
        self._milestones, self.last_epoch, self._last_lr = milestones, last_epoch, last_lr

    def __repr__(self):
        return (f"SequentialLR(schedulers={self._schedulers!r}, milestones={self._milestones}, "
                f"last_epoch={self.last_epoch})")


def _undo_one_step(scheduler):
    """PyTorch's recursive_undo: one epoch back, in nested sequences too."""
    if isinstance(scheduler, (SequentialLR, ChainedScheduler)):
        for inner in scheduler._schedulers:
            _undo_one_step(inner)
    else:
        scheduler.last_epoch -= 1


class ChainedScheduler(LRScheduler):
    """Step several schedulers together: each ``step()`` steps every one in order, so their
    recursive forms compound (a per-epoch decay times a cyclic factor, say)."""

    def __init__(self, schedulers, optimizer=None):
        owner = type(self).__name__
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{owner} expects at least one scheduler to be chained, but got "
                             "no scheduler.")
        if optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        _check_optimizer(owner, optimizer)
        self._schedulers = _sub_schedulers(owner, schedulers, optimizer)
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_lr": list(self._last_lr),
                "schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict):
        owner = type(self).__name__
        _check_keys(owner, state_dict, {"last_lr", "schedulers"})
        last_lr = _lrs(owner, "last_lr", state_dict["last_lr"], len(self.optimizer.param_groups))
        _load_sub_states(owner, self._schedulers, state_dict["schedulers"])
        self._last_lr = last_lr

    def __repr__(self):
        return f"ChainedScheduler(schedulers={self._schedulers!r})"
