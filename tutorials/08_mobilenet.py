# %% [markdown]
# # 8. MobileNet: depthwise-separable convolutions
#
# A standard convolution does two jobs at once: it filters each input channel spatially, and
# it combines channels into new features. MobileNet (Howard et al., 2017) splits the two:
#
# 1. a **depthwise** convolution filters each channel on its own with a $k \times k$ kernel
#    (`groups = C_in`);
# 2. a **pointwise** (1x1) convolution mixes the channels.
#
# The pair is a *depthwise-separable* convolution. It costs a fraction
# $\frac{1}{C_\text{out}} + \frac{1}{k^2}$ of a standard one, about 1/8 to 1/9 for 3x3 kernels.
# This notebook derives that ratio, measures it exactly with `minicnn.summary`, times both,
# and reads MobileNet-v1's summary.

# %%
import time
from fractions import Fraction

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.data import BuiltinDigits
from minicnn.models import mobilenet_v1

# %% [markdown]
# ## Depthwise convolution: one filter per channel
#
# With `groups = C`, a convolution splits its channels into C groups of one: output channel
# $c$ sees only input channel $c$. The weight has shape (C, 1, k, k): one $k \times k$ filter
# per channel and nothing that mixes channels. Here a 3-channel input (the same digit three
# times) goes through three different filters at once:

# %%
digits = BuiltinDigits(train=False, size=8)
digit = digits.images[:1].astype(np.float32) / 255                      # (1, 1, 28, 28)
three_channels = minicnn.tensor(np.repeat(digit, 3, axis=1))             # (1, 3, 28, 28)

blur = np.full((3, 3), 1 / 9)
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 4
depthwise_weight = np.stack([blur, sobel_x, sobel_x.T])[:, None].astype(np.float32)
print("depthwise weight:", depthwise_weight.shape, "= (C, 1, k, k)")

filtered = F.conv2d(three_channels, minicnn.tensor(depthwise_weight), padding=1, groups=3)

# the same as filtering each channel separately
one_by_one = [F.conv2d(three_channels[:, c:c + 1], minicnn.tensor(depthwise_weight[c:c + 1]),
                       padding=1).data for c in range(3)]
assert np.allclose(filtered.data, np.concatenate(one_by_one, axis=1))

fig, axes = plt.subplots(1, 4, figsize=(9, 2.5))
axes[0].imshow(digit[0, 0], cmap="gray")
axes[0].set_title("input (x3 channels)", fontsize=9)
edge_limit = np.abs(filtered.data[0, 1:]).max()
for c, title in enumerate(["channel 0: blur", "channel 1: Sobel x", "channel 2: Sobel y"]):
    if c == 0:
        axes[c + 1].imshow(filtered.data[0, c], cmap="gray")
    else:
        axes[c + 1].imshow(filtered.data[0, c], cmap="RdBu_r", vmin=-edge_limit, vmax=edge_limit)
    axes[c + 1].set_title(title, fontsize=9)
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The cost ratio
#
# For an $H \times W$ output (stride and padding alike in both), $C_\text{in}$ input and
# $C_\text{out}$ output channels and a $k \times k$ kernel:
#
# * standard convolution: $H W \cdot C_\text{out} \cdot C_\text{in} k^2$ MACs;
# * depthwise: $H W \cdot C_\text{in} \cdot k^2$ (each output channel reads one input
#   channel); pointwise: $H W \cdot C_\text{out} \cdot C_\text{in}$.
#
# $$\frac{\text{depthwise} + \text{pointwise}}{\text{standard}}
#   = \frac{H W C_\text{in} (k^2 + C_\text{out})}{H W C_\text{in} C_\text{out} k^2}
#   = \frac{1}{C_\text{out}} + \frac{1}{k^2}.$$
#
# The parameters (without biases) have the same ratio, with $H W$ left out. `summary` counts
# MACs per layer with groups taken into account, so the ratio it measures should be this
# fraction *exactly*:

# %%
def standard_conv(c_in, c_out, k, stride):
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)


def separable_conv(c_in, c_out, k, stride):
    return nn.Sequential(nn.Conv2d(c_in, c_in, k, stride=stride, padding=k // 2, groups=c_in,
                                   bias=False),
                         nn.Conv2d(c_in, c_out, 1, bias=False))


print(f"{'C_in':>5s} {'C_out':>5s} {'k':>2s} {'H':>4s} {'s':>2s}  {'standard MACs':>14s} "
      f"{'separable MACs':>15s}  {'ratio':>7s}  {'1/C_out + 1/k^2':>15s}")
