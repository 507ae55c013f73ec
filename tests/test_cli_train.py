"""``python -m minicnn train`` and ``evaluate`` on tiny subsets of the built-in digits."""

import json

import numpy as np
import pytest

import minicnn
from minicnn.__main__ import main
from minicnn.train import load_checkpoint

try:
    import matplotlib  # noqa: F401
    PLOTS = True
except ImportError:
    PLOTS = False


@pytest.fixture(scope="module", autouse=True)
def data_cache(tmp_path_factory):
    """One small cache of generated digits for the whole module, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINICNN_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def run(argv, capsys):
    """``(exit code, stdout, stderr)`` of the command line, run in this process."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


TRAIN = ["train", "lenet5", "--limit", "64", "--batch-size", "32", "--quiet"]


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """A finished two-epoch run (module-scoped: several tests read it)."""
    out = tmp_path_factory.mktemp("run") / "lenet"
    code = main(TRAIN + ["--epochs", "2", "--out", str(out)])
    assert code == 0
    return out


def test_train_writes_the_run_folder(lenet_run):
    expected = {"checkpoint.npz", "config.json", "history.json", "history.csv"}
    if PLOTS:
        expected |= {"curves.png", "filters.png", "feature_maps.png"}
    assert expected <= {p.name for p in lenet_run.iterdir()}
    history = json.loads((lenet_run / "history.json").read_text())["rows"]
    assert [row["epoch"] for row in history] == [1, 2]
    state = load_checkpoint(lenet_run / "checkpoint.npz")
    meta = state["meta"]
    assert meta["model"] == "lenet5" and meta["model_args"] == {"num_classes": 10}
    assert list(meta["input_shape"]) == [1, 32, 32] and meta["data"] == "builtin"
    assert meta["config"]["optimizer"] == "sgd" and meta["config"]["lr"] == 0.05
    assert state["epoch"] == 2 and state["scheduler"]["last_epoch"] == 2


def test_train_prints_a_line_per_epoch_when_not_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("minicnn.train.progress.LOG_SECONDS", float("inf"))
    code, out, err = run(TRAIN + ["--epochs", "1", "--limit", "32", "--out",
                                  str(tmp_path / "r")], capsys)
    assert code == 0, err
    assert "training lenet5 (61,706 parameters) on builtin: 32 training images" in out
    assert "epoch 1/1 | train loss" in out and "img/s" in out
    assert "done in" in out and "checkpoint.npz" in out
    assert "\r" not in out                                     # no bar in a log


def test_default_run_folder_is_under_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(TRAIN + ["--epochs", "1", "--limit", "16"], capsys)
    assert code == 0, err
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("lenet5-") and (folder / "checkpoint.npz").is_file()


def test_evaluate_matches_the_last_validation_and_writes_the_confusion_matrix(lenet_run,
                                                                             capsys):
    code, out, err = run(["evaluate", str(lenet_run), "--limit", "64", "--quiet"], capsys)
    assert code == 0, err
    report = json.loads((lenet_run / "evaluation.json").read_text())
    last = json.loads((lenet_run / "history.json").read_text())["rows"][-1]
    assert report["images"] == 64
    assert report["loss"] == pytest.approx(last["val_loss"], rel=1e-6)
    assert report["top1"] == pytest.approx(last["val_top1"])
    assert np.asarray(report["confusion_matrix"]).sum() == 64
    assert f"top-1 {100 * report['top1']:.2f}%" in out
    assert (lenet_run / "confusion_matrix.png").is_file() == PLOTS


