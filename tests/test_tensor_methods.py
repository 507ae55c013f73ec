"""Tensor's PyTorch surface (minicnn/tensor_methods.py and minicnn/tensor_functions.py):
methods and torch-level functions against PyTorch on the same arrays, Python protocols,
dtype/device conversions, ``out=``, and the errors PyTorch raises."""

import numpy as np
import pytest

import minicnn
from minicnn import Tensor


def values(result):
    """A tensor (or a named tuple of them, or a Python value) as NumPy data for comparing."""
    if isinstance(result, tuple):
        return tuple(values(r) for r in result)
    if hasattr(result, "detach"):
        result = result.detach()
        return np.asarray(result.numpy() if hasattr(result, "numpy") else result)
    return result


def flattened(result):
    """Nested tuples of results as one flat list."""
    if isinstance(result, tuple):
        return [leaf for item in result for leaf in flattened(item)]
    return [result]


X = np.array([[0.5, -1.25, 2.0, 3.5], [1.5, 0.25, -3.0, 0.75], [2.5, 1.0, 0.125, -0.5]])

# (label, call): ``call(module, x)`` runs under minicnn and torch with the same float64 x.
PARITY = [
    ("size()", lambda m, x: tuple(x.size())),
    ("size(-1)", lambda m, x: x.size(-1)),
    ("dim/ndimension/numel/nelement", lambda m, x: (x.dim(), x.ndimension(), x.numel(),
                                                    x.nelement(), m.numel(x))),
    ("view(-1, 6)", lambda m, x: x.view(-1, 6)),
    ("view_as", lambda m, x: x.view(12).view_as(x)),
    ("reshape_as", lambda m, x: x.flatten().reshape_as(x)),
    ("unsqueeze/squeeze", lambda m, x: x.unsqueeze(1).unsqueeze(-1).squeeze(1)),
    ("squeeze(dim) of a non-1 dim", lambda m, x: x.squeeze(0)),
    ("t()", lambda m, x: x.t()),
    ("T", lambda m, x: x.T),
    ("transpose(0, 1)", lambda m, x: x.transpose(0, 1)),
    ("minicnn.transpose", lambda m, x: m.transpose(x[None], 0, 2)),
    ("permute", lambda m, x: x[None].permute(2, 0, 1)),
    ("expand", lambda m, x: x[:, :1].expand(-1, 5)),
    ("expand new dims", lambda m, x: x[0].expand(2, 3, 4)),
    ("expand_as", lambda m, x: x[:1].expand_as(x)),
    ("repeat", lambda m, x: x.repeat(2, 1, 3)),
    ("flatten(start, end)", lambda m, x: x[None, :, :, None].flatten(1, 2)),
    ("minicnn.flatten", lambda m, x: m.flatten(x)),
    ("chunk", lambda m, x: x.chunk(3, dim=1)),
    ("split int", lambda m, x: x.split(3, dim=1)),
    ("split sections", lambda m, x: m.split(x, [1, 2], dim=0)),
    ("clone", lambda m, x: x.clone()),
    ("contiguous", lambda m, x: x.t().contiguous()),
    ("tolist", lambda m, x: x.tolist()),
    ("item", lambda m, x: x[1, 2].item()),
    ("mm / matmul / @", lambda m, x: (x.mm(x.t()), m.matmul(x, x.t()), x @ x[0])),
    ("bmm", lambda m, x: m.bmm(x[None], x.t()[None])),
    ("pow / mul / add / sub / div", lambda m, x: (x.pow(2), x.mul(3), x.add(x, alpha=2),
                                                  m.sub(x, 1, alpha=0.5), x.div(4))),
    ("div rounding_mode", lambda m, x: (x.div(0.75, rounding_mode="floor"),
                                        m.div(x, 0.75, rounding_mode="trunc"))),
    ("neg / abs", lambda m, x: (x.neg(), -x, abs(x), m.abs(x))),
    ("clamp numbers", lambda m, x: (x.clamp(min=0), x.clamp(-1, 1), m.clamp(x, max=0.5),
                                    x.clip(0, 1))),
    ("clamp tensors", lambda m, x: x.clamp(min=x[0], max=x[1].abs() + 1)),
    ("sum dims", lambda m, x: (x.sum(), x.sum(0), x.sum(dim=(0, 1)), x.sum(1, keepdim=True),
                               m.sum(x, dim=-1))),
    ("mean", lambda m, x: (x.mean(), x.mean(dim=1, keepdim=True), m.mean(x, 0))),
    ("std / var", lambda m, x: (x.std(), x.var(1), x.var(1, unbiased=False),
                                x.std(0, correction=0), m.var(x, dim=0, keepdim=True))),
    ("norm", lambda m, x: (x.norm(), x.norm(dim=1), x.norm(p=1, dim=0), m.norm(x, 3))),
    ("prod / cumsum", lambda m, x: (x.prod(), x.prod(1), x.cumsum(dim=0), m.cumsum(x, 1))),
    ("amax / amin", lambda m, x: (x.amax(), x.amax(1), x.amin(dim=(0, 1)), m.amin(x, 0))),
    ("argmax / argmin", lambda m, x: (x.argmax(), x.argmax(1), x.argmin(dim=0, keepdim=True),
                                      m.argmin(x))),
    ("all / any", lambda m, x: ((x > 0).all(), (x > 0).any(1), m.all(x > -5, dim=0))),
    ("logsumexp", lambda m, x: (x.logsumexp(1), m.logsumexp(x, dim=(0, 1)))),
    ("max() / min()", lambda m, x: (x.max(), x.min(), m.max(x), m.min(x))),
    ("max(dim) values and indices", lambda m, x: (tuple(x.max(1)), tuple(x.min(0, True)),
                                                  m.max(x, dim=1).indices)),
    ("max(other) element-wise", lambda m, x: (x.max(x.t().t() * 0), m.min(x, x * 0))),
    ("comparisons", lambda m, x: (x == 0.5, x < 1, x >= x[0], x != 2, x > 0, x <= 0.25)),
    ("eq/ne/gt/ge/lt/le", lambda m, x: (x.eq(0.5), m.ne(x, 2), x.gt(x[1]), m.ge(x, 0),
                                        x.lt(1), m.le(x, 0.25))),
    ("equal / allclose", lambda m, x: (m.equal(x, x.clone()), x.equal(x + 1),
                                       m.allclose(x, x + 1e-9), x.allclose(x + 1))),
    ("unary functions", lambda m, x: tuple(getattr(m, f)(x) for f in (
        "sin", "cos", "tan", "exp", "exp2", "abs", "sign", "floor", "ceil", "round",
        "sigmoid", "tanh", "relu"))),
    ("unary methods", lambda m, x: tuple(getattr(x.abs() + 0.5, f)() for f in (
        "log", "log2", "log10", "sqrt", "rsqrt", "exp", "sin", "cos", "sigmoid", "tanh"))),
    ("softmax / log_softmax", lambda m, x: (m.softmax(x, dim=1), x.softmax(0),
                                            x.log_softmax(dim=1), m.log_softmax(x, 0))),
    ("where", lambda m, x: (m.where(x > 0, x, x * 0), x.where(x < 1, -x), m.where(x > 0, x, 0.5),
                            m.where(x > 1))),
    ("cat / stack with dim", lambda m, x: (m.cat([x, x], dim=1), m.stack([x, x], dim=2),
                                           m.concat([x, x]))),
    ("sort / argsort / topk", lambda m, x: (tuple(x.sort(1)), tuple(x.sort(0, descending=True)),
                                            x.argsort(dim=1), tuple(x.topk(2, dim=1)),
                                            tuple(m.topk(x, 1, dim=0, largest=False)))),
    ("gather", lambda m, x: x.gather(1, m.tensor([[0, 0], [3, 1], [2, 2]]))),
    ("meshgrid", lambda m, x: (m.meshgrid(x[0], x[:, 1], indexing="ij"),
                               m.meshgrid(x[0], x[:, 1], indexing="xy"))),
    ("flip / unbind / narrow / index_select", lambda m, x: (
        x.flip(0), m.flip(x, (0, 1)), x.unbind(1), x.narrow(1, 1, 2),
        x.index_select(1, m.tensor([3, 0, 3])))),
    ("masked_fill / nonzero", lambda m, x: (x.masked_fill(x > 1, -1.0), (x > 1).nonzero(),
                                            m.nonzero(x < 0, as_tuple=True))),
    ("new_*", lambda m, x: (x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((2, 2), 7),
                            x.new_tensor([1, 2]), x.new_zeros(2, dtype=m.int64))),
    ("sinh / cosh / swapaxes", lambda m, x: (m.sinh(x), x.cosh(), x.swapaxes(0, 1),
                                             m.swapdims(x, 1, 0))),
    ("accuracy idiom", lambda m, x: (x.max(1)[1] == m.tensor([3, 0, 0])).sum().item()),
    ("is_tensor / is_floating_point", lambda m, x: (m.is_tensor(x), m.is_tensor(X),
                                                    x.is_floating_point(),
                                                    x.long().is_floating_point())),
    ("element_size", lambda m, x: (x.element_size(), x.float().element_size(),
                                   x.bool().element_size())),
]


