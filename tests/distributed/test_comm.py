"""The process group in one process: the errors a student meets first, and minicnn without
mpi4py. (The collectives themselves run under mpiexec in test_mpi.py.)"""

import subprocess
import sys

import numpy as np
import pytest

from minicnn import distributed as dist
from minicnn.distributed import comm


@pytest.fixture
def no_launcher(monkeypatch):
    for name in comm.LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_init_outside_mpiexec_says_how_to_launch(no_launcher):
    with pytest.raises(dist.DistributedError, match="not started by mpiexec.*mpiexec -n K python"):
        dist.init()
    assert not dist.is_initialized()


def test_init_without_mpi4py_says_what_to_install(no_launcher, monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)          # import mpi4py fails
    with pytest.raises(dist.DistributedError, match=r"needs mpi4py.*minicnn\[distributed\]"):
        dist.init()
    assert not dist.is_initialized()


def test_bad_timeout_is_a_value_error():
    with pytest.raises(ValueError, match="init\\(timeout\\): expected a number of seconds > 0"):
        dist.init(timeout=0)


def test_outside_a_job_rank_and_world_size_ask_for_init_and_this_process_is_main():
    for query in (dist.rank, dist.world_size, dist.barrier):
        with pytest.raises(dist.DistributedError, match="call minicnn.distributed.init"):
            query()
    assert dist.is_main_process()
    assert dist.reduce_metrics({"loss_sum": 3, "images": 4}) == {"loss_sum": 3.0, "images": 4.0}
    with pytest.raises(TypeError, match="expected a dict"):
        dist.reduce_metrics([1, 2])


def test_collectives_check_their_arrays_first():
    with pytest.raises(TypeError, match=r"all_reduce\(array\): expected a numpy.ndarray"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(ValueError, match="C-contiguous"):
        dist.all_reduce(np.zeros((3, 4))[:, ::2])
    with pytest.raises(TypeError, match="numeric"):
        dist.broadcast(np.array(["a"]))
    with pytest.raises(ValueError, match="expected one of sum, mean, max, min"):
        dist.all_reduce(np.zeros(2), op="product")


def test_minicnn_imports_and_trains_without_mpi4py():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import numpy as np, minicnn, minicnn.distributed as dist\n"
            "layer = dist.SyncBatchNorm(2)\n"
            "out = layer(minicnn.tensor(np.random.randn(4, 2, 3, 3).astype(np.float32)))\n"
            "assert out.shape == (4, 2, 3, 3) and dist.is_main_process()\n"
            "print('ok', dist.mpi_missing_reason() is not None)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok True"
