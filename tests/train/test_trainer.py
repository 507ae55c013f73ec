"""fit: learning, the history, auxiliary heads, checkpoints and exact resumption."""

import io
import os

import numpy as np
import pytest

import minicnn
from minicnn import functional as F, nn, optim
from minicnn.data import DataLoader, transforms as T
from minicnn.optim.lr_scheduler import CosineAnnealingLR, StepLR
from minicnn.train import CHECKPOINT_NAME, History, fit, load_checkpoint
from minicnn.train import trainer as trainer_module

from ._toy import AuxNet, tiny_cnn, toy_arrays, toy_dataset


def _loaders(train_size=48, val_size=24, batch_size=8, transform=None, seed=None):
    train = DataLoader(toy_dataset(train_size, 0, transform), batch_size, shuffle=True,
                       seed=seed)
    val = DataLoader(toy_dataset(val_size, 1), 12)
    return train, val


@pytest.fixture
def epoch_lines_only(monkeypatch):
    """No lines within an epoch, however slow the machine (the first epoch compiles)."""
    monkeypatch.setattr("minicnn.train.progress.LOG_SECONDS", float("inf"))


def test_fit_learns_a_toy_problem_and_returns_the_history(capsys, epoch_lines_only):
    minicnn.manual_seed(0)
    model = tiny_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train, val = _loaders(train_size=96)
    history = fit(model, train, val, optimizer, epochs=4, progress=False)

    assert isinstance(history, History) and len(history) == 4
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history["val_top1"][-1] >= 0.9
    assert all(t5 >= t1 for t1, t5 in zip(history["val_top1"], history["val_top5"]))
    assert history["val_top5"][-1] == 1.0                      # 3 classes: top-5 is everything
    assert history["lr"] == [0.1] * 4
    assert all(row["seconds"] > 0 and row["images_per_sec"] > 0 for row in history.rows)
    lines = capsys.readouterr().out.strip().splitlines()   # not a terminal: a line per epoch
    assert len(lines) == 4 and lines[0].startswith("epoch 1/4 | train loss")
    assert "val loss" in lines[0] and "img/s" in lines[0]


def test_evaluation_restores_the_mode_and_lr_follows_the_scheduler():
    minicnn.manual_seed(0)
    model = tiny_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    train, val = _loaders()
    history = fit(model, train, val, optimizer, 3, scheduler=scheduler, verbose=False)
    assert history["lr"] == [0.1, 0.05, 0.025]
    assert optimizer.param_groups[0]["lr"] == 0.0125
    assert model.training           # evaluate puts each module back into its mode


def test_without_val_loader_the_val_columns_are_none():
    minicnn.manual_seed(0)
    model = tiny_cnn()
    history = fit(model, _loaders()[0], None, optim.SGD(model.parameters(), lr=0.1), 1,
                  verbose=False)
    assert history.last["val_loss"] is None and history.last["val_top1"] is None


def test_verbose_false_prints_nothing(capsys):
    minicnn.manual_seed(0)
    model = tiny_cnn()
    fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1, verbose=False)
    assert capsys.readouterr().out == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_progress_bar_with_loss_accuracy_and_images_per_second(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    monkeypatch.setattr("minicnn.train.progress._REFRESH_SECONDS", 0.0)
    minicnn.manual_seed(0)
    model = tiny_cnn()
    fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1)
    out = terminal.getvalue()
    assert "epoch 1/1" in out and "loss=" in out and "acc=" in out and "img/s=" in out
    assert "\r" in out                                         # a bar, redrawn in place
    assert "epoch 1/1 | train loss" in out                     # and the epoch's line


def test_progress_false_in_a_terminal_prints_lines_only(monkeypatch, epoch_lines_only):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    minicnn.manual_seed(0)
    model = tiny_cnn()
    fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1, progress=False)
    assert "\r" not in terminal.getvalue() and "epoch 1/1 | train loss" in terminal.getvalue()


def test_a_slow_epoch_without_a_bar_logs_lines_as_it_goes(capsys, monkeypatch):
    monkeypatch.setattr("minicnn.train.progress.LOG_SECONDS", 0.0)
    minicnn.manual_seed(0)
    model = tiny_cnn()
    fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1, progress=False)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" | ")[0] for line in lines[:6]] == [
        f"epoch 1/1: batch {k}/6" for k in range(1, 7)]
    assert "loss " in lines[0] and "acc " in lines[0] and "img/s" in lines[0]
    assert lines[-1].startswith("epoch 1/1 | train loss") and len(lines) == 7


def test_inputs_are_cast_to_the_model_dtype_so_float64_training_works():
    minicnn.manual_seed(0)
    model = tiny_cnn().double()
    history = fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1, verbose=False)
    assert model[0].weight.dtype == np.float64 and np.isfinite(history.last["train_loss"])


