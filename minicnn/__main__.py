"""The command line: ``python -m minicnn <command>``.

Commands: ``gradcheck`` (gradient-check every registered op and print a table),
``summary MODEL`` (layers, output shapes, parameters and MACs of a model),
``train MODEL`` and ``evaluate CHECKPOINT`` (in ``minicnn/train/command.py``),
``bench ops|train|models`` (the scripts in the checkout's ``benchmarks/`` folder).
Bad arguments give a one-line error naming the argument, not a traceback (exit status 2);
warnings are one line too; Ctrl-C prints "interrupted" (exit status 130).
"""

import argparse
import sys
import warnings

from ._cli import Parser, int_in_range


def cmd_gradcheck(args):
    import numpy as np

    from .gradcheck import gradcheck_report
    from .opchecks import all_cases

    rng = np.random.default_rng(args.seed)
    rows, failures = [], []
    for family, name, fn, inputs in all_cases(rng):
        if args.filter and args.filter not in f"{family}.{name}":
            continue
        try:
            report = gradcheck_report(fn, inputs)
        except Exception as e:  # an op that crashes is a failing row, not the end of the table
            rows.append((f"{family}: {name}", len(inputs), float("nan"), False))
            failures.append(f"{family}: {name}\n{type(e).__name__}: {e}")
            continue
        rows.append((f"{family}: {name}", report.num_inputs, report.max_rel_error, report.passed))
        if not report.passed:
            failures.append(f"{family}: {name}\n{report.message()}")
    if not rows:
        print(f"python -m minicnn gradcheck: error: no op matches --filter {args.filter!r}",
              file=sys.stderr)
        return 2
    width = max([len(r[0]) for r in rows] + [2])
    print(f"{'op':<{width}} | inputs | max relative error | pass")
    print(f"{'-' * width}-+--------+--------------------+-----")
    for name, n, err, ok in rows:
        print(f"{name:<{width}} | {n:>6} | {err:>18.2e} | {'yes' if ok else 'NO'}")
    print(f"\n{sum(r[3] for r in rows)} of {len(rows)} ops pass "
          f"(relative error |analytic - numeric| / (|numeric| + atol/rtol), pass at <= 1e-3)")
    for f in failures:
        print("\n" + f)
    return 0 if not failures else 1


def cmd_summary(args):
    from . import models
    from .summary import summary

    prog = "python -m minicnn summary"
    kwargs = {} if args.num_classes is None else {"num_classes": args.num_classes}
    try:
        model = models.get_model(args.model, **kwargs)
    except ValueError as e:
        print(f"{prog}: error: argument MODEL: {e}", file=sys.stderr)
        return 2
    input_shape = args.input or models.input_shape(args.model)
    channels = models.input_shape(args.model)[0]
    if input_shape[0] != channels:      # found before a large input is allocated
        print(f"{prog}: error: argument --input: {args.model} takes {channels}-channel images, "
              f"got {'x'.join(map(str, input_shape))}", file=sys.stderr)
        return 2
    try:
        summary(model, input_shape, depth=args.depth)
    except ValueError as e:  # e.g. an input too small for the model's downsampling
        print(f"{prog}: error: argument --input: {e}", file=sys.stderr)
        return 2
    return 0


BENCHMARKS = {"ops": "bench_ops.py", "train": "bench_train.py", "models": "bench_models.py",
              "transfer": "bench_transfer.py", "distributed": "bench_distributed.py"}


def cmd_bench(args):
    import os
    import runpy

    # The benchmarks are scripts beside the package in a source checkout, not installed code.
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")
    script = os.path.join(folder, BENCHMARKS[args.suite])
    if not os.path.isfile(script):
        print(f"python -m minicnn bench: error: {script} not found; the benchmarks live in the "
              "source checkout (install it with pip install -e .)", file=sys.stderr)
        return 2
    sys.argv = [script] + args.options
    sys.path.insert(0, folder)      # as `python benchmarks/X.py` would: they import each other
    runpy.run_path(script, run_name="__main__")
    return 0


