"""Whole small networks: gradient checks through every layer, and freezing.

The first check is the issue's chain, Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Flatten
-> Linear -> CrossEntropyLoss, in float64 (``model.double()``) and training mode, with
respect to the input and every parameter, over hypothesis-drawn sizes. Inputs that put a
ReLU input or a max-pool near-tie within 1e-4 of a kink are rejected (``assume``), never
covered by a looser tolerance: gradcheck's steps of 1e-6 move activations by ~1e-6.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minicnn
from minicnn import nn
from minicnn.kernels import conv as conv_kernels

KINK_MARGIN = 1e-4


def _min_pool_gap(a, k):
    """Smallest gap between the largest and second largest value of any k x k window."""
    n, c, h, w = a.shape
    windows = a[:, :, :h - h % k, :w - w % k].reshape(n, c, h // k, k, w // k, k)
    windows = np.sort(windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, -1))
    return (windows[..., -1] - windows[..., -2]).min()


@given(n=st.just(2), c_in=st.integers(1, 2), c_out=st.integers(1, 2),
       size=st.integers(4, 5), kernel=st.sampled_from([1, 3]), classes=st.integers(2, 3),
       seed=st.integers(0, 2**31 - 1))
def test_gradcheck_conv_bn_relu_pool_linear_cross_entropy(n, c_in, c_out, size, kernel,
                                                           classes, seed):
    minicnn.manual_seed(seed)
    pooled = size // 2
    model = nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(c_out * pooled * pooled, classes)).double()
    rng = np.random.default_rng(seed)
    x = minicnn.tensor(rng.standard_normal((n, c_in, size, size)), requires_grad=True)
    target = rng.integers(0, classes, n)
    with minicnn.no_grad():
        pre_relu = model[:2](x).data
    assume(np.abs(pre_relu).min() > KINK_MARGIN)
    assume(_min_pool_gap(np.maximum(pre_relu, 0), 2) > KINK_MARGIN)
    loss_fn = nn.CrossEntropyLoss()
    params = list(model.parameters())
    assert len(params) == 6  # conv weight, bias; bn weight, bias; linear weight, bias
    # non-trivial batch-norm affine parameters, so their gradients are not special cases
    nn.init.uniform_(model[1].weight, 0.5, 1.5)
    nn.init.uniform_(model[1].bias, -0.5, 0.5)
    assert minicnn.gradcheck(lambda x, *ps: loss_fn(model(x), target), [x, *params])


def test_gradcheck_every_other_layer():
    """The remaining layers in one chain (fixed sizes): LeakyReLU, AvgPool2d, LRN, Dropout
    (re-seeded per call so the mask is fixed), AdaptiveAvgPool2d, BatchNorm1d, Tanh, Sigmoid;
    grouped and strided convolutions with 'same' padding."""
    minicnn.manual_seed(5)
    model = nn.Sequential(
        nn.Conv2d(2, 2, 3, stride=2, padding="same"), nn.LeakyReLU(0.1),
        nn.AvgPool2d(3, 1, 1, count_include_pad=False), nn.LocalResponseNorm(3, alpha=0.1, k=2.0),
        nn.Conv2d(2, 4, (1, 3), groups=2, padding="same", bias=False), nn.Dropout(0.3),
        nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(), nn.BatchNorm1d(8), nn.Tanh(),
        nn.Linear(8, 3), nn.Sigmoid()).double()
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((3, 2, 5, 4)),
                       requires_grad=True)

    def fn(x, *params):
        minicnn.manual_seed(11)
        return model(x)

    assert minicnn.gradcheck(fn, [x, *model.parameters()])


def test_gradcheck_in_eval_mode():
    minicnn.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Tanh(), nn.Flatten(),
                          nn.Linear(12, 2)).double()
    x = minicnn.tensor(np.random.default_rng(1).standard_normal((2, 2, 4, 4)),
                       requires_grad=True)
    model(x)  # one training batch: running statistics that are not 0 and 1
    model.eval()
    assert minicnn.gradcheck(lambda x, *ps: model(x), [x, *model.parameters()])


def test_frozen_conv_weight_gradient_is_never_computed(monkeypatch):
    """The engine tells conv2d's backward which gradients are needed; for a frozen conv
    behind a trainable one only the input gradient is asked for and computed."""
    calls = []
    original = conv_kernels.conv2d_backward

    def spy(*args, needs, **kwargs):
        grads = original(*args, needs=needs, **kwargs)
        calls.append((tuple(needs), tuple(g is not None for g in grads)))
        return grads

    monkeypatch.setattr(conv_kernels, "conv2d_backward", spy)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3), nn.Flatten())
    model[2].requires_grad_(False)
    x = minicnn.tensor(np.random.default_rng(0).standard_normal((2, 2, 7, 7)).astype(
        np.float32))
    model(x).sum().backward()
    # backward runs from the output: the frozen conv first, then the trainable one
    assert calls == [((True, False, False), (True, False, False)),
                     ((False, True, True), (False, True, True))]
    assert model[2].weight.grad is None and model[2].bias.grad is None
    assert model[0].weight.grad is not None

    # everything frozen and an input that needs no grad: nothing is recorded at all
    calls.clear()
    model.requires_grad_(False)
    out = model(x)
    assert not out.requires_grad and calls == []
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.sum().backward()
