"""SyncBatchNorm in one process: conversion, the plain-batch-norm fallback, and the
cross-rank formulas run on a one-rank "job" (the MPI tests check K = 2 and 3)."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.distributed import SyncBatchNorm, convert_sync_batchnorm, sync_batchnorm


def test_convert_replaces_every_batch_norm_and_shares_its_state():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.Sequential(nn.Flatten(), nn.Linear(3, 4), nn.BatchNorm1d(4)))
    weights = [model[1].weight, model[3][2].weight]
    running = [model[1].running_mean, model[3][2].running_var]
    keys = list(model.state_dict())
    converted = convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], SyncBatchNorm) and isinstance(model[3][2], SyncBatchNorm)
    assert model[1].weight is weights[0] and model[3][2].weight is weights[1]
    assert model[1].running_mean is running[0] and model[3][2].running_var is running[1]
    assert list(model.state_dict()) == keys
    single = SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm2d(2, momentum=0.3))
    assert isinstance(single, SyncBatchNorm) and single.momentum == 0.3


def test_outside_a_job_it_is_plain_batch_norm(rng):
    x = rng.standard_normal((4, 3, 5, 5))
    plain, synced = nn.BatchNorm2d(3).double(), SyncBatchNorm(3).double()
    grad = rng.standard_normal(x.shape)
    outputs = []
    for layer in (plain, synced):
        inputs = minicnn.tensor(x, requires_grad=True)
        out = layer(inputs)
        out.backward(grad)
        outputs.append((out.data, inputs.grad, layer.weight.grad, layer.running_var.copy()))
    for ours, theirs in zip(*outputs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.fixture
def one_rank_job(monkeypatch):
    """The collectives of a job of one rank: what the cross-rank code path reduces over."""
    monkeypatch.setattr(sync_batchnorm.comm, "is_initialized", lambda: True)
    monkeypatch.setattr(sync_batchnorm.comm, "all_gather", lambda a: np.asarray(a)[None])
    monkeypatch.setattr(sync_batchnorm.comm, "all_reduce", lambda a: a)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 5), (3, 3, 2, 7)])
def test_the_cross_rank_path_equals_batch_norm_and_passes_gradcheck(one_rank_job, shape, rng):
    x = rng.standard_normal(shape) * 3 + 5                      # a large mean: no cancellation
    layer = SyncBatchNorm(3, momentum=0.2).double()
    layer.weight.data[:] = rng.standard_normal(3)
    reference = nn.BatchNorm1d(3, momentum=0.2) if len(shape) == 2 else \
        nn.BatchNorm2d(3, momentum=0.2)
    reference.double().load_state_dict(layer.state_dict())
    out = layer(minicnn.tensor(x))
    expected = reference(minicnn.tensor(x))
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.running_var, reference.running_var, rtol=1e-12)
    assert int(layer.num_batches_tracked) == 1
    inputs = [minicnn.tensor(x, requires_grad=True), layer.weight, layer.bias]
    assert minicnn.gradcheck(
        lambda x, w, b: sync_batchnorm.SyncBatchNormFunction.apply(
            x, w, b, running_mean=None, running_var=None, momentum=0.1, eps=1e-5), inputs)


def test_a_wrong_channel_count_is_a_clear_error(one_rank_job):
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected an input \(N, 3, ...\)"):
        SyncBatchNorm(3)(minicnn.tensor(np.zeros((2, 4, 2, 2), dtype=np.float32)))


def test_float32_stays_float32(one_rank_job, rng):
    layer = SyncBatchNorm(2)
    x = minicnn.tensor(rng.standard_normal((3, 2, 4, 4)).astype(np.float32), requires_grad=True)
    out = layer(x)
    F.relu(out).sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
