"""Checkpoints of a whole training state, so a run can stop and resume exactly.

A training checkpoint is one ``.npz`` file written with ``minicnn.save`` (atomic: a crash
mid-write leaves the previous file intact) holding a dict::

    format        "minicnn-training-checkpoint", version 1
    epoch         number of epochs completed
    model         model.state_dict()
    optimizer     optimizer.state_dict()            (momentum buffers, lr of each group)
    scheduler     scheduler.state_dict() or None
    history       History.to_dict()                 (the metrics of the epochs so far)
    rng           minicnn.rng.get_rng_state()       (initialisation, dropout, and the
                                                     shuffling of loaders without their own
                                                     generator)
    loader_rngs   the bit-generator state of each given loader that has its own generator
                  (``DataLoader(seed=...)``), in the order given, else None
    meta          anything the caller records, e.g. the model's name and constructor
                  arguments so that ``load_model`` can rebuild it

Why the RNG states make resuming exact: a ``DataLoader`` draws its order and its
augmentation seed from its generator when a pass starts, and dropout draws from minicnn's
generator, all in the training thread. The checkpoint is taken after an epoch's last draw
(its validation pass included), so restoring the generators puts the next epoch's draws
where the uninterrupted run had them; with the same weights, optimizer buffers and lr, the
next epoch computes the same numbers.
"""

import numpy as np

from ..rng import get_rng_state, set_rng_state
from ..serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint", "restore_checkpoint", "load_model",
           "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "minicnn-training-checkpoint"
_VERSION = 1


def _loader_generators(loaders):
    return [getattr(loader, "generator", None) for loader in loaders]


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=0, history=None,
                    loaders=(), meta=None):
    """Write the training state to ``path`` (atomically; see the module docstring).

    Parameters
    ----------
    path : str or Path
    model : Module
    optimizer : Optimizer, optional
    scheduler : LRScheduler, optional
    epoch : int
        Epochs completed.
    history : History, optional
    loaders : sequence of DataLoader
        Loaders whose own generators (if any) are saved; those drawing from minicnn's
        generator are covered by ``rng``.
    meta : dict, optional
        Saved as is (str keys; numbers, strings, lists, arrays).
    """
    generators = _loader_generators(loaders)
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": _VERSION,
        "epoch": int(epoch),
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "history": None if history is None else history.to_dict(),
        "rng": get_rng_state(),
        "loader_rngs": [None if g is None else g.bit_generator.state for g in generators],
        "meta": {} if meta is None else meta,
    }
    save(state, path)


def load_checkpoint(path):
    """Read a training checkpoint written by ``save_checkpoint`` (a dict, see above).

    Raises ValueError if the file is a readable ``.npz`` but not a training checkpoint
    (e.g. a bare ``model.state_dict()`` saved with ``minicnn.save``).
    """
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a minicnn training checkpoint (no "
                         f"'format': {CHECKPOINT_FORMAT!r} entry); a bare state dict loads "
                         f"with model.load_state_dict(minicnn.load(path))")
    if state.get("version") != _VERSION:
        raise ValueError(f"{path}: training checkpoint version {state.get('version')!r}, this "
                         f"minicnn reads version {_VERSION}")
    return state


def restore_checkpoint(state, model, optimizer=None, scheduler=None, loaders=()):
    """Put the state read by ``load_checkpoint`` back into live objects.

    Restores the model's weights and buffers, the optimizer's and scheduler's state, minicnn's
    generator and the own generators of ``loaders`` (the same loaders, in the same order, as
    were given to ``save_checkpoint``). Returns ``(epoch, history dict or None)``.
    """
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError("the checkpoint has no optimizer state to restore")
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if state["scheduler"] is None:
            raise ValueError("the checkpoint has no scheduler state, but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])  # the lr itself is the optimizer's
    set_rng_state(state["rng"])
    saved = state["loader_rngs"]
    generators = _loader_generators(loaders)
    if len(saved) != len(generators):
        raise ValueError(f"the checkpoint saved {len(saved)} loader generator states, "
                         f"{len(generators)} loaders were given")
    for i, (generator, loader_state) in enumerate(zip(generators, saved)):
        if (generator is None) != (loader_state is None):
            raise ValueError(f"loader {i}: the checkpoint {'has' if loader_state else 'lacks'} "
                             "a generator state but the loader "
                             f"{'lacks' if generator is None else 'has'} its own generator")
        if generator is not None:
            generator.bit_generator.state = loader_state
    return int(state["epoch"]), state["history"]


def load_model(path_or_state):
    """Rebuild the model recorded in a checkpoint's ``meta`` and load its weights.

    ``meta`` must hold ``model`` (a name in ``minicnn.models``) and ``model_args`` (the
    constructor's keyword arguments), as the ``train`` command records. Returns the model in
    eval mode.
    """
    from .. import models

    state = (load_checkpoint(path_or_state) if not isinstance(path_or_state, dict)
             else path_or_state)
    meta = state.get("meta") or {}
    if "model" not in meta:
        raise ValueError("the checkpoint does not record which model it holds (meta['model']); "
                         "build the model yourself and call model.load_state_dict("
                         "load_checkpoint(path)['model'])")
    model = models.get_model(meta["model"], **dict(meta.get("model_args") or {}))
    weights = state["model"]
    first = next(iter(weights.values()), None)
    if isinstance(first, np.ndarray) and np.issubdtype(first.dtype, np.floating):
        model.to(first.dtype)
    model.load_state_dict(weights)
    return model.eval()
