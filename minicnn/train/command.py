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
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["add_train_parser", "add_evaluate_parser", "MODEL_DEFAULTS"]

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

DATA_KINDS = ("builtin", "digits", "mnist", "fashion-mnist", "cifar10")
MIRROR_SAFE = ("fashion-mnist", "cifar10")      # a mirrored image keeps its class


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


def add_train_parser(sub):
    """Register ``train`` on the subparsers object ``sub``."""
    p = sub.add_parser("train", help="train a model on the built-in digits or a dataset folder",
                       description="Train MODEL; see minicnn/train/command.py for the data "
                       "preparation and the run folder.")
    p.add_argument("model", metavar="MODEL", help="a name in minicnn.models, e.g. lenet5")
    p.add_argument("--data", type=_data_spec, default=None, metavar="SPEC",
                   help="builtin (default: generated digits, no download), digits "
                   "(scikit-learn's 8x8), mnist:DIR, fashion-mnist:DIR, cifar10:DIR")
    p.add_argument("--epochs", type=_number(int, 1), default=None, metavar="N",
                   help="default per model (lenet5: 2, CIFAR resnets: 5, others: 5)")
    p.add_argument("--batch-size", type=_number(int, 1), default=None, metavar="N",
                   help="default per model (lenet5: 64, CIFAR resnets: 128, others: 32)")
    p.add_argument("--lr", type=_number(float, 0, low_open=True), default=None,
                   help="initial learning rate, cosine-annealed to 0 over the epochs "
                   "(lenet5: 0.05, CIFAR resnets: 0.1; adam and rmsprop: 0.001)")
    p.add_argument("--optimizer", choices=("sgd", "rmsprop", "adam"), default=None,
                   help="default sgd with momentum 0.9")
    p.add_argument("--momentum", type=_number(float, 0, 1), default=None,
                   help="for sgd and rmsprop")
    p.add_argument("--weight-decay", type=_number(float, 0), default=None)
    p.add_argument("--label-smoothing", type=_number(float, 0, 1), default=None)
    p.add_argument("--augment", action="store_true", default=None,
                   help="random crops (and mirror images where they keep the class)")
    p.add_argument("--seed", type=_number(int, 0), default=None,
                   help="seed of initialisation, shuffling and augmentation (default 0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run folder (default runs/<model>-<date>-<time>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out DIR from its checkpoint, with its settings")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (one line per epoch is still printed)")
    p.add_argument("--limit", type=_number(int, 1), default=None, metavar="N",
                   help="use only the first N training and N test images (smoke runs, tests)")
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
    from .. import models
    from ..data import DataLoader
    from ..optim.lr_scheduler import CosineAnnealingLR
    from ..rng import manual_seed
    from .checkpoint import load_checkpoint
    from .plots import matplotlib_available, plot_feature_maps, plot_filters
    from .progress import log
    from .trainer import CHECKPOINT_NAME, fit

    prog = "python -m minicnn train"
    if args.model == "get_model" or args.model not in models.__all__:
        try:
            models.get_model(args.model)           # raises the message naming the models
        except ValueError as e:
            print(f"{prog}: error: argument MODEL: {e}", file=sys.stderr)
            return 2
    try:
        saved_meta = None
        if args.resume:
            if args.out is None:
                raise _ArgumentError("--resume", "needs --out DIR, the run folder to continue")
            path = Path(args.out) / CHECKPOINT_NAME
            if not path.is_file():
                raise _ArgumentError("--out", f"no checkpoint to resume in {args.out} "
                                     f"(expected {path})")
            saved_meta = load_checkpoint(path)["meta"]
            if saved_meta.get("model") != args.model:
                raise _ArgumentError("MODEL", f"the run in {args.out} trains "
                                     f"{saved_meta.get('model')!r}, not {args.model!r}")
        elif args.out is not None and (Path(args.out) / CHECKPOINT_NAME).exists():
            raise _ArgumentError("--out", f"{args.out} already holds a run's checkpoint; add "
                                 "--resume to continue it, or choose another folder")
        config = _resolve_config(args, None if saved_meta is None else saved_meta["config"])
    except _ArgumentError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2

    run_dir = Path(args.out) if args.out is not None else _new_run_folder(args.model)
    input_shape = models.input_shape(args.model)
    log(f"loading the data ({config['data']})...")
    try:
        train_raw = _load_split(config["data"], True, config["limit"])
        test_raw = _load_split(config["data"], False, config["limit"])
        steps, margin = _fitting(_source_shape(train_raw), input_shape)
    except (FileNotFoundError, ImportError, ValueError) as e:
        print(f"{prog}: error: argument --data: {e}", file=sys.stderr)
        return 2
    stats = (_channel_stats(train_raw, steps[:-1]) if saved_meta is None
             else tuple(saved_meta["normalize"]))
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
    meta = {"model": args.model, "model_args": model_args, "input_shape": list(input_shape),
            "data": config["data"], "normalize": [list(stats[0]), list(stats[1])],
            "classes": [str(c) for c in train_raw.classes], "config": config}

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(meta, indent=1) + "\n")
    settings = ", ".join(f"{k}={config[k]}" for k in ("epochs", "batch_size", "optimizer", "lr",
                                                       "momentum", "weight_decay"))
    log(f"training {args.model} ({sum(p.size for p in model.parameters()):,} parameters) on "
        f"{config['data']}: {len(train_set)} training images, {len(test_set)} test images, "
        f"input {'x'.join(map(str, input_shape))}; {settings}, cosine lr schedule; "
        f"run folder {run_dir}")
    plots = matplotlib_available()
    if not plots:
        log("matplotlib is not installed, so no plots (pip install 'minicnn[plots]')")
    title = f"{args.model} on {config['data']}"
    started = time.perf_counter()
    try:
        history = fit(model, train_loader, test_loader, optimizer, config["epochs"],
                      scheduler=scheduler, label_smoothing=config["label_smoothing"],
                      checkpoint_dir=run_dir, resume=args.resume, progress=not args.quiet,
                      meta=meta, callback=lambda h: _write_outputs(run_dir, h, title))
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m minicnn train {args.model} "
              f"--out {run_dir} --resume", file=sys.stderr)
        return 130
    except FloatingPointError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    _write_outputs(run_dir, history, title)
    if plots:
        plot_filters(model, run_dir / "filters.png")
        plot_feature_maps(model, test_set[0][0], run_dir / "feature_maps.png")
    last = history.last
    log(f"done in {time.perf_counter() - started:.0f} s: test top-1 {100 * last['val_top1']:.2f}%"
        f", top-5 {100 * last['val_top5']:.2f}%, loss {last['val_loss']:.4f}; "
        f"{run_dir / CHECKPOINT_NAME}" + (f", {run_dir / 'curves.png'}" if plots else ""))
    return 0


