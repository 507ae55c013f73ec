"""Schedulers: recursive updates equal the closed forms, PyTorch's values, checkpoints."""

import math

import numpy as np
import pytest

from minicnn import nn, optim
from minicnn.optim import lr_scheduler

EPOCHS = 40


def make_optimizer(lrs=(0.1, 0.02)):
    groups = [{"params": [nn.Parameter(np.zeros(1))], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0], momentum=0.9)


SCHEDULERS = {
    "step": (lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
             lambda base, e: base * 0.5 ** (e // 3)),
    "multistep": (lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[15, 4, 9, 9], gamma=0.3),
                  lambda base, e: base * 0.3 ** ((e >= 4) + 2 * (e >= 9) + (e >= 15))),
    "exponential": (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9),
                    lambda base, e: base * 0.9 ** e),
    "cosine": (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
               lambda base, e: 0.001 + (base - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2),
}


def lr_history(make, epochs=EPOCHS):
    opt = make_optimizer()
    sched = make(opt)
    history = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        history.append(sched.get_last_lr())
        assert history[-1] == [g["lr"] for g in opt.param_groups]
    return sched, np.array(history)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_recursive_values_equal_the_closed_form(name):
    """Over 40 epochs (4 cosine periods of T_max=10, through the lr's minimum and back up),
    the lr set by repeated step() equals the formula written here and lr_at()."""
    make, formula = SCHEDULERS[name]
    sched, history = lr_history(make)
    for group, base in enumerate((0.1, 0.02)):
        expected = [formula(base, e) for e in range(EPOCHS + 1)]
        np.testing.assert_allclose(history[:, group], expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([sched.lr_at(e, base) for e in range(EPOCHS + 1)], expected,
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedulers_match_torch(name):
    torch = pytest.importorskip("torch")
    make, _ = SCHEDULERS[name]
    _, history = lr_history(make)
    torch_make = {
        "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        "multistep": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [15, 4, 9, 9], 0.3),
        "exponential": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
        "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10,
                                                                       eta_min=0.001),
    }[name]
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [params[0]], "lr": 0.1},
                           {"params": [params[1]], "lr": 0.02}], lr=0.1, momentum=0.9)
    sched = torch_make(opt)
    expected = [sched.get_last_lr()]
    for _ in range(EPOCHS):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())
    np.testing.assert_allclose(history, np.array(expected), rtol=1e-12, atol=1e-15)


def test_initial_lr_is_recorded_and_optimizer_uses_the_new_lr():
    opt = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    p = opt.param_groups[0]["params"][0]
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()            # before any optimizer step: PyTorch's warning
    p.grad = np.array([1.0])
    opt.step()
    assert p.data[0] == pytest.approx(-0.01)


def test_state_dict_resumes_the_schedule(tmp_path):
    import minicnn
    sched, history = lr_history(SCHEDULERS["cosine"][0], epochs=7)
    opt = sched.optimizer
    minicnn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    for _ in range(5):
        sched.step()
    reference = sched.get_last_lr()

    checkpoint = minicnn.load(tmp_path / "s.npz")
    opt2 = make_optimizer()
    opt2.load_state_dict(checkpoint["opt"])
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=1)
    sched2.load_state_dict(checkpoint["sched"])
    assert sched2.last_epoch == 7 and sched2.T_max == 10
    assert sched2.get_last_lr() == list(history[-1])
    for _ in range(5):
        sched2.step()
    assert sched2.get_last_lr() == reference
    with pytest.raises(ValueError, match="expected the keys"):
        sched2.load_state_dict({"last_epoch": 3})


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(ValueError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=4)


def test_validation():
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(make_optimizer(), step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        lr_scheduler.CosineAnnealingLR(make_optimizer(), T_max=0)
    with pytest.raises(TypeError, match="optimizer"):
        lr_scheduler.ExponentialLR(object(), gamma=0.9)


def test_inception_v3_recipe_decays_every_two_epochs():
    """RMSprop(eps inside the root) + StepLR(2, 0.94), as documented in rmsprop.py."""
    p = nn.Parameter(np.zeros(1, dtype=np.float32))
    opt = optim.RMSprop([p], lr=0.045, alpha=0.9, eps=1.0, momentum=0.9,
                        eps_inside_sqrt=True)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.94)
    lrs = []
    for _ in range(6):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, [0.045, 0.045, 0.045 * 0.94, 0.045 * 0.94,
                                     0.045 * 0.94 ** 2, 0.045 * 0.94 ** 2], rtol=1e-14)


