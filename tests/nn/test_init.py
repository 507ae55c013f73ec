"""Initialisation: gains, fans, the distributions' scales, repeatability, layer defaults."""

import math

import numpy as np
import pytest

import minicnn
from minicnn import nn
from minicnn.nn import init


def _param(*shape, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="'swish'"):
        init.calculate_gain("swish")


def test_fans_of_linear_and_conv_weights():
    assert init._fan_in_and_fan_out(_param(5, 3)) == (3, 5)
    assert init._fan_in_and_fan_out(_param(8, 4, 3, 5)) == (60, 120)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(_param(5))


# Each initialiser on a large tensor: (function, kwargs, shape, expected std, uniform bound).
# Fans of (64, 32, 3, 3): fan_in 288, fan_out 576.
FAN_IN, FAN_OUT = 288, 576
CASES = [
    (init.kaiming_uniform_, {}, math.sqrt(2 / (1 + 0)) / math.sqrt(FAN_IN), True),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * FAN_IN), True),
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"},
     math.sqrt(2 / FAN_OUT), True),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"},
     math.sqrt(2 / FAN_OUT), False),
    (init.kaiming_normal_, {"nonlinearity": "tanh"}, 5 / 3 / math.sqrt(FAN_IN), False),
    (init.xavier_uniform_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT)), True),
    (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), True),
    (init.xavier_normal_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT)), False),
]


@pytest.mark.parametrize("fn, kwargs, std, uniform", CASES)
def test_initialiser_scale(fn, kwargs, std, uniform):
    minicnn.manual_seed(0)
    w = _param(64, 32, 3, 3)
    assert fn(w, **kwargs) is w
    values = w.data.astype(np.float64)
    assert w.dtype == np.float32  # filled in place, dtype kept
    # 18432 samples: the sample std is within ~1% of the true one (its error is ~std/sqrt(2n))
    assert values.std() == pytest.approx(std, rel=0.03)
    assert abs(values.mean()) < 4 * std / math.sqrt(values.size)
    if uniform:
        bound = math.sqrt(3) * std
        assert np.all(np.abs(values) <= bound * (1 + 1e-6))
        assert np.abs(values).max() > 0.99 * bound
    else:
        assert np.abs(values).max() > 3 * std  # tails exist: not a uniform distribution


def test_initialiser_scales_match_torch():
    torch = pytest.importorskip("torch")
    shape = (64, 32, 3, 3)
    for fn, kwargs, std, uniform in CASES:
        t = torch.empty(shape)
        torch.manual_seed(0)
        getattr(torch.nn.init, fn.__name__)(t, **kwargs)
        assert t.std().item() == pytest.approx(std, rel=0.03), fn.__name__
        if uniform:
            assert t.abs().max().item() <= math.sqrt(3) * std * (1 + 1e-6)


def test_simple_fills():
    w = _param(3, 4)
    init.ones_(w)
    assert np.all(w.data == 1)
    init.zeros_(w)
    assert np.all(w.data == 0)
    init.constant_(w, 0.25)
    assert np.all(w.data == 0.25)
    minicnn.manual_seed(1)
    big = _param(200, 100)
    init.uniform_(big, -2.0, 3.0)
    assert big.data.min() >= -2 and big.data.max() < 3 and big.data.mean() == pytest.approx(
        0.5, abs=0.05)
    init.normal_(big, mean=1.0, std=0.5)
    assert big.data.mean() == pytest.approx(1.0, abs=0.01)
    assert big.data.std() == pytest.approx(0.5, rel=0.02)
    init.trunc_normal_(big, mean=0.0, std=1.0, a=-0.5, b=1.0)
    assert big.data.min() >= -0.5 and big.data.max() <= 1.0
    assert big.data.min() < -0.49 and big.data.max() > 0.99
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(big, 1.0, 0.0)
    with pytest.raises(TypeError, match="Tensor"):
        init.ones_(np.zeros(3))


