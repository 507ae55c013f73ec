# %% [markdown]
# # 6. Going deeper: plain against residual networks
#
# Stacking more layers should never hurt: a deeper network could copy a shallower one and
# set its extra layers to the identity. Yet He, Zhang, Ren & Sun (2015) found that deep
# *plain* networks train worse than shallower ones, on the training set itself, so it is not
# overfitting: the optimiser fails to find the good weights. Their fix, the **residual
# block**, computes $y = \mathrm{ReLU}(F(x) + x)$: the layers learn a correction $F$ to the
# identity, and the identity path carries the signal, forwards and backwards, past every
# block.
#
# We build two 20-layer networks that differ *only* in that `+ x`, give them the same initial
# weights, and compare
#
# 1. how large the gradient of each layer's weights is at initialisation,
# 2. how fast the training loss falls,
# 3. the gradients again after training.
#
# To keep it short, the networks are narrow (8 channels) and the digits are shrunk to
# 14 x 14.

# %%
import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn import nn
from minicnn.data import ArrayDataset, BuiltinDigits, DataLoader
from minicnn.models.blocks.resnet import BasicBlock

# %% [markdown]
# ## The data: 2,400 digits at 14 x 14
#
# The first 2,400 training digits, each 2 x 2 block of pixels averaged (28 x 28 -> 14 x 14),
# then standardised to mean 0 and standard deviation 1.

# %%
digits = BuiltinDigits(train=True, size=2400)
images = digits.images.astype(np.float32) / 255                       # (2400, 1, 28, 28)
images = images.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))        # -> (2400, 1, 14, 14)
images = (images - images.mean()) / images.std()
train_set = ArrayDataset(images, digits.labels)

fig, axes = plt.subplots(1, 10, figsize=(8, 1.1), layout="constrained")
for digit, ax in enumerate(axes):
    ax.imshow(images[np.flatnonzero(digits.labels == digit)[0], 0], cmap="gray")
    ax.set_title(str(digit), fontsize=9)
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ## Two networks, one difference
#
# minicnn's `BasicBlock` (the block of ResNet-18/34 and of the CIFAR ResNets) computes
#
#     out = relu(bn1(conv1(x)))
#     out = bn2(conv2(out))
#     return relu(out + x)
#
# A *plain* block is the same block without the shortcut. We subclass `BasicBlock` and
# override only `forward`, so both blocks have the same layers, built in the same order:
# seeded alike, the two networks start from identical weights.

# %%
class PlainBlock(BasicBlock):
    """``BasicBlock`` without its shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))))."""

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)))


