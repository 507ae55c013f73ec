"""The ``train`` and ``evaluate`` commands of ``python -m minicnn`` (their arguments and
bodies; ``minicnn/__main__.py`` only registers them).

    python -m minicnn train lenet5                       # the built-in digits, 1x32x32
    python -m minicnn train resnet20 --epochs 2 --data cifar10:~/data
    python -m minicnn evaluate runs/lenet5-20250101-120000 --tta

A run writes into its folder (``--out``, default ``runs/<model>-<date>-<time>``):
``checkpoint.npz`` (after every epoch; ``--resume`` continues from it), ``config.json``,
``history.json`` and ``history.csv``, and with matplotlib ``curves.png``, ``filters.png``
(the first convolution's kernels) and ``feature_maps.png`` (of the first test image).
``evaluate`` adds ``evaluation.json`` and ``confusion_matrix.png``.

How the images are fitted to the model
--------------------------------------
Each model has an input shape (``minicnn.models.input_shape``: 1x32x32 for LeNet-5, 3x32x32 for the
CIFAR ResNets, 3x299x299 for Inception-v3, else 3x224x224). The data is brought to it in
this order, the same for training and evaluation:

1. channels: grey images are repeated to 3 channels for a colour model, colour images are
   turned into luminance (0.2989 R + 0.587 G + 0.114 B) for a grey one;
2. size: enlarged by the largest whole factor that keeps them no larger than the input
   (nearest neighbour: 8x8 scikit-learn digits x4, 28x28 digits x8 for 224), then zero-padded
   (or centre-cropped) to the input size: 28x28 digits get 2 pixels of border for LeNet-5's
   32x32, as in the paper;
3. ``--augment``: a random crop after 2 (32-pixel inputs) or 4 pixels of padding per side
   (larger inputs: a twentieth of the side), plus a random mirror image for Fashion-MNIST
   and CIFAR-10 (a mirrored digit is not the same digit);
4. normalisation by the per-channel mean and standard deviation of the training images
   (after step 1), recorded in the checkpoint so ``evaluate`` uses the same.

Each epoch is validated on the test split (the only split these datasets have besides the
training one); the checkpoint is the last epoch's, never one picked by its test score.

What a checkpoint records is checked before anything is built from it (it may be damaged
or edited): the settings of a resumed run as their flags are checked, ``input_shape`` (the
model's channels, sides at most ``MAX_INPUT_SIDE``), ``normalize`` (finite numbers, std >
0), the model's constructor arguments (``minicnn.train.load_model``); every problem is a
one-line error naming the argument, never a traceback.
"""

import argparse
import json
import math
import numbers
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .._checks import is_int

__all__ = ["add_train_parser", "add_evaluate_parser", "MODEL_DEFAULTS", "MAX_INPUT_SIDE"]

_CIFAR_RESNET = dict(epochs=5, batch_size=128, optimizer="sgd", lr=0.1, momentum=0.9,
                     weight_decay=1e-4)
# Per-model settings of the command; anything not given on the command line comes from here.
MODEL_DEFAULTS = {
    # Measured on the built-in digits: 99.4% test accuracy after one epoch, 99.9% after two.
    "lenet5": dict(epochs=2, batch_size=64, optimizer="sgd", lr=0.05, momentum=0.9,
                   weight_decay=5e-4),
    "resnet20": _CIFAR_RESNET, "resnet32": _CIFAR_RESNET, "resnet44": _CIFAR_RESNET,
    "resnet56": _CIFAR_RESNET,
}
GENERIC_DEFAULTS = dict(epochs=5, batch_size=32, optimizer="sgd", lr=0.01, momentum=0.9,
                        weight_decay=5e-4)
COMMON_DEFAULTS = dict(label_smoothing=0.0, augment=False, seed=0, data="builtin", limit=None)
# The usual starting lr of each optimizer, used when --optimizer changes the model's default.
OPTIMIZER_LR = {"sgd": 0.01, "rmsprop": 1e-3, "adam": 1e-3}
EVAL_BATCH = 256
# The settings that make up a run; --resume continues a run with its own.
RUN_SETTINGS = ("epochs", "batch_size", "optimizer", "lr", "momentum", "weight_decay",
                "label_smoothing", "augment", "seed", "data", "limit")

