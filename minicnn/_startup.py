"""Ctrl-C while the command line starts.

``python -m minicnn ...`` and the ``minicnn`` script import the whole package (NumPy,
Numba and the kernels: 0.3 s) before ``__main__.main`` and its Ctrl-C handling exist. So
when, and only when, this import is such a start, Ctrl-C ends the command with one line
and exit status 130 instead of an import traceback, until ``main`` takes over
(``__main__._take_over_ctrl_c``). Imported as a library, minicnn leaves its user's signal
handlers alone.
"""

import os
import signal
import sys
import threading


def interrupted_while_starting(signum, frame):
    sys.stderr.write("minicnn: interrupted\n")
    raise SystemExit(130)


def _started_from_the_command_line():
    # While ``python -m minicnn`` imports the package, sys.argv[0] is still "-m".
    program = sys.argv[0] if sys.argv else ""
    return program == "-m" or os.path.basename(program) == "minicnn"


if (_started_from_the_command_line()
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
    signal.signal(signal.SIGINT, interrupted_while_starting)
