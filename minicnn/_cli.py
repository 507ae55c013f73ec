"""Command-line plumbing shared by ``python -m minicnn``, ``python -m minicnn.coursework``
and the benchmark scripts: a user's mistake is one line, ``prog: error: message``, and exit
status 2, never a usage dump or a traceback."""

import argparse

__all__ = ["Parser", "int_in_range"]


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
