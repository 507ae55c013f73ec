# %% [markdown]
# # 7. Inception and 1x1 convolutions
#
# GoogLeNet (Szegedy et al., 2014) won ImageNet 2014 with 12 times fewer parameters than
# AlexNet. Its building block, the **Inception module**, runs 1x1, 3x3 and 5x5 convolutions
# and a pooling side by side and concatenates their outputs. Done naively that is expensive;
# the trick that makes it affordable is the **1x1 convolution** used as a bottleneck.
# Inception-v3 (2015) went further and *factorised* large kernels: a 5x5 into two 3x3, a 7x7
# into a 1x7 and a 7x1.
#
# This notebook counts the multiply-accumulates (MACs) of each idea with `minicnn.summary`,
# checks the counts against the formula, and times them.
#
# The cost of a convolution, per image:
#
# $$\text{MACs} = H_\text{out}\, W_\text{out}\, C_\text{out} \cdot \frac{C_\text{in}}{g}\, K_H K_W$$
#
# (one multiply-accumulate per kernel tap per output value; `summary` counts exactly this, for
# convolution and linear layers).

# %%
import time
from fractions import Fraction

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.models.blocks import Inception


def conv_macs(h_out, w_out, c_out, c_in, kh, kw, groups=1):
    return h_out * w_out * c_out * (c_in // groups) * kh * kw


def forward_time(module, input_shape, batch=8, repeats=3):
    """Best-of-``repeats`` time of one forward pass on a random batch, in milliseconds."""
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((batch,) + input_shape)
                       .astype(np.float32))
    module.eval()
    with minicnn.no_grad():
        module(x)                                  # warm-up (compiles kernels on first use)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - start)
    return 1e3 * min(times)

# %% [markdown]
# ## A 1x1 convolution mixes channels
#
# A 1x1 convolution looks at one pixel at a time: at every position it computes a linear
# combination of the input channels. It is a fully connected layer from $C_\text{in}$ to
# $C_\text{out}$ channels, applied at every pixel with the same weights:

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 192, 7, 7))
w = rng.standard_normal((16, 192, 1, 1))
by_conv = F.conv2d(minicnn.tensor(x), minicnn.tensor(w)).data
by_matmul = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)       # a matrix product per pixel
assert np.allclose(by_conv, by_matmul)
print("1x1 conv, 192 -> 16 channels:", x.shape, "->", by_conv.shape)

# %% [markdown]
# It leaves the image size alone and changes the depth: with fewer output channels than input
# channels it *compresses*, and a large convolution placed after it has far fewer input
# channels to read.
#
# ## The bottleneck: 120,422,400 against 12,443,648
#
# The classic example: a 28 x 28 x 192 input (GoogLeNet's inception 3a), and 32 output
# channels of a 5x5 'same' convolution.
#
# * Directly: $28 \cdot 28 \cdot 32 \cdot 192 \cdot 25 = 120{,}422{,}400$ MACs.
# * Through a 1x1 bottleneck to 16 channels first:
#   $28 \cdot 28 \cdot 16 \cdot 192 + 28 \cdot 28 \cdot 32 \cdot 16 \cdot 25
#   = 2{,}408{,}448 + 10{,}035{,}200 = 12{,}443{,}648$ MACs, ten times fewer.

# %%
direct = nn.Conv2d(192, 32, 5, padding="same")
bottleneck = nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding="same"))

direct_summary = minicnn.summary(direct, (192, 28, 28))
bottleneck_summary = minicnn.summary(bottleneck, (192, 28, 28))

assert direct_summary.total_macs == conv_macs(28, 28, 32, 192, 5, 5) == 120_422_400
assert bottleneck_summary.total_macs == (conv_macs(28, 28, 16, 192, 1, 1)
                                         + conv_macs(28, 28, 32, 16, 5, 5)) == 12_443_648

# %% [markdown]
# The parameters shrink by the same order (153,632 against 15,920), and so does the time. The
# two are not the same function, of course: the bottleneck forces the 5x5 to work from a
# 16-channel summary of the input. GoogLeNet's bet, which paid off, was that this summary
# loses little.

# %%
def compare(rows, input_shape):
    """Print params, MACs and forward time of each (name, module); return the summaries."""
    print(f"{'':28s} {'params':>9s} {'MACs':>13s} {'ms (batch 8)':>13s}")
    summaries = {}
    for name, module in rows:
        s = minicnn.summary(module, input_shape, print_table=False)
        summaries[name] = s
        print(f"{name:28s} {s.total_params:9,} {s.total_macs:13,} "
              f"{forward_time(module, input_shape):13.1f}")
    return summaries


_ = compare([("5x5, 192 -> 32", direct), ("1x1 to 16, then 5x5 -> 32", bottleneck)],
            (192, 28, 28))
assert direct_summary.total_params == 153_632 and bottleneck_summary.total_params == 15_920