def _image_shape(text):
    """``'3x224x224'`` -> ``(3, 224, 224)``, for ``--input`` (sides at most MAX_INPUT_SIDE)."""
    from .train.command import MAX_INPUT_SIDE

    parts = text.lower().split("x")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() and int(part) > 0
                                  for part in parts):
        raise argparse.ArgumentTypeError(f"expected CxHxW with three positive ints, e.g. "
                                         f"3x224x224, got {text!r}")
    shape = tuple(int(part) for part in parts)
    if max(shape[1:]) > MAX_INPUT_SIDE:
        raise argparse.ArgumentTypeError(f"the height and width must be at most "
                                         f"{MAX_INPUT_SIDE}, got {text!r}")
    return shape


def build_parser():
    from .train.checkpoint import MAX_NUM_CLASSES
    from .train.command import add_evaluate_parser, add_train_parser

    parser = Parser(prog="python -m minicnn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p = sub.add_parser("gradcheck", help="gradient-check every registered op, print a table")
    p.add_argument("--filter", default="", help="only ops whose 'family.name' contains this")
    p.add_argument("--seed", type=int_in_range(0), default=0,
                   help="seed of the random test inputs (an int >= 0)")
    p.set_defaults(run=cmd_gradcheck)
    p = sub.add_parser("summary", help="print a model's layers, output shapes, parameters "
                       "and multiply-accumulates")
    p.add_argument("model", metavar="MODEL", help="a name in minicnn.models, e.g. resnet50")
    p.add_argument("--input", type=_image_shape, default=None, metavar="CxHxW",
                   help="input image shape (default: 1x32x32 for lenet5, 3x299x299 for "
                   "inception_v3, 3x32x32 for the CIFAR resnets, else 3x224x224)")
    p.add_argument("--num-classes", type=int_in_range(1, MAX_NUM_CLASSES), default=None,
                   metavar="N",
                   help="number of classes (default: the model's)")
    p.add_argument("--depth", type=int_in_range(0), default=None, metavar="D",
                   help="show layers at most D levels deep, folding deeper ones into them")
    p.set_defaults(run=cmd_summary)
    add_train_parser(sub)
    add_evaluate_parser(sub)
    p = sub.add_parser("bench", help="time ops, training steps or models (and PyTorch, if "
                       "installed) with the scripts in benchmarks/")
    p.add_argument("suite", choices=sorted(BENCHMARKS), help="ops: convolution, pooling, "
                   "norm and loss kernels; train: a full training step; models: forward time; "
                   "transfer: a head trained through a frozen backbone or on cached features; "
                   "distributed: ResNet-20 on 2 ranks against 2 threads, and 8-64 machines on "
                   "paper")
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="passed to the script, e.g. --repeats 5 or --only conv")
    p.set_defaults(run=cmd_bench)
    return parser


def main(argv=None):
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status:
    0, 1 (a failed check or run), 2 (a user's mistake, one line on stderr) or 130
    (interrupted). The console script ``minicnn`` and ``python -m minicnn`` both come here,
    so everything heavy is imported inside the ``try``: Ctrl-C during those imports or the
    first data generation prints one line too, never a traceback."""
    prog = "python -m minicnn"
    _take_over_ctrl_c()
    try:
        args = build_parser().parse_args(argv)
        prog = f"{prog} {args.command}"
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning(prog)
            return args.run(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def _take_over_ctrl_c():
    """From here Ctrl-C is a KeyboardInterrupt that ``main`` reports; until now the package's
    ``__init__`` kept it from printing an import traceback (see there)."""
    import signal

    from ._startup import interrupted_while_starting
    if signal.getsignal(signal.SIGINT) is interrupted_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _one_line_warning(prog):
    """A ``warnings.showwarning`` that prints ``prog: warning: message`` (no source line)."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {' '.join(str(message).split())}", file=file or sys.stderr)
    return show


if __name__ == "__main__":
    sys.exit(main())
