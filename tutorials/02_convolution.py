# %% [markdown]
# # 2. Convolution three ways
#
# A convolution layer slides a small kernel over the image and takes a weighted sum at every
# position. This notebook computes it three ways, checks that they agree, and times them:
#
# 1. **plain loops**, the definition (`minicnn.kernels.conv.conv2d_forward_reference`);
# 2. **im2col + GEMM**: copy every window into a column of a matrix, then do one matrix
#    product (written here in a dozen lines of NumPy);
# 3. **the fast kernel** behind `F.conv2d` (Numba im2col, BLAS matrix product).
#
# Then the bookkeeping every CNN designer needs: the output-size formula, the parameter count,
# 'same' against 'valid' padding, and stride 2.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.data import BuiltinDigits
from minicnn.kernels import conv as conv_kernels
from minicnn.kernels.geometry import resolve_padding, same_padding

digits = BuiltinDigits(train=False, size=64)
images = digits.images.astype(np.float32) / 255      # (64, 1, 28, 28), values in [0, 1]
print(digits, images.shape)

# %% [markdown]
# ## What a convolution does
#
# With input `x` of shape (N, C, H, W) and weight `w` of shape (C_out, C, KH, KW), output
# channel `co` at position (i, j) is
#
# $$\text{out}[n, c_o, i, j] = b[c_o] + \sum_{c, a, b} w[c_o, c, a, b]\;
#   x_{\text{pad}}[n, c, i\,s + a, j\,s + b].$$
#
# (Deep learning "convolution" is a cross-correlation: the kernel is not flipped.) Two
# hand-made 3x3 kernels, the Sobel filters, respond to vertical and horizontal edges:

