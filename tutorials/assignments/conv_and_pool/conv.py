"""Parts 1 and 2: a 2-D convolution written with loops, forward and backward.

Shapes: ``x`` (N, C, H, W), a batch of N images with C channels; ``weight`` (F, C, KH, KW),
F filters of KH x KW; ``bias`` (F,); the output (N, F, OH, OW). ``stride`` and ``padding``
are ints, the same along the height and the width. With ``xp``, the input zero-padded by
``padding`` cells on every side (N, C, H + 2 * padding, W + 2 * padding):

    OH = (H + 2 * padding - KH) // stride + 1        OW = (W + 2 * padding - KW) // stride + 1

    out[n, f, i, j] = bias[f] + sum over c, a, b of
                      xp[n, c, i * stride + a, j * stride + b] * weight[f, c, a, b]

Backward: given ``grad_out`` = dL/d(out), shaped like the output, every output element
sends its gradient back along the products that made it:

    grad_bias[f]            = sum over n, i, j of grad_out[n, f, i, j]
    grad_weight[f, c, a, b] = sum over n, i, j of grad_out[n, f, i, j]
                                                  * xp[n, c, i * stride + a, j * stride + b]
    grad_xp[n, c, i * stride + a, j * stride + b] += grad_out[n, f, i, j] * weight[f, c, a, b]
    grad_x = grad_xp with the padding cut off

``Conv2d`` (at the end, already written) wraps your two functions as a minicnn op, so that
``minicnn.gradcheck`` can check your backward against finite differences. It subclasses
``minicnn.autograd.ArrayFunction``, the NumPy-level protocol of minicnn's own ops: forward and
backward receive and return NumPy arrays, which is what your loops work on. PyTorch's
protocol, ``minicnn.autograd.Function`` (``torch.autograd.Function``), is the same with
Tensors instead: there ``forward`` would call ``conv2d_forward(x.data, ...)`` and wrap the
result, ``minicnn.tensor(...)``, and ``backward`` would do the same with ``grad_out.data``.
"""

import numpy as np

import minicnn
from minicnn.autograd import ArrayFunction


def conv2d_forward(x, weight, bias, stride, padding):
    """Part 1: the convolution's output, computed with loops.

    Parameters
    ----------
    x : np.ndarray, shape (N, C, H, W)
    weight : np.ndarray, shape (F, C, KH, KW)
    bias : np.ndarray, shape (F,)
    stride, padding : int

    Returns
    -------
    out : np.ndarray, shape (N, F, OH, OW), the dtype of ``x``
    """
    N, C, H, W = x.shape
    F, _, KH, KW = weight.shape
    # BEGIN SOLUTION hint: zero-pad x (np.pad), compute OH and OW, loop over n, f, i, j
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1
    out = np.zeros((N, F, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    window = xp[n, :, top:top + KH, left:left + KW]  # (C, KH, KW)
                    out[n, f, i, j] = np.sum(window * weight[f]) + bias[f]
    return out
    # END SOLUTION


def conv2d_backward(grad_out, x, weight, stride, padding):
    """Part 2: the gradients of the loss with respect to the input, weight and bias.

    Parameters
    ----------
    grad_out : np.ndarray, shape (N, F, OH, OW)
        dL/d(out), the gradient flowing into the convolution's output.
    x : np.ndarray, shape (N, C, H, W)
    weight : np.ndarray, shape (F, C, KH, KW)
    stride, padding : int

    Returns
    -------
    grad_x : np.ndarray, shape (N, C, H, W)
    grad_weight : np.ndarray, shape (F, C, KH, KW)
    grad_bias : np.ndarray, shape (F,)
    """
    N, C, H, W = x.shape
    F, _, KH, KW = weight.shape
    _, _, OH, OW = grad_out.shape
    # BEGIN SOLUTION hint: accumulate (+=) into grad_xp and grad_weight window by window
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    grad_xp = np.zeros_like(xp)
    grad_weight = np.zeros_like(weight)
    grad_bias = grad_out.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    g = grad_out[n, f, i, j]
                    grad_weight[f] += g * xp[n, :, top:top + KH, left:left + KW]
                    grad_xp[n, :, top:top + KH, left:left + KW] += g * weight[f]
    grad_x = grad_xp[:, :, padding:padding + H, padding:padding + W]
    return grad_x, grad_weight, grad_bias
    # END SOLUTION


class Conv2d(ArrayFunction):
    """Your two functions as a minicnn op (nothing to do here)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = stride, padding
        return conv2d_forward(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        return conv2d_backward(grad_out, x, weight, ctx.stride, ctx.padding)


def conv2d(x, weight, bias, stride=1, padding=0):
    """``minicnn.functional.conv2d`` on Tensors, computed by your loops (int stride, padding)."""
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding)
