# %% [markdown]
# # 5. LeNet-5 end to end
#
# LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) read the digits on bank cheques: two
# convolutions with pooling, then three fully connected layers, 61,706 parameters. It is the
# smallest network that has every part of a modern CNN, which makes it the right one to
# train end to end:
#
# 1. the data: the built-in digits, padded to the 32 x 32 input of the paper;
# 2. the network, and where its parameters are (`minicnn.summary`);
# 3. training with `minicnn.train.fit`, and the loss and accuracy curves;
# 4. the test accuracy (`evaluate`), and reloading the run's checkpoint;
# 5. what the network learnt: the first-layer filters and the feature maps of one image;
# 6. what it gets wrong: the confusion matrix and the misclassified digits.
#
# The figures of section 3 onwards are drawn by `minicnn.train.plots`, the functions the
# `python -m minicnn train` command uses for its run folder; they write PNG files, which we
# show here.

# %%
import time
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F
from minicnn.data import BuiltinDigits, DataLoader, transforms as T
from minicnn.models import lenet5
from minicnn.train import CHECKPOINT_NAME, confusion_matrix, evaluate, fit, load_model
from minicnn.train.plots import (plot_confusion_matrix, plot_feature_maps, plot_filters,
                                 plot_history)

RUN = Path("runs/tutorial05-lenet5")        # figures and checkpoint go here
RUN.mkdir(parents=True, exist_ok=True)
minicnn.manual_seed(0)                      # weights, shuffling: the same run every time


def show_png(path):
    """Show a PNG file written by ``minicnn.train.plots``, at its own size."""
    image = plt.imread(path)
    fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))                    # one axes filling the figure
    ax.imshow(image)
    ax.set_axis_off()
    plt.show()

# %% [markdown]
# ## 1. The data
#
# `BuiltinDigits` draws 60,000 training and 10,000 test images of handwritten-style digits
# (1 x 28 x 28, white on black, like MNIST) from a fixed seed; they are generated once and
# cached. LeNet-5 takes 32 x 32 images: the paper padded the 28 x 28 digits by 2 pixels on
# each side so that strokes near the border still reach the centre of the first layer's 5 x 5
# windows. `T.Pad(2)` does that to every image the dataset returns.
#
# To stay within a minute on a laptop we train on the first 10,000 training images (1,000 per
# class) and test on all 10,000 test images.

# %%
TRAIN_SIZE = 10_000
train_set = BuiltinDigits(train=True, size=TRAIN_SIZE, transform=T.Pad(2))
test_set = BuiltinDigits(train=False, transform=T.Pad(2))
print(train_set, "\n", test_set, sep="")

image, label = train_set[0]
print("one sample:", image.shape, image.dtype, f"values in [{image.min()}, {image.max()}],",
      "label", label)
assert image.shape == (1, 32, 32) and image.dtype == np.float32
assert np.bincount(train_set.labels, minlength=10).tolist() == [TRAIN_SIZE // 10] * 10

fig, axes = plt.subplots(2, 10, figsize=(9, 2.3), layout="constrained")
for digit in range(10):
    for row, index in enumerate(np.flatnonzero(train_set.labels == digit)[:2]):
        axes[row, digit].imshow(train_set[index][0][0], cmap="gray")
        axes[row, digit].set_axis_off()
    axes[0, digit].set_title(str(digit))
fig.suptitle("training images (padded to 32 x 32)")
plt.show()

# %% [markdown]
# ## 2. The network
#
# `lenet5()` is the "modern" flavour courses teach today: ReLU and max pooling where the
# paper had tanh-like squashing and trainable average pooling. Each 5 x 5 'valid' convolution
# shrinks the image by 4 pixels, each 2 x 2 pooling halves it:
# $32 \to 28 \to 14 \to 10 \to 5$, so the classifier sees $16 \cdot 5 \cdot 5 = 400$ numbers.

# %%
model = lenet5()
stats = minicnn.summary(model, (1, 32, 32))
assert stats.total_params == 61_706
assert stats.total_params == (6 * 1 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) \
    + (120 * 84 + 84) + (84 * 10 + 10)
conv_macs = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25                 # C1 + C3
assert stats.total_macs == conv_macs + 400 * 120 + 120 * 84 + 84 * 10
print(f"F5 holds {48_120 / stats.total_params:.0%} of the parameters; "
      f"the convolutions do {conv_macs / stats.total_macs:.0%} of the multiply-accumulates")
assert 48_120 / stats.total_params > 0.75 and conv_macs / stats.total_macs > 0.8

# %% [markdown]
# Almost 80% of the parameters sit in the first fully connected layer (400 x 120), while
# most of the arithmetic is done by the two convolutions, which reuse their few weights at
# every position.
#
# ## 3. Training
#
# `fit` runs the loop you would write by hand: for every batch, `logits = model(x)`, the
# cross-entropy loss, `optimizer.zero_grad()`, `loss.backward()`, `optimizer.step()`; after
# every epoch it evaluates on the validation loader, prints one line and writes a checkpoint
# (weights, optimizer state, random-generator states: enough to resume exactly). Adam with a
# learning rate of 0.002 and batches of 64 passes 97% test accuracy in three short epochs.

# %%
initial_filters = model.features[0].weight.data.copy()     # to compare with after training
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=500)
optimizer = minicnn.optim.Adam(model.parameters(), lr=2e-3)

