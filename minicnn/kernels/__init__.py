"""Kernels: pure NumPy/Numba computations on arrays (no Tensor, no autograd).

Each fast kernel sits next to a plain-loop ``*_reference`` version of the same computation,
which is the one to read first and the one the fast version is tested against.
"""
