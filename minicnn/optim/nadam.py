"""NAdam (Dozat, 2016): Adam with Nesterov momentum, and a momentum that warms up.

PyTorch's rule at step ``t = 1, 2, ...`` for a gradient ``g`` of parameter ``p`` (``m``,
``v`` start at zero, the product ``P`` at one):

    g     = -g                                   (maximize only)
    g     = g + weight_decay * p                 (L2 penalty, if weight_decay != 0)
    p     = p * (1 - lr * weight_decay)          (instead, with decoupled_weight_decay)
    mu_t  = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))     (the warming-up momentum)
    P     = P * mu_t                             ("mu_product": mu_1 mu_2 ... mu_t)
    m     = beta1 * m + (1 - beta1) * g
    v     = beta2 * v + (1 - beta2) * g^2
    d     = sqrt(v / (1 - beta2^t)) + eps
    p     = p - lr * (1 - mu_t) / (1 - P) * g / d
            - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

The last line is the Nesterov look-ahead: the current gradient's share, plus the momentum
as it will be after the next step.
"""

import numpy as np

from .optimizer import Optimizer, check_betas, check_number

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam with PyTorch's update rule.

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
    betas : (float, float)
    eps : float
    weight_decay : float
    momentum_decay : float
        How fast the momentum warms up to ``beta1 / 2`` ... ``beta1`` (PyTorch's psi).
    decoupled_weight_decay : bool
        Decay ``p`` by ``lr * weight_decay`` directly (AdamW's way) instead of the L2 penalty.
    maximize : bool
    """

    _scalar_state = ("mu_product",)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_betas("NAdam", group)
        check_number("NAdam", "momentum_decay", group["momentum_decay"])

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
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
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step))
        denom += group["eps"]
        p.data -= lr * (1.0 - mu) / (1.0 - mu_product) * (grad / denom)
        p.data -= lr * mu_next / (1.0 - mu_product * mu_next) * (exp_avg / denom)
