"""RAdam (Liu et al., 2020): Adam whose adaptive step is switched on, and *rectified*, only
once the running mean square has seen enough gradients to be trusted.

PyTorch's rule at step ``t = 1, 2, ...`` for a gradient ``g`` of parameter ``p`` (``m``,
``v`` start at zero):

    g       = -g                                 (maximize only)
    g       = g + weight_decay * p               (L2 penalty, if weight_decay != 0)
    p       = p * (1 - lr * weight_decay)        (instead, with decoupled_weight_decay)
    m       = beta1 * m + (1 - beta1) * g
    v       = beta2 * v + (1 - beta2) * g^2
    m_hat   = m / (1 - beta1^t)
    rho_inf = 2 / (1 - beta2) - 1                (the longest simple moving average)
    rho_t   = rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:
        r   = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p   = p - lr * m_hat * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    else:
        p   = p - lr * m_hat                     (plain momentum SGD while v is unreliable)

With the default beta2 = 0.999 the first five steps take the momentum branch.
"""

import numpy as np

from .optimizer import Optimizer, check_betas

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam with PyTorch's update rule.

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps : float
    weight_decay : float
    decoupled_weight_decay : bool
        Decay ``p`` by ``lr * weight_decay`` directly (AdamW's way) instead of the L2 penalty.
    maximize : bool
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_betas("RAdam", group)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        step = state["step"]
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if group["weight_decay"] != 0:
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * group["weight_decay"]
            else:
                grad = grad + group["weight_decay"] * p.data
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / (1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + group["eps"])
            p.data -= bias_corrected_exp_avg * lr * adaptive_lr * rect
        else:
            p.data -= bias_corrected_exp_avg * lr
