"""In-place operations and the version counter (minicnn/autograd.py), with PyTorch's rules:
leaves that require grad refuse in-place writes outside no_grad, writes on graph tensors are
recorded and gradient-checked, and a tensor saved for backward and changed since makes
backward raise."""

import numpy as np
import pytest

import minicnn
from minicnn import Tensor, gradcheck
from minicnn import functional as F


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def random_leaf(*shape, seed=0):
    return leaf(np.random.default_rng(seed).uniform(0.5, 2.0, shape))


# --- what in-place ops change --------------------------------------------------------------

def test_augmented_assignment_updates_the_tensor_itself():
    """The manual-SGD loop of CS231n / 'Learning PyTorch with Examples' must train: `-=`
    under no_grad changes the parameter every reference sees (it rebound a name before)."""
    w = leaf([1.0, 2.0])
    params = [w]
    (w * w).sum().backward()
    with minicnn.no_grad():
        for p in params:
            p -= 0.1 * p.grad
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    assert w._version == 1 and w.is_leaf and w.requires_grad


@pytest.mark.parametrize("name, args, expected", [
    ("add_", (2.0,), [3.0, 4.0]),
    ("sub_", (2.0,), [-1.0, 0.0]),
    ("mul_", (2.0,), [2.0, 4.0]),
    ("div_", (2.0,), [0.5, 1.0]),
    ("fill_", (7.0,), [7.0, 7.0]),
    ("clamp_", (1.5, None), [1.5, 2.0]),
])
def test_inplace_methods_return_self_and_write_through_views(name, args, expected):
    base = Tensor(np.array([[1.0, 2.0]]))
    row = base[0]  # a view: shares memory and the version counter
    out = getattr(row, name)(*args)
    assert out is row
    np.testing.assert_allclose(base.data[0], expected)
    assert base._version == row._version == 1


def test_add_and_sub_take_alpha_and_broadcast():
    t = Tensor(np.zeros((2, 3)))
    t.add_(Tensor(np.array([1.0, 2.0, 3.0])), alpha=2)
    t.sub_(1.0, alpha=0.5)
    np.testing.assert_allclose(t.data, [[1.5, 3.5, 5.5]] * 2)


def test_item_assignment_with_masks_slices_and_tensor_values():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    t[t > 3] = 0
    t[0, :] = Tensor(np.array([9.0, 8.0, 7.0]))
    t[Tensor(np.array([1]))] = -1.0
    np.testing.assert_array_equal(t.data, [[9.0, 8.0, 7.0], [-1.0, -1.0, -1.0]])
    assert t._version == 3


def test_copy_zero_uniform_and_normal():
    t = Tensor(np.ones((200, 50), dtype=np.float32))
    t.copy_(Tensor(np.arange(50.0)))  # broadcast, cast to float32
    np.testing.assert_array_equal(t.data[3], np.arange(50.0))
    assert t.dtype == np.float32
    minicnn.manual_seed(0)
    t.uniform_(-2.0, 3.0)
    assert -2.0 <= t.data.min() and t.data.max() < 3.0 and abs(t.data.mean() - 0.5) < 0.05
    t.normal_(1.0, 2.0)
    assert abs(t.data.mean() - 1.0) < 0.05 and abs(t.data.std() - 2.0) < 0.05
    minicnn.manual_seed(0)
    u = Tensor(np.empty((200, 50), dtype=np.float32)).uniform_(-2.0, 3.0)
    minicnn.manual_seed(0)
    np.testing.assert_array_equal(u.data, Tensor(np.empty((200, 50))).uniform_(-2.0, 3.0).data
                                  .astype(np.float32))  # draws come from minicnn.rng
    assert t.zero_() is t and not t.data.any()


def test_integer_tensors_accumulate_counts_in_place():
    correct = Tensor(np.array(0))
    correct += Tensor(np.array([True, False, True])).data.sum()
    correct += 1
    assert correct.item() == 3 and correct.dtype == np.int64


