"""Shared argument checks (minicnn/_checks.py), and that every size argument they guard
takes a NumPy integer as PyTorch does."""

import numpy as np
import pytest

import minicnn
from minicnn import functional as F
from minicnn import nn, optim
from minicnn._checks import check_positive_int, is_int
from minicnn.data import DataLoader, ArrayDataset
from minicnn.models.blocks import ZeroPadShortcut


def test_is_int_takes_python_and_numpy_integers_but_not_bools_or_floats():
    assert all(is_int(v) for v in (3, np.int64(3), np.int32(-1), np.uint8(2)))
    assert not any(is_int(v) for v in (True, np.float64(3), 3.0, "3", None))


def test_check_positive_int_returns_a_plain_int_and_names_the_argument():
    value = check_positive_int(np.int64(4), "Conv2d: in_channels")
    assert value == 4 and type(value) is int
    assert check_positive_int(0, "prefetch", minimum=0) == 0
    with pytest.raises(ValueError, match=r"^Conv2d: in_channels must be a positive int, got 0$"):
        check_positive_int(0, "Conv2d: in_channels")
    with pytest.raises(ValueError, match=r"must be a positive int, got np\.int64\(-2\)"):
        check_positive_int(np.int64(-2), "size")
    with pytest.raises(ValueError, match=r"prefetch must be an int >= 0, got -1"):
        check_positive_int(-1, "prefetch", minimum=0)
    for bad in (True, 2.0, "2"):
        with pytest.raises(ValueError, match=f"got {bad!r}"):
            check_positive_int(bad, "size")


def _x(*shape):
    return minicnn.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))


def test_layers_take_numpy_integer_sizes_and_store_plain_ints():
    i = np.int64
    conv = nn.Conv2d(i(3), i(4), i(3), stride=i(1), padding=i(1), groups=i(1))
    assert conv.kernel_size == (3, 3) and type(conv.kernel_size[0]) is int
    assert type(conv.in_channels) is int and conv.padding == (1, 1)
    assert conv(_x(1, 3, 5, 5)).shape == (1, 4, 5, 5)
    lin = nn.Linear(i(4), i(2))
    assert type(lin.in_features) is int and lin(_x(3, 4)).shape == (3, 2)
    bn = nn.BatchNorm2d(i(4))
    assert type(bn.num_features) is int and bn(_x(2, 4, 3, 3)).shape == (2, 4, 3, 3)
    assert nn.LocalResponseNorm(i(3))(_x(1, 4, 2, 2)).shape == (1, 4, 2, 2)
    assert ZeroPadShortcut(i(2), i(4), i(2))(_x(1, 2, 4, 4)).shape == (1, 4, 2, 2)


def test_functions_take_numpy_integer_sizes():
    i = np.int64
    x = _x(1, 2, 6, 6)
    assert F.max_pool2d(x, i(2)).shape == (1, 2, 3, 3)
    assert F.avg_pool2d(x, (i(2), i(3)), stride=i(1), padding=i(1)).shape == (1, 2, 7, 6)
    assert F.adaptive_avg_pool2d(x, i(2)).shape == (1, 2, 2, 2)
    assert F.local_response_norm(x, i(2)).shape == x.shape


def test_data_and_optim_take_numpy_integer_sizes():
    data = ArrayDataset(np.zeros((6, 1, 2, 2), np.float32), np.zeros(6, np.int64))
    loader = DataLoader(data, batch_size=np.int64(4))
    assert loader.batch_size == 4 and [len(y) for _, y in loader] == [4, 2]
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    assert optim.lr_scheduler.StepLR(opt, np.int64(2)).step_size == 2
    assert optim.lr_scheduler.CosineAnnealingLR(opt, np.int64(5)).T_max == 5
