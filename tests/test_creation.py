"""Creation functions (``minicnn.zeros``, ``arange``, ``randn``, ...): PyTorch's argument
forms, dtypes and shapes, compared with PyTorch when it is installed."""

import numpy as np
import pytest

import minicnn

# (call, as PyTorch spells it): deterministic creation calls whose values, shape and dtype
# must equal PyTorch's. Each entry is evaluated with ``lib`` bound to minicnn or torch.
DETERMINISTIC = [
    "lib.zeros(2, 3)", "lib.zeros((2, 3))", "lib.zeros([4])", "lib.zeros(0, 2)",
    "lib.zeros(2, 3, dtype=lib.float64)", "lib.zeros(3, dtype=lib.long)",
    "lib.ones(2, 2)", "lib.ones((1,), dtype=lib.int32)", "lib.ones(2, dtype=lib.bool)",
    "lib.full((2, 2), 7)", "lib.full((2,), 2.5)", "lib.full((3,), True)",
    "lib.full((2,), 7, dtype=lib.float32)", "lib.full([2, 1], -1.0, dtype=lib.float64)",
    "lib.eye(3)", "lib.eye(2, 4)", "lib.eye(3, dtype=lib.long)",
    "lib.arange(5)", "lib.arange(2, 9)", "lib.arange(2, 9, 3)", "lib.arange(0, 1, 0.1)",
    "lib.arange(5.0)", "lib.arange(10, 0, -3)", "lib.arange(0, 5, dtype=lib.float64)",
    "lib.arange(1, 2.5, 0.5)", "lib.arange(0)", "lib.arange(-1.0, 1.0, 0.3)",
    "lib.linspace(-1, 1, 5)", "lib.linspace(0, 10, 1)", "lib.linspace(0, 1, 0)",
    "lib.linspace(3, -3, 7, dtype=lib.float64)",
    "lib.zeros_like(lib.ones(2, 3, dtype=lib.float64))", "lib.ones_like(lib.arange(4))",
    "lib.full_like(lib.zeros(2), 3)", "lib.full_like(lib.arange(3), 2.7)",
    "tuple(lib.empty(2, 3).shape)", "str(lib.empty_like(lib.arange(3)).dtype)[-5:]",
]


def _values(result):
    if isinstance(result, (tuple, str)):
        return result, None
    return np.asarray(result.numpy() if hasattr(result, "numpy") else result), str(
        result.dtype).replace("torch.", "")


@pytest.mark.parametrize("call", DETERMINISTIC)
def test_deterministic_creation_equals_pytorch(call):
    torch = pytest.importorskip("torch")
    mine, mine_dtype = _values(eval(call, {"lib": minicnn}))
    theirs, their_dtype = _values(eval(call, {"lib": torch}))
    assert mine_dtype == their_dtype
    if mine_dtype is None:
        assert mine == theirs
    else:
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_default_dtypes_without_pytorch():
    assert minicnn.zeros(2).dtype == np.float32 == minicnn.float32 == minicnn.float
    assert minicnn.arange(3).dtype == np.int64 == minicnn.long
    assert minicnn.arange(3.0).dtype == np.float32
    assert minicnn.full((1,), 2).dtype == np.int64
    assert minicnn.full((1,), 2.0).dtype == np.float32
    assert minicnn.full((1,), False).dtype == np.bool_
    assert minicnn.rand(2).dtype == minicnn.randn(2).dtype == np.float32
    assert minicnn.randint(5, (2,)).dtype == np.int64
    assert minicnn.zeros(2, dtype=float).dtype == np.float32  # Python float means float32


def test_random_tensors_have_their_shapes_ranges_and_seeded_streams():
    minicnn.manual_seed(0)
    a = minicnn.rand(100, 3)
    b = minicnn.randn((2, 5), dtype=minicnn.float64)
    c = minicnn.randint(3, 7, (1000,))
    d = minicnn.randint(4, size=(2, 2))
    assert a.shape == (100, 3) and 0 <= a.numpy().min() and a.numpy().max() < 1
    assert b.shape == (2, 5) and b.dtype == np.float64
    assert set(np.unique(c.numpy())) == {3, 4, 5, 6}
    assert d.shape == (2, 2) and d.numpy().max() < 4
    minicnn.manual_seed(0)
    np.testing.assert_array_equal(minicnn.rand(100, 3).numpy(), a.numpy())


