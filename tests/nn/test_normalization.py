"""BatchNorm1d/2d (buffers, momentum, modes, num_batches_tracked), LayerNorm, GroupNorm,
InstanceNorm1d/2d and LocalResponseNorm."""

import numpy as np
import pytest

import minicnn
from minicnn import nn
from tests.nn._parity import assert_same_as_torch


def _x(*shape, seed=0, dtype=np.float32):
    return minicnn.tensor((np.random.default_rng(seed).standard_normal(shape) * 2 + 1)
                          .astype(dtype))


def test_parameters_buffers_and_state_dict_keys():
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    sd = bn.state_dict()
    np.testing.assert_array_equal(sd["weight"], np.ones(4))
    np.testing.assert_array_equal(sd["bias"], np.zeros(4))
    np.testing.assert_array_equal(sd["running_var"], np.ones(4))
    assert sd["num_batches_tracked"].dtype == np.int64 and sd["num_batches_tracked"].shape == ()
    assert sd["running_mean"].dtype == np.float32
    assert list(nn.BatchNorm2d(4, bias=False).state_dict()) == [
        "weight", "running_mean", "running_var", "num_batches_tracked"]
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == [] and list(plain.parameters()) == []


def test_training_updates_running_stats_and_counts_batches():
    bn = nn.BatchNorm2d(3, momentum=0.2)
    x = _x(4, 3, 5, 5)
    y = bn(x)
    mean = x.data.mean(axis=(0, 2, 3))
    var_unbiased = x.data.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean, 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.8 + 0.2 * var_unbiased, rtol=1e-5)
    assert int(bn.num_batches_tracked) == 1
    normalised = (x.data - mean[:, None, None]) / np.sqrt(
        x.data.var(axis=(0, 2, 3))[:, None, None] + 1e-5)  # the biased variance
    np.testing.assert_allclose(y.data, normalised, rtol=1e-4, atol=1e-5)
    bn(x)
    assert int(bn.num_batches_tracked) == 2
    # evaluation: running statistics, and nothing is updated
    bn.eval()
    before = bn.state_dict()
    y = bn(x)
    np.testing.assert_allclose(
        y.data, (x.data - bn.running_mean[:, None, None])
        / np.sqrt(bn.running_var[:, None, None] + 1e-5), rtol=1e-5, atol=1e-6)
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [_x(5, 2, seed=s) for s in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean,
                               np.mean([b.data.mean(axis=0) for b in batches], axis=0),
                               rtol=1e-5)


def test_without_running_stats_batch_statistics_are_always_used():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = _x(6, 2)
    np.testing.assert_allclose(bn(x).data.mean(axis=0), 0, atol=1e-6)


def test_batchnorm1d_takes_2d_and_3d_inputs():
    bn = nn.BatchNorm1d(3)
    assert bn(_x(4, 3)).shape == (4, 3)
    assert bn(_x(4, 3, 5)).shape == (4, 3, 5)
    with pytest.raises(ValueError, match="BatchNorm1d: expected a 2-D or 3-D input"):
        bn(_x(4, 3, 2, 2))
    with pytest.raises(ValueError, match="BatchNorm2d: expected a 4-D input"):
        nn.BatchNorm2d(3)(_x(4, 3))
    with pytest.raises(ValueError, match="input has 4 channels.*num_features=3"):
        bn(_x(2, 4))


def test_a_failed_forward_counts_no_batch():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(_x(1, 3))
    assert int(bn.num_batches_tracked) == 0


def test_state_dict_without_num_batches_tracked_loads_strictly_keeping_the_count():
    # PyTorch's rule: checkpoints from before the counter existed still load strictly.
    source = nn.BatchNorm2d(4)
    source.running_mean[...] = 0.5
    sd = source.state_dict()
    del sd["num_batches_tracked"]
    target = nn.BatchNorm2d(4)
    target.num_batches_tracked[...] = 7
    assert target.load_state_dict(sd) == ([], [])
    assert int(target.num_batches_tracked) == 7
    np.testing.assert_array_equal(target.running_mean, source.running_mean)
    assert nn.BatchNorm2d(4).load_state_dict(sd, strict=False).missing_keys == []
    # nested too, and only that key is optional
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    sd = {k: v for k, v in net.state_dict().items() if k != "1.num_batches_tracked"}
    net.load_state_dict(sd)
    del sd["1.running_var"]
    with pytest.raises(nn.StateDictError, match=r"Missing key\(s\): '1.running_var'$"):
        net.load_state_dict(sd)


def test_repr():
    assert repr(nn.BatchNorm2d(64)) == \
        "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, bias=True, " \
        "track_running_stats=True)"
    assert repr(nn.BatchNorm1d(3, affine=False)) == \
        "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, " \
        "track_running_stats=True)"
    assert repr(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)) == \
        "LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0)"
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=2)
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)


