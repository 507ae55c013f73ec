# %% [markdown]
# # 4. Batch norm and label smoothing
#
# Two small tricks that changed how deep networks train, one at each end of the network:
#
# * **Batch normalisation** (Ioffe & Szegedy, 2015) acts on the *activations* inside the
#   network: it rescales every channel to zero mean and unit variance over the batch, so the
#   signal neither dies out nor blows up with depth.
# * **Label smoothing** (Szegedy et al., 2016, in Inception-v3) acts on the *logits* at the
#   end: it trains against a target that is not quite one-hot, which stops the logits from
#   growing without bound.
#
# We look at both at work, with plots, on the built-in digits.

# %%
import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.data import BuiltinDigits

test_set = BuiltinDigits(train=False, size=1000)
batch = minicnn.tensor(test_set.images[:32].astype(np.float32) / 255)    # (32, 1, 28, 28)

# %% [markdown]
# ## Batch norm: activations through a deep network at initialisation
#
# Two networks of ten 3x3 convolutions with 16 channels and ReLU, with PyTorch's default
# initialisation, one of them with a `BatchNorm2d` after every convolution. (The convolutions
# have no bias: with batch norm it would be subtracted right away, and batch norm's own `bias`
# takes its place.) We push a batch of 32 digits through each and record what every layer
# outputs.

# %%
DEPTH, WIDTH = 10, 16


def deep_net(batch_norm):
    layers, channels = [], 1
    for _ in range(DEPTH):
        layers.append(nn.Conv2d(channels, WIDTH, 3, padding=1, bias=False))
        if batch_norm:
            layers.append(nn.BatchNorm2d(WIDTH))
        layers.append(nn.ReLU())
        channels = WIDTH
    return nn.Sequential(*layers)


def activations(net, x):
    """Every layer's output in one forward pass: {layer index: array}."""
    outputs = {}
    with minicnn.no_grad():
        for index, layer in enumerate(net):
            x = layer(x)
            outputs[index] = x.data
    return outputs


minicnn.manual_seed(0)
plain, normalised = deep_net(batch_norm=False), deep_net(batch_norm=True)
plain_outputs, bn_outputs = activations(plain, batch), activations(normalised, batch)


def after_relu(net, outputs):
    return [outputs[i] for i, layer in enumerate(net) if isinstance(layer, nn.ReLU)]


plain_relu, bn_relu = after_relu(plain, plain_outputs), after_relu(normalised, bn_outputs)
print("std after each ReLU, plain:     ", np.round([a.std() for a in plain_relu], 4))
print("std after each ReLU, batch norm:", np.round([a.std() for a in bn_relu], 4))

# %% [markdown]
# Without batch norm the signal shrinks at every layer. PyTorch's default initialisation
# draws weights with variance $1/(3\,\text{fan\_in})$, so a convolution multiplies the mean
# square of its input by about $1/3$, and ReLU halves it: each layer scales the standard
# deviation by roughly $\sqrt{1/6} \approx 0.4$, and ten layers by about $10^{-4}$. With batch
# norm every layer starts again from unit variance.

# %%
layers_axis = np.arange(1, DEPTH + 1)
plain_std = np.array([a.std() for a in plain_relu])
bn_std = np.array([a.std() for a in bn_relu])

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.semilogy(layers_axis, plain_std, "o-", label="without batch norm")
ax.semilogy(layers_axis, bn_std, "o-", label="with batch norm")
ax.semilogy(layers_axis, plain_std[0] * (1 / 6) ** ((layers_axis - 1) / 2), "k:", lw=1,
            label=r"$\times\sqrt{1/6}$ per layer")
ax.set_xlabel("layer")
ax.set_ylabel("std of the activations")
ax.set_xticks(layers_axis)
ax.legend()
ax.set_title("Activation scale through depth, at initialisation")
plt.show()

assert plain_std[-1] < 1e-2 * plain_std[0]                   # dies out without batch norm
assert bn_std.max() < 1.5 * bn_std.min()                     # steady with it

# %% [markdown]
# The histograms show the same per layer: the plain network's activations crowd into an ever
# narrower spike at zero (note the x-axis ranges), the batch-normalised ones keep their shape.
# (ReLU outputs are zero for about half the values; we histogram the positive ones.)