OPTIMIZERS = ("sgd", "rmsprop", "adam")

DATA_KINDS = ("builtin", "digits", "mnist", "fashion-mnist", "cifar10")
MIRROR_SAFE = ("fashion-mnist", "cifar10")      # a mirrored image keeps its class
# The largest height or width of a model input taken from a checkpoint or --input (the
# largest model input here is Inception-v3's 299): an edited 10^5 x 10^5 asked for 30 GB
# per image.
MAX_INPUT_SIDE = 1024


class _ArgumentError(Exception):
    """A bad command-line value found after parsing: printed as argparse's one-line error."""

    def __init__(self, argument, message):
        super().__init__(f"argument {argument}: {message}")


# ----------------------------------------------------------------------------- argument types


def _data_spec(text):
    """``'builtin'``, ``'digits'`` or ``'KIND:DIR'`` -> the same string, checked."""
    kind, _, root = text.partition(":")
    if kind not in DATA_KINDS:
        raise argparse.ArgumentTypeError(
            f"expected builtin, digits, mnist:DIR, fashion-mnist:DIR or cifar10:DIR, got {text!r}")
    if kind in ("builtin", "digits") and root:
        raise argparse.ArgumentTypeError(f"{kind} takes no folder, got {text!r}")
    if kind not in ("builtin", "digits") and not root:
        raise argparse.ArgumentTypeError(f"{kind} needs the folder of its files: {kind}:DIR")
    return text


def _number(kind, low, high=None, low_open=False, high_open=True):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        bad = (value is None or (isinstance(value, float) and not math.isfinite(value))
               or value < low or (low_open and value == low)
               or (high is not None and (value > high or (high_open and value == high))))
        if bad:
            low_side = f"> {low}" if low_open else f">= {low}"
            high_side = "" if high is None else f" and {'<' if high_open else '<='} {high}"
            raise argparse.ArgumentTypeError(f"expected {'an int' if kind is int else 'a number'}"
                                             f" {low_side}{high_side}, got {text!r}")
        return value
    return parse


# The check of each run setting that is a number or a data spec: of its command-line flag,
# and of the value a resumed run's checkpoint recorded.
SETTING_TYPES = {"epochs": _number(int, 1), "batch_size": _number(int, 1),
                 "lr": _number(float, 0, low_open=True), "momentum": _number(float, 0, 1),
                 "weight_decay": _number(float, 0), "label_smoothing": _number(float, 0, 1),
                 "seed": _number(int, 0), "limit": _number(int, 1), "data": _data_spec}