@pytest.mark.parametrize("make, shape, train", [
    (lambda nn_: nn_.BatchNorm2d(3), (4, 3, 5, 4), True),
    (lambda nn_: nn_.BatchNorm2d(3, momentum=0.3, eps=1e-3), (4, 3, 5, 4), False),
    (lambda nn_: nn_.BatchNorm1d(3), (6, 3), True),
    (lambda nn_: nn_.BatchNorm1d(3, momentum=None), (6, 3, 4), True),
    (lambda nn_: nn_.BatchNorm1d(3, affine=False, track_running_stats=False), (6, 3), True),
    (lambda nn_: nn_.BatchNorm2d(3, bias=False), (4, 3, 2, 2), True),
    (lambda nn_: nn_.LocalResponseNorm(3, alpha=1e-2, beta=0.75, k=2.0), (2, 6, 3, 3), True),
    (lambda nn_: nn_.LayerNorm(5), (4, 3, 5), True),
    (lambda nn_: nn_.LayerNorm((3, 2, 2), eps=1e-3, bias=False), (4, 3, 2, 2), False),
    (lambda nn_: nn_.LayerNorm([3, 4], elementwise_affine=False), (2, 3, 4), True),
    (lambda nn_: nn_.GroupNorm(2, 6), (3, 6, 2, 3), True),
    (lambda nn_: nn_.GroupNorm(3, 3, eps=1e-3, affine=False), (2, 3, 4), False),
    (lambda nn_: nn_.GroupNorm(1, 4, bias=False), (2, 4, 3, 3), True),
    (lambda nn_: nn_.InstanceNorm2d(3), (2, 3, 4, 5), True),
    (lambda nn_: nn_.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5),
     True),
    (lambda nn_: nn_.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.4),
     (2, 3, 4, 5), False),
    (lambda nn_: nn_.InstanceNorm2d(3, affine=True), (3, 4, 5), True),  # unbatched
    (lambda nn_: nn_.InstanceNorm1d(3, track_running_stats=True, momentum=None), (4, 3, 5),
     True),
    (lambda nn_: nn_.InstanceNorm1d(3, affine=True, bias=False, track_running_stats=True),
     (4, 3, 5), True),
    (lambda nn_: nn_.InstanceNorm1d(3, track_running_stats=True), (3, 6), False),  # unbatched
])
def test_matches_torch(make, shape, train):
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn), make(torch.nn)
    ours.train(train)
    theirs.train(train)
    if not train and getattr(theirs, "running_mean", None) is not None:  # non-trivial ones
        theirs.running_mean.uniform_(-1, 1)
        theirs.running_var.uniform_(0.5, 2)
    x = np.random.default_rng(3).standard_normal(shape) * 2 + 1
    for _ in range(2):  # two batches: running statistics and num_batches_tracked advance
        assert_same_as_torch(torch, ours, theirs, x)
        ours.zero_grad()
        theirs.zero_grad()


@pytest.mark.parametrize("make, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm2d, (4, 3, 2, 2))])
@pytest.mark.parametrize("train", [True, False])
def test_parameters_and_buffers_must_have_the_input_dtype(make, shape, train):
    # float32 statistics on a float64 input gave float64 silently; PyTorch raises
    bn = make(3).train(train)
    with pytest.raises(TypeError, match="has dtype float32 but batch_norm: x has dtype float64"):
        bn(_x(*shape, dtype=np.float64))
    assert int(bn.num_batches_tracked) == 0  # a refused batch is not counted
    with pytest.raises(TypeError, match="batch_norm: x has dtype float16"):
        bn(_x(*shape, dtype=np.float16))
    assert bn.double()(_x(*shape, dtype=np.float64)).dtype == np.float64


def test_an_empty_batch_is_counted_but_changes_no_statistic():
    # PyTorch: an empty result; num_batches_tracked still counts the call
    bn = nn.BatchNorm2d(3)
    x = minicnn.tensor(np.zeros((0, 3, 4, 4), np.float32), requires_grad=True)
    out = bn(x)
    assert out.shape == (0, 3, 4, 4)
    out.sum().backward()
    np.testing.assert_array_equal(bn.weight.grad, 0)
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    assert int(bn.num_batches_tracked) == 1
    assert bn.eval()(x).shape == (0, 3, 4, 4)


def test_lrn_numpy_settings_keep_float32():
    lrn = nn.LocalResponseNorm(3, alpha=np.float64(1e-3), beta=np.float64(0.75), k=np.float64(2))
    assert lrn(_x(1, 4, 3, 3)).dtype == np.float32


def test_per_sample_norms_print_and_save_as_pytorch():
    assert repr(nn.LayerNorm(10)) == \
        "LayerNorm((10,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert repr(nn.LayerNorm((2, 3), elementwise_affine=False)) == \
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"
    assert repr(nn.GroupNorm(2, 4, affine=False)) == \
        "GroupNorm(2, 4, eps=1e-05, affine=False, bias=False)"
    assert repr(nn.GroupNorm(4, 8, eps=1e-3)) == \
        "GroupNorm(4, 8, eps=0.001, affine=True, bias=True)"
    assert repr(nn.InstanceNorm2d(3)) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, "
                                          "affine=False, bias=False, track_running_stats=False)")
    assert repr(nn.InstanceNorm1d(3, affine=True, track_running_stats=True)) == (
        "InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
        "track_running_stats=True)")
    assert list(nn.LayerNorm(4).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]
    assert list(nn.InstanceNorm2d(3).state_dict()) == []
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert nn.LayerNorm((2, 3)).weight.shape == (2, 3)