# %%
shown_layers = [0, 1, 3, 5, 7, 9]
fig, axes = plt.subplots(2, len(shown_layers), figsize=(11, 4.2))
for row, (name, outputs) in enumerate([("without BN", plain_relu), ("with BN", bn_relu)]):
    for ax, layer in zip(axes[row], shown_layers):
        values = outputs[layer].ravel()
        ax.hist(values[values > 0], bins=40, color=f"C{row}")
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        ax.set_title(f"{name}, layer {layer + 1}", fontsize=8)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
        ax.xaxis.get_offset_text().set_fontsize(7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### What batch norm computes
#
# In training mode, for each channel $c$, with the mean $\mu_c$ and the *biased* variance
# $\sigma_c^2$ over the batch and the spatial positions:
#
# $$y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c, \qquad
#   \gamma = 1,\ \beta = 0 \text{ at initialisation.}$$
#
# So right after a `BatchNorm2d`, every channel has mean 0 and variance 1 (up to
# $\epsilon = 10^{-5}$):

# %%
for index, layer in enumerate(normalised):
    if isinstance(layer, nn.BatchNorm2d):
        y = bn_outputs[index]
        assert np.allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-4)
        assert np.allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-2)
print("every channel after every BatchNorm2d: mean 0, variance 1")

# %% [markdown]
# Batch norm also keeps running estimates for evaluation, where a batch may be a single image:
# `running = (1 - momentum) * running + momentum * batch_statistic`, with momentum 0.1 and
# the *unbiased* variance. After the one forward pass above, in training mode (the running
# statistics start at mean 0 and variance 1):

# %%
bn_layer, conv_output = normalised[1], bn_outputs[0]          # the first BN and its input
count = conv_output.size // WIDTH
batch_mean = conv_output.mean(axis=(0, 2, 3))
unbiased_var = conv_output.var(axis=(0, 2, 3)) * count / (count - 1)
expected_mean = 0.9 * 0 + 0.1 * batch_mean
expected_var = 0.9 * 1 + 0.1 * unbiased_var
assert np.allclose(bn_layer.running_mean, expected_mean, rtol=1e-4, atol=1e-6)
assert np.allclose(bn_layer.running_var, expected_var, rtol=1e-4)
print("running_mean[:4] =", bn_layer.running_mean[:4])

# %% [markdown]
# (That is why a model must be switched with `model.eval()` before testing: in training mode
# it would normalise with the test batch's own statistics.)
#
# Normalising has a consequence: the output no longer depends on the scale of the weights
# before it. Scale the first convolution's weights by 10 and nothing after the batch norm
# changes. (Exactly so without the $\epsilon$ in the denominator; we set it to 0 for this
# experiment, since with $10^{-5}$ against this layer's small variance it makes a difference
# of a percent or so.) This is part of why batch-normalised networks tolerate higher learning
# rates.

# %%
for layer in normalised:
    if isinstance(layer, nn.BatchNorm2d):
        layer.eps = 0.0
output_index = len(normalised) - 1
reference_output = activations(normalised, batch)[output_index]
first_conv = normalised[0]
first_conv.weight.data = first_conv.weight.data * 10
scaled_output = activations(normalised, batch)[output_index]
first_conv.weight.data = first_conv.weight.data / 10
difference = np.abs(scaled_output - reference_output).max()
print(f"largest change of the network's output: {difference:.1e} "
      f"(the output's largest value: {reference_output.max():.2f})")
assert difference < 1e-4 * reference_output.max()

# %% [markdown]
# ## Label smoothing: what the loss asks of the logits
#
# Cross-entropy compares the softmax of the logits $z$ with a target distribution $q$:
# $L = -\sum_k q_k \log \text{softmax}(z)_k$. Normally $q$ is one-hot. With label smoothing
# $\epsilon$ over $K$ classes (PyTorch's rule, which minicnn follows),
#
# $$q_k = (1 - \epsilon)\,[k = y] + \frac{\epsilon}{K}:$$
#
# the true class gets $1 - \epsilon + \epsilon/K$, every other class $\epsilon/K$.

# %%
K, EPS, TARGET = 10, 0.1, 3
one_hot = np.eye(K)[TARGET]
smoothed = (1 - EPS) * one_hot + EPS / K
assert np.isclose(smoothed[TARGET], 0.91) and np.allclose(np.delete(smoothed, TARGET), 0.01)
assert np.isclose(smoothed.sum(), 1)