def add_train_parser(sub):
    """Register ``train`` on the subparsers object ``sub``."""
    p = sub.add_parser("train", help="train a model on the built-in digits or a dataset folder",
                       description="Train MODEL; see minicnn/train/command.py for the data "
                       "preparation and the run folder.")
    p.add_argument("model", metavar="MODEL", help="a name in minicnn.models, e.g. lenet5")
    p.add_argument("--data", type=SETTING_TYPES["data"], default=None, metavar="SPEC",
                   help="builtin (default: generated digits, no download), digits "
                   "(scikit-learn's 8x8), mnist:DIR, fashion-mnist:DIR, cifar10:DIR")
    p.add_argument("--epochs", type=SETTING_TYPES["epochs"], default=None, metavar="N",
                   help="default per model (lenet5: 2, CIFAR resnets: 5, others: 5)")
    p.add_argument("--batch-size", type=SETTING_TYPES["batch_size"], default=None, metavar="N",
                   help="default per model (lenet5: 64, CIFAR resnets: 128, others: 32); "
                   "under mpiexec the global batch, split over the ranks")
    p.add_argument("--lr", type=SETTING_TYPES["lr"], default=None,
                   help="initial learning rate, cosine-annealed to 0 over the epochs "
                   "(lenet5: 0.05, CIFAR resnets: 0.1; adam and rmsprop: 0.001)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="default sgd with momentum 0.9")
    p.add_argument("--momentum", type=SETTING_TYPES["momentum"], default=None,
                   help="for sgd and rmsprop")
    p.add_argument("--weight-decay", type=SETTING_TYPES["weight_decay"], default=None)
    p.add_argument("--label-smoothing", type=SETTING_TYPES["label_smoothing"], default=None)
    p.add_argument("--augment", action="store_true", default=None,
                   help="random crops (and mirror images where they keep the class)")
    p.add_argument("--seed", type=SETTING_TYPES["seed"], default=None,
                   help="seed of initialisation, shuffling and augmentation (default 0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default runs/<model>-<date>-<time>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out DIR from its checkpoint, with its settings")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (one line per epoch is still printed)")
    p.add_argument("--limit", type=SETTING_TYPES["limit"], default=None, metavar="N",
                   help="use only the first N training and N test images (smoke runs, tests)")
    p.add_argument("--distributed", action="store_true",
                   help="train data-parallel over the ranks of `mpiexec -n K python -m "
                   "minicnn train ...` (the default under mpiexec; needs "
                   "pip install 'minicnn[distributed]'); rank 0 prints and writes the run")
    p.set_defaults(run=cmd_train)
    return p


def add_evaluate_parser(sub):
    """Register ``evaluate`` on the subparsers object ``sub``."""
    p = sub.add_parser("evaluate", help="evaluate a checkpoint on a test set",
                       description="Evaluate a checkpoint written by train (its file or run "
                       "folder): loss, top-1, top-5, confusion matrix.")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="a checkpoint.npz written by train, or its run folder")
    p.add_argument("--data", type=_data_spec, default=None, metavar="SPEC",
                   help="test data (default: the data the checkpoint was trained on)")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average the softmax over crops with a "
                   "2-pixel margin: ten crops (five and their mirror images) where mirroring "
                   "keeps the class, else five")
    p.add_argument("--batch-size", type=_number(int, 1), default=EVAL_BATCH, metavar="N")
    p.add_argument("--limit", type=_number(int, 1), default=None, metavar="N",
                   help="evaluate only the first N test images")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where evaluation.json and confusion_matrix.png go (default: the "
                   "checkpoint's folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_evaluate)
    return p


# ----------------------------------------------------------------------------- data


def _load_split(spec, train, limit):
    """The raw dataset (an ArrayDataset without transform) of ``spec``."""
    from .. import data

    kind, _, root = spec.partition(":")
    if kind == "builtin":
        full = data.builtin.TRAIN_SIZE if train else data.builtin.TEST_SIZE
        return data.BuiltinDigits(train=train, size=min(limit, full) if limit else None)
    if kind == "digits":
        dataset = data.SklearnDigits(train=train)
    elif kind == "mnist":
        dataset = data.MNIST(root, train=train)
    elif kind == "fashion-mnist":
        dataset = data.FashionMNIST(root, train=train)
    else:
        dataset = data.CIFAR10(root, train=train)
    if limit is not None and limit < len(dataset):
        classes = dataset.classes
        dataset = data.ArrayDataset(dataset.images[:limit], dataset.labels[:limit],
                                    scale=float(dataset.scale))
        dataset.classes = classes
    return dataset


def _upsample(factor):
    from ..data.transforms import Transform

    class Upsample(Transform):
        """Nearest-neighbour enlargement by a whole ``factor``: (.., H, W) -> (.., fH, fW)."""

        batchable = True

        def __init__(self, factor):
            self.factor = factor

        def __call__(self, x, rng=None):
            return np.repeat(np.repeat(x, self.factor, axis=-2), self.factor, axis=-1)

    return Upsample(factor)


def _fitting(source_shape, target_shape):
    """Transforms that bring (C, H, W) images to the model's input (steps 1-2 above), and
    the margin of the random crop of step 3."""
    from ..data import transforms as T

    channels, height, width = source_shape
    target_c, target_h, target_w = target_shape
    steps = []
    if channels != target_c:
        if {channels, target_c} != {1, 3}:
            raise ValueError(f"cannot turn {channels}-channel images into the model's "
                             f"{target_c} channels")
        steps.append(T.Grayscale(target_c))
    factor = max(1, min(target_h // height, target_w // width))
    if factor > 1:
        steps.append(_upsample(factor))
    steps.append(T.CenterCrop((target_h, target_w)))
    margin = 2 if max(target_h, target_w) <= 32 else max(target_h, target_w) // 20
    return steps, margin


def _channel_stats(dataset, steps, count=10_000):
    """Mean and standard deviation of each channel over (up to) ``count`` training images."""
    from ..data.transforms import Compose

    images = dataset.images[:count].astype(np.float32) * dataset.scale
    if steps:
        images = Compose(steps)(images)
    mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
    std = images.std(axis=(0, 2, 3), dtype=np.float64)
    return [float(m) for m in mean], [float(max(s, 1e-6)) for s in std]


def _prepared(dataset, steps, stats, augment_margin=None, mirror=False):
    """``dataset`` with the fitting steps, optional augmentation and normalisation."""
    from ..data import ArrayDataset, transforms as T

    steps = list(steps)
    if augment_margin is not None:
        size = steps[-1].size                              # the CenterCrop to the input size
        steps.append(T.RandomCrop(size, padding=augment_margin))
        if mirror:
            steps.append(T.RandomHorizontalFlip())
    steps.append(T.Normalize(*stats))
    prepared = ArrayDataset(dataset.images, dataset.labels, transform=T.Compose(steps),
                            scale=float(dataset.scale))
    prepared.classes = dataset.classes
    return prepared


def _source_shape(dataset):
    return tuple(int(s) for s in dataset.images.shape[1:])


# ----------------------------------------------------------------------------- checkpoints


def _error(prog, message):
    """Print ``message`` on stderr as one line (a multi-line message is joined); return 2,
    the exit status of a user's mistake."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 2


def _finite_number(value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:                    # an int too large for a float
        return False


def _recorded_config(config):
    """A resumed run's settings, ``meta['config']``, each checked as its flag is checked."""
    if not isinstance(config, dict):
        raise ValueError(f"it records no run settings (meta['config'] is {config!r:.80})")
    missing = [name for name in RUN_SETTINGS if name not in config]
    if missing:
        raise ValueError(f"its meta['config'] lacks the settings {missing}")
    checked = {}
    for name in RUN_SETTINGS:
        value, where = config[name], f"meta['config'][{name!r}]"
        if name == "optimizer":
            if not (isinstance(value, str) and value in OPTIMIZERS):
                raise ValueError(f"{where} must be one of {', '.join(OPTIMIZERS)}, got "
                                 f"{value!r:.80}")
        elif name == "augment":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{where} must be True or False, got {value!r:.80}")
            value = bool(value)
        elif not (name == "limit" and value is None):
            try:                             # str(): 2.5 must not pass as int(2.5) == 2
                value = SETTING_TYPES[name](str(value))
            except argparse.ArgumentTypeError as e:
                raise ValueError(f"{where}: {e}") from None
        checked[name] = value
    return checked


def _recorded_input_shape(meta, model_name):
    """``meta['input_shape']`` as ``(C, H, W)``: the model's channels, and a height and
    width in [1, MAX_INPUT_SIDE]."""
    from .. import models

    shape = meta.get("input_shape")
    if (not isinstance(shape, (list, tuple)) or len(shape) != 3
            or not all(is_int(side) for side in shape)):
        raise ValueError(f"meta['input_shape'] must be three ints [C, H, W], got {shape!r:.80}")
    channels, height, width = (int(side) for side in shape)
    model_channels = models.input_shape(model_name)[0]
    if channels != model_channels:
        raise ValueError(f"meta['input_shape'] {[channels, height, width]} has {channels} "
                         f"channels; {model_name} takes {model_channels}")
    if not (1 <= height <= MAX_INPUT_SIDE and 1 <= width <= MAX_INPUT_SIDE):
        raise ValueError(f"meta['input_shape'] {[channels, height, width]}: the height and "
                         f"width must lie in [1, {MAX_INPUT_SIDE}] (MAX_INPUT_SIDE)")
    return channels, height, width


def _recorded_normalize(meta, channels):
    """``meta['normalize']`` as ``(mean, std)``: ``channels`` finite numbers each, std > 0."""
    stats = meta.get("normalize")
    valid = (isinstance(stats, (list, tuple)) and len(stats) == 2
             and all(isinstance(part, (list, tuple)) and len(part) == channels
                     and all(_finite_number(v) for v in part) for part in stats)
             and all(v > 0 for v in stats[1]))
    if not valid:
        raise ValueError(f"meta['normalize'] must be [mean, std] with {channels} finite "
                         f"number(s) each and std > 0, got {stats!r:.80}")
    return [float(v) for v in stats[0]], [float(v) for v in stats[1]]


def _recorded_classes(meta):
    """``meta['classes']`` (the class names), or None when the checkpoint has none."""
    classes = meta.get("classes")
    if classes is None:
        return None
    if (not isinstance(classes, (list, tuple)) or not classes
            or not all(isinstance(name, str) for name in classes)):
        raise ValueError(f"meta['classes'] must be a list of class names, got {classes!r:.80}")
    return list(classes)


def _recorded_data(meta):
    """``meta['data']``, checked as ``--data`` is."""
    spec = meta.get("data")
    if not isinstance(spec, str):
        raise ValueError(f"meta['data'] must be a data spec such as 'builtin', got {spec!r:.80}")
    try:
        return _data_spec(spec)
    except argparse.ArgumentTypeError as e:
        raise ValueError(f"meta['data']: {e}") from None


def _model_outputs(model, input_shape):
    """The number of outputs of ``model`` (eval mode) on one blank image of
    ``input_shape``; ValueError if it cannot take that input."""
    from ..autograd import Tensor, no_grad

    dtype = next(iter(model.parameters())).dtype
    try:
        with no_grad():
            logits = model(Tensor(np.zeros((1, *input_shape), dtype=dtype)))
    except ValueError as e:                  # e.g. a pooling window larger than the input
        raise ValueError(f"the model cannot take meta['input_shape'] {list(input_shape)}: "
                         f"{e}") from None
    return logits.shape[-1]


def _check_out_folder(out):
    """``--out`` must be a folder, or not exist yet (found before any work is done)."""
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise _ArgumentError("--out", f"{out} exists and is not a folder")


def _resumed_run(args, input_shape):
    """``(state, settings, normalisation)`` of the run in ``--out`` that ``--resume``
    continues; _ArgumentError if there is none, or its checkpoint is unreadable, holds
    another model or records what the command line would refuse."""
    from .checkpoint import load_checkpoint
    from .trainer import CHECKPOINT_NAME

    if args.out is None:
        raise _ArgumentError("--resume", "needs --out DIR, the run folder to continue")
    path = Path(args.out) / CHECKPOINT_NAME
    if not path.is_file():
        raise _ArgumentError("--out", f"no checkpoint to resume in {args.out} (expected {path})")
    try:
        state = load_checkpoint(path)
        meta = state["meta"]
        if meta.get("model") != args.model:
            raise _ArgumentError("MODEL", f"the run in {args.out} trains "
                                 f"{meta.get('model')!r:.80}, not {args.model!r}")
        return (state, _recorded_config(meta.get("config")),
                _recorded_normalize(meta, input_shape[0]))
    except (OSError, ValueError) as e:
        raise _ArgumentError("--out", f"cannot resume from {path}: {e}") from None


# ----------------------------------------------------------------------------- train


def _resolve_config(args, saved):
    """The run's settings: model defaults <- a resumed run's own <- the command line."""
    defaults = {**COMMON_DEFAULTS, **MODEL_DEFAULTS.get(args.model, GENERIC_DEFAULTS)}
    given = {name: getattr(args, name) for name in RUN_SETTINGS
             if getattr(args, name) is not None}
    if saved is not None:
        for name, value in given.items():
            if value != saved.get(name):
                flag = "--" + name.replace("_", "-")
                raise _ArgumentError(flag, f"the run being resumed was started with "
                                     f"{saved.get(name)!r}; --resume continues a run with its "
                                     f"own settings (start a new run to change them)")
        return {name: saved[name] for name in RUN_SETTINGS}
    config = {**defaults, **given}
    if "optimizer" in given and given["optimizer"] != defaults["optimizer"] \
            and "lr" not in given:
        config["lr"] = OPTIMIZER_LR[given["optimizer"]]
    if config["optimizer"] == "adam":
        if "momentum" in given:
            raise _ArgumentError("--momentum", "adam has no momentum setting (it uses "
                                 "betas=(0.9, 0.999)); use --optimizer sgd or rmsprop")
        config["momentum"] = 0.0
    elif config["optimizer"] == "rmsprop" and "momentum" not in given:
        config["momentum"] = 0.0
    return config


def _make_optimizer(config, params):
    from .. import optim

    if config["optimizer"] == "sgd":
        return optim.SGD(params, lr=config["lr"], momentum=config["momentum"],
                         weight_decay=config["weight_decay"])
    if config["optimizer"] == "rmsprop":
        return optim.RMSprop(params, lr=config["lr"], momentum=config["momentum"],
                             weight_decay=config["weight_decay"])
    return optim.Adam(params, lr=config["lr"], weight_decay=config["weight_decay"])


def _new_run_folder(model):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path("runs") / f"{model}-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = Path("runs") / f"{model}-{stamp}-{suffix}"
    return folder


def _write_outputs(run_dir, history, title):
    history.save_json(run_dir / "history.json")
    history.save_csv(run_dir / "history.csv")
    from .plots import matplotlib_available, plot_history
    if matplotlib_available():
        plot_history(history, run_dir / "curves.png", title=title, val_name="test")


def cmd_train(args):
    """``train``; under ``mpiexec`` (or with ``--distributed``) every rank runs it and
    ``fit`` trains data-parallel (``minicnn.distributed``), rank 0 alone printing and
    writing the run folder."""
    from .. import distributed as dist

    distributed = args.distributed or dist.launched_by_mpi()
    if not distributed:
        return _train(args, distributed)
    try:
        dist.init()
    except dist.DistributedError as e:
        return _error("python -m minicnn train", f"argument --distributed: {e}")
    dist.silence_other_ranks()
    code = _train(args, distributed)
    if code != 0:
        dist.finish_failed_command()
    return code


def _train(args, distributed):
    from .. import distributed as dist
    from .. import models
    from ..data import DataLoader
    from ..optim.lr_scheduler import CosineAnnealingLR
    from ..rng import manual_seed
    from .checkpoint import restore_checkpoint
    from .plots import matplotlib_available, plot_feature_maps, plot_filters
    from .progress import log
    from .trainer import CHECKPOINT_NAME, History, fit

    prog = "python -m minicnn train"
    if args.model == "get_model" or args.model not in models.__all__:
        try:
            models.get_model(args.model)           # raises the message naming the models
        except ValueError as e:
            return _error(prog, f"argument MODEL: {e}")
    input_shape = models.input_shape(args.model)
    try:
        state = saved_config = None
        if args.resume:
            state, saved_config, saved_stats = _resumed_run(args, input_shape)
        elif args.out is not None and (Path(args.out) / CHECKPOINT_NAME).exists():
            raise _ArgumentError("--out", f"{args.out} already holds a run's checkpoint; add "
                                 "--resume to continue it, or choose another folder")
        _check_out_folder(args.out)
        config = _resolve_config(args, saved_config)
    except _ArgumentError as e:
        return _error(prog, e)
    ranks = dist.world_size() if distributed else 1
    if config["batch_size"] % ranks:
        return _error(prog, f"argument --batch-size: {config['batch_size']} is the global batch "
                            f"and must be divisible by the {ranks} ranks (each takes "
                            f"batch-size / ranks images a step)")
    main = not distributed or dist.is_main_process()

    run_dir = Path(args.out) if args.out is not None else _new_run_folder(args.model)
    if distributed:  # rank 0's folder: the ranks' clocks may name different seconds
        run_dir = dist.broadcast_object(run_dir)
    log(f"loading the data ({config['data']})...")
    try:
        train_raw = _load_split(config["data"], True, config["limit"])
        test_raw = _load_split(config["data"], False, config["limit"])
        steps, margin = _fitting(_source_shape(train_raw), input_shape)
    except (OSError, ImportError, ValueError) as e:
        return _error(prog, f"argument --data: {e}")
    stats = _channel_stats(train_raw, steps[:-1]) if state is None else saved_stats
    kind = config["data"].partition(":")[0]
    train_set = _prepared(train_raw, steps, stats,
                          augment_margin=margin if config["augment"] else None,
                          mirror=kind in MIRROR_SAFE)
    test_set = _prepared(test_raw, steps, stats)
    num_classes = len(train_raw.classes)

    manual_seed(config["seed"])
    model_args = {"num_classes": num_classes}
    model = models.get_model(args.model, **model_args)
    optimizer = _make_optimizer(config, model.parameters())
    scheduler = CosineAnnealingLR(optimizer, T_max=config["epochs"])
    train_loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True)
    test_loader = DataLoader(test_set, batch_size=EVAL_BATCH)
    if state is not None:
        # A checkpoint whose weights or optimizer state do not fit is the user's file to fix:
        # a one-line error here, before fit() restores it again (and warns about NaN weights).
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, history = restore_checkpoint(state, model, optimizer, scheduler,
                                                [train_loader, test_loader])
            if history is not None:
                History.from_dict(history)
        except ValueError as e:
            return _error(prog, f"argument --out: cannot resume from "
                                f"{run_dir / CHECKPOINT_NAME}: {e}")
    meta = {"model": args.model, "model_args": model_args, "input_shape": list(input_shape),
            "data": config["data"], "normalize": [list(stats[0]), list(stats[1])],
            "classes": [str(c) for c in train_raw.classes], "config": config}

    try:
        if main:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "config.json").write_text(json.dumps(meta, indent=1) + "\n")
    except OSError as e:
        return _error(prog, f"argument --out: cannot write the run folder {run_dir}: {e}")
    settings = ", ".join(f"{k}={config[k]}" for k in ("epochs", "batch_size", "optimizer", "lr",
                                                       "momentum", "weight_decay"))
    log(f"training {args.model} ({sum(p.numel() for p in model.parameters()):,} parameters) on "
        f"{config['data']}: {len(train_set)} training images, {len(test_set)} test images, "
        f"input {'x'.join(map(str, input_shape))}; {settings}, cosine lr schedule; "
        f"run folder {run_dir}"
        + (f"; {ranks} ranks, global batch {config['batch_size']} "
           f"({config['batch_size'] // ranks} a rank)" if distributed else ""))
    plots = matplotlib_available()
    if not plots:
        log("matplotlib is not installed, so no plots (pip install 'minicnn[plots]')")
    title = f"{args.model} on {config['data']}"
    started = time.perf_counter()
    try:
        history = fit(model, train_loader, test_loader, optimizer, config["epochs"],
                      scheduler=scheduler, label_smoothing=config["label_smoothing"],
                      checkpoint_dir=run_dir, resume=args.resume, progress=not args.quiet,
                      meta=meta, callback=lambda h: _write_outputs(run_dir, h, title),
                      distributed=distributed)
        if main:
            _write_outputs(run_dir, history, title)
        if plots and main:
            plot_filters(model, run_dir / "filters.png")
            plot_feature_maps(model, test_set[0][0], run_dir / "feature_maps.png")
    except KeyboardInterrupt:
        resume = (f"; continue with: python -m minicnn train {args.model} --out {run_dir} "
                  "--resume" if (run_dir / CHECKPOINT_NAME).is_file() else
                  " before the first epoch's checkpoint")
        print(f"{prog}: interrupted{resume}", file=sys.stderr)
        return 130
    except (FloatingPointError, OSError) as e:   # diverged; a disk full or gone
        print(f"{prog}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    last = history.last
    log(f"done in {time.perf_counter() - started:.0f} s: test top-1 {100 * last['val_top1']:.2f}%"
        f", top-5 {100 * last['val_top5']:.2f}%, loss {last['val_loss']:.4f}; "
        f"{run_dir / CHECKPOINT_NAME}" + (f", {run_dir / 'curves.png'}" if plots else ""))
    return 0


# ----------------------------------------------------------------------------- evaluate


def _evaluated_checkpoint(path, data):
    """``(model, meta, input_shape, normalisation, classes or None, data spec)`` of the
    checkpoint at ``path`` (the data spec ``data`` if given, else its own), everything it
    records checked before it is used (ValueError, OSError)."""
    from .checkpoint import load_checkpoint, load_model

    state = load_checkpoint(path)
    meta = state["meta"]
    if "input_shape" not in meta or "normalize" not in meta:
        raise ValueError(f"{path} was not written by the train command (no "
                         "input_shape/normalize in its meta)")
    try:
        model = load_model(state)
        input_shape = _recorded_input_shape(meta, meta["model"])
        stats = _recorded_normalize(meta, input_shape[0])
        classes = _recorded_classes(meta)
        outputs = _model_outputs(model, input_shape)
        if classes is not None and len(classes) != outputs:
            raise ValueError(f"the model has {outputs} outputs but meta['classes'] names "
                             f"{len(classes)} classes")
        spec = data or _recorded_data(meta)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    return model, meta, input_shape, stats, classes, spec


def cmd_evaluate(args):
    from ..data import DataLoader
    from .metrics import confusion_matrix
    from .plots import matplotlib_available, plot_confusion_matrix
    from .trainer import CHECKPOINT_NAME, evaluate

    prog = "python -m minicnn evaluate"
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    try:
        _check_out_folder(args.out)
    except _ArgumentError as e:
        return _error(prog, e)
    try:
        model, meta, input_shape, stats, classes, spec = _evaluated_checkpoint(path, args.data)
    except FileNotFoundError:
        return _error(prog, f"argument CHECKPOINT: no such file {path}")
    except (OSError, ValueError) as e:
        return _error(prog, f"argument CHECKPOINT: {e}")
    try:
        test_raw = _load_split(spec, False, args.limit)
        steps, _ = _fitting(_source_shape(test_raw), input_shape)
    except (OSError, ImportError, ValueError) as e:
        return _error(prog, f"argument --data: {e}")
    classes = classes or [str(c) for c in test_raw.classes]
    if len(test_raw.classes) != len(classes):
        return _error(prog, f"argument --data: {spec} has {len(test_raw.classes)} classes, "
                            f"the model {len(classes)}")
    tta = False
    if args.tta:
        from ..data import transforms as T
        tta = "tencrop" if spec.partition(":")[0] in MIRROR_SAFE else "fivecrop"
        steps = steps[:-1] + [T.CenterCrop((input_shape[1] + 4, input_shape[2] + 4))]
        print(f"test-time augmentation: {tta} ({'ten' if tta == 'tencrop' else 'five'} crops "
              f"of {input_shape[1]}x{input_shape[2]} from images with a 2-pixel margin"
              + ("" if tta == "tencrop" else "; no mirror images: they change digits") + ")")
    test_set = _prepared(test_raw, steps, stats)
    loader = DataLoader(test_set, batch_size=args.batch_size)
    started = time.perf_counter()
    result = evaluate(model, loader, tta=tta, crop_size=input_shape[1:],
                      progress=not args.quiet)
    seconds = time.perf_counter() - started
    print(f"{meta['model']} on {spec} ({len(test_set)} test images{', ' + tta if tta else ''}): "
          f"loss {result.loss:.4f}, top-1 {100 * result.top1:.2f}%, "
          f"top-5 {100 * result.top5:.2f}% ({seconds:.1f} s)")
    out = Path(args.out) if args.out is not None else path.parent
    matrix = confusion_matrix(result.labels, result.predictions, len(classes))
    report = {"checkpoint": str(path), "data": spec, "tta": tta or None, "images": len(test_set),
              "loss": result.loss, "top1": result.top1, "top5": result.top5,
              "confusion_matrix": matrix.tolist(), "classes": classes}
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        if matplotlib_available():
            plot_confusion_matrix(matrix, out / "confusion_matrix.png", class_names=classes)
            print(f"confusion matrix: {out / 'confusion_matrix.png'}")
        else:
            print("matplotlib is not installed, so no confusion-matrix plot (pip install "
                  "'minicnn[plots]'); the matrix is in evaluation.json")
    except OSError as e:
        return _error(prog, f"argument --out: cannot write to {out}: {e}")
    return 0