def test_a_head_trains_on_feature_vectors():
    """fit does not assume images: a linear head on (N, D) features, as on cached features."""
    minicnn.manual_seed(0)
    images, labels = toy_arrays(60)
    features = images.reshape(60, -1)                          # (N, 1, 8, 8) -> (N, 64)
    from minicnn.data import ArrayDataset
    head = nn.Linear(64, 3)
    loader = DataLoader(ArrayDataset(features, labels), 10, shuffle=True)
    history = fit(head, loader, loader, optim.SGD(head.parameters(), lr=0.05), 3,
                  verbose=False)
    assert history.last["val_top1"] > 0.9


def test_eval_modules_stay_in_eval_mode_while_training():
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(72, 3))
    model[1].requires_grad_(False)
    before = model[1].running_mean.copy()
    seen = []
    model[1].register_forward_hook(lambda m, i, o: seen.append(m.training))
    fit(model, _loaders()[0], None, optim.SGD(model.parameters(), lr=0.1), 1, verbose=False,
        eval_modules=["1"])
    assert seen and not any(seen)
    np.testing.assert_array_equal(model[1].running_mean, before)   # statistics did not move
    with pytest.raises(ValueError, match="eval_modules: the model has no submodule named 'x'"):
        fit(model, _loaders()[0], None, optim.SGD(model.parameters(), lr=0.1), 1,
            verbose=False, eval_modules=["x"])


def test_a_diverging_loss_stops_with_a_clear_error():
    minicnn.manual_seed(0)
    model = tiny_cnn()
    model[0].weight.data[...] = np.nan
    with pytest.raises(FloatingPointError, match="training loss is nan at epoch 1, batch 1"):
        fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1, verbose=False)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=-1), "epochs must be a non-negative int"),
    (dict(epochs=1.5), "epochs must be a non-negative int"),
    (dict(epochs=1, aux_weight=-0.1), "aux_weight must be >= 0"),
    (dict(epochs=1, resume=True), "resume=True needs the checkpoint_dir"),
])
def test_bad_arguments(kwargs, match):
    model = tiny_cnn()
    with pytest.raises(ValueError, match=match):
        fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), **kwargs)


# ----------------------------------------------------------------------------- aux heads


def _one_step(aux_weight, label_smoothing=0.0):
    """Parameters after one fit step (one batch, plain SGD lr 1) on AuxNet, and the batch."""
    minicnn.manual_seed(3)
    model = AuxNet().double()
    initial = model.state_dict()
    images, labels = toy_arrays(8)
    from minicnn.data import ArrayDataset
    loader = DataLoader(ArrayDataset(images, labels), 8)
    history = fit(model, loader, None, optim.SGD(model.parameters(), lr=1.0), 1,
                  aux_weight=aux_weight, label_smoothing=label_smoothing, verbose=False)
    return model, initial, images, labels, history


@pytest.mark.parametrize("aux_weight, label_smoothing", [(0.3, 0.0), (0.7, 0.1), (0.0, 0.0)])
def test_auxiliary_losses_are_added_with_aux_weight(aux_weight, label_smoothing):
    trained, initial, images, labels, history = _one_step(aux_weight, label_smoothing)
    reference = AuxNet().double()
    reference.load_state_dict(initial)
    reference.train()
    logits, aux = reference(minicnn.Tensor(images.astype(np.float64)))
    main = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    loss = main + aux_weight * F.cross_entropy(aux, labels, label_smoothing=label_smoothing)
    loss.backward()
    for (name, p), (_, q) in zip(reference.named_parameters(), trained.named_parameters()):
        np.testing.assert_allclose(q.data, p.data - p.grad, rtol=0, atol=1e-12, err_msg=name)
    # The reported loss is the main head's alone, comparable with the validation loss.
    assert history.last["train_loss"] == pytest.approx(main.item(), abs=1e-12)
    if aux_weight == 0:
        np.testing.assert_array_equal(trained.aux.weight.data, initial["aux.weight"])


# ----------------------------------------------------------------------------- checkpoints


