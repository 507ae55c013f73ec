"""``minicnn.optim``: optimizers (SGD, RMSprop, Adagrad, Adam, AdamW, NAdam, RAdam)
and, in ``lr_scheduler``, schedules.

Read ``optimizer.py`` first (parameter groups, state, checkpoints), then one file per update
rule; each module docstring gives the rule as equations.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "NAdam", "RAdam",
           "lr_scheduler"]
