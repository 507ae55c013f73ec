"""minicnn: a from-scratch deep learning framework for convolutional networks.

Read bottom-up, like a syllabus: ``kernels`` (NumPy/Numba loops) -> ``autograd`` (Tensor,
Function, backward) and ``ops`` (each op's forward and backward) -> ``functional`` -> ``nn``
and ``optim`` -> ``models`` -> data and training -> the command line.
"""

from . import _startup  # first: Ctrl-C while ``python -m minicnn`` imports (see there)
from . import functional
from .autograd import (Function, Tensor, enable_grad, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled, tensor)
from .gradcheck import GradcheckError, gradcheck
from . import return_types
from .tensor_functions import *  # noqa: F401,F403 (sin, matmul, cat, max, ...: see its __all__)
from .tensor_functions import __all__ as _tensor_functions
from .tensor_methods import Size
from .rng import Generator, manual_seed
from .dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half,
                     int, int8, int16, int32, int64, long, short, uint8)
from .device import (accelerator, backends, cuda, device, get_default_device,
                     set_default_device)
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, normal, ones, ones_like, rand, rand_like, randint,
                       randint_like, randn, randn_like, randperm, zeros, zeros_like)
from . import nn, optim
from . import data, models, train  # together 20 ms: a bare ``import minicnn`` reaches them
from . import utils  # ``torch.utils.data.DataLoader`` after ``import minicnn as torch``
from .serialization import load, save
from .torch_checkpoint import load_torch_state_dict
from .summary import summary  # the function (``from minicnn.summary import Summary`` still works)

__version__ = "0.1.0"

# Subpackages that pull in more than they are needed for load on first use, so
# ``minicnn.coursework`` works after a bare ``import minicnn`` without slowing that import.
_LAZY_SUBPACKAGES = ("coursework", "opchecks", "kernels", "ops", "vision", "distributed")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minicnn' has no attribute {name!r}")


__all__ = ["Tensor", "tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled", "inference_mode",
           "gradcheck", "GradcheckError", "cat", "stack", "maximum", "minimum", "where",
           "manual_seed", "functional", "nn", "optim", "data", "utils", "models", "train",
           "save", "load",
           "load_torch_state_dict", "summary", "device", "cuda", "backends", "accelerator",
           "set_default_device", "get_default_device", "Generator",
           "get_default_dtype"]
# (``minicnn.float``, ``.int`` and ``.bool`` exist but stay out of ``import *``, which
# would shadow Python's own float, int and bool.)
__all__ += ["float32", "float64", "double", "float16", "half", "int64", "long", "int32",
            "int16", "short", "int8", "uint8"]
# (Functions named like Python's builtins, abs, sum, max, min, all, any, pow, round, stay out
# of ``import *`` for the same reason.)
__all__ += [name for name in _tensor_functions if name not in __all__ and name not in
            ("abs", "sum", "max", "min", "all", "any", "pow", "round")]
__all__ += ["zeros", "ones", "full", "empty", "eye", "arange", "linspace", "rand", "randn",
            "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like", "empty_like",
            "rand_like", "randn_like", "randint_like", "from_numpy", "as_tensor"]
