"""No memory growth: a training loop's peak memory stays flat from step to step.

Every step builds a graph (the forward's saved arrays) and frees it in backward; optimizer
state is allocated once. If anything kept a reference to each step's graph or arrays, the
peak would climb with the step count. Measured with tracemalloc, which sees NumPy's array
buffers as well as Python objects: the peak over steps 150-200 may not exceed the peak over
steps 50-100.

CPython keeps up to 2000 freed tuples of each small size for reuse; filling those lists
while tracing would look like growth for the first few hundred steps (it stops at about
340 KiB), so they are filled before tracing starts.
"""

import gc
import tracemalloc

import numpy as np

import minicnn
from minicnn import nn, optim

STEPS = 200
# Allowed growth of the peak: dict/list resizes inside long-lived objects. One step's graph
# of the conv net below holds over 20 KiB of arrays, so keeping even one graph per step
# would add over 1 MiB across 50 steps.
SLACK_BYTES = 16 * 1024


def _fill_tuple_free_lists():
    junk = [tuple(range(size)) for size in range(1, 20) for _ in range(2000)]
    del junk


def conv_net():
    minicnn.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.2), nn.Linear(8, 3))


def peak_per_window(train_step, steps=STEPS):
    """Traced peak bytes over steps 50-100 and over steps 150-200."""
    train_step()  # first call: lazy allocations (optimizer state, compiled kernels)
    gc.collect()
    _fill_tuple_free_lists()
    tracemalloc.start()
    try:
        peaks = {}
        for i in range(steps):
            if i in (50, 150):
                tracemalloc.reset_peak()
            train_step()
            if i in (99, 199):
                peaks[i] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peaks[99], peaks[199]


def make_training_step(keep_graphs=None):
    model = conv_net()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 8)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(minicnn.tensor(x)), y)
        loss.backward(retain_graph=keep_graphs is not None)
        opt.step()
        if keep_graphs is not None:
            keep_graphs.append(loss)  # the classic bug: holding on to the loss tensors
        return loss.item()

    return step


def test_training_loop_peak_memory_is_flat():
    early, late = peak_per_window(make_training_step())
    assert late <= early + SLACK_BYTES, (
        f"peak memory grew from {early} B (steps 50-100) to {late} B (steps 150-200)")


def test_the_measurement_catches_a_leak():
    """The same measurement on a loop that keeps every step's graph alive must fail."""
    kept = []
    early, late = peak_per_window(make_training_step(keep_graphs=kept))
    assert late > early + 50 * SLACK_BYTES
