"""dtype objects under PyTorch's names are NumPy dtypes."""

import numpy as np
import pytest

import minicnn
from minicnn.dtypes import as_dtype, is_floating_point


@pytest.mark.parametrize("name, numpy_type", [
    ("float32", np.float32), ("float", np.float32), ("float64", np.float64),
    ("double", np.float64), ("float16", np.float16), ("half", np.float16),
    ("int64", np.int64), ("long", np.int64), ("int32", np.int32), ("int", np.int32),
    ("int16", np.int16), ("short", np.int16), ("int8", np.int8), ("uint8", np.uint8),
    ("bool", np.bool_)])
def test_each_name_is_the_numpy_dtype(name, numpy_type):
    assert getattr(minicnn, name) == np.dtype(numpy_type)


@pytest.mark.parametrize("name", ["float32", "float", "float64", "double", "long", "int",
                                  "int16", "uint8", "bool", "half"])
def test_each_name_means_what_it_means_in_pytorch(name):
    torch = pytest.importorskip("torch")
    theirs = str(getattr(torch, name)).replace("torch.", "")
    assert str(getattr(minicnn, name)) == theirs


def test_python_types_as_dtypes_follow_pytorch():
    assert as_dtype(float) == np.float32  # NumPy would say float64
    assert as_dtype(int) == np.int64
    assert as_dtype(bool) == np.bool_
    assert as_dtype("float64") == np.float64
    assert minicnn.get_default_dtype() == np.float32
    assert is_floating_point(minicnn.half) and not is_floating_point(minicnn.long)


def test_import_star_does_not_shadow_python_builtins():
    namespace = {}
    exec("from minicnn import *", namespace)
    for builtin in ("float", "int", "bool"):
        assert builtin not in namespace
    assert namespace["float32"] == np.float32
