"""PyTorch's autograd rules, and its errors, as minicnn raises them: the mistakes a student
makes get the same exception type (and the same key words) as under PyTorch."""

import numpy as np
import pytest

import minicnn

LIBS = ["minicnn", "torch"]


@pytest.fixture(params=LIBS)
def lib(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return minicnn


def _leaf(lib, values=(1.0, 2.0, 3.0)):
    return lib.tensor(list(values), requires_grad=True)


def test_in_place_on_a_leaf_that_requires_grad_raises(lib):
    w = _leaf(lib)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    with lib.no_grad():
        w -= 1.0                      # the update idiom: allowed without recording
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 1.0, 2.0])


def test_modifying_a_tensor_saved_for_backward_makes_backward_raise(lib):
    x = _leaf(lib)
    y = x * 2
    z = y * y                         # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_a_write_through_a_view_bumps_the_base_version(lib):
    x = _leaf(lib, (1.0, 2.0, 3.0, 4.0))
    z = (x * 1).exp()                 # exp saves its output
    with lib.no_grad():
        z[1:].mul_(2)                 # a view shares its base's version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_a_second_backward_through_a_freed_graph_raises(lib):
    x = _leaf(lib)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_of_a_non_scalar_without_gradient_raises(lib):
    x = _leaf(lib)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


def test_numpy_of_a_tensor_that_requires_grad_raises(lib):
    with pytest.raises(RuntimeError, match="detach"):
        _leaf(lib).numpy()


def test_item_of_a_multi_element_tensor_raises(lib):
    with pytest.raises((RuntimeError, ValueError)):
        lib.zeros(3).item()


def test_in_place_ops_return_the_tensor_itself(lib):
    t = lib.zeros(3)
    assert t.add_(1) is t and t.mul_(2) is t and t.zero_() is t and t.fill_(4) is t
    t[t > 3] = 1.0
    t[0] = 7.0
    np.testing.assert_array_equal(t.numpy(), [7.0, 1.0, 1.0])
