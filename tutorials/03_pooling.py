# %% [markdown]
# # 3. Pooling
#
# A pooling layer summarises each small window of a feature map by one number: its maximum
# (max pooling) or its mean (average pooling). It has no weights. It shrinks the map, so later
# layers see a wider part of the image for the same cost, and it makes the response tolerant
# to small shifts.
#
# This notebook works through pooling on a 5x5 matrix small enough to do by hand, then checks
# minicnn against the hand results: 'same' padding, the backward pass of max pooling (where
# the gradient goes, and why overlapping windows *add*), `ceil_mode`, and `count_include_pad`.

# %%
import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

import minicnn
from minicnn import functional as F
from minicnn.data import BuiltinDigits
from minicnn.kernels.geometry import same_padding

# %% [markdown]
# ## Max and average pooling on a digit
#
# 2x2 windows with stride 2 halve each side: 28 x 28 becomes 14 x 14. Max pooling keeps the
# strongest response in each window (the stroke survives, thick); average pooling blurs.

# %%
digits = BuiltinDigits(train=False, size=16)
digit = minicnn.tensor(digits.images[3:4].astype(np.float32) / 255)      # (1, 1, 28, 28)
max_pooled = F.max_pool2d(digit, kernel_size=2)        # stride defaults to the kernel size
avg_pooled = F.avg_pool2d(digit, kernel_size=2)
assert max_pooled.shape == avg_pooled.shape == (1, 1, 14, 14)
assert (max_pooled.data >= avg_pooled.data).all()       # a maximum is never below a mean

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.7))
for ax, (image, title) in zip(axes, [(digit, "input 28 x 28"), (max_pooled, "max pool 2x2"),
                                     (avg_pooled, "average pool 2x2")]):
    ax.imshow(image.data[0, 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## 'same' pooling, by hand
#
# Our matrix holds the numbers 0 to 24 in a scrambled order (all different, so every window
# has exactly one winner):

# %%
x = np.array([[ 3, 11,  7, 20,  1],
              [14,  2, 18,  5,  9],
              [ 6, 23,  0, 12, 16],
              [19,  8, 15,  4, 22],
              [10, 17, 13, 21, 24]], dtype=np.float64)
assert sorted(x.ravel()) == list(range(25))

# %% [markdown]
# Take 2x2 windows with stride 2 and `padding='same'`. The rule (TensorFlow's, for any
# stride): $\text{out} = \lceil n / s \rceil = \lceil 5/2 \rceil = 3$ windows per axis, which
# need $p_\text{total} = \max((\text{out}-1)\,s + k - n, 0) = \max(2 \cdot 2 + 2 - 5, 0) = 1$
# padding cell per axis: $\lfloor 1/2 \rfloor = 0$ before and $1$ after. **The extra row goes at
# the bottom and the extra column at the right.**

# %%
assert same_padding(5, 2, stride=2) == (0, 1)

# %% [markdown]
# So the windows are rows {0, 1}, {2, 3}, {4, pad} and the same for columns. For max pooling
# the padding counts as $-\infty$ (it can never win), so a window that is half padding takes
# the max of its real cells:
#
# | window rows \ cols | {0, 1} | {2, 3} | {4, pad} |
# |---|---|---|---|
# | {0, 1}   | max(3, 11, 14, 2) = **14** | max(7, 20, 18, 5) = **20** | max(1, 9) = **9** |
# | {2, 3}   | max(6, 23, 19, 8) = **23** | max(0, 12, 15, 4) = **15** | max(16, 22) = **22** |
# | {4, pad} | max(10, 17) = **17** | max(13, 21) = **21** | max(24) = **24** |
#
# For average pooling, TensorFlow's 'same' divides by the number of *real* cells in the window
# (minicnn: `count_include_pad=False`): the right column is (1 + 9)/2 = 5, (16 + 22)/2 = 19 and
# 24/1 = 24; the bottom row (10 + 17)/2 = 13.5 and (13 + 21)/2 = 17.

# %%
max_by_hand = np.array([[14, 20, 9],
                        [23, 15, 22],
                        [17, 21, 24]], dtype=np.float64)
avg_by_hand = np.array([[30 / 4, 50 / 4, 10 / 2],
                        [56 / 4, 31 / 4, 38 / 2],
                        [27 / 2, 34 / 2, 24 / 1]])

xt = minicnn.tensor(x[None, None])                              # (1, 1, 5, 5)
max_same = F.max_pool2d(xt, 2, stride=2, padding="same")
avg_same = F.avg_pool2d(xt, 2, stride=2, padding="same", count_include_pad=False)
print("max pooling, 'same':\n", max_same.data[0, 0])
print("average pooling, 'same', count_include_pad=False:\n", avg_same.data[0, 0])
assert np.array_equal(max_same.data[0, 0], max_by_hand)
assert np.allclose(avg_same.data[0, 0], avg_by_hand)

# %% [markdown]
# A picture of the same computation: the dashed cells are the padding, each box a window, and
# the winner of each window in bold.

# %%
def draw_matrix(ax, matrix, title, pad_after=0, window=None, bold=(), fmt="{:g}", cmap="Blues"):
    """Show ``matrix`` with its values written in; optionally padding cells and window boxes."""
    n_rows, n_cols = matrix.shape
    shown = np.full((n_rows + pad_after, n_cols + pad_after), np.nan)
    shown[:n_rows, :n_cols] = matrix
    ax.imshow(shown, cmap=cmap, vmin=np.nanmin(matrix), vmax=np.nanmax(matrix) * 1.6)
    for (i, j), value in np.ndenumerate(shown):
        if np.isnan(value):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//",
                                   edgecolor="grey", lw=0))
            ax.text(j, i, "pad", ha="center", va="center", fontsize=7, color="grey")
        else:
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=9,
                    fontweight="bold" if (i, j) in bold else "normal")
    if window is not None:  # one box per window, each in its own colour and inset
        size, stride = window
        corners = [(top, left) for top in range(0, n_rows + pad_after - size + 1, stride)
                   for left in range(0, n_cols + pad_after - size + 1, stride)]
        overlapping = size > stride
        for k, (top, left) in enumerate(corners):
            inset = 0.42 - (0.08 * k if overlapping else 0)
            ax.add_patch(Rectangle((left - inset, top - inset), size - 1 + 2 * inset,
                                   size - 1 + 2 * inset, fill=False, lw=1.8,
                                   edgecolor=f"C{k % 10}" if overlapping else "tab:red"))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


