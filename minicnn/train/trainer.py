"""Training and evaluation loops: ``fit``, ``evaluate``, ``evaluate_ensemble``, ``History``.

One training step on a batch ``(x, y)`` from the loader (NumPy arrays)::

    logits = model(Tensor(x))                    # model.train(): dropout on, BN batch stats
    loss = cross_entropy(logits, y, label_smoothing)
    optimizer.zero_grad(); loss.backward(); optimizer.step()

and after each epoch: an evaluation pass over ``val_loader`` (``model.eval()``, under
``no_grad``), ``scheduler.step()``, and a checkpoint (see ``minicnn.train.checkpoint``).

Auxiliary classifiers. A model that returns a tuple in training mode, such as GoogLeNet's
``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` or Inception-v3's
``InceptionOutputs(logits, aux_logits)``, is trained on

    loss = CE(logits, y) + aux_weight * sum over heads of CE(aux_logits_i, y)

with ``aux_weight = 0.3`` by default: the weight of Szegedy et al. 2014 (GoogLeNet, sec. 5:
"their loss is added to the total loss of the network with a discount weight (the losses
of the auxiliary classifiers were weighted by 0.3)"), which torchvision's reference
scripts use for both models (Inception-v3's paper gives no number). Every term uses the
same label smoothing. In eval mode those models return the main logits only, so evaluation
never sees the auxiliary heads; the reported ``train_loss`` is the main head's term alone,
so that it compares with ``val_loss``.

Evaluation averages probabilities, never logits: with test-time augmentation the softmax
of each crop, with an ensemble the softmax of each model (for both, each model's
crop-average), and the reported loss is ``-log`` of the averaged probability of the true
class (computed as a log-sum-exp of log-softmaxes, so it stays finite).
"""

import csv
import json
import math
import numbers
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import functional as F
from ..autograd import Tensor, no_grad
from ..data.transforms import FiveCrop, TenCrop
from .checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from .metrics import log_softmax_np, topk_correct
from .progress import PassProgress, bar_wanted, log

__all__ = ["fit", "evaluate", "evaluate_ensemble", "History", "Evaluation", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"


# ----------------------------------------------------------------------------- History


class History:
    """The per-epoch record of a training run.

    Each epoch is a dict (a *row*) with the keys of ``History.COLUMNS``:

        epoch            1, 2, ... (epochs completed)
        train_loss       mean cross-entropy of the main logits over the epoch's batches
                         (with label smoothing if used; weights change during the epoch)
        train_top1       fraction of training images classified correctly as they were trained
        val_loss, val_top1, val_top5
                         on ``val_loader`` after the epoch (None without a val_loader)
        lr               the learning rate of the first parameter group during the epoch
        seconds          wall time of the epoch, training and validation
        images_per_sec   training images per second (the training pass alone)

    ``history["val_top1"]`` is one column as a list (Keras' ``history.history[key]``),
    ``history.rows`` the list of rows, ``history.last`` the last row.
    """

    COLUMNS = ("epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr",
               "seconds", "images_per_sec")

    def __init__(self, rows=None):
        self.rows = []
        for row in rows or []:
            self.append(row)

    def append(self, row):
        if not isinstance(row, dict):
            raise ValueError(f"a History row is a dict, got {row!r:.80}")
        missing = set(self.COLUMNS) - set(row)
        if missing:
            raise ValueError(f"a History row needs the keys {list(self.COLUMNS)}; missing "
                             f"{sorted(missing)}")
        for key in self.COLUMNS:
            value = row[key]
            optional = key.startswith("val_")           # None without a val_loader
            if not (optional and value is None or isinstance(value, numbers.Real)
                    and not isinstance(value, bool)):
                raise ValueError(f"History: {key} must be a number{' or None' if optional else ''}"
                                 f", got {value!r:.80}")
        self.rows.append({key: row[key] for key in self.COLUMNS})

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, column):
        if column not in self.COLUMNS:
            raise KeyError(f"no column {column!r}; columns: {', '.join(self.COLUMNS)}")
        return [row[column] for row in self.rows]

    @property
    def last(self):
        return self.rows[-1] if self.rows else None

    def to_dict(self):
        """``{"rows": [...]}``, plain Python values (what checkpoints and JSON store)."""
        return {"rows": [dict(row) for row in self.rows]}

    @classmethod
    def from_dict(cls, data):
        """The History of ``to_dict()``'s output (ValueError if it is not one)."""
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise ValueError(f"a History dict holds a list of 'rows', got {data!r:.80}")
        return cls(_plain(row) if isinstance(row, dict) else row for row in data["rows"])

    def save_json(self, path):
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    def save_csv(self, path):
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows)

    def __repr__(self):
        return f"History({len(self)} epochs, last={self.last})"


