"""``minicnn.functional`` (import as ``F``): every op as a function of tensors.

This module only gathers the public functions of ``minicnn.ops``; the code and the math
live there, one op family per file.
"""

from .kernels.geometry import conv_output_size
from .ops.activation import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh, leaky_relu,
                             log_softmax, logsigmoid, mish, prelu, relu, relu6, selu, sigmoid,
                             silu, softmax, softmin, softplus, tanh)
from .ops.conv import conv2d, conv_transpose2d
from .ops.dropout import dropout
from .ops.elementwise import abs, clip, exp, log, maximum, minimum, sqrt, where
from .ops.linear import linear, matmul
from .ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                       huber_loss, kl_div, l1_loss, mse_loss, nll_loss, one_hot,
                       smooth_l1_loss)
from .ops.norm import batch_norm, group_norm, instance_norm, layer_norm, local_response_norm
from .ops.pool import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d,
                       max_unpool2d)
from .ops.reduce import max, mean, sum
from .ops.shape import cat, flatten, pad, permute, reshape, stack, transpose
from .ops.upsample import interpolate

__all__ = ["conv_output_size", "conv2d", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax",
           "log_softmax", "abs", "clip", "exp", "log", "maximum", "minimum", "sqrt", "where",
           "conv_transpose2d", "interpolate",
           "hardtanh", "prelu", "logsigmoid", "silu", "gelu", "elu", "selu", "celu", "softplus",
           "mish", "hardsigmoid", "hardswish", "softmin",
           "linear", "matmul", "max", "mean", "sum", "cat", "flatten", "pad", "permute",
           "reshape", "stack", "transpose",
           "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "max_unpool2d",
           "batch_norm", "layer_norm", "group_norm", "instance_norm", "dropout",
           "local_response_norm", "cross_entropy", "nll_loss", "mse_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
           "smooth_l1_loss", "huber_loss", "kl_div", "one_hot"]