fig, axes = plt.subplots(1, 2, figsize=(8, 2.6), sharey=True)
for ax, (q, title) in zip(axes, [(one_hot, "one-hot target"),
                                 (smoothed, rf"smoothed target, $\epsilon$ = {EPS}")]):
    ax.bar(range(K), q, color=["C1" if k == TARGET else "C0" for k in range(K)])
    ax.set_xticks(range(K))
    ax.set_xlabel("class")
    ax.set_title(title, fontsize=10)
    for k in (TARGET, 0):
        ax.text(k, q[k] + 0.02, f"{q[k]:.2f}", ha="center", fontsize=8)
axes[0].set_ylabel("q")
plt.show()

# %% [markdown]
# minicnn's `F.cross_entropy(logits, target, label_smoothing=eps)` uses exactly this target:
# its loss equals $-\sum_k q_k \log \text{softmax}(z)_k$ computed by hand.

# %%
rng = np.random.default_rng(0)
logits = rng.standard_normal((1, K))
by_hand = -(smoothed * np.log(np.exp(logits) / np.exp(logits).sum())).sum()
loss = F.cross_entropy(minicnn.tensor(logits), np.array([TARGET]), label_smoothing=EPS)
assert np.isclose(loss.item(), by_hand)

# %% [markdown]
# ### The loss as a function of a logit
#
# Give the true class the logit $t$ and every other class 0, and watch the loss as $t$ grows.
# Without smoothing, it keeps falling towards 0: there is always something to gain by making
# $t$ larger. With smoothing it has a minimum. Setting the derivative
# $\partial L/\partial t = \text{softmax}(z)_y - q_y$ to zero gives
# $e^t/(e^t + K - 1) = q_y$, that is
#
# $$t^* = \log \frac{q_y\,(K-1)}{1 - q_y} = \log \frac{0.91 \cdot 9}{0.09} = \log 91 \approx 4.51
#   \quad (\epsilon = 0.1).$$

# %%
t_values = np.linspace(-2, 14, 321)
gap_logits = np.zeros((len(t_values), K))
gap_logits[:, TARGET] = t_values
targets = np.full(len(t_values), TARGET)


def loss_and_slope(eps):
    """Per-value loss L(t) and its derivative dL/dt, from minicnn's autograd."""
    z = minicnn.tensor(gap_logits.copy(), requires_grad=True)
    losses = F.cross_entropy(z, targets, label_smoothing=eps, reduction="none")
    losses.sum().backward()          # each row's loss depends only on its own logits
    return losses.data, z.grad.data[:, TARGET]


def best_gap(eps):
    q_true = 1 - eps + eps / K
    return np.log(q_true * (K - 1) / (1 - q_true))


fig, ax = plt.subplots(figsize=(6, 3.4))
for eps in (0.0, 0.1, 0.2):
    losses, _ = loss_and_slope(eps)
    ax.plot(t_values, losses, label=rf"$\epsilon$ = {eps}")
    if eps:
        t_star = best_gap(eps)
        ax.plot(t_star, losses[np.argmin(np.abs(t_values - t_star))], "k.", ms=9)
ax.set_xlabel("logit of the true class, t (other logits 0)")
ax.set_ylabel("cross-entropy")
ax.legend()
ax.set_title("Without smoothing the loss keeps falling; with it, it has a minimum")
plt.show()

# %% [markdown]
# The claims, checked with the gradients minicnn computes: without smoothing the slope is
# negative everywhere (gradient descent pushes $t$ up forever); with $\epsilon = 0.1$ it
# changes sign at $t^* = \log 91$, where the loss is smallest.

# %%
_, slope_plain = loss_and_slope(0.0)
losses_smooth, slope_smooth = loss_and_slope(EPS)
assert (slope_plain < 0).all()
assert np.isclose(best_gap(EPS), np.log(91))
assert abs(t_values[np.argmin(losses_smooth)] - np.log(91)) <= t_values[1] - t_values[0]
assert (slope_smooth[t_values < np.log(91)] < 0).all() and (slope_smooth[t_values > np.log(91)] > 0).all()

# at t* exactly the gradient vanishes
z = minicnn.tensor(np.eye(K)[[TARGET]] * np.log(91), requires_grad=True)
F.cross_entropy(z, np.array([TARGET]), label_smoothing=EPS).backward()
assert np.allclose(z.grad.data, 0, atol=1e-12)

# %% [markdown]
# ### Gradient descent on the logits
#
# Let gradient descent move all ten logits freely (as a very flexible network could). Without
# smoothing the gap between the true logit and the others grows without bound (roughly like
# the logarithm of the number of steps); with smoothing it settles at $\log 91$.

