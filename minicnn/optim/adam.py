"""Adam (Kingma & Ba, 2015): momentum on the gradient, scaled per element by a running RMS.

PyTorch's rule at step ``t = 1, 2, ...`` for a gradient ``g`` of parameter ``p`` (``m``,
``v`` start at zero):

    g = -g                                       (maximize only: climb instead)
    g = g + weight_decay * p                     (L2 penalty, added to the gradient)
    p = p * (1 - lr * weight_decay)              (instead, with decoupled_weight_decay: AdamW)
    m = beta1 * m + (1 - beta1) * g              (written m += (1 - beta1) * (g - m))
    v = beta2 * v + (1 - beta2) * g^2
    v_max = max(v_max, v)                        (amsgrad only; then v_max replaces v below)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

The ``1 - beta^t`` factors undo the bias of starting ``m`` and ``v`` at zero. Note eps is
added after the bias correction of ``sqrt(v)``, as in PyTorch.
"""

import math

import numpy as np

from .optimizer import Optimizer, check_betas

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam with PyTorch's update rule.

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
    betas : (float, float)
        Decay rates of the running mean and the running mean square of the gradient.
    eps : float
    weight_decay : float
        L2 penalty added to the gradient, or with ``decoupled_weight_decay`` the fraction
        ``lr * weight_decay`` of ``p`` taken off before the step (AdamW).
    amsgrad : bool
        Use the largest ``v`` seen so far (Reddi et al., 2018).
    maximize : bool
        Maximise the objective (step along ``+g``).
    decoupled_weight_decay : bool
        AdamW's decay (Loshchilov & Hutter, 2019) instead of the L2 penalty.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_betas(type(self).__name__, group)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        step = state["step"]
        beta1, beta2 = group["betas"]
        if group["weight_decay"] != 0:
            if group["decoupled_weight_decay"]:
                p.data *= 1 - group["lr"] * group["weight_decay"]
            else:
                grad = grad + group["weight_decay"] * p.data
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        else:
            second_moment = exp_avg_sq
        step_size = group["lr"] / (1 - beta1 ** step)
        denom = np.sqrt(second_moment)
        denom /= math.sqrt(1 - beta2 ** step)
        denom += group["eps"]
        p.data -= step_size * (exp_avg / denom)
