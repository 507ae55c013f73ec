"""minicnn.summary: the course's hand-computed MAC figures, the table's bookkeeping (rows sum
to the totals, shared and unused modules, depth), the model left as it was, and the
published parameter counts and torchvision's MAC figures for the architectures."""

from collections import namedtuple

import numpy as np
import pytest

import minicnn
from minicnn import models, nn
from minicnn.rng import get_rng_state
from minicnn.summary import Summary, SummaryRow, layer_macs, summary


def run(model, input_shape, **kwargs):
    return summary(model, input_shape, print_table=False, **kwargs)


def assert_rows_sum_to_totals(s):
    assert sum(row.params for row in s.rows) == s.total_params
    assert sum(row.trainable_params for row in s.rows) == s.trainable_params
    assert sum(row.macs for row in s.rows) == s.total_macs


def small_net():
    """conv-bn-relu-pool, a nested block, then a classifier: three levels deep."""
    block = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Sequential(block, nn.Conv2d(8, 8, 1)), nn.Flatten(),
                         nn.Linear(8 * 4 * 4, 10))


# --- the course's figures -----------------------------------------------------------------
def test_5x5_same_convolution_from_28x28x192_to_32_channels():
    s = run(nn.Conv2d(192, 32, 5, padding="same"), (192, 28, 28))
    assert s.total_macs == 28 * 28 * 32 * 192 * 5 * 5 == 120_422_400
    assert s.rows == [SummaryRow("", "Conv2d", (1, 32, 28, 28), 153_632, 153_632,
                                 120_422_400, 0, 1)]


def test_1x1_bottleneck_to_16_channels_first():
    s = run(nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding="same")),
            (192, 28, 28))
    assert [row.macs for row in s.rows] == [0, 28 * 28 * 16 * 192, 28 * 28 * 32 * 16 * 25]
    assert s.total_macs == 2_408_448 + 10_035_200 == 12_443_648
    assert [row.output_shape for row in s.rows[1:]] == [(1, 16, 28, 28), (1, 32, 28, 28)]


def test_3x3_convolution_against_the_depthwise_separable_pair():
    assert run(nn.Conv2d(3, 5, 3), (3, 6, 6)).total_macs == 4 * 4 * 5 * 3 * 9 == 2160
    pair = nn.Sequential(nn.Conv2d(3, 3, 3, groups=3), nn.Conv2d(3, 5, 1))
    s = run(pair, (3, 6, 6))
    assert [row.macs for row in s.rows[1:]] == [4 * 4 * 3 * 9, 4 * 4 * 5 * 3] == [432, 240]
    assert s.total_macs == 672


def test_grouped_strided_dilated_convolution_and_the_bias_not_counted():
    # H: (11 + 2 - 2*(3-1) - 1) // 2 + 1 = 5, W: (9 + 2 - 5) // 2 + 1 = 4; C_in / groups = 2.
    for bias in (True, False):
        conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, bias=bias)
        s = run(conv, (4, 11, 9))
        assert s.rows[0].output_shape == (1, 6, 5, 4)
        assert s.total_macs == 5 * 4 * 6 * 2 * 3 * 3 == 2160


def test_non_square_kernel():
    s = run(nn.Conv2d(2, 3, (1, 7), padding="same"), (2, 5, 9))
    assert s.total_macs == 5 * 9 * 3 * 2 * 1 * 7


def test_linear_macs_are_in_times_out_features_per_row():
    s = run(nn.Sequential(nn.Flatten(), nn.Linear(400, 120, bias=False)), (16, 5, 5))
    assert s.total_macs == 400 * 120 == 48_000
    # On a (1, 2, 3, 5) input the linear layer maps 2 * 3 rows of 5 features to 7 each.
    s = run(nn.Linear(5, 7), (2, 3, 5))
    assert s.rows[0].output_shape == (1, 2, 3, 7)
    assert s.total_macs == 2 * 3 * 7 * 5 == 210