# %% [markdown]
# ## The Inception module
#
# GoogLeNet's module runs four branches on the same input and concatenates them along the
# channels, so the next layer sees 1x1, 3x3 and 5x5 features and a pooled summary at once.
# Every branch keeps the 28 x 28 size, which is what makes the concatenation possible.
#
# The naive version (the paper's figure 2a) puts the 3x3 and 5x5 convolutions directly on the
# 192 input channels, and passes the pooled 192 channels through; the real one (figure 2b)
# puts 1x1 reductions in front of the 3x3 and 5x5, and a 1x1 projection after the pooling.
# Here is inception (3a), with the channel counts of the paper's table 1.

# %%
class NaiveInception(nn.Module):
    """Figure 2a of the GoogLeNet paper: no 1x1 reductions."""

    def __init__(self, in_channels, ch1x1, ch3x3, ch5x5):
        super().__init__()
        self.branch1 = nn.Conv2d(in_channels, ch1x1, 1)
        self.branch2 = nn.Conv2d(in_channels, ch3x3, 3, padding=1)
        self.branch3 = nn.Conv2d(in_channels, ch5x5, 5, padding=2)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x):
        return F.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)],
                     axis=1)


naive = NaiveInception(192, 64, 128, 32)
module = Inception(192, 64, 96, 128, 16, 32, 32, branch3_kernel_size=5)   # the paper's 3a
module_summary = minicnn.summary(module, (192, 28, 28), depth=2)

# %% [markdown]
# (Each `BasicConv2d` is a convolution, a batch norm and a ReLU, as in torchvision's
# GoogLeNet. torchvision's "5x5" branch is really a 3x3, a bug kept for its published weights;
# `branch3_kernel_size=5` builds the paper's module.)
#
# The totals, by the formula:

# %%
naive_by_formula = {"1x1": conv_macs(28, 28, 64, 192, 1, 1),
                    "3x3": conv_macs(28, 28, 128, 192, 3, 3),
                    "5x5": conv_macs(28, 28, 32, 192, 5, 5), "pool": 0}
module_by_formula = {"1x1": conv_macs(28, 28, 64, 192, 1, 1),
                     "3x3": conv_macs(28, 28, 96, 192, 1, 1) + conv_macs(28, 28, 128, 96, 3, 3),
                     "5x5": conv_macs(28, 28, 16, 192, 1, 1) + conv_macs(28, 28, 32, 16, 5, 5),
                     "pool": conv_macs(28, 28, 32, 192, 1, 1)}
naive_summary = minicnn.summary(naive, (192, 28, 28), print_table=False)
assert naive_summary.total_macs == sum(naive_by_formula.values()) == 303_464_448
assert module_summary.total_macs == sum(module_by_formula.values()) == 128_049_152
print(f"naive module: {naive_summary.total_macs:,} MACs, output {naive_summary.output_shape}")
print(f"with 1x1s:    {module_summary.total_macs:,} MACs, output {module_summary.output_shape}")

fig, ax = plt.subplots(figsize=(6, 3))
positions = np.arange(4)
ax.bar(positions - 0.2, [v / 1e6 for v in naive_by_formula.values()], 0.4,
       label="naive (figure 2a)")
ax.bar(positions + 0.2, [v / 1e6 for v in module_by_formula.values()], 0.4,
       label="with 1x1 reductions (2b)")
ax.set_xticks(positions, ["1x1 branch", "3x3 branch", "5x5 branch", "pool branch"])
ax.set_ylabel("million MACs per image")
ax.set_title("Inception (3a) on 28 x 28 x 192, per branch")
ax.legend()
plt.show()

# %% [markdown]
# The naive module is also *wider* (416 output channels, since the pooling branch passes all
# 192 through), so the next module would cost even more: without the 1x1 convolutions the
# cost compounds from module to module.
#
# The output of the module is the four branches' outputs side by side: 64 + 128 + 32 + 32 =
# 256 channels. Checking that with the branches run one by one:

# %%
x = minicnn.tensor(rng.standard_normal((2, 192, 28, 28)).astype(np.float32))
module.eval()                       # batch norm with its running statistics: deterministic
with minicnn.no_grad():
    out = module(x)
    branches = [module.branch1(x), module.branch2(x), module.branch3(x), module.branch4(x)]
print("branch outputs:", [b.shape[1] for b in branches], "-> module output", out.shape)
assert out.shape == (2, 256, 28, 28)
assert np.array_equal(out.data, np.concatenate([b.data for b in branches], axis=1))

# %% [markdown]
# ## Factorising: a 5x5 as two 3x3
#
# Two stacked 3x3 convolutions see a 5 x 5 patch of the input, like one 5x5, but with
# $2 \cdot 9 = 18$ weights per channel pair instead of 25: **18/25 = 72%** of the cost
# (and two nonlinearities instead of one, in a real network). Inception-v3's `InceptionA`
# uses it; so does VGG throughout.
#
# That the receptive fields are equal can be measured: backpropagate from one output pixel and
# see which input pixels get a non-zero gradient.