@pytest.mark.parametrize("label, call", PARITY, ids=[label for label, _ in PARITY])
def test_methods_and_functions_match_pytorch(label, call):
    torch = pytest.importorskip("torch")
    ours = flattened(values(call(minicnn, minicnn.tensor(X))))
    theirs = flattened(values(call(torch, torch.tensor(X))))
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        if isinstance(reference, np.ndarray):
            assert np.asarray(mine).shape == reference.shape
            assert np.asarray(mine).dtype == reference.dtype
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)
        else:
            assert mine == reference and type(mine) is type(reference)


def test_max_with_a_dim_returns_values_and_indices():
    logits = minicnn.tensor([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5]])
    _, predicted = logits.max(1)  # 3 rows: values-only max(axis) unpacked the row maxima
    assert predicted.tolist() == [1, 0, 2] and predicted.dtype == np.int64
    result = minicnn.max(logits, dim=1, keepdim=True)
    assert type(result) is minicnn.return_types.max
    assert result.values.shape == (3, 1) and result.indices.shape == (3, 1)
    assert minicnn.return_types.max.__module__ == "minicnn.return_types"
    assert logits.max().shape == () and logits.max().item() == pytest.approx(0.9)
    with pytest.raises(TypeError, match="amax"):
        logits.max(dim=(0, 1))