def test_layer_macs_counts_conv_and_linear_only():
    x = minicnn.Tensor(np.zeros((1, 2, 6, 6), dtype=np.float32))
    for layer in (nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.BatchNorm2d(2), nn.Dropout(),
                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Sequential(nn.Conv2d(2, 2, 1))):
        layer.eval()
        assert layer_macs(layer, (x,), layer(x)) == 0, type(layer).__name__


def test_transposed_convolution_counts_the_macs_of_the_convolution_it_reverses():
    """ConvTranspose2d(4 -> 6, 3x3, stride 2) on 5x5 is the input gradient of a conv 6 -> 4
    on its 11x11 output: both do 5 * 5 * 4 * 6 * 3 * 3 multiply-accumulates."""
    s = run(nn.ConvTranspose2d(4, 6, 3, stride=2), (4, 5, 5))
    assert s.rows[0].output_shape == (1, 6, 11, 11)
    assert s.total_macs == 5 * 5 * 4 * 6 * 3 * 3
    grouped = run(nn.ConvTranspose2d(4, 6, 3, groups=2), (4, 5, 5))
    assert grouped.total_macs == 5 * 5 * 4 * 3 * 3 * 3


# --- bookkeeping ----------------------------------------------------------------------------
def test_rows_follow_the_call_order_with_dotted_names_and_depths():
    s = run(small_net(), (3, 10, 10))
    assert [(row.name, row.type, row.depth) for row in s.rows] == [
        ("", "Sequential", 0), ("0", "Conv2d", 1), ("1", "BatchNorm2d", 1), ("2", "ReLU", 1),
        ("3", "MaxPool2d", 1), ("4", "Sequential", 1), ("4.0", "Sequential", 2),
        ("4.0.0", "Conv2d", 3), ("4.0.1", "BatchNorm2d", 3), ("4.0.2", "ReLU", 3),
        ("4.1", "Conv2d", 2), ("5", "Flatten", 1), ("6", "Linear", 1)]
    shapes = {row.name: row.output_shape for row in s.rows}
    assert shapes["0"] == (1, 4, 8, 8) and shapes["3"] == (1, 4, 4, 4)
    assert shapes["4.0"] == (1, 8, 4, 4) and shapes["5"] == (1, 128) and shapes[""] == (1, 10)
    assert s.output_shape == (1, 10) and s.input_shape == (1, 3, 10, 10)


def test_params_per_row_are_the_modules_own_and_sum_to_the_total():
    model = small_net()
    s = run(model, (3, 10, 10))
    assert s.total_params == sum(p.numel() for p in model.parameters())
    own = {row.name: row.params for row in s.rows}
    assert own[""] == own["4"] == own["4.0"] == own["2"] == 0  # containers, ReLU
    assert own["0"] == 4 * 3 * 9 + 4 and own["4.0.1"] == 2 * 8 and own["6"] == 128 * 10 + 10
    assert_rows_sum_to_totals(s)


def test_totals_are_sums_of_rows_at_every_depth():
    model = small_net()
    full = run(model, (3, 10, 10))
    for depth in (0, 1, 2, 3, None):
        s = run(model, (3, 10, 10), depth=depth)
        assert_rows_sum_to_totals(s)
        assert (s.total_params, s.total_macs) == (full.total_params, full.total_macs)
        if depth is not None:
            assert max(row.depth for row in s.rows) == depth
    folded = run(model, (3, 10, 10), depth=1)
    block = next(row for row in folded.rows if row.name == "4")
    assert block.macs == 4 * 4 * 8 * 4 * 9 + 4 * 4 * 8 * 8
    assert block.params == (8 * 4 * 9 + 8) + 2 * 8 + (8 * 8 + 8)
    only_model = run(model, (3, 10, 10), depth=0).rows
    assert len(only_model) == 1 and only_model[0].macs == full.total_macs


def test_frozen_parameters_are_not_trainable():
    model = small_net()
    model[0].requires_grad_(False)
    model[6].bias.requires_grad_(False)
    s = run(model, (3, 10, 10))
    frozen = model[0].weight.numel() + model[0].bias.numel() + 10
    assert s.trainable_params == s.total_params - frozen
    assert s.non_trainable_params == frozen
    rows = {row.name: row for row in s.rows}
    assert rows["0"].trainable_params == 0 and rows["0"].params == 112
    assert rows["6"].trainable_params == 1280
    assert_rows_sum_to_totals(s)
    assert f"Non-trainable params: {frozen:,}" in str(s)


