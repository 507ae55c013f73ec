"""Transfer learning: freeze a trained network, give it a new classifier head, and train
that head on features computed once and cached on disk.

The recipe (fine-tuning only the last layer of a network trained on other data)::

    from minicnn.train import fit
    from minicnn.train.transfer import cache_features, replace_head, split_head

    model = resnet18(num_classes=1000)
    model.load_state_dict(pretrained)                  # e.g. torchvision's weights
    replace_head(model, num_classes=10)                # a fresh fc: 512 -> 10
    backbone, head = split_head(model)                 # everything up to fc, and fc
    train = cache_features(backbone, DataLoader(train_set, 64), "cache/train.npz")
    test = cache_features(backbone, DataLoader(test_set, 64), "cache/test.npz")
    fit(head, DataLoader(train.dataset(), 64, shuffle=True), DataLoader(test.dataset(), 256),
        SGD(head.parameters(), lr=0.01, momentum=0.9), epochs=20)
    # model now holds the trained head (``head`` is ``model.fc``, shared, not a copy)

Why caching is allowed. A frozen backbone run in eval mode (batch norm on its running
statistics, dropout off) is a fixed function: image ``i`` gives the same feature vector
``f_i`` in every epoch. Training the head through the backbone recomputes every ``f_i`` each
epoch; training it on the cached ``f_i`` gives the same batches of the same numbers, so the
same gradients and the same weights (``tests/train/test_transfer.py`` checks it), at the
cost of one backbone pass instead of one per epoch. Two things break the equivalence:
random augmentation (each epoch sees a different image, so a different ``f_i``), and a
backbone left in training mode (batch statistics, dropout). The cache therefore suits
no-augmentation training; with augmentation, train through the frozen backbone instead:

    freeze(model, but=["fc"])                          # requires_grad False except fc
    fit(model, loader, None, SGD([p for p in model.parameters() if p.requires_grad], 0.01),
        epochs=5, eval_modules=frozen_modules(model))  # frozen parts stay in eval mode

Freezing (``freeze``/``unfreeze``) selects parameters by dotted name prefix on name
boundaries (``"layer1"`` matches ``layer1.0.conv1.weight``, not ``layer10.weight``); a frozen
parameter gets no gradient (ops skip computing it, see ``Context.needs_input_grad``) and
optimizers leave it alone.

The head of each model in ``minicnn.models`` (``find_head``):

    fc                     ResNet (and CIFAR ResNets), GoogLeNet, Inception-v3, MobileNet-v1
    classifier.<last Linear>   LeNet-5 (classifier.4), AlexNet (classifier.6), VGG
                               (classifier.6, or classifier.0 with small_input),
                               MobileNet-v2 (classifier.1)
    classifier.1           SqueezeNet: the final 1x1 convolution (there is no Linear; the
                           convolution is followed by ReLU and global average pooling)

GoogLeNet's and Inception-v3's auxiliary classifiers end in their own Linear
(``aux1.fc2``, ``aux2.fc2``, ``AuxLogits.fc``); ``replace_head`` replaces those too, so the
training-mode outputs all have ``num_classes`` columns.
"""

import hashlib
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import Tensor, no_grad
from ..data.cache import load_arrays, save_arrays
from ..data.dataset import Dataset
from .progress import PassProgress, bar_wanted

__all__ = ["freeze", "unfreeze", "frozen_modules", "find_head", "replace_head", "split_head",
           "Backbone", "FeatureCache", "FeatureDataset", "cache_features"]


# ----------------------------------------------------------------------------- freezing


def _matches(name, prefix):
    """Whether dotted ``name`` is ``prefix`` or lies under it (``layer1`` not ``layer10``)."""
    return prefix == "" or name == prefix or name.startswith(prefix + ".")


def _as_prefixes(prefixes, argument):
    if prefixes is None:
        return None
    if isinstance(prefixes, str):
        return [prefixes]
    prefixes = list(prefixes)
    if not all(isinstance(p, str) for p in prefixes):
        raise TypeError(f"{argument} must be a name prefix (str) or a list of them, got "
                        f"{prefixes!r}")
    return prefixes


def _select(model, prefixes, but, caller):
    """Names of the parameters under ``prefixes`` (all when None) and not under ``but``."""
    prefixes = _as_prefixes(prefixes, "prefixes")
    but = _as_prefixes(but, "but") or []
    names = [name for name, _ in model.named_parameters()]
    for argument, given in (("prefixes", prefixes or []), ("but", but)):
        unknown = [p for p in given if not any(_matches(n, p) for n in names)]
        if unknown:
            tops = sorted({n.split(".")[0] for n in names})
            raise ValueError(f"{caller}: {argument} {unknown!r} match(es) no parameter of "
                             f"{type(model).__name__}; its top-level names are {tops}")
    return [n for n in names
            if (prefixes is None or any(_matches(n, p) for p in prefixes))
            and not any(_matches(n, p) for p in but)]