def test_inplace_errors_follow_pytorch():
    ints = Tensor(np.array([1, 2]))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        ints.div_(2)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        ints += 0.5
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                           r"broadcast shape \[2, 3\]"):
        Tensor(np.zeros(3)).add_(Tensor(np.zeros((2, 3))))
    with pytest.raises(TypeError, match="argument 'other' must be Tensor or Number, got str"):
        Tensor(np.zeros(3)).mul_("2")
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        Tensor(np.zeros(3)).clamp_()
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor"):
        Tensor(np.zeros(3)).fill_(Tensor(np.zeros(2)))
    with pytest.raises(RuntimeError, match="normal_ expects std >= 0.0"):
        Tensor(np.zeros(3)).normal_(0.0, -1.0)
    with pytest.raises(RuntimeError, match=r"expects to return a \[from, to\) range"):
        Tensor(np.zeros(3)).uniform_(1.0, 0.0)
    with pytest.raises(TypeError, match="setitem: the value must be a Tensor"):
        Tensor(np.zeros(3))[0] = None
    with pytest.raises(RuntimeError, match="read-only"):
        Tensor(np.zeros(3)).expand(2, 3).zero_()
    t = Tensor(np.zeros(3))
    with pytest.raises(TypeError):
        t += "a"
    assert t._version == 0  # nothing failed half-way


# --- autograd rules -------------------------------------------------------------------------

LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


@pytest.mark.parametrize("write", [
    lambda w: w.add_(1.0), lambda w: w.mul_(2.0), lambda w: w.zero_(),
    lambda w: w.fill_(1.0), lambda w: w.clamp_(0.0, 1.0), lambda w: w.uniform_(),
    lambda w: w.normal_(), lambda w: w.copy_(Tensor(np.zeros(2))),
    lambda w: w.__setitem__(0, 5.0), lambda w: w.__iadd__(1.0), lambda w: w.__isub__(1.0),
    lambda w: w.__imul__(2.0), lambda w: w.__itruediv__(2.0),
])
def test_inplace_on_a_leaf_that_requires_grad_raises_outside_no_grad(write):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=LEAF_MESSAGE):
        write(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    assert w._version == 0
    with minicnn.no_grad():
        write(w)  # allowed, not recorded
    assert w.is_leaf and w.grad_fn is None and w._version == 1


def test_leaf_rule_matches_pytorch():
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as caught:
        w.add_(1.0)
    assert LEAF_MESSAGE in str(caught.value)


def test_data_assignment_and_writes_through_data_bypass_autograd():
    w = leaf([1.0, 2.0])
    w.data = np.array([3.0, 4.0])
    w.data[0] = 5.0
    assert w._version == 0 and w.is_leaf


def _inplace_cases():
    """(name, fn) where fn(x, other) computes through an in-place op on a non-leaf."""
    def via(method, *extra):
        def fn(x, other):
            y = x * 1.5                  # a non-leaf
            getattr(y, method)(other, *extra) if other is not None else getattr(y, method)(*extra)
            return y * y                 # uses the new value
        return fn
    return [
        ("add_", via("add_")), ("sub_", via("sub_")), ("mul_", via("mul_")),
        ("div_", via("div_")),
        ("add_ alpha", lambda x, o: (lambda y: (y.add_(o, alpha=-0.5), y * y)[1])(x * 1.5)),
        ("iadd", lambda x, o: _augmented(x, o, "__iadd__")),
        ("isub", lambda x, o: _augmented(x, o, "__isub__")),
        ("imul", lambda x, o: _augmented(x, o, "__imul__")),
        ("itruediv", lambda x, o: _augmented(x, o, "__itruediv__")),
        ("clamp_", lambda x, o: (lambda y: (y.clamp_(1.0, 2.5), y * o)[1])(x * 1.5)),
        ("copy_", lambda x, o: (lambda y: (y.copy_(o * 3.0), y * x)[1])(x * 1.5)),
        ("fill_ 0-d", lambda x, o: (lambda y: (y.fill_(o.sum()), y * x)[1])(x * 1.5)),
        ("zero_", lambda x, o: (lambda y: (y.zero_(), y + x * o)[1])(x * 1.5)),
        ("uniform_", lambda x, o: (lambda y: (y.uniform_(), y + x * o)[1])(x * 1.5)),
        ("normal_", lambda x, o: (lambda y: (y.normal_(), y * x + o)[1])(x * 1.5)),
        ("fill_ number", lambda x, o: (lambda y: (y.fill_(2.0), y * x * o)[1])(x * 1.5)),
    ]


def _augmented(x, other, method):
    y = x * 1.5
    y = getattr(y, method)(other)
    return y * y


@pytest.mark.parametrize("name, fn", _inplace_cases(), ids=[c[0] for c in _inplace_cases()])
def test_inplace_on_a_non_leaf_is_recorded_and_gradient_checked(name, fn):
    x = random_leaf(2, 3, seed=1)
    other = random_leaf(2, 3, seed=2)
    if name in ("uniform_", "normal_"):
        minicnn.manual_seed(0)
        fn = _seeded(fn)
    assert gradcheck(fn, [x, other])
    y = x * 1.5
    assert y.mul_(2.0) is y and y.grad_fn.name() == "MulBackward0" and not y.is_leaf


def _seeded(fn):
    def seeded(*args):
        minicnn.manual_seed(0)
        return fn(*args)
    return seeded


def test_setitem_with_a_value_that_requires_grad_is_gradient_checked():
    def fn(x, v):
        out = minicnn.zeros(3, 4, dtype=np.float64)  # a leaf that does not require grad
        out[1:, ::2] = v * 2.0                         # becomes part of the graph
        out[0] = x[0]
        out[out.data > 100] = 0.0                      # a mask (selects nothing here)
        return out * x
    x, v = random_leaf(3, 4, seed=3), random_leaf(2, 2, seed=4)
    assert gradcheck(fn, [x, v])
    # broadcast value: its gradient sums over the broadcast
    assert gradcheck(lambda x, v: (lambda y: (y.__setitem__((slice(None), 1), v), y)[1])(x * 1.0),
                     [x, random_leaf(1, seed=5)])


def test_setitem_on_a_leaf_not_requiring_grad_makes_it_part_of_the_graph():
    buffer = Tensor(np.zeros(3))
    y = leaf([2.0])
    buffer[1] = y * 3.0
    assert buffer.requires_grad and not buffer.is_leaf
    buffer.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [3.0])


