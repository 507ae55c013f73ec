"""Ranks launched with ``mpiexec -n K`` as subprocesses, checked against one process.

Each test starts ``python -m tests.distributed.mpi_scenarios SCENARIO OUT`` on K ranks (see
that module) and reads what every rank wrote. They skip, saying why, only when the
``distributed`` extra (mpi4py and Open MPI's ``mpiexec``) is not installed.
"""

import time

import numpy as np
import pytest

from .mpi_scenarios import train_reference
from .ranks import parameters, rank_results, requires_mpi, run_ranks

pytestmark = requires_mpi


def assert_same_parameters(actual, expected, atol, skip=("running_", "num_batches")):
    compared = [key for key in expected if not any(word in key for word in skip)]
    assert compared
    for key in compared:
        np.testing.assert_allclose(actual[key], expected[key], rtol=0, atol=atol, err_msg=key)


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("scenario,norm", [("train-plain", "none"),
                                           ("train-syncbn", "batchnorm")])
def test_ranks_equal_one_process_on_the_global_batch(scenario, norm, ranks, tmp_path):
    """20 SGD steps (momentum, weight decay) in float64, each rank initialised differently:
    every rank ends with the parameters of one process on the global batch, to 1e-10; with
    SyncBatchNorm also the running statistics."""
    run_ranks(scenario, ranks, tmp_path)
    expected, expected_losses = train_reference(norm)
    results = rank_results(tmp_path, ranks)
    for result in results:
        assert_same_parameters(parameters(result), expected, atol=1e-10, skip=())
    # the global batch's loss is the mean of the ranks' shard losses
    mean_loss = np.mean([result["losses"] for result in results], axis=0)
    assert mean_loss.shape == (20,)
    np.testing.assert_allclose(mean_loss, expected_losses, rtol=0, atol=1e-10)


def test_plain_batchnorm_uses_each_ranks_statistics(tmp_path):
    """Plain BatchNorm2d under DistributedDataParallel normalises each shard on its own: the
    ranks equal one process that averages the gradients of separate passes over the shards,
    and differ from one process on the whole batch; the running statistics are rank 0's."""
    ranks = 2
    run_ranks("train-bn", ranks, tmp_path)
    per_shard, _ = train_reference("batchnorm", shards=ranks)
    whole_batch, _ = train_reference("batchnorm")
    results = rank_results(tmp_path, ranks)
    for result in results:
        assert_same_parameters(parameters(result), per_shard, atol=1e-10)
        assert np.abs(parameters(result)["1.weight"] - whole_batch["1.weight"]).max() > 1e-3
    # the running statistics differ from rank to rank until a forward copies rank 0's
    for key in ("1.running_mean", "4.running_var"):
        np.testing.assert_array_equal(parameters(results[1])[key], parameters(results[0])[key])


def test_collectives_and_sampler_on_three_ranks(tmp_path):
    ranks = 3
    run_ranks("collectives", ranks, tmp_path)
    results = rank_results(tmp_path, ranks)
    for k, result in enumerate(results):
        np.testing.assert_array_equal(result["total"], 3 * np.arange(4) + 3)      # 0 + 1 + 2
        np.testing.assert_array_equal(result["mean"], np.ones(3))
        np.testing.assert_array_equal(result["largest"], [2, 0])
        np.testing.assert_array_equal(result["weights"], np.arange(5.0))          # rank 0's
        assert int(result["message_from"]) == 2                                     # src=K-1
        np.testing.assert_array_equal(result["gathered"], [[0, 0], [1, 10], [2, 20]])
        np.testing.assert_array_equal(result["metrics"], [0.5 + 1.0 + 1.5, 30])
        assert bool(result["main"]) == (k == 0)
    # 11 samples on 3 ranks: 4 each, padded with 1 repeated sample, disjoint otherwise
    for epoch in (0, 1):
        shards = [result["shards"][epoch] for result in results]
        assert all(len(shard) == 4 for shard in shards)
        together = np.concatenate(shards)
        assert set(together) == set(range(11))
        assert len(together) - len(set(together)) == 1
    assert not np.array_equal(results[0]["shards"][0], results[0]["shards"][1])  # reshuffled


def test_a_rank_that_raises_stops_every_rank_with_its_error(tmp_path):
    """Rank 1 raises while rank 0 waits in an all-reduce: the job ends (no hang), non-zero,
    and the output shows rank 1's error."""
    started = time.monotonic()
    result = run_ranks("fail", 2, tmp_path, expect_success=False, timeout=60)
    assert result.returncode != 0
    assert "rank 1 of 2 failed" in result.stderr
    assert "ValueError: rank 1 failed on purpose" in result.stderr
    assert time.monotonic() - started < 60


def test_a_rank_that_skips_a_collective_makes_the_others_time_out(tmp_path):
    """Rank 1 stays alive without joining the all-reduce (timeout 2 s): rank 0 raises a
    DistributedError naming the collective, which stops the job long before rank 1 wakes."""
    result = run_ranks("hang", 2, tmp_path, expect_success=False, timeout=60)
    assert result.returncode != 0
    assert "DistributedError: rank 0: all_reduce('sum') waited more than 2 s" in result.stderr


def test_a_global_batch_not_divisible_by_the_ranks_is_one_clear_error(tmp_path):
    result = run_ranks("indivisible", 2, tmp_path, expect_success=False, timeout=60)
    assert result.returncode != 0
    assert ("ValueError: batch_size 5 is the global batch and must be divisible by the 2 ranks"
            in result.stderr)