def _set_requires_grad(model, names, flag):
    params = dict(model.named_parameters())
    for name in names:
        params[name].requires_grad_(flag)
        if not flag:
            params[name].grad = None  # a stale gradient must not be applied by an optimizer
    return names


def freeze(model, prefixes=None, *, but=None):
    """Stop training the parameters selected by name prefix; returns their names.

    Parameters
    ----------
    model : Module
    prefixes : str or list of str, optional
        Dotted name prefixes, e.g. ``["conv1", "bn1", "layer1"]``; None selects every
        parameter.
    but : str or list of str, optional
        Prefixes to leave alone: ``freeze(model, but="fc")`` freezes everything except the
        head.

    Returns
    -------
    list of str
        The names of the parameters now frozen (``requires_grad`` False, ``.grad`` None).

    Raises
    ------
    ValueError
        If a prefix matches no parameter (a typo would otherwise freeze nothing).
    """
    return _set_requires_grad(model, _select(model, prefixes, but, "freeze"), False)


def unfreeze(model, prefixes=None, *, but=None):
    """The reverse of ``freeze`` (same arguments): the selected parameters train again."""
    return _set_requires_grad(model, _select(model, prefixes, but, "unfreeze"), True)


def frozen_modules(model):
    """The top-most sub-modules with no trainable parameter, for ``fit(eval_modules=...)``.

    A module whose parameters are all frozen (or that has none, such as ReLU or Dropout)
    is listed, unless its parent is; a module with some trainable parameters is searched
    inside. Keeping these in eval mode while the rest trains makes a frozen backbone a
    fixed function: batch norm uses its running statistics, dropout is off (which caching
    features requires). A Dropout sits in no parameter's way, so it is listed wherever it
    is, e.g. the one in front of GoogLeNet's ``fc``: take it out of the list to keep it on.

    Returns
    -------
    list of str
        Dotted module names, e.g. ``['conv1', 'bn1', 'relu', 'layer1', ..., 'avgpool']``.
    """
    names = []

    def visit(prefix, module):
        for name, child in module.named_children():
            full = f"{prefix}.{name}" if prefix else name
            if any(p.requires_grad for p in child.parameters()):
                visit(full, child)
            else:
                names.append(full)
    visit("", model)
    return names


# ----------------------------------------------------------------------------- the head


def _get(model, name):
    module = model
    for part in name.split("."):
        module = module._modules.get(part) if isinstance(module, nn.Module) else None
        if module is None:
            raise ValueError(f"{type(model).__name__} has no sub-module {name!r}")
    return module


def _set(model, name, layer):
    parent_name, _, leaf = name.rpartition(".")
    parent = _get(model, parent_name) if parent_name else model
    setattr(parent, leaf, layer)


def find_head(model):
    """The dotted name of ``model``'s classifier layer (see the module docstring).

    ``fc`` if the model has a Linear ``fc``; otherwise the last Linear of a Sequential
    ``classifier``, or its last Conv2d if it has no Linear (SqueezeNet).

    Raises
    ------
    ValueError
        For a model with neither; pass the name yourself (``attr=``) then.
    """
    children = model._modules
    if isinstance(children.get("fc"), nn.Linear):
        return "fc"
    classifier = children.get("classifier")
    if isinstance(classifier, nn.Sequential):
        for kind in (nn.Linear, nn.Conv2d):
            names = [name for name, layer in classifier.named_children()
                     if isinstance(layer, kind)]
            if names:
                return f"classifier.{names[-1]}"
    raise ValueError(f"cannot find the classifier head of {type(model).__name__}: expected a "
                     f"Linear 'fc' or a Sequential 'classifier' holding a Linear or Conv2d; "
                     f"name it with attr= (e.g. attr='head.2')")


def _aux_heads(model):
    """The names of the auxiliary classifiers' final layers (GoogLeNet, Inception-v3)."""
    names = []
    for aux, layer in (("aux1", "fc2"), ("aux2", "fc2"), ("AuxLogits", "fc")):
        module = model._modules.get(aux)
        if module is not None and isinstance(module._modules.get(layer), nn.Linear):
            names.append(f"{aux}.{layer}")
    return names