class DeepNet(nn.Module):
    """A 3x3 convolution (stem), ``blocks`` blocks of two 3x3 convolutions, global average
    pooling and a linear classifier: 2 * blocks + 2 weight layers, all at ``width`` channels
    and full resolution. (N, 1, H, W) -> (N, 10)."""

    def __init__(self, block, blocks=9, width=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[block(width, width) for _ in range(blocks)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, 10)
        for module in self.modules():           # He initialisation, as torchvision's ResNets
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(self.pool(x).flatten(1))         # (N, C, 1, 1) -> (N, C) -> (N, 10)


def conv_weights(model):
    """The 19 convolution weights, from the input upwards."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]


SEED = 0
minicnn.manual_seed(SEED)
plain = DeepNet(PlainBlock)
minicnn.manual_seed(SEED)
residual = DeepNet(BasicBlock)

plain_state, residual_state = plain.state_dict(), residual.state_dict()
assert plain_state.keys() == residual_state.keys()
assert all(np.array_equal(plain_state[k], residual_state[k]) for k in plain_state)
layers = len(conv_weights(plain)) + 1
print(f"{layers} weight layers ({layers - 1} convolutions and the classifier), "
      f"{sum(p.numel() for p in plain.parameters()):,} parameters each, identical at the start")
assert layers == 20

# %% [markdown]
# ## Gradients at initialisation
#
# A batch of 256 digits through each network, `loss.backward()`, and the norm
# $\lVert \partial L / \partial W_\ell \rVert$ of each convolution's weight gradient, from
# layer $\ell = 1$ (next to the input) to 19 (next to the classifier).

# %%
probe_x, probe_y = next(iter(DataLoader(train_set, batch_size=256, shuffle=True, seed=SEED)))


def gradient_norms(model):
    """||dL/dW|| of every convolution on the probe batch (training mode, as in training)."""
    model.train()
    model.zero_grad()
    F.cross_entropy(model(minicnn.tensor(probe_x)), probe_y).backward()
    norms = np.array([np.linalg.norm(w.grad) for w in conv_weights(model)])
    model.zero_grad()
    return norms


def spread(norms):
    """Largest over smallest gradient norm."""
    return norms.max() / norms.min()


def growth_per_layer(norms):
    """g such that the norms grow like g ** (layers from the top), by a least-squares fit of
    log(norm) against the layer index."""
    slope = np.polyfit(np.arange(len(norms)), np.log(norms), 1)[0]
    return np.exp(-slope)


init_norms = {"plain": gradient_norms(plain), "residual": gradient_norms(residual)}

layer_axis = np.arange(1, layers)
fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
for name, norms in init_norms.items():
    ax.semilogy(layer_axis, norms, "o-", label=name)
ax.set_xlabel("convolution (1 = next to the input)")
ax.set_ylabel(r"$\Vert\partial L/\partial W_\ell\Vert$")
ax.set_xticks(layer_axis)
ax.set_title("Gradient norm per layer at initialisation")
ax.legend()
plt.show()

growth = {name: growth_per_layer(norms) for name, norms in init_norms.items()}
for name, norms in init_norms.items():
    print(f"{name:8s}: x{growth[name]:.3f} per layer towards the input, "
          f"largest / smallest {spread(norms):.1f}")

# %% [markdown]
# The plain network's gradients are far from even. With batch norm they do not *vanish*
# towards the input, as they would in a plain network of sigmoids: they *grow*, each layer
# multiplying the backward signal by a little more than one, so the first layers get about
# ten times the gradient of the last ones ("largest / smallest" above). (Yang et al., 2019,
# "A mean field theory of batch normalization", prove that in deep fully connected networks
# with batch norm this explosion at initialisation cannot be tuned away.) One learning rate
# cannot suit layers whose gradients differ that much.
#
# In the residual network every block's output is `relu(F(x) + x)`, so (where the ReLU
# passes) the gradient reaching a block is the gradient of the block above *plus* what flows
# back through `F`: the identity path hands the same signal to every depth. Its gradients still grow a little towards the
# input (each block adds its branch to the signal, so later blocks see larger inputs), but
# far more slowly.

# %%
assert growth["plain"] ** 18 > 4                                        # > 4x over 19 layers
assert 5 < spread(init_norms["plain"]) < 20                             # about ten times
assert np.log(growth["plain"]) > 1.5 * np.log(growth["residual"])     # a much steeper slope
assert growth["residual"] > 1                                           # but still a slope

# %% [markdown]
# ## Training
#
# Both networks now train on the same batches in the same order (the loader has its own
# seed): SGD with momentum 0.9, learning rate 0.05, batches of 48, 100 steps (two passes over
# the 2,400 digits). We write the loop ourselves to record the loss of every step.

# %%
STEPS = 100


def train(model):
    """Train ``model`` for STEPS steps; the loss and accuracy of each batch."""
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(train_set, batch_size=48, shuffle=True, seed=SEED)
    losses, accuracies = [], []
    model.train()
    while len(losses) < STEPS:
        for x, y in loader:
            logits = model(minicnn.tensor(x))
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            accuracies.append((logits.data.argmax(axis=1) == y).mean())
            if len(losses) == STEPS:
                break
    return np.array(losses), np.array(accuracies)


curves = {"plain": train(plain), "residual": train(residual)}


def smooth(values, width=15):
    """Moving average over ``width`` steps (the per-batch loss is noisy)."""
    return np.convolve(values, np.ones(width) / width, mode="valid")


fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.3), layout="constrained")
for name, (losses, accuracies) in curves.items():
    steps = np.arange(len(smooth(losses))) + 15
    loss_ax.plot(steps, smooth(losses), label=name)
    acc_ax.plot(steps, 100 * smooth(accuracies), label=name)
loss_ax.set(xlabel="step", ylabel="training loss", title="Training loss (15-step average)")
acc_ax.set(xlabel="step", ylabel="batch accuracy (%)", title="Training accuracy (15-step average)")
loss_ax.legend()
acc_ax.legend()
plt.show()

final = {name: losses[-25:].mean() for name, (losses, _) in curves.items()}
print("mean training loss over the last 25 steps:",
      ", ".join(f"{name} {value:.3f}" for name, value in final.items()))
assert final["residual"] < 0.6 * final["plain"]
assert final["plain"] < 0.8 * np.log(10)          # the plain one learns too (chance: ln 10)

# %% [markdown]
# Same data, same batches, same initial weights, same optimiser: the residual network's loss
# falls much faster. The plain network is not stuck, it learns, but at this depth it is
# already clearly harder to optimise, and the gap grows with depth: in the ResNet paper a
# plain 56-layer network ends *above* a plain 20-layer one in training error, while residual
# networks keep improving up to 110 layers.
#
# ## Gradients after training
#
# The same measurement on the same 256 digits, with the trained weights:

# %%
trained_norms = {"plain": gradient_norms(plain), "residual": gradient_norms(residual)}

fig, axes = plt.subplots(1, 2, figsize=(10, 3.3), sharey=True, layout="constrained")
for ax, (title, norms_by_net) in zip(axes, [("at initialisation", init_norms),
                                            (f"after {STEPS} steps", trained_norms)]):
    for name, norms in norms_by_net.items():
        ax.semilogy(layer_axis, norms, "o-", label=name)
    ax.set(xlabel="convolution (1 = next to the input)", title=f"Gradient norm per layer, {title}")
    ax.set_xticks(layer_axis[::2])
    ax.legend()
axes[0].set_ylabel(r"$\Vert\partial L/\partial W_\ell\Vert$")
plt.show()

for name, norms in trained_norms.items():
    print(f"{name:8s} after training: x{growth_per_layer(norms):.3f} per layer towards the "
          f"input, largest / smallest {spread(norms):.1f}")
trained_growth = growth_per_layer(trained_norms["plain"])
spread_ratio = spread(trained_norms["plain"]) / spread(init_norms["plain"])
print(f"plain, largest / smallest after training: {spread_ratio:.2f} of its value at the start")
assert abs(np.log(trained_growth)) < np.log(growth["plain"])          # closer to 1 than at init
assert spread_ratio < 1                                               # more even than at init

# %% [markdown]
# After training the plain network's gradients are more even than at initialisation (its
# growth per layer is closer to 1, and largest / smallest has shrunk): training has moved its
# weights to where the layers get more similar shares.
#
# *How much* more even differs from run to run. The trained weights depend on the rounding of
# every one of the 100 steps, and training amplifies the smallest difference, so another seed,
# another BLAS kernel (OpenBLAS picks one for the processor) or another thread count ends
# somewhere else. Over 8 seeds, each with OpenBLAS's Haswell kernels on 1 and on 2 threads
# and with its SkylakeX kernels (the same result on either), largest / smallest after
# training was between 0.16 and 0.76 of its value at initialisation: always smaller, but
# sometimes only a little; and the growth per layer was closer to 1 in every run.
#
# The plain network started far from there, and its loss fell slowly on the way, whereas the
# residual network was well conditioned from the first step. The deeper the plain network,
# the more uneven its start (the growth compounds over more layers), which is one way to see
# the degradation the ResNet paper reported.
#
# ## Summary
#
# * A plain network and a residual one with the same layers and the same initial weights
#   differ only in `out + x`; at 20 layers that is enough to make the residual one train much
#   faster.
# * With batch norm, a deep plain network's gradients do not vanish: they grow towards the
#   input, by about ten times over 19 layers, so its layers learn at very different rates.
# * The identity shortcut passes the backward signal unchanged to every block, which keeps
#   the gradient norms far more even across depth at initialisation. This is what let ResNets
#   go to 152 layers on ImageNet (and 1,202 on CIFAR, in the same paper) where plain networks
#   had stopped at about 20 (VGG-19).
