"""RMSprop: divide each gradient by a running root-mean-square of its recent values.

PyTorch's rule, for a gradient ``g`` of parameter ``p`` (state starts at zero):

    g   = g + weight_decay * p                     (if weight_decay != 0)
    v   = alpha * v + (1 - alpha) * g^2            (running mean square, "square_avg")
    m   = alpha * m + (1 - alpha) * g              (running mean, only if centered)
    d   = sqrt(v - m^2) + eps     if centered   else   sqrt(v) + eps
    b   = momentum * b + g / d;   p = p - lr * b   (if momentum > 0)
    p   = p - lr * g / d                           (otherwise)

TensorFlow puts eps *inside* the square root, ``d = sqrt(v + eps)``: that is
``eps_inside_sqrt=True``. It matters when eps is large. Inception-v3 was trained with
TensorFlow's form, decay 0.9, momentum 0.9, eps 1.0 and lr 0.045 decayed by 0.94 every two
epochs; to reproduce that recipe::

    opt = RMSprop(model.parameters(), lr=0.045, alpha=0.9, eps=1.0, momentum=0.9,
                  eps_inside_sqrt=True)
    sched = lr_scheduler.StepLR(opt, step_size=2 * steps_per_epoch, gamma=0.94)
    # call sched.step() after every optimizer step
    # (or step_size=2 with sched.step() once per epoch)

Two smaller differences from TensorFlow 1's ``RMSPropOptimizer`` remain, and are kept
PyTorch's way: TensorFlow starts ``v`` at 1 (not 0), and folds lr into the momentum buffer
(``b = momentum * b + lr * g / d; p = p - b``), which differs from PyTorch's form only in the
steps right after lr changes.
"""

import numpy as np

from .optimizer import Optimizer, check_flag, check_number

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's update rule.

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
    alpha : float
        Decay of the running mean square (TensorFlow calls it ``decay`` or ``rho``).
    eps : float
        Added to the denominator for stability.
    weight_decay : float
        L2 penalty added to the gradient.
    momentum : float
    centered : bool
        Divide by an estimate of the gradient's standard deviation (subtract the squared
        running mean) instead of its root mean square.
    eps_inside_sqrt : bool
        TensorFlow's denominator ``sqrt(v + eps)`` instead of PyTorch's ``sqrt(v) + eps``.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, eps_inside_sqrt=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      eps_inside_sqrt=eps_inside_sqrt))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_number("RMSprop", "alpha", group["alpha"], high=1)
        check_flag("RMSprop", "centered", group["centered"])
        check_flag("RMSprop", "eps_inside_sqrt", group["eps_inside_sqrt"])

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        alpha, eps = group["alpha"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)  # PyTorch's lerp form
            variance = square_avg - grad_avg * grad_avg
        else:
            variance = square_avg
        if group["eps_inside_sqrt"]:
            denom = np.sqrt(variance + eps)
        else:
            denom = np.sqrt(variance)
            denom += eps
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (grad / denom)
