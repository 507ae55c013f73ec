"""Gradient-check cases for ``python -m minicnn gradcheck``: one module per op family.

Each module defines ``cases(rng)``, yielding ``(name, fn, inputs)`` triples: a small float64
example of every op and mode, away from kinks (relu at 0, ties in a max). The test suite
checks far more configurations (drawn by hypothesis); these are the quick, readable tour.
"""

import importlib
import pkgutil


def all_cases(rng):
    """Every registered case, family by family, in module order."""
    families = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for family in families:
        module = importlib.import_module(f"{__name__}.{family}")
        for name, fn, inputs in module.cases(rng):
            yield family, name, fn, inputs
