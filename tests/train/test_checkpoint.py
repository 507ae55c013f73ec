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