winners = {tuple(int(v) for v in np.argwhere(x == m)[0]) for m in max_by_hand.ravel()}
fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
draw_matrix(axes[0], x, "input, 'same' padding, 2x2 windows", pad_after=1, window=(2, 2),
            bold=winners)
draw_matrix(axes[1], max_same.data[0, 0], "max pooling")
draw_matrix(axes[2], avg_same.data[0, 0], "average (real cells only)", fmt="{:.4g}")
plt.show()

# %% [markdown]
# ## The backward pass of max pooling
#
# Each output is one input cell (the window's winner), so the gradient of a window goes, whole,
# to its winner; every other cell of the window gets nothing. With an upstream gradient
# $g$ (distinct values, so we can see which went where):
#
# $$\frac{\partial L}{\partial x[h, w]} = \sum_{\text{windows } (i, j) \text{ won by } (h, w)}
#   g[i, j].$$
#
# From the table above: 14 sits at (1, 0) and receives $g[0,0] = 1$; 20 at (0, 3) receives 2;
# 9 at (1, 4) receives 3; 23 at (2, 1) receives 4; and so on down to 24 at (4, 4), which
# receives 9.

# %%
g = np.arange(1.0, 10.0).reshape(3, 3)
dx_by_hand = np.array([[0, 0, 0, 2, 0],
                       [1, 0, 0, 0, 3],
                       [0, 4, 0, 0, 0],
                       [0, 0, 5, 0, 6],
                       [0, 7, 0, 8, 9]], dtype=np.float64)

xt = minicnn.tensor(x[None, None], requires_grad=True)
F.max_pool2d(xt, 2, stride=2, padding="same").backward(g[None, None])
print("dL/dx:\n", xt.grad[0, 0])
assert np.array_equal(xt.grad[0, 0], dx_by_hand)
assert xt.grad.sum() == g.sum()      # every window sends all of its gradient somewhere

# %% [markdown]
# ### Overlapping windows accumulate
#
# With a window larger than the stride (AlexNet pools 3x3 windows with stride 2), windows
# overlap and one cell can win several of them. Its gradient is then the **sum** of those
# windows' gradients: the backward pass must add (`+=`), not assign. On our matrix, 3x3
# windows at stride 2 ('valid') give a 2x2 output:
#
# | window | cells | winner |
# |---|---|---|
# | (0, 0) | rows 0-2, cols 0-2 | 23 at (2, 1) |
# | (0, 1) | rows 0-2, cols 2-4 | 20 at (0, 3) |
# | (1, 0) | rows 2-4, cols 0-2 | 23 at (2, 1) |
# | (1, 1) | rows 2-4, cols 2-4 | 24 at (4, 4) |
#
# 23 wins two windows, so with $g = \begin{pmatrix}1 & 2\\ 3 & 4\end{pmatrix}$ it receives
# $1 + 3 = 4$.

# %%
xt = minicnn.tensor(x[None, None], requires_grad=True)
pooled = F.max_pool2d(xt, 3, stride=2)
g_overlap = np.array([[1.0, 2.0], [3.0, 4.0]])
pooled.backward(g_overlap[None, None])
print("pooled:", pooled.data[0, 0].tolist())
print("dL/dx:\n", xt.grad[0, 0])
assert pooled.data[0, 0].tolist() == [[23, 20], [23, 24]]
dx_overlap = np.zeros((5, 5))
dx_overlap[2, 1], dx_overlap[0, 3], dx_overlap[4, 4] = 1 + 3, 2, 4
assert np.array_equal(xt.grad[0, 0], dx_overlap)

