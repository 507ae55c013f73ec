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


def run_torch_float64(torch, make_optimizer, x0, grads):
    """``run_torch`` with float64 as torch's default dtype, so the scalar state PyTorch keeps
    in tensors of that dtype (NAdam's mu_product, every ``step``) is float64 as ours is."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return run_torch(torch, make_optimizer, x0, grads)
    finally:
        torch.set_default_dtype(previous)


def assert_histories_close(got, expected, rtol=1e-12, atol=1e-14):
    assert len(got) == len(expected)
    for step, (a, b) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {step}")


def run_interrupted(make_optimizer, x0, grads, stop):
    """Like ``run``, but after ``stop`` steps the optimizer's state dict is loaded into a
    fresh optimizer (over a fresh parameter with the same values), which does the rest."""
    p = nn.Parameter(x0.copy())
    opt = make_optimizer([p])
    history = []
    for i, g in enumerate(grads):
        if i == stop:
            saved = opt.state_dict()
            p = nn.Parameter(p.data.copy())
            opt = make_optimizer([p])
            opt.load_state_dict(saved)
        p.grad = g.astype(p.dtype)
        opt.step()
        history.append(p.data.copy())
    return history