def test_manual_seed_makes_initialisation_repeatable():
    minicnn.manual_seed(42)
    a = nn.Conv2d(3, 4, 3)
    b = nn.Linear(5, 2)
    minicnn.manual_seed(42)
    c = nn.Conv2d(3, 4, 3)
    d = nn.Linear(5, 2)
    for x, y in ((a, c), (b, d)):
        for (name, p), q in zip(x.named_parameters(), y.parameters()):
            np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    e = nn.Linear(5, 2)
    assert not np.array_equal(e.weight.data, d.weight.data)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(200, 300), 200),
    (lambda: nn.Conv2d(16, 64, (3, 5)), 16 * 15),
    (lambda: nn.Conv2d(16, 64, 3, groups=4), 4 * 9),
])
def test_layer_default_init_is_pytorchs(make, fan_in):
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias too."""
    minicnn.manual_seed(3)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.all(np.abs(p.data) <= bound)
    assert np.abs(layer.weight.data).max() > 0.98 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)


INIT_NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
              "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
              "kaiming_normal_", "orthogonal_"]


@pytest.mark.parametrize("name", INIT_NAMES)
def test_signatures_are_pytorchs(name):
    """Same parameter names, order and defaults as torch.nn.init's."""
    import inspect
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(init, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    assert list(ours) == list(theirs)
    for key, p in theirs.items():
        assert ours[key].default == p.default, key


@pytest.mark.parametrize("name, args", [
    ("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()), ("constant_", (0.5,)),
    ("ones_", ()), ("zeros_", ()), ("eye_", ()), ("xavier_uniform_", ()),
    ("xavier_normal_", ()), ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
    ("orthogonal_", ()),
])
def test_fills_a_parameter_in_place_under_no_grad_and_returns_it(name, args):
    w = _param(6, 5, dtype=np.float64)
    data, version = w.data, w._version
    for context in (minicnn.no_grad, minicnn.enable_grad):
        with context():
            assert getattr(init, name)(w, *args) is w
    assert w.data is data and w.requires_grad and w.is_leaf and w.dtype == np.float64
    assert w._version == version + 2  # in-place writes, as PyTorch's


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                  "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "orthogonal_"])
def test_random_fills_draw_from_minicnns_rng_or_the_generator(name):
    fn = getattr(init, name)
    minicnn.manual_seed(5)
    a = fn(_param(4, 6)).data.copy()
    minicnn.manual_seed(5)
    b = fn(_param(4, 6)).data.copy()
    np.testing.assert_array_equal(a, b)
    c = fn(_param(4, 6), generator=np.random.default_rng(1)).data.copy()
    d = fn(_param(4, 6), generator=np.random.default_rng(1)).data.copy()
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, c)
    with pytest.raises(TypeError, match="generator"):
        fn(_param(4, 6), generator=1)


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (4, 2, 3, 3), (32, 3, 5), (1, 7),
                                   (7, 1)])
@pytest.mark.parametrize("gain", [1, 2.5])
def test_orthogonal(shape, gain):
    minicnn.manual_seed(2)
    w = init.orthogonal_(_param(*shape, dtype=np.float64), gain=gain)
    flat = w.data.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-12)
    w32 = init.orthogonal_(_param(*shape), gain=gain)
    assert w32.dtype == np.float32
    flat = w32.data.astype(np.float64).reshape(shape[0], -1)
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_is_pytorchs_algorithm():
    """The same N(0, 1) draws give the same matrix as torch's QR with the sign correction."""
    torch = pytest.importorskip("torch")
    for shape in [(4, 4), (3, 6), (6, 3), (4, 2, 2, 2)]:
        rows = shape[0]
        cols = int(np.prod(shape[1:]))
        draws = np.random.default_rng(0).normal(size=(rows, cols))
        a = torch.tensor(draws.T if rows < cols else draws)
        q, r = torch.linalg.qr(a)
        q = q * torch.diag(r).sign()
        expected = (q.T if rows < cols else q).numpy().reshape(shape) * 1.5
        w = init.orthogonal_(_param(*shape, dtype=np.float64), gain=1.5,
                             generator=np.random.default_rng(0))
        np.testing.assert_allclose(w.data, expected, atol=1e-12)


def test_orthogonal_is_uniform_over_signs():
    """The sign correction: the diagonal of Q is not always positive (or always negative),
    and the entries' mean is 0 and std 1/sqrt(n) over many draws."""
    minicnn.manual_seed(0)
    samples = np.stack([init.orthogonal_(_param(4, 4, dtype=np.float64)).data
                        for _ in range(2000)])
    assert abs(samples.mean()) < 0.01
    assert samples.std() == pytest.approx(0.5, rel=0.02)
    diagonal = samples[:, np.arange(4), np.arange(4)]
    assert 0.45 < (diagonal > 0).mean() < 0.55


def test_orthogonal_errors_and_empty():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(_param(5))
    empty = _param(0, 3)
    assert init.orthogonal_(empty) is empty


def test_eye_and_dirac_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 3), (2, 5), (5, 2)]:
        t = torch.empty(shape, dtype=torch.float64)
        torch.nn.init.eye_(t)
        np.testing.assert_array_equal(init.eye_(_param(*shape, dtype=np.float64)).data,
                                      t.numpy())
    for shape, groups in [((4, 3, 3), 1), ((6, 4, 3, 3), 2), ((4, 2, 2, 4), 1),
                          ((6, 2, 3, 1, 2), 3), ((3, 5, 5, 5), 1), ((4, 4, 3), 4)]:
        t = torch.full(shape, 7.0, dtype=torch.float64)
        torch.nn.init.dirac_(t, groups)
        w = _param(*shape, dtype=np.float64)
        w.data[...] = 7
        np.testing.assert_array_equal(init.dirac_(w, groups).data, t.numpy())


def test_dirac_conv_is_the_identity():
    x = minicnn.tensor(np.random.default_rng(0).normal(size=(2, 3, 5, 5)))
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False).double()
    init.dirac_(conv.weight)
    np.testing.assert_allclose(conv(x).data, x.data, atol=1e-12)


def test_eye_and_dirac_errors():
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(_param(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(_param(2, 2))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(_param(5, 2, 3), groups=2)
