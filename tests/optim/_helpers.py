"""Shared by the optimizer tests: run an optimizer on given gradients; the PyTorch oracle."""

import numpy as np

from minicnn import nn

STEPS = 6


def gradients(shape, steps=STEPS, seed=0):
    """A sequence of distinct random gradients (float64)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def run(make_optimizer, x0, grads):
    """Parameter values after each step of ``make_optimizer([p])`` fed ``grads``."""
    p = nn.Parameter(x0.copy())
    opt = make_optimizer([p])
    history = []
    for g in grads:
        p.grad = g.astype(p.dtype)
        opt.step()
        history.append(p.data.copy())
    return history


def run_torch(torch, make_optimizer, x0, grads):
    """The same with ``torch.optim`` (float64 tensors)."""
    p = torch.nn.Parameter(torch.tensor(x0))
    opt = make_optimizer([p])
    history = []
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        history.append(p.detach().numpy().copy())
    return history
