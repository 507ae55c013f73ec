"""PyTorch as an oracle for layers: same weights in, same outputs and gradients out."""

import numpy as np

import minicnn


def torch_state(module):
    """A torch module's state dict as NumPy arrays (what an ``.npz`` export holds)."""
    return {key: value.detach().numpy().copy() for key, value in module.state_dict().items()}


def assert_same_as_torch(torch, ours, theirs, x, target=None, atol=1e-10, rtol=1e-8):
    """Load ``theirs``' weights into ``ours`` (both float64), run forward and backward with a
    random upstream gradient, and compare outputs, input and parameter gradients and the
    state dicts afterwards (running statistics)."""
    theirs = theirs.double()
    ours.double().load_state_dict(torch_state(theirs))
    x_ours = minicnn.tensor(x.copy(), requires_grad=True)
    x_theirs = torch.tensor(x.copy(), requires_grad=True)
    args_ours = (x_ours,) if target is None else (x_ours, target)
    args_theirs = (x_theirs,) if target is None else (x_theirs, torch.tensor(target))
    out_ours, out_theirs = ours(*args_ours), theirs(*args_theirs)
    np.testing.assert_allclose(out_ours.data, out_theirs.detach().numpy(), atol=atol, rtol=rtol)
    upstream = np.random.default_rng(7).standard_normal(out_ours.shape)
    out_ours.backward(upstream)
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), atol=atol, rtol=rtol)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, their_params[name].grad.numpy(), atol=atol,
                                   rtol=rtol, err_msg=name)
    their_state = torch_state(theirs)
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(value, their_state[key], atol=atol, rtol=rtol, err_msg=key)
    return out_ours
