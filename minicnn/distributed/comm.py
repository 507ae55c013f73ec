"""The process group: starting MPI, who am I, and collectives on NumPy arrays.

Every rank runs the same script (``mpiexec -n K python script.py``); ranks are numbered
0 .. K-1 and talk only through *collectives*, calls that every rank makes in the same order:

    all_reduce(a)      every rank's ``a`` becomes the elementwise sum over the ranks
    broadcast(a, src)  every rank's ``a`` becomes rank ``src``'s
    barrier()          returns once every rank has reached it

If one rank skips a collective, or dies, the others would wait in it for ever. Two
safeguards bound that wait:

- ``init`` installs an exception hook: a rank whose script ends with an uncaught exception
  prints its traceback, marked with its rank, and calls ``MPI_Abort``, which makes
  ``mpiexec`` stop every rank (exit status 1) instead of leaving them blocked.
- Every collective here is started non-blocking and waited for with a deadline
  (``timeout`` seconds, default ``DEFAULT_TIMEOUT`` or ``MINICNN_DISTRIBUTED_TIMEOUT``): a
  rank still waiting after it raises ``DistributedError`` naming the collective, which
  (uncaught) aborts the job in turn.

mpi4py is imported by ``init`` only, so ``import minicnn`` works without it.
"""

import os
import pickle
import sys
import time
import traceback

import numpy as np

__all__ = ["DistributedError", "DEFAULT_TIMEOUT", "init", "is_initialized", "rank",
           "world_size", "is_main_process", "launched_by_mpi", "all_reduce", "all_reduce_start",
           "PendingReduction", "broadcast",
           "broadcast_object", "all_gather", "barrier", "reduce_metrics"]

DEFAULT_TIMEOUT = 300.0   # seconds a rank waits in one collective before giving up
TIMEOUT_VARIABLE = "MINICNN_DISTRIBUTED_TIMEOUT"
# Environment variables that MPI launchers set in every rank (Open MPI / PMIx, MPICH's Hydra).
LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK")
INSTALL_HINT = "pip install 'minicnn[distributed]' (brings mpi4py and Open MPI's mpiexec)"
LAUNCH_HINT = ("start it with mpiexec -n K python ... (as root Open MPI also needs "
               "--allow-run-as-root, and --oversubscribe for more ranks than cores)")
_REDUCE_OPS = ("sum", "mean", "max", "min")


class DistributedError(RuntimeError):
    """A distributed run cannot go on: MPI missing or not launched, or a collective that
    timed out because another rank stopped taking part."""


class _Group:
    """The one process group of this process (MPI's COMM_WORLD once ``init`` ran)."""

    mpi = None          # the mpi4py.MPI module
    comm = None         # MPI.COMM_WORLD
    timeout = DEFAULT_TIMEOUT


_group = _Group()


def launched_by_mpi():
    """Whether this process was started by an MPI launcher (``mpiexec``/``mpirun``/``srun``)."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def init(timeout=None):
    """Join the MPI job this process was launched in; calling it again does nothing.

    Parameters
    ----------
    timeout : float, optional
        Seconds a collective may wait for the other ranks before raising
        ``DistributedError`` (default: ``MINICNN_DISTRIBUTED_TIMEOUT`` or 300).

    Raises
    ------
    DistributedError
        mpi4py is not installed, or the process was not started by ``mpiexec``.
    """
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT))
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"init(timeout): expected a number of seconds > 0, got {timeout!r}")
    _group.timeout = float(timeout)
    if _group.comm is not None:
        return
    if not launched_by_mpi():
        raise DistributedError("this process was not started by mpiexec, so it has no other "
                               f"ranks to train with; {LAUNCH_HINT}")
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise DistributedError(f"training on several processes needs mpi4py ({error}); "
                               f"{INSTALL_HINT}") from None
    _group.mpi, _group.comm = MPI, MPI.COMM_WORLD
    sys.excepthook = _abort_on_uncaught_exception


def _abort_on_uncaught_exception(exc_type, exc, tb):
    """Print this rank's error and stop every rank (the others may be blocked in a collective)."""
    rank_, size = _group.comm.Get_rank(), _group.comm.Get_size()
    message = "".join(traceback.format_exception(exc_type, exc, tb))
    # the process's own stderr: the command line silences sys.stderr on ranks other than 0
    sys.__stderr__.write(f"minicnn.distributed: rank {rank_} of {size} failed; stopping all "
                         f"ranks.\n{message}")
    sys.__stderr__.flush()
    sys.stdout.flush()
    _group.comm.Abort(1)


def is_initialized():
    return _group.comm is not None


def _comm():
    if _group.comm is None:
        raise DistributedError("minicnn.distributed is not initialised: call "
                               "minicnn.distributed.init() first (in a script started by "
                               "mpiexec)")
    return _group.comm


def rank():
    """This process's number, 0 .. world_size() - 1."""
    return _comm().Get_rank()


def world_size():
    """The number of ranks K."""
    return _comm().Get_size()


def is_main_process():
    """True on rank 0, and in a process that is not part of a distributed run: the one that
    prints, writes files and saves checkpoints."""
    return _group.comm is None or _group.comm.Get_rank() == 0


