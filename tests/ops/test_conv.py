"""F.conv2d and F.conv_transpose2d: shapes and padding forms, gradient checks, PyTorch as an
oracle, errors, dtypes; conv_transpose2d checked to be conv2d's input gradient."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F
from minicnn.kernels import conv as conv_kernels
from minicnn.kernels.geometry import resolve_padding
from tests.strategies import conv_geometries, conv_transpose_geometries


def _tensors(geometry, seed, dtype=np.float64, bias=True):
    rng = np.random.default_rng(seed)
    x = minicnn.tensor(rng.standard_normal(geometry["x_shape"]), dtype=dtype, requires_grad=True)
    w = minicnn.tensor(rng.standard_normal(geometry["weight_shape"]), dtype=dtype,
                       requires_grad=True)
    b = minicnn.tensor(rng.standard_normal(geometry["weight_shape"][0]), dtype=dtype,
                       requires_grad=True) if bias else None
    return x, w, b


def _settings(geometry):
    return {k: geometry[k] for k in ("stride", "padding", "dilation", "groups")}


# ----------------------------------------------------------------------------- shapes


@given(geometry=conv_geometries(max_side=9))
def test_output_shape_is_conv_output_size(geometry):
    x, w, b = _tensors(geometry, 0, np.float32)
    out = F.conv2d(x, w, b, **_settings(geometry))
    n, _, h, wd = geometry["x_shape"]
    kernel = geometry["weight_shape"][2:]
    expected_hw = F.conv_output_size((h, wd), kernel, geometry["stride"], geometry["padding"],
                                     geometry["dilation"])
    assert out.shape == (n, geometry["weight_shape"][0]) + expected_hw
    assert out.dtype == np.float32


@pytest.mark.parametrize("padding, expected_hw", [
    (0, (6, 4)), (1, (8, 6)), ((2, 0), (10, 4)), (((1, 0), (0, 2)), (7, 6)),
    ("valid", (6, 4)), ("same", (8, 6)),
])
def test_every_padding_form(padding, expected_hw):
    x = minicnn.tensor(np.ones((1, 1, 8, 6)))
    assert F.conv2d(x, minicnn.tensor(np.ones((2, 1, 3, 3))), padding=padding).shape[2:] == \
        expected_hw


def test_same_with_stride_2_is_asymmetric():
    # TensorFlow's rule: 224 -> 112 with a 7x7 kernel at stride 2 pads 2 on top, 3 below.
    rng = np.random.default_rng(0)
    x = minicnn.tensor(rng.standard_normal((1, 2, 224, 224)))
    w = minicnn.tensor(rng.standard_normal((3, 2, 7, 7)))
    same = F.conv2d(x, w, stride=2, padding="same")
    explicit = F.conv2d(x, w, stride=2, padding=((2, 3), (2, 3)))
    assert same.shape == (1, 3, 112, 112)
    np.testing.assert_array_equal(same.data, explicit.data)


def test_non_square_kernels_and_strides():
    x = minicnn.tensor(np.ones((2, 4, 9, 12)))
    for kernel, stride, expected in [((1, 7), (1, 1), (9, 6)), ((7, 1), (1, 1), (3, 12)),
                                     ((1, 3), (2, 1), (5, 10)), ((3, 1), (1, 3), (7, 4))]:
        out = F.conv2d(x, minicnn.tensor(np.ones((5, 4) + kernel)), stride=stride)
        assert out.shape == (2, 5) + expected
        np.testing.assert_array_equal(out.data, 4 * kernel[0] * kernel[1])


def test_depthwise_with_channel_multiplier_by_hand():
    # groups == C_in == 2, C_out == 4: output channels 0, 1 read input channel 0; 2, 3 read 1.
    x = minicnn.tensor(np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None])
    w = minicnn.tensor(np.arange(1.0, 5.0).reshape(4, 1, 1, 1))
    out = F.conv2d(x, w, groups=2)
    np.testing.assert_array_equal(out.data[0, :, 0, 0], [1, 2, 6, 8])


def test_float32_stays_float32_with_gradients():
    x, w, b = _tensors(dict(x_shape=(2, 3, 5, 5), weight_shape=(4, 3, 3, 3)), 0, np.float32)
    out = F.conv2d(x, w, b, padding="same")
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_numpy_integer_settings():
    x, w = minicnn.tensor(np.ones((1, 4, 6, 6))), minicnn.tensor(np.ones((4, 2, 3, 3)))
    out = F.conv2d(x, w, stride=np.int64(2), padding=np.int64(1), groups=np.int64(2))
    np.testing.assert_array_equal(out.data, F.conv2d(x, w, stride=2, padding=1, groups=2).data)


def test_non_contiguous_inputs():
    rng = np.random.default_rng(0)
    x_data, w = rng.standard_normal((2, 3, 6, 5)), minicnn.tensor(rng.standard_normal((4, 3, 3, 2)))
    upstream = rng.standard_normal((2, 4, 6, 6))
    x = minicnn.tensor(np.swapaxes(x_data, 2, 3).copy(), requires_grad=True)  # (2, 3, 5, 6)
    out = F.conv2d(x.transpose(2, 3), w, padding=1)  # a non-contiguous (2, 3, 6, 5) view
    out.backward(np.asfortranarray(upstream))  # a non-contiguous upstream gradient too
    x_plain = minicnn.tensor(x_data, requires_grad=True)
    out_plain = F.conv2d(x_plain, w, padding=1)
    out_plain.backward(upstream)
    np.testing.assert_allclose(out.data, out_plain.data, rtol=1e-12)
    np.testing.assert_allclose(x.grad, np.swapaxes(x_plain.grad, 2, 3), rtol=1e-12)


# ----------------------------------------------------------------------------- gradients


@given(geometry=conv_geometries(max_side=6), seed=st.integers(0, 2**16), bias=st.booleans())
def test_gradcheck_drawn_geometries(geometry, seed, bias):
    x, w, b = _tensors(geometry, seed, bias=bias)
    settings = _settings(geometry)
    assert minicnn.gradcheck(lambda *t: F.conv2d(*t, **settings), [x, w] + ([b] if bias else []))


MODES = {
    "basic 3x3 pad 1": dict(x_shape=(2, 3, 5, 5), weight_shape=(4, 3, 3, 3), padding=1),
    "stride 2, uncovered last row": dict(x_shape=(2, 2, 6, 6), weight_shape=(3, 2, 3, 3),
                                         stride=2),
    "'same' stride 2 asymmetric": dict(x_shape=(1, 2, 6, 7), weight_shape=(3, 2, 3, 4),
                                       stride=2, padding="same"),
    "dilation 2": dict(x_shape=(1, 2, 7, 7), weight_shape=(2, 2, 3, 3), dilation=2,
                       padding="same"),
    "grouped": dict(x_shape=(2, 4, 5, 5), weight_shape=(6, 2, 3, 3), groups=2, padding=1),
    "depthwise x2": dict(x_shape=(2, 3, 5, 5), weight_shape=(6, 1, 3, 3), groups=3, padding=1),
    "1x7": dict(x_shape=(1, 2, 4, 9), weight_shape=(2, 2, 1, 7), padding=(0, 3)),
    "7x1 stride (2, 1)": dict(x_shape=(1, 2, 9, 4), weight_shape=(2, 2, 7, 1), stride=(2, 1)),
    "pointwise 1x1": dict(x_shape=(2, 4, 3, 3), weight_shape=(3, 4, 1, 1)),
    "single input channel 5x5": dict(x_shape=(2, 1, 7, 7), weight_shape=(3, 1, 5, 5)),
    "no bias": dict(x_shape=(2, 2, 5, 4), weight_shape=(3, 2, 2, 3), padding=1, bias=False),
    "depthwise no bias": dict(x_shape=(1, 2, 5, 5), weight_shape=(2, 1, 3, 3), groups=2,
                              bias=False),
}


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_every_mode(mode):
    geometry = dict(MODES[mode])
    x_shape, weight_shape = geometry.pop("x_shape"), geometry.pop("weight_shape")
    bias = geometry.pop("bias", True)
    x, w, b = _tensors(dict(x_shape=x_shape, weight_shape=weight_shape), 7, bias=bias)
    assert minicnn.gradcheck(lambda *t: F.conv2d(*t, **geometry), [x, w] + ([b] if bias else []))


def test_frozen_weight_gradient_is_not_computed(monkeypatch):
    calls = []
    real = conv_kernels.conv2d_backward

    def spy(*args, needs, **kwargs):
        calls.append(tuple(needs))
        return real(*args, needs=needs, **kwargs)

    monkeypatch.setattr(conv_kernels, "conv2d_backward", spy)
    x, w, b = _tensors(dict(x_shape=(1, 2, 4, 4), weight_shape=(3, 2, 3, 3)), 0)
    w.requires_grad_(False)
    F.conv2d(x, w, b).sum().backward()
    x2 = minicnn.tensor(x.data)  # an input that needs no gradient, e.g. the images
    F.conv2d(x2, minicnn.tensor(w.data, requires_grad=True)).sum().backward()
    assert calls == [(True, False, True), (False, True, False)]
    assert w.grad is None and x2.grad is None and b.grad is not None


def test_columns_are_kept_only_for_a_weight_gradient(monkeypatch):
    kept = []
    real = conv_kernels.conv2d_forward

    def spy(*args, keep_columns=False):
        if not keep_columns:
            kept.append(False)
            return real(*args)
        out, columns = real(*args, keep_columns=True)
        kept.append(columns is not None)
        return out, columns

    monkeypatch.setattr(conv_kernels, "conv2d_forward", spy)
    x, w, _ = _tensors(dict(x_shape=(2, 2, 4, 4), weight_shape=(3, 2, 3, 3)), 0)
    F.conv2d(x, w)                      # training: dweight will need them
    with minicnn.no_grad():
        F.conv2d(x, w)                  # inference: no backward pass
    w.requires_grad_(False)
    F.conv2d(x, w)                      # frozen weight: dx needs no columns
    assert kept == [True, False, False]


# ----------------------------------------------------------------------------- PyTorch oracle


@given(geometry=conv_geometries(max_side=8), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_against_pytorch(geometry, seed, dtype):
    torch = pytest.importorskip("torch")
    x, w, b = _tensors(geometry, seed, dtype)
    settings = _settings(geometry)
    out = F.conv2d(x, w, b, **settings)
    upstream = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)

    (top, bottom), (left, right) = resolve_padding(
        geometry["padding"], geometry["x_shape"][2:], geometry["weight_shape"][2:],
        geometry["stride"], geometry["dilation"])
    xt, wt, bt = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    # explicit padding: torch has no asymmetric padding argument and no 'same' at stride > 1
    out_t = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (left, right, top, bottom)),
                                       wt, bt, stride=settings["stride"],
                                       dilation=settings["dilation"], groups=settings["groups"])
    out_t.backward(torch.tensor(upstream))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tol)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_stride_1_matches_pytorch_same():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3, 4, 3))
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding="same",
                                          dilation=(1, 2))
    out = F.conv2d(minicnn.tensor(x), minicnn.tensor(w), padding="same", dilation=(1, 2))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- errors


def _t(*shape, dtype=np.float64):
    return minicnn.tensor(np.zeros(shape), dtype=dtype)


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((_t(3, 8, 8), _t(4, 3, 3, 3)), {}, ValueError, r"x must be 4-D .*got shape \(3, 8, 8\)"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3)), {}, ValueError, r"weight must be 4-D .*\(4, 3, 3\)"),
    ((_t(1, 3, 8, 8), _t(4, 2, 3, 3)), {}, ValueError,
     r"x has 3 channels .* expects 2 = weight.shape\[1\] \* groups"),
    ((_t(1, 4, 8, 8), _t(6, 1, 3, 3)), dict(groups=4), ValueError,
     r"groups=4 must divide the output channels \(weight.shape\[0\]=6\)"),
    ((_t(1, 3, 8, 8), _t(4, 1, 3, 3)), dict(groups=2), ValueError,
     r"groups=2 must divide the input channels \(x.shape\[1\]=3\)"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(groups=0), ValueError, "groups must be a positive"),
    ((_t(1, 3, 4, 4), _t(4, 3, 5, 5)), {}, ValueError,
     r"kernel size 5 .* larger than the padded input size 4"),
    ((_t(1, 3, 4, 4), _t(4, 3, 3, 3)), dict(dilation=2), ValueError, "spanning 5"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3), _t(3)), {}, ValueError,
     r"bias must have shape \(4,\).* got \(3,\)"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(padding="full"), ValueError, "'full'"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(padding=(1, 2, 3)), TypeError, "padding must be"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(stride=0), ValueError, "stride must be positive"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(stride=1.5), TypeError, "stride must be an int"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3)), dict(dilation=(1, 0)), ValueError,
     r"dilation must be positive, got \(1, 0\)"),
    ((_t(1, 3, 8, 8), _t(4, 3, 3, 3, dtype=np.float32)), {}, TypeError,
     "weight has dtype float32 but conv2d: x has dtype float64"),
])
def test_errors_name_the_argument(args, kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        F.conv2d(*args, **kwargs)
    assert str(info.value).startswith("conv2d: ")


# ----------------------------------------------------------------------------- read-only arrays


def _read_only_kinds(array, tmp_path):
    """``array`` as the read-only arrays users hand in: memory-mapped, from bytes, flagged."""
    np.save(tmp_path / "array.npy", array)
    flagged = array.copy()
    flagged.setflags(write=False)
    return {"mmap": np.load(tmp_path / "array.npy", mmap_mode="r"),
            "frombuffer": np.frombuffer(array.tobytes(), array.dtype).reshape(array.shape),
            "setflags": flagged}


@pytest.mark.parametrize("weight_shape, groups", [((4, 3, 3, 3), 1), ((6, 1, 3, 2), 3),
                                                  ((4, 3, 1, 1), 1)],
                         ids=["im2col", "direct", "pointwise"])
@pytest.mark.parametrize("kind", ["mmap", "frombuffer", "setflags"])
def test_read_only_inputs_and_upstream_gradients(weight_shape, groups, kind, tmp_path):
    # Numba refused read-only arrays ("Cannot modify readonly array") in every non-1x1 kernel
    rng = np.random.default_rng(0)
    arrays = {"x": rng.standard_normal((2, 3, 6, 5)), "w": rng.standard_normal(weight_shape),
              "b": rng.standard_normal(weight_shape[0])}
    settings = dict(stride=(2, 1), padding=1, groups=groups)
    plain = {name: minicnn.tensor(a, requires_grad=True) for name, a in arrays.items()}
    out_plain = F.conv2d(plain["x"], plain["w"], plain["b"], **settings)
    upstream = rng.standard_normal(out_plain.shape)
    out_plain.backward(upstream)
    for name, a in arrays.items():
        (tmp_path / name).mkdir()
        arrays[name] = _read_only_kinds(a, tmp_path / name)[kind]
    tensors = {name: minicnn.tensor(a, requires_grad=True) for name, a in arrays.items()}
    out = F.conv2d(tensors["x"], tensors["w"], tensors["b"], **settings)
    read_only_upstream = upstream.copy()
    read_only_upstream.setflags(write=False)
    out.backward(read_only_upstream)
    np.testing.assert_array_equal(out.data, out_plain.data)
    for name in arrays:
        np.testing.assert_array_equal(tensors[name].grad, plain[name].grad)
        assert not arrays[name].flags.writeable  # and nothing was written into it


@pytest.mark.parametrize("weight_shape, groups", [((1, 1, 3, 3), 1), ((3, 2, 3, 3), 1),
                                                  ((4, 2, 2, 3), 2)])
def test_backward_of_a_sum_takes_its_broadcast_gradient(weight_shape, groups):
    # the issue's example: sum()'s backward hands down a read-only broadcast view of ones
    rng = np.random.default_rng(1)
    x = minicnn.tensor(rng.standard_normal((2, weight_shape[1] * groups, 3, 4)),
                       requires_grad=True)
    w = minicnn.tensor(rng.standard_normal(weight_shape), requires_grad=True)
    F.conv2d(x, w, groups=groups).sum().backward()
    x_ones, w_ones = (minicnn.tensor(a.data, requires_grad=True) for a in (x, w))
    out = F.conv2d(x_ones, w_ones, groups=groups)
    out.backward(np.ones(out.shape))
    np.testing.assert_allclose(x.grad, x_ones.grad, rtol=1e-12)
    np.testing.assert_allclose(w.grad, w_ones.grad, rtol=1e-12)


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("x_dtype, w_dtype, message", [
    (np.float16, np.float16, "conv2d: x has dtype float16"),
    (np.int64, np.int64, "conv2d: x has dtype int64"),
    (np.float32, np.float16, "conv2d: weight has dtype float16 but conv2d: x has dtype float32"),
    (np.float64, np.float32, "conv2d: weight has dtype float32 but conv2d: x has dtype float64"),
])
def test_only_float32_and_float64_are_computed(x_dtype, w_dtype, message):
    # float16 passed the check and died inside Numba (NotImplementedError: float16)
    x = minicnn.tensor(np.ones((1, 2, 4, 4), x_dtype))
    with pytest.raises(TypeError, match=message):
        F.conv2d(x, minicnn.tensor(np.ones((3, 2, 3, 3), w_dtype)))


def test_bias_dtype_must_be_the_input_dtype():
    x, w = minicnn.tensor(np.ones((1, 2, 4, 4))), minicnn.tensor(np.ones((3, 2, 3, 3)))
    with pytest.raises(TypeError, match="conv2d: bias has dtype float32 but conv2d: x"):
        F.conv2d(x, w, minicnn.tensor(np.ones(3, np.float32)))


# ----------------------------------------------------------------------------- degenerate shapes


@pytest.mark.parametrize("x_shape, weight_shape, message", [
    ((2, 3, 6, 6), (0, 3, 3, 3), r"weight has 0 output channels \(shape \(0, 3, 3, 3\)\)"),
    ((2, 0, 6, 6), (4, 0, 3, 3), r"x has 0 channels \(shape \(2, 0, 6, 6\)\)"),
    ((2, 3, 6, 6), (4, 3, 0, 3), r"weight has an empty kernel, \(KH, KW\) = \(0, 3\)"),
    ((2, 3, 6, 6), (4, 3, 3, 0), r"empty kernel, \(KH, KW\) = \(3, 0\)"),
])
def test_impossible_shapes_are_refused(x_shape, weight_shape, message):
    # "cannot reshape array of size 0" or a Numba error before; PyTorch refuses C_out = 0 and
    # empty kernels (and returns a 0-channel output for C_in = 0, whatever C_out is)
    with pytest.raises(ValueError, match=message) as info:
        F.conv2d(minicnn.tensor(np.zeros(x_shape)), minicnn.tensor(np.zeros(weight_shape)))
    assert str(info.value).startswith("conv2d: ")


@pytest.mark.parametrize("weight_shape, groups", [((4, 3, 3, 3), 1), ((3, 1, 3, 3), 3)])
def test_an_empty_batch_gives_empty_results_and_zero_parameter_gradients(weight_shape, groups):
    x = minicnn.tensor(np.zeros((0, 3, 6, 6)), requires_grad=True)
    w = minicnn.tensor(np.ones(weight_shape), requires_grad=True)
    b = minicnn.tensor(np.ones(weight_shape[0]), requires_grad=True)
    out = F.conv2d(x, w, b, padding=1, groups=groups)
    assert out.shape == (0, weight_shape[0], 6, 6)
    out.sum().backward()
    assert x.grad.shape == (0, 3, 6, 6)
    np.testing.assert_array_equal(w.grad, np.zeros(weight_shape))
    np.testing.assert_array_equal(b.grad, np.zeros(weight_shape[0]))


# ----------------------------------------------------------------------------- huge settings


def test_a_stride_beyond_the_input_costs_no_more_than_a_small_one():
    # stride 20,000 took 9.5 s and 1.7 GB (phases padded to a stride multiple), 10**5 raised
    # SystemError: a stride at least the input size reads the top-left window only
    rng = np.random.default_rng(0)
    x_data, w_data = rng.standard_normal((1, 4, 7, 7)), rng.standard_normal((3, 4, 3, 3))
    upstream = rng.standard_normal((1, 3, 1, 1))
    results = []
    for stride in (7, 20_000, 10**5, 2**31 - 1):
        x, w = (minicnn.tensor(a, requires_grad=True) for a in (x_data, w_data))
        out = F.conv2d(x, w, stride=stride)
        out.backward(upstream)
        results.append((out.data, x.grad, w.grad))
    for result in results[1:]:
        for got, expected in zip(result, results[0]):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("weight_shape, groups", [((3, 4, 3, 3), 1), ((4, 1, 3, 3), 4)])
@pytest.mark.parametrize("huge, small", [
    # padding and stride 10**5 around a 5x5 image: outputs at -10**5 (padding), 0 (the
    # top-left window) and 10**5 (padding), as padding and stride 5 give
    (dict(padding=10**5, stride=10**5), dict(padding=5, stride=5)),
    # dilation 10**5: only the middle tap of each window reads the image, as with dilation 5
    (dict(padding=10**5, dilation=10**5), dict(padding=5, dilation=5)),
    (dict(padding=(10**5, 1), stride=(10**5, 2), dilation=(1, 2)),
     dict(padding=(5, 1), stride=(5, 2), dilation=(1, 2))),
])
def test_huge_padding_costs_only_the_cells_read(weight_shape, groups, huge, small):
    rng = np.random.default_rng(0)
    x_data, w_data = rng.standard_normal((2, 4, 5, 5)), rng.standard_normal(weight_shape)
    results = []
    for settings in (small, huge):  # the last peak measured is the huge settings'
        x, w = (minicnn.tensor(a, requires_grad=True) for a in (x_data, w_data))
        tracemalloc.start()
        out = F.conv2d(x, w, groups=groups, **settings)
        out.backward(np.arange(out.data.size, dtype=np.float64).reshape(out.shape))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results.append((out.data, x.grad, w.grad))
    assert peak < 2**20  # bytes: a padded 2 * 10**5-wide plane would be gigabytes
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("setting", ["stride", "dilation", "padding"])
@pytest.mark.parametrize("value", [2**31, 2**64, (1, 2**40)])
def test_settings_beyond_int32_are_refused_by_name(setting, value):
    # stride 2**64 gave an OverflowError from Numba's dispatcher
    x, w = minicnn.tensor(np.ones((1, 1, 7, 7))), minicnn.tensor(np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=f"conv2d: {setting} must be below 2\\*\\*31, got"):
        F.conv2d(x, w, **{setting: value})


# ----------------------------------------------------------------------------- conv_transpose2d


def _transposed_tensors(geometry, seed, dtype=np.float64, bias=True):
    rng = np.random.default_rng(seed)
    x, w = (minicnn.tensor(rng.standard_normal(geometry[key]), dtype=dtype, requires_grad=True)
            for key in ("x_shape", "weight_shape"))
    out_channels = geometry["weight_shape"][1] * geometry["groups"]
    b = minicnn.tensor(rng.standard_normal(out_channels), dtype=dtype,
                       requires_grad=True) if bias else None
    return x, w, b


def _transposed_settings(geometry):
    return {k: geometry[k] for k in ("stride", "padding", "output_padding", "groups",
                                     "dilation")}


@given(geometry=conv_geometries(max_side=8), seed=st.integers(0, 2**16))
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(geometry, seed):
    # y = conv2d(x, w); for an upstream g, dL/dx (autograd) == conv_transpose2d(g, w), with the
    # same stride, padding (asymmetric and 'same' resolved), dilation and groups, and the
    # output_padding that gives back x's size (the rows a stride leaves uncovered)
    x, w, _ = _tensors(geometry, seed, bias=False)
    settings = _settings(geometry)
    y = F.conv2d(x, w, **settings)
    upstream = minicnn.tensor(np.random.default_rng(seed + 1).standard_normal(y.shape))
    y.backward(upstream)
    pads = resolve_padding(geometry["padding"], x.shape[2:], w.shape[2:], settings["stride"],
                           settings["dilation"])
    output_padding = tuple(n - ((o - 1) * s - sum(p) + d * (k - 1) + 1) for n, o, s, p, d, k in
                           zip(x.shape[2:], y.shape[2:], settings["stride"], pads,
                               settings["dilation"], w.shape[2:]))
    assert all(0 <= o < s for o, s in zip(output_padding, settings["stride"]))
    dx = F.conv_transpose2d(upstream, w, stride=settings["stride"], padding=pads,
                            output_padding=output_padding, groups=settings["groups"],
                            dilation=settings["dilation"])
    np.testing.assert_allclose(dx.data, x.grad.data, rtol=1e-12, atol=1e-12)


@given(geometry=conv_transpose_geometries(), seed=st.integers(0, 2**16), bias=st.booleans())
def test_conv_transpose2d_gradcheck_drawn_geometries(geometry, seed, bias):
    x, w, b = _transposed_tensors(geometry, seed, bias=bias)
    settings = _transposed_settings(geometry)
    assert minicnn.gradcheck(lambda *t: F.conv_transpose2d(*t, **settings),
                             [x, w] + ([b] if bias else []))


@given(geometry=conv_transpose_geometries(), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_conv_transpose2d_against_pytorch(geometry, seed, dtype):
    torch = pytest.importorskip("torch")
    x, w, b = _transposed_tensors(geometry, seed, dtype)
    settings = _transposed_settings(geometry)
    out = F.conv_transpose2d(x, w, b, **settings)
    upstream = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    xt, wt, bt = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    out_t = torch.nn.functional.conv_transpose2d(xt, wt, bt, **settings)
    out_t.backward(torch.tensor(upstream))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **tol)
    for mine, theirs in ((x, xt), (w, wt), (b, bt)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tol)


def test_conv_transpose2d_upsamples_by_the_stride_by_hand():
    # each input cell stamps the 2x2 kernel, times its value, on its own 2x2 block
    x = minicnn.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    w = minicnn.tensor(np.array([[[[1.0, 10.0], [100.0, 1000.0]]]]))
    out = F.conv_transpose2d(x, w, stride=2)
    np.testing.assert_array_equal(out.data[0, 0], np.kron([[1.0, 2.0], [3.0, 4.0]],
                                                          [[1.0, 10.0], [100.0, 1000.0]]))
    # padding cuts the border off; output_padding adds a zero row/column past the scatter
    np.testing.assert_array_equal(F.conv_transpose2d(x, w, stride=2, padding=1).data,
                                  out.data[:, :, 1:3, 1:3])
    wide = F.conv_transpose2d(x, w, stride=3, output_padding=(0, 2))
    assert wide.shape == (1, 1, 5, 7)
    np.testing.assert_array_equal(wide.data[0, 0, :, 5:], 0)


def test_conv_transpose2d_output_padding_only_cells_are_zero_plus_bias():
    # padding 2 crops the whole scatter; output_padding 4 (< dilation 5) adds the only cells
    x, w = _t(1, 1, 1, 1) + 1.0, _t(1, 2, 1, 1) + 3.0
    out = F.conv_transpose2d(x, w, minicnn.tensor(np.array([0.5, -1.0])), padding=(2, 0),
                             output_padding=(4, 0), dilation=(5, 1))
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.conv_transpose2d(
        torch.ones(1, 1, 1, 1, dtype=torch.float64), torch.full((1, 2, 1, 1), 3.0,
                                                                dtype=torch.float64),
        torch.tensor([0.5, -1.0], dtype=torch.float64), padding=(2, 0), output_padding=(4, 0),
        dilation=(5, 1))
    np.testing.assert_array_equal(out.data, expected.numpy())


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((_t(3, 4, 4), _t(3, 2, 3, 3)), {}, ValueError, r"input must be 4-D .*\(3, 4, 4\)"),
    ((_t(1, 3, 4, 4), _t(2, 2, 3, 3)), {}, ValueError,
     r"input has 3 channels .* expects weight.shape\[0\]=2"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(groups=2), ValueError,
     r"groups=2 must divide the input channels"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3), _t(3)), {}, ValueError,
     r"bias must have shape \(2,\).* got \(3,\)"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(stride=2, output_padding=2), ValueError,
     "output padding must be smaller than either stride or dilation, but got "
     "output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 "
     "dilation_height: 1 dilation_width: 1"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(output_padding=(0, 1)), ValueError,
     "output padding must be smaller than either stride or dilation"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(output_padding=-1), ValueError,
     r"output_padding must be non-negative, got -1"),
    ((_t(1, 3, 1, 1), _t(3, 2, 3, 3)), dict(padding=3), ValueError,
     "output size -3 .* output size is too small"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(padding="same"), ValueError,
     "padding must be an int or a pair"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3)), dict(stride=0), ValueError, "stride must be positive"),
    ((_t(1, 3, 4, 4), _t(3, 2, 3, 3, dtype=np.float32)), {}, TypeError,
     "weight has dtype float32 but conv_transpose2d: input has dtype float64"),
    ((_t(1, 3, 4, 4, dtype=np.float16), _t(3, 2, 3, 3)), {}, TypeError, "float16"),
])
def test_conv_transpose2d_errors_name_the_argument(args, kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        F.conv_transpose2d(*args, **kwargs)
    assert str(info.value).startswith("conv_transpose2d: ")


def test_conv_transpose2d_frozen_weight_gradient_is_not_computed():
    x, w, b = _transposed_tensors(dict(x_shape=(1, 2, 3, 3), weight_shape=(2, 3, 3, 3),
                                       groups=1), 0)
    w.requires_grad_(False)
    F.conv_transpose2d(x, w, b, stride=2).sum().backward()
    assert w.grad is None and x.grad is not None and b.grad is not None
