"""minicnn: a from-scratch deep learning framework for convolutional networks.

Read bottom-up, like a syllabus: ``kernels`` (NumPy/Numba loops) -> ``autograd`` (Tensor,
Function, backward) and ``ops`` (each op's forward and backward) -> ``functional`` -> ``nn``
and ``optim`` -> ``models`` -> data and training -> the command line.
"""

from . import functional
from .autograd import Function, Tensor, enable_grad, is_grad_enabled, no_grad, tensor
from .gradcheck import GradcheckError, gradcheck
from .ops.elementwise import maximum, minimum, where
from .ops.shape import cat, stack
from .rng import manual_seed
from . import nn, optim
from . import data, models, train  # together 20 ms: a bare ``import minicnn`` reaches them
from .serialization import load, save
from .torch_checkpoint import load_torch_state_dict
from .summary import summary  # the function (``from minicnn.summary import Summary`` still works)

__version__ = "0.1.0"

# Subpackages that pull in more than they are needed for load on first use, so
# ``minicnn.coursework`` works after a bare ``import minicnn`` without slowing that import.
_LAZY_SUBPACKAGES = ("coursework", "opchecks", "kernels", "ops")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minicnn' has no attribute {name!r}")

__all__ = ["Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
           "gradcheck", "GradcheckError", "cat", "stack", "maximum", "minimum", "where",
           "manual_seed", "functional", "nn", "optim", "data", "models", "train", "save", "load",
           "load_torch_state_dict", "summary"]
