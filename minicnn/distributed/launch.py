"""Starting ranks from Python: the ``mpiexec`` command line, and whether MPI is installed.

The tests, the benchmark and the tutorial launch ``mpiexec -n K python ...`` as a
subprocess; this is the one place that knows Open MPI's extra flags:
``--allow-run-as-root`` (Open MPI refuses to run as root without it, e.g. in a container or
CI) and ``--oversubscribe`` (more ranks than cores, e.g. 3 ranks on a 2-core laptop).
"""

import importlib.util
import os
import shutil
import subprocess

__all__ = ["mpi_missing_reason", "mpiexec_command"]


def mpi_missing_reason():
    """None when mpi4py and ``mpiexec`` are installed, else a sentence saying what is missing."""
    missing = [what for what, present in
               [("mpi4py", importlib.util.find_spec("mpi4py") is not None),
                ("mpiexec", shutil.which("mpiexec") is not None)] if not present]
    if not missing:
        return None
    return (f"{' and '.join(missing)} not installed: pip install 'minicnn[distributed]' "
            "(brings mpi4py and Open MPI's mpiexec)")


def _is_open_mpi(mpiexec):
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             check=False).stdout
    return "Open MPI" in version or "OpenRTE" in version


def mpiexec_command(ranks, argv):
    """``['mpiexec', ..., '-n', K, *argv]``: the flags Open MPI needs here, and none that
    another MPI would not understand."""
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        raise FileNotFoundError(mpi_missing_reason())
    flags = []
    if _is_open_mpi(mpiexec):
        flags.append("--oversubscribe")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--allow-run-as-root")
    return [mpiexec, *flags, "-n", str(int(ranks)), *argv]