def _wait(request, what, timeout=None):
    """Wait for a non-blocking MPI request, at most ``timeout`` (default: the group's).

    Polls instead of blocking so the deadline can be checked; the sleeps grow from none to
    1 ms, so a quick collective costs no sleep and a long wait leaves the core to others.
    """
    timeout = _group.timeout if timeout is None else timeout
    deadline = time.monotonic() + timeout
    pause = 0.0
    while not request.Test():
        if time.monotonic() > deadline:
            raise DistributedError(
                f"rank {rank()}: {what} waited more than {timeout:g} s for the other "
                f"ranks; one of them failed or skipped the collective (the timeout is "
                f"init(timeout=...) or {TIMEOUT_VARIABLE})")
        time.sleep(pause)
        pause = min(2 * pause + 1e-5, 1e-3)


def _contiguous_array(array, name):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray (reduced in place), got "
                        f"{type(array).__name__}")
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(f"{name}: the array must be C-contiguous and writeable (it is "
                         "overwritten in place); pass np.ascontiguousarray(a)")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {array.dtype}")
    return array


def all_reduce(array, op="sum"):
    """Reduce ``array`` elementwise over the ranks, in place on every rank; returns it.

    Parameters
    ----------
    array : ndarray, any shape, C-contiguous
        This rank's values; overwritten with the result.
    op : 'sum', 'mean', 'max' or 'min'
        'mean' is the sum divided by K (floating arrays).
    """
    _contiguous_array(array, "all_reduce(array)")
    if op not in _REDUCE_OPS:
        raise ValueError(f"all_reduce(op): expected one of {', '.join(_REDUCE_OPS)}, got {op!r}")
    if op == "mean" and array.dtype.kind != "f":
        raise TypeError(f"all_reduce(op='mean') needs a floating array, got dtype {array.dtype}")
    mpi = _group.mpi
    mpi_op = {"sum": mpi.SUM, "mean": mpi.SUM, "max": mpi.MAX, "min": mpi.MIN}[op]
    _wait(_comm().Iallreduce(mpi.IN_PLACE, array, op=mpi_op), f"all_reduce({op!r})")
    if op == "mean":
        array /= world_size()
    return array


class PendingReduction:
    """An all-reduce in flight (``all_reduce_start``); ``wait()`` returns the reduced array."""

    def __init__(self, array, request):
        self.array, self.request = array, request

    def wait(self, what="all_reduce"):
        _wait(self.request, what)
        return self.array


def all_reduce_start(array):
    """Start summing ``array`` over the ranks in place, without waiting: several reductions
    can be in flight at once (``DistributedDataParallel``'s buckets). Returns a
    ``PendingReduction``; the array must not be touched until its ``wait()``."""
    _contiguous_array(array, "all_reduce_start(array)")
    mpi = _group.mpi
    return PendingReduction(array, _comm().Iallreduce(mpi.IN_PLACE, array, op=mpi.SUM))


def broadcast(array, src=0):
    """Overwrite ``array`` on every rank with rank ``src``'s (same shape and dtype everywhere)."""
    _contiguous_array(array, "broadcast(array)")
    _check_src(src)
    _wait(_comm().Ibcast(array, root=src), f"broadcast(src={src})")
    return array


def _check_src(src):
    size = world_size()
    if not isinstance(src, int) or not 0 <= src < size:
        raise ValueError(f"src must be a rank in 0..{size - 1}, got {src!r}")


def broadcast_object(obj, src=0):
    """Rank ``src``'s ``obj`` (anything picklable), returned on every rank."""
    _check_src(src)
    payload = pickle.dumps(obj) if rank() == src else b""
    length = broadcast(np.array([len(payload)], dtype=np.int64), src)
    buffer = np.frombuffer(payload, dtype=np.uint8).copy() if rank() == src else \
        np.empty(int(length[0]), dtype=np.uint8)
    broadcast(buffer, src)
    return obj if rank() == src else pickle.loads(buffer.tobytes())


def all_gather(array):
    """Every rank's ``array`` stacked: shape ``(K, *array.shape)``, rank order, on every rank."""
    array = np.ascontiguousarray(array)
    _contiguous_array(array, "all_gather(array)")
    gathered = np.empty((world_size(),) + array.shape, dtype=array.dtype)
    _wait(_comm().Iallgather(array, gathered), "all_gather")
    return gathered


def barrier(timeout=None):
    """Return once every rank has called ``barrier`` (``DistributedError`` after ``timeout``
    seconds, default the group's)."""
    _wait(_comm().Ibarrier(), "barrier", timeout)


def reduce_metrics(totals):
    """Sum per-rank totals over the ranks, in one collective.

    Parameters
    ----------
    totals : dict of str -> number
        Sums this rank accumulated, e.g. ``{"loss_sum": 41.2, "correct": 30, "images": 64}``
        (sums, not means: a mean of means is wrong when ranks saw different counts).

    Returns
    -------
    dict of str -> float, the same keys, summed over the ranks (``totals`` itself, as
    floats, when not running distributed).
    """
    if not isinstance(totals, dict):
        raise TypeError(f"reduce_metrics: expected a dict of name -> number, got "
                        f"{type(totals).__name__}")
    values = np.array([float(v) for v in totals.values()], dtype=np.float64)
    if is_initialized():
        all_reduce(values)
    return dict(zip(totals, values.tolist()))
