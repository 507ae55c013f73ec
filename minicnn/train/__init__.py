"""Training: ``fit``, ``evaluate`` (with test-time augmentation), ensembles, checkpoints,
metrics and plots.

    from minicnn.train import fit, evaluate
    history = fit(model, train_loader, test_loader, optimizer, epochs=3, scheduler=scheduler,
                  checkpoint_dir="runs/lenet5")
    loss, top1, top5 = evaluate(model, test_loader)

Files: ``trainer`` (fit, evaluate, evaluate_ensemble, History), ``metrics`` (top-k
accuracy, confusion matrix), ``checkpoint`` (save and resume a whole training state),
``progress`` (the tqdm bar and per-epoch lines), ``plots`` (matplotlib figures; imported
only when used, matplotlib is the optional extra ``minicnn[plots]``).
"""

from .checkpoint import load_checkpoint, load_model, restore_checkpoint, save_checkpoint
from .metrics import confusion_matrix, topk_accuracy, topk_correct
from .trainer import CHECKPOINT_NAME, Evaluation, History, evaluate, evaluate_ensemble, fit
from . import transfer  # freeze, replace_head, split_head, cache_features

__all__ = ["fit", "evaluate", "evaluate_ensemble", "History", "Evaluation", "CHECKPOINT_NAME",
           "save_checkpoint", "load_checkpoint", "restore_checkpoint", "load_model",
           "topk_correct", "topk_accuracy", "confusion_matrix"]
