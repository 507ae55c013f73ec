"""Figures of a training run, saved as PNG files: curves, filters, feature maps, confusions.

matplotlib is an optional extra (``pip install minicnn[plots]``); it is imported when a
function here is called, never by ``import minicnn``. The figures are drawn with
``matplotlib.figure.Figure`` directly (not ``pyplot``), so saving them neither opens a
window nor changes the backend of a notebook that imports minicnn.

    plot_history(history, "curves.png")            loss and accuracy per epoch
    plot_filters(model, "filters.png")             the first convolution's kernels
    plot_feature_maps(model, image, "maps.png")    what each convolution makes of one image
    plot_confusion_matrix(matrix, "confusion.png") true class x predicted class
"""

import numpy as np

__all__ = ["plot_history", "plot_filters", "plot_feature_maps", "plot_confusion_matrix",
           "matplotlib_available"]

_MISSING = ("plots need matplotlib, an optional extra: pip install 'minicnn[plots]' "
            "(or pip install matplotlib)")


def matplotlib_available():
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width, height):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(_MISSING) from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig, path):
    fig.savefig(path, format="png")
    return path


def plot_history(history, path, title=None, val_name="validation"):
    """Training and validation loss (left) and accuracy (right) per epoch.

    Parameters
    ----------
    history : History
    path : str or Path
        Where the PNG goes.
    title : str, optional
    val_name : str
        What the validation data is called in the legends (e.g. 'test').
    """
    epochs = history["epoch"]
    fig = _figure(10, 4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    marker = "o" if len(epochs) < 30 else None
    loss_ax.plot(epochs, history["train_loss"], marker=marker, label="train")
    val_epochs = [e for e, v in zip(epochs, history["val_loss"]) if v is not None]
    if val_epochs:
        loss_ax.plot(val_epochs, [v for v in history["val_loss"] if v is not None],
                     marker=marker, label=val_name)
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    acc_ax.plot(epochs, [100 * a for a in history["train_top1"]], marker=marker,
                label="train top-1")
    for column, label in (("val_top1", f"{val_name} top-1"), ("val_top5", f"{val_name} top-5")):
        values = [(e, v) for e, v in zip(epochs, history[column]) if v is not None]
        if values:
            acc_ax.plot([e for e, _ in values], [100 * v for _, v in values], marker=marker,
                        label=label)
    best = max((v for v in history["val_top1"] if v is not None), default=None)
    acc_title = ("accuracy" if best is None
                 else f"accuracy (best {val_name} top-1 {100 * best:.2f}%)")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title=acc_title)
    for ax in (loss_ax, acc_ax):
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def _first_conv_weight(model_or_weight):
    if hasattr(model_or_weight, "named_modules"):
        for name, module in model_or_weight.named_modules():
            weight = getattr(module, "weight", None)
            if weight is not None and weight.ndim == 4:
                return name, np.asarray(weight.data)
        raise ValueError("plot_filters: the model has no convolution (no 4-D weight)")
    weight = np.asarray(getattr(model_or_weight, "data", model_or_weight))
    if weight.ndim != 4:
        raise ValueError(f"plot_filters: weight must have shape (C_out, C_in, KH, KW), got "
                         f"shape {weight.shape}")
    return "", weight


def _grid(count):
    cols = int(np.ceil(np.sqrt(count)))
    return int(np.ceil(count / cols)), cols


def plot_filters(model_or_weight, path, max_filters=64):
    """The kernels of the first convolution, one tile per output channel.

    One input channel: grey, one scale for all tiles (mid-grey is 0, so positive and
    negative weights can be compared across filters). Three: each filter as an RGB image,
    rescaled to [0, 1] on its own (AlexNet's figure 3). More: the mean over input channels.

    Parameters
    ----------
    model_or_weight : Module, or array / Tensor (C_out, C_in, KH, KW)
    path : str or Path
    max_filters : int
        Show at most this many output channels.
    """
    name, weight = _first_conv_weight(model_or_weight)
    weight = weight[:max_filters].astype(np.float64)
    count, channels = weight.shape[:2]
    rows, cols = _grid(count)
    fig = _figure(1.3 * cols + 0.6, 1.3 * rows + 0.6)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    limit = np.abs(weight).max() or 1.0
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= count:
            continue
        if channels == 3:
            tile = np.moveaxis(weight[i], 0, -1)                     # (3, KH, KW) -> (KH, KW, 3)
            low, high = tile.min(), tile.max()
            ax.imshow((tile - low) / ((high - low) or 1.0), interpolation="nearest")
        else:
            ax.imshow(weight[i].mean(axis=0), cmap="gray", vmin=-limit, vmax=limit,
                      interpolation="nearest")
        ax.set_title(str(i), fontsize=8)
    where = f" ({name})" if name else ""
    fig.suptitle(f"first-layer filters{where}: {weight.shape[0]} x {channels} x "
                 f"{weight.shape[2]} x {weight.shape[3]}")
    return _save(fig, path)


