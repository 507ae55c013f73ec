"""Transfer learning: freezing by name prefix, replacing the head of every model family,
splitting a model into backbone and head, and the feature cache (training the head on
cached features gives the same weights as training it through the frozen backbone)."""

import os

import numpy as np
import pytest

import minicnn
from minicnn import functional as F, models, nn, optim
from minicnn.data import DataLoader
from minicnn.train import fit
from minicnn.train.transfer import (Backbone, FeatureCache, cache_features, find_head, freeze,
                                    frozen_modules, replace_head, split_head, unfreeze)

from ._toy import CLASSES, toy_dataset


class SmallNet(nn.Module):
    """conv - batch norm - ReLU - max-pool - dropout - fc: every part whose behaviour
    depends on the mode (batch norm, dropout) sits in the backbone."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4 * 4 * 4, CLASSES)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))       # (N, 1, 8, 8) -> (N, 4, 4, 4)
        return self.fc(self.drop(x.flatten(1)))          # -> (N, 64) -> (N, 3)


def _small_net(dtype=np.float32):
    minicnn.manual_seed(0)
    model = SmallNet().to(dtype)
    rng = np.random.default_rng(5)  # running statistics far from (0, 1): eval mode matters
    model.bn.running_mean[...] = rng.normal(0, 0.5, 4)
    model.bn.running_var[...] = rng.uniform(0.5, 2.0, 4)
    return model


def _params(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


# ----------------------------------------------------------------------------- freezing


def _sgd_steps(model, steps=3):
    """A few SGD steps with momentum and weight decay over *all* parameters."""
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = minicnn.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32))
        loss = F.cross_entropy(model(x), rng.integers(0, 10, 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_frozen_parameters_get_no_gradient_and_do_not_move():
    minicnn.manual_seed(0)
    model = models.resnet20()
    frozen = freeze(model, ["conv1", "layer1"])
    assert frozen and all(n.startswith(("conv1.", "layer1.")) for n in frozen)
    assert "conv1.weight" in frozen and "layer1.2.bn2.bias" in frozen
    before = _params(model)
    _sgd_steps(model)
    params = dict(model.named_parameters())
    for name, p in params.items():
        if name in frozen:
            assert not p.requires_grad and p.grad is None, name
            np.testing.assert_array_equal(p.data, before[name], err_msg=name)
        else:
            assert p.requires_grad and p.grad is not None, name
            assert not np.array_equal(p.data, before[name]), name


def test_freeze_everything_but_the_head_and_unfreeze_part():
    minicnn.manual_seed(0)
    model = models.resnet20()
    frozen = freeze(model, but="fc")
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]
    assert len(frozen) == len(list(model.parameters())) - 2
    assert frozen_modules(model) == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3",
                                     "avgpool"]
    thawed = unfreeze(model, "layer3", but="layer3.0")
    assert thawed and all(n.startswith(("layer3.1.", "layer3.2.")) for n in thawed)
    assert all(p.requires_grad == (n in thawed or n.startswith("fc."))
               for n, p in model.named_parameters())
    listed = frozen_modules(model)
    assert listed[:5] == ["conv1", "bn1", "relu", "layer1", "layer2"]
    assert "layer3.0" in listed and "layer3.1.relu" in listed and "layer3.1" not in listed
    assert unfreeze(model) == [n for n, _ in model.named_parameters()]  # None: everything
    listed = frozen_modules(model)                  # modules without parameters remain
    assert "relu" in listed and "layer1.0.relu" in listed and "avgpool" in listed
    assert all(not list(m.parameters()) for m in map(dict(model.named_modules()).get, listed))


def test_prefixes_match_whole_names_and_unknown_ones_are_errors():
    model = nn.Module()
    model.layer1 = nn.Linear(2, 2)
    model.layer10 = nn.Linear(2, 2)
    assert freeze(model, "layer1") == ["layer1.weight", "layer1.bias"]
    assert model.layer10.weight.requires_grad
    with pytest.raises(ValueError, match=r"\['layer2'\].*top-level names are \['layer1', "
                                         r"'layer10'\]"):
        freeze(model, ["layer1", "layer2"])
    with pytest.raises(ValueError, match="but"):
        unfreeze(model, but="fc")
    with pytest.raises(TypeError, match="prefixes"):
        freeze(model, [1])


def test_freezing_clears_a_stale_gradient():
    model = nn.Linear(2, 2)
    model.weight.grad = np.ones((2, 2), np.float32)
    freeze(model, "weight")
    assert model.weight.grad is None and model.bias.requires_grad


def test_frozen_modules_for_a_head_inside_a_sequential():
    model = models.lenet5()
    freeze(model, but=find_head(model))
    assert frozen_modules(model) == ["features", "classifier.0", "classifier.1",
                                     "classifier.2", "classifier.3"]


# ----------------------------------------------------------------------------- heads

# (constructor, kwargs, input (C, H, W), head name, the head's input shape per sample)
FAMILIES = [
    ("lenet5", {}, (1, 32, 32), "classifier.4", (84,)),
    ("resnet20", {}, (3, 16, 16), "fc", (64,)),
    ("resnet18", {}, (3, 32, 32), "fc", (512,)),
    ("vgg11", {"small_input": True}, (3, 32, 32), "classifier.0", (512,)),
    ("mobilenet_v1", {"width_mult": 0.25, "small_input": True}, (3, 32, 32), "fc", (256,)),
    ("mobilenet_v2", {"width_mult": 0.5}, (3, 32, 32), "classifier.1", (1280,)),
    ("squeezenet1_1", {}, (3, 48, 48), "classifier.1", (512, 2, 2)),
    ("googlenet", {}, (3, 48, 48), "fc", (1024,)),
    pytest.param("alexnet", {}, (3, 64, 64), "classifier.6", (4096,), marks=pytest.mark.slow),
    pytest.param("inception_v3", {}, (3, 75, 75), "fc", (2048,), marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name, kwargs, chw, head_name, feature_shape", FAMILIES)
def test_replace_head_and_split_head_for_each_family(name, kwargs, chw, head_name,
                                                     feature_shape):
    minicnn.manual_seed(0)
    model = getattr(models, name)(**kwargs)
    assert find_head(model) == head_name
    old = dict(model.named_parameters())
    old_head = {k for k in old if k.startswith(head_name + ".")}
    head = replace_head(model, 7)

    new = dict(model.named_parameters())
    assert set(new) == set(old)
    for key in old_head:  # a fresh layer: new arrays, 7 outputs, the same input size
        assert new[key] is not old[key]
        assert new[key].shape == (7,) + old[key].shape[1:]
    assert all(new[k] is old[k] for k in old if k not in old_head and ".fc" not in "." + k)
    assert new[head_name + ".weight"] is head.weight

    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, *chw)).astype(np.float32))
    model.eval()
    backbone, tail = split_head(model)
    with minicnn.no_grad():
        logits = model(x)
        features = backbone(x)
        assert logits.shape == (2, 7)
        assert features.shape == (2, *feature_shape)
        np.testing.assert_allclose(tail(features).data, logits.data, rtol=1e-6, atol=1e-7)
    assert model.training is False  # the backbone does not change modes


def test_replace_head_replaces_the_auxiliary_heads_too():
    minicnn.manual_seed(0)
    model = models.googlenet()
    replace_head(model, 5)
    assert [model.fc.out_features, model.aux1.fc2.out_features,
            model.aux2.fc2.out_features] == [5, 5, 5]
    assert model.aux1.fc2.in_features == 1024
    model = models.googlenet()
    replace_head(model, 5, aux=False)
    assert model.aux1.fc2.out_features == 1000


def test_replace_head_keeps_dtype_bias_and_updates_num_classes():
    model = models.squeezenet1_1().double()
    head = replace_head(model, 4)
    assert head.weight.dtype == np.float64 and head.weight.shape == (4, 512, 1, 1)
    assert model.num_classes == 4
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2, bias=False))
    head = replace_head(model, 6, attr="2")
    assert model[2] is head and head.bias is None and head.weight.shape == (6, 5)


def test_find_head_names_what_it_looked_for():
    with pytest.raises(ValueError, match="attr="):
        find_head(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="replace_head: num_classes"):
        replace_head(models.lenet5(), 0)
    with pytest.raises(ValueError, match="no sub-module 'head'"):
        replace_head(models.lenet5(), 3, attr="head")


def test_backbone_stops_at_the_head_and_reports_a_head_never_called():
    model = _small_net()
    model.eval()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32))
    backbone, head = split_head(model)
    assert isinstance(backbone, Backbone) and head is model.fc
    assert backbone(x).shape == (3, 64)
    assert not model.fc._forward_pre_hooks       # the hook is removed again
    model.fc2 = nn.Linear(2, 2)                  # registered but never called
    with pytest.raises(RuntimeError, match="never called its head 'fc2'"):
        Backbone(model, "fc2")(x)


# ----------------------------------------------------------------------------- feature cache


def _train_both_ways(dtype, tmp_path, epochs=3, batch_size=8):
    """The same head trained through the frozen backbone (a) and on cached features (b)."""
    dataset = toy_dataset(60, seed=2)
    kwargs = dict(val_loader=None, epochs=epochs, progress=False, verbose=False)

    model_a = _small_net(dtype)
    freeze(model_a, but="fc")
    fit(model_a, DataLoader(dataset, batch_size, shuffle=True, seed=3),
        optimizer=optim.SGD([p for p in model_a.parameters() if p.requires_grad], lr=0.1,
                            momentum=0.9),
        eval_modules=frozen_modules(model_a), **kwargs)

    model_b = _small_net(dtype)
    backbone, head = split_head(model_b)
    cache = cache_features(backbone, DataLoader(dataset, 25), tmp_path / "train.npz")
    assert cache.features.dtype == dtype and cache.features.shape == (60, 64)
    fit(head, DataLoader(cache.dataset(), batch_size, shuffle=True, seed=3),
        optimizer=optim.SGD(head.parameters(), lr=0.1, momentum=0.9), **kwargs)
    return model_a, model_b


@pytest.mark.parametrize("dtype, atol", [(np.float64, 0.0), (np.float32, 1e-6)])
def test_training_on_cached_features_equals_training_through_the_frozen_backbone(
        dtype, atol, tmp_path):
    model_a, model_b = _train_both_ways(dtype, tmp_path)
    start = _small_net(dtype)
    assert np.abs(model_b.fc.weight.data - start.fc.weight.data).max() > 1e-2  # it trained
    for name, p in model_a.named_parameters():
        q = dict(model_b.named_parameters())[name]
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=atol, err_msg=name)
        if not name.startswith("fc."):  # frozen: untouched in both
            np.testing.assert_array_equal(p.data, dict(start.named_parameters())[name])
    for a, b in zip(model_a.buffers(), model_b.buffers()):  # running statistics did not move
        np.testing.assert_array_equal(a, b)


def test_a_cache_is_reused_until_the_backbone_changes(tmp_path):
    model = _small_net()
    model.train()
    backbone, head = split_head(model)
    dataset = toy_dataset(20, seed=1)
    path = tmp_path / "cache" / "features.npz"
    with minicnn.no_grad():
        expected = backbone(minicnn.tensor(dataset.images)).data  # training mode: differs
        model.eval()
        expected_eval = backbone(minicnn.tensor(dataset.images)).data
        model.train()
    calls = []
    handle = model.conv.register_forward_hook(lambda *args: calls.append(1))
    first = cache_features(backbone, DataLoader(dataset, 8), path)
    assert len(calls) == 3 and path.is_file() and os.listdir(path.parent) == ["features.npz"]
    assert model.training and model.bn.training      # modes are restored
    np.testing.assert_array_equal(first.labels, dataset.labels)
    np.testing.assert_allclose(first.features, expected_eval, rtol=1e-6, atol=1e-6)
    assert not np.allclose(first.features, expected, atol=1e-2)

    head.weight.data += 1                              # training the head keeps the cache
    again = cache_features(backbone, DataLoader(dataset, 8), path)
    assert len(calls) == 3
    np.testing.assert_array_equal(again.features, first.features)
    assert again.fingerprint == first.fingerprint and isinstance(again, FeatureCache)

    cache_features(backbone, DataLoader(dataset, 8), path, recompute=True)
    assert len(calls) == 6
    model.conv.weight.data *= 2                        # other weights: computed again
    changed = cache_features(backbone, DataLoader(dataset, 8), path)
    assert len(calls) == 9 and changed.fingerprint != first.fingerprint
    assert FeatureCache.load(path).fingerprint == changed.fingerprint
    handle.remove()


def test_cache_features_rejects_bad_input(tmp_path):
    model = _small_net()
    with pytest.raises(TypeError, match="backbone must be a Module"):
        cache_features(lambda x: x, [], tmp_path / "f.npz")
    with pytest.raises(ValueError, match="no batches"):
        cache_features(split_head(model)[0], [], tmp_path / "f.npz")
    assert FeatureCache.load(tmp_path / "missing.npz") is None
