"""The command line: ``python -m minicnn <command>``.

Commands: ``gradcheck`` (gradient-check every registered op and print a table).
Bad arguments give a one-line error naming the argument, not a traceback.
"""

import argparse
import sys

import numpy as np


def cmd_gradcheck(args):
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


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="python -m minicnn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("gradcheck", help="gradient-check every registered op, print a table")
    p.add_argument("--filter", default="", help="only ops whose 'family.name' contains this")
    p.add_argument("--seed", type=int, default=0, help="seed of the random test inputs")
    p.set_defaults(run=cmd_gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
