"""DistributedDataParallel in one process: the buckets, the gradient helper, and the wrapper
on a one-rank job (its averaging and broadcast over 2 and 3 ranks run in test_mpi.py)."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.distributed import DistributedDataParallel, DistributedError, comm, gradient_array
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
    np.testing.assert_array_equal(buffer[2:], model.weight.grad.data.ravel())
    bucket.unpack(buffer * 2)
    np.testing.assert_array_equal(gradient_array(model.bias), np.zeros(2))
    np.testing.assert_array_equal(gradient_array(model.weight), 2 * buffer[2:].reshape(2, 3))


@pytest.fixture
def one_rank_job(monkeypatch):
    """The collectives of a job of one rank (the MPI tests run 2 and 3)."""
    monkeypatch.setattr(comm, "world_size", lambda: 1)
    monkeypatch.setattr(comm, "broadcast", lambda array, src=0: array)
    monkeypatch.setattr(comm, "all_reduce_start",
                        lambda array: comm.PendingReduction(array, _Done()))


class _Done:
    """A request that has completed."""

    def Test(self):
        return True


def test_the_wrapper_forwards_and_names_its_state_as_pytorch(one_rank_job, rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    wrapped = DistributedDataParallel(model)
    assert list(wrapped.state_dict()) == [f"module.{key}" for key in model.state_dict()]
    x = minicnn.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    with minicnn.no_grad():
        np.testing.assert_array_equal(wrapped.eval()(x).data, model(x).data)


def test_backward_averages_by_itself_and_no_sync_accumulates(one_rank_job, rng, monkeypatch):
    """As PyTorch's DDP: loss.backward() averages (one all-reduce per bucket, after every
    gradient is accumulated); inside no_sync() nothing is averaged and the gradients add up;
    sync_gradients() then averages the sums, and is a no-op when nothing is pending."""
    all_reduces = []
    start = comm.all_reduce_start
    monkeypatch.setattr(comm, "all_reduce_start",
                        lambda buffer: all_reduces.append(buffer.size) or start(buffer))
    model = nn.Linear(3, 2)
    wrapped = DistributedDataParallel(model)
    x = minicnn.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    wrapped(x).sum().backward()
    assert all_reduces == [8]                              # 6 weights + 2 biases, one bucket
    grad = gradient_array(model.weight).copy()             # one rank: the mean is itself
    wrapped.sync_gradients()                               # already averaged: nothing to do
    assert all_reduces == [8]
    with wrapped.no_sync():
        wrapped(x).sum().backward()
        wrapped(x).sum().backward()
    assert all_reduces == [8]
    np.testing.assert_allclose(gradient_array(model.weight), 3 * grad, rtol=1e-6)
    wrapped.sync_gradients()
    assert all_reduces == [8, 8]
    wrapped(x)                                             # a forward without backward is fine
    with minicnn.no_grad():
        wrapped(x)