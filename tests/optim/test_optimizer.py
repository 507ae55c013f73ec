"""What every optimizer shares: parameter groups, zero_grad, freezing, state dicts."""

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim

OPTIMIZERS = [
    lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    lambda params: optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
    lambda params: optim.Adam(params, lr=0.01, amsgrad=True),
    lambda params: optim.AdamW(params, lr=0.01, amsgrad=True),
    lambda params: optim.Adagrad(params, lr=0.05, lr_decay=0.1),
    lambda params: optim.NAdam(params, lr=0.01),
    lambda params: optim.RAdam(params, lr=0.01, betas=(0.5, 0.9)),
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
    grads = [p.grad.data.copy() for p in model.parameters()]
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
    assert all(np.all(p.grad.data == 0) for p in model.parameters())
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


NAN, INF = float("nan"), float("inf")
# (optimizer, settings, the start of the expected message): what PyTorch refuses, and NaN,
# infinities, bools and strings, which it lets through in places.
INVALID_SETTINGS = [
    ("Adam", dict(eps=NAN), "Adam: eps must be a finite number >= 0, got nan"),
    ("Adam", dict(lr=-5), "Adam: lr must be a finite number >= 0, got -5"),
    ("Adam", dict(lr="x"), "Adam: lr must be a finite number >= 0, got 'x'"),
    ("Adam", dict(lr=INF), "Adam: lr must be a finite number >= 0, got inf"),
    ("Adam", dict(weight_decay=-0.1), "Adam: weight_decay must be"),
    ("Adam", dict(betas=(1.0, 0.999)), "Adam: betas[0] must be a number in [0, 1), got 1.0"),
    ("Adam", dict(betas=(0.9, NAN)), "Adam: betas[1] must be a number in [0, 1), got nan"),
    ("Adam", dict(betas=(0.9, -0.1)), "Adam: betas[1] must be"),
    ("Adam", dict(betas=0.9), "Adam: betas must be two numbers in [0, 1), got 0.9"),
    ("Adam", dict(amsgrad="yes"), "Adam: amsgrad must be True or False, got 'yes'"),
    ("SGD", dict(lr=NAN), "SGD: lr must be a finite number >= 0, got nan"),
    ("SGD", dict(lr=True), "SGD: lr must be a finite number >= 0, got True"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "SGD: momentum must be a finite number >= 0"),
    ("SGD", dict(lr=0.1, momentum=NAN), "SGD: momentum must be a finite number >= 0"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "SGD: weight_decay must be"),
    ("SGD", dict(lr=0.1, dampening=NAN), "SGD: dampening must be a finite number, got nan"),
    ("SGD", dict(lr=0.1, nesterov="no"), "SGD: nesterov must be True or False, got 'no'"),
    ("SGD", dict(lr=0.1, nesterov=True), "SGD: nesterov=True needs momentum > 0"),
    ("RMSprop", dict(lr=-0.01), "RMSprop: lr must be"),
    ("RMSprop", dict(eps=-1e-8), "RMSprop: eps must be"),
    ("RMSprop", dict(alpha=-0.1), "RMSprop: alpha must be a number in [0, 1], got -0.1"),
    ("RMSprop", dict(alpha=NAN), "RMSprop: alpha must be a number in [0, 1], got nan"),
    ("RMSprop", dict(momentum=-0.9), "RMSprop: momentum must be"),
    ("RMSprop", dict(weight_decay=INF), "RMSprop: weight_decay must be"),
    ("RMSprop", dict(centered=None), "RMSprop: centered must be True or False, got None"),
    ("Adam", dict(maximize="no"), "Adam: maximize must be True or False, got 'no'"),
    ("SGD", dict(lr=0.1, maximize=1), "SGD: maximize must be True or False, got 1"),
    ("AdamW", dict(lr=-1e-3), "AdamW: lr must be a finite number >= 0, got -0.001"),
    ("AdamW", dict(eps=-1.0), "AdamW: eps must be"),
    ("AdamW", dict(weight_decay=-0.01), "AdamW: weight_decay must be"),
    ("AdamW", dict(betas=(0.9, 1.5)), "AdamW: betas[1] must be a number in [0, 1), got 1.5"),
    ("AdamW", dict(betas=(-0.1, 0.9)), "AdamW: betas[0] must be"),
    ("AdamW", dict(amsgrad=None), "AdamW: amsgrad must be True or False, got None"),
    ("Adagrad", dict(lr=-0.1), "Adagrad: lr must be"),
    ("Adagrad", dict(lr_decay=-0.1), "Adagrad: lr_decay must be a finite number >= 0"),
    ("Adagrad", dict(weight_decay=-0.1), "Adagrad: weight_decay must be"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Adagrad: initial_accumulator_value must"),
    ("Adagrad", dict(eps=-1e-10), "Adagrad: eps must be"),
    ("Adagrad", dict(lr_decay=NAN), "Adagrad: lr_decay must be a finite number >= 0, got nan"),
    ("NAdam", dict(lr=-2e-3), "NAdam: lr must be"),
    ("NAdam", dict(eps=-1e-8), "NAdam: eps must be"),
    ("NAdam", dict(betas=(1.0, 0.999)), "NAdam: betas[0] must be"),
    ("NAdam", dict(betas=(0.9, -0.5)), "NAdam: betas[1] must be"),
    ("NAdam", dict(weight_decay=-1.0), "NAdam: weight_decay must be"),
    ("NAdam", dict(momentum_decay=-4e-3), "NAdam: momentum_decay must be a finite number >= 0"),
    ("NAdam", dict(decoupled_weight_decay="yes"), "NAdam: decoupled_weight_decay must be True"),
    ("RAdam", dict(lr=-1e-3), "RAdam: lr must be"),
    ("RAdam", dict(eps=-1e-8), "RAdam: eps must be"),
    ("RAdam", dict(betas=(0.9, 1.0)), "RAdam: betas[1] must be"),
    ("RAdam", dict(betas=(-0.9, 0.999)), "RAdam: betas[0] must be"),
    ("RAdam", dict(weight_decay=-0.1), "RAdam: weight_decay must be"),
    ("RAdam", dict(decoupled_weight_decay=2), "RAdam: decoupled_weight_decay must be True"),
]


@pytest.mark.parametrize("name, settings, message", INVALID_SETTINGS)
def test_invalid_settings_are_refused_naming_the_setting(name, settings, message):
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([p], **settings)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("name, settings, message", INVALID_SETTINGS)
def test_add_param_group_checks_settings_as_the_constructor_does(name, settings, message):
    first, second = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))
    opt = getattr(optim, name)([first], lr=0.1)
    with pytest.raises(ValueError) as info:
        opt.add_param_group({"params": [second], **settings})
    assert str(info.value).startswith(message)
    assert len(opt.param_groups) == 1


