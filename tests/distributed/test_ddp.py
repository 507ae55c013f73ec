"""DistributedDataParallel's parts that need no job: the gradient helper and the buckets.
(Its averaging and broadcast run under mpiexec in test_mpi.py.)"""

import numpy as np
import pytest

from minicnn import nn
from minicnn.distributed import DistributedDataParallel, DistributedError, gradient_array
from minicnn.distributed.ddp import _plan_buckets


def test_wrapping_outside_a_job_asks_for_init():
    with pytest.raises(DistributedError, match="call minicnn.distributed.init"):
        DistributedDataParallel(nn.Linear(2, 3))
    with pytest.raises(TypeError, match="expected a Module"):
        DistributedDataParallel("model")


def test_buckets_respect_the_cap_and_the_dtype_and_start_from_the_last_layer():
    model = nn.Sequential(nn.Linear(100, 50), nn.Linear(50, 10))       # 5000+50, 500+10
    params = list(model.parameters())
    buckets = _plan_buckets(params, cap_bytes=4 * 600)
    # reversed: b2, w2, b1 (40 + 2000 + 200 bytes) fit in 2400; w1 (20 kB) gets its own
    assert [[p.shape for p in b.params] for b in buckets] == [[(10,), (10, 50), (50,)],
                                                              [(50, 100)]]
    model[0].double()                                                  # a float64 layer
    assert [b.dtype for b in _plan_buckets(params, cap_bytes=2**20)] == [np.float32, np.float64]


def test_a_bucket_packs_gradients_contiguously_and_missing_ones_as_zeros(rng):
    model = nn.Linear(3, 2)
    model.weight.grad = rng.standard_normal((2, 3)).astype(np.float32)
    (bucket,) = _plan_buckets(list(model.parameters()), cap_bytes=2**20)
    buffer = bucket.pack()
    assert buffer.shape == (8,) and buffer.flags.c_contiguous
    np.testing.assert_array_equal(buffer[:2], 0)                       # bias: no gradient
    np.testing.assert_array_equal(buffer[2:], model.weight.grad.ravel())
    bucket.unpack(buffer * 2)
    np.testing.assert_array_equal(gradient_array(model.bias), np.zeros(2))
    np.testing.assert_array_equal(gradient_array(model.weight), 2 * buffer[2:].reshape(2, 3))
