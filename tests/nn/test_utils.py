"""nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters,
against their definitions and torch.nn.utils."""

import math

import numpy as np
import pytest

import minicnn
from minicnn import nn

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def parameters_with_grads(seed=0, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    params = [nn.Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]
    for p in params:
        p.grad = (scale * rng.standard_normal(p.shape)).astype(dtype)
    return params


def torch_twins(torch, params):
    twins = [torch.nn.Parameter(torch.tensor(p.data.copy())) for p in params]
    for t, p in zip(twins, params):
        t.grad = torch.tensor(p.grad.data.copy())
    return twins


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    params = parameters_with_grads()
    twins = torch_twins(torch, params)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type=norm_type)
    assert isinstance(total, minicnn.Tensor) and total.ndim == 0 and total.dtype == np.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-13)
    for p, t in zip(params, twins):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_clip_grad_norm_is_the_norm_of_all_gradients_as_one_vector():
    params = parameters_with_grads(scale=10.0)
    flat = np.concatenate([p.grad.data.ravel() for p in params])
    total = nn.utils.clip_grad_norm_(iter(params), max_norm=2.0)  # a generator, read once
    assert total.item() == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    clipped = np.concatenate([p.grad.data.ravel() for p in params])
    np.testing.assert_allclose(clipped, flat * 2.0 / (np.linalg.norm(flat) + 1e-6), rtol=1e-14)


def test_clip_grad_norm_leaves_small_gradients_and_skips_missing_ones():
    params = parameters_with_grads(scale=1e-3)
    params[1].grad = None
    before = [p.grad.data.copy() if p.grad is not None else None for p in params]
    nn.utils.clip_grad_norm_(params, max_norm=1.0)
    np.testing.assert_array_equal(params[0].grad.data, before[0])
    assert params[1].grad is None
    total = nn.utils.clip_grad_norm_(nn.Parameter(np.ones(3)), 1.0)  # a single tensor
    assert total.item() == 0.0 and total.dtype == np.float32        # no gradient: 0.0


def test_clip_grad_norm_float32_keeps_dtype_and_matches_torch():
    torch = pytest.importorskip("torch")
    params = parameters_with_grads(dtype=np.float32, scale=5.0)
    twins = [torch.nn.Parameter(torch.tensor(p.data)) for p in params]
    for t, p in zip(twins, params):
        t.grad = torch.tensor(p.grad.data.copy())
    total = nn.utils.clip_grad_norm_(params, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(twins, 1.0)
    assert total.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in params)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, t in zip(params, twins):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_nonfinite():
    torch = pytest.importorskip("torch")
    params = parameters_with_grads()
    params[0].grad.data[0, 0] = np.inf
    twins = torch_twins(torch, params)
    with pytest.raises(RuntimeError) as ours:
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.utils.clip_grad_norm_(twins, 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(theirs.value)
    # Without the error both scale by the infinite norm anyway: inf*0 -> nan, x*0 -> 0.
    total = nn.utils.clip_grad_norm_(params, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(twins, 1.0)
    assert total.item() == expected.item() == math.inf
    for p, t in zip(params, twins):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    params = parameters_with_grads(scale=2.0)
    twins = torch_twins(torch, params)
    assert nn.utils.clip_grad_value_(params, 0.7) is None
    torch.nn.utils.clip_grad_value_(twins, 0.7)
    for p, t in zip(params, twins):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
        assert np.abs(p.grad.data).max() <= 0.7


def test_settings_that_are_not_numbers_are_refused():
    params = parameters_with_grads()
    with pytest.raises(TypeError, match="max_norm"):
        nn.utils.clip_grad_norm_(params, "1")
    with pytest.raises(TypeError, match="clip_value"):
        nn.utils.clip_grad_value_(params, None)
    with pytest.raises(TypeError, match="Tensors"):
        nn.utils.clip_grad_norm_([params[0], np.ones(3)], 1.0)


def test_parameters_to_vector_and_back():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    expected = torch.nn.utils.parameters_to_vector(twin.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), expected.detach().numpy())
    assert vec.shape == (26,) and vec.requires_grad
    # differentiable: the gradient of sum(w * vec) reaches each parameter as w's slice
    weights = np.arange(26, dtype=np.float32)
    (vec * minicnn.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(model[0].weight.grad.data, weights[:12].reshape(4, 3))
    np.testing.assert_array_equal(model[2].bias.grad.data, weights[24:])

    new = minicnn.tensor(np.linspace(-1, 1, 26, dtype=np.float32))
    nn.utils.vector_to_parameters(new, model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new.numpy()), twin.parameters())
    for p, t in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.data, t.detach().numpy())
    flat = nn.utils.parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(flat.detach().numpy(), new.numpy())


def test_vector_to_parameters_errors():
    params = [nn.Parameter(np.zeros((2, 3))), nn.Parameter(np.zeros(2))]
    with pytest.raises(TypeError, match="expected a Tensor, but got: ndarray"):
        nn.utils.vector_to_parameters(np.zeros(8), params)
    with pytest.raises(ValueError, match="8 elements"):
        nn.utils.vector_to_parameters(minicnn.tensor(np.zeros(7)), params)
    with pytest.raises(ValueError, match="1-D"):
        nn.utils.vector_to_parameters(minicnn.tensor(np.zeros((2, 4))), params)
