# %% [markdown]
# # 9. Transfer learning, augmentation and test-time augmentation
#
# Three ways to get more out of a network without a bigger one:
#
# 1. **Augmentation**: train on randomly shifted copies of the images, so the network learns
#    that a digit moved by two pixels is the same digit.
# 2. **Test-time augmentation (TTA)** and **ensembles**: average the predicted probabilities
#    over several crops of a test image, or over several networks.
# 3. **Transfer learning**: a network trained on one task (digits 0-4) already computes
#    features that are useful for another (digits 5-9). Freeze it, compute its features
#    once, cache them, and train only a new classifier head on the cache, with 20 labelled
#    images per class.
#
# Everything uses LeNet-5 (tutorial 5) and the built-in digits, split into two tasks.

# %%
import time
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn.data import ArrayDataset, BuiltinDigits, DataLoader, transforms as T
from minicnn.models import lenet5
from minicnn.train import evaluate, evaluate_ensemble, fit
from minicnn.train.transfer import (Backbone, cache_features, freeze, replace_head, split_head,
                                    unfreeze)

RUN = Path("runs/tutorial09-transfer")          # the feature caches go here
SEED = 0

# %% [markdown]
# ## Two tasks from one dataset
#
# Task A is to tell the digits 0-4 apart, task B the digits 5-9; each has five classes,
# labelled 0-4 (`digit - first digit`). For task A we have plenty of images (the 0-4 among
# the first 12,000 training images, about 6,000); for task B only 20 per class.

# %%
train_digits = BuiltinDigits(train=True, size=12_000)
test_digits = BuiltinDigits(train=False)


def task(digits, classes, transform=None, per_class=None, first=None):
    """The images of ``digits`` (of its ``first`` images if given) whose class is in
    ``classes``, relabelled 0, 1, ...; only the first ``per_class`` of each class if given."""
    labels = digits.labels[:first]
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in classes])
    keep.sort()
    return ArrayDataset(digits.images[keep], digits.labels[keep] - classes[0],
                        transform=transform, scale=1 / 255)


A, B = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
print("task A:", len(task(train_digits, A)), "training images,",
      len(task(test_digits, A)), "test images")
print("task B:", len(task(train_digits, B, per_class=20)), "training images,",
      len(task(test_digits, B)), "test images")

# %% [markdown]
# ## 1. Augmentation: random shifts
#
# LeNet-5 takes 32 x 32 images; `Pad(2)` turns the 28 x 28 digits into that. `RandomCrop(32,
# padding=2)` then pads by 2 more pixels and cuts a 32 x 32 window at a random place: the
# digit moves by up to 2 pixels in each direction, a different shift every time the image is
# drawn (every epoch).

# %%
augment = T.Compose([T.Pad(2), T.RandomCrop(32, padding=2)])
plain = T.Pad(2)

digit = train_digits[0][0]                                        # (1, 28, 28)
rng = np.random.default_rng(SEED)
shifted = [augment(digit, rng=rng) for _ in range(8)]

fig, axes = plt.subplots(1, 9, figsize=(9, 1.4), layout="constrained")
for ax, image, title in zip(axes, [plain(digit)] + shifted, ["original"] + [""] * 8):
    ax.imshow(image[0], cmap="gray")
    ax.axhline(15.5, color="tab:red", lw=0.5)
    ax.axvline(15.5, color="tab:red", lw=0.5)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
fig.suptitle("RandomCrop(32, padding=2): eight draws (red lines: the image centre)")
plt.show()

# Each draw is the padded digit moved by (dy, dx) with |dy|, |dx| <= 2.
big = np.pad(digit[0], 4)                                         # 36 x 36: every shift fits
for image in shifted:
    matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
               if np.array_equal(image[0], big[2 - dy:34 - dy, 2 - dx:34 - dx])]
    assert matches, "every augmented image is a shifted copy"

# %% [markdown]
# ## 2. Two networks for task A
#
# Two LeNet-5s, differing only in their seed (initial weights, order of the batches, shifts), each
# trained for two epochs on task A with the random shifts, Adam, batches of 64. They are the
# members of an ensemble below, and the first one is the backbone for task B.

# %%
def train_task_a(seed):
    minicnn.manual_seed(seed)
    model = lenet5(num_classes=5)
    loader = DataLoader(task(train_digits, A, transform=augment), batch_size=64, shuffle=True)
    fit(model, loader, None, minicnn.optim.Adam(model.parameters(), lr=2e-3), epochs=2,
        progress=False)
    return model