# %%
def influence(layers, size=11):
    """|d centre output / d input| through ``layers`` (single channel, positive weights)."""
    x = minicnn.tensor(np.zeros((1, 1, size, size)), requires_grad=True)
    y = x
    for kernel_hw in layers:
        weight = minicnn.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (1, 1) + kernel_hw))
        y = F.conv2d(y, weight, padding="same")
    y[0, 0, size // 2, size // 2].backward()
    return np.abs(x.grad.data[0, 0])


def extent(gradient):
    rows, cols = np.nonzero(gradient)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


stacks = {"one 5x5": [(5, 5)], "two 3x3": [(3, 3), (3, 3)],
          "one 7x7": [(7, 7)], "1x7 then 7x1": [(1, 7), (7, 1)]}
influences = {name: influence(layers) for name, layers in stacks.items()}
for name, gradient in influences.items():
    print(f"{name:14s} sees a {extent(gradient)[0]} x {extent(gradient)[1]} patch")
assert extent(influences["one 5x5"]) == extent(influences["two 3x3"]) == (5, 5)
assert extent(influences["one 7x7"]) == extent(influences["1x7 then 7x1"]) == (7, 7)

fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for ax, (name, gradient) in zip(axes, influences.items()):
    ax.imshow(gradient / gradient.max(), cmap="Greens", vmin=0, vmax=1)
    ax.set_title(f"{name}: {extent(gradient)[0]} x {extent(gradient)[1]}", fontsize=9)
    ax.set_xticks(np.arange(gradient.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(gradient.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="lightgrey", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
fig.suptitle("How much each input pixel moves the centre output (|gradient|)", fontsize=10)
plt.show()

# %% [markdown]
# The patches are the same size, but the stacked 3x3 pair weights its centre more: its
# effective kernel is the convolution of the two 3x3 kernels, which peaks in the middle.

# %% [markdown]
# Now the costs, measured, for 64 -> 64 channels on a 28 x 28 map (no biases, to compare the
# weights alone):

# %%
five = nn.Conv2d(64, 64, 5, padding=2, bias=False)
two_threes = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, bias=False),
                           nn.Conv2d(64, 64, 3, padding=1, bias=False))
s = compare([("5x5", five), ("3x3 + 3x3", two_threes)], (64, 28, 28))
assert Fraction(s["3x3 + 3x3"].total_macs, s["5x5"].total_macs) == Fraction(18, 25)
assert Fraction(s["3x3 + 3x3"].total_params, s["5x5"].total_params) == Fraction(18, 25)

# %% [markdown]
# ## Factorising: a 7x7 as a 1x7 and a 7x1
#
# Going further, an $n \times n$ kernel can be replaced by a $1 \times n$ followed by an
# $n \times 1$: $2n$ weights per channel pair instead of $n^2$. For $n = 7$ that is
# **14/49 = 2/7** of the cost. Inception-v3's `InceptionC` modules do this on its 17 x 17
# grid, with 128 to 192 channels; we measure 128 -> 128 channels:

# %%
seven = nn.Conv2d(128, 128, 7, padding=3, bias=False)
one_by_seven = nn.Sequential(nn.Conv2d(128, 128, (1, 7), padding=(0, 3), bias=False),
                             nn.Conv2d(128, 128, (7, 1), padding=(3, 0), bias=False))
s = compare([("7x7", seven), ("1x7 + 7x1", one_by_seven)], (128, 17, 17))
assert s["7x7"].total_macs == conv_macs(17, 17, 128, 128, 7, 7)
assert Fraction(s["1x7 + 7x1"].total_macs, s["7x7"].total_macs) == Fraction(2, 7)
assert Fraction(s["1x7 + 7x1"].total_params, s["7x7"].total_params) == Fraction(2, 7)

# %% [markdown]
# The saving is not free. Without a nonlinearity in between, a 1x7 then a 7x1 is itself one
# 7x7 convolution, but one whose weights are tied together (2/7 of the free numbers), so it
# cannot express every 7x7 convolution. The paper reports that this works well on medium grids (12 to 20 pixels) and poorly on
# early, large ones, which is why Inception-v3 uses it only in the middle of the network.
#
# The measured times follow the MAC counts only roughly: small convolutions have fixed costs
# (copying windows, starting threads), and two layers pay them twice.
#
# ## Summary
#
# * A 1x1 convolution is a per-pixel fully connected layer over channels; as a bottleneck it
#   cut inception (3a)'s 5x5 branch from 120,422,400 to 12,443,648 MACs, and the whole module
#   from 303 million to 128 million.
# * An Inception module's output is its branches concatenated along the channels (all keep
#   the spatial size).
# * Two 3x3 see what one 5x5 sees for 18/25 of the cost; a 1x7 + 7x1 sees what a 7x7 sees for
#   2/7 of it.