def test_old_value_keeps_serving_the_ops_that_used_it():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    z = y + 2.0          # uses y before the in-place op (saves nothing)
    y.add_(10.0)
    (z + y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])  # 3 from z, 3 from y
    np.testing.assert_array_equal((z + y).data, [18.0, 24.0])


def test_recorded_inplace_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

    def run(lib, make):
        x = make(values)
        y = x * 2
        y.mul_(y.detach() + 1)
        y[0, 1:] = x[1, :2] * 3
        y.clamp_(-1.0, 4.0)
        y += x
        (y * y).sum().backward()
        return x.grad.detach().numpy() if lib == "torch" else x.grad.data

    ours = run("minicnn", lambda v: Tensor(v, requires_grad=True))
    theirs = run("torch", lambda v: torch.tensor(v, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# --- the version counter --------------------------------------------------------------------

MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace"


def test_changing_a_saved_output_makes_backward_raise():
    x = leaf([1.0, 2.0])
    y = x.exp()          # exp saves its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED + r".*output 0 of ExpBackward0, is at "
                                                      r"version 1; expected version 0"):
        y.sum().backward()


def test_changing_a_saved_input_through_a_view_makes_backward_raise():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    h = x * 1.0
    y = h * h            # saves h
    with minicnn.no_grad():
        h[0].zero_()     # through a view: the counter is shared
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_a_detached_alias_shares_the_version_counter():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = F.sigmoid(h)     # saves its output
    y.detach().zero_()
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_version_error_matches_pytorch():
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_unchanged_saved_tensors_pass_and_views_share_counters():
    x = leaf(np.arange(6.0).reshape(2, 3))
    h = x * 1.0
    views = [h[0], h.reshape(3, 2), h.transpose(0, 1), h.detach()]
    assert all(v._version_counter is h._version_counter for v in views)
    assert (h * 2.0)._version_counter is not h._version_counter  # a new array, a new counter
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_inplace_through_a_view_differentiates_the_view_and_refuses_the_base():
    def through_view(x):
        y = x * 1.5
        view = y[1:]
        view.mul_(x[:2])          # recorded on the view: its history is right
        return view * view
    x = random_leaf(3, seed=6)
    assert gradcheck(through_view, [x])
    y = x * 1.0
    y[1:].mul_(2.0)
    np.testing.assert_allclose(y.data, x.data * [1.0, 2.0, 2.0])
    assert y.grad_fn.name() == "CopySlices"
    with pytest.raises(RuntimeError, match=MODIFIED + r".*changed through a view"):
        y.sum().backward()        # PyTorch rebuilds the base's history; minicnn refuses
    with minicnn.no_grad():
        y[1:].mul_(2.0)           # unrecorded: nothing to refuse


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_raises():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation."):
        w[1:].mul_(2.0)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        torch.tensor([1.0, 2.0], requires_grad=True)[1:].mul_(2.0)


def test_writing_a_saved_output_through_a_view_raises_at_backward_as_pytorch():
    for lib in ("minicnn", "torch"):
        module = minicnn if lib == "minicnn" else pytest.importorskip("torch")
        x = module.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        z = (x * 1).exp()          # saves its output
        z[1:].mul_(2)
        with pytest.raises(RuntimeError, match=MODIFIED):
            z.sum().backward()


def test_an_op_returning_its_input_array_shares_the_version_counter():
    class Identity(minicnn.autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return x  # the same array, not a NumPy view of it

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = Tensor(np.ones(2))
    same = Identity.apply(x)
    assert same._version_counter is x._version_counter and same._base is x
    same.add_(1.0)
    assert x._version == 1 and x.data.tolist() == [2.0, 2.0]


def test_data_assignment_unwraps_a_tensor_and_refuses_what_is_not_an_array():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    w.data = w.data - 0.5 * w.grad  # ndarray - Tensor is a Tensor: its array is stored
    assert type(w.data) is np.ndarray and w.data.tolist() == [0.0, 0.0]
    assert w._version == 0 and w.is_leaf
    with pytest.raises(TypeError, match="must be a Tensor or a NumPy array, got list"):
        w.data = [1.0, 2.0]
    with pytest.raises(TypeError, match="must hold numbers"):
        w.data = np.array(["a"])


def test_a_view_taken_before_a_recorded_in_place_op_on_its_base_is_refused_not_wrong():
    """Its values changed but its history did not: PyTorch rebuilds the history (x.grad
    would be [2, 2, 0]); minicnn gave [1, 1, 0] silently, and now refuses."""
    x = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    early, sibling = y[0:2], y[1:]
    y.mul_(2)
    with pytest.raises(RuntimeError, match="history is out of date"):
        early.sum()
    with pytest.raises(RuntimeError, match="history is out of date"):
        early.add_(1)
    with pytest.raises(RuntimeError, match="history is out of date"):
        early.backward(minicnn.ones(2))
    late = y[0:2]                      # taken after the write: its history is current
    late.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 0.0])
    z = x * 1
    first, second = z[0:2], z[1:]
    first.mul_(3)                      # a recorded write through one view...
    with pytest.raises(RuntimeError, match="history is out of date"):
        second.sum()                   # ...makes its sibling's history stale


def test_in_place_under_no_grad_leaves_views_usable():
    x = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    view = y[0:2]
    with minicnn.no_grad():
        y.add_(1)                      # not recorded: no history to rebuild
    view.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 0.0])


def test_a_leaf_made_from_rewritten_memory_is_never_stale():
    x = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.mul_(2)                          # a recorded write: the shared count moves on
    leaf = y[0:2].detach().requires_grad_()
    (leaf * 2 + leaf * 3).sum().backward()
    np.testing.assert_array_equal(leaf.grad.data, [5.0, 5.0])
