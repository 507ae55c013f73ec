"""Plots: each writes a PNG (matplotlib is optional: skipped without it)."""

import sys

import numpy as np
import pytest

import minicnn
from minicnn.train import History, confusion_matrix

from ._toy import tiny_cnn

pytest.importorskip("matplotlib")
from minicnn.train import plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _history(epochs=3, with_val=True):
    return History([dict(epoch=e, train_loss=1.0 / e, train_top1=0.5 + 0.1 * e,
                         val_loss=1.2 / e if with_val else None,
                         val_top1=0.45 + 0.1 * e if with_val else None,
                         val_top5=0.9 if with_val else None, lr=0.1, seconds=1.0,
                         images_per_sec=100.0) for e in range(1, epochs + 1)])


def _is_png(path):
    return path.read_bytes()[:8] == PNG and path.stat().st_size > 1000


@pytest.mark.parametrize("epochs, with_val", [(3, True), (1, True), (2, False)])
def test_history_curves(tmp_path, epochs, with_val):
    path = plots.plot_history(_history(epochs, with_val), tmp_path / "curves.png", title="t")
    assert _is_png(tmp_path / "curves.png") and path == tmp_path / "curves.png"


@pytest.mark.parametrize("in_channels", [1, 3, 4])
def test_filters_of_a_model_or_a_weight(tmp_path, in_channels):
    minicnn.manual_seed(0)
    weight = np.random.default_rng(0).normal(size=(10, in_channels, 5, 5))
    plots.plot_filters(weight, tmp_path / "w.png")
    assert _is_png(tmp_path / "w.png")
    plots.plot_filters(tiny_cnn(), tmp_path / "model.png")
    assert _is_png(tmp_path / "model.png")
    with pytest.raises(ValueError, match=r"shape \(C_out, C_in, KH, KW\)"):
        plots.plot_filters(np.zeros((3, 3)), tmp_path / "bad.png")


def test_feature_maps_of_one_image(tmp_path):
    minicnn.manual_seed(0)
    model = tiny_cnn()
    image = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    plots.plot_feature_maps(model, image, tmp_path / "maps.png")
    assert _is_png(tmp_path / "maps.png") and model.training      # mode restored
    plots.plot_feature_maps(model, image, tmp_path / "relu.png", layers=["0", "1"])
    assert _is_png(tmp_path / "relu.png")
    with pytest.raises(ValueError, match="no submodule named 'nope'"):
        plots.plot_feature_maps(model, image, tmp_path / "x.png", layers=["nope"])
    with pytest.raises(ValueError, match=r"image must have shape \(C, H, W\)"):
        plots.plot_feature_maps(model, image[0], tmp_path / "x.png")


def test_confusion_matrix_plot(tmp_path):
    matrix = confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]), 3)
    plots.plot_confusion_matrix(matrix, tmp_path / "c.png", class_names=["cat", "dog", "emu"])
    assert _is_png(tmp_path / "c.png")
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        plots.plot_confusion_matrix(matrix, tmp_path / "c.png", class_names=["a", "b"])


def test_missing_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert not plots.matplotlib_available()
    with pytest.raises(ImportError, match=r"minicnn\[plots\]"):
        plots.plot_history(_history(), tmp_path / "curves.png")
