"""The simulated ring all-reduce and its cost model."""

import numpy as np
import pytest

from minicnn.distributed import ring_all_reduce, ring_all_reduce_seconds


@pytest.mark.parametrize("ranks,shape", [(1, (5,)), (2, (6,)), (3, (7,)), (4, (2, 5)),
                                         (5, (3,))])
def test_every_rank_ends_with_the_sum(ranks, shape, rng):
    arrays = [rng.standard_normal(shape) for _ in range(ranks)]
    results, _ = ring_all_reduce(arrays)
    assert len(results) == ranks
    for result in results:
        assert result.shape == shape
        np.testing.assert_allclose(result, np.sum(arrays, axis=0), rtol=1e-12, atol=1e-12)


def test_each_rank_sends_2_k_minus_1_chunks_to_its_right_neighbour_only():
    ranks = 4
    _, transfers = ring_all_reduce([np.arange(8.0) * k for k in range(ranks)])
    assert len(transfers) == 2 * (ranks - 1) * ranks
    for sender in range(ranks):
        sent = [t for t in transfers if t[2] == sender]
        assert len(sent) == 2 * (ranks - 1)
        assert {receiver for _, _, _, receiver, _ in sent} == {(sender + 1) % ranks}
    # reduce-scatter first: rank k sends chunk k in step 0, chunk k - 1 in step 1, ...
    first = [t for t in transfers if t[0] == "reduce-scatter" and t[1] == 0]
    assert [t[4] for t in first] == [0, 1, 2, 3]


def test_mismatched_or_missing_arrays_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        ring_all_reduce([np.zeros(3), np.zeros(4)])
    with pytest.raises(ValueError, match="K >= 1 arrays"):
        ring_all_reduce([])


def test_cost_is_2_k_minus_1_over_k_of_the_bytes_plus_latencies():
    megabyte, bandwidth = 1e6, 1.25e9                                 # 10 GbE
    assert ring_all_reduce_seconds(megabyte, 1, bandwidth, 1e-5) == 0
    assert ring_all_reduce_seconds(megabyte, 2, bandwidth) == pytest.approx(megabyte / bandwidth)
    assert ring_all_reduce_seconds(megabyte, 4, bandwidth, 1e-5) == pytest.approx(
        1.5 * megabyte / bandwidth + 6e-5)
    with pytest.raises(ValueError, match="bandwidth > 0"):
        ring_all_reduce_seconds(megabyte, 4, 0)