start = time.perf_counter()
model_1, model_2 = train_task_a(SEED), train_task_a(SEED + 1)
print(f"trained both in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## 3. Test-time augmentation
#
# The usual evaluation shows the network one centred 32 x 32 image. TTA shows it several
# crops and averages the **probabilities** (the softmax outputs, not the logits):
#
# * `FiveCrop(32)` of a 36 x 36 image (the digit padded by 4): the four corners and the
#   centre, i.e. the digit shifted by 2 pixels diagonally four ways, and not at all.
# * `TenCrop(32)` adds the same five crops of the *mirror* image: AlexNet's test-time
#   recipe on ImageNet, where a mirrored cat is still a cat.
#
# `evaluate(model, loader, tta=..., crop_size=32)` cuts the crops from the batches of a
# loader that yields 36 x 36 images. We evaluate on the task A digits among the first 5,000
# test images (about 2,500).

# %%
test_a = task(test_digits, A, transform=T.Pad(2), first=5000)
test_a_36 = task(test_digits, A, transform=T.Pad(4), first=5000)
loader_a = DataLoader(test_a, batch_size=500)
loader_a_36 = DataLoader(test_a_36, batch_size=500)

crops = T.TenCrop(32)(test_a_36[0][0])                           # (10, 1, 32, 32)
fig, axes = plt.subplots(2, 5, figsize=(6, 2.7), layout="constrained")
names = ["top left", "top right", "bottom left", "bottom right", "centre"]
for k, ax in enumerate(axes.ravel()):
    ax.imshow(crops[k, 0], cmap="gray")
    ax.set_title(("mirror, " if k >= 5 else "") + names[k % 5], fontsize=7)
    ax.set_axis_off()
fig.suptitle("TenCrop(32) of one 36 x 36 test digit")
plt.show()
assert np.array_equal(crops[4], test_a[0][0])                    # the centre crop = Pad(2)

# %%
results = {}
for name, model in [("model 1", model_1), ("model 2", model_2)]:
    results[name, "single crop"] = evaluate(model, loader_a)
    results[name, "five-crop"] = evaluate(model, loader_a_36, tta="fivecrop", crop_size=32)
    results[name, "ten-crop"] = evaluate(model, loader_a_36, tta="tencrop", crop_size=32)

# %% [markdown]
# ## 4. An ensemble of the two
#
# `evaluate_ensemble` averages the two networks' probabilities (with TTA, each network's
# crop average first).

# %%
results["ensemble", "single crop"] = evaluate_ensemble([model_1, model_2], loader_a)

print(f"task A, {len(test_a):,} test images    top-1    loss")
for (name, how), result in results.items():
    print(f"{name + ', ' + how:28s} {100 * result.top1:6.2f}% {result.loss:7.4f}")

fig, ax = plt.subplots(figsize=(6.5, 2.6), layout="constrained")
keys = list(results)
colours = {"single crop": "tab:blue", "five-crop": "tab:orange", "ten-crop": "tab:red"}
ax.barh([f"{name}, {how}" for name, how in keys][::-1],
        [100 * (1 - results[k].top1) for k in keys][::-1],
        color=["tab:green" if name == "ensemble" else colours[how] for name, how in keys][::-1])
ax.set_xlabel("task A test error (%)")
plt.show()

# %% [markdown]
# Reading the table:
#
# * **Ten-crop is clearly worse than a single crop**: half its crops are mirror images, and
#   a mirrored 2 or 4 is not a digit the networks have seen; averaging in their confused
#   answers pulls the prediction away from the right one. Mirroring at test time is only
#   right when the classes are mirror-symmetric (photographs), not for digits or letters.
# * **Five-crop changes little** here: the accuracy moves by less than half a percent, and
#   the loss rises: the shifted crops are classified less confidently than the centred one,
#   and the average takes them in. TTA pays when a single crop loses part of the image, as
#   a 224 x 224 crop of a 256 x 256 ImageNet photograph does; a centred digit is already
#   whole in one crop.
# * **The ensemble is the best** of all these: two networks trained from different seeds
#   make partly different mistakes, and averaging their probabilities fixes some of them.
#   Its loss is guaranteed to be no more than the mean of its members' losses: $-\log$ is
#   convex, so $-\log \frac{p_1 + p_2}{2} \le \frac{-\log p_1 - \log p_2}{2}$ for every
#   image (Jensen's inequality).

# %%
for name in ("model 1", "model 2"):
    single, ten = results[name, "single crop"], results[name, "ten-crop"]
    assert ten.top1 < single.top1 - 0.01 and ten.loss > single.loss      # mirrors hurt
    five = results[name, "five-crop"]
    assert abs(five.top1 - single.top1) < 0.005 and five.loss > single.loss  # shifts: little
members = [results["model 1", "single crop"], results["model 2", "single crop"]]
ensemble = results["ensemble", "single crop"]
assert ensemble.loss <= np.mean([m.loss for m in members])               # always (Jensen)
assert ensemble.top1 >= max(result.top1 for result in results.values())

# %% [markdown]
# ## 5. Transfer learning: task B from task A's network
#
# Task B has 20 training images per class. We reuse model 1, trained on task A:
#
# 1. `replace_head(model, 5)` puts a fresh `Linear(84, 5)` where LeNet's last layer was
#    (`classifier.4`);
# 2. `freeze(model, but="classifier.4")` stops every other parameter from training;
# 3. `split_head(model)` gives the *backbone* (the model up to the head: its output is the
#    head's 84-number input) and the head, sharing the model's parameters;
# 4. `cache_features` runs the frozen backbone once over the data (eval mode, no gradients)
#    and saves the features to disk; the head then trains on the cache.
#
# Caching is exact: a frozen backbone in eval mode is a fixed function, so every epoch would
# recompute the same features (`tests/train/test_transfer.py` checks that training on the
# cache gives the same weights as training through the backbone). It would not be with random
# augmentation, which changes the input every epoch, so the task B data is not augmented.

# %%
transfer = model_1                       # model 1 is not used for task A any more
task_a_weights = {k: v.copy() for k, v in transfer.state_dict().items()}
replace_head(transfer, num_classes=5)
frozen = freeze(transfer, but="classifier.4")
backbone, head = split_head(transfer)
print(f"frozen: {len(frozen)} parameter arrays; trainable: "
      f"{[n for n, p in transfer.named_parameters() if p.requires_grad]}")

train_b = task(train_digits, B, transform=T.Pad(2), per_class=20)
test_b = task(test_digits, B, transform=T.Pad(2))
test_b_loader = DataLoader(test_b, batch_size=500)
start = time.perf_counter()
train_cache = cache_features(backbone, DataLoader(train_b, batch_size=100), RUN / "train_b.npz")
test_cache = cache_features(backbone, test_b_loader, RUN / "test_b.npz")
print(f"cached features {train_cache.features.shape} and {test_cache.features.shape} "
      f"in {time.perf_counter() - start:.1f} s")

# Asked again, cache_features finds the file, checks that it was made by a backbone with these
# very weights (a fingerprint of them is stored with the features) and loads it.
again = cache_features(backbone, test_b_loader, RUN / "test_b.npz")
assert again.fingerprint == test_cache.fingerprint
assert np.array_equal(again.features, test_cache.features)

# %% [markdown]
# The head is a 5-way softmax regression on 84 numbers: 100 epochs on 100 cached vectors
# take a fraction of a second.

# %%
def train_head(head, cache, epochs=100, lr=1e-2):
    """Train ``head`` on the cached features; its accuracy on the task B test cache."""
    minicnn.manual_seed(SEED)
    fit(head, DataLoader(cache["train"].dataset(), batch_size=20, shuffle=True), None,
        minicnn.optim.Adam([p for p in head.parameters() if p.requires_grad], lr=lr),
        epochs=epochs, progress=False, verbose=False)
    return evaluate(head, DataLoader(cache["test"].dataset(), batch_size=1000)).top1


start = time.perf_counter()
accuracy = {"last layer, task A": train_head(head, {"train": train_cache, "test": test_cache})}
head_seconds = time.perf_counter() - start
print(f"head trained in {head_seconds:.1f} s: task B test accuracy "
      f"{100 * accuracy['last layer, task A']:.2f}%")

# The head trained on the cache is the model's own head: the whole model gives the same
# answers on the images, and the frozen backbone did not move.
assert np.isclose(evaluate(transfer, test_b_loader).top1, accuracy["last layer, task A"])
state = transfer.state_dict()
assert all(np.array_equal(state[k], task_a_weights[k]) for k in state
           if not k.startswith("classifier.4"))

# %% [markdown]
# Is it task A's training that helps, or would any 84 numbers computed from the image do?
# The same recipe with an *untrained* LeNet (random weights) as the backbone:

# %%
minicnn.manual_seed(SEED)
untrained = lenet5(num_classes=5)
freeze(untrained, but="classifier.4")
random_backbone, random_head = split_head(untrained)
accuracy["last layer, untrained"] = train_head(random_head, {
    "train": cache_features(random_backbone, DataLoader(train_b, batch_size=100),
                            RUN / "train_b_untrained.npz"),
    "test": cache_features(random_backbone, test_b_loader, RUN / "test_b_untrained.npz")})
print(f"untrained backbone: {100 * accuracy['last layer, untrained']:.2f}%")

# %% [markdown]
# ### Where to cut
#
# The 84 numbers in front of LeNet's last layer were trained to separate 0-4 and nothing
# else: the top of a network is specific to its task, the lower layers compute more general
# features (strokes, curves, corners), as Yosinski et al. (2014, "How transferable are
# features in deep neural networks?") measured layer by layer. So cut lower: keep only the
# two convolutions frozen and cached (400 numbers per image), and train the whole classifier
# on top, starting from task A's weights with a fresh last layer. The backbone can be cut in
# front of any sub-module: `Backbone(model, "classifier")` returns what `model.classifier`
# receives.

# %%
unfreeze(transfer, "classifier")
replace_head(transfer, num_classes=5)                    # a fresh last layer again
conv_backbone, classifier = Backbone(transfer, "classifier"), transfer.classifier
conv_cache = {
    "train": cache_features(conv_backbone, DataLoader(train_b, batch_size=100),
                            RUN / "train_b_conv.npz"),
    "test": cache_features(conv_backbone, test_b_loader, RUN / "test_b_conv.npz")}
print("cached convolutional features:", conv_cache["train"].features.shape)
accuracy["convolutions, task A"] = train_head(classifier, conv_cache, lr=1e-3)
print(f"classifier on task A's convolutional features: "
      f"{100 * accuracy['convolutions, task A']:.2f}%")

# %% [markdown]
# Finally the obvious alternative: a whole LeNet-5 trained from scratch on the 100 images
# (all 61,706 parameters, with the random shifts, 60 epochs).

# %%
minicnn.manual_seed(SEED)
scratch = lenet5(num_classes=5)
start = time.perf_counter()
fit(scratch, DataLoader(task(train_digits, B, transform=augment, per_class=20), batch_size=20,
                        shuffle=True),
    None, minicnn.optim.Adam(scratch.parameters(), lr=2e-3), epochs=60, progress=False,
    verbose=False)
scratch_seconds = time.perf_counter() - start
accuracy["from scratch"] = evaluate(scratch, test_b_loader).top1
print(f"from scratch: {100 * accuracy['from scratch']:.2f}% (trained in {scratch_seconds:.1f} s)")

# %%
labels = {"last layer, task A": "head on task A's last features (84)",
          "last layer, untrained": "head on an untrained LeNet's features (84)",
          "convolutions, task A": "classifier on task A's conv features (400)",
          "from scratch": "whole LeNet-5 from scratch"}
fig, ax = plt.subplots(figsize=(7, 2.4), layout="constrained")
ax.barh([labels[k] for k in labels][::-1], [100 * accuracy[k] for k in labels][::-1],
        color=["tab:gray", "tab:blue", "tab:gray", "tab:blue"])
for y, key in enumerate(list(labels)[::-1]):
    ax.text(100 * accuracy[key] + 0.5, y, f"{100 * accuracy[key]:.1f}%", va="center", fontsize=8)
ax.set_xlim(50, 100)
ax.set_xlabel("task B test accuracy (%), 20 training images per class")
plt.show()

assert accuracy["last layer, task A"] > accuracy["last layer, untrained"] + 0.05
assert accuracy["convolutions, task A"] > accuracy["last layer, task A"] + 0.05
assert accuracy["from scratch"] > accuracy["last layer, task A"] + 0.05
assert abs(accuracy["from scratch"] - accuracy["convolutions, task A"]) < 0.05
assert head_seconds < scratch_seconds

# %% [markdown]
# What the numbers say:
#
# * Task A's features beat random ones: training on digits 0-4 taught the network something
#   about digits 5-9.
# * Where to cut matters a lot: task A's convolutional features are far better for task B
#   than its last hidden layer, which had specialised on 0-4.
# * On these digits, 100 images and random shifts (which cached features cannot have) are
#   enough for a small network trained from scratch to do as well as the best transfer,
#   within a few points: a LeNet trained on 6,000 images of five digits is a small
#   "pretrained" model, and the task is easy.
#   Transfer learning pays most when the pretrained network saw far more, and more varied,
#   data than the new task has: the everyday case is a network pretrained on ImageNet's
#   1.2 million photographs (minicnn loads torchvision's weights with
#   `minicnn.load_torch_state_dict`) adapted to a few hundred images of your own. Even
#   here, training a head on cached features takes less time than training a whole network
#   (compare the two times printed above), and the frozen features are computed once
#   however many heads or settings you try.
#
# ## Summary
#
# * Augmentation (`RandomCrop` with padding) shows the network each image at a new shift
#   every epoch.
# * TTA averages the softmax over crops; the crops must be transformations that keep the
#   class: shifts do, mirroring does not for digits.
# * An ensemble averages the softmax over networks; its loss is never above the mean of its
#   members' (convexity of $-\log$).
# * Transfer learning: `replace_head`, `freeze`, `split_head` (or `Backbone` at any cut),
#   `cache_features`, and train the head on the cache. Lower layers transfer better than
#   the last one.
