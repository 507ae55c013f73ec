"""What every optimizer shares: parameter groups, zero_grad, freezing, state dicts."""

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim

OPTIMIZERS = [
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
    lambda params: optim.Adam(params, lr=0.01, amsgrad=True),
]


def mlp():
    minicnn.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def loss_of(model, seed):
    rng = np.random.default_rng(seed)
    x = minicnn.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    return (model(x) ** 2).mean()


def train(model, opt, steps, start=0):
    for i in range(start, start + steps):
        opt.zero_grad()
        loss_of(model, i).backward()
        opt.step()


def test_parameter_groups_have_their_own_settings():
    model = mlp()
    opt = optim.SGD([{"params": model[0].parameters()},
                     {"params": model[2].parameters(), "lr": 0.5, "momentum": 0.0}],
                    lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.0]
    assert opt.param_groups[1]["dampening"] == 0  # defaults fill the rest
    before = [p.data.copy() for p in model.parameters()]
    loss_of(model, 0).backward()
    grads = [p.grad.copy() for p in model.parameters()]
    opt.step()
    lrs = [0.1, 0.1, 0.5, 0.5]
    for p, b, g, lr in zip(model.parameters(), before, grads, lrs):
        np.testing.assert_allclose(p.data, b - lr * g, rtol=1e-6, atol=1e-7)
    assert len(opt.state) == 2  # only the first group keeps momentum buffers


def test_add_param_group_and_errors():
    model = mlp()
    opt = optim.Adam(model[0].parameters())
    opt.add_param_group({"params": model[2].parameters(), "lr": 0.1})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [model[0].weight]})
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([model[0].weight, model[0].weight], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(model[0].weight, lr=0.1)
    with pytest.raises(TypeError, match="only optimise Tensors"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="unknown hyperparameter.*'betas'"):
        optim.SGD([{"params": model[0].parameters(), "betas": (0.9, 0.9)}], lr=0.1)


def test_generator_of_parameters_is_accepted():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 4


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_zero_grad(make):
    model = mlp()
    opt = make(model.parameters())
    loss_of(model, 0).backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_frozen_parameters_get_no_gradient_and_no_update(make):
    model = mlp()
    model[0].requires_grad_(False)
    frozen = [p.data.copy() for p in model[0].parameters()]
    opt = make(model.parameters())
    train(model, opt, 3)
    assert all(p.grad is None for p in model[0].parameters())
    for p, before in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(p.data, before)
    assert all(p not in opt.state for p in model[0].parameters())
    # frozen after a gradient was computed: still skipped by step()
    model[0].requires_grad_(True)
    loss_of(model, 9).backward()
    model[0].requires_grad_(False)
    opt.step()
    for p, before in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(p.data, before)


def test_parameter_without_gradient_is_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = np.array([1.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(a.data, [0.0, -1.0])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])


def test_step_with_closure_returns_the_loss():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_of(model, 0)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    assert opt.step(closure).item() < first


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_structure(make):
    model = mlp()
    opt = make([{"params": model[0].parameters()}, {"params": model[2].parameters(),
                                                     "lr": 0.123}])
    train(model, opt, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.123
    for index, p in enumerate(model.parameters()):
        for name, value in sd["state"][index].items():
            if isinstance(value, np.ndarray):
                assert value.shape == p.shape
                assert value is not opt.state[p][name]  # copies


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_state_dict_round_trip_resumes_identically(make, tmp_path):
    """Train 3 steps, checkpoint (through a file), train 3 more; a fresh model and optimizer
    loaded from the checkpoint and trained the same 3 steps end bit-identical."""
    model = mlp()
    opt = make(model.parameters())
    train(model, opt, 3)
    minicnn.save({"model": model.state_dict(), "optimizer": opt.state_dict()},
                 tmp_path / "ckpt.npz")
    train(model, opt, 3, start=3)

    restored_model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    restored_opt = make(restored_model.parameters())
    checkpoint = minicnn.load(tmp_path / "ckpt.npz")
    restored_model.load_state_dict(checkpoint["model"])
    restored_opt.load_state_dict(checkpoint["optimizer"])
    train(restored_model, restored_opt, 3, start=3)
    for p, q in zip(model.parameters(), restored_model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert restored_opt.param_groups[0]["params"][0] is restored_model[0].weight


def test_load_state_dict_restores_hyperparameters_and_casts_state():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sd = {"state": {"0": {"momentum_buffer": np.arange(3.0)}},  # str key, float64 buffer
          "param_groups": [{"lr": 0.5, "momentum": 0.8, "dampening": 0, "weight_decay": 0,
                            "nesterov": False, "params": [0]}]}
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is p
    assert opt.state[p]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_errors_change_nothing():
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones((2, 2)))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = np.ones(3), np.ones((2, 2))
    opt.step()
    good = opt.state_dict()
    bad = opt.state_dict()
    bad["state"][0]["momentum_buffer"] = np.zeros(4)
    bad["state"][1]["momentum_buffer"] = np.zeros((3, 2))
    bad["param_groups"][0]["lr"] = 99.0
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(bad)
    assert "parameter 0 has shape (4,)" in str(info.value)
    assert "parameter 1 has shape (3, 2)" in str(info.value)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[a]["momentum_buffer"],
                                  good["state"][0]["momentum_buffer"])
    with pytest.raises(ValueError, match="1 parameters in the state dict and 2"):
        opt.load_state_dict({"state": {}, "param_groups": [dict(good["param_groups"][0],
                                                                params=[0])]})
    with pytest.raises(ValueError, match="2 parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": good["param_groups"] * 2})
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_repr_lists_groups():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1")


@pytest.mark.parametrize("make", [
    lambda ps, f: optim.SGD(ps, lr=f(0.1), momentum=f(0.9), weight_decay=f(0.01)),
    lambda ps, f: optim.RMSprop(ps, lr=f(0.01), alpha=f(0.9), eps=f(1.0), weight_decay=f(0.1),
                                momentum=f(0.5), centered=True, eps_inside_sqrt=True),
    lambda ps, f: optim.Adam(ps, lr=f(0.01), betas=(f(0.8), f(0.9)), weight_decay=f(0.1),
                             amsgrad=True),
])
def test_float32_is_kept_even_with_float64_hyperparameters(make):
    """NumPy scalars of float64 (e.g. from np.linspace) must not turn float32 into float64."""
    p = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    data = p.data
    opt = make([p], np.float64)
    for _ in range(2):
        p.grad = np.full((2, 3), 0.5, dtype=np.float32)
        opt.step()
    assert p.data is data and p.dtype == np.float32
    for name, value in opt.state[p].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, name