def test_max_with_a_dim_sends_the_gradient_to_the_picked_element():
    # PyTorch's rule: max(dim) is a gather at the index; max() and amax split ties evenly
    x = minicnn.tensor([[3.0, 3.0, 1.0]], requires_grad=True)
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0]]
    x.grad = None
    x.amax(1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.5, 0.0]]


def test_size_is_a_method_and_shape_a_tuple():
    t = minicnn.zeros(2, 3, 4)
    assert t.size() == (2, 3, 4) and isinstance(t.size(), tuple)
    assert repr(t.size()) == "minicnn.Size([2, 3, 4])" and t.size().numel() == 24
    assert t.size(0) == 2 and t.size(-1) == 4 and t.shape == (2, 3, 4)
    assert type(t.size()[1:]) is minicnn.Size and t.size()[1:] == (3, 4)
    with pytest.raises(IndexError, match="size: dim=3 is out of range"):
        t.size(3)


def test_dim_and_axis_are_both_accepted_but_not_together():
    x = minicnn.tensor(X)
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).data,
                                  x.sum(dim=1, keepdim=True).data)
    np.testing.assert_array_equal(minicnn.cat([x, x], axis=1).data,
                                  minicnn.cat([x, x], dim=1).data)
    np.testing.assert_array_equal(x.softmax(axis=0).data, x.softmax(dim=0).data)
    with pytest.raises(TypeError, match="both dim=0 and its alias axis=1"):
        x.sum(dim=0, axis=1)


def test_transpose_takes_exactly_two_dims_and_t_at_most_2d():
    x = minicnn.zeros(2, 3, 4)
    assert x.transpose(0, 2).shape == (4, 3, 2) and x.permute(2, 0, 1).shape == (4, 2, 3)
    with pytest.raises(TypeError):
        x.transpose()
    with pytest.raises(ValueError, match=r"t\(\) expects a tensor with <= 2 dimensions"):
        x.t()
    assert minicnn.zeros(5).t().shape == (5,)


def test_view_shares_memory_and_refuses_what_needs_a_copy():
    x = minicnn.arange(6.0)
    v = x.view(2, 3)
    assert np.shares_memory(v.data, x.data)
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*Use .reshape"):
        v.t().view(6)
    assert v.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