class TwiceThroughOneConv(nn.Module):
    """One convolution applied twice (shared weights), as in a recurrent or tied network."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.head = nn.Linear(2, 3)

    def forward(self, x):
        x = self.conv(self.conv(x))
        return self.head(x.mean(axis=(2, 3)))


def test_a_module_called_twice_counts_its_macs_per_call_and_its_params_once():
    model = TwiceThroughOneConv()
    s = run(model, (2, 5, 5))
    conv_rows = [row for row in s.rows if row.name == "conv"]
    assert [row.call for row in conv_rows] == [1, 2]
    assert [row.macs for row in conv_rows] == [5 * 5 * 2 * 2 * 9] * 2
    assert [row.params for row in conv_rows] == [2 * 2 * 9 + 2, 0]
    assert s.total_macs == 2 * 900 + 6 and s.total_params == 38 + 9
    assert_rows_sum_to_totals(s)
    assert "conv (call 2)" in str(s)


def test_a_parameter_shared_by_two_modules_counts_once():
    first, second = nn.Linear(4, 4), nn.Linear(4, 4)
    second.weight = first.weight
    s = run(nn.Sequential(nn.Flatten(), first, second), (1, 2, 2))
    assert s.total_params == 16 + 4 + 4
    assert_rows_sum_to_totals(s)
    assert s.total_macs == 2 * 16


Pair = namedtuple("Pair", ["features", "logits"])


class TwoOutputs(nn.Module):
    def __init__(self, named):
        super().__init__()
        self.conv, self.fc, self.named = nn.Conv2d(1, 4, 3), nn.Linear(4 * 4 * 4, 2), named

    def forward(self, x):
        features = self.conv(x)
        logits = self.fc(features.flatten(1))
        return Pair(features, logits) if self.named else (features, logits)


def test_tuple_and_named_tuple_outputs_are_shown_per_element():
    s = run(TwoOutputs(named=True), (1, 6, 6))
    assert s.output_shape == Pair((1, 4, 4, 4), (1, 2))
    assert s.rows[0].output_shape == Pair((1, 4, 4, 4), (1, 2))
    assert "features [1, 4, 4, 4], logits [1, 2]" in str(s)
    s = run(TwoOutputs(named=False), (1, 6, 6))
    assert s.output_shape == ((1, 4, 4, 4), (1, 2))
    assert "([1, 4, 4, 4], [1, 2])" in str(s)


class WithTrainingOnlyHead(nn.Module):
    """Like GoogLeNet's auxiliary classifiers: a head that runs only in training mode."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(1, 2, 3)
        self.aux = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 5))

    def forward(self, x):
        x = self.body(x)
        return (x, self.aux(x)) if self.training else x


def test_modules_not_run_in_eval_mode_are_listed_with_their_parameters():
    s = run(WithTrainingOnlyHead(), (1, 5, 5))
    rows = {row.name: row for row in s.rows}
    assert rows["aux"].output_shape is None and rows["aux.1"].output_shape is None
    assert rows["aux.1"].params == 18 * 5 + 5 and rows["aux.1"].macs == 0
    assert [row.name for row in s.rows][-3:] == ["aux", "aux.0", "aux.1"]
    assert s.total_macs == 3 * 3 * 2 * 9
    assert_rows_sum_to_totals(s)
    folded = run(WithTrainingOnlyHead(), (1, 5, 5), depth=1)
    assert {row.name: row.params for row in folded.rows}["aux"] == 95
    assert_rows_sum_to_totals(folded)
    assert "not run" in str(s)


# --- the model is left as it was -------------------------------------------------------------
class ModeSpy(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, minicnn.is_grad_enabled()))
        return x


