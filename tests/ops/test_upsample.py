"""F.interpolate: hand-computed cases, PyTorch as an oracle (values and gradients), gradient
checks in float64, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minicnn
from minicnn import functional as F


def _leaf(array):
    return minicnn.tensor(array, requires_grad=True)


# ----------------------------------------------------------------------------- by hand


def test_nearest_repeats_each_pixel():
    x = _leaf(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    y = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(y.data[0, 0], np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))))
    y.backward(np.arange(16.0).reshape(1, 1, 4, 4))
    # each input pixel gets the sum of its 2x2 block of the upstream gradient
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7],
                                                      [8 + 9 + 12 + 13, 10 + 11 + 14 + 15]])


def test_nearest_uses_the_scale_factor_not_the_size_ratio():
    # PyTorch: scale_factor=1.7 on 5 cells gives floor(8.5) = 8 outputs reading floor(o / 1.7)
    x = minicnn.tensor(np.arange(5.0).reshape(1, 1, 5))
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=1.7).data.ravel(),
                                  [0, 0, 1, 1, 2, 2, 3, 4])
    # the size ratio 5/8 would read floor(o * 5 / 8): [0, 0, 1, 1, 2, 3, 3, 4]
    np.testing.assert_array_equal(
        F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True).data.ravel(),
        [0, 0, 1, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(F.interpolate(x, size=8).data.ravel(),
                                  [0, 0, 1, 1, 2, 3, 3, 4])


def test_bilinear_align_corners_by_hand():
    x = minicnn.tensor(np.array([[[[0.0, 3.0]]]]))
    # corners aligned: 4 outputs at 0, 1/3, 2/3, 1 of the way
    np.testing.assert_allclose(F.interpolate(x, size=(1, 4), mode="bilinear",
                                             align_corners=True).data.ravel(), [0, 1, 2, 3])
    # half-pixel centres (the default): source (o + 0.5) / 2 - 0.5, clamped at 0
    np.testing.assert_allclose(F.interpolate(x, size=(1, 4), mode="bilinear").data.ravel(),
                               [0, 0.75, 2.25, 3])


def test_bilinear_backward_scatters_the_weights():
    x = _leaf(np.array([[[[0.0, 3.0]]]]))
    F.interpolate(x, size=(1, 4), mode="bilinear").backward(np.array([[[[1.0, 10, 100, 1000]]]]))
    # weights on (x0, x1): (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1)
    np.testing.assert_allclose(x.grad.data.ravel(), [1 + 7.5 + 25, 2.5 + 75 + 1000])


# ----------------------------------------------------------------------------- PyTorch oracle

CASES = [
    dict(scale_factor=2), dict(scale_factor=3), dict(scale_factor=1.7), dict(scale_factor=0.5),
    dict(scale_factor=(2.2, 1.9)), dict(scale_factor=(1, 1.1)), dict(size=(3, 11)),
    dict(size=7), dict(size=(1, 1)),
    dict(scale_factor=2, mode="bilinear"), dict(scale_factor=1.7, mode="bilinear"),
    dict(scale_factor=0.3, mode="bilinear"), dict(size=(9, 4), mode="bilinear"),
    dict(size=(9, 4), mode="bilinear", align_corners=True),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
    dict(size=(1, 3), mode="bilinear", align_corners=False),
    dict(scale_factor=(0.6, 2.5), mode="bilinear", align_corners=True),
    dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_against_pytorch(kwargs, dtype):
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, (2, 3, 5, 7), kwargs, dtype, seed=0)


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 5), dict(scale_factor=2.5, mode="linear")),
    ((2, 3, 5), dict(size=3, mode="linear", align_corners=True)),
    ((2, 3, 5), dict(scale_factor=1.5)),
    ((1, 2, 3, 4, 3), dict(scale_factor=(2, 0.7, 1.5), mode="trilinear")),
    ((1, 2, 3, 4, 3), dict(size=(5, 2, 4))),
], ids=str)
def test_one_and_three_spatial_axes_against_pytorch(shape, kwargs):
    torch = pytest.importorskip("torch")
    _compare_with_torch(torch, shape, kwargs, np.float64, seed=1)


@given(h=st.integers(1, 6), w=st.integers(1, 6), data=st.data(),
       mode=st.sampled_from(["nearest", "bilinear"]), seed=st.integers(0, 2**16))
def test_drawn_sizes_and_scales_against_pytorch(h, w, data, mode, seed):
    torch = pytest.importorskip("torch")
    if data.draw(st.booleans(), "by size"):
        kwargs = dict(size=(data.draw(st.integers(1, 13)), data.draw(st.integers(1, 13))))
    else:
        factor = st.floats(0.2, 3.5).filter(lambda f: np.floor(min(h, w) * f) >= 1)
        kwargs = dict(scale_factor=(data.draw(factor), data.draw(factor)))
    if mode == "bilinear":
        kwargs.update(mode=mode, align_corners=data.draw(st.sampled_from([None, True, False])))
    _compare_with_torch(torch, (2, 2, h, w), kwargs, np.float64, seed)


def _compare_with_torch(torch, shape, kwargs, dtype, seed):
    rng = np.random.default_rng(seed)
    x = _leaf(rng.standard_normal(shape).astype(dtype))
    y = F.interpolate(x, **kwargs)
    xt = torch.tensor(x.data, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, **kwargs)
    assert y.shape == tuple(yt.shape) and y.dtype == dtype
    upstream = rng.standard_normal(y.shape).astype(dtype)
    y.backward(upstream)
    yt.backward(torch.tensor(upstream))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), **tol)
    assert x.grad.dtype == dtype


# ----------------------------------------------------------------------------- gradients


@given(h=st.integers(1, 5), w=st.integers(1, 5), out_h=st.integers(1, 9),
       out_w=st.integers(1, 9), mode=st.sampled_from(["nearest", "bilinear"]),
       align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_gradcheck_drawn_sizes(h, w, out_h, out_w, mode, align_corners, seed):
    x = _leaf(np.random.default_rng(seed).standard_normal((2, 2, h, w)))
    corners = align_corners if mode == "bilinear" else None
    assert minicnn.gradcheck(lambda t: F.interpolate(t, size=(out_h, out_w), mode=mode,
                                                     align_corners=corners), [x])


@pytest.mark.parametrize("kwargs", [dict(scale_factor=1.7), dict(scale_factor=(0.6, 2.5),
                                                                 mode="bilinear")], ids=str)
def test_gradcheck_scale_factors(kwargs):
    x = _leaf(np.random.default_rng(3).standard_normal((1, 2, 5, 4)))
    assert minicnn.gradcheck(lambda t: F.interpolate(t, **kwargs), [x])


# ----------------------------------------------------------------------------- errors


def _x(*shape, dtype=np.float64):
    return minicnn.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((_x(1, 1, 4, 4),), {}, ValueError, "either size or scale_factor should be defined"),
    ((_x(1, 1, 4, 4),), dict(size=2, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    ((_x(1, 1, 4, 4),), dict(size=2, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    ((_x(1, 1, 4, 4),), dict(size=2, mode="bicubic"), ValueError, "got 'bicubic'"),
    ((_x(1, 1, 4),), dict(size=2, mode="bilinear"), ValueError,
     r"'bilinear' takes a 4-D input .*\(1, 1, 4\)"),
    ((_x(1, 1, 4, 4),), dict(size=2, mode="linear"), ValueError, "'linear' takes a 3-D"),
    ((_x(4, 4),), dict(size=2), ValueError, "3-D, 4-D or 5-D"),
    ((_x(1, 1, 4, 4),), dict(size=(2, 2, 2)), TypeError, "size must be a int or 2 of them"),
    ((_x(1, 1, 4, 4),), dict(size=2.5), TypeError, "size must be a int"),
    ((_x(1, 1, 4, 4),), dict(scale_factor="2"), TypeError, "scale_factor must be a float"),
    ((_x(1, 1, 4, 4),), dict(scale_factor=0.1), ValueError,
     r"sizes must be positive, got input \(4, 4\) and output \(0, 0\)"),
    ((_x(1, 1, 4, 4),), dict(size=(0, 2)), ValueError, "sizes must be positive"),
    ((_x(1, 1, 4, 4),), dict(size=2, antialias=True), ValueError, "antialias"),
    ((_x(1, 1, 4, 4, dtype=np.int64),), dict(size=2), TypeError, "interpolate: input"),
])
def test_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        F.interpolate(*args, **kwargs)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=1.7), dict(size=(3, 11)),
                                    dict(scale_factor=0.3, mode="bilinear"),
                                    dict(size=(9, 4), mode="bilinear", align_corners=True)],
                         ids=str)
def test_long_axes_scatter_path_against_pytorch(kwargs, monkeypatch):
    # backward multiplies by the dense resampling matrix below DENSE_MAX_CELLS, and sums
    # sorted runs (np.add.reduceat) above it: force the second path on small inputs
    from minicnn.ops import upsample
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(upsample, "DENSE_MAX_CELLS", 0)
    _compare_with_torch(torch, (2, 3, 5, 7), kwargs, np.float64, seed=4)
    monkeypatch.setattr(upsample, "DENSE_MAX_CELLS", 2**16)
    _compare_with_torch(torch, (2, 3, 5, 7), kwargs, np.float64, seed=4)


def test_pad_modes_scatter_path_against_pytorch(monkeypatch):
    from minicnn.ops import upsample
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(upsample, "DENSE_MAX_CELLS", 0)
    rng = np.random.default_rng(5)
    for mode, widths in [("reflect", (2, 1, 0, 3)), ("replicate", (3, -1, 2, 2)),
                         ("circular", (2, -1, 1, 1))]:
        x = _leaf(rng.standard_normal((2, 3, 4, 5)))
        xt = torch.tensor(x.data, requires_grad=True)
        y, yt = F.pad(x, widths, mode=mode), torch.nn.functional.pad(xt, widths, mode=mode)
        upstream = rng.standard_normal(y.shape)
        y.backward(upstream)
        yt.backward(torch.tensor(upstream))
        np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