def test_expand_and_repeat_send_summed_gradients_back():
    x = minicnn.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(2, 3).sum().backward()
    assert x.grad.tolist() == [[3.0], [3.0]]
    x.grad = None
    x.repeat(2, 2).sum().backward()
    assert x.grad.tolist() == [[4.0], [4.0]]
    with pytest.raises(ValueError, match="must match the existing size"):
        x.expand(3, 3)


def test_clone_is_a_differentiable_copy():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(y.data, x.data) and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ----------------------------------------------------------------------------- out=


def test_out_is_resized_and_written_in_place():
    out = minicnn.zeros(1)
    same = out
    result = minicnn.add(minicnn.ones(2, 2), 1, out=out)
    assert result is same and out.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    buffer = out.data
    minicnn.mul(minicnn.ones(2, 2), 3, out=out)  # same shape: the same memory
    assert out.data is buffer and out.tolist() == [[3.0] * 2] * 2
    minicnn.matmul(minicnn.ones(2, 3), minicnn.ones(3, 2), out=out)
    assert out.tolist() == [[3.0] * 2] * 2
    minicnn.cat([minicnn.ones(1), minicnn.zeros(1)], out=out)
    assert out.tolist() == [1.0, 0.0]
    minicnn.sum(minicnn.ones(2, 3), dim=1, out=out)
    assert out.tolist() == [3.0, 3.0]


def test_out_refuses_autograd_and_lossy_dtypes_as_pytorch():
    x = minicnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic "
                                           "differentiation"):
        minicnn.mul(x, 2, out=minicnn.zeros(2))
    with minicnn.no_grad():
        assert minicnn.mul(x, 2, out=minicnn.zeros(2)).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="can't be cast to the desired output type int64"):
        minicnn.add(minicnn.ones(2), 0.5, out=minicnn.zeros(2, dtype=minicnn.long))


# ----------------------------------------------------------------------------- protocols


