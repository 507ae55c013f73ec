"""Element-wise ops: hand-computed cases, forward against NumPy, gradcheck on drawn shapes,
broadcasting reduced back in backward, dtype preservation and error messages."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minicnn
from minicnn import functional as F
from tests.strategies import (arrays, broadcastable_shapes, clip_bounds, distinct_arrays,
                              distinct_pair, shapes)


def leaf(values, dtype=np.float64):
    return minicnn.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- golden cases


def test_add_sub_mul_div_gradients_by_hand():
    a, b = leaf([3.0]), leaf([2.0])
    ((a + b) * (a - b) / b).backward(np.array([1.0]))  # (a^2 - b^2) / b = a^2/b - b
    assert a.grad == pytest.approx([2 * 3.0 / 2.0])       # 2a / b
    assert b.grad == pytest.approx([-9.0 / 4.0 - 1.0])    # -a^2 / b^2 - 1


def test_neg_by_hand():
    x = leaf([1.0, -2.0])
    y = -x
    np.testing.assert_array_equal(y.data, [-1.0, 2.0])
    y.backward(np.array([3.0, 5.0]))
    np.testing.assert_array_equal(x.grad, [-3.0, -5.0])


def test_pow_three_forms_by_hand():
    x = leaf(2.0)
    (x ** 3).backward()
    assert x.grad == pytest.approx(12.0)                 # 3 x^2

    x = leaf(3.0)
    (2.0 ** x).backward()
    assert x.grad == pytest.approx(8.0 * math.log(2.0))  # 2^x ln 2

    a, b = leaf(2.0), leaf(3.0)
    (a ** b).backward()
    assert a.grad == pytest.approx(12.0)                 # b a^(b-1)
    assert b.grad == pytest.approx(8.0 * math.log(2.0))  # a^b ln a


def test_pow_negative_and_fractional_exponents():
    x = leaf([4.0, 0.25])
    y = x ** -0.5
    np.testing.assert_allclose(y.data, [0.5, 2.0])
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, -0.5 * np.array([4.0, 0.25]) ** -1.5)


def test_pow_at_a_zero_base_takes_the_limits_like_pytorch():
    # Warnings are errors in this suite: no 0 * inf may be computed visibly either.
    a, b = leaf([0.0, 1.0, 2.0, 0.0]), leaf([2.0, 2.0, 0.0, 0.0])
    (a ** b).backward(np.ones(4))
    np.testing.assert_array_equal(a.grad, [0.0, 2.0, 0.0, 0.0])  # d(a^0)/da = 0, even at 0
    np.testing.assert_allclose(b.grad, [0.0, 0.0, math.log(2.0), 0.0])  # a^b log a -> 0


def test_exp_log_sqrt_by_hand():
    x = leaf([0.0, 1.0])
    x.exp().backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad, [1.0, 2.0 * math.e])
    x = leaf([2.0, 4.0])
    x.log().backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [0.5, 0.25])
    x = leaf([4.0, 9.0])
    y = x.sqrt()
    np.testing.assert_allclose(y.data, [2.0, 3.0])
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [0.25, 1.0 / 6.0])


def test_abs_gradient_is_sign_and_zero_at_zero():
    x = leaf([-2.0, 0.0, 3.0])
    x.abs().backward(np.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])  # PyTorch's choice at 0


def test_maximum_minimum_route_gradient_to_the_winner_and_split_ties():
    a, b = leaf([1.0, 5.0, 2.0]), leaf([3.0, 4.0, 2.0])
    minicnn.maximum(a, b).backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad, [0.0, 20.0, 15.0])
    np.testing.assert_array_equal(b.grad, [10.0, 0.0, 15.0])
    a, b = leaf([1.0, 5.0]), leaf([3.0, 4.0])
    out = minicnn.minimum(a, b)
    np.testing.assert_array_equal(out.data, [1.0, 4.0])
    out.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(a.grad, [10.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 20.0])


def test_where_routes_gradient_by_the_mask():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    mask = np.array([True, False, True])
    out = minicnn.where(mask, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(b.grad, [0.0, 2.0, 0.0])


def test_where_accepts_a_boolean_tensor_and_a_scalar_branch():
    x = leaf([-1.0, 2.0])
    out = minicnn.where(x > 0, x, 0.0)
    np.testing.assert_array_equal(out.data, [0.0, 2.0])
    out.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_clip_passes_gradient_inside_and_on_the_bounds_only():
    x = leaf([-2.0, -1.0, 0.0, 1.0, 2.0])
    out = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    out.backward(np.ones(5))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # PyTorch: 1 on a bound


def test_broadcast_gradient_is_summed_back_to_each_operand():
    a = leaf(np.ones((2, 3)))
    b = leaf([[1.0], [2.0]])          # (2, 1), stretched along axis 1
    c = leaf(np.array([1.0, 2.0, 3.0]))  # (3,), missing the leading axis
    (a * b + c).backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b.grad, [[0 + 1 + 2], [3 + 4 + 5]])
    np.testing.assert_array_equal(c.grad, [0 + 3, 1 + 4, 2 + 5])
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(2, 3) * [[1.0], [2.0]])


# ----------------------------------------------------------------------------- drawn cases

# name: (minicnn op, numpy op, value range of a, value range of b)
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-1, 1), (-1, 1)),
    "sub": (lambda a, b: a - b, np.subtract, (-1, 1), (-1, 1)),
    "mul": (lambda a, b: a * b, np.multiply, (-1, 1), (-1, 1)),
    "div": (lambda a, b: a / b, np.divide, (-1, 1), (0.5, 2)),
    "pow": (lambda a, b: a ** b, np.power, (0.5, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_binary_op_forward_and_gradcheck_with_broadcasting(name, shape_pair, data):
    op, reference, range_a, range_b = BINARY[name]
    shape_a, shape_b = shape_pair
    a = leaf(data.draw(arrays(shape_a, *range_a)))
    b = leaf(data.draw(arrays(shape_b, *range_b)))
    out = op(a, b)
    np.testing.assert_allclose(out.data, reference(a.data, b.data), rtol=1e-15)
    assert minicnn.gradcheck(op, [a, b])


@pytest.mark.parametrize("op, reference", [(minicnn.maximum, np.maximum),
                                           (minicnn.minimum, np.minimum)])
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_maximum_minimum_forward_and_gradcheck(op, reference, shape_pair, data):
    a_values, b_values = data.draw(distinct_pair(*shape_pair))
    a, b = leaf(a_values), leaf(b_values)
    np.testing.assert_array_equal(op(a, b).data, reference(a_values, b_values))
    assert minicnn.gradcheck(op, [a, b])


@pytest.mark.parametrize("name", sorted(BINARY) + ["maximum", "minimum"])
@given(shape_pair=broadcastable_shapes(), data=st.data())
def test_binary_op_gradients_have_the_operand_shapes(name, shape_pair, data):
    op = {**{k: v[0] for k, v in BINARY.items()},
          "maximum": minicnn.maximum, "minimum": minicnn.minimum}[name]
    a_values, b_values = data.draw(distinct_pair(*shape_pair, low=0.5, high=2.0))
    a, b = leaf(a_values), leaf(b_values)
    out = op(a, b)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("op, reference", [
    (lambda x: 2.5 - x, lambda x: 2.5 - x),
    (lambda x: 2.5 / x, lambda x: 2.5 / x),
    (lambda x: 1.5 ** x, lambda x: 1.5 ** x),
    (lambda x: x ** 3, lambda x: x ** 3),
    (lambda x: x ** -1.5, lambda x: x ** -1.5),
    (lambda x: 3 * x + 1, lambda x: 3 * x + 1),
])
@given(shape=shapes(), data=st.data())
def test_scalar_operand_forms(op, reference, shape, data):
    x = leaf(data.draw(arrays(shape, 0.5, 2.0)))
    np.testing.assert_allclose(op(x).data, reference(x.data), rtol=1e-14)
    assert minicnn.gradcheck(op, [x])


# name: (op, numpy forward, value range)
UNARY = {
    "neg": (lambda x: -x, np.negative, (-1, 1)),
    "exp": (F.exp, np.exp, (-2, 2)),
    "log": (F.log, np.log, (0.5, 3)),
    "sqrt": (F.sqrt, np.sqrt, (0.5, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes(min_dims=0), data=st.data())
def test_unary_op_forward_and_gradcheck(name, shape, data):
    op, reference, value_range = UNARY[name]
    x = leaf(data.draw(arrays(shape, *value_range)))
    np.testing.assert_array_equal(op(x).data, reference(x.data))
    assert minicnn.gradcheck(op, [x])


@given(shape=shapes(min_dims=0), data=st.data())
def test_abs_forward_and_gradcheck_away_from_zero(shape, data):
    x = leaf(data.draw(distinct_arrays(shape)))
    np.testing.assert_array_equal(F.abs(x).data, np.abs(x.data))
    assert minicnn.gradcheck(F.abs, [x])


@given(shape=shapes(), data=st.data())
def test_clip_forward_and_gradcheck(shape, data):
    x = leaf(data.draw(distinct_arrays(shape)))
    low, high = data.draw(clip_bounds(x.data))
    np.testing.assert_array_equal(F.clip(x, low, high).data, np.clip(x.data, low, high))
    assert minicnn.gradcheck(lambda t: F.clip(t, low, high), [x])


@given(shapes_=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       data=st.data())
def test_where_forward_and_gradcheck_with_broadcasting(shapes_, data):
    shape_mask, shape_a, shape_b = shapes_.input_shapes
    mask = data.draw(arrays(shape_mask)) > 0
    a, b = leaf(data.draw(arrays(shape_a))), leaf(data.draw(arrays(shape_b)))
    out = minicnn.where(mask, a, b)
    np.testing.assert_array_equal(out.data, np.where(mask, a.data, b.data))
    assert minicnn.gradcheck(lambda x, y: minicnn.where(mask, x, y), [a, b])


def test_only_the_operand_that_requires_grad_gets_one():
    a, b = leaf([1.0, 2.0]), minicnn.tensor(np.array([3.0, 4.0]))
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
               lambda x, y: x / y, lambda x, y: x ** y, minicnn.maximum, minicnn.minimum):
        a.grad = None
        op(a, b).backward(np.ones(2))
        assert a.grad is not None and b.grad is None


# ----------------------------------------------------------------------------- dtype

FLOAT32_OPS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y, "maximum": minicnn.maximum,
    "minimum": minicnn.minimum, "where": lambda x, y: minicnn.where(x.data > 1.2, x, y),
    "neg": lambda x, y: -x, "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(),
    "sqrt": lambda x, y: x.sqrt(), "abs": lambda x, y: x.abs(),
    "clip": lambda x, y: x.clip(0.8, 1.5),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_in_float32_out_and_float32_gradients(name, rng):
    x = leaf(rng.uniform(0.5, 2.0, (2, 3)), dtype=np.float32)
    y = leaf(rng.uniform(0.5, 2.0, (3,)), dtype=np.float32)
    out = FLOAT32_OPS[name](x, y)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32
    if y.grad is not None:
        assert y.grad.dtype == np.float32


SCALARS = [2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2), np.array(2.0), np.array(2)]


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("op", [
    lambda x, s: x + s, lambda x, s: s + x, lambda x, s: x - s, lambda x, s: s - x,
    lambda x, s: x * s, lambda x, s: s * x, lambda x, s: x / s, lambda x, s: s / x,
    lambda x, s: x ** s, lambda x, s: s ** x, lambda x, s: minicnn.maximum(x, s),
    lambda x, s: minicnn.minimum(s, x), lambda x, s: minicnn.where(x.data > 1, x, s),
    lambda x, s: x.clip(s / 4, s),
])
def test_scalars_do_not_upcast_float32(op, scalar):
    x = leaf([0.5, 1.5], dtype=np.float32)
    out = op(x, scalar)
    assert isinstance(out, minicnn.Tensor) and out.dtype == np.float32
    out.backward(np.ones(2, dtype=np.float32))
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda t, s: t + s, lambda t, s: s + t, lambda t, s: t - s, lambda t, s: s - t,
    lambda t, s: t * s, lambda t, s: s * t,
])
def test_integer_tensor_and_python_float_give_the_default_float32(op):
    t = minicnn.tensor(np.array([1, 2, 3]))
    out = op(t, 0.5)
    assert out.dtype == np.float32  # PyTorch's default dtype, not NumPy's float64
    np.testing.assert_array_equal(out.data, op(t.data, 0.5).astype(np.float32))
    assert op(t, 2).dtype == np.int64  # an int scalar keeps an integer tensor integral


@pytest.mark.parametrize("op, reference", [
    (lambda a, t: a + t, np.add), (lambda a, t: a - t, np.subtract),
    (lambda a, t: a * t, np.multiply), (lambda a, t: a / t, np.divide),
    (lambda a, t: a ** t, np.power),
])
def test_ndarray_on_the_left_dispatches_to_the_tensor(op, reference):
    a = np.array([1.0, 2.0, 3.0])
    t = leaf([0.5, 1.0, 2.0])
    out = op(a, t)
    assert isinstance(out, minicnn.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, reference(a, t.data))
    out.backward(np.ones(3))
    assert t.grad.shape == (3,)


def test_integer_tensors_stay_integer():
    labels = minicnn.tensor(np.array([1, 2, 3]))
    assert (labels + 1).dtype == np.int64
    assert (labels * labels).dtype == np.int64


# ----------------------------------------------------------------------------- promotion
# One rule for every op with several operands: torch.result_type (see the module docstring
# of minicnn/ops/elementwise.py). Checked against PyTorch op by op, over every pair of
# operand kinds, and against hand-written expectations that need no PyTorch.

OPERAND_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
                  np.float32, np.float64]


def _operands_of_every_kind():
    """(label, value): tensors with axes and 0-d, arrays with axes and 0-d, Python and NumPy
    scalars. Values are positive, so that every power is defined."""
    kinds = []
    for dtype in OPERAND_DTYPES:
        name = np.dtype(dtype).name
        kinds.append((f"tensor {name} (3,)", minicnn.tensor(np.array([1, 2, 1], dtype=dtype))))
        kinds.append((f"tensor {name} ()", minicnn.tensor(np.array(2, dtype=dtype))))
    for dtype in (np.bool_, np.int64, np.float64):
        name = np.dtype(dtype).name
        kinds.append((f"array {name} (3,)", np.array([2, 1, 2], dtype=dtype)))
        kinds.append((f"array {name} ()", np.array(1, dtype=dtype)))
    kinds += [(repr(v), v) for v in (True, 2, 2.0, np.bool_(True), np.int32(2), np.int64(2),
                                     np.float32(2.0), np.float64(2.0))]
    return kinds


OPERANDS = _operands_of_every_kind()
MASK = np.array([True, False, True])
BINARY_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": minicnn.maximum,
    "minimum": minicnn.minimum, "where": lambda a, b: minicnn.where(MASK, a, b),
    "eq": lambda a, b: a == b, "lt": lambda a, b: a < b,
}
NUMPY_OF = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
            "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
            "where": lambda a, b: np.where(MASK, a, b), "eq": np.equal, "lt": np.less}


def _torch_value(value, torch):
    if isinstance(value, minicnn.Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    return value.item() if isinstance(value, np.generic) else value  # NumPy scalars are scalars


def _pairs():
    """Every (left, right) pair with a Tensor on at least one side."""
    return [(a, b) for a in OPERANDS for b in OPERANDS
            if isinstance(a[1], minicnn.Tensor) or isinstance(b[1], minicnn.Tensor)]


def _expected_dtype(name, a, b, torch):
    """The dtype PyTorch gives, or the exception type minicnn raises where PyTorch raises
    or computes in a dtype minicnn refuses (float16)."""
    ta, tb = _torch_value(a, torch), _torch_value(b, torch)
    if name in ("sub", "pow") and {type(ta), type(tb)} <= {bool, torch.Tensor} and all(
            not isinstance(t, torch.Tensor) or t.dtype == torch.bool for t in (ta, tb)):
        return TypeError  # bool - bool and bool ** bool: PyTorch raises too
    dtype = torch.result_type(ta, tb) if isinstance(ta, torch.Tensor) else \
        torch.result_type(tb, ta)
    if name == "div" and not dtype.is_floating_point:
        dtype = torch.div(torch.ones(1, dtype=dtype), torch.ones(1, dtype=dtype)).dtype
    dtype = np.dtype(str(dtype).replace("torch.", ""))
    return TypeError if dtype == np.float16 else dtype


def _check_pair(name, a, b, expected):
    """A list of what went wrong for ``BINARY_OPS[name](a, b)`` (empty when all is right)."""
    label = f"{name}({a[0]}, {b[0]})"
    try:
        out = BINARY_OPS[name](a[1], b[1])
    except Exception as error:  # noqa: BLE001 - reported below
        if expected is TypeError and isinstance(error, TypeError):
            return []
        return [f"{label}: raised {type(error).__name__}: {error}, expected {expected}"]
    if expected is TypeError:
        return [f"{label}: gave {out.dtype}, expected a TypeError"]
    # the op computes on both operands converted to the expected dtype
    arrays = [np.asarray(v.data if isinstance(v, minicnn.Tensor) else v, dtype=expected)
              for v in (a[1], b[1])]
    reference = NUMPY_OF[name](*arrays)
    wanted = np.bool_ if name in ("eq", "lt") else expected
    if out.dtype != wanted or not np.array_equal(out.data, reference):
        return [f"{label}: gave {out.dtype} {out.data}, expected {np.dtype(wanted)} {reference}"]
    return []


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
def test_every_pair_of_operand_kinds_promotes_like_pytorch(name):
    torch = pytest.importorskip("torch")
    problems = []
    for a, b in _pairs():
        problems += _check_pair(name, a, b, _expected_dtype(name, a[1], b[1], torch))
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:20])


def _tensor(dtype, shape=(3,)):
    return minicnn.tensor(np.full(shape, 2, dtype=dtype))


# (left, right, op, expected dtype): each clause of the rule, without PyTorch.
HAND_WRITTEN = [
    (_tensor(np.float32), _tensor(np.int64), "add", np.float32),   # an int never widens
    (_tensor(np.float32), np.arange(3), "mul", np.float32),        # an int array neither
    (np.arange(3), _tensor(np.float32), "sub", np.float32),        # ... on the left too
    (_tensor(np.float32), _tensor(np.bool_), "add", np.float32),
    (_tensor(np.float16), _tensor(np.int64), "add", TypeError),    # float16 is refused
    (_tensor(np.float32), _tensor(np.float64), "add", np.float64),  # both with axes: widest
    (np.ones(3), _tensor(np.float32), "mul", np.float64),
    (_tensor(np.float32), _tensor(np.float64, ()), "add", np.float32),  # 0-d does not widen
    (_tensor(np.float32), np.array(2.0), "mul", np.float32),
    (_tensor(np.float32, ()), _tensor(np.float64, ()), "add", np.float64),  # both 0-d
    (_tensor(np.int64), _tensor(np.float64, ()), "add", np.float64),  # higher category wins
    (_tensor(np.int64), 2.5, "mul", np.float32),                   # a float scalar is float32
    (_tensor(np.int64), np.float64(2.5), "mul", np.float32),       # NumPy's too
    (_tensor(np.float32), np.float64(2.5), "mul", np.float32),
    (_tensor(np.int32), 2, "add", np.int32),                       # int op int stays int
    (_tensor(np.int32), np.int64(2), "add", np.int32),
    (_tensor(np.int32), _tensor(np.int64), "add", np.int64),
    (_tensor(np.int8), _tensor(np.uint8), "add", np.int16),
    (_tensor(np.uint8), _tensor(np.int64, ()), "add", np.uint8),   # same category: 0-d waits
    (_tensor(np.bool_), _tensor(np.bool_), "add", np.bool_),
    (_tensor(np.bool_), _tensor(np.bool_), "sub", TypeError),      # as PyTorch: use ^
    (_tensor(np.bool_), 2, "mul", np.int64),
    (_tensor(np.bool_), _tensor(np.uint8, ()), "mul", np.uint8),
    (_tensor(np.int64), _tensor(np.int64), "div", np.float32),     # true division
    (_tensor(np.bool_), _tensor(np.bool_), "div", np.float32),
    (_tensor(np.int64), _tensor(np.float64, ()), "div", np.float64),
    (_tensor(np.int64), 3, "pow", np.int64),
    (2.0, _tensor(np.int64), "pow", np.float32),
    (_tensor(np.bool_), _tensor(np.bool_), "pow", TypeError),
    (_tensor(np.float32), _tensor(np.int64), "maximum", np.float32),
    (_tensor(np.int64), 2.5, "minimum", np.float32),
    (_tensor(np.float32), np.ones(3), "where", np.float64),
    (_tensor(np.float32), np.array(1.0), "where", np.float32),
    (_tensor(np.float32), _tensor(np.int64), "eq", np.float32),    # compared in float32
]


@pytest.mark.parametrize("left, right, name, expected", HAND_WRITTEN,
                         ids=[f"{row[2]}-{i}" for i, row in enumerate(HAND_WRITTEN)])
def test_promotion_by_hand(left, right, name, expected):
    assert not _check_pair(name, ("left", left), ("right", right), expected)


def test_comparisons_happen_in_the_result_dtype():
    x = minicnn.tensor(np.array([0.1], dtype=np.float32))
    assert (x == 0.1).item() and (x == np.float64(0.1)).item()  # 0.1 rounded to float32
    assert (x == minicnn.tensor(np.float64(0.1))).item()        # a 0-d float64 tensor too
    assert not (x == minicnn.tensor(np.array([0.1]))).item()    # float64 with an axis: wider


@pytest.mark.parametrize("op", [lambda x, y: x + y, lambda x, y: y * x, lambda x, y: x / y,
                                lambda x, y: x ** y, minicnn.maximum,
                                lambda x, y: minicnn.where(MASK, x, y)])
def test_gradients_come_back_in_each_operands_dtype(op, rng):
    x = leaf(rng.uniform(0.5, 2.0, (2, 3)), dtype=np.float32)
    y = leaf(rng.uniform(0.5, 2.0, (3,)), dtype=np.float64)
    out = op(x, y)
    assert out.dtype == np.float64
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    # the same gradients as with x converted to float64 first
    x64 = leaf(x.data.astype(np.float64))
    y.grad = None
    op(x64, y).backward(upstream)
    np.testing.assert_allclose(x.grad, x64.grad.data.astype(np.float32), rtol=1e-6)


def test_a_float32_tensor_stays_float32_beside_integer_labels():
    x = leaf([0.5, 1.5, 2.5], dtype=np.float32)
    labels = minicnn.tensor(np.array([1, 0, 2]))
    out = x * labels + labels
    assert out.dtype == np.float32
    out.backward(np.ones(3, dtype=np.float32))
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 2.0])


@pytest.mark.parametrize("name", ["exp", "log", "sqrt"])
def test_exp_log_sqrt_of_integers_give_float32(name):
    ints = minicnn.tensor(np.array([1, 4]))
    out = getattr(ints, name)()
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, getattr(np, name)(np.array([1.0, 4.0])), rtol=1e-6)
    with pytest.raises(TypeError, match=f"{name}: the operands give dtype float16"):
        getattr(minicnn.tensor(np.ones(2, dtype=np.float16)), name)()


def test_neg_abs_clip_follow_the_rule():
    ints = minicnn.tensor(np.array([-1, 3]))
    assert (-ints).dtype == np.int64 and ints.abs().dtype == np.int64
    assert ints.clip(0, 2).dtype == np.int64
    clipped = ints.clip(0.5, 2)  # torch.clamp: an integer tensor at a float bound is float32
    assert clipped.dtype == np.float32
    np.testing.assert_array_equal(clipped.data, [0.5, 2.0])
    with pytest.raises(TypeError, match="neg: negating a bool tensor"):
        -minicnn.tensor(np.array([True]))
    with pytest.raises(TypeError, match="clip: min must be a number"):
        leaf([1.0]).clip("0")


def test_integers_to_negative_integer_powers_are_refused():
    with pytest.raises(ValueError, match="integers to negative integer powers"):
        minicnn.tensor(np.array([2])) ** -1
    assert (minicnn.tensor(np.array([2])) ** -1.0).dtype == np.float32


def test_a_scalar_that_does_not_fit_the_integer_dtype_is_named():
    with pytest.raises(ValueError, match="add: the scalar 1000 does not fit in int8"):
        minicnn.tensor(np.array([1], dtype=np.int8)) + 1000


@pytest.mark.parametrize("other", [None, "a", [1.0, 2.0], {"a": 1}, object()], ids=repr)
def test_operands_that_are_not_numbers_are_refused(other):
    x = leaf([1.0, 2.0])
    for op in (lambda: x + other, lambda: other * x, lambda: x / other, lambda: x ** other,
               lambda: x < other, lambda: minicnn.maximum(x, other),
               lambda: minicnn.where(MASK[:2], x, other)):
        with pytest.raises(TypeError):
            op()
    assert (x == other) is False and (x != other) is True  # Python's fallback, as PyTorch's


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1, None]),
                                 np.array([1 + 2j, 1])], ids=["str", "object", "complex"])
def test_arrays_of_dtypes_the_ops_do_not_compute_in_are_refused(bad):
    with pytest.raises(TypeError, match=r"add: .*dtype"):
        leaf([1.0, 2.0]) + bad


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a ** b, minicnn.maximum, minicnn.minimum,
    lambda a, b: minicnn.where(np.ones((2, 3), dtype=bool), a, b),
])
def test_shapes_that_do_not_broadcast_are_named(op):
    a, b = leaf(np.ones((2, 3))), leaf(np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\) cannot be broadcast"):
        op(a, b)


def test_where_mask_that_does_not_broadcast_is_named():
    with pytest.raises(ValueError, match=r"where: shapes \(4,\) and \(2, 3\)"):
        minicnn.where(np.ones(4, dtype=bool), leaf(np.ones((2, 3))), 0.0)


def test_where_needs_a_boolean_condition():
    with pytest.raises(TypeError, match="condition must be boolean"):
        minicnn.where(np.ones(3), leaf(np.ones(3)), 0.0)


def test_clip_arguments_are_checked():
    x = leaf(np.ones(3))
    with pytest.raises(ValueError, match="at least one of min and max"):
        x.clip()
    with pytest.raises(ValueError, match="min=2.0 is greater than max=1.0"):
        x.clip(2.0, 1.0)


# ----------------------------------------------------------------------------- PyTorch's
# element-wise functions: sin/cos/..., rounding, div(rounding_mode=), clamp with tensors


def test_unary_functions_match_pytorch_in_value_and_dtype():
    torch = pytest.importorskip("torch")
    for data in (np.array([0.5, 1.5, 2.5, -0.5, 3.25]), np.array([1, 4, 9])):
        for name in ("sin", "cos", "tan", "exp2", "log2", "log10", "rsqrt", "floor", "ceil",
                     "round", "trunc", "sign"):
            ours = getattr(minicnn, name)(minicnn.tensor(data))
            theirs = getattr(torch, name)(torch.from_numpy(data))
            assert str(ours.dtype) == str(theirs.dtype).split(".")[1], name
            np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, err_msg=name)


def test_rounding_an_integer_tensor_returns_a_copy():
    x = minicnn.tensor([1, 2])
    assert not np.shares_memory(x.floor().data, x.data)


def test_div_rounding_modes_match_pytorch_and_integer_division_by_zero_raises():
    torch = pytest.importorskip("torch")
    a, b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    for mode in ("floor", "trunc"):
        for x, y in ((a, b), (a.astype(np.float32), b.astype(np.float32))):
            ours = minicnn.div(minicnn.tensor(x), minicnn.tensor(y), rounding_mode=mode)
            theirs = torch.div(torch.from_numpy(x), torch.from_numpy(y), rounding_mode=mode)
            assert ours.tolist() == theirs.tolist() and str(ours.dtype) in str(theirs.dtype)
    assert (minicnn.tensor([7, 8]) // 2).tolist() == [3, 4]
    with pytest.raises(ZeroDivisionError):
        minicnn.div(minicnn.tensor([1]), 0, rounding_mode="floor")
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        minicnn.div(minicnn.tensor([1.0]), 2, rounding_mode="round")


def test_clamp_with_tensor_bounds_matches_pytorch_when_min_exceeds_max():
    torch = pytest.importorskip("torch")
    x, low, high = np.array([-2.0, 0.5, 3.0]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 2.0])
    ours = minicnn.tensor(x).clamp(minicnn.tensor(low), minicnn.tensor(high))
    theirs = torch.from_numpy(x).clamp(torch.from_numpy(low), torch.from_numpy(high))
    assert ours.tolist() == theirs.tolist()


def test_add_and_sub_take_alpha_and_refuse_a_non_number():
    x = minicnn.tensor([1.0, 2.0])
    assert x.add(x, alpha=3).tolist() == [4.0, 8.0] and x.sub(1, alpha=2).tolist() == [-1.0, 0.0]
    with pytest.raises(TypeError, match="add: alpha must be a number, got 'a'"):
        x.add(x, alpha="a")


def test_mul_and_div_save_only_what_their_gradients_use_as_pytorch():
    # y * 2.0 keeps nothing of y: changing y in place afterwards leaves backward valid
    # (saving both operands made this a "modified by an inplace operation" error)
    for op in (lambda y: y * 2.0, lambda y: y / 2.0, lambda y: 2.0 * y):
        y = minicnn.ones(3, requires_grad=True) * 1
        z = op(y)
        y.add_(1)
        z.sum().backward()
    x, w = minicnn.ones(3), minicnn.ones(3, requires_grad=True)
    z = x * w  # w's gradient needs x
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