start = time.perf_counter()
history = fit(model, train_loader, test_loader, optimizer, epochs=3, checkpoint_dir=RUN,
              meta={"model": "lenet5", "model_args": {}}, progress=False)
print(f"trained in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# `history` holds one row per epoch (`history["val_top1"]` is a column), and `plot_history`
# draws the curves:

# %%
show_png(plot_history(history, RUN / "curves.png", title="LeNet-5 on the built-in digits"))

losses = history["train_loss"]
assert all(later < earlier for earlier, later in zip(losses, losses[1:]))   # falls every epoch
assert history["val_loss"][-1] < history["val_loss"][0]
assert history["train_loss"][0] > history["val_loss"][0]                    # see below
assert history["val_loss"][-1] < 1.2 * history["train_loss"][-1]          # no overfitting yet

# %% [markdown]
# The training loss of an epoch is the mean over its batches *while the weights were still
# changing*, so early in training it lies above the validation loss, which is measured with
# the weights at the end of the epoch. The two curves stay close: 1,000 images per class and
# three epochs are far from overfitting a 61,706-parameter network.
#
# ## 4. Test accuracy, and the checkpoint
#
# `evaluate` runs the model in eval mode under `no_grad` and returns the loss, top-1 and
# top-5 accuracy, and every prediction. On the same test set it must agree with the last
# validation line of `fit`.

# %%
result = evaluate(model, test_loader)
print(f"test loss {result.loss:.4f}, top-1 {100 * result.top1:.2f}%, "
      f"top-5 {100 * result.top5:.2f}%")
assert result.top1 > 0.97
assert np.isclose(result.top1, history["val_top1"][-1])
assert (result.predictions == result.labels).mean() == result.top1

# %% [markdown]
# The checkpoint in the run folder records the model's name, so `load_model` rebuilds the
# network and loads the trained weights; the reloaded copy predicts exactly the same. (The
# same file lets `fit(..., resume=True)` carry on training.)

# %%
reloaded = load_model(RUN / CHECKPOINT_NAME)
x = minicnn.tensor(np.stack([test_set[i][0] for i in range(200)]))         # (200, 1, 32, 32)
with minicnn.no_grad():
    assert np.array_equal(reloaded.eval()(x).data, model.eval()(x).data)
print("reloaded from", RUN / CHECKPOINT_NAME)

# %% [markdown]
# ## 5. What the network learnt
#
# ### First-layer filters
#
# The first convolution has six 5 x 5 kernels, one per output channel. Mid-grey is 0, white
# positive, black negative (one scale for all six in a figure). At initialisation they are
# independent random numbers; after training, neighbouring weights have become alike, so that
# several kernels show a light side and a dark side: a detector of a stroke's edge at one
# orientation.

# %%
show_png(plot_filters(initial_filters, RUN / "filters_initial.png"))
show_png(plot_filters(model, RUN / "filters.png"))

# %% [markdown]
# "Neighbouring weights have become alike" can be measured: the mean squared difference of
# adjacent weights, relative to twice their variance, is about 1 for independent random
# weights and smaller for a smooth pattern.

# %%
def roughness(weight):
    """Mean squared difference of adjacent taps over twice their variance (each filter's mean
    removed first), for a bank of single-channel filters (C_out, 1, K, K)."""
    w = weight[:, 0] - weight[:, 0].mean(axis=(1, 2), keepdims=True)          # (6, 5, 5)
    steps = np.concatenate([np.diff(w, axis=1).ravel(), np.diff(w, axis=2).ravel()])
    return (steps ** 2).mean() / (2 * (w ** 2).mean())


before, after = roughness(initial_filters), roughness(model.features[0].weight.data)
print(f"roughness of the first-layer filters: {before:.2f} at initialisation, "
      f"{after:.2f} after training")
assert after < 0.85 * before

# %% [markdown]
# ### Feature maps
#
# A feature map is the image correlated with one filter, plus its bias:
#
# $$\text{map}_c[i, j] = b_c + \sum_{u, v} w_c[u, v]\, x[i + u, j + v].$$
#
# We check that formula on the first layer with plain NumPy (`sliding_window_view` gives the
# 28 x 28 grid of 5 x 5 windows), then look at what each layer makes of one test digit.

# %%
digit = test_set[0][0]                                           # (1, 32, 32)
conv1 = model.features[0]
windows = np.lib.stride_tricks.sliding_window_view(digit[0], (5, 5))       # (28, 28, 5, 5)
by_hand = np.einsum("ijuv,cuv->cij", windows, conv1.weight.data[:, 0]) \
    + conv1.bias.data[:, None, None]                                        # (6, 28, 28)
with minicnn.no_grad():
    by_layer = conv1(minicnn.tensor(digit[None])).data[0]
assert np.allclose(by_hand, by_layer, atol=1e-5)

layers = ["features.0", "features.2", "features.3", "features.5"]   # C1, S2, C3, S4
show_png(plot_feature_maps(model, digit, RUN / "feature_maps.png", layers=layers))

# %% [markdown]
# C1 (6 x 28 x 28) still looks like the digit: each map is the digit filtered by one of the
# kernels above. S2 keeps the largest value of every 2 x 2 block, at half the size. Each of
# C3's 16 maps (10 x 10) sums filtered versions of all six S2 maps, so it responds to
# combinations of C1's patterns over a larger window (14 x 14 pixels of the input); after S4
# (16 x 5 x 5) the maps no longer look like the digit: they say roughly *where* each of
# the 16 patterns occurs, and the fully connected layers classify those 400 numbers.
#
# ## 6. What the network gets wrong
#
# `matrix[t, p]` counts the test images of true class `t` predicted as `p`: the diagonal holds
# the correct ones, so its sum over the total is the accuracy.

# %%
matrix = confusion_matrix(result.labels, result.predictions, num_classes=10)
show_png(plot_confusion_matrix(matrix, RUN / "confusion.png"))

assert matrix.sum() == len(test_set)
assert np.array_equal(matrix.sum(axis=1), np.bincount(test_set.labels, minlength=10))
assert np.isclose(np.trace(matrix) / matrix.sum(), result.top1)

errors = matrix - np.diag(np.diag(matrix))
true_class, predicted_class = np.unravel_index(errors.argmax(), errors.shape)
print(f"most frequent mistake: {true_class} read as {predicted_class} "
      f"({errors.max()} of {matrix[true_class].sum()} test images)")

# %% [markdown]
# The mistakes themselves, with the network's answer and its probability (the softmax of the
# logits) for that answer:

# %%
model.eval()
with minicnn.no_grad():
    probabilities = np.concatenate([F.softmax(model(minicnn.tensor(x)), axis=1).data
                                    for x, _ in test_loader])                # (10000, 10)
assert np.array_equal(probabilities.argmax(axis=1), result.predictions)
confidence = probabilities.max(axis=1)
wrong = np.flatnonzero(result.predictions != result.labels)

fig, axes = plt.subplots(2, 8, figsize=(9, 3), layout="constrained")
for ax, index in zip(axes.ravel(), wrong):
    ax.imshow(test_set[index][0][0], cmap="gray")
    ax.set_title(f"{result.labels[index]} as {result.predictions[index]}\n"
                 f"({100 * confidence[index]:.0f}%)", fontsize=8)
    ax.set_axis_off()
fig.suptitle(f"{len(wrong)} of {len(test_set)} test images misclassified (the first 16)")
plt.show()

right = np.setdiff1d(np.arange(len(test_set)), wrong)
print(f"median probability of the answer: {np.median(confidence[right]):.3f} when right, "
      f"{np.median(confidence[wrong]):.3f} when wrong")
assert np.median(confidence[wrong]) < 0.9 < np.median(confidence[right])

# %% [markdown]
# On its mistakes the network is mostly unsure: the median probability of a wrong answer is
# far below the near-certainty of its right ones, which is what makes the softmax output
# useful beyond the argmax (for instance to send doubtful cheques to a human).
# `python -m minicnn train lenet5` does what this notebook did, on all 60,000 training
# images, and leaves the same figures in its run folder.
#
# ## Summary
#
# * A training run is data (a `Dataset` and a `DataLoader`), a model, an optimizer and `fit`;
#   `fit` returns the per-epoch `History` and checkpoints every epoch.
# * LeNet-5's parameters are mostly in its fully connected layers, its arithmetic in its
#   convolutions.
# * First-layer filters turn from random noise into smoother patterns (measurably: their
#   roughness falls); deeper feature maps trade resolution for more channels.
# * The confusion matrix tells *which* classes are confused, beyond the single accuracy
#   figure; its diagonal over its total is the accuracy.