measured_points = []
for c_in, c_out, k, size, stride in [(32, 64, 3, 56, 1), (128, 128, 3, 28, 2),
                                     (512, 512, 3, 14, 1), (64, 256, 5, 28, 1),
                                     (256, 512, 7, 14, 1)]:
    standard = minicnn.summary(standard_conv(c_in, c_out, k, stride), (c_in, size, size),
                               print_table=False)
    separable = minicnn.summary(separable_conv(c_in, c_out, k, stride), (c_in, size, size),
                                print_table=False)
    measured = Fraction(separable.total_macs, standard.total_macs)
    predicted = Fraction(1, c_out) + Fraction(1, k * k)
    assert measured == predicted
    measured_points.append((c_out, k, float(measured)))
    assert Fraction(separable.total_params, standard.total_params) == predicted
    print(f"{c_in:5d} {c_out:5d} {k:2d} {size:4d} {stride:2d}  {standard.total_macs:14,} "
          f"{separable.total_macs:15,}  {float(measured):7.4f}  {str(predicted):>15s}")

# %% [markdown]
# Every measured ratio equals the formula as a fraction, not just approximately. With many
# channels the $1/C_\text{out}$ term vanishes and the saving approaches $k^2$: about 9 times
# for 3x3 kernels, 49 times for 7x7.

# %%
c_out_axis = np.arange(8, 1025)
fig, ax = plt.subplots(figsize=(6, 3.2))
for colour, k in zip(["C0", "C1", "C2"], (3, 5, 7)):
    ax.plot(c_out_axis, 1 / c_out_axis + 1 / k ** 2, color=colour, label=f"k = {k}")
    ax.axhline(1 / k ** 2, color="grey", ls=":", lw=0.8)
    points = [(c, ratio) for c, kernel, ratio in measured_points if kernel == k]
    ax.plot(*zip(*points), "o", color=colour, ms=6)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel(r"$C_\mathrm{out}$")
ax.set_ylabel("separable / standard MACs")
ax.set_title(r"$1/C_\mathrm{out} + 1/k^2$; dots: measured by summary; dotted: $1/k^2$",
             fontsize=10)
ax.legend()
plt.show()

# %% [markdown]
# ## Timing
#
# Fewer MACs does not always mean proportionally less time. We time both on a batch of 16
# feature maps of 28 x 28 with 128 channels, and the two halves of the separable one apart.
# (The machine may be busy: read the ratios, not the milliseconds.)

# %%
def forward_time(module, x, repeats=5):
    """Best-of-``repeats`` time of one forward pass, in milliseconds."""
    with minicnn.no_grad():
        module(x)                               # warm-up: compiles kernels on first use
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - start)
    return 1e3 * min(times)


C, SIZE, BATCH = 128, 28, 16
x = minicnn.tensor(np.random.default_rng(0).standard_normal((BATCH, C, SIZE, SIZE))
                   .astype(np.float32))
standard, separable = standard_conv(C, C, 3, 1), separable_conv(C, C, 3, 1)
layers = {"standard 3x3": standard, "depthwise-separable": separable,
          "  depthwise 3x3 part": separable[0], "  pointwise 1x1 part": separable[1]}
print(f"{'':22s} {'MACs (batch)':>14s} {'time (ms)':>10s} {'GMAC/s':>8s}")
results = {}
for name, layer in layers.items():
    macs = BATCH * minicnn.summary(layer, (C, SIZE, SIZE), print_table=False).total_macs
    ms = forward_time(layer, x)
    results[name] = (macs, ms)
    print(f"{name:22s} {macs:14,} {ms:10.2f} {macs / ms / 1e6:8.2f}")
mac_ratio = results["depthwise-separable"][0] / results["standard 3x3"][0]
time_ratio = results["depthwise-separable"][1] / results["standard 3x3"][1]
print(f"\nseparable / standard: {mac_ratio:.3f} of the MACs, {time_ratio:.3f} of the time")
assert np.isclose(mac_ratio, 1 / 128 + 1 / 9)

# %% [markdown]
# The depthwise part does few MACs per value it reads (9 per input value, against 128 x 9 for
# the standard convolution), so it is limited by memory traffic rather than arithmetic, and
# runs at a much lower GMAC/s than the others. That is why the time saved is usually less than
# the MACs saved. minicnn runs depthwise convolutions with a direct loop kernel rather than
# im2col + GEMM for the same reason (copying every pixel 9 times to feed a tiny matrix product
# would cost more than the arithmetic).
#
# ## MobileNet-v1
#
# MobileNet-v1 is a 3x3 stride-2 convolution followed by 13 depthwise-separable blocks (each
# depthwise 3x3 + batch norm + ReLU, then pointwise 1x1 + batch norm + ReLU), global average
# pooling and one linear layer. At 224 x 224 and 1000 classes:

# %%
model = mobilenet_v1()
model_summary = minicnn.summary(model, (3, 224, 224), depth=1)
assert model_summary.total_params == 4_231_976            # the paper's 4.2 million
assert round(model_summary.total_macs / 1e6) == 569       # the paper's 569 million mult-adds