def test_runs_in_eval_mode_without_grad_and_restores_every_training_flag():
    spy = ModeSpy()
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5), spy)
    model.train()
    model[1].eval()  # a frozen batch norm inside a training model: a mixed state to restore
    before = [m.training for m in model.modules()]
    mean_before = model[1].running_mean.copy()
    run(model, (1, 5, 5))
    assert spy.seen == [(False, False)]
    assert [m.training for m in model.modules()] == before == [True, True, False, True, True]
    np.testing.assert_array_equal(model[1].running_mean, mean_before)
    assert minicnn.is_grad_enabled()
    model.eval()
    run(model, (1, 5, 5))
    assert not any(m.training for m in model.modules())


def test_hooks_are_removed_and_the_users_own_hooks_kept():
    model = small_net()
    calls = []
    model[0].register_forward_hook(lambda module, inputs, output: calls.append(output.shape))
    run(model, (3, 10, 10))
    assert calls == [(1, 4, 8, 8)]
    assert len(model[0]._forward_hooks) == 1
    assert sum(len(m._forward_hooks) for m in model.modules()) == 1
    assert not any(m._forward_pre_hooks for m in model.modules())


def test_a_failing_forward_names_the_layer_and_leaves_the_model_clean():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 5))
    model.train()
    with pytest.raises(ValueError, match=r"Sequential on an input of shape \(1, 3, 5, 5\) "
                                         r"failed in layer '1'"):
        run(model, (3, 5, 5))
    assert all(m.training for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    with pytest.raises(ValueError, match="channel"):
        run(model, (2, 9, 9))  # wrong number of input channels, caught by the first layer


def test_does_not_draw_from_minicnns_random_generator():
    minicnn.manual_seed(7)
    model = small_net()
    state = get_rng_state()
    run(model, (3, 10, 10))
    assert get_rng_state() == state


def test_float64_models():
    s = run(small_net().double(), (3, 10, 10), dtype=np.float64)
    assert s.total_macs == run(small_net(), (3, 10, 10)).total_macs
    # the input dtype follows the model's parameters when not given
    assert run(small_net().double(), (3, 10, 10)).total_macs == s.total_macs
    assert run(nn.Sequential(nn.ReLU()), (3, 4, 4)).total_params == 0  # none: float32


# --- the printed table ----------------------------------------------------------------------
def test_the_table_has_the_header_rows_and_totals(capsys):
    model = small_net()
    s = summary(model, (3, 10, 10))
    printed = capsys.readouterr().out
    assert printed == str(s) + "\n"
    text = str(s)
    header = next(line for line in text.splitlines() if line.startswith("Layer"))
    assert header.split() == ["Layer", "Type", "Output", "shape", "Params", "Trainable", "MACs"]
    assert "(model)" in text and "[1, 4, 8, 8]" in text and "MaxPool2d" in text
    macs = s.total_macs
    assert f"Total params:         {s.total_params:,}" in text
    assert f"Trainable params:     {s.trainable_params:,}" in text
    assert f"Total MACs:           {macs:,} ({macs / 1e9:.4g} GMACs)" in text
    assert f"FLOPs (2 x MACs):     {2 * macs:,}" in text and s.total_flops == 2 * macs
    assert "leaf layers only" in text and "One MAC (multiply-accumulate) = two FLOPs" in text
    conv_line = next(line for line in text.splitlines() if line.startswith("0 "))
    assert conv_line.split()[-3:] == ["112", "112", f"{8 * 8 * 4 * 27:,}"]
    container_line = next(line for line in text.splitlines() if line.startswith("4 "))
    assert container_line.split()[-3:] == ["--", "--", "--"]
    assert "rows" not in repr(s) and f"{macs:,} MACs" in repr(s)


def test_print_table_false_prints_nothing(capsys):
    s = summary(small_net(), (3, 10, 10), print_table=False)
    assert capsys.readouterr().out == "" and isinstance(s, Summary)


@pytest.mark.parametrize("input_shape", [(28, 28), (1, 3, 28, 28), (3, 0, 28), (3, -1, 2),
                                         (3, 2.0, 2), (True, 4, 4), "3x28x28", None])
def test_a_bad_input_shape_is_a_value_error_naming_it(input_shape):
    with pytest.raises(ValueError, match="input_shape must be \\(C, H, W\\)"):
        run(nn.Conv2d(3, 4, 1), input_shape)


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="model must be a minicnn.nn.Module, got function"):
        run(lambda x: x, (1, 2, 2))
    for depth in (-1, 1.5, True):
        with pytest.raises(ValueError, match="depth must be None or an int >= 0"):
            run(nn.ReLU(), (1, 2, 2), depth=depth)
    assert run(nn.ReLU(), [1, 2, np.int64(2)]).output_shape == (1, 1, 2, 2)