def _plain(row):
    """A row with NumPy scalars (as read back from a checkpoint) turned into Python numbers."""
    return {key: (value.item() if isinstance(value, np.generic) else value)
            for key, value in row.items()}


# ----------------------------------------------------------------------------- helpers


def _param_dtype(model):
    first = next(iter(model.parameters()), None)
    return np.float32 if first is None else first.dtype


def _split_outputs(output):
    """``(main logits, [auxiliary logits])`` of a model's output (a Tensor or a tuple)."""
    if isinstance(output, tuple):
        return output[0], [aux for aux in output[1:] if aux is not None]
    return output, []


def _set_eval(model, prefixes):
    """Put the submodules named by ``prefixes`` (and everything inside them) in eval mode."""
    modules = dict(model.named_modules())
    for prefix in prefixes:
        if prefix not in modules:
            raise ValueError(f"eval_modules: the model has no submodule named {prefix!r}")
        modules[prefix].eval()


def _epoch_line(row, epochs):
    parts = [f"epoch {row['epoch']}/{epochs}",
             f"train loss {row['train_loss']:.4f} acc {100 * row['train_top1']:.2f}%"]
    if row["val_loss"] is not None:
        parts.append(f"val loss {row['val_loss']:.4f} top-1 {100 * row['val_top1']:.2f}% "
                     f"top-5 {100 * row['val_top5']:.2f}%")
    parts.append(f"lr {row['lr']:.3g}")
    parts.append(f"{row['seconds']:.1f} s ({row['images_per_sec']:.0f} img/s)")
    return " | ".join(parts)


# ----------------------------------------------------------------------------- fit