# %%
def descend(eps, steps=1500, lr=1.0):
    z = minicnn.tensor(np.zeros((1, K)), requires_grad=True)
    gaps = []
    for _ in range(steps):
        F.cross_entropy(z, np.array([TARGET]), label_smoothing=eps).backward()
        with minicnn.no_grad():      # the update is not part of the graph
            z -= lr * z.grad
        z.grad = None
        gaps.append(z.data[0, TARGET] - np.delete(z.data[0], TARGET).mean())
    return np.array(gaps)


gaps_plain, gaps_smooth = descend(0.0), descend(EPS)

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(gaps_plain, label=r"$\epsilon$ = 0: keeps growing")
ax.plot(gaps_smooth, label=rf"$\epsilon$ = {EPS}: settles")
ax.axhline(np.log(91), color="k", ls=":", lw=1, label=r"$\log 91$")
ax.set_xscale("log")
ax.set_xlabel("gradient descent step")
ax.set_ylabel("true logit minus the others")
ax.legend()
plt.show()

print(f"after {len(gaps_plain)} steps: gap {gaps_plain[-1]:.2f} without smoothing, "
      f"{gaps_smooth[-1]:.4f} with (log 91 = {np.log(91):.4f})")
assert abs(gaps_smooth[-1] - np.log(91)) < 1e-3                  # finite, and where predicted
assert gaps_plain[-1] > gaps_plain[149] + 1 > np.log(91) + 1      # still growing, past log 91

# %% [markdown]
# ### On real data
#
# The same happens with a model. We train softmax regression (one `Linear` layer on the raw
# pixels) on 1,000 digits, with and without label smoothing, and look at the test images'
# logit gaps (the predicted class's logit minus the mean of the other nine).

# %%
train_set = BuiltinDigits(train=True, size=1000)
x_train = minicnn.tensor(train_set.images.reshape(1000, -1).astype(np.float32) / 255)
x_test = minicnn.tensor(test_set.images.reshape(1000, -1).astype(np.float32) / 255)


def train_softmax_regression(eps, steps=200):
    minicnn.manual_seed(0)
    model = nn.Linear(784, K)
    optimizer = minicnn.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss = F.cross_entropy(model(x_train), train_set.labels, label_smoothing=eps)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with minicnn.no_grad():
        return model(x_test).data


gaps, accuracy = {}, {}
for eps in (0.0, EPS):
    test_logits = train_softmax_regression(eps)
    top = test_logits.max(axis=1)
    gaps[eps] = top - (test_logits.sum(axis=1) - top) / (K - 1)
    accuracy[eps] = (test_logits.argmax(axis=1) == test_set.labels).mean()
    print(f"eps = {eps}: test accuracy {accuracy[eps]:.3f}, median logit gap "
          f"{np.median(gaps[eps]):.2f}")

fig, ax = plt.subplots(figsize=(6, 3.2))
bins = np.linspace(0, max(g.max() for g in gaps.values()), 50)
for eps, g in gaps.items():
    ax.hist(g, bins=bins, alpha=0.6, label=rf"$\epsilon$ = {eps}")
ax.axvline(np.log(91), color="k", ls=":", lw=1, label=r"$\log 91$")
ax.set_xlabel("logit gap on test images")
ax.set_ylabel("images")
ax.legend()
plt.show()

assert np.median(gaps[EPS]) < np.log(91) + 1 < np.median(gaps[0.0])

# %% [markdown]
# With smoothing the gaps gather around $\log 91$ and rarely go far beyond it; without, they
# spread out to much larger values: the model grows ever more confident. (Accuracy is not the
# point here: label smoothing is a regulariser for large networks that can fit their training
# set, and a linear model cannot.)
#
# ## Summary
#
# * At initialisation, a deep plain network's activations shrink (or grow) geometrically with
#   depth; batch norm resets every channel to mean 0 and variance 1 in each layer, whatever
#   the scale of the weights before it, and keeps running statistics for evaluation.
# * Label smoothing replaces the one-hot target with $(1-\epsilon)\,\text{one\_hot} +
#   \epsilon/K$; the loss then has a finite best logit gap, $\log\frac{q_y (K-1)}{1-q_y}$
#   ($\log 91$ for $\epsilon = 0.1$, $K = 10$), instead of rewarding ever larger logits.