def _new_layer(old, num_classes):
    """A freshly initialised layer like ``old`` (Linear or Conv2d) with ``num_classes`` outputs."""
    if isinstance(old, nn.Linear):
        layer = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    elif isinstance(old, nn.Conv2d):
        if old.groups != 1:
            raise ValueError(f"replace_head: the head is a grouped Conv2d (groups={old.groups}); "
                             f"only groups=1 can change its output channels")
        layer = nn.Conv2d(old.in_channels, num_classes, old.kernel_size, stride=old.stride,
                          padding=old.padding, dilation=old.dilation,
                          bias=old.bias is not None)
    else:
        raise TypeError(f"replace_head: the head must be a Linear or Conv2d, got "
                        f"{type(old).__name__}")
    return layer.to(old.weight.dtype)


def replace_head(model, num_classes, attr=None, aux=True):
    """Put a new, untrained classifier layer with ``num_classes`` outputs in place of the old.

    Parameters
    ----------
    model : Module
        Changed in place.
    num_classes : int
    attr : str, optional
        The dotted name of the layer to replace; found by ``find_head`` when None.
    aux : bool
        Also replace the auxiliary classifiers' last layers (GoogLeNet, Inception-v3).

    Returns
    -------
    Module
        The new head layer: same input size, bias and dtype as the old one, PyTorch's
        default initialisation. A ``model.num_classes`` attribute is updated too.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be a positive int, got {num_classes!r}")
    name = find_head(model) if attr is None else attr
    head = _new_layer(_get(model, name), num_classes)
    _set(model, name, head)
    if aux and attr is None:
        for aux_name in _aux_heads(model):
            _set(model, aux_name, _new_layer(_get(model, aux_name), num_classes))
    if isinstance(model.__dict__.get("num_classes"), int):
        model.num_classes = num_classes
    return head


class _HeadReached(Exception):
    """Raised by ``Backbone``'s hook to stop the forward pass at the head, with its input."""

    def __init__(self, features):
        super().__init__()
        self.features = features


class Backbone(nn.Module):
    """``model`` up to its head: returns what the head layer receives.

    The forward pass runs ``model`` and stops when it reaches the head layer (a forward
    pre-hook), returning the head's input, e.g. ``(N, 512)`` for ResNet-18's ``fc``. The
    parameters are ``model``'s own (shared, not copied; the head's are among them but are
    not used).

    Parameters
    ----------
    model : Module
    head : str
        The dotted name of the head layer (see ``find_head``).
    """

    def __init__(self, model, head):
        super().__init__()
        _get(model, head)  # fails early for a wrong name
        self.model = model
        self.head = head

    def forward(self, x):
        def stop(module, inputs):
            raise _HeadReached(inputs[0])
        handle = _get(self.model, self.head).register_forward_pre_hook(stop)
        try:
            self.model(x)
        except _HeadReached as reached:
            return reached.features
        finally:
            handle.remove()
        raise RuntimeError(f"Backbone: the forward pass of {type(self.model).__name__} never "
                           f"called its head {self.head!r}")

    def extra_repr(self):
        return f"head={self.head!r}"


def split_head(model, attr=None):
    """``(backbone, head)``: two modules sharing ``model``'s parameters, with
    ``head(backbone(x)) == model(x)`` in eval mode.

    ``backbone`` is a ``Backbone`` (the input of the head layer). ``head`` is the head
    layer itself when it is the model's last operation (every model but SqueezeNet);
    SqueezeNet's head is ``Sequential(final conv, ReLU, AdaptiveAvgPool2d, Flatten)``: the
    classifier's layers from the final convolution on, and the model's final flatten.

    Parameters
    ----------
    model : Module
    attr : str, optional
        The head layer's dotted name; ``find_head`` by default.
    """
    name = find_head(model) if attr is None else attr
    layer = _get(model, name)
    parent_name, _, leaf = name.rpartition(".")
    parent = _get(model, parent_name) if parent_name else model
    head = layer
    if isinstance(parent, nn.Sequential):
        keys = list(parent._modules)
        trailing = [parent._modules[k] for k in keys[keys.index(leaf) + 1:]]
        if trailing:  # SqueezeNet: conv, ReLU, global pool, then the model flattens
            head = nn.Sequential(layer, *trailing, nn.Flatten())
    return Backbone(model, name), head


# ----------------------------------------------------------------------------- feature cache


