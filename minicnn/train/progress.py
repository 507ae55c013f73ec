"""Progress reporting for training: a tqdm bar in a terminal, plain lines elsewhere.

The bar (one per pass over the data, removed when the pass ends) shows the batches done,
the running loss and accuracy and the images per second. It appears only when asked for
*and* standard output is a terminal: in a log file or a pipe a bar's carriage returns are
noise, so there the trainer prints one summary line per epoch instead (``log``), which a
terminal run shows too, above the bar. A long pass without a bar also prints a line
every ``LOG_SECONDS`` (batches done, running loss and accuracy, images per second), so a
log shows that a slow epoch is moving.
"""

import sys
import time

__all__ = ["PassProgress", "log", "bar_wanted"]

_REFRESH_SECONDS = 0.25     # postfix updates cost ~50 us; a few per second are enough
LOG_SECONDS = 60.0          # without a bar: a line at most this often during a pass


def bar_wanted(progress):
    """True when a bar should be drawn: ``progress`` and standard output is a terminal."""
    if not progress:
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


class PassProgress:
    """The bar of one pass over a loader, or nothing when ``enabled`` is False.

    Parameters
    ----------
    total : int or None
        Batches in the pass (``len(loader)``), None if unknown.
    desc : str
        Shown at the left, e.g. ``'epoch 3/10'``.
    enabled : bool
        Draw the bar (see ``bar_wanted``).
    lines : bool
        Without a bar, print a line every ``LOG_SECONDS`` of the pass.
    """

    def __init__(self, total, desc, enabled, lines=False):
        self.bar = None
        self.total = total
        self.desc = desc
        self.lines = lines and not enabled
        self.batches = 0
        self.start = time.perf_counter()
        self.last_refresh = 0.0
        self.last_line = self.start
        if enabled:
            from tqdm import tqdm      # an install_requires dependency; imported when shown
            self.bar = tqdm(total=total, desc=desc, leave=False, file=sys.stdout,
                            unit="batch", dynamic_ncols=True)

    def update(self, images, loss=None, accuracy=None):
        """One batch done; ``images`` processed so far in the pass, running loss/accuracy."""
        self.batches += 1
        if self.bar is None:
            if self.lines:
                self._line(images, loss, accuracy)
            return
        self.bar.update(1)
        now = time.perf_counter()
        if now - self.last_refresh < _REFRESH_SECONDS:
            return
        self.last_refresh = now
        postfix = {}
        if loss is not None:
            postfix["loss"] = f"{loss:.4f}"
        if accuracy is not None:
            postfix["acc"] = f"{100 * accuracy:.2f}%"
        postfix["img/s"] = f"{images / max(now - self.start, 1e-9):.0f}"
        self.bar.set_postfix(postfix)          # redraws (at most every _REFRESH_SECONDS)

    def _line(self, images, loss, accuracy):
        now = time.perf_counter()
        if now - self.last_line < LOG_SECONDS:
            return
        self.last_line = now
        parts = [f"{self.desc}: batch {self.batches}/{self.total or '?'}"]
        if loss is not None:
            parts.append(f"loss {loss:.4f}")
        if accuracy is not None:
            parts.append(f"acc {100 * accuracy:.2f}%")
        parts.append(f"{images / max(now - self.start, 1e-9):.0f} img/s")
        log(" | ".join(parts))

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def log(line):
    """Print ``line`` to standard output now (through tqdm when it is loaded, so a bar that
    is being drawn is not broken)."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        tqdm.tqdm.write(line, file=sys.stdout)
    else:
        print(line, flush=True)
    sys.stdout.flush()
