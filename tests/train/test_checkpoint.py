"""Training checkpoints (minicnn/train/checkpoint.py): what load_checkpoint refuses."""

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim
from minicnn.train import load_checkpoint, save_checkpoint


@pytest.fixture
def checkpoint(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epoch=2,
                    meta={"model": "linear"})
    return path


def test_round_trip(checkpoint):
    state = load_checkpoint(checkpoint)
    assert state["epoch"] == 2 and state["meta"] == {"model": "linear"}
    assert sorted(state["model"]) == ["bias", "weight"]


@pytest.mark.parametrize("edit", [
    lambda state: state.pop("rng"),
    lambda state: state.pop("model"),
    lambda state: state.update(model=[1, 2]),
    lambda state: state.update(epoch="two"),
    lambda state: state.update(optimizer=3),
    lambda state: state.update(loader_rngs=None),
])
def test_entries_missing_or_of_the_wrong_kind(checkpoint, edit):
    """Such a file was returned as is, and restoring it raised KeyError or TypeError."""
    state = minicnn.load(checkpoint)
    edit(state)
    minicnn.save(state, checkpoint)
    with pytest.raises(ValueError, match=f"{checkpoint}: the training checkpoint's entries"):
        load_checkpoint(checkpoint)


def test_damaged_file_is_a_value_error_naming_it(checkpoint):
    data = checkpoint.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 50)):
        checkpoint.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=str(checkpoint)):
            load_checkpoint(checkpoint)
    np.save(checkpoint.with_suffix(".npy"), np.ones(2))
    with pytest.raises(ValueError, match="numpy.load"):
        load_checkpoint(checkpoint.with_suffix(".npy"))


def _lenet_state(**meta):
    model = minicnn.models.lenet5()
    return {"model": model.state_dict(), "meta": {"model": "lenet5", **meta}}


@pytest.mark.parametrize("meta, message", [
    (dict(model_args={"num_classes": 10**8}), "meta['model_args']['num_classes'] must be an int "
     "in [1, 100,000] (MAX_NUM_CLASSES), got 100000000"),
    (dict(model_args={"num_classes": 2.5}), "must be an int in [1, 100,000]"),
    (dict(model_args={"width": 2}), "meta['model_args'] do not fit lenet5: lenet5() got an "
     "unexpected keyword argument 'width'"),
    (dict(model_args=("num_classes", 10)), "meta['model_args'] must be a dict"),
])
def test_load_model_checks_the_constructor_arguments_before_building(meta, message, monkeypatch):
    from minicnn import models
    from minicnn.train import load_model

    built = []
    real = models.lenet5
    monkeypatch.setattr(models, "lenet5", lambda **kwargs: built.append(kwargs) or real(**kwargs))
    with pytest.raises(ValueError) as info:
        load_model(_lenet_state(**meta))
    assert message in str(info.value)
    assert all(kwargs.get("num_classes", 10) <= 100_000 for kwargs in built)


def test_load_model_computes_float16_weights_in_float32():
    from minicnn.train import load_model

    state = _lenet_state(model_args={"num_classes": 10})
    half = {k: v.astype(np.float16) for k, v in state["model"].items()}
    model = load_model(dict(state, model=half))
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    np.testing.assert_array_equal(model.state_dict()["features.0.weight"],
                                  half["features.0.weight"].astype(np.float32))


def test_nan_weights_give_a_warning_naming_them(checkpoint):
    from minicnn.train import load_model, restore_checkpoint

    state = _lenet_state(model_args={"num_classes": 10})
    state["model"]["classifier.4.bias"][3] = np.inf
    with pytest.warns(UserWarning, match=r"weights hold NaN or infinity \(classifier.4.bias\)"):
        load_model(state)
    saved = load_checkpoint(checkpoint)
    saved["model"]["weight"][0, 0] = np.nan
    model = nn.Linear(3, 2)
    with pytest.warns(UserWarning, match=r"NaN or infinity \(weight\)"):
        restore_checkpoint(saved, model)


def test_restore_checkpoint_names_a_damaged_generator_state(checkpoint):
    from minicnn.train import restore_checkpoint

    state = load_checkpoint(checkpoint)
    state["rng"] = {"bit_generator": "MT19937", "state": {}}
    with pytest.raises(ValueError, match="the checkpoint's 'rng' entry is not a generator state"):
        restore_checkpoint(state, nn.Linear(3, 2))