def test_exported_from_the_package():
    assert minicnn.summary is summary and "summary" in minicnn.__all__


# --- an independent oracle: PyTorch's FLOP counter (2 FLOPs per MAC, conv and matmul only) ---
def test_against_pytorch_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    def layers(lib):
        return [lib.Conv2d(3, 8, 3, stride=2, padding=1), lib.ReLU(),
                lib.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False),
                lib.Conv2d(8, 12, (1, 5), groups=4), lib.MaxPool2d(2), lib.Flatten(),
                lib.Linear(12 * 4 * 3, 16), lib.Linear(16, 5)]

    ours = run(nn.Sequential(*layers(nn)), (3, 17, 21))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = torch.nn.Sequential(*layers(torch.nn))(torch.zeros(1, 3, 17, 21))
    assert ours.output_shape == tuple(out.shape)
    assert 2 * ours.total_macs == counter.get_total_flops() > 0


# --- the architectures ------------------------------------------------------------------------
def test_lenet5_hand_computed():
    s = run(models.lenet5(), (1, 32, 32))
    assert s.total_params == 61_706
    conv = 28 * 28 * 6 * 1 * 25 + 10 * 10 * 16 * 6 * 25
    fc = 400 * 120 + 120 * 84 + 84 * 10
    assert s.total_macs == conv + fc == 416_520
    shapes = [row.output_shape for row in s.rows if row.type in ("Conv2d", "Linear")]
    assert shapes == [(1, 6, 28, 28), (1, 16, 10, 10), (1, 120), (1, 84), (1, 10)]


def test_resnet20_hand_computed():
    s = run(models.resnet20(), (3, 32, 32))
    assert s.total_params == 269_722  # He et al. 2015, table 6: 0.27M
    conv3x3 = lambda size, c_in, c_out: size * size * c_out * c_in * 9  # noqa: E731
    stem = conv3x3(32, 3, 16)
    stage1 = 6 * conv3x3(32, 16, 16)
    stage2 = conv3x3(16, 16, 32) + 5 * conv3x3(16, 32, 32)  # shortcut A: zero padding, no MACs
    stage3 = conv3x3(8, 32, 64) + 5 * conv3x3(8, 64, 64)
    assert s.total_macs == stem + stage1 + stage2 + stage3 + 64 * 10 == 40_551_040
    by_stage = {row.name: row.macs for row in run(models.resnet20(), (3, 32, 32), depth=1).rows}
    assert (by_stage["layer1"], by_stage["layer2"], by_stage["layer3"]) == (stage1, stage2,
                                                                              stage3)


# name: (input, published parameter count, torchvision's "_ops" in GMACs, given to 3 decimals)
TORCHVISION_FIGURES = {
    "alexnet": ((3, 224, 224), 61_100_840, 0.714),
    "vgg11": ((3, 224, 224), 132_863_336, 7.609),
    "vgg11_bn": ((3, 224, 224), 132_868_840, 7.609),
    "vgg13": ((3, 224, 224), 133_047_848, 11.308),
    "vgg13_bn": ((3, 224, 224), 133_053_736, 11.308),
    "vgg16": ((3, 224, 224), 138_357_544, 15.47),
    "vgg16_bn": ((3, 224, 224), 138_365_992, 15.47),
    "vgg19": ((3, 224, 224), 143_667_240, 19.632),
    "vgg19_bn": ((3, 224, 224), 143_678_248, 19.632),
    "resnet18": ((3, 224, 224), 11_689_512, 1.814),
    "resnet34": ((3, 224, 224), 21_797_672, 3.664),
    "resnet50": ((3, 224, 224), 25_557_032, 4.089),
    "resnext50_32x4d": ((3, 224, 224), 25_028_904, 4.23),
    "googlenet": ((3, 224, 224), 13_004_888, 1.498),  # with aux heads (not run in eval)
    "inception_v3": ((3, 299, 299), 27_161_264, 5.713),
    "squeezenet1_0": ((3, 224, 224), 1_248_424, 0.819),
    "squeezenet1_1": ((3, 224, 224), 1_235_496, 0.349),
    "mobilenet_v2": ((3, 224, 224), 3_504_872, 0.301),
    "densenet121": ((3, 224, 224), 7_978_856, 2.834),
    "wide_resnet50_2": ((3, 224, 224), 68_883_240, 11.398),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TORCHVISION_FIGURES))
