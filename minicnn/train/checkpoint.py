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

A checkpoint is data that may have been damaged or edited: ``load_checkpoint`` checks its
structure, ``restore_checkpoint`` and ``load_model`` its contents (ValueError naming the
entry), and both warn (``UserWarning``) when the weights hold NaN or infinity.
"""

import warnings

import numpy as np

from .._checks import is_int
from ..rng import get_rng_state, set_rng_state
from ..serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint", "restore_checkpoint", "load_model",
           "CHECKPOINT_FORMAT", "MAX_NUM_CLASSES"]

CHECKPOINT_FORMAT = "minicnn-training-checkpoint"
_VERSION = 1
# The largest num_classes load_model builds from a checkpoint's meta: an edited 10**8 asked
# for a 31 GB classifier. ImageNet-21k has 21,841 classes.
MAX_NUM_CLASSES = 100_000


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

    Raises ValueError (naming the file) if it is unreadable (see ``minicnn.load``), not a
    training checkpoint (e.g. a bare ``model.state_dict()`` saved with ``minicnn.save``), or
    one with entries missing or of the wrong kind.
    """
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a minicnn training checkpoint (no "
                         f"'format': {CHECKPOINT_FORMAT!r} entry); a bare state dict loads "
                         f"with model.load_state_dict(minicnn.load(path))")
    if state.get("version") != _VERSION:
        raise ValueError(f"{path}: training checkpoint version {state.get('version')!r}, this "
                         f"minicnn reads version {_VERSION}")
    kinds = {"epoch": int, "model": dict, "rng": dict, "loader_rngs": list, "meta": dict}
    wrong = [key for key, kind in kinds.items() if not isinstance(state.get(key), kind)]
    wrong += [key for key in ("optimizer", "scheduler", "history")
              if not isinstance(state.get(key, 0), (dict, type(None)))]
    if wrong:
        raise ValueError(f"{path}: the training checkpoint's entries {wrong} are missing or "
                         "of the wrong kind: the file is damaged")
    return state


def _warn_if_not_finite(weights):
    """A UserWarning naming the floating entries of ``weights`` that hold NaN or infinity
    (a model loaded from them computes NaN: that should not pass unnoticed)."""
    names = [name for name, value in weights.items()
             if isinstance(value, np.ndarray) and value.dtype.kind == "f"
             and not np.isfinite(value).all()]
    if names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        warnings.warn(f"the checkpoint's weights hold NaN or infinity ({shown}): the model's "
                      "outputs will be NaN", UserWarning, stacklevel=3)


def restore_checkpoint(state, model, optimizer=None, scheduler=None, loaders=()):
    """Put the state read by ``load_checkpoint`` back into live objects.

    Restores the model's weights and buffers, the optimizer's and scheduler's state, minicnn's
    generator and the own generators of ``loaders`` (the same loaders, in the same order, as
    were given to ``save_checkpoint``). Returns ``(epoch, history dict or None)``.

    Raises ValueError if an entry does not fit the objects; warns if the weights hold NaN
    or infinity.
    """
    model.load_state_dict(state["model"])
    _warn_if_not_finite(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError("the checkpoint has no optimizer state to restore")
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if state["scheduler"] is None:
            raise ValueError("the checkpoint has no scheduler state, but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])  # the lr itself is the optimizer's
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
    _restore_generator_state(set_rng_state, state["rng"], "rng")
    for i, (generator, loader_state) in enumerate(zip(generators, saved)):
        if generator is not None:
            _restore_generator_state(lambda s: setattr(generator.bit_generator, "state", s),
                                     loader_state, f"loader_rngs[{i}]")
    return int(state["epoch"]), state["history"]


def _restore_generator_state(restore, generator_state, name):
    """``restore(generator_state)``; NumPy's errors for a state that is not one (TypeError,
    KeyError, ValueError) become a ValueError naming the checkpoint's entry."""
    try:
        restore(generator_state)
    except (TypeError, KeyError, ValueError) as e:
        raise ValueError(f"the checkpoint's {name!r} entry is not a generator state "
                         f"({type(e).__name__}: {e})") from None


def load_model(path_or_state):
    """Rebuild the model recorded in a checkpoint's ``meta`` and load its weights.

    ``meta`` must hold ``model`` (a name in ``minicnn.models``) and ``model_args`` (the
    constructor's keyword arguments), as the ``train`` command records. The model computes
    in the weights' dtype, float32 or float64 (float16 weights are widened to float32).
    Returns the model in eval mode.

    Raises ValueError, before anything is built, if ``meta`` names no known model, or
    ``model_args`` is not a dict of keyword arguments, or its ``num_classes`` is not an int
    in [1, ``MAX_NUM_CLASSES``]; and if the constructor does not take an argument or runs
    out of memory, or the weights do not fit. Warns if the weights hold NaN or infinity.
    """
    from .. import models

    state = (load_checkpoint(path_or_state) if not isinstance(path_or_state, dict)
             else path_or_state)
    meta = state.get("meta") or {}
    if "model" not in meta:
        raise ValueError("the checkpoint does not record which model it holds (meta['model']); "
                         "build the model yourself and call model.load_state_dict("
                         "load_checkpoint(path)['model'])")
    name, model_args = meta["model"], meta.get("model_args") or {}
    if not isinstance(name, str):
        raise ValueError(f"meta['model'] must be a model's name, got {name!r:.80}")
    if not isinstance(model_args, dict) or not all(isinstance(k, str) for k in model_args):
        raise ValueError(f"meta['model_args'] must be a dict of the constructor's keyword "
                         f"arguments, got {model_args!r:.80}")
    num_classes = model_args.get("num_classes", 1)
    if not is_int(num_classes) or not 1 <= num_classes <= MAX_NUM_CLASSES:
        raise ValueError(f"meta['model_args']['num_classes'] must be an int in [1, "
                         f"{MAX_NUM_CLASSES:,}] (MAX_NUM_CLASSES), got {num_classes!r:.80}")
    try:
        model = models.get_model(name, **model_args)
    except TypeError as e:                # an argument the constructor does not take
        raise ValueError(f"meta['model_args'] do not fit {name}: {e}") from None
    except MemoryError:
        raise ValueError(f"building {name} with meta['model_args'] = {model_args!r:.80} needs "
                         "more memory than there is") from None
    weights = state["model"]
    floating = [v.dtype for v in weights.values()
                if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if floating:        # float16 weights are widened (exactly): minicnn computes in 32 or 64
        model.to(floating[0] if floating[0] in (np.float32, np.float64) else np.float32)
    model.load_state_dict(weights)
    _warn_if_not_finite(weights)
    return model.eval()