def fit(model, train_loader, val_loader, optimizer, epochs, scheduler=None,
        label_smoothing=0.0, aux_weight=0.3, checkpoint_dir=None, resume=False, progress=True,
        verbose=True, eval_modules=(), meta=None, callback=None, distributed=False):
    """Train ``model`` for ``epochs`` epochs; return the ``History``.

    Parameters
    ----------
    model : Module
        Called on ``Tensor(x)`` with ``x`` a batch from ``train_loader``, cast to the dtype
        of the model's parameters (so a ``model.double()`` trains in float64). Any input
        shape works: images ``(N, C, H, W)`` or cached features ``(N, D)`` for a head.
    train_loader : iterable of (x ndarray, y int ndarray (N,))
        Usually a ``minicnn.data.DataLoader``.
    val_loader : iterable or None
        Evaluated after every epoch (``evaluate``); None skips validation.
    optimizer : Optimizer
        Over the parameters to train; frozen parameters (``requires_grad`` False) are left
        alone by the optimizer and get no gradient.
    epochs : int
        Total epochs; when resuming, training continues up to this number.
    scheduler : LRScheduler, optional
        Stepped once after each epoch.
    label_smoothing : float
        For the training loss (the validation loss is the plain cross-entropy).
    aux_weight : float
        Weight of each auxiliary head's loss (see the module docstring).
    checkpoint_dir : str or Path, optional
        Folder where ``checkpoint.npz`` is written (atomically) after every epoch.
    resume : bool
        Continue from ``checkpoint_dir/checkpoint.npz``: weights, optimizer, scheduler,
        history and random-generator states, so the result equals an uninterrupted run.
    progress : bool
        Draw a tqdm bar while training, when standard output is a terminal.
    verbose : bool
        Print one line per epoch (also when no bar is drawn, and then also a line a minute
        during a long epoch: ``minicnn.train.progress.LOG_SECONDS``); False prints nothing.
    eval_modules : sequence of str
        Names of submodules kept in eval mode while training (e.g. a frozen backbone whose
        batch-norm statistics must not move); ``model.train()`` covers the rest.
    meta : dict, optional
        Recorded in each checkpoint (e.g. the model's name and constructor arguments).
    callback : callable, optional
        ``callback(history)`` after each epoch, once its checkpoint is written (e.g. to
        save the history and plots as the run goes).
    distributed : bool
        Train data-parallel over the ranks of an ``mpiexec`` job (``minicnn.distributed``):
        ``train_loader``'s batch size is the global batch, of which each rank takes its
        share; the gradients are averaged over the ranks after each backward; the metrics
        are sums over the ranks; only rank 0 prints, writes checkpoints and calls
        ``callback``. Every rank validates on the whole ``val_loader``.

    Returns
    -------
    History
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if aux_weight < 0:
        raise ValueError(f"aux_weight must be >= 0, got {aux_weight!r}")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs the checkpoint_dir to resume from")
    net = model  # what runs the steps: the model, or its DistributedDataParallel wrapper
    main = True
    if distributed:
        from .. import distributed as dist
        net, train_loader = dist.prepare_fit(model, train_loader)
        eval_modules = [f"module.{name}" for name in eval_modules]  # names inside the wrapper
        main = dist.is_main_process()
        verbose = verbose and main
    loaders = [train_loader] + ([val_loader] if val_loader is not None else [])
    history = History()
    start = 0
    checkpoint_path = None
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        if main:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
        checkpoint_path = checkpoint_dir / CHECKPOINT_NAME
    if resume:
        if not checkpoint_path.is_file():
            raise FileNotFoundError(f"resume: no checkpoint at {checkpoint_path}")
        start, saved = restore_checkpoint(load_checkpoint(checkpoint_path), model, optimizer,
                                          scheduler, loaders)
        history = History.from_dict(saved) if saved is not None else History()
        if verbose:
            log(f"resumed from {checkpoint_path} after epoch {start}")
    show_bar = bar_wanted(progress) and verbose

    for epoch in range(start, epochs):
        lr = float(optimizer.param_groups[0]["lr"])
        started = time.perf_counter()
        if distributed:  # the epoch's shuffle, the same on every rank
            train_loader.set_epoch(epoch)
        train_loss, train_top1, images, train_seconds = _train_epoch(
            net, train_loader, optimizer, label_smoothing, aux_weight, eval_modules,
            PassProgress(_length(train_loader), f"epoch {epoch + 1}/{epochs}", show_bar,
                         lines=verbose),
            epoch + 1, distributed)
        val = None
        if val_loader is not None:
            val = _evaluate([net], val_loader, tta=False, crop_size=None,
                            progress=show_bar, desc=f"validate {epoch + 1}/{epochs}")
        if scheduler is not None:
            scheduler.step()
        history.append({
            "epoch": epoch + 1, "train_loss": train_loss, "train_top1": train_top1,
            "val_loss": None if val is None else val.loss,
            "val_top1": None if val is None else val.top1,
            "val_top5": None if val is None else val.top5,
            "lr": lr, "seconds": time.perf_counter() - started,
            "images_per_sec": images / max(train_seconds, 1e-9)})
        if checkpoint_path is not None and main:
            save_checkpoint(checkpoint_path, model, optimizer, scheduler, epoch + 1, history,
                            loaders, meta)
        if verbose:
            log(_epoch_line(history.last, epochs))
        if callback is not None and main:
            callback(history)
    return history


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _train_epoch(model, loader, optimizer, label_smoothing, aux_weight, eval_modules, bar,
                 epoch, distributed=False):
    """One pass of training steps; returns (mean loss, accuracy, images, seconds), over all
    ranks when ``distributed`` (``model`` is then a DistributedDataParallel)."""
    model.train()
    _set_eval(model, eval_modules)
    dtype = _param_dtype(model)
    loss_sum, correct, images = 0.0, 0, 0
    started = time.perf_counter()
    try:
        for step, (x, y) in enumerate(loader):
            y = np.asarray(y)
            logits, aux_outputs = _split_outputs(model(Tensor(np.asarray(x, dtype=dtype))))
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            main_loss = loss.item()
            if not math.isfinite(main_loss):
                raise FloatingPointError(f"the training loss is {main_loss} at epoch {epoch}, "
                                         f"batch {step + 1}; lower the learning rate")
            for aux in aux_outputs:
                loss = loss + aux_weight * F.cross_entropy(aux, y,
                                                           label_smoothing=label_smoothing)
            optimizer.zero_grad()
            loss.backward()  # distributed: also averages over the ranks (the global batch's)
            optimizer.step()
            n = len(y)
            loss_sum += main_loss * n
            correct += int((logits.data.argmax(axis=1) == y).sum())
            images += n
            bar.update(images, loss_sum / images, correct / images)
    finally:
        bar.close()
    if distributed:  # sums over the ranks: the global batch's figures
        from ..distributed import reduce_metrics
        totals = reduce_metrics({"loss": loss_sum, "correct": correct, "images": images})
        loss_sum, correct, images = totals["loss"], totals["correct"], int(totals["images"])
    if images == 0:
        raise ValueError("train_loader yielded no batches")
    return loss_sum / images, correct / images, images, time.perf_counter() - started


# ----------------------------------------------------------------------------- evaluate


@dataclass(eq=False)       # (array fields: == would be ambiguous)
class Evaluation:
    """What ``evaluate`` measures. Unpacks as ``loss, top1, top5 = evaluate(...)``.

    Attributes
    ----------
    loss : float
        Mean of ``-log p(true class)`` (p averaged over crops / models).
    top1, top5 : float
        Accuracies in [0, 1] (see ``minicnn.train.metrics`` for the rule on ties).
    predictions : ndarray, int64, (N,)
        The predicted class of every sample, in loader order.
    labels : ndarray, int64, (N,)
    """

    loss: float
    top1: float
    top5: float
    predictions: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)

    def __iter__(self):
        return iter((self.loss, self.top1, self.top5))


def evaluate(model, loader, tta=False, crop_size=None, progress=False):
    """Loss and top-1/top-5 accuracy of ``model`` on ``loader`` (eval mode, no_grad).

    Parameters
    ----------
    model : Module
    loader : iterable of (x ndarray, y int ndarray (N,))
        ``x`` is ``(N, C, H, W)``, or ``(N, K, C, h, w)``: K crops per image already made by
        the dataset's transform (e.g. ``TenCrop``), whose softmaxes are averaged.
    tta : False, 'tencrop' or 'fivecrop'
        Test-time augmentation for ``(N, C, H, W)`` batches: cut ``TenCrop(crop_size)``
        (the corners and centre of the image and of its mirror image) or
        ``FiveCrop(crop_size)`` from every image, and average the softmax over the crops.
        Mirroring changes the meaning of digits and letters: use 'fivecrop' for them.
    crop_size : int or (h, w)
        The model's input size; needed with ``tta`` for ``(N, C, H, W)`` batches, which
        must then be larger than it (e.g. 36x36 images for a 32x32 model).
    progress : bool
        A bar in a terminal.

    Returns
    -------
    Evaluation
        ``loss, top1, top5`` (unpackable), plus ``predictions`` and ``labels``.

    Raises
    ------
    ValueError
        If the labels are not class indices in [0, classes), or the loader yields nothing.
    """
    return _evaluate([model], loader, tta, crop_size, progress, "evaluate")


def evaluate_ensemble(models, loader, tta=False, crop_size=None, progress=False):
    """``evaluate`` for an ensemble: the models' softmax outputs are averaged (equal
    weights), each model's own crop average first when ``tta`` is on."""
    models = list(models)
    if not models:
        raise ValueError("evaluate_ensemble needs at least one model")
    return _evaluate(models, loader, tta, crop_size, progress, "ensemble")