@pytest.mark.parametrize("make, message", [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2.5), "StepLR: step_size must be a "
     "positive int, got 2.5"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=float("nan")),
     "StepLR: gamma must be a finite number >= 0, got nan"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=-0.5),
     "StepLR: gamma must be a finite number >= 0, got -0.5"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma="0.5"),
     "StepLR: gamma must be a finite number >= 0, got '0.5'"),
    (lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[3, 2.5]),
     "MultiStepLR: milestones must be a list of ints >= 0, got [3, 2.5]"),
    (lambda opt: lr_scheduler.MultiStepLR(opt, milestones=5),
     "MultiStepLR: milestones must be a list of ints >= 0, got 5"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=float("inf")),
     "ExponentialLR: gamma must be a finite number >= 0, got inf"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=float("nan")),
     "CosineAnnealingLR: T_max must be a positive int, got nan"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=float("nan")),
     "CosineAnnealingLR: eta_min must be a finite number >= 0, got nan"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=-2),
     "CosineAnnealingLR: last_epoch must be an int >= -1, got -2"),
])
def test_invalid_arguments_are_refused_naming_them(make, message):
    opt = make_optimizer()
    with pytest.raises(ValueError) as info:
        make(opt)
    assert str(info.value) == message
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.02]      # untouched


@pytest.mark.parametrize("key, value, message", [
    ("T_max", 0, "CosineAnnealingLR: T_max must be a positive int, got 0"),
    ("eta_min", "x", "CosineAnnealingLR: eta_min must be a finite number >= 0, got 'x'"),
    ("last_epoch", -3, "CosineAnnealingLR: last_epoch must be an int >= -1, got -3"),
    ("base_lrs", [0.1], "CosineAnnealingLR: base_lrs must be a list of 2 learning rates"),
    ("last_lr", [0.1, float("nan")], "CosineAnnealingLR: last_lr[1] must be a finite number "
     ">= 0, got nan"),
])
def test_load_state_dict_checks_values_and_then_changes_nothing(key, value, message):
    sched = SCHEDULERS["cosine"][0](make_optimizer())
    before = sched.state_dict()
    with pytest.raises(ValueError) as info:
        sched.load_state_dict(dict(before, **{key: value}))
    assert str(info.value).startswith(message)
    assert sched.state_dict() == before


