"""How the parallel Numba kernels share the machine's cores with NumPy's BLAS.

Two decisions, both measured on a 2-core machine with a ResNet-20 training step (batch 32),
whose time goes to BLAS matrix products (threaded by OpenBLAS) interleaved with Numba
kernels (threaded by Numba's OpenMP layer):

* **OpenMP workers wait passively.** By default an OpenMP worker that has finished its
  share *spins* for a while, waiting for the next parallel loop. Here that loop rarely
  comes: the next call is a BLAS product, whose own threads then fight the spinning workers
  for the two cores. Loading Numba's OpenMP runtime with ``OMP_WAIT_POLICY=PASSIVE`` made
  the step 2x faster (758 -> 374 ms); idle workers sleep and are woken by the next launch
  (microseconds). A value the user set is respected, and the variable is removed again
  once the runtime has read it, so that libraries loaded later (PyTorch's own OpenMP, say)
  keep their defaults.
* **Small kernels run on one thread.** Waking the workers costs tens of microseconds on a
  quiet machine and up to a scheduler time slice on a busy one, more than a small kernel
  saves. Each kernel family sets its own bar (``PARALLEL_MIN_WORK`` in ``conv.py`` and
  ``pool.py``, ``PARALLEL_MIN_SIZE`` in ``norm.py``) and calls ``launch``.
"""

import os

import numba

__all__ = ["launch"]


def _start_numba_threads():
    """Start Numba's thread pool, its OpenMP runtime reading ``OMP_WAIT_POLICY=PASSIVE``."""
    if "OMP_WAIT_POLICY" in os.environ:  # the user's choice
        numba.get_num_threads()
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()  # loads the threading layer, whose OpenMP reads the variable
    finally:
        del os.environ["OMP_WAIT_POLICY"]


def launch(kernel, parallel, *args):
    """Call the compiled ``prange`` kernel with ``args``: on Numba's threads when ``parallel``,
    else on the calling thread alone.

    (One compilation, its thread count set per call: a second, serial compilation of the
    same function would share its on-disk cache entry, numba issue #6845.)
    """
    threads = numba.get_num_threads()
    if parallel or threads == 1:
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)


_start_numba_threads()
