"""DistributedSampler and ShardedLoader in one process (ranks given explicitly)."""

import numpy as np
import pytest

from minicnn.data import ArrayDataset, DataLoader
from minicnn.distributed import (DistributedError, DistributedSampler, ShardedLoader,
                                 shard_loader)


def shards(n, ranks, **options):
    return [DistributedSampler(range(n), num_replicas=ranks, rank=k, **options).indices()
            for k in range(ranks)]


@pytest.mark.parametrize("n,ranks", [(12, 3), (11, 3), (10, 4), (2, 3), (7, 1)])
def test_shards_are_equal_sized_and_disjoint_up_to_the_padding(n, ranks):
    parts = shards(n, ranks, shuffle=True, seed=5)
    size = -(-n // ranks)                                          # ceil(n / K)
    assert all(len(part) == size for part in parts)
    together = np.concatenate(parts)
    assert set(together.tolist()) == set(range(n))                 # every sample is seen
    assert len(together) - n == size * ranks - n                   # repeats = padding only


def test_padding_repeats_the_first_indices_and_drop_last_cuts():
    padded = shards(10, 4, shuffle=False)
    # 0..9 padded to 12 with 0, 1; then every 4th index from the rank
    assert [p.tolist() for p in padded] == [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]
    dropped = shards(10, 4, shuffle=False, drop_last=True)
    assert [p.tolist() for p in dropped] == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_every_rank_shuffles_alike_and_each_epoch_differently():
    samplers = [DistributedSampler(range(20), num_replicas=2, rank=k, seed=9) for k in (0, 1)]
    orders = []
    for epoch in (0, 1):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        parts = [sampler.indices() for sampler in samplers]
        assert not set(parts[0]) & set(parts[1])                       # one permutation
        permutation = np.random.default_rng(9 + epoch).permutation(20)  # seed + epoch
        np.testing.assert_array_equal(parts[0], permutation[0::2])
        orders.append(parts[0])
    assert not np.array_equal(*orders)
    assert list(samplers[0]) == orders[1].tolist() and len(samplers[0]) == 10


@pytest.mark.parametrize("n,ranks,drop_last", [(10, 4, False), (10, 4, True), (11, 3, False),
                                               (2, 3, False), (2, 3, True)])
def test_unshuffled_shards_equal_pytorchs(n, ranks, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for k in range(ranks):
        theirs = torch_data.DistributedSampler(range(n), num_replicas=ranks, rank=k,
                                               shuffle=False, drop_last=drop_last)
        ours = DistributedSampler(range(n), num_replicas=ranks, rank=k, shuffle=False,
                                  drop_last=drop_last)
        assert ours.indices().tolist() == list(theirs)
        assert len(ours) == len(theirs)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="rank must be in 0..1, got 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        DistributedSampler(range(4), num_replicas=1, rank=0).set_epoch(-1)
    with pytest.raises(DistributedError, match="call minicnn.distributed.init"):
        DistributedSampler(range(4))                                 # K from a job: none


def digits(n=24):
    images = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return ArrayDataset(images, np.arange(n) % 10)


def test_the_ranks_batches_make_up_the_global_batches():
    """Batch i of every rank together = batch i of one process on the same permutation."""
    dataset, ranks = digits(), 3
    loaders = [ShardedLoader(dataset, batch_size=6, seed=4, num_replicas=ranks, rank=k,
                             prefetch=0) for k in range(ranks)]
    for loader in loaders:
        loader.set_epoch(2)
    assert [len(loader) for loader in loaders] == [4] * ranks
    permutation = np.random.default_rng(4 + 2).permutation(24)
    for i, batches in enumerate(zip(*loaders)):
        assert all(len(y) == 2 for _, y in batches)                  # 6 / 3 per rank
        labels = np.concatenate([y for _, y in batches])
        assert sorted(labels) == sorted(permutation[6 * i:6 * i + 6] % 10)


def test_the_global_batch_must_divide_among_the_ranks():
    with pytest.raises(ValueError, match="batch_size 10 is the global batch and must be "
                                         "divisible by the 3 ranks"):
        ShardedLoader(digits(), batch_size=10, num_replicas=3, rank=0)


def test_shard_loader_keeps_the_data_loaders_settings():
    loader = DataLoader(digits(), batch_size=8, shuffle=False, drop_last=True, prefetch=0)
    sharded = shard_loader(loader, seed=1, num_replicas=2, rank=1)
    assert (sharded.batch_size, sharded.local_batch_size) == (8, 4)
    assert not sharded.sampler.shuffle and sharded.drop_last and sharded.prefetch == 0
    first_x, first_y = next(iter(sharded))
    np.testing.assert_array_equal(first_y, [1, 3, 5, 7])             # odd positions: rank 1
    assert first_x.shape == (4, 1, 2, 2)
    with pytest.raises(TypeError, match="expected a minicnn.data.DataLoader"):
        shard_loader([1, 2, 3], seed=0, num_replicas=1, rank=0)
    own_sampler = DataLoader(digits(), batch_size=4, sampler=range(24))
    with pytest.raises(ValueError, match="has its own sampler"):
        shard_loader(own_sampler, seed=0, num_replicas=2, rank=0)


def test_the_sampler_plugs_into_a_data_loader_as_in_pytorch():
    sampler = DistributedSampler(digits(), num_replicas=2, rank=0, shuffle=False)
    loader = DataLoader(digits(), batch_size=3, sampler=sampler, prefetch=0)
    assert len(loader) == 4
    np.testing.assert_array_equal(next(iter(loader))[1], [0, 2, 4])   # every other sample
