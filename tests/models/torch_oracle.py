"""Comparing a minicnn module with its PyTorch twin (same structure and names, written in
plain torch.nn in the tests): the same state_dict in, the same outputs, gradients and
updated statistics out. Tests that use it skip cleanly without torch (they import torch
with ``pytest.importorskip`` and pass it in)."""

import numpy as np

import minicnn


def randomise_batch_norms(torch, reference):
    """Batch-norm parameters and statistics away from their initial 1s and 0s, so a swapped
    or ignored one shows."""
    with torch.no_grad():
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(3)


def load_twin(torch, module, reference):
    """Load ``reference``'s state_dict into ``module``, after checking that both have the
    same keys in the same order and the same shapes."""
    state = {k: v.numpy() for k, v in reference.state_dict().items()}
    ours = module.state_dict()
    assert list(ours) == list(state)
    for key, value in state.items():
        assert ours[key].shape == value.shape, key
    module.load_state_dict(state)


def assert_same_as_torch(torch, module, reference, x, rng, rtol=1e-9, atol=1e-11):
    """Forward ``x`` (float64) through both in their current mode, backward a random upstream
    gradient, and compare the output (to 1e-10), the input's and every parameter's gradient,
    and every buffer afterwards (training mode updates the running statistics). A parameter
    torch gives no gradient must have none in minicnn either (start from cleared gradients)."""
    x_torch = torch.from_numpy(x).requires_grad_(True)
    x_mini = minicnn.tensor(x, requires_grad=True)
    out_torch, out_mini = reference(x_torch), module(x_mini)
    np.testing.assert_allclose(out_mini.data, out_torch.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    upstream = rng.standard_normal(out_mini.shape)
    out_torch.backward(torch.from_numpy(upstream))
    out_mini.backward(upstream)
    np.testing.assert_allclose(x_mini.grad, x_torch.grad.numpy(), rtol=rtol, atol=atol)
    torch_params = dict(reference.named_parameters())
    assert [name for name, _ in module.named_parameters()] == list(torch_params)
    for name, param in module.named_parameters():
        expected = torch_params[name].grad
        if expected is None:  # not used by this forward pass (a dropped branch)
            assert param.grad is None, name
            continue
        np.testing.assert_allclose(param.grad, expected.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)
    state = module.state_dict()
    for name, value in reference.state_dict().items():
        # atol: a running mean near 0 is a sum of O(1) terms, rounded to ~1e-16 absolute
        np.testing.assert_allclose(state[name], value.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)


def torch_se_block(torch, channels, reduction):
    """torchvision's ``SqueezeExcitation`` (torchvision/ops/misc.py), in plain torch.nn."""
    tnn = torch.nn

    class SqueezeExcitation(tnn.Module):
        def __init__(self):
            super().__init__()
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc1 = tnn.Conv2d(channels, channels // reduction, 1)
            self.fc2 = tnn.Conv2d(channels // reduction, channels, 1)
            self.activation = tnn.ReLU()
            self.scale_activation = tnn.Sigmoid()

        def forward(self, x):
            scale = self.fc2(self.activation(self.fc1(self.avgpool(x))))
            return x * self.scale_activation(scale)

    return SqueezeExcitation()
