"""Part 3: max pooling written with loops, forward and backward.

Shapes: ``x`` (N, C, H, W); square windows of ``kernel_size`` cells moved by ``stride``
(no padding); the output (N, C, OH, OW) with

    OH = (H - kernel_size) // stride + 1             OW = (W - kernel_size) // stride + 1

    out[n, c, i, j] = max over a, b < kernel_size of x[n, c, i * stride + a, j * stride + b]

Backward: each window passes its gradient to its winner, the cell that holds the maximum,
and to no other cell. On a tie the *first* maximum in scan order (row by row, left to right)
wins (as in minicnn and PyTorch). Windows overlap when stride < kernel_size, and a cell that
wins several windows receives the sum of their gradients:

    grad_x[n, c, i * stride + a*, j * stride + b*] += grad_out[n, c, i, j]
    where (a*, b*) is the position of the first maximum of window (i, j)

``MaxPool2d`` (at the end, already written) wraps your two functions as a minicnn op, an
``ArrayFunction`` (forward and backward on NumPy arrays; see conv.py).
"""

import numpy as np

import minicnn
from minicnn.autograd import ArrayFunction


def max_pool2d_forward(x, kernel_size, stride):
    """Part 3a: the maximum of each window, computed with loops.

    Parameters
    ----------
    x : np.ndarray, shape (N, C, H, W)
    kernel_size, stride : int

    Returns
    -------
    out : np.ndarray, shape (N, C, OH, OW), the dtype of ``x``
    """
    N, C, H, W = x.shape
    # BEGIN SOLUTION hint: compute OH and OW, then loop over n, c, i, j and take each window's max
    OH = (H - kernel_size) // stride + 1
    OW = (W - kernel_size) // stride + 1
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = x[n, c, top:top + kernel_size, left:left + kernel_size].max()
    return out
    # END SOLUTION


def max_pool2d_backward(grad_out, x, kernel_size, stride):
    """Part 3b: the gradient with respect to ``x``: each window's gradient goes to its winner.

    Parameters
    ----------
    grad_out : np.ndarray, shape (N, C, OH, OW)
        dL/d(out).
    x : np.ndarray, shape (N, C, H, W)
        The input of the forward pass (find each window's winner again).
    kernel_size, stride : int

    Returns
    -------
    grad_x : np.ndarray, shape (N, C, H, W)
    """
    N, C, H, W = x.shape
    _, _, OH, OW = grad_out.shape
    # BEGIN SOLUTION hint: np.argmax gives the first maximum; np.unravel_index turns it into (a, b)
    grad_x = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + kernel_size, left:left + kernel_size]
                    a, b = np.unravel_index(np.argmax(window), window.shape)
                    grad_x[n, c, top + a, left + b] += grad_out[n, c, i, j]
    return grad_x
    # END SOLUTION


class MaxPool2d(ArrayFunction):
    """Your two functions as a minicnn op (nothing to do here)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride):
        ctx.save_for_backward(x)
        ctx.kernel_size, ctx.stride = kernel_size, stride
        return max_pool2d_forward(x, kernel_size, stride)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return max_pool2d_backward(grad_out, x, ctx.kernel_size, ctx.stride)


def max_pool2d(x, kernel_size, stride=None):
    """``minicnn.functional.max_pool2d`` on Tensors, computed by your loops (no padding)."""
    return MaxPool2d.apply(x, kernel_size=kernel_size,
                           stride=kernel_size if stride is None else stride)
