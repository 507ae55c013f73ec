"""The ring all-reduce, simulated step by step, and what it costs on a network.

K ranks stand in a ring; rank k sends only to rank k+1 (mod K). Each rank's array of n
numbers is cut into K chunks of n/K. The algorithm (Patarasuk & Yuan 2009, the one MPI
libraries and NCCL use for large arrays) runs in two phases of K-1 steps each:

1. reduce-scatter: in step s, rank k sends chunk (k - s) mod K to rank k+1, which adds it
   to its own copy of that chunk. After K-1 steps rank k holds the complete sum of chunk
   (k + 1) mod K.
2. all-gather: in step s, rank k sends the complete chunk (k + 1 - s) mod K to rank k+1,
   which overwrites its copy. After K-1 more steps every rank holds every summed chunk.

Every rank sends 2(K-1) chunks of n/K numbers, so with B bytes to reduce, a link bandwidth
``bw`` (bytes/s, both directions at once) and a per-message latency ``alpha``::

    T(K) = 2 (K-1)/K * B / bw  +  2 (K-1) * alpha

The bandwidth term tends to 2 B / bw: unlike sending everything to one rank (K-1 times B
through its link), it hardly grows with K. The latency term does grow, which is why small
arrays use other algorithms (recursive doubling, log2 K steps).
"""

import numpy as np

__all__ = ["ring_all_reduce", "ring_all_reduce_seconds"]


def ring_all_reduce(arrays):
    """Sum K arrays the way a ring of K ranks does; return each rank's result and the log.

    Parameters
    ----------
    arrays : list of K ndarrays of one shape
        Rank k's contribution.

    Returns
    -------
    results : list of K ndarrays
        Each rank's copy of the sum (all equal to ``sum(arrays)`` up to rounding).
    transfers : list of (phase, step, sender, receiver, chunk)
        Every message sent, in order; phase is 'reduce-scatter' or 'all-gather'.
    """
    if not arrays:
        raise ValueError("ring_all_reduce: expected a list of K >= 1 arrays, got none")
    shape = np.shape(arrays[0])
    if any(np.shape(a) != shape for a in arrays):
        raise ValueError(f"ring_all_reduce: every rank's array must have one shape, got "
                         f"{[np.shape(a) for a in arrays]}")
    k_ranks = len(arrays)
    # each rank's buffer cut into K chunks (np.array_split allows n not divisible by K)
    chunks = [np.array_split(np.array(a, dtype=np.float64).ravel(), k_ranks) for a in arrays]
    transfers = []
    for phase in ("reduce-scatter", "all-gather"):
        shift = 0 if phase == "reduce-scatter" else 1
        for step in range(k_ranks - 1):
            # all ranks send at once: take every message before any is received
            messages = [(sender, (sender + 1) % k_ranks, (sender + shift - step) % k_ranks)
                        for sender in range(k_ranks)]
            payloads = [chunks[sender][chunk].copy() for sender, _, chunk in messages]
            for (sender, receiver, chunk), payload in zip(messages, payloads):
                if phase == "reduce-scatter":
                    chunks[receiver][chunk] += payload
                else:
                    chunks[receiver][chunk] = payload
                transfers.append((phase, step, sender, receiver, chunk))
    results = [np.concatenate(rank_chunks).reshape(shape) for rank_chunks in chunks]
    return results, transfers


def ring_all_reduce_seconds(nbytes, ranks, bandwidth, latency=0.0):
    """Time of a ring all-reduce of ``nbytes`` over ``ranks`` ranks (see the module docstring).

    Parameters
    ----------
    nbytes : float
        Bytes each rank contributes (e.g. 4 x the number of float32 gradients).
    ranks : int
        K; one rank costs nothing.
    bandwidth : float
        Bytes per second of each link (10 GbE: 1.25e9).
    latency : float
        Seconds per message (alpha).
    """
    if ranks < 1 or nbytes < 0 or bandwidth <= 0 or latency < 0:
        raise ValueError(f"ring_all_reduce_seconds: expected nbytes >= 0, ranks >= 1, "
                         f"bandwidth > 0, latency >= 0; got {nbytes}, {ranks}, {bandwidth}, "
                         f"{latency}")
    return 2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * latency
