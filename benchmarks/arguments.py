"""Command-line plumbing shared by the benchmark scripts (not a benchmark itself).

The scripts answer a user's mistake as ``python -m minicnn`` does: one line,
``bench_ops.py: error: argument --repeats: expected an int >= 1, got '0'``, exit status 2,
found while parsing, so before anything is built or timed. Ctrl-C prints
``bench_ops.py: interrupted`` (exit status 130), not a traceback.
"""

import argparse
import os
import sys


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage dump), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_in_range(minimum, maximum=None):
    """An argparse ``type``: the text as an int in [minimum, maximum] (no maximum if None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and <= {maximum}"
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}{upper}, got {text!r}")
        return value
    return parse


def run(main):
    """Run a script's ``main()``; Ctrl-C prints ``script.py: interrupted``, exit status 130."""
    try:
        main()
    except KeyboardInterrupt:
        print(f"{os.path.basename(sys.argv[0])}: interrupted", file=sys.stderr)
        sys.exit(130)