# ----------------------------------------------------------------------------- evaluate


def cmd_evaluate(args):
    from ..data import DataLoader
    from .checkpoint import load_checkpoint, load_model
    from .metrics import confusion_matrix
    from .plots import matplotlib_available, plot_confusion_matrix
    from .trainer import CHECKPOINT_NAME, evaluate

    prog = "python -m minicnn evaluate"
    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    try:
        state = load_checkpoint(path)
        model = load_model(state)
    except (FileNotFoundError, ValueError) as e:
        message = f"no such file {path}" if isinstance(e, FileNotFoundError) else str(e)
        print(f"{prog}: error: argument CHECKPOINT: {message}", file=sys.stderr)
        return 2
    meta = state["meta"]
    if "input_shape" not in meta or "normalize" not in meta:
        print(f"{prog}: error: argument CHECKPOINT: {path} was not written by the train "
              "command (no input_shape/normalize in its meta)", file=sys.stderr)
        return 2
    spec = args.data or meta["data"]
    input_shape = tuple(int(s) for s in meta["input_shape"])
    try:
        test_raw = _load_split(spec, False, args.limit)
        steps, _ = _fitting(_source_shape(test_raw), input_shape)
    except (FileNotFoundError, ImportError, ValueError) as e:
        print(f"{prog}: error: argument --data: {e}", file=sys.stderr)
        return 2
    classes = list(meta.get("classes") or test_raw.classes)
    if len(test_raw.classes) != len(classes):
        print(f"{prog}: error: argument --data: {spec} has {len(test_raw.classes)} classes, "
              f"the model {len(classes)}", file=sys.stderr)
        return 2
    tta = False
    if args.tta:
        from ..data import transforms as T
        tta = "tencrop" if spec.partition(":")[0] in MIRROR_SAFE else "fivecrop"
        steps = steps[:-1] + [T.CenterCrop((input_shape[1] + 4, input_shape[2] + 4))]
        print(f"test-time augmentation: {tta} ({'ten' if tta == 'tencrop' else 'five'} crops "
              f"of {input_shape[1]}x{input_shape[2]} from images with a 2-pixel margin"
              + ("" if tta == "tencrop" else "; no mirror images: they change digits") + ")")
    test_set = _prepared(test_raw, steps, meta["normalize"])
    loader = DataLoader(test_set, batch_size=args.batch_size)
    started = time.perf_counter()
    result = evaluate(model, loader, tta=tta, crop_size=input_shape[1:],
                      progress=not args.quiet)
    seconds = time.perf_counter() - started
    print(f"{meta['model']} on {spec} ({len(test_set)} test images{', ' + tta if tta else ''}): "
          f"loss {result.loss:.4f}, top-1 {100 * result.top1:.2f}%, "
          f"top-5 {100 * result.top5:.2f}% ({seconds:.1f} s)")
    out = Path(args.out) if args.out is not None else path.parent
    out.mkdir(parents=True, exist_ok=True)
    matrix = confusion_matrix(result.labels, result.predictions, len(classes))
    report = {"checkpoint": str(path), "data": spec, "tta": tta or None, "images": len(test_set),
              "loss": result.loss, "top1": result.top1, "top5": result.top5,
              "confusion_matrix": matrix.tolist(), "classes": classes}
    (out / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
    if matplotlib_available():
        plot_confusion_matrix(matrix, out / "confusion_matrix.png", class_names=classes)
        print(f"confusion matrix: {out / 'confusion_matrix.png'}")
    else:
        print("matplotlib is not installed, so no confusion-matrix plot (pip install "
              "'minicnn[plots]'); the matrix is in evaluation.json")
    return 0
