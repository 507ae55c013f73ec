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
from . import data
from .serialization import load, save
from .torch_checkpoint import load_torch_state_dict
from .summary import summary  # the function (``from minicnn.summary import Summary`` still works)

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
           "gradcheck", "GradcheckError", "cat", "stack", "maximum", "minimum", "where",
           "manual_seed", "functional", "nn", "optim", "save", "load",
           "load_torch_state_dict", "summary"]
