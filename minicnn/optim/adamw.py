"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay *decoupled* from the gradient.

PyTorch's rule at step ``t = 1, 2, ...`` (``m``, ``v`` start at zero):

    p = p * (1 - lr * weight_decay)              (the decay: not added to g)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    v_max = max(v_max, v)                        (amsgrad only; then v_max replaces v below)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Adam's L2 penalty ``g + weight_decay * p`` passes through the division by ``sqrt(v)``, so
parameters with large gradients are barely decayed; AdamW shrinks every parameter by the
same fraction. It is ``Adam(decoupled_weight_decay=True)`` with PyTorch's default
``weight_decay=0.01``.
"""

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW with PyTorch's update rule (see ``Adam`` for the parameters; here
    ``weight_decay`` defaults to 0.01 and is always decoupled)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)