def test_published_parameter_counts_and_torchvisions_mac_figures(name):
    if name not in models.__all__:
        pytest.skip(f"{name} is not in minicnn.models yet")
    input_shape, params, gmacs = TORCHVISION_FIGURES[name]
    s = run(models.get_model(name), input_shape)
    assert s.total_params == params
    assert abs(s.total_macs / 1e9 - gmacs) <= 0.0005, s.total_macs  # equal to 3 decimals
    assert s.output_shape == (1, 1000)
    assert_rows_sum_to_totals(s)


@pytest.mark.slow
def test_googlenet_without_aux_heads_has_the_same_macs():
    s = run(models.googlenet(aux_logits=False), (3, 224, 224))
    assert s.total_params == 6_624_904
    assert abs(s.total_macs / 1e9 - 1.498) <= 0.0005


@pytest.mark.slow
def test_mobilenet_v1_has_the_papers_569_million_mult_adds():
    if "mobilenet_v1" not in models.__all__:
        pytest.skip("mobilenet_v1 is not in minicnn.models yet")
    s = run(models.mobilenet_v1(), (3, 224, 224))
    assert s.total_params == 4_231_976  # Howard et al. 2017, table 8: 4.2 million
    assert round(s.total_macs / 1e6) == 569  # table 8: 569 million mult-adds


@pytest.mark.slow
def test_se_resnet50_adds_the_se_blocks_fully_connected_macs_to_resnet50s():
    """Each SE block's two 1x1 convolutions on the 1x1 squeeze cost 2 C^2 / 16 MACs: 2,514,944
    over the 16 blocks, on top of ResNet-50's 4,089,184,256 (Hu et al.: 3.87 against 3.86
    GFLOPs for their v1 networks, "a 0.26% relative increase")."""
    s = run(models.se_resnet50(), (3, 224, 224))
    assert s.total_params == 28_088_024
    se_macs = sum(blocks * 2 * c * c // 16 for blocks, c in [(3, 256), (4, 512), (6, 1024),
                                                             (3, 2048)])
    assert se_macs == 2_514_944
    assert s.total_macs == 4_089_184_256 + se_macs
    assert_rows_sum_to_totals(s)


@pytest.mark.slow
def test_wide_resnet28_10_on_cifar():
    """36.5M parameters (Zagoruyko & Komodakis, table 4) and 5.24 billion MACs at 32x32:
    per 3x3 convolution OH * OW * C_out * C_in * 9, summed by hand stage by stage."""
    s = run(models.wide_resnet28_10(), models.input_shape("wide_resnet28_10"))
    assert s.total_params == 36_479_194
    conv3x3 = (32 * 32 * 160 * 9 * (16 + 7 * 160)             # stage 1: 8 convolutions at 32x32
               + 16 * 16 * 320 * 9 * (160 + 7 * 320)          # stage 2 at 16x16
               + 8 * 8 * 640 * 9 * (320 + 7 * 640))           # stage 3 at 8x8
    stem = 32 * 32 * 16 * 3 * 9
    projections = 32 * 32 * 160 * 16 + 16 * 16 * 320 * 160 + 8 * 8 * 640 * 320  # 1x1
    fc = 640 * 10
    assert s.total_macs == stem + conv3x3 + projections + fc == 5_243_328_768
    assert s.output_shape == (1, 10)
    assert_rows_sum_to_totals(s)