# %%
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
edge_weight = np.stack([sobel_x, sobel_x.T])[:, None]    # (2, 1, 3, 3): two output channels
edges = F.conv2d(minicnn.tensor(images[:1]), minicnn.tensor(edge_weight), padding=1)
print("input", images[:1].shape, "-> output", edges.shape)

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
limit = np.abs(edges.data).max()
axes[0].imshow(images[0, 0], cmap="gray")
axes[0].set_title(f"digit {digits.labels[0]}", fontsize=9)
for ax, channel, title in [(axes[1], 0, "vertical edges (Sobel x)"),
                           (axes[2], 1, "horizontal edges (Sobel y)")]:
    ax.imshow(edges.data[0, channel], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(title, fontsize=9)
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Way 1: plain loops
#
# minicnn keeps a plain-loop version next to every fast kernel: it is the specification the
# fast one is tested against, and the one to read first. Its inner loop takes one window, of
# shape (C, KH, KW), multiplies it by one output channel's kernel and sums:

# %%
import inspect

source = inspect.getsource(conv_kernels.conv2d_forward_reference)
print(source[source.index("    n_size"):])

# %% [markdown]
# Our test problem: a batch of 4 digits, 8 input channels (the digit times 8 random gains, so
# the channels differ), 16 output channels, 3x3 kernels, stride 1, 'same' padding. The kernels
# take padding already resolved to `((top, bottom), (left, right))`.

# %%
rng = np.random.default_rng(0)
x64 = images[:4] * rng.uniform(0.5, 1.5, size=(1, 8, 1, 1))      # (4, 8, 28, 28) float64
w64 = rng.standard_normal((16, 8, 3, 3)) / np.sqrt(8 * 9)
b64 = rng.standard_normal(16) * 0.1
stride, dilation = (1, 1), (1, 1)
padding = resolve_padding("same", x64.shape[2:], w64.shape[2:])
print("padding 'same' for a 3x3 kernel:", padding)

out_loops = conv_kernels.conv2d_forward_reference(x64, w64, b64, stride, padding, dilation, 1)
print("output", out_loops.shape)

# %% [markdown]
# ## Way 2: im2col + GEMM
#
# The loops compute N x C_out x OH x OW dot products of length C x KH x KW. Arrange them as a
# single matrix product:
#
# * **im2col** copies each window into a column: one column per output pixel of every image,
#   a matrix of shape (C x KH x KW, N x OH x OW);
# * the weight, reshaped to (C_out, C x KH x KW), times that matrix gives (C_out, N x OH x OW):
#   the output, one row per channel.
#
# The copy loops only over the KH x KW kernel offsets: for offset (a, b), the pixels each
# window reads there form one strided slice of the padded images.

# %%
def im2col(x, kernel_hw, stride, padding):
    """Windows as columns: (N, C, H, W) -> (C * KH * KW, N * OH * OW)."""
    (kh, kw), (sh, sw) = kernel_hw, stride
    n, c = x.shape[:2]
    x_pad = np.pad(x, ((0, 0), (0, 0)) + tuple(padding)).transpose(1, 0, 2, 3)  # (C, N, H', W')
    oh = (x_pad.shape[2] - kh) // sh + 1
    ow = (x_pad.shape[3] - kw) // sw + 1
    cols = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            cols[:, a, b] = x_pad[:, :, a:a + sh * oh:sh, b:b + sw * ow:sw]
    return cols.reshape(c * kh * kw, n * oh * ow)  # (C, KH, KW, N, OH, OW) -> (C*KH*KW, N*OH*OW)


def conv2d_im2col(x, weight, bias, stride, padding):
    n, (c_out, _, kh, kw) = x.shape[0], weight.shape
    oh = (x.shape[2] + sum(padding[0]) - kh) // stride[0] + 1
    cols = im2col(x, (kh, kw), stride, padding)                       # (C*KH*KW, N*OH*OW)
    out = weight.reshape(c_out, -1) @ cols + bias[:, None]            # (C_out, N*OH*OW)
    # (C_out, N*OH*OW) -> (C_out, N, OH, OW) -> (N, C_out, OH, OW)
    return out.reshape(c_out, n, oh, -1).transpose(1, 0, 2, 3)


cols = im2col(x64, (3, 3), stride, padding)
print("im2col matrix:", cols.shape, "= (C*KH*KW, N*OH*OW) =", (8 * 3 * 3, 4 * 28 * 28))
assert cols.shape == (8 * 3 * 3, 4 * 28 * 28)
out_im2col = conv2d_im2col(x64, w64, b64, stride, padding)

# minicnn's own im2col (a Numba kernel) builds the same matrix, shaped (C*KH*KW, N, OH*OW)
kernel_cols = conv_kernels.im2col(x64, (3, 3), stride, padding, dilation)
assert np.array_equal(cols, kernel_cols.reshape(cols.shape))

# %% [markdown]
# Here is the im2col matrix of one digit (one channel, 3x3 windows): 9 rows, one per kernel
# offset, each row the whole image shifted by that offset and flattened. The product with a
# (C_out, 9) weight matrix is the convolution. The price is memory: every pixel is copied
# KH x KW times.

# %%
digit_cols = im2col(images[:1], (3, 3), (1, 1), ((1, 1), (1, 1)))     # (9, 784)
fig, ax = plt.subplots(figsize=(9, 2.4))
ax.imshow(digit_cols[:, 28 * 6:28 * 22], aspect="auto", cmap="gray", interpolation="nearest")
ax.set_yticks(range(9), [f"offset ({a - 1:+d}, {b - 1:+d})" for a in range(3) for b in range(3)],
              fontsize=7)
ax.set_xlabel("output position (image rows 6 to 21, flattened)")
ax.set_title("im2col of one digit: each row is the image shifted by one kernel offset",
             fontsize=10)
plt.show()

# %% [markdown]
# ## Way 3: the fast kernel
#
# `F.conv2d` takes tensors and records the op for backward; underneath it runs im2col as a
# Numba kernel and the product as one batched BLAS GEMM (and uses direct loops for depthwise
# convolutions, see tutorial 8). All three agree to float64 rounding:

# %%
out_fast = F.conv2d(minicnn.tensor(x64), minicnn.tensor(w64), minicnn.tensor(b64),
                    padding="same").data
for name, other in [("im2col + GEMM", out_im2col), ("F.conv2d", out_fast)]:
    error = np.abs(other - out_loops).max()
    print(f"{name:14s} max |difference| from the loops: {error:.1e}")
    assert np.allclose(other, out_loops, rtol=1e-12, atol=1e-12)

# %% [markdown]
# ### Timing
#
# The same problem in float32 (what training uses), best of a few runs. (The machine may be
# busy: read the ratios, not the milliseconds.)

# %%
def best_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


x32, w32, b32 = x64.astype(np.float32), w64.astype(np.float32), b64.astype(np.float32)
xt, wt, bt = minicnn.tensor(x32), minicnn.tensor(w32), minicnn.tensor(b32)
F.conv2d(xt, wt, bt, padding="same")        # the first call compiles the Numba kernels
timings = {
    "plain loops": best_time(lambda: conv_kernels.conv2d_forward_reference(
        x32, w32, b32, stride, padding, dilation, 1), repeats=1),
    "im2col + GEMM (NumPy)": best_time(lambda: conv2d_im2col(x32, w32, b32, stride, padding)),
    "F.conv2d": best_time(lambda: F.conv2d(xt, wt, bt, padding="same")),
}
macs = 4 * 16 * 28 * 28 * 8 * 3 * 3
print(f"conv 3x3, 8 -> 16 channels, 4 x 28 x 28, float32: {macs:,} multiply-adds\n")
print(f"{'method':24s} {'time (ms)':>10s} {'vs loops':>9s} {'GMAC/s':>8s}")
for name, seconds in timings.items():
    print(f"{name:24s} {1e3 * seconds:10.2f} {timings['plain loops'] / seconds:8.0f}x "
          f"{macs / seconds / 1e9:8.2f}")

# %% [markdown]
# The loops spend their time in the Python interpreter, one small dot product at a time; the
# other two hand the arithmetic to an optimised matrix product (BLAS). On a problem this small,
# fixed costs (argument checks, recording the op, waking threads, which is slow on a busy
# machine) weigh as much as the arithmetic. A layer of the size met in training, 32 images,
# 32 -> 64 channels, compares the two fast ways:

# %%
x_big = rng.standard_normal((32, 32, 28, 28)).astype(np.float32)
w_big = (rng.standard_normal((64, 32, 3, 3)) / np.sqrt(32 * 9)).astype(np.float32)
b_big = np.zeros(64, np.float32)
xt_big, wt_big, bt_big = minicnn.tensor(x_big), minicnn.tensor(w_big), minicnn.tensor(b_big)
assert np.allclose(conv2d_im2col(x_big, w_big, b_big, stride, padding),
                   F.conv2d(xt_big, wt_big, bt_big, padding="same").data, atol=1e-4)
big_timings = {
    "im2col + GEMM (NumPy)": best_time(lambda: conv2d_im2col(x_big, w_big, b_big, stride, padding)),
    "F.conv2d": best_time(lambda: F.conv2d(xt_big, wt_big, bt_big, padding="same")),
}
big_macs = 32 * 64 * 28 * 28 * 32 * 3 * 3
print(f"conv 3x3, 32 -> 64 channels, 32 x 28 x 28, float32: {big_macs:,} multiply-adds\n")
print(f"{'method':24s} {'time (ms)':>10s} {'GMAC/s':>8s}")
for name, seconds in big_timings.items():
    print(f"{name:24s} {1e3 * seconds:10.2f} {big_macs / seconds / 1e9:8.2f}")

# %% [markdown]
# Here the matrix product dominates, and the two fast ways are close: they do the same GEMM.
# What minicnn's kernel adds is memory discipline (the batch goes through in chunks whose
# columns fit in cache, so a big batch does not need a giant matrix) and a backward pass.
#
# ## Output size
#
# Along one axis, with input size $n$, kernel $k$, stride $s$, dilation $d$ and padding
# $p_\text{before}, p_\text{after}$, the kernel spans $d(k-1)+1$ cells and fits
#
# $$\text{out} = \left\lfloor \frac{n + p_\text{before} + p_\text{after} - d(k-1) - 1}{s}
#   \right\rfloor + 1$$
#
# times. minicnn computes it in one place, `minicnn/kernels/geometry.py`, exposed as
# `F.conv_output_size`. Our own one-liner agrees with it, and with the shapes `F.conv2d`
# returns:

# %%
def output_size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


for n, k, s, p, d in [(28, 5, 1, 0, 1), (28, 3, 2, 1, 1), (224, 7, 2, 3, 1), (227, 11, 4, 0, 1),
                      (32, 3, 1, 2, 2), (13, 3, 2, 0, 1), (8, 3, 2, 0, 1)]:
    ours = output_size(n, k, s, p, d)
    assert F.conv_output_size(n, k, stride=s, padding=p, dilation=d) == (ours, ours)
    x_probe = minicnn.tensor(np.zeros((1, 1, n, n), np.float32))
    w_probe = minicnn.tensor(np.zeros((1, 1, k, k), np.float32))
    assert F.conv2d(x_probe, w_probe, stride=s, padding=p, dilation=d).shape[2:] == (ours, ours)
    print(f"n={n:3d} k={k:2d} s={s} p={p} d={d}  ->  {ours}")

# %% [markdown]
# (AlexNet's first layer, 227 with an 11x11 kernel at stride 4, gives 55; a 224 input there
# would not divide evenly, a famous inconsistency in the paper.)
#
# ## Parameter count
#
# Each output channel has one kernel of C_in / groups x KH x KW weights, plus one bias:
#
# $$\text{params} = C_\text{out} \cdot \frac{C_\text{in}}{g} \cdot K_H K_W + C_\text{out}.$$

# %%
def conv_params(c_in, c_out, kernel_hw, groups=1, bias=True):
    return c_out * (c_in // groups) * kernel_hw[0] * kernel_hw[1] + (c_out if bias else 0)


for c_in, c_out, kernel_hw, groups, bias in [(3, 64, (7, 7), 1, False), (64, 64, (3, 3), 1, True),
                                             (192, 16, (1, 1), 1, True), (128, 128, (1, 7), 1, True),
                                             (32, 32, (3, 3), 32, False), (64, 128, (3, 3), 4, True)]:
    layer = nn.Conv2d(c_in, c_out, kernel_hw, groups=groups, bias=bias)
    counted = sum(p.numel() for p in layer.parameters())
    assert counted == conv_params(c_in, c_out, kernel_hw, groups, bias)
    print(f"Conv2d({c_in:3d}, {c_out:3d}, {kernel_hw}, groups={groups:2d}, bias={bias!s:5}): "
          f"{counted:7,} parameters")

# %% [markdown]
# Note what the count does *not* depend on: the image size. The same 9 x C_in x C_out weights
# are used at every position (weight sharing), which is why convolutions need so few
# parameters compared with a fully connected layer on the same image.
#
# ## 'valid' against 'same'
#
# 'valid' means no padding: the output shrinks by $k - 1$. 'same' pads so that, at stride 1,
# the output has the input's size: $k - 1$ cells in total, split evenly.

# %%
blur = minicnn.tensor(np.full((1, 1, 5, 5), 1 / 25, dtype=np.float32))
digit = minicnn.tensor(images[:1])
valid = F.conv2d(digit, blur, padding="valid")
same = F.conv2d(digit, blur, padding="same")
print("valid:", valid.shape, "  same:", same.shape, "  'same' pads",
      resolve_padding("same", (28, 28), (5, 5)))
assert valid.shape == (1, 1, 24, 24) and same.shape == (1, 1, 28, 28)
# the centre agrees: 'same' only adds the border positions
assert np.allclose(same.data[0, 0, 2:-2, 2:-2], valid.data[0, 0])

fig, axes = plt.subplots(1, 2, figsize=(5.5, 2.8))
for ax, (out, title) in zip(axes, [(valid, "'valid': 24 x 24"), (same, "'same': 28 x 28")]):
    ax.imshow(out.data[0, 0], cmap="gray", extent=(0, out.shape[3], out.shape[2], 0))
    ax.set_xlim(0, 28)
    ax.set_ylim(28, 0)
    ax.set_title(f"5x5 blur, {title}", fontsize=9)
plt.show()

# %% [markdown]
# ## Stride 2
#
# With stride $s$, 'same' means $\lceil n / s \rceil$ outputs (TensorFlow's rule, which minicnn
# follows for every stride; PyTorch refuses 'same' when $s > 1$). The padding it needs:
#
# $$p_\text{total} = \max\big((\text{out} - 1)\,s + k - n,\; 0\big),\quad
#   p_\text{top} = \lfloor p_\text{total}/2 \rfloor,\quad
#   p_\text{bottom} = p_\text{total} - p_\text{top}.$$
#
# Worked out for our digits, $n = 28$, $k = 3$, $s = 2$: out $= \lceil 28/2 \rceil = 14$,
# $p_\text{total} = \max(13 \cdot 2 + 3 - 28, 0) = 1$, so **0 on top and 1 at the bottom**: the
# odd cell goes bottom/right. For ResNet's stem, $n = 224$, $k = 7$, $s = 2$: out $= 112$,
# $p_\text{total} = 111 \cdot 2 + 7 - 224 = 5$, padding **(2, 3)**.

# %%
assert same_padding(28, 3, stride=2) == (0, 1)
assert same_padding(224, 7, stride=2) == (2, 3)

x2 = minicnn.tensor(x64)
w2 = minicnn.tensor(w64)
strided_same = F.conv2d(x2, w2, stride=2, padding="same")
strided_explicit = F.conv2d(x2, w2, stride=2, padding=((0, 1), (0, 1)))
strided_symmetric = F.conv2d(x2, w2, stride=2, padding=1)      # what PyTorch models write
print("'same':", strided_same.shape, " ((0, 1), (0, 1)):", strided_explicit.shape,
      " padding=1:", strided_symmetric.shape)
assert strided_same.shape == (4, 16, 14, 14)
assert np.array_equal(strided_same.data, strided_explicit.data)
# padding=1 gives the same size, but its windows sit one cell up and left: other numbers
assert strided_symmetric.shape == strided_same.shape
assert not np.allclose(strided_symmetric.data, strided_same.data)

# %% [markdown]
# That last point matters when porting weights: a TensorFlow 'same' stride-2 layer and a
# PyTorch `padding=1` layer have the same shapes but not the same outputs.
#
# A picture of one axis makes the windows visible. Below, 8 cells, a kernel of 3 at stride 2.
# 'valid' fits 3 windows and never reads cell 7; 'same' wants $\lceil 8/2 \rceil = 4$ windows,
# pads $\max(3 \cdot 2 + 3 - 8, 0) = 1$ cell at the end, and reads everything.

# %%
def window_picture(n, k, s, pads):
    """Rows: windows; columns: padded positions; 1 = a real cell read, 2 = a padding cell read."""
    before, after = pads
    out = (n + before + after - k) // s + 1
    picture = np.zeros((out, n + before + after))
    for i in range(out):
        for a in range(k):
            column = i * s + a
            picture[i, column] = 1 if before <= column < before + n else 2
    return picture


fig, axes = plt.subplots(1, 2, figsize=(8, 2.2), gridspec_kw={"width_ratios": [8, 9]})
for ax, (title, pads) in zip(axes, [("'valid'", (0, 0)), ("'same'", same_padding(8, 3, 2))]):
    picture = window_picture(8, 3, 2, pads)
    ax.imshow(picture, cmap=plt.matplotlib.colors.ListedColormap(["white", "tab:blue", "tab:orange"]),
              vmin=0, vmax=2)
    ax.set_xticks(range(picture.shape[1]),
                  [str(j - pads[0]) if pads[0] <= j < pads[0] + 8 else "pad"
                   for j in range(picture.shape[1])], fontsize=7)
    ax.set_yticks(range(picture.shape[0]), [f"window {i}" for i in range(picture.shape[0])],
                  fontsize=7)
    ax.set_xticks(np.arange(picture.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(picture.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="grey", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(f"{title}: {picture.shape[0]} windows, padding {pads}", fontsize=9)
fig.suptitle("Kernel 3, stride 2 on 8 cells (blue: a real cell read, orange: padding)",
             fontsize=9, y=1.05)
plt.show()

# %% [markdown]
# A cell that no window reads does not influence the output, so its gradient is exactly zero.
# minicnn's backward keeps the input's shape and leaves those cells at 0:

# %%
x_line = minicnn.tensor(rng.standard_normal((1, 1, 8, 8)), requires_grad=True)
w_line = minicnn.tensor(rng.standard_normal((1, 1, 3, 3)))
F.conv2d(x_line, w_line, stride=2).sum().backward()
print("gradient of the last row:   ", x_line.grad[0, 0, 7])
print("gradient of the last column:", x_line.grad[0, 0, :, 7])
assert x_line.grad.shape == (1, 1, 8, 8)
assert not x_line.grad[0, 0, 7].any() and not x_line.grad[0, 0, :, 7].any()
assert x_line.grad[0, 0, :7, :7].all()

# %% [markdown]
# ## Summary
#
# * Loops, im2col + GEMM and `F.conv2d` compute the same numbers; the GEMM formulation is
#   what makes convolution fast, at the price of copying each pixel KH x KW times.
# * $\text{out} = \lfloor (n + p_\text{total} - d(k-1) - 1)/s \rfloor + 1$;
#   $\text{params} = C_\text{out} (C_\text{in}/g) K_H K_W + C_\text{out}$, independent of the
#   image size.
# * 'same' gives $\lceil n/s \rceil$ outputs, with any odd padding cell at the bottom/right;
#   at stride 2 that is not the same as symmetric padding 1.