def test_per_sample_norm_modules_keys_and_reprs_equal_pytorchs():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.LayerNorm((3, 4), bias=False), lambda m: m.GroupNorm(3, 6),
                 lambda m: m.InstanceNorm2d(4, affine=True, track_running_stats=True),
                 lambda m: m.InstanceNorm1d(4, eps=1e-3, momentum=None)):
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_group_norm_channels_must_divide_into_groups():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups "
                                         r"\(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_groups"):
        nn.GroupNorm(0, 6)


def test_instance_norm_tracks_running_stats_only_when_asked_and_uses_them_in_eval():
    x = _x(4, 3, 5, 5, dtype=np.float64)
    plain = nn.InstanceNorm2d(3).double().eval()  # no running stats: instance statistics
    np.testing.assert_allclose(plain(x).data.mean(axis=(2, 3)), 0, atol=1e-12)
    tracking = nn.InstanceNorm2d(3, track_running_stats=True).double()
    tracking(x)
    assert int(tracking.num_batches_tracked) == 0  # as PyTorch: never incremented
    expected = 0.1 * x.data.mean(axis=(2, 3)).mean(axis=0)
    np.testing.assert_allclose(tracking.running_mean, expected, rtol=1e-12)
    out = tracking.eval()(x)
    np.testing.assert_allclose(out.data, (x.data - tracking.running_mean[:, None, None])
                               / np.sqrt(tracking.running_var[:, None, None] + 1e-5), rtol=1e-12)


def test_instance_norm_input_checks_as_pytorch():
    with pytest.raises(ValueError, match="3-D or 4-D"):
        nn.InstanceNorm2d(3)(_x(4, 4))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        nn.InstanceNorm1d(3)(_x(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\), got 4"):
        nn.InstanceNorm2d(3, affine=True)(_x(2, 4, 4, 4))
    with pytest.warns(UserWarning, match="does not match num_features"):
        assert nn.InstanceNorm2d(3)(_x(2, 4, 4, 4)).shape == (2, 4, 4, 4)


@pytest.mark.parametrize("make, shape", [(lambda: nn.LayerNorm(4), (2, 3, 4)),
                                         (lambda: nn.GroupNorm(3, 3), (2, 3, 4)),
                                         (lambda: nn.InstanceNorm1d(3, affine=True), (2, 3, 4))])
def test_per_sample_norm_parameters_must_have_the_input_dtype(make, shape):
    layer = make()
    with pytest.raises(TypeError, match="has dtype float32 but .* has dtype float64"):
        layer(_x(*shape, dtype=np.float64))
    assert layer.double()(_x(*shape, dtype=np.float64)).dtype == np.float64
    assert make()(_x(*shape)).dtype == np.float32
    assert make().to(np.float64).weight.dtype == np.float64


@pytest.mark.parametrize("make, shape", [(lambda m: m.LayerNorm(4), (0, 3, 4)),
                                         (lambda m: m.GroupNorm(3, 3), (0, 3, 4)),
                                         (lambda m: m.InstanceNorm1d(3), (0, 3, 4)),
                                         (lambda m: m.InstanceNorm1d(3, track_running_stats=True),
                                          (0, 3, 4))])
def test_per_sample_norm_modules_on_an_empty_batch_as_pytorch(make, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = make(nn), make(torch.nn)
    out = ours(minicnn.tensor(np.zeros(shape, np.float32)))
    out_torch = theirs(torch.zeros(shape))
    assert out.shape == tuple(out_torch.shape) == shape
    for key, value in ours.state_dict().items():  # NaN running statistics, as PyTorch
        np.testing.assert_array_equal(value, theirs.state_dict()[key].numpy())