fig, axes = plt.subplots(1, 2, figsize=(6, 3))
draw_matrix(axes[0], x, "input, 3x3 windows, stride 2", window=(3, 2),
            bold={(2, 1), (0, 3), (4, 4)})
draw_matrix(axes[1], xt.grad[0, 0], "dL/dx: 23 won two windows", cmap="Oranges")
plt.show()

# %% [markdown]
# The gradient check agrees (float64; distinct, well-separated values, since at a tie the max
# has no derivative):

# %%
rng = np.random.default_rng(0)
values = rng.permutation(64).reshape(1, 1, 8, 8) + rng.uniform(0, 0.1, (1, 1, 8, 8))
assert minicnn.gradcheck(lambda t: F.max_pool2d(t, 3, stride=2),
                         [minicnn.tensor(values, requires_grad=True)])

# %% [markdown]
# ## `ceil_mode`
#
# Without padding, 2x2 windows at stride 2 fit only twice into 5 cells:
# $\lfloor (5 - 2)/2 \rfloor + 1 = 2$, and the last row and column are ignored.
# `ceil_mode=True` rounds up instead, $\lceil (5-2)/2 \rceil + 1 = 3$, letting the last window
# hang over the edge. For max pooling the result is exactly 'same' pooling's:

# %%
xt = minicnn.tensor(x[None, None])
floor_pooled = F.max_pool2d(xt, 2, stride=2)
ceil_pooled = F.max_pool2d(xt, 2, stride=2, ceil_mode=True)
print("floor:", floor_pooled.shape, " ceil:", ceil_pooled.shape)
assert floor_pooled.shape[2:] == (2, 2) and ceil_pooled.shape[2:] == (3, 3)
assert np.array_equal(ceil_pooled.data[0, 0], max_by_hand)

# %% [markdown]
# Two details (PyTorch's rules, which minicnn follows):
#
# * a last window that would **start** in the right padding is dropped. With padding 1,
#   $\lceil (5 + 2 - 2)/2 \rceil + 1 = 4$, but window 3 would start at padded position 6,
#   beyond the 5 real cells plus 1 padding cell, so there are 3 windows;
# * networks rely on it: GoogLeNet's 3x3 stride-2 max pools use `ceil_mode=True` so that
#   112 becomes 56 rather than 55.

# %%
assert F.conv_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == (3, 3)
assert F.max_pool2d(xt, 2, stride=2, padding=1, ceil_mode=True).shape[2:] == (3, 3)
assert F.conv_output_size(112, 3, stride=2, ceil_mode=True) == (56, 56)
assert F.conv_output_size(112, 3, stride=2) == (55, 55)

# %% [markdown]
# ## `count_include_pad`
#
# With explicit padding, what does an average divide by? `count_include_pad=True` (PyTorch's
# default) counts the padding cells as zeros in the window; `False` averages the real cells
# only. On a matrix of ones, 3x3 windows, stride 1, padding 1, the difference is at the border:
# a corner window holds 4 real cells out of 9 (average 4/9), an edge window 6 of 9.

# %%
ones = minicnn.tensor(np.ones((1, 1, 5, 5)))
with_pad = F.avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=True).data[0, 0]
without_pad = F.avg_pool2d(ones, 3, stride=1, padding=1, count_include_pad=False).data[0, 0]
assert np.isclose(with_pad[0, 0], 4 / 9) and np.isclose(with_pad[0, 2], 6 / 9)
assert np.isclose(with_pad[2, 2], 1.0)
assert np.allclose(without_pad, 1.0)

fig, axes = plt.subplots(1, 2, figsize=(6, 3))
draw_matrix(axes[0], with_pad, "count_include_pad=True", fmt="{:.2f}", cmap="Greens")
draw_matrix(axes[1], without_pad, "count_include_pad=False", fmt="{:.2f}", cmap="Greens")
plt.show()

# %% [markdown]
# The ceil-mode overhang is *not* padding and is never counted: on 5 x 5 ones with 2x2 windows
# and `ceil_mode=True`, the last windows hold 2 (or 1) real cells and average exactly 1.

# %%
overhang = F.avg_pool2d(ones, 2, stride=2, ceil_mode=True, count_include_pad=True).data[0, 0]
assert overhang.shape == (3, 3) and np.allclose(overhang, 1.0)

# %% [markdown]
# ## Summary
#
# * 'same' pooling gives $\lceil n/s \rceil$ outputs and puts an odd padding cell at the
#   bottom/right; padded cells never win a max, and TensorFlow-style 'same' averages divide by
#   the real cells (`count_include_pad=False`).
# * Max pooling's backward sends each window's gradient to its winner; where windows overlap, a
#   cell that wins several collects the sum.
# * `ceil_mode` lets a last, partial window in (but not one that would start in the padding);
#   `count_include_pad` decides whether explicit padding counts in an average's divisor.