@pytest.mark.parametrize("name, settings, message", INVALID_SETTINGS)
def test_load_state_dict_checks_settings_and_then_changes_nothing(name, settings, message):
    p = nn.Parameter(np.ones(2))
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    bad = opt.state_dict()
    bad["param_groups"][0].update(settings)
    before = opt.state_dict()
    with pytest.raises(ValueError) as info:
        opt.load_state_dict(bad)
    assert f"group 0: {message}" in str(info.value)
    assert opt.param_groups[0]["lr"] == 0.1 and repr(opt.state_dict()) == repr(before)


def test_refuses_every_setting_pytorch_refuses():
    """The oracle: each setting PyTorch's constructor refuses is refused here too (the
    table above also holds NaN and type errors, which PyTorch does not always catch)."""
    torch = pytest.importorskip("torch")
    refused_by_torch = 0
    for name, settings, _ in INVALID_SETTINGS:
        torch_settings = dict(settings)
        if name == "SGD" and "nesterov" not in settings:
            torch_settings.setdefault("lr", 0.1)
        try:
            getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))], **torch_settings)
        except (ValueError, TypeError):
            refused_by_torch += 1
            with pytest.raises(ValueError):
                getattr(optim, name)([nn.Parameter(np.zeros(2))], **settings)
    assert refused_by_torch >= 35


def test_a_saved_group_without_params_or_with_bad_indices_is_a_value_error():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    good = opt.state_dict()
    cases = [
        ({"state": {}, "param_groups": [{"lr": 0.1}]},
         "group 0 must be a dict with a 'params' entry, got dict with the keys ['lr']"),
        ({"state": {}, "param_groups": ["params"]},
         "group 0 must be a dict with a 'params' entry, got str"),
        ({"state": {}, "param_groups": [dict(good["param_groups"][0], params=[0.5])]},
         "group 0: 'params' must be a list of parameter indices, got [0.5]"),
        ({"state": {}, "param_groups": {"lr": 0.1}}, "holds a list of parameter groups"),
        ({"state": {"x": {}}, "param_groups": good["param_groups"]},
         "state for parameter 'x', which no group lists"),
        ({"state": {0: {"momentum_buffer": np.array(["a", "b"])}},
          "param_groups": good["param_groups"]},
         "state 'momentum_buffer' of parameter 0 has dtype <U1; expected numbers"),
        ({"state": {0: {"momentum_buffer": 3.0}}, "param_groups": good["param_groups"]},
         "state 'momentum_buffer' of parameter 0 must be an array, got 3.0"),
        ({"state": {0: []}, "param_groups": good["param_groups"]},
         "the state of parameter 0 must be a dict, got list"),
        ({"state": {}, "param_groups": [dict(good["param_groups"][0], foo=1)]},
         "group 0: unknown hyperparameter(s) ['foo'] for SGD"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError) as info:
            opt.load_state_dict(bad)
        assert message in str(info.value), (bad, str(info.value))
        np.testing.assert_array_equal(opt.state[p]["momentum_buffer"],
                                      good["state"][0]["momentum_buffer"])


def test_adam_step_state_must_be_a_count():
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p])
    p.grad = np.ones(2)
    opt.step()
    bad = opt.state_dict()
    bad["state"][0]["step"] = -1
    with pytest.raises(ValueError, match="state 'step' of parameter 0 must be an int >= 0, "
                       "got -1"):
        opt.load_state_dict(bad)
    assert opt.state[p]["step"] == 1


def test_a_saved_group_missing_a_setting_keeps_this_optimizers_value():
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.9))
    saved = opt.state_dict()
    del saved["param_groups"][0]["betas"]
    saved["param_groups"][0]["lr"] = 0.5
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9) and opt.param_groups[0]["lr"] == 0.5
