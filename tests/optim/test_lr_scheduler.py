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
    sched.step()
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
    ("last_epoch", -3, "CosineAnnealingLR: last_epoch must be an int >= 0, got -3"),
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
