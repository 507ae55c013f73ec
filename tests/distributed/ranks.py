"""Launching test scenarios on K ranks (``mpiexec``) and reading what each rank wrote."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minicnn.distributed import mpi_missing_reason, mpiexec_command

REPO = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT = 180  # seconds for one mpiexec run (a first Numba compile included)

requires_mpi = pytest.mark.skipif(mpi_missing_reason() is not None,
                                  reason=str(mpi_missing_reason()))


def run_on_ranks(ranks, argv, expect_success=True, timeout=LAUNCH_TIMEOUT, cwd=REPO):
    """``mpiexec -n ranks python *argv`` with this checkout importable and one thread per
    rank (the ranks already share the cores); returns the finished process."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
        OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    result = subprocess.run(mpiexec_command(ranks, [sys.executable, *argv]), cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if expect_success:
        assert result.returncode == 0, (f"{' '.join(argv)} on {ranks} ranks failed "
                                        f"({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def run_ranks(scenario, ranks, out, expect_success=True, timeout=LAUNCH_TIMEOUT, arguments=()):
    """Run a scenario of ``mpi_scenarios`` on ``ranks`` ranks, writing into ``out``."""
    return run_on_ranks(ranks, ["-m", "tests.distributed.mpi_scenarios", scenario, str(out),
                                *arguments], expect_success, timeout)


def rank_results(out, ranks):
    """What each rank wrote: a dict of arrays per rank."""
    return [dict(np.load(out / f"rank{k}.npz")) for k in range(ranks)]


def parameters(result):
    return {key[len("param:"):]: value for key, value in result.items()
            if key.startswith("param:")}