_CROPS = {"tencrop": TenCrop, "fivecrop": FiveCrop}


def _crops(x, tta, crop_size):
    """The batch as ``(N, K, C, h, w)`` crops, or ``(N, C, H, W)`` unchanged without TTA."""
    if x.ndim == 5:
        return x
    if not tta:
        return x
    if x.ndim != 4:
        raise ValueError(f"test-time augmentation needs (N, C, H, W) batches, got shape {x.shape}")
    if crop_size is None:
        raise ValueError(f"tta={tta!r} needs crop_size (the model's input size) to cut crops "
                         f"from the {x.shape[-2]}x{x.shape[-1]} images")
    return _CROPS[tta](crop_size)(x)                       # (N, C, H, W) -> (N, K, C, h, w)


def _member_log_probs(model, x):
    """log of the model's softmax, averaged over the crops if ``x`` has them: (N, classes)."""
    dtype = _param_dtype(model)
    if x.ndim == 5:
        n, k = x.shape[:2]
        logits = model(Tensor(np.ascontiguousarray(x.reshape(n * k, *x.shape[2:]),
                                                   dtype=dtype))).data
        log_probs = log_softmax_np(logits.reshape(n, k, -1))        # (N*K, M) -> (N, K, M)
        return _log_mean_exp(log_probs, axis=1)
    return log_softmax_np(model(Tensor(np.asarray(x, dtype=dtype))).data)