# --- The schedules added for issue 14, each against torch.optim.lr_scheduler -------------
# A case builds a scheduler with ``m``, either minicnn's lr_scheduler module or torch's, so
# one lambda makes both twins; ``optimizer`` names the optimizer it drives.
class Halving:
    """A callable object: LambdaLR saves its attributes (PyTorch's rule)."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


CASES = {
    "lambda": ("sgd", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    "lambda_per_group": ("sgd", lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + e),
                                                            Halving(7)])),
    "multiplicative": ("sgd", lambda m, o: m.MultiplicativeLR(
        o, lambda e: 0.9 if e % 3 else 1.05)),
    "constant": ("sgd", lambda m, o: m.ConstantLR(o)),
    "constant_half": ("adam", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=10)),
    "linear": ("sgd", lambda m, o: m.LinearLR(o)),
    "linear_down": ("sgd", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0,
                                                   total_iters=30)),
    "linear_partial": ("sgd", lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                      total_iters=20)),
    "polynomial": ("sgd", lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0)),
    "polynomial_default": ("sgd", lambda m, o: m.PolynomialLR(o)),
    "warm_restarts": ("sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7)),
    "warm_restarts_mult": ("sgd", lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001)),
    "cyclic": ("sgd", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.05],
                                              step_size_up=5, step_size_down=8)),
    "cyclic_triangular2": ("sgd", lambda m, o: m.CyclicLR(o, 0.001, 0.1, step_size_up=6,
                                                          mode="triangular2")),
    "cyclic_exp_range": ("adam", lambda m, o: m.CyclicLR(o, 0.001, 0.1, step_size_up=4,
                                                         mode="exp_range", gamma=0.97,
                                                         base_momentum=0.85,
                                                         max_momentum=0.95)),
    "cyclic_scale_fn": ("sgd", lambda m, o: m.CyclicLR(o, 0.001, 0.1, step_size_up=5,
                                                       scale_fn=lambda x: 1 / (1 + 0.1 * x),
                                                       scale_mode="iterations")),
    "cyclic_no_momentum": ("adagrad", lambda m, o: m.CyclicLR(o, 0.001, 0.1, step_size_up=9,
                                                              cycle_momentum=False)),
    "one_cycle": ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=60)),
    "one_cycle_linear": ("adam", lambda m, o: m.OneCycleLR(o, max_lr=0.3, epochs=6,
                                                           steps_per_epoch=10,
                                                           anneal_strategy="linear")),
    "one_cycle_three_phase": ("sgd", lambda m, o: m.OneCycleLR(o, max_lr=0.4, total_steps=60,
                                                               pct_start=0.25,
                                                               three_phase=True,
                                                               div_factor=10.0,
                                                               final_div_factor=100.0)),
    "one_cycle_no_momentum": ("adagrad", lambda m, o: m.OneCycleLR(o, 0.2, total_steps=60,
                                                                   cycle_momentum=False)),
    "sequential": ("sgd", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=10), m.ExponentialLR(o, 0.9)],
        milestones=[10])),
    "sequential_three": ("sgd", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.2, total_iters=5), m.MultiplicativeLR(o, lambda e: 0.97),
            m.CosineAnnealingLR(o, T_max=15, eta_min=0.001)], milestones=[5, 25])),
    "chained": ("sgd", lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=2), m.ExponentialLR(o, gamma=0.9)])),
    "chained_step_cosine": ("sgd", lambda m, o: m.ChainedScheduler(
        [m.StepLR(o, step_size=7, gamma=0.5), m.CosineAnnealingLR(o, T_max=9)], optimizer=o)),
    "step": ("sgd", lambda m, o: m.StepLR(o, step_size=3, gamma=0.5)),
    "multistep": ("sgd", lambda m, o: m.MultiStepLR(o, milestones=[4, 9, 9, 15], gamma=0.3)),
    "exponential": ("sgd", lambda m, o: m.ExponentialLR(o, gamma=0.9)),
    "cosine": ("sgd", lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
}
STEPS = 60


def optimizer_for(kind, lib):
    """SGD with momentum, Adam or Adagrad over two groups (lr 0.1 and 0.02), from minicnn
    (lib=None) or torch."""
    if lib is None:
        params = [nn.Parameter(np.zeros(1)) for _ in range(2)]
        library = optim
    else:
        params = [lib.nn.Parameter(lib.zeros(1)) for _ in range(2)]
        library = lib.optim
    groups = [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}]
    if kind == "sgd":
        return library.SGD(groups, lr=0.1, momentum=0.9)
    if kind == "adam":
        return library.Adam(groups, lr=0.1)
    return library.Adagrad(groups, lr=0.1)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def history(case, lib=None, steps=STEPS):
    """(lrs, momenta) after creation and after each of ``steps`` optimizer+scheduler steps."""
    kind, make = CASES[case]
    opt = optimizer_for(kind, lib)
    sched = make(lr_scheduler if lib is None else lib.optim.lr_scheduler, opt)
    lrs, moms = [sched.get_last_lr()], [momenta(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
        moms.append(momenta(opt))
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(lrs, dtype=float), np.array(moms, dtype=float)


@pytest.mark.parametrize("case", CASES)
def test_lr_and_momentum_sequences_match_torch(case):
    torch = pytest.importorskip("torch")
    lrs, moms = history(case)
    expected_lrs, expected_moms = history(case, torch)
    np.testing.assert_allclose(lrs, expected_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(moms, expected_moms, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", ["constant_half", "linear_partial", "polynomial"])
def test_recursive_form_equals_the_closed_form(case):
    lrs, _ = history(case)
    sched = CASES[case][1](lr_scheduler, optimizer_for(CASES[case][0], None))
    for group, base in enumerate((0.1, 0.02)):
        np.testing.assert_allclose(lrs[:, group], [sched.lr_at(e, base) for e in range(STEPS + 1)],
                                   rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASES)
def test_state_dict_round_trip_continues_identically(case, tmp_path):
    """Stop after 23 steps, save optimizer and scheduler (through a file), load both into a
    fresh pair, go on: the same lrs and momenta as the uninterrupted run."""
    import minicnn
    kind, make = CASES[case]
    opt = optimizer_for(kind, None)
    sched = make(lr_scheduler, opt)
    for _ in range(23):
        opt.step()
        sched.step()
    minicnn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.npz")
    checkpoint = minicnn.load(tmp_path / "c.npz")
    fresh_opt = optimizer_for(kind, None)
    fresh = make(lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(checkpoint["opt"])
    fresh.load_state_dict(checkpoint["sched"])
    assert fresh.get_last_lr() == sched.get_last_lr()
    for _ in range(STEPS - 23):
        for o, s in ((opt, sched), (fresh_opt, fresh)):
            o.step()
            s.step()
        assert fresh.get_last_lr() == sched.get_last_lr()
        assert momenta(fresh_opt) == momenta(opt)


def test_lambda_lr_saves_only_callable_objects_attributes_as_torch():
    torch = pytest.importorskip("torch")
    _, make = CASES["lambda_per_group"]
    ours = make(lr_scheduler, optimizer_for("sgd", None))
    theirs = make(torch.optim.lr_scheduler, optimizer_for("sgd", torch))
    assert ours.state_dict()["lr_lambdas"] == theirs.state_dict()["lr_lambdas"] \
        == [None, {"every": 7}]
    state = ours.state_dict()
    state["lr_lambdas"][1] = {"every": 3}
    fresh = make(lr_scheduler, optimizer_for("sgd", None))
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[1].every == 3
    with pytest.raises(ValueError, match="lr_lambdas"):
        fresh.load_state_dict(dict(state, lr_lambdas=[None]))


def _warnings_of(make_and_step):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_and_step()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("case", CASES)
def test_stepping_the_scheduler_first_warns_as_torch(case):
    """Each schedule (each of a chain's) warns once when its first step() comes before any
    optimizer step, as torch's do; CosineAnnealingWarmRestarts never warns (torch's
    neither); nothing warns in the right order."""
    torch = pytest.importorskip("torch")
    kind, make = CASES[case]

    def run(lib, optimizer_first):
        opt = optimizer_for(kind, lib)
        sched = make(lr_scheduler if lib is None else lib.optim.lr_scheduler, opt)
        if optimizer_first:
            opt.step()
        sched.step()
        sched.step()

    warned = _warnings_of(lambda: run(None, optimizer_first=False))
    expected = [m for m in _warnings_of(lambda: run(torch, optimizer_first=False))
                if "lr_scheduler.step()" in m]
    assert warned == expected
    assert set(warned) == (set() if case.startswith("warm_restarts")
                           else {lr_scheduler.ORDER_WARNING})
    assert _warnings_of(lambda: run(None, optimizer_first=True)) == []


def test_the_order_warning_is_a_user_warning_with_torchs_text():
    opt = optimizer_for("sgd", None)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    with pytest.warns(UserWarning) as record:
        sched.step()
    assert str(record[0].message) == lr_scheduler.ORDER_WARNING
    assert str(record[0].message).startswith("Detected call of `lr_scheduler.step()` before "
                                             "`optimizer.step()`.")


PLATEAU_CASES = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.05, cooldown=3),
    dict(patience=1, threshold=0.01, threshold_mode="abs", min_lr=[0.01, 0.005], eps=1e-3),
    dict(mode="max", patience=0, threshold_mode="abs", threshold=0.0, factor=0.7, min_lr=1e-3),
]


def plateau_history(settings, lib=None, metrics=None):
    opt = optimizer_for("sgd", lib)
    module = lr_scheduler if lib is None else lib.optim.lr_scheduler
    sched = module.ReduceLROnPlateau(opt, **settings)
    lrs = [sched.get_last_lr()]
    for metric in metrics:
        opt.step()
        sched.step(metric)
        lrs.append(sched.get_last_lr())
    return np.array(lrs)


def plateau_metrics():
    """A noisy loss that improves, stalls, improves a little, and stalls for good."""
    rng = np.random.default_rng(3)
    trend = np.concatenate([np.linspace(1, 0.5, 15), np.full(15, 0.5), np.linspace(0.5, 0.45, 10),
                            np.full(30, 0.45)])
    return list(trend + 0.01 * rng.standard_normal(trend.size))


@pytest.mark.parametrize("settings", PLATEAU_CASES)
def test_reduce_lr_on_plateau_matches_torch(settings):
    torch = pytest.importorskip("torch")
    metrics = plateau_metrics()
    got = plateau_history(settings, metrics=metrics)
    expected = plateau_history(settings, torch, metrics)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert len(np.unique(got[:, 0])) > 1     # the lr did drop


@pytest.mark.parametrize("settings", PLATEAU_CASES)
def test_reduce_lr_on_plateau_state_dict_round_trip(settings, tmp_path):
    import minicnn
    metrics = plateau_metrics()
    expected = plateau_history(settings, metrics=metrics)
    opt = optimizer_for("sgd", None)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **settings)
    for metric in metrics[:33]:
        sched.step(metric)
    minicnn.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "p.npz")
    checkpoint = minicnn.load(tmp_path / "p.npz")
    opt = optimizer_for("sgd", None)
    sched = lr_scheduler.ReduceLROnPlateau(opt)
    opt.load_state_dict(checkpoint["opt"])
    sched.load_state_dict(checkpoint["sched"])
    lrs = [sched.get_last_lr()]
    for metric in metrics[33:]:
        sched.step(metric)
        lrs.append(sched.get_last_lr())
    np.testing.assert_array_equal(np.array(lrs), expected[33:])


def test_reduce_lr_on_plateau_takes_a_0d_tensor_and_does_not_warn():
    import minicnn
    opt = optimizer_for("sgd", None)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    assert _warnings_of(lambda: [sched.step(minicnn.tensor(1.0)) for _ in range(2)]) == []
    assert sched.get_last_lr() == [0.010000000000000002, 0.002]


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs_match_torch(T_mult):
    """Stepped once per batch with step(epoch + i / iters), as PyTorch's docs show."""
    torch = pytest.importorskip("torch")

    def lrs(lib):
        opt = optimizer_for("sgd", lib)
        module = lr_scheduler if lib is None else lib.optim.lr_scheduler
        sched = module.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=1e-4)
        out = [sched.get_last_lr()]
        for epoch in range(20):
            for i in range(5):
                opt.step()
                sched.step(epoch + i / 5)
                out.append(sched.get_last_lr())
        sched.step()           # and a plain step afterwards
        out.append(sched.get_last_lr())
        return np.array(out)

    np.testing.assert_allclose(lrs(None), lrs(torch), rtol=1e-12, atol=1e-15)