# %% [markdown]
# Where do the MACs and the parameters go? The paper's table 2 splits them by layer type.
# We classify every layer of the summary the same way. (The paper's parameter shares count
# weights only: no batch norm, no bias. We do the same.)

# %%
modules = dict(model.named_modules())


def layer_kind(module):
    if isinstance(module, nn.Linear):
        return "fully connected"
    if isinstance(module, nn.Conv2d):
        if module.groups > 1:
            return "depthwise 3x3"
        return "pointwise 1x1" if module.kernel_size == (1, 1) else "standard 3x3 (stem)"
    return None


full_summary = minicnn.summary(model, (3, 224, 224), print_table=False)   # one row per layer
macs_by_kind, params_by_kind = {}, {}
for row in full_summary.rows:
    kind = layer_kind(modules[row.name])
    if kind is not None:
        macs_by_kind[kind] = macs_by_kind.get(kind, 0) + row.macs
        params_by_kind[kind] = params_by_kind.get(kind, 0) + modules[row.name].weight.numel()
total_macs, total_weights = sum(macs_by_kind.values()), sum(params_by_kind.values())
assert total_macs == full_summary.total_macs

paper = {"pointwise 1x1": (94.86, 74.59), "depthwise 3x3": (3.06, 1.06),
         "standard 3x3 (stem)": (1.19, 0.02), "fully connected": (0.18, 24.33)}
print(f"{'layer type':22s} {'MACs %':>7s} {'paper':>6s}   {'params %':>8s} {'paper':>6s}")
shares = {}
for kind, (paper_macs, paper_params) in paper.items():
    shares[kind] = (100 * macs_by_kind[kind] / total_macs,
                    100 * params_by_kind[kind] / total_weights)
    print(f"{kind:22s} {shares[kind][0]:7.2f} {paper_macs:6.2f}   {shares[kind][1]:8.2f} "
          f"{paper_params:6.2f}")

for kind, (paper_macs, paper_params) in paper.items():
    assert abs(shares[kind][1] - paper_params) < 0.01
    if kind != "standard 3x3 (stem)":
        assert abs(shares[kind][0] - paper_macs) < 0.01
# the paper's 1.19% for the stem is 1.91% with its digits swapped; only 1.91 sums to 100
assert abs(shares["standard 3x3 (stem)"][0] - 1.91) < 0.01
assert abs(sum(mac for mac, _ in paper.values()) - 100) > 0.5

# %% [markdown]
# Almost all of the computation (95%) and three quarters of the parameters are in the 1x1
# convolutions: the depthwise 3x3s, which do all the spatial filtering, cost 3% of the MACs.
# (The paper prints 1.19% for the stem convolution; its own column only sums to 100% with
# 1.91%, which is what we measure.)
#
# ## Width multiplier
#
# MobileNet's knob for smaller models is the width multiplier $\alpha$: every layer gets
# $\alpha$ times the channels. Since the pointwise convolutions dominate and their cost is
# $\propto C_\text{in} C_\text{out}$, MACs and parameters fall roughly as $\alpha^2$. The
# paper's table 6 reports, for $\alpha$ = 1, 0.75, 0.5, 0.25:

# %%
paper_table6 = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
print(f"{'alpha':>5s} {'million MACs':>13s} {'paper':>6s} {'million params':>15s} {'paper':>6s}"
      f"  {'MACs / alpha^2 (M)':>18s}")
width_macs = {}
for alpha, (paper_macs, paper_params) in paper_table6.items():
    s = minicnn.summary(mobilenet_v1(width_mult=alpha), (3, 224, 224), print_table=False)
    width_macs[alpha] = s.total_macs
    print(f"{alpha:5.2f} {s.total_macs / 1e6:13.1f} {paper_macs:6d} {s.total_params / 1e6:15.2f} "
          f"{paper_params:6.1f}  {s.total_macs / 1e6 / alpha ** 2:18.0f}")
    assert round(s.total_macs / 1e6) == paper_macs
    assert round(s.total_params / 1e6, 1) == paper_params

# %% [markdown]
# MACs divided by $\alpha^2$ stay near 569 million (a little above it for small $\alpha$: the
# stem convolution and the classifier do not shrink quadratically).
#
# ## Summary
#
# * A depthwise convolution (`groups = C_in`, weight (C, 1, k, k)) filters each channel alone;
#   a pointwise 1x1 convolution then mixes channels.
# * Together they cost $\frac{1}{C_\text{out}} + \frac{1}{k^2}$ of a standard convolution, in
#   MACs and in parameters: `minicnn.summary` measures exactly this fraction.
# * The time saved is less than the MACs saved: the depthwise part is memory-bound.
# * In MobileNet-v1, 95% of the 569 million MACs are in the 1x1 convolutions.
