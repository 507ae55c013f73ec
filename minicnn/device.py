"""Devices, honestly: minicnn computes on the CPU only.

PyTorch code starts with device boilerplate::

    device = ("cuda" if torch.cuda.is_available()
              else "mps" if torch.backends.mps.is_available() else "cpu")
    model.to(device); x = x.to(device)

so minicnn has ``device("cpu")``, ``cuda.is_available()`` and ``backends.mps.is_available()``
(both False) and ``.to("cpu")``, which changes nothing. Asking for a GPU is an error that
says why, never a silent CPU run the user believes is on a GPU.
"""

import types

__all__ = ["device", "CPU", "check_device", "set_default_device", "get_default_device", "cuda",
           "backends", "accelerator"]


# Device types PyTorch code may name. Naming one is fine (``torch.device("cuda")`` is how
# the boilerplate above is written); putting a tensor on any but the CPU is the error.
_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class device:
    """A device name, as PyTorch's ``torch.device``: ``device("cpu")``, ``device("cuda:0")``.

    Any of PyTorch's device types can be named; only ``"cpu"`` can hold tensors
    (``check_device`` says so for the others). An unknown type raises ValueError.
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device name such as 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if not number.isdigit() or index is not None:
                raise ValueError(f"device(): invalid device string {type!r}")
            index = int(number)
        if name not in _KNOWN_TYPES:
            raise ValueError(f"device(): expected one of {', '.join(_KNOWN_TYPES)} at the "
                             f"start of the device string, got {type!r}")
        self.type, self.index = name, index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return (isinstance(other, device) and other.type == self.type
                and other.index == self.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def check_device(value, argument):
    """Nothing for None or the CPU; a ValueError naming ``argument`` for any other device."""
    if value is None:
        return
    if device(value).type != "cpu":
        raise ValueError(f"{argument}: {str(value)!r} is not available: minicnn computes "
                         f"on the CPU only (torch.cuda.is_available() is False here; use "
                         f"'cpu')")


def set_default_device(value):
    """PyTorch's ``set_default_device``: the CPU (or None) is accepted and changes nothing;
    any other device is the ValueError of ``check_device``."""
    check_device(value, "set_default_device()")


def get_default_device():
    return CPU


def _false():
    return False


def _nothing(*args):
    """What seeding or synchronising a GPU does when there is none (PyTorch: nothing)."""


def _no_gpu(*args):
    raise RuntimeError("minicnn computes on the CPU only: there is no CUDA device "
                       "(torch.cuda.is_available() is False here)")


# ``torch.cuda``'s calls that CPU code makes: the checks answer "no GPU", seeding is a no-op,
# and a question about the current GPU raises.
cuda = types.SimpleNamespace(is_available=_false, device_count=lambda: 0,
                             manual_seed=_nothing, manual_seed_all=_nothing,
                             synchronize=_nothing, empty_cache=_nothing,
                             current_device=_no_gpu, get_device_name=_no_gpu)

backends = types.SimpleNamespace(
    mps=types.SimpleNamespace(is_available=_false, is_built=_false),
    cudnn=types.SimpleNamespace(enabled=False, benchmark=False, deterministic=True))

# ``torch.accelerator`` (PyTorch >= 2.6): the newer tutorials' device line,
# ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``.
accelerator = types.SimpleNamespace(is_available=_false, current_accelerator=lambda: None,
                                    device_count=lambda: 0)