def test_python_number_protocols():
    loss = minicnn.tensor(0.123456)
    assert float(loss) == pytest.approx(0.123456) and f"{loss:.3f}" == "0.123"
    assert int(minicnn.tensor([[7.9]])) == 7 and complex(minicnn.tensor(2.0)) == 2 + 0j
    assert [10, 20, 30][minicnn.tensor(1)] == 20  # __index__
    assert range(10)[minicnn.tensor([2])] == 2
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][minicnn.tensor(1.0)]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted"):
        float(minicnn.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted"):
        minicnn.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value"):
        bool(minicnn.tensor([1.0, 2.0]))


def test_format_follows_pytorch():
    torch = pytest.importorskip("torch")
    for data in ([1.5, 2.0], [[1.0, -2.0]]):
        assert f"{minicnn.tensor(data)}" == str(minicnn.tensor(data))
        with pytest.raises(TypeError):  # a format spec on a tensor with dims: PyTorch too
            format(torch.tensor(data), ".2f")
        with pytest.raises(TypeError):
            format(minicnn.tensor(data), ".2f")


def test_len_iter_contains_hash():
    t = minicnn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(t)
    assert len(t) == 2 and [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    sum(r.sum() for r in rows).backward()  # iterating stays in the graph
    assert t.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert 3.0 in t and 5 not in t and minicnn.tensor(4.0) in t
    assert len({t, t.detach(), t}) == 2  # hashed by identity, as PyTorch
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(minicnn.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(minicnn.tensor(1.0))


def test_numpy_sees_a_read_only_view_and_arrays_defer_to_tensors():
    t = minicnn.tensor([1.0, 2.0], requires_grad=True)
    view = np.asarray(t)
    assert np.shares_memory(view, t.data) and not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 5.0  # a write here would bypass autograd's version counter
    assert np.array(t).flags.writeable and np.mean(np.asarray(t)) == 1.5
    np.testing.assert_array_equal(t, [1.0, 2.0])
    product = np.array([2.0, 3.0]) * t  # ndarray * Tensor reaches Tensor.__rmul__
    assert isinstance(product, Tensor) and product.requires_grad
    with pytest.raises(TypeError):  # NumPy's ufuncs refuse tensors: t.exp(), minicnn.exp(t)
        np.exp(t)


def test_repr_like_pytorch():
    torch = pytest.importorskip("torch")
    cases = [[1.0, 2.0, 3.0], [1.5, -2.25], [1e-5, 1.0], [[0.1234567, 2.0], [3.0, 4.0]],
             [1, 2, 3], [True, False], 3.0]
    for data in cases:
        assert repr(minicnn.tensor(data)) == repr(torch.tensor(data))
    # PyTorch's layout: elements per line, summaries of large tensors, scientific notation
    rng = np.random.default_rng(0)
    arrays = [np.array(rng.standard_normal(shape) * scale, dtype=np.float32)
              for shape in [(3, 20), (2, 3, 9), (1100,), (3, 1000), (40, 40), (0, 3), ()]
              for scale in (1, 1000, 1e-5)]
    arrays += [rng.integers(-100, 100, (3, 30)), np.array([True, False] * 600),
               np.array([np.nan, 1.5, np.inf]), rng.standard_normal((5, 5))]
    for array in arrays:
        assert repr(minicnn.tensor(array)) == \
            repr(torch.from_numpy(array)).replace("torch.", "minicnn.")
    assert repr(minicnn.tensor([1.0], dtype=minicnn.float64)) == \
        repr(torch.tensor([1.0], dtype=torch.float64)).replace("torch.", "minicnn.")
    assert repr(minicnn.ones(2, requires_grad=True)) == "tensor([1., 1.], requires_grad=True)"


# ----------------------------------------------------------------------------- conversions


def test_dtype_and_device_conversions():
    x = minicnn.tensor([1.5, -2.5], requires_grad=True)
    assert x.to(minicnn.float64).dtype == np.float64 and x.to("cpu") is x
    assert x.to("cpu", minicnn.float64).dtype == np.float64
    assert x.to(minicnn.tensor([1], dtype=minicnn.int32)).dtype == np.int32
    assert x.to(dtype=minicnn.float32) is x and x.to(minicnn.device("cpu")) is x
    assert x.to(minicnn.float32, copy=True) is not x
    assert x.long().tolist() == [1, -2] and x.int().dtype == np.int32
    assert x.half().dtype == np.float16 and x.bool().dtype == np.bool_
    assert x.type() == "minicnn.FloatTensor" and x.double().type() == "minicnn.DoubleTensor"
    assert x.long().type() == "minicnn.LongTensor" and x.type(minicnn.long).dtype == np.int64
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.cpu() is x and x.device == minicnn.device("cpu") and x.device.type == "cpu"
    with pytest.raises(ValueError, match="'cuda' is not available"):
        x.cuda()
    with pytest.raises(ValueError, match="'cuda:0' is not available"):
        x.to("cuda:0")


def test_float_double_conversions_stay_in_the_graph_integer_ones_do_not():
    x = minicnn.tensor([1.5, -2.5], requires_grad=True)
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]
    assert not x.long().requires_grad


def test_numpy_refuses_a_tensor_that_requires_grad_as_pytorch():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires "
                                           r"grad. Use tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    assert np.shares_memory(x.detach().numpy(), x.data)


def test_python_data_dtypes_follow_pytorch():
    torch = pytest.importorskip("torch")
    for data in (3, [1, 2], 2.5, [1, 2.5], True, [[True], [False]], [[1, 2], [3, 4]]):
        assert minicnn.tensor(data).dtype.name == str(torch.tensor(data).dtype).split(".")[1]
    assert minicnn.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32  # NumPy's kept
    assert minicnn.Tensor([1, 2]).dtype == np.int64
    with pytest.raises(ValueError, match="does not fit in int64"):
        minicnn.tensor([2 ** 63])


def test_set_printoptions_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [np.array(rng.standard_normal(shape) * scale, dtype=np.float32)
              for shape in [(3, 20), (1100,), (2, 3, 4)] for scale in (1, 1e-5)]
    try:
        for options in [{"precision": 2}, {"threshold": 5, "edgeitems": 1}, {"linewidth": 40},
                        {"sci_mode": True}, {"sci_mode": False}, {"profile": "short"},
                        {"profile": "full"}]:
            torch.set_printoptions(**options)
            minicnn.set_printoptions(**options)
            for array in arrays:
                assert repr(minicnn.tensor(array)) == repr(torch.from_numpy(array)), options
    finally:
        torch.set_printoptions(profile="default")
        minicnn.set_printoptions(profile="default")
    with pytest.raises(ValueError, match="profile must be one of"):
        minicnn.set_printoptions(profile="long")
