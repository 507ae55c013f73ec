"""minicnn.kernels.threads: the OpenMP wait policy and one-thread launches of small kernels."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from numba import njit, prange

from minicnn.kernels.threads import launch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@njit(parallel=True)
def _threads_seen(out):
    for i in prange(out.shape[0]):
        out[i] = numba.get_num_threads()


@pytest.mark.parametrize("parallel", [False, True])
def test_launch_sets_the_thread_count_for_one_call_only(parallel):
    before = numba.get_num_threads()
    seen = np.zeros(4, dtype=np.int64)
    launch(_threads_seen, parallel, seen)
    assert set(seen) == ({before} if parallel else {1})
    assert numba.get_num_threads() == before  # restored


def test_launch_restores_the_thread_count_when_the_kernel_raises():
    before = numba.get_num_threads()

    def failing(*args):
        raise ValueError("inside the kernel")

    with pytest.raises(ValueError, match="inside the kernel"):
        launch(failing, False)
    assert numba.get_num_threads() == before


def _wait_policy_after_import(env_value):
    """What libgomp read, and what the environment holds, after ``import minicnn``."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env.update({"OMP_DISPLAY_ENV": "TRUE", "NUMBA_THREADING_LAYER": "omp"})
    if env_value is not None:
        env["OMP_WAIT_POLICY"] = env_value
    code = "import os, minicnn; print('left:', os.environ.get('OMP_WAIT_POLICY'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    if "threading layer" in done.stderr and "omp" in done.stderr:
        pytest.skip("Numba's OpenMP threading layer is not available here")
    assert done.returncode == 0, done.stderr
    # libgomp prints its settings to stderr at load: "  OMP_WAIT_POLICY = 'PASSIVE'"
    read = [line.split("=")[1].strip(" '") for line in done.stderr.splitlines()
            if line.strip().startswith("OMP_WAIT_POLICY")]
    return read, done.stdout.strip()


def test_numba_openmp_waits_passively_and_the_variable_is_removed_again():
    read, left = _wait_policy_after_import(None)
    assert read == ["PASSIVE"]
    assert left == "left: None"  # libraries loaded later keep their own default


def test_a_wait_policy_the_user_set_is_kept():
    read, left = _wait_policy_after_import("ACTIVE")
    assert read == ["ACTIVE"]
    assert left == "left: ACTIVE"