def _log_mean_exp(values, axis):
    """``log(mean(exp(values), axis))`` without overflow or underflow."""
    top = values.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    mean = np.exp(values - top).mean(axis=axis, keepdims=True)
    return np.squeeze(np.log(mean) + top, axis=axis)


def _check_labels(labels, scores_shape):
    """A ValueError unless ``labels`` are class indices for scores of ``scores_shape``
    (they index the scores: floats or labels out of range gave NumPy's IndexError)."""
    count, classes = scores_shape
    if labels.shape != (count,) or labels.dtype.kind not in "iu":
        raise ValueError(f"evaluate: the loader's labels must be class indices, an integer "
                         f"array of shape ({count},), got shape {labels.shape} and dtype "
                         f"{labels.dtype}")
    if count and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"evaluate: the loader's labels must lie in [0, {classes}) (the "
                         f"model's classes), got values from {labels.min()} to {labels.max()}")


def _evaluate(models, loader, tta, crop_size, progress, desc):
    if tta not in (False, None, "tencrop", "fivecrop"):
        raise ValueError(f"tta must be False, 'tencrop' or 'fivecrop', got {tta!r}")
    modes = [(module, module.training) for model in models for module in model.modules()]
    for model in models:
        model.eval()
    loss_sum, top1, top5 = 0.0, 0, 0
    predictions, labels = [], []
    bar = PassProgress(_length(loader), desc, bar_wanted(progress))
    try:
        with no_grad():
            for x, y in loader:
                x, y = _crops(np.asarray(x), tta, crop_size), np.asarray(y)
                member = np.stack([_member_log_probs(model, x) for model in models])
                log_probs = _log_mean_exp(member, axis=0)                   # (N, classes)
                _check_labels(y, log_probs.shape)
                loss_sum -= float(log_probs[np.arange(len(y)), y].astype(np.float64).sum())
                hits = topk_correct(log_probs, y, (1, 5))
                top1 += hits[0]
                top5 += hits[1]
                predictions.append(log_probs.argmax(axis=1))
                labels.append(y.astype(np.int64))
                bar.update(sum(len(b) for b in labels))
    finally:
        bar.close()
        for module, training in modes:
            object.__setattr__(module, "training", training)
    count = sum(len(b) for b in labels)
    if count == 0:
        raise ValueError("the loader yielded no samples to evaluate")
    return Evaluation(loss_sum / count, top1 / count, top5 / count,
                      np.concatenate(predictions).astype(np.int64), np.concatenate(labels))
