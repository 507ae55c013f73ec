"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

PyTorch's rule, for a gradient ``g`` of parameter ``p`` (``b`` is the momentum buffer):

    g = -g                                           (maximize only: climb instead)
    g = g + weight_decay * p                         (L2 penalty, if weight_decay != 0)
    b = g                                            (first step)
    b = momentum * b + (1 - dampening) * g           (later steps)
    g = g + momentum * b   if nesterov   else   b    (if momentum != 0)
    p = p - lr * g

Note the buffer holds a running sum of *gradients* and lr multiplies it at each step (as
PyTorch, unlike Sutskever et al.'s ``v = momentum * v + lr * g``): the two agree while lr is
constant and differ right after lr changes.
"""

from .optimizer import Optimizer, check_flag, check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum).

    Parameters
    ----------
    params : iterable of Parameter, or of dict (parameter groups)
    lr : float
        Learning rate (required).
    momentum : float
    dampening : float
        Scales down the new gradient's share of the momentum buffer (``1 - dampening``).
    weight_decay : float
        L2 penalty: adds ``weight_decay * p`` to the gradient.
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool
        Maximise the objective (step along ``+g``).
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        check_number("SGD", "dampening", group["dampening"], low=None)
        check_flag("SGD", "nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening == 0, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, grad, group, state):
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.astype(p.dtype)  # a copy
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad
