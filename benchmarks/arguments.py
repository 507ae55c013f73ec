"""Command-line plumbing shared by the benchmark scripts (not a benchmark itself).

The scripts answer a user's mistake as ``python -m minicnn`` does: one line,
``bench_ops.py: error: argument --repeats: expected an int >= 1, got '0'``, exit status 2,
found while parsing, so before anything is built or timed. Ctrl-C prints
``bench_ops.py: interrupted`` (exit status 130), not a traceback.
"""

import os
import sys

from minicnn._cli import Parser, int_in_range  # noqa: F401 (the scripts import them from here)


def run(main):
    """Run a script's ``main()``; Ctrl-C prints ``script.py: interrupted``, exit status 130."""
    try:
        main()
    except KeyboardInterrupt:
        print(f"{os.path.basename(sys.argv[0])}: interrupted", file=sys.stderr)
        sys.exit(130)