def plot_feature_maps(model, image, path, layers=None, max_maps=8):
    """The outputs of some layers for one image (eval mode, no_grad).

    Parameters
    ----------
    model : Module
    image : ndarray (C, H, W)
        One input, as the model takes it (normalised the same way).
    path : str or Path
    layers : sequence of str, optional
        Names of submodules whose outputs to show (``model.named_modules()``); default: the
        first four convolutions.
    max_maps : int
        Channels shown per layer.
    """
    from ..autograd import Tensor, no_grad

    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"plot_feature_maps: image must have shape (C, H, W), got shape "
                         f"{image.shape}")
    modules = dict(model.named_modules())
    if layers is None:
        layers = [name for name, module in modules.items()
                  if type(module).__name__ == "Conv2d"][:4]
    for name in layers:
        if name not in modules:
            raise ValueError(f"plot_feature_maps: the model has no submodule named {name!r}")
    outputs = {}
    handles = [modules[name].register_forward_hook(
        lambda module, inputs, output, name=name: outputs.__setitem__(name, output))
        for name in layers]
    modes = [(module, module.training) for module in model.modules()]
    dtype = next(iter(model.parameters())).dtype
    try:
        model.eval()
        with no_grad():
            model(Tensor(image[None].astype(dtype)))
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            object.__setattr__(module, "training", training)

    shown = [(name, np.asarray(outputs[name].data)[0]) for name in layers
             if name in outputs and np.asarray(outputs[name].data).ndim == 4]
    if not shown:
        raise ValueError(f"plot_feature_maps: none of the layers {list(layers)} produced a "
                         f"(1, C, H, W) output")
    cols = min(max_maps, max(maps.shape[0] for _, maps in shown))
    fig = _figure(1.1 * (cols + 1) + 0.5, 1.25 * len(shown) + 0.6)
    axes = np.array(fig.subplots(len(shown), cols + 1)).reshape(len(shown), cols + 1)
    for row, (name, maps) in enumerate(shown):
        input_ax = axes[row, 0]
        input_ax.set_axis_off()
        if row == 0:
            shown_input = image[0] if image.shape[0] != 3 else np.moveaxis(image, 0, -1)
            if image.shape[0] == 3:
                shown_input = (shown_input - shown_input.min()) / (np.ptp(shown_input) or 1.0)
            input_ax.imshow(shown_input, cmap="gray")
            input_ax.set_title("input", fontsize=8)
        for col in range(cols):
            ax = axes[row, col + 1]
            ax.set_axis_off()
            if col < maps.shape[0]:
                ax.imshow(maps[col], cmap="viridis", interpolation="nearest")
                if col == 0:
                    ax.set_title(f"{name} {tuple(maps.shape)}", fontsize=8, loc="left")
    fig.suptitle("feature maps of one image (first channels of each layer)")
    return _save(fig, path)


def plot_confusion_matrix(matrix, path, class_names=None, title=None):
    """The confusion matrix (rows: true class, columns: predicted), counts in the cells,
    colour by the share of the row, so each class reads the same whatever its size."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"plot_confusion_matrix: matrix must be square (K, K), got shape "
                         f"{matrix.shape}")
    k = matrix.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.55 * k + 2.5)
    fig = _figure(size + 1, size)
    ax = fig.subplots()
    shown = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(shown, ax=ax, label="share of the true class")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted class", ylabel="true class")
    ax.set_xticklabels(names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right"
                       if max(map(len, names)) > 2 else "center")
    ax.set_yticklabels(names)
    if k <= 30:
        for t in range(k):
            for p in range(k):
                if matrix[t, p]:
                    ax.text(p, t, str(matrix[t, p]), ha="center", va="center", fontsize=8,
                            color="white" if rates[t, p] > 0.5 else "black")
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else 0.0
    ax.set_title(title or f"confusion matrix: {total} samples, accuracy {100 * accuracy:.2f}%")
    return _save(fig, path)
