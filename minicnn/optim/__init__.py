"""``minicnn.optim``: optimizers (SGD, RMSprop, Adam) and, in ``lr_scheduler``, schedules.

Read ``optimizer.py`` first (parameter groups, state, checkpoints), then one file per update
rule; each module docstring gives the rule as equations.
"""

from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "lr_scheduler"]