def test_warm_restarts_restart_at_T_0_times_powers_of_T_mult():
    lrs, _ = history("warm_restarts_mult", steps=40)
    restarts = [e for e in range(1, 41) if lrs[e, 0] > lrs[e - 1, 0]]
    assert restarts == [5, 15, 35]           # periods 5, 10, 20
    assert lrs[5, 0] == lrs[0, 0] == 0.1


def test_one_cycle_refuses_steps_past_the_total():
    opt = optimizer_for("sgd", None)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total "
                                         "steps is 3"):
        sched.step()


def test_cycle_momentum_needs_an_optimizer_with_momentum():
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optimizer_for("adagrad", None), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.CyclicLR(optimizer_for("adagrad", None), 0.01, 0.1)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError,
     "LambdaLR: lr_lambda must have one value per parameter group (2), got 1"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), TypeError,
     "MultiplicativeLR: lr_lambda must be a function"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError,
     "ConstantLR: factor must be a number in [0, 1], got 1.5"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=-1), ValueError,
     "ConstantLR: total_iters must be"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError,
     "LinearLR: start_factor must be a number in (0, 1], got 0"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.1), ValueError,
     "LinearLR: end_factor must be a number in [0, 1], got -0.1"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), ValueError,
     "PolynomialLR: total_iters must be a positive int, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "CosineAnnealingWarmRestarts: T_0 must be a positive int, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=1.5), ValueError,
     "CosineAnnealingWarmRestarts: T_mult must be a positive int, got 1.5"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="zigzag"), ValueError,
     "CyclicLR: mode must be one of 'triangular', 'triangular2', 'exp_range', got 'zigzag'"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError,
     "CyclicLR: max_lr must have one value per parameter group (2), got 3"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError,
     "CyclicLR: step_size_up must be a finite number > 0, got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError,
     "OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.2), ValueError,
     "OneCycleLR: pct_start must be a number in [0, 1], got 1.2"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
     ValueError, "OneCycleLR: anneal_strategy must be one of 'cos', 'linear', got 'exp'"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0), ValueError,
     "OneCycleLR: steps_per_epoch must be a positive int, got 0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError,
     "ReduceLROnPlateau: factor must be a number in [0, 1), got 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError,
     "ReduceLROnPlateau: mode must be one of 'min', 'max', got 'up'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "ReduceLROnPlateau: threshold_mode must be one of 'rel', 'abs', got 'x'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError,
     "ReduceLROnPlateau: patience must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     "ReduceLROnPlateau: min_lr must have one value per parameter group (2), got 1"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)] * 2,
                                         milestones=[]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []),
     ValueError, "SequentialLR does not support `ReduceLROnPlateau`"),
    (lambda o: lr_scheduler.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained"),
    (lambda o: lr_scheduler.ChainedScheduler([object()]), TypeError,
     "ChainedScheduler needs a minicnn optimizer, got NoneType"),
    (lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.ExponentialLR(o, 0.9), lr_scheduler.ExponentialLR(optimizer_for("sgd", None),
                                                                        0.9)]),
     ValueError, "ChainedScheduler expects all schedulers to belong to the same optimizer"),
])
def test_new_schedulers_refuse_invalid_arguments(make, error, message):
    with pytest.raises(error) as info:
        make(optimizer_for("sgd", None))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("case, key, value, message", [
    ("cyclic", "max_lrs", [0.1], "CyclicLR: max_lrs must have one value per parameter group"),
    ("cyclic", "mode", "x", "CyclicLR: mode must be one of"),
    ("one_cycle", "phases", [], "OneCycleLR: phases must be a list of phases"),
    ("warm_restarts", "T_i", 0, "CosineAnnealingWarmRestarts: T_i must be a positive int"),
    ("lambda", "lr_lambdas", "x", "LambdaLR: lr_lambdas must be a list of 2 entries"),
    ("sequential", "schedulers", [], "SequentialLR: schedulers must be a list of 2 state dicts"),
    ("chained", "last_lr", [0.1], "ChainedScheduler: last_lr must be a list of 2"),
])
def test_new_schedulers_check_loaded_state(case, key, value, message):
    kind, make = CASES[case]
    sched = make(lr_scheduler, optimizer_for(kind, None))
    before = repr(sched.state_dict())
    with pytest.raises(ValueError) as info:
        sched.load_state_dict(dict(sched.state_dict(), **{key: value}))
    assert str(info.value).startswith(message)
    assert repr(sched.state_dict()) == before


class _WithLastEpoch:
    """A scheduler module whose classes are created with ``last_epoch`` given."""

    def __init__(self, module, last_epoch):
        self.module, self.last_epoch = module, last_epoch

    def __getattr__(self, name):
        cls = getattr(self.module, name)
        return lambda *args, **kwargs: cls(*args, last_epoch=self.last_epoch, **kwargs)


@pytest.mark.parametrize("case", ["exponential", "cosine", "step", "linear", "polynomial"])
def test_resuming_with_last_epoch_matches_torch(case):
    """Created with last_epoch=k (after loading an optimizer that has initial_lr), the first
    lr is the current one, as torch's initial step keeps it (ExponentialLR multiplied it
    by gamma once too often)."""
    torch = pytest.importorskip("torch")
    _, make = CASES[case]

    def lrs(lib):
        opt = optimizer_for("sgd", lib)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"] * 2
        module = lr_scheduler if lib is None else lib.optim.lr_scheduler
        sched = make(_WithLastEpoch(module, 5), opt)
        out = [sched.get_last_lr()]
        for _ in range(12):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return np.array(out)

    np.testing.assert_allclose(lrs(None), lrs(torch), rtol=1e-12, atol=1e-15)