def test_evaluate_with_tta_uses_five_crops_for_digits(lenet_run, tmp_path, capsys):
    code, out, err = run(["evaluate", str(lenet_run / "checkpoint.npz"), "--tta", "--limit",
                          "20", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "fivecrop" in out and "no mirror images" in out
    assert json.loads((tmp_path / "evaluation.json").read_text())["tta"] == "fivecrop"


def test_resnet20_takes_the_grey_digits_as_three_channels(tmp_path, capsys):
    code, out, err = run(["train", "resnet20", "--limit", "8", "--epochs", "1",
                          "--batch-size", "4", "--quiet", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    meta = load_checkpoint(tmp_path / "checkpoint.npz")["meta"]
    assert list(meta["input_shape"]) == [3, 32, 32]
    assert len(meta["normalize"][0]) == 3                  # the grey channel, three times
    assert "input 3x32x32" in out


def test_an_interrupted_run_resumes_to_the_uninterrupted_weights(tmp_path, capsys,
                                                                 monkeypatch):
    args = TRAIN + ["--epochs", "2", "--limit", "48", "--augment", "--seed", "3"]
    assert run(args + ["--out", str(tmp_path / "whole")], capsys)[0] == 0

    from minicnn.train import command
    write = command._write_outputs

    def interrupt_after_epoch_1(run_dir, history, title):
        write(run_dir, history, title)
        if len(history) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(command, "_write_outputs", interrupt_after_epoch_1)
    code, out, err = run(args + ["--out", str(tmp_path / "parts")], capsys)
    assert code == 130 and "--resume" in err
    monkeypatch.setattr(command, "_write_outputs", write)
    minicnn.manual_seed(1234)                              # as a new process would
    code, out, err = run(["train", "lenet5", "--quiet", "--out", str(tmp_path / "parts"),
                          "--resume"], capsys)
    assert code == 0, err
    assert "resumed from" in out and "epoch 2/2" in out and "epoch 1/2" not in out
    whole = load_checkpoint(tmp_path / "whole" / "checkpoint.npz")["model"]
    resumed = load_checkpoint(tmp_path / "parts" / "checkpoint.npz")["model"]
    for name in whole:
        np.testing.assert_array_equal(resumed[name], whole[name], err_msg=name)


@pytest.mark.parametrize("argv, argument", [
    (["train", "nonet"], "argument MODEL: unknown model 'nonet'"),
    (["train", "lenet5", "--lr", "0"], "argument --lr: expected a number > 0"),
    (["train", "lenet5", "--epochs", "0"], "argument --epochs: expected an int >= 1"),
    (["train", "lenet5", "--batch-size", "x"], "argument --batch-size: expected an int"),
    (["train", "lenet5", "--momentum", "1.5"], "argument --momentum: expected a number"),
    (["train", "lenet5", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice"),
    (["train", "lenet5", "--data", "imagenet"], "argument --data: expected builtin, digits"),
    (["train", "lenet5", "--data", "mnist"], "argument --data: mnist needs the folder"),
    (["train", "lenet5", "--data", "mnist:{tmp}"], "argument --data: MNIST: missing"),
    (["train", "lenet5", "--optimizer", "adam", "--momentum", "0.9"],
     "argument --momentum: adam has no momentum"),
    (["train", "lenet5", "--resume"], "argument --resume: needs --out DIR"),
    (["train", "lenet5", "--resume", "--out", "{tmp}"], "argument --out: no checkpoint"),
    (["evaluate", "{tmp}/none.npz"], "argument CHECKPOINT: no such file"),
    (["evaluate", "{tmp}/weights.npz"], "argument CHECKPOINT: "),
    (["train", "lenet5", "--out", "{tmp}/weights.npz"],
     "argument --out: {tmp}/weights.npz exists and is not a folder"),
    (["train", "lenet5", "--limit", "8", "--out", "{tmp}/weights.npz/run"],
     "argument --out: cannot write the run folder"),
    (["evaluate", "{tmp}/none.npz", "--out", "{tmp}/weights.npz"],
     "argument --out: {tmp}/weights.npz exists and is not a folder"),
])
def test_bad_arguments_give_one_line_naming_the_argument(argv, argument, tmp_path, capsys):
    minicnn.save({"w": np.zeros(3)}, tmp_path / "weights.npz")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and argument.replace("{tmp}", str(tmp_path)) in lines[0], err
    assert "Traceback" not in err


def test_resume_refuses_other_settings_and_a_new_run_refuses_a_used_folder(lenet_run, capsys):
    code, _, err = run(["train", "lenet5", "--out", str(lenet_run), "--resume", "--lr", "0.1"],
                       capsys)
    assert code == 2 and "argument --lr: the run being resumed was started with 0.05" in err
    code, _, err = run(["train", "resnet20", "--out", str(lenet_run), "--resume"], capsys)
    assert code == 2 and "argument MODEL: the run in" in err
    code, _, err = run(["train", "lenet5", "--out", str(lenet_run)], capsys)
    assert code == 2 and "already holds a run's checkpoint" in err
    code, out, err = run(["train", "lenet5", "--out", str(lenet_run), "--resume", "--quiet"],
                         capsys)
    assert code == 0 and "resumed from" in out
    assert "epoch 1/2 |" not in out and "epoch 2/2 |" not in out      # nothing left to do


def _edited_checkpoint(lenet_run, folder, edit):
    """A copy of the run's checkpoint in ``folder``, changed by ``edit(state)``."""
    state = load_checkpoint(lenet_run / "checkpoint.npz")
    edit(state)
    folder.mkdir(exist_ok=True)
    minicnn.save(state, folder / "checkpoint.npz")
    return folder / "checkpoint.npz"


def _set_meta(**entries):
    return lambda state: state["meta"].update(entries)


def _one_error_line(code, err, start):
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(start), err
    return err


# What an edited (or damaged) checkpoint may hold; each was a traceback (or a 31 GB
# allocation) from evaluate.
EDITED_FOR_EVALUATE = [
    (_set_meta(model_args={"num_classes": 10, "foo": 1}),
     "meta['model_args'] do not fit lenet5: lenet5() got an unexpected keyword argument 'foo'"),
    (_set_meta(model_args={"num_classes": 10**8}),
     "meta['model_args']['num_classes'] must be an int in [1, 100,000] (MAX_NUM_CLASSES), got "
     "100000000"),
    (_set_meta(model_args={"num_classes": "ten"}), "must be an int in [1, 100,000]"),
    (_set_meta(model_args=[10]), "meta['model_args'] must be a dict"),
    (_set_meta(model=3), "meta['model'] must be a model's name, got 3"),
    (_set_meta(model="nonet"), "unknown model 'nonet'"),
    (_set_meta(input_shape=[1, 10**5, 10**5]), "meta['input_shape'] [1, 100000, 100000]: the "
     "height and width must lie in [1, 1024] (MAX_INPUT_SIDE)"),
    (_set_meta(input_shape=[3, 32, 32]), "has 3 channels; lenet5 takes 1"),
    (_set_meta(input_shape=[1, 4, 4]), "the model cannot take meta['input_shape'] [1, 4, 4]"),
    (_set_meta(input_shape="1x32x32"), "meta['input_shape'] must be three ints"),
    (_set_meta(normalize=[[0.1], [0.0]]), "meta['normalize'] must be [mean, std] with 1 finite "
     "number(s) each and std > 0, got [[0.1], [0.0]]"),
    (_set_meta(normalize=[["a"], ["b"]]), "meta['normalize'] must be [mean, std]"),
    (_set_meta(normalize=[[float("nan")], [1.0]]), "meta['normalize'] must be [mean, std]"),
    (_set_meta(classes=list("abcde")), "the model has 10 outputs but meta['classes'] names 5"),
    (_set_meta(classes=[1, 2]), "meta['classes'] must be a list of class names"),
    (_set_meta(data="imagenet"), "meta['data']: expected builtin, digits"),
    (lambda state: state["model"].update({"classifier.4.weight": np.zeros((3, 3))}),
     "size mismatch for classifier.4.weight"),
]


@pytest.mark.parametrize("edit, message", EDITED_FOR_EVALUATE)
def test_evaluate_checks_what_an_edited_checkpoint_records(edit, message, lenet_run, tmp_path,
                                                           capsys):
    path = _edited_checkpoint(lenet_run, tmp_path / "edited", edit)
    code, out, err = run(["evaluate", str(path), "--limit", "8", "--quiet"], capsys)
    _one_error_line(code, err, f"python -m minicnn evaluate: error: argument CHECKPOINT: {path}: ")
    assert message in err


def test_evaluate_refuses_a_bare_state_dict_and_a_damaged_file(lenet_run, tmp_path, capsys):
    minicnn.save(load_checkpoint(lenet_run / "checkpoint.npz")["model"], tmp_path / "bare.npz")
    code, _, err = run(["evaluate", str(tmp_path / "bare.npz")], capsys)
    _one_error_line(code, err, "python -m minicnn evaluate: error: argument CHECKPOINT: ")
    assert "is not a minicnn training checkpoint" in err
    (tmp_path / "damaged.npz").write_bytes((lenet_run / "checkpoint.npz").read_bytes()[:999])
    code, _, err = run(["evaluate", str(tmp_path / "damaged.npz")], capsys)
    _one_error_line(code, err, "python -m minicnn evaluate: error: argument CHECKPOINT: ")


def test_evaluate_warns_in_one_line_when_the_weights_hold_nan(lenet_run, tmp_path, capsys):
    def poison(state):
        for value in state["model"].values():
            value[...] = np.nan

    path = _edited_checkpoint(lenet_run, tmp_path / "nan", poison)
    code, out, err = run(["evaluate", str(path), "--limit", "8", "--quiet"], capsys)
    assert code == 0, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m minicnn evaluate: warning: the checkpoint's weights hold "
                          "NaN or infinity (features.0.weight, features.0.bias, "
                          "features.3.weight and 7 more)")
    assert "loss nan" in out


def test_evaluate_widens_float16_weights_to_float32(lenet_run, tmp_path, capsys):
    def to_float16(state):
        state["model"] = {k: v.astype(np.float16) for k, v in state["model"].items()}

    path = _edited_checkpoint(lenet_run, tmp_path / "half", to_float16)
    code, out, err = run(["evaluate", str(path), "--limit", "8", "--quiet"], capsys)
    assert code == 0 and err == "", err
    assert "top-1" in out


def _damage_history(state):
    state["history"]["rows"][0]["epoch"] = "one"


def _damage_rng(state):
    state["rng"] = {"bit_generator": "PCG64", "state": 3}


def _negative_lr(state):
    state["optimizer"]["param_groups"][0]["lr"] = -5


EDITED_FOR_RESUME = [
    (lambda state: state["meta"].pop("config"), "it records no run settings"),
    (lambda state: state["meta"]["config"].pop("lr"), "its meta['config'] lacks the settings "
     "['lr']"),
    (lambda state: state["meta"]["config"].update(lr="x"),
     "meta['config']['lr']: expected a number > 0, got 'x'"),
    (lambda state: state["meta"]["config"].update(epochs=2.5),
     "meta['config']['epochs']: expected an int >= 1, got '2.5'"),
    (lambda state: state["meta"]["config"].update(optimizer="lbfgs"),
     "meta['config']['optimizer'] must be one of sgd, rmsprop, adam, got 'lbfgs'"),
    (lambda state: state["meta"]["config"].update(data="mnist"),
     "meta['config']['data']: mnist needs the folder"),
    (_set_meta(normalize=[[0.1], [0.0]]), "meta['normalize'] must be [mean, std]"),
    (_damage_rng, "the checkpoint's 'rng' entry is not a generator state"),
    (_negative_lr, "group 0: SGD: lr must be a finite number >= 0, got -5"),
    (lambda state: state["model"].update({"classifier.4.weight": np.zeros((3, 3))}),
     "size mismatch for classifier.4.weight"),
    (_damage_history, "History: epoch must be a number, got 'one'"),
    (lambda state: state.update(history={"rows": [{"epoch": 1}]}), "a History row needs the keys"),
]


@pytest.mark.parametrize("edit, message", EDITED_FOR_RESUME)
def test_resume_checks_what_an_edited_checkpoint_records(edit, message, lenet_run, tmp_path,
                                                         capsys):
    path = _edited_checkpoint(lenet_run, tmp_path / "run", edit)
    code, out, err = run(["train", "lenet5", "--quiet", "--out", str(path.parent), "--resume"],
                         capsys)
    _one_error_line(code, err, f"python -m minicnn train: error: argument --out: cannot resume "
                               f"from {path}: ")
    assert message in err


def test_resume_refuses_an_unreadable_or_bare_checkpoint(lenet_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    minicnn.save(load_checkpoint(lenet_run / "checkpoint.npz")["model"],
                 run_dir / "checkpoint.npz")
    code, _, err = run(["train", "lenet5", "--out", str(run_dir), "--resume"], capsys)
    _one_error_line(code, err, "python -m minicnn train: error: argument --out: cannot resume")
    assert "is not a minicnn training checkpoint" in err
    (run_dir / "checkpoint.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    code, _, err = run(["train", "lenet5", "--out", str(run_dir), "--resume"], capsys)
    _one_error_line(code, err, "python -m minicnn train: error: argument --out: cannot resume")


def test_an_interruption_before_the_first_checkpoint_does_not_suggest_resume(tmp_path, capsys,
                                                                            monkeypatch):
    from minicnn.train import command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_write_outputs", interrupted)
    monkeypatch.setattr("minicnn.train.trainer.save_checkpoint", interrupted)
    code, _, err = run(TRAIN + ["--epochs", "1", "--limit", "16", "--out", str(tmp_path / "r")],
                       capsys)
    assert code == 130
    assert err == "python -m minicnn train: interrupted before the first epoch's checkpoint\n"