def test_normal_takes_numbers_with_a_size_or_tensors():
    minicnn.manual_seed(1)
    sample = minicnn.normal(3.0, 0.5, size=(20000,)).numpy()
    assert sample.dtype == np.float32
    assert abs(sample.mean() - 3.0) < 0.02 and abs(sample.std() - 0.5) < 0.02
    means = minicnn.tensor(np.array([0.0, 100.0], dtype=np.float64))
    draws = minicnn.normal(means, minicnn.tensor(np.array([1e-9, 1e-9])))
    assert draws.dtype == np.float64
    np.testing.assert_allclose(draws.numpy(), [0.0, 100.0], atol=1e-6)
    with pytest.raises(ValueError, match="std"):
        minicnn.normal(0.0, -1.0, size=(2,))


def test_like_functions_keep_shape_and_dtype():
    base = minicnn.tensor(np.zeros((2, 3), dtype=np.float64))
    for make in (minicnn.zeros_like, minicnn.ones_like, minicnn.empty_like,
                 minicnn.rand_like, minicnn.randn_like):
        made = make(base)
        assert made.shape == (2, 3) and made.dtype == np.float64
    assert minicnn.randint_like(base, 5).dtype == np.float64
    assert minicnn.zeros_like(base, dtype=minicnn.float32).dtype == np.float32


def test_requires_grad_is_set_on_floating_results():
    x = minicnn.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError, match="floating"):
        minicnn.arange(3, requires_grad=True)


def test_from_numpy_shares_memory_both_ways():
    array = np.zeros(3, dtype=np.float32)
    t = minicnn.from_numpy(array)
    array[0] = 5
    t.numpy()[1] = 7
    np.testing.assert_array_equal(array, [5, 7, 0])
    assert t.dtype == np.float32
    with pytest.raises(TypeError, match="expected np.ndarray"):
        minicnn.from_numpy([1.0, 2.0])


def test_as_tensor_shares_when_it_can():
    array = np.ones(2, dtype=np.float64)
    assert minicnn.as_tensor(array).numpy() is array
    t = minicnn.tensor(array)
    assert minicnn.as_tensor(t) is t
    converted = minicnn.as_tensor(array, dtype=minicnn.float32)
    assert converted.dtype == np.float32 and converted.numpy() is not array


@pytest.mark.parametrize("call, error, words", [
    ("minicnn.zeros(-1)", ValueError, "negative dimension"),
    ("minicnn.zeros(2.5)", TypeError, "size must be ints"),
    ("minicnn.ones('a')", TypeError, "size must be ints"),
    ("minicnn.arange(0, 5, 0)", ValueError, "step must be nonzero"),
    ("minicnn.arange(5, 0, 1)", ValueError, "inconsistent with step"),
    ("minicnn.arange(float('nan'))", ValueError, "end must be a finite number"),
    ("minicnn.linspace(0, 1, -2)", ValueError, "steps"),
    ("minicnn.eye(-1)", ValueError, "n must be a non-negative int"),
    ("minicnn.randint(5, 5, (2,))", ValueError, "low < high"),
    ("minicnn.randint(5)", TypeError, "randint"),
    ("minicnn.rand(2, dtype=minicnn.long)", TypeError, "floating dtype"),
    ("minicnn.zeros(2, dtype='cheese')", TypeError, "dtype must be a dtype"),
    ("minicnn.full((2,), 'x')", TypeError, "fill_value must be a real number"),
])
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        eval(call)


def test_randperm_is_a_seeded_permutation():
    minicnn.manual_seed(5)
    first = minicnn.randperm(10)
    assert first.dtype == np.int64 and sorted(first.tolist()) == list(range(10))
    minicnn.manual_seed(5)
    np.testing.assert_array_equal(minicnn.randperm(10).numpy(), first.numpy())
    assert minicnn.randperm(0).shape == (0,)
    assert minicnn.randperm(4, dtype=minicnn.float32).dtype == np.float32
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        minicnn.randperm(-1)