def test_a_checkpoint_is_written_after_every_epoch(tmp_path):
    minicnn.manual_seed(0)
    model = tiny_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    epochs_on_disk = []
    fit(model, *_loaders(), optimizer, 3, checkpoint_dir=tmp_path, verbose=False,
        meta={"model": "tiny", "note": [1, 2]},
        callback=lambda h: epochs_on_disk.append(
            load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"]))
    assert epochs_on_disk == [1, 2, 3]
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]           # no temporary files left
    state = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert state["meta"] == {"model": "tiny", "note": [1, 2]}
    assert len(state["history"]["rows"]) == 3
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(state["model"][name], value)
    assert state["optimizer"]["state"][0]["momentum_buffer"].shape == model[0].weight.shape


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    minicnn.manual_seed(0)
    model = tiny_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    fit(model, *_loaders(), optimizer, 1, checkpoint_dir=tmp_path, verbose=False)
    good = load_checkpoint(tmp_path / CHECKPOINT_NAME)

    def broken_write(file, arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr("minicnn.serialization._write_archive", broken_write)
    with pytest.raises(OSError, match="disk full"):
        fit(model, *_loaders(), optimizer, 2, checkpoint_dir=tmp_path, verbose=False)
    after = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert after["epoch"] == 1
    for name in good["model"]:
        np.testing.assert_array_equal(after["model"][name], good["model"][name])
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]


def _resumable_run(checkpoint_dir, epochs, loader_seed, resume=False, init_seed=0):
    """A float64 run with everything random: init, dropout, shuffling, random crops."""
    minicnn.manual_seed(init_seed)
    model = tiny_cnn(dropout=0.3).double()
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    scheduler = CosineAnnealingLR(optimizer, T_max=3)
    train, val = _loaders(transform=T.RandomCrop(8, padding=1), seed=loader_seed)
    history = fit(model, train, val, optimizer, epochs, scheduler=scheduler,
                  checkpoint_dir=checkpoint_dir, resume=resume, verbose=False)
    return model, history


@pytest.mark.parametrize("loader_seed", [None, 5], ids=["minicnn-rng", "own-generator"])
def test_resuming_gives_the_same_weights_as_the_uninterrupted_run(tmp_path, loader_seed):
    whole, whole_history = _resumable_run(tmp_path / "whole", 3, loader_seed)
    _resumable_run(tmp_path / "parts", 1, loader_seed)
    # A new process would start from other random states: scramble them before resuming.
    minicnn.manual_seed(999)
    resumed, resumed_history = _resumable_run(tmp_path / "parts", 3, loader_seed, resume=True,
                                              init_seed=12345)
    for (name, p), (_, q) in zip(whole.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(q.data, p.data, err_msg=name)
    for column in ("train_loss", "train_top1", "val_loss", "val_top1", "lr"):
        assert resumed_history[column] == whole_history[column], column
    # ...and the randomness really mattered: a different seed ends elsewhere.
    other, _ = _resumable_run(tmp_path / "other", 3, loader_seed, init_seed=1)
    assert not np.array_equal(other[0].weight.data, whole[0].weight.data)


def test_resuming_a_finished_run_trains_nothing(tmp_path):
    model, history = _resumable_run(tmp_path, 2, None)
    weights = model.state_dict()
    again, again_history = _resumable_run(tmp_path, 2, None, resume=True, init_seed=7)
    assert len(again_history) == 2
    for name, value in weights.items():
        np.testing.assert_array_equal(again.state_dict()[name], value)


def test_resume_without_a_checkpoint_names_the_path(tmp_path):
    model = tiny_cnn()
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*checkpoint.npz"):
        fit(model, *_loaders(), optim.SGD(model.parameters(), lr=0.1), 1,
            checkpoint_dir=tmp_path, resume=True)


def test_history_round_trips_through_json_csv_and_dict(tmp_path):
    rows = [dict(epoch=1, train_loss=1.5, train_top1=0.5, val_loss=None, val_top1=None,
                 val_top5=None, lr=0.1, seconds=2.0, images_per_sec=100.0)]
    history = History(rows)
    assert History.from_dict(history.to_dict()).rows == rows
    history.save_json(tmp_path / "h.json")
    history.save_csv(tmp_path / "h.csv")
    import json
    assert json.loads((tmp_path / "h.json").read_text())["rows"] == rows
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == ",".join(History.COLUMNS)
    with pytest.raises(KeyError, match="no column 'accuracy'"):
        history["accuracy"]
    with pytest.raises(ValueError, match="missing"):
        History([{"epoch": 1}])
    assert trainer_module.CHECKPOINT_NAME == CHECKPOINT_NAME


def test_history_refuses_rows_that_are_not_numbers():
    from minicnn.train import History

    row = {"epoch": 1, "train_loss": 0.5, "train_top1": 0.9, "val_loss": None, "val_top1": None,
           "val_top5": None, "lr": 0.1, "seconds": 1.0, "images_per_sec": 10.0}
    assert History.from_dict({"rows": [row]}).last == row
    with pytest.raises(ValueError, match="History: train_loss must be a number, got 'x'"):
        History.from_dict({"rows": [dict(row, train_loss="x")]})
    with pytest.raises(ValueError, match="History: lr must be a number, got None"):
        History([dict(row, lr=None)])
    with pytest.raises(ValueError, match="a History dict holds a list of 'rows'"):
        History.from_dict({"rows": 3})
    with pytest.raises(ValueError, match="a History row is a dict"):
        History.from_dict({"rows": [[1, 2]]})
