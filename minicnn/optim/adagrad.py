"""Adagrad (Duchi, Hazan & Singer, 2011): each element's step shrinks with the sum of its
squared gradients so far.

PyTorch's rule at step ``t = 1, 2, ...`` for a gradient ``g`` of parameter ``p`` (``s``
starts at ``initial_accumulator_value``):

    g  = -g                                      (maximize only)
    g  = g + weight_decay * p                    (L2 penalty, if weight_decay != 0)
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s  = s + g^2                                 ("sum")
    p  = p - lr_t * g / (sqrt(s) + eps)

Rarely-seen features (small ``s``) keep large steps; the sum never forgets, so every step
shrinks over time (RMSprop and Adam replace it with a running average).
"""

import numpy as np

from .optimizer import Optimizer, check_number

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad with PyTorch's update rule.

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
    lr_decay : float
        Divides the lr by ``1 + (t - 1) * lr_decay`` at step ``t``.
    weight_decay : float
        L2 penalty added to the gradient.
    initial_accumulator_value : float
        The starting value of every element of the sum of squares.
    eps : float
        Added to ``sqrt(s)`` for stability.
    maximize : bool
        Maximise the objective (step along ``+g``).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        for name in ("lr_decay", "initial_accumulator_value"):
            check_number("Adagrad", name, group[name])

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        std = np.sqrt(state["sum"])
        std += group["eps"]
        p.data -= lr_t * (grad / std)