class FeatureDataset(Dataset):
    """Cached features and their labels as a dataset: ``ds[i] -> (features[i], label)``.

    Unlike ``ArrayDataset`` it keeps the features' dtype (float64 features stay float64),
    so training on them reproduces training through the backbone exactly.
    """

    def __init__(self, features, labels):
        if len(features) != len(labels):
            raise ValueError(f"features and labels must have the same length, got "
                             f"{len(features)} and {len(labels)}")
        self.features, self.labels = features, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.features[index], int(self.labels[index])

    def get(self, index, rng):
        return self[index]

    def get_batch(self, indices, rng):
        indices = np.asarray(indices, dtype=np.intp)
        return self.features[indices], self.labels[indices].astype(np.int64)


class FeatureCache:
    """What ``cache_features`` returns: the features of a dataset, and where they live.

    Attributes
    ----------
    features : ndarray, (N, ...)
        The backbone's output per sample, in the loader's order, in the backbone's dtype.
    labels : ndarray of int64, (N,)
    path : Path
        The ``.npz`` file (arrays ``features``, ``labels``, ``fingerprint``).
    fingerprint : str
        A hash of the backbone's weights and buffers (without the head's) when cached.
    """

    def __init__(self, features, labels, path, fingerprint):
        self.features, self.labels = features, labels
        self.path, self.fingerprint = Path(path), fingerprint

    def __len__(self):
        return len(self.labels)

    def dataset(self):
        """The cache as a ``FeatureDataset``, for a ``DataLoader``."""
        return FeatureDataset(self.features, self.labels)

    @classmethod
    def load(cls, path):
        """The cache stored at ``path``, or None if it is missing or unreadable."""
        arrays = load_arrays(path)
        if arrays is None or not {"features", "labels", "fingerprint"} <= set(arrays):
            return None
        return cls(arrays["features"], arrays["labels"], path, str(arrays["fingerprint"]))

    def __repr__(self):
        return (f"FeatureCache({len(self)} samples, features {self.features.shape[1:]} "
                f"{self.features.dtype}, path={str(self.path)!r})")


def _fingerprint(backbone):
    """SHA-1 of the backbone's parameters and buffers (names, dtypes, shapes, values),
    leaving out a ``Backbone``'s head: training the head does not invalidate the cache."""
    skip = f"model.{backbone.head}" if isinstance(backbone, Backbone) else None
    digest = hashlib.sha1(type(backbone).__name__.encode())
    for name, array in [(n, p.data) for n, p in backbone.named_parameters()] + \
            list(backbone.named_buffers()):
        if skip is not None and (name == skip or name.startswith(skip + ".")):
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{name}{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def cache_features(backbone, loader, path, recompute=False, progress=False):
    """Run the frozen ``backbone`` once over ``loader`` and store its outputs on disk.

    The backbone runs in eval mode under ``no_grad`` (its modes are restored afterwards).
    If ``path`` already holds a cache made by a backbone with the same weights, it is
    loaded instead; a cache from other weights is recomputed. The cache trusts the path to
    name the data: use one path per dataset (and per preprocessing).

    Parameters
    ----------
    backbone : Module
        E.g. the ``Backbone`` of ``split_head``.
    loader : iterable of (x ndarray (N, ...), y int ndarray (N,))
        Without random augmentation (the cache would freeze one draw of it).
    path : str or Path
        The ``.npz`` file; written atomically (a temporary file, then renamed), its folder
        created if needed.
    recompute : bool
        Ignore an existing cache.
    progress : bool
        A bar in a terminal.

    Returns
    -------
    FeatureCache
    """
    if not isinstance(backbone, nn.Module):
        raise TypeError(f"cache_features: backbone must be a Module, got "
                        f"{type(backbone).__name__}")
    path = Path(path)
    fingerprint = _fingerprint(backbone)
    if not recompute:
        cached = FeatureCache.load(path)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
    params = list(backbone.parameters())
    dtype = params[0].dtype if params else np.float32
    modes = [(module, module.training) for module in backbone.modules()]
    backbone.eval()
    features, labels = [], []
    bar = PassProgress(_length(loader), "caching features", bar_wanted(progress))
    try:
        with no_grad():
            for x, y in loader:
                out = backbone(Tensor(np.asarray(x, dtype=dtype)))
                features.append(out.data)
                labels.append(np.asarray(y, dtype=np.int64))
                bar.update(sum(len(b) for b in labels))
    finally:
        bar.close()
        for module, training in modes:
            object.__setattr__(module, "training", training)
    if not features:
        raise ValueError("cache_features: the loader yielded no batches")
    features, labels = np.concatenate(features), np.concatenate(labels)
    save_arrays(path, features=features, labels=labels, fingerprint=np.array(fingerprint))
    return FeatureCache(features, labels, path, fingerprint)


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None
