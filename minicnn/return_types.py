"""Named tuples of ``(values, indices)``, PyTorch's ``torch.return_types``.

``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` return them, so both PyTorch idioms work:
``_, predicted = logits.max(1)`` and ``logits.max(1).indices``.
"""

import collections

__all__ = ["max", "min", "sort", "topk"]


def _values_and_indices(name):
    return collections.namedtuple(name, ["values", "indices"], module=__name__)


max = _values_and_indices("max")
min = _values_and_indices("min")
sort = _values_and_indices("sort")
topk = _values_and_indices("topk")
