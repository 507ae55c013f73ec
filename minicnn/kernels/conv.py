"""2-D convolution kernels: a plain-loop reference and the fast path, same signatures.

Shapes: x (N, C, H, W), weight (CO, C // G, KH, KW), bias (CO,), out (N, CO, OH, OW), with
G groups: output channel ``co`` belongs to group ``g = co // (CO // G)`` and sees only the
input channels ``g * Cg ... (g + 1) * Cg - 1`` (``Cg = C // G``). ``stride = (sh, sw)``,
``dilation = (dh, dw)``, ``padding = ((top, bottom), (left, right))`` (already resolved by
``geometry.resolve_padding``), and ``x_pad`` is x with those zeros around it.

Forward (a cross-correlation, as in every deep learning framework)::

    out[n, co, oh, ow] = bias[co] + sum_{ci, kh, kw} weight[co, ci, kh, kw]
                                    * x_pad[n, g * Cg + ci, oh * sh + kh * dh, ow * sw + kw * dw]

Backward, for the upstream gradient ``gy = dL/d(out)``: every product above sends
``gy * weight`` back to the input cell it read and ``gy * input`` to the weight it used::

    dx_pad[n, g * Cg + ci, oh * sh + kh * dh, ow * sw + kw * dw] += weight[co, ci, kh, kw] * gy[n, co, oh, ow]
    dweight[co, ci, kh, kw] += x_pad[n, g * Cg + ci, oh * sh + kh * dh, ow * sw + kw * dw] * gy[n, co, oh, ow]
    dbias[co] = sum_{n, oh, ow} gy[n, co, oh, ow]

and ``dx`` is ``dx_pad`` with the padding cut off. Input rows/columns that no window covers
(a stride that does not divide ``H + pads - span``) simply receive nothing: zero gradient.

Transposed convolution
----------------------
``conv_transpose2d(x, weight)`` is that input gradient as an op of its own: x (N, C, H, W)
plays ``gy``, weight (C, CO // G, KH, KW) is a convolution weight read the other way, and
the output is the ``dx_pad`` of a convolution whose input spans the full scatter
``FH = (H - 1) * sh + dh * (KH - 1) + 1`` (likewise FW), cropped as in
``geometry.transposed_output_size``: ``top`` rows cut at the start, the rest after
``OH`` rows (zeros appended when ``output_padding`` reaches past the scatter)::

    full[n, g * COg + co, h * sh + kh * dh, w * sw + kw * dw] += weight[g * Cg + ci, co, kh, kw] * x[n, g * Cg + ci, h, w]
    out = full[:, :, top:top + OH, left:left + OW] + bias

Its backward is therefore a convolution forward (dx: ``conv2d(full_gy, weight)``, with
``full_gy`` the upstream gradient put back in the full frame) and a convolution weight
gradient (dweight, with ``full_gy`` as the convolution's input and x as its ``gy``).

The fast path
-------------
* **im2col + GEMM** (the general case). ``im2col`` copies every window into a column:
  ``cols[(c, kh, kw), (n, oh, ow)] = x_pad[n, c, oh * sh + kh * dh, ow * sw + kw * dw]``, so the
  convolution becomes one matrix product (per group) for a whole chunk of the batch::

      out   = W @ cols          W = weight as (CO, C * KH * KW), out as (CO, N * OH * OW)
      dW    = gy @ cols^T       gy as (CO, N * OH * OW)
      dcols = W^T @ gy,  then col2im adds each column entry back to its input cell

  The GEMMs go to NumPy's BLAS (``np.matmul``; groups are one more batch axis, never a
  Python loop), im2col and col2im are Numba kernels parallel over (sample, channel), so no
  two threads ever add into the same element. Few large GEMMs beat one small GEMM per
  sample: BLAS runs them faster, and its threads synchronise less often.
* **Pointwise** (1x1, stride 1, no padding): the columns are the pixels; a transposing
  copy of x replaces im2col, and of dcols col2im.
* **One input channel per output channel** (``C // G == 1``: depthwise convolution, and
  any single-channel input): im2col would copy each pixel KH * KW times to feed tiny
  matrix products, so direct Numba loops are used instead, parallel over what each thread
  owns: an output channel in the forward pass; an input channel in the backward pass, which
  computes dx and dweight together, reading each plane of x and of the gradient once.
* **Far-apart taps** (a padding or dilation much larger than the input, with a large
  stride): an axis whose padded size is mostly cells no tap reads is first gathered, its
  cells read laid out tap by tap (see "sparse geometry" below), so memory and time follow
  the cells read, never the size of the padding or of the stride.

Memory bound
------------
The im2col buffer holds ``C * KH * KW * OH * OW`` numbers per sample. The batch is
processed in chunks so that this buffer (and its gradient, ``dcols``) never exceeds
``IM2COL_MAX_BYTES`` (32 MiB), unless a single sample's columns are larger than that, in
which case one sample is processed at a time. When the whole batch fits in one chunk, the
forward pass can hand its columns to the backward pass (``keep_columns``), which then skips
its own im2col: in training each convolution layer then holds at most ``IM2COL_MAX_BYTES``
of columns until its backward pass. That made a ResNet-20 training step (batch 32, whose
columns are 2-19 MiB a layer) 20% faster (420 -> 339 ms on 2 cores); larger batches are
chunked and recompute their columns chunk by chunk instead (keeping several chunks' columns
measured no faster). The bound is also a speed setting: a chunk that stays in the CPU's
last-level cache between im2col and the GEMM, and that the memory allocator can reuse
instead of mapping fresh pages, made a 3x3 convolution's forward + backward (64 channels,
32x32, batch 32) about twice as fast as 256 MiB chunks here; 8-32 MiB chunks performed
alike.
"""

import numpy as np
from numba import njit, prange

from .geometry import output_size, transposed_output_size
from .threads import launch

__all__ = ["IM2COL_MAX_BYTES", "conv2d_forward_reference", "conv2d_backward_reference",
           "conv2d_forward", "conv2d_backward", "conv_transpose2d_forward_reference",
           "conv_transpose2d_forward", "conv_transpose2d_backward", "im2col", "col2im"]

IM2COL_MAX_BYTES = 32 * 2**20

# Below this many inner-loop steps a kernel runs on one thread (see ``threads.py``).
PARALLEL_MIN_WORK = 2**16


def _output_hw(x_shape, weight_shape, stride, padding, dilation):
    (_, _, h, w), (_, _, kh, kw) = x_shape, weight_shape
    return (output_size(h, kh, stride[0], padding[0][0], padding[0][1], dilation[0]),
            output_size(w, kw, stride[1], padding[1][0], padding[1][1], dilation[1]))


# ----------------------------------------------------------------------------- reference


def _window(n_index, channels, oh, ow, kernel_hw, stride, dilation):
    """Index of one receptive field of ``x_pad``: (sample, channels, rows, columns)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_hw, stride, dilation
    rows = slice(oh * sh, oh * sh + (kh - 1) * dh + 1, dh)
    cols = slice(ow * sw, ow * sw + (kw - 1) * dw + 1, dw)
    return n_index, channels, rows, cols


def conv2d_forward_reference(x, weight, bias, stride, padding, dilation, groups):
    """The forward formula of the module docstring, one output element at a time.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (CO, C // groups, KH, KW)
    bias : ndarray, shape (CO,), or None
    stride, dilation : (int, int)
    padding : ((top, bottom), (left, right))
    groups : int

    Returns
    -------
    ndarray, shape (N, CO, OH, OW), x's dtype
    """
    n_size, _, _, _ = x.shape
    co_size, cg, kh, kw = weight.shape
    oh_size, ow_size = _output_hw(x.shape, weight.shape, stride, padding, dilation)
    x_pad = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    out = np.zeros((n_size, co_size, oh_size, ow_size), dtype=x.dtype)
    per_group = co_size // groups
    for n in range(n_size):
        for co in range(co_size):
            group_channels = slice(co // per_group * cg, (co // per_group + 1) * cg)
            for oh in range(oh_size):
                for ow in range(ow_size):
                    window = x_pad[_window(n, group_channels, oh, ow, (kh, kw), stride, dilation)]
                    out[n, co, oh, ow] = np.sum(window * weight[co])  # (Cg, KH, KW) . (Cg, KH, KW)
    if bias is not None:
        out += bias[:, None, None]
    return out


def conv2d_backward_reference(x, weight, grad_out, stride, padding, dilation, groups):
    """The backward formulas of the module docstring, one output element at a time.

    Returns ``(dx, dweight, dbias)`` shaped like x, weight and ``(CO,)``.
    """
    n_size, _, h, w = x.shape
    co_size, cg, kh, kw = weight.shape
    (top, _), (left, _) = padding
    x_pad = np.pad(x, ((0, 0), (0, 0)) + tuple(padding))
    dx_pad = np.zeros_like(x_pad)
    dweight = np.zeros_like(weight)
    per_group = co_size // groups
    for n in range(n_size):
        for co in range(co_size):
            group_channels = slice(co // per_group * cg, (co // per_group + 1) * cg)
            for oh in range(grad_out.shape[2]):
                for ow in range(grad_out.shape[3]):
                    window = _window(n, group_channels, oh, ow, (kh, kw), stride, dilation)
                    gy = grad_out[n, co, oh, ow]
                    dx_pad[window] += gy * weight[co]
                    dweight[co] += gy * x_pad[window]
    dx = dx_pad[:, :, top:top + h, left:left + w]
    dbias = grad_out.sum(axis=(0, 2, 3))
    return dx, dweight, dbias


def _full_hw(x_shape, kernel_hw, stride, dilation):
    """Size of a transposed convolution's full scatter: ``(H - 1) * s + d * (K - 1) + 1``."""
    return tuple((n - 1) * s + d * (k - 1) + 1
                 for n, k, s, d in zip(x_shape[2:], kernel_hw, stride, dilation))


def _transposed_hw(x_shape, kernel_hw, stride, padding, output_padding, dilation):
    return tuple(transposed_output_size(n, k, s, p[0], p[1], o, d) for n, k, s, p, o, d in
                 zip(x_shape[2:], kernel_hw, stride, padding, output_padding, dilation))


def _crop_full(full, padding, out_hw):
    """The output window of the full scatter ``full`` (N, C, FH, FW): (N, C, OH, OW), zeros
    where ``output_padding`` reaches past it."""
    (top, _), (left, _) = padding
    out = np.zeros(full.shape[:2] + tuple(out_hw), full.dtype)
    rows = max(0, min(out_hw[0], full.shape[2] - top))  # 0 when output_padding is all there is
    cols = max(0, min(out_hw[1], full.shape[3] - left))
    out[:, :, :rows, :cols] = full[:, :, top:top + rows, left:left + cols]
    return out


def conv_transpose2d_forward_reference(x, weight, bias, stride, padding, output_padding,
                                       dilation, groups):
    """The transposed convolution of the module docstring, one input element at a time.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    weight : ndarray, shape (C, CO // groups, KH, KW)
    bias : ndarray, shape (CO,), or None
    stride, output_padding, dilation : (int, int)
    padding : ((top, bottom), (left, right))
    groups : int

    Returns
    -------
    ndarray, shape (N, CO, OH, OW), x's dtype
    """
    n_size, c_size, h_size, w_size = x.shape
    _, co_per_group, kh, kw = weight.shape
    c_per_group = c_size // groups
    full = np.zeros((n_size, co_per_group * groups) + _full_hw(x.shape, (kh, kw), stride,
                                                               dilation), x.dtype)
    for n in range(n_size):
        for c in range(c_size):
            out_channels = slice(c // c_per_group * co_per_group,
                                 (c // c_per_group + 1) * co_per_group)
            for h in range(h_size):
                for w in range(w_size):
                    window = _window(n, out_channels, h, w, (kh, kw), stride, dilation)
                    full[window] += x[n, c, h, w] * weight[c]  # (COg, KH, KW)
    out = _crop_full(full, padding, _transposed_hw(x.shape, (kh, kw), stride, padding,
                                                   output_padding, dilation))
    if bias is not None:
        out += bias[:, None, None]
    return out


# ----------------------------------------------------------------------------- Numba kernels
# Plain Python functions compiled by assignment: with NUMBA_DISABLE_JIT=1 the same source runs
# as Python. Every input may be read-only (a memory-mapped file, a broadcast view): the
# kernels only write into the arrays they were handed to fill, so no function below both
# reads and writes one argument depending on a flag (Numba would then type every argument as
# writable, and refuse read-only ones).
#
# Every kernel first copies an input plane (one sample, one channel) into a flat zero-padded
# buffer split into stride *phases*: cell (i, j) of the padded plane goes to phase
# (i % sh, j % sw), at row i // sh and column j // sw of that phase, whose rows have length
# ``pitch`` (= ceil(padded width / sw)). Tap (kh, kw) of output (oh, ow) then reads phase
# (kh*dh % sh, kw*dw % sw) at (oh + kh*dh // sh, ow + kw*dw // sw): a stride-1 access, so a
# row of outputs is a contiguous run of the phases, with no bounds to test and no padding
# cases (with stride 1 there is one phase, the zero-padded plane itself). A stride larger
# than the padded plane has phases that would hold no cell and that no tap reads (a tap
# offset is below the padded size): only the first ``min(stride, padded size)`` exist, so
# the buffer is at most twice the padded plane whatever the stride. The *layout* is
# ``(phases along H, phases along W, rows, pitch)``. The direct kernels go further and keep
# their outputs "wide", with the phases' pitch (columns OW..pitch-1 are scratch): one tap
# over a whole output plane is then a single contiguous run, ``wide[p] += w * phases[start +
# p]``, which the compiler vectorises.


def _inside_plain(offset, stride, size, out_size):
    """Outputs ``o`` in ``[lo, hi)`` whose input index ``o * stride + offset`` is in ``[0, size)``."""
    lo = max(0, (-offset + stride - 1) // stride)         # ceil(-offset / stride)
    hi = min(out_size, (size - offset + stride - 1) // stride)  # ceil((size - offset) / stride)
    return lo, max(lo, hi)


_inside = njit(cache=True)(_inside_plain)


def _phase_runs_plain(image_hw, top_left, stride, layout):
    """Where an (H, W) image placed at (top, left) of the padded plane sits in the phases.

    Returns an int64 array (R, 4): each row ``(start, i, j, count)`` is one run of ``count``
    cells of one phase row, ``flat[start:start + count]``, holding the image cells
    ``image[i, j], image[i, j + sw], ...`` (columns step by the stride). Every image cell is
    in exactly one run; phase cells in no run are padding.
    """
    (h, w), (phases_h, phases_w, rows, pitch) = image_hw, layout
    runs = np.empty((phases_h * phases_w * rows, 4), np.int64)
    count = 0
    for a in range(phases_h):
        for b in range(phases_w):
            base = (a * phases_w + b) * rows * pitch
            first_column = b - top_left[1]  # image column of the phase's column 0
            lo, hi = _inside(first_column, stride[1], w, pitch)
            if hi == lo:
                continue
            for u in range(rows):
                i = u * stride[0] + a - top_left[0]
                if 0 <= i < h:
                    runs[count, 0] = base + u * pitch + lo
                    runs[count, 1] = i
                    runs[count, 2] = lo * stride[1] + first_column
                    runs[count, 3] = hi - lo
                    count += 1
    return runs[:count]


def _copy_plain(target, source):
    """target[:] = source, two 1-D arrays of one length."""
    for v in range(target.shape[0]):
        target[v] = source[v]


_phase_runs = njit(cache=True)(_phase_runs_plain)
_copy = njit(cache=True)(_copy_plain)


def _image_to_phases_plain(image, runs, column_step, flat):
    """Copy ``image`` (H, W) into its runs of the phases ``flat`` (see ``_phase_runs``)."""
    for r in range(runs.shape[0]):
        start, i, j, count = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
        if column_step == 1:  # contiguous both sides: a vectorised copy
            _copy(flat[start:start + count], image[i, j:j + count])
        else:
            _copy(flat[start:start + count],
                  image[i, j:j + (count - 1) * column_step + 1:column_step])


def _phases_to_image_plain(flat, runs, column_step, image):
    """The reverse copy: every cell of ``image`` (H, W) from its run of ``flat``."""
    for r in range(runs.shape[0]):
        start, i, j, count = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
        if column_step == 1:
            _copy(image[i, j:j + count], flat[start:start + count])
        else:
            _copy(image[i, j:j + (count - 1) * column_step + 1:column_step],
                  flat[start:start + count])


def _tap_start_plain(row, column, stride, layout):
    """Where in the phases the run of tap offset (row, column) = (kh * dh, kw * dw) starts."""
    phase = (row % stride[0]) * layout[1] + column % stride[1]
    return phase * layout[2] * layout[3] + row // stride[0] * layout[3] + column // stride[1]


def _phases_size_plain(layout):
    """Length of the flat phase buffer: every phase, plus one row of slack for the wide runs."""
    return layout[0] * layout[1] * layout[2] * layout[3] + layout[3]


def _add_plain(target, a):
    """target += a element-wise over equal-length contiguous 1-D arrays."""
    for j in range(target.shape[0]):
        target[j] += a[j]


def _multiply_add_plain(target, a, b):
    """target += a * b element-wise over equal-length contiguous 1-D arrays (b may be a scalar)."""
    for j in range(target.shape[0]):
        target[j] += a[j] * b


def _multiply_add_arrays_plain(target, a, b):
    """target += a * b element-wise, all three equal-length contiguous 1-D arrays."""
    for j in range(target.shape[0]):
        target[j] += a[j] * b[j]


_image_to_phases = njit(cache=True)(_image_to_phases_plain)
_phases_to_image = njit(cache=True)(_phases_to_image_plain)
_tap_start = njit(cache=True)(_tap_start_plain)
_phases_size = njit(cache=True)(_phases_size_plain)
_add = njit(cache=True)(_add_plain)
_multiply_add = njit(cache=True)(_multiply_add_plain)
_multiply_add_arrays = njit(cache=True)(_multiply_add_arrays_plain)


def _im2col_plain(x, kernel_hw, stride, dilation, layout, runs, out_hw, cols):
    """Fill ``cols`` (C * KH * KW, N, OH * OW) from ``x`` (N, C, H, W); padding reads as 0.

    ``cols[(c, kh, kw), n]`` holds, for every output pixel of sample n, the cell that tap
    (kh, kw) reads; output row ``oh`` of it is one contiguous run of the phases (see above).
    ``runs`` places an input plane in the phases (``_phase_runs``).
    """
    n_size, c_size = x.shape[:2]
    (kh_size, kw_size), (oh_size, ow_size), pitch = kernel_hw, out_hw, layout[3]
    for nc in prange(n_size * c_size):  # each (sample, channel) owns its rows of cols
        n, c = nc // c_size, nc % c_size
        phases = np.zeros(_phases_size(layout), x.dtype)
        _image_to_phases(x[n, c], runs, stride[1], phases)
        for kh in range(kh_size):
            for kw in range(kw_size):
                row = cols[(c * kh_size + kh) * kw_size + kw, n]
                start = _tap_start(kh * dilation[0], kw * dilation[1], stride, layout)
                for oh in range(oh_size):
                    _copy(row[oh * ow_size:(oh + 1) * ow_size],
                          phases[start + oh * pitch:start + oh * pitch + ow_size])


def _col2im_plain(cols, kernel_hw, stride, dilation, layout, runs, out_hw, dx):
    """The adjoint of im2col: ``dx`` (N, C, H, W) = the sum of each entry of ``cols``
    (C * KH * KW, N, OH * OW) at the cell it was copied from. Entries that fall on padding
    are dropped; cells no window covers get 0."""
    n_size, c_size = dx.shape[:2]
    (kh_size, kw_size), (oh_size, ow_size), pitch = kernel_hw, out_hw, layout[3]
    for nc in prange(n_size * c_size):  # each (sample, channel) owns dx[n, c]: no races
        n, c = nc // c_size, nc % c_size
        grad_phases = np.zeros(_phases_size(layout), dx.dtype)
        for kh in range(kh_size):
            for kw in range(kw_size):
                row = cols[(c * kh_size + kh) * kw_size + kw, n]
                start = _tap_start(kh * dilation[0], kw * dilation[1], stride, layout)
                for oh in range(oh_size):
                    _add(grad_phases[start + oh * pitch:start + oh * pitch + ow_size],
                         row[oh * ow_size:(oh + 1) * ow_size])
        _phases_to_image(grad_phases, runs, stride[1], dx[n, c])


def _depthwise_forward_plain(x, weight, bias, stride, dilation, layout, runs, wide_runs, out):
    """Direct convolution when every output channel reads one input channel (``C // G == 1``).

    x (N, C, H, W), weight (CO, 1, KH, KW) with CO = C * M (channel multiplier M: output
    channel ``co`` reads input channel ``co // M``), bias (CO,), out (N, CO, OH, OW).
    ``runs`` places an input plane in the phases, ``wide_runs`` an output plane in its wide
    form (``_phase_runs`` with stride 1). Parallel over output channels, each owning
    out[:, co].
    """
    n_size, co_size, oh_size, _ = out.shape
    c_size, (kh_size, kw_size) = x.shape[1], weight.shape[2:]
    run = oh_size * layout[3]  # the wide output plane
    for co in prange(co_size):
        # the padding cells of the phases are the same for every plane: zeroed once
        phases = np.zeros(_phases_size(layout), x.dtype)
        wide = np.empty(run, x.dtype)
        for n in range(n_size):
            _image_to_phases(x[n, co // (co_size // c_size)], runs, stride[1], phases)
            wide[:] = bias[co]
            for kh in range(kh_size):
                for kw in range(kw_size):
                    start = _tap_start(kh * dilation[0], kw * dilation[1], stride, layout)
                    _multiply_add(wide, phases[start:start + run], weight[co, 0, kh, kw])
            _phases_to_image(wide, wide_runs, 1, out[n, co])


def _depthwise_backward_plain(x, weight, grad_out, stride, dilation, layout, runs, wide_runs,
                              dx, dweight):
    """dx (N, C, H, W) and dweight (CO, 1, KH, KW) of the direct convolution, in one pass.

    Each tap of output channel ``co`` sends ``weight * gy`` back to the cells it read (dx)
    and adds up ``gy * input`` (dweight). Parallel over input channels: channel ``c`` owns
    dx[:, c] and the weights of its output channels ``c * M .. (c + 1) * M - 1``, so every
    plane of x and of gy is read once. Pass an empty (0-sample) ``dx`` or a (0, 1, KH, KW)
    ``dweight`` for the one not wanted. dweight's products are accumulated element-wise
    over the batch (a vectorised loop) and summed once per tap at the end.
    """
    n_size, c_size = x.shape[:2]
    co_size, oh_size = grad_out.shape[1:3]
    kh_size, kw_size = weight.shape[2:]
    multiplier, run = co_size // c_size, oh_size * layout[3]
    need_x, need_weight = dx.shape[0] > 0, dweight.shape[0] > 0
    for c in prange(c_size):
        phases = np.zeros(_phases_size(layout), x.dtype)  # padding cells stay 0 (see the forward)
        grad_phases = np.zeros(_phases_size(layout), x.dtype)
        grad_wide = np.zeros(run, x.dtype)  # its scratch columns stay 0
        products = np.zeros((multiplier, kh_size, kw_size, run), x.dtype)
        for n in range(n_size):
            if need_weight:
                _image_to_phases(x[n, c], runs, stride[1], phases)
            if need_x:
                grad_phases[:] = 0
            for m in range(multiplier):
                co = c * multiplier + m
                _image_to_phases(grad_out[n, co], wide_runs, 1, grad_wide)
                for kh in range(kh_size):
                    for kw in range(kw_size):
                        start = _tap_start(kh * dilation[0], kw * dilation[1], stride, layout)
                        if need_x:
                            _multiply_add(grad_phases[start:start + run], grad_wide,
                                          weight[co, 0, kh, kw])
                        if need_weight:
                            _multiply_add_arrays(products[m, kh, kw], grad_wide,
                                                 phases[start:start + run])
            if need_x:  # drops the padding
                _phases_to_image(grad_phases, runs, stride[1], dx[n, c])
        if need_weight:
            for m in range(multiplier):
                for kh in range(kh_size):
                    for kw in range(kw_size):
                        dweight[c * multiplier + m, 0, kh, kw] = products[m, kh, kw].sum()


_im2col = njit(cache=True, parallel=True)(_im2col_plain)
_col2im = njit(cache=True, parallel=True)(_col2im_plain)
_depthwise_forward = njit(cache=True, parallel=True)(_depthwise_forward_plain)
_depthwise_backward_kernel = njit(cache=True, parallel=True)(_depthwise_backward_plain)


# ----------------------------------------------------------------------------- fast path


def _phase_layout(x_shape, stride, padding):
    """``(phases along H, phases along W, rows, pitch)`` of the zero-padded input plane: each
    phase ``ceil(padded / s)`` rows of ``pitch = ceil(padded width / sw)`` cells, and no more
    phases than the padded plane has rows/columns (the others would be empty and unread)."""
    (top, bottom), (left, right) = padding
    padded_h, padded_w = x_shape[2] + top + bottom, x_shape[3] + left + right
    return (min(stride[0], padded_h), min(stride[1], padded_w),
            -(-padded_h // stride[0]), -(-padded_w // stride[1]))


def _input_runs(x_shape, stride, padding, layout):
    """Where an input plane goes in the phases (``_phase_runs``)."""
    return _phase_runs(tuple(x_shape[2:]), (padding[0][0], padding[1][0]), tuple(stride), layout)


def _wide_runs(out_hw, layout):
    """Where an output plane goes in its wide form: row ``oh`` at ``oh * pitch``."""
    return _phase_runs(tuple(out_hw), (0, 0), (1, 1), (1, 1, out_hw[0], layout[3]))


def im2col(x, kernel_hw, stride, padding, dilation):
    """Every receptive field as a column: (N, C, H, W) -> (C * KH * KW, N, OH * OW)."""
    out_hw = _output_hw(x.shape, (0, 0) + tuple(kernel_hw), stride, padding, dilation)
    n_size, c_size = x.shape[:2]
    cols = np.empty((c_size * kernel_hw[0] * kernel_hw[1], n_size, out_hw[0] * out_hw[1]),
                    dtype=x.dtype)
    layout = _phase_layout(x.shape, stride, padding)
    launch(_im2col, cols.size >= PARALLEL_MIN_WORK, x, tuple(kernel_hw), tuple(stride),
           tuple(dilation), layout, _input_runs(x.shape, stride, padding, layout), out_hw, cols)
    return cols


def col2im(cols, x_shape, kernel_hw, stride, padding, dilation, out=None):
    """The adjoint of ``im2col``: (C * KH * KW, N, OH * OW) -> (N, C, H, W), summing overlaps.

    Writes into ``out`` (C-contiguous, shape ``x_shape``) when given.
    """
    out_hw = _output_hw(x_shape, (0, 0) + tuple(kernel_hw), stride, padding, dilation)
    dx = np.empty(x_shape, dtype=cols.dtype) if out is None else out
    layout = _phase_layout(x_shape, stride, padding)
    launch(_col2im, cols.size >= PARALLEL_MIN_WORK, cols, tuple(kernel_hw), tuple(stride),
           tuple(dilation), layout, _input_runs(x_shape, stride, padding, layout), out_hw, dx)
    return dx


def _batch_chunks(n_size, bytes_per_sample, max_bytes):
    """Slices of the batch whose im2col buffer stays within ``max_bytes`` (at least one sample)."""
    step = max(1, min(n_size, max_bytes // max(bytes_per_sample, 1)))
    return [slice(start, min(start + step, n_size)) for start in range(0, n_size, step)]


class _Plan:
    """The GEMM path's view of one convolution: group-major matrices and the batch chunks."""

    def __init__(self, x_shape, weight, stride, padding, dilation, groups, max_bytes):
        n_size, c_size = x_shape[:2]
        co_size, cg, kh, kw = weight.shape
        self.kernel_hw, self.stride, self.padding, self.dilation = (kh, kw), stride, padding, dilation
        self.out_hw = _output_hw(x_shape, weight.shape, stride, padding, dilation)
        self.groups, self.rows_per_group = groups, cg * kh * kw
        self.pixels = self.out_hw[0] * self.out_hw[1]
        self.pointwise = (kh, kw) == (1, 1) and tuple(stride) == (1, 1) and not any(
            sum(padding, ()))
        # (CO, Cg, KH, KW) -> (G, CO // G, Cg * KH * KW)
        self.weight_matrix = weight.reshape(groups, co_size // groups, self.rows_per_group)
        bytes_per_sample = c_size * kh * kw * self.pixels * weight.itemsize
        self.chunks = _batch_chunks(n_size, bytes_per_sample, max_bytes)

    def columns(self, x):
        """(B, C, H, W) -> (G, Cg * KH * KW, B * OH * OW): one column per output pixel."""
        if self.pointwise:  # the columns of a 1x1 convolution are the pixels themselves
            # (B, C, H, W) -> (C, B, H * W)
            cols = np.ascontiguousarray(x.reshape(x.shape[0], x.shape[1], -1).transpose(1, 0, 2))
        else:
            cols = im2col(x, self.kernel_hw, self.stride, self.padding, self.dilation)
        return cols.reshape(self.groups, self.rows_per_group, -1)

    def add_to_image(self, cols, dx):
        """dx (B, C, H, W) <- cols (G, Cg * KH * KW, B * OH * OW), summing overlapping windows."""
        # (G, Cg * KH * KW, B * OH * OW) -> (C * KH * KW, B, OH * OW)
        cols = cols.reshape(-1, dx.shape[0], self.pixels)
        if self.pointwise:
            # (C, B, H * W) -> (B, C, H * W)
            dx.reshape(cols.shape[1], cols.shape[0], -1)[...] = cols.transpose(1, 0, 2)
        else:
            col2im(cols, dx.shape, self.kernel_hw, self.stride, self.padding, self.dilation,
                   out=dx)


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups,
                   max_bytes=IM2COL_MAX_BYTES, keep_columns=False):
    """Fast forward; same arguments and result as ``conv2d_forward_reference``.

    ``x``, ``weight`` and ``bias`` must be C-contiguous and of one dtype (they may be
    read-only). ``max_bytes`` bounds the im2col buffer (see the module docstring). With
    ``keep_columns`` the result is ``(out, columns)``: the im2col columns to give
    ``conv2d_backward`` when the batch fit in one chunk, else None (the direct kernels have
    no columns either).
    """
    sparse, stride, padding, dilation = _sparse_geometry(x.shape, weight.shape[2:], stride,
                                                         padding, dilation)
    x = _gather(x, sparse)
    n_size, c_size, _, _ = x.shape
    co_size = weight.shape[0]
    bias = np.zeros(co_size, x.dtype) if bias is None else bias
    if weight.shape[1] == 1:  # one input channel per output channel: direct loops
        out_hw = _output_hw(x.shape, weight.shape, stride, padding, dilation)
        out = np.empty((n_size, co_size) + out_hw, dtype=x.dtype)
        parallel = out.size * weight.shape[2] * weight.shape[3] >= PARALLEL_MIN_WORK
        layout = _phase_layout(x.shape, stride, padding)
        launch(_depthwise_forward, parallel, x, weight, bias, tuple(stride), tuple(dilation),
               layout, _input_runs(x.shape, stride, padding, layout),
               _wide_runs(out_hw, layout), out)
        return (out, None) if keep_columns else out
    plan = _Plan(x.shape, weight, stride, padding, dilation, groups, max_bytes)
    out = np.empty((n_size, co_size) + plan.out_hw, dtype=x.dtype)
    # (N, CO, OH, OW) -> (N, G, CO // G, OH * OW)
    out_groups = out.reshape(n_size, groups, co_size // groups, plan.pixels)
    bias_groups = bias.reshape(1, groups, co_size // groups, 1)
    for chunk in plan.chunks:
        cols = plan.columns(x[chunk])
        # (G, CO/G, Cg*KH*KW) @ (G, Cg*KH*KW, B*OH*OW) -> (G, CO/G, B*OH*OW): one GEMM per group
        product = np.matmul(plan.weight_matrix, cols)
        # (G, CO/G, B, OH*OW) -> (B, G, CO/G, OH*OW), adding the bias on the way
        product = product.reshape(groups, co_size // groups, -1, plan.pixels).transpose(2, 0, 1, 3)
        np.add(product, bias_groups, out=out_groups[chunk])
    if keep_columns:
        return out, cols if len(plan.chunks) == 1 else None
    return out


def conv2d_backward(x, weight, grad_out, stride, padding, dilation, groups,
                    needs=(True, True, True), max_bytes=IM2COL_MAX_BYTES, columns=None):
    """Fast backward; returns ``(dx, dweight, dbias)`` like ``conv2d_backward_reference``.

    ``needs`` says which of the three are wanted; the others are returned as None and not
    computed (a frozen layer's weight gradient costs nothing). Arrays must be C-contiguous
    (they may be read-only). ``columns``, the forward pass's (``conv2d_forward(...,
    keep_columns=True)``), saves recomputing them for ``dweight``.
    """
    need_x, need_weight, need_bias = needs
    dbias = grad_out.sum(axis=(0, 2, 3)) if need_bias else None
    if not (need_x or need_weight):
        return None, None, dbias
    x_shape = x.shape
    sparse, stride, padding, dilation = _sparse_geometry(x_shape, weight.shape[2:], stride,
                                                         padding, dilation)
    x = _gather(x, sparse)
    if weight.shape[1] == 1:
        dx, dweight = _depthwise_backward(x, weight, grad_out, stride, padding, dilation,
                                          need_x, need_weight)
    else:
        dx, dweight = _gemm_backward(x, weight, grad_out, stride, padding, dilation, groups,
                                     need_x, need_weight, max_bytes, columns)
    return (None if dx is None else _scatter(dx, sparse, x_shape)), dweight, dbias


def conv_transpose2d_forward(x, weight, bias, stride, padding, output_padding, dilation,
                             groups):
    """Fast transposed convolution; same arguments and result as
    ``conv_transpose2d_forward_reference``: ``conv2d_backward``'s dx (GEMM + col2im, or the
    direct kernels) on the full scatter frame, then cropped. Arrays C-contiguous."""
    out_hw = _transposed_hw(x.shape, weight.shape[2:], stride, padding, output_padding,
                            dilation)
    full_shape = (x.shape[0], weight.shape[1] * groups) + _full_hw(x.shape, weight.shape[2:],
                                                                   stride, dilation)
    # conv2d_backward reads the convolution's input only for dweight, not wanted here: an
    # uninitialised array of its shape stands in for it
    stand_in = np.empty(full_shape, x.dtype)
    full, _, _ = conv2d_backward(stand_in, weight, x, stride, ((0, 0), (0, 0)), dilation, groups,
                                 needs=(True, False, False))
    out = _crop_full(full, padding, out_hw)
    if bias is not None:
        out += bias[:, None, None]
    return out


def conv_transpose2d_backward(x, weight, grad_out, stride, padding, dilation, groups,
                              needs=(True, True, True)):
    """``(dx, dweight, dbias)`` of ``conv_transpose2d_forward`` (None where ``needs`` is False).

    The upstream gradient goes back into the full scatter frame (zeros on the cropped
    padding; the part in ``output_padding`` past the frame is dropped), then dx is a
    convolution of it and dweight a convolution's weight gradient.
    """
    need_x, need_weight, need_bias = needs
    dbias = grad_out.sum(axis=(0, 2, 3)) if need_bias else None
    if not (need_x or need_weight):
        return None, None, dbias
    (top, _), (left, _) = padding
    full_hw = _full_hw(x.shape, weight.shape[2:], stride, dilation)
    grad_full = np.zeros(grad_out.shape[:2] + full_hw, grad_out.dtype)
    rows = max(0, min(grad_out.shape[2], full_hw[0] - top))
    cols = max(0, min(grad_out.shape[3], full_hw[1] - left))
    grad_full[:, :, top:top + rows, left:left + cols] = grad_out[:, :, :rows, :cols]
    no_padding = ((0, 0), (0, 0))
    dx = (conv2d_forward(grad_full, weight, None, stride, no_padding, dilation, groups)
          if need_x else None)
    dweight = (conv2d_backward(grad_full, weight, x, stride, no_padding, dilation, groups,
                               needs=(False, True, False))[1] if need_weight else None)
    return dx, dweight, dbias


def _gemm_backward(x, weight, grad_out, stride, padding, dilation, groups, need_x, need_weight,
                   max_bytes, columns):
    """``(dx, dweight)`` on the im2col + GEMM path."""
    n_size, co_size = grad_out.shape[:2]
    plan = _Plan(x.shape, weight, stride, padding, dilation, groups, max_bytes)
    # (N, CO, OH, OW) -> (N, G, CO // G, OH * OW)
    grad_groups = grad_out.reshape(n_size, groups, co_size // groups, plan.pixels)
    dx = np.empty(x.shape, x.dtype) if need_x else None
    dweight_matrix = np.zeros_like(plan.weight_matrix) if need_weight else None
    for chunk in plan.chunks if columns is None else [slice(None)]:  # kept columns: one chunk
        # (B, G, CO/G, OH*OW) -> (G, CO/G, B*OH*OW), the layout of the GEMMs' columns
        grad_matrix = grad_groups[chunk].transpose(1, 2, 0, 3).reshape(groups, co_size // groups, -1)
        if need_weight:
            cols = plan.columns(x[chunk]) if columns is None else columns
            # (G, CO/G, B*OH*OW) @ (G, B*OH*OW, Cg*KH*KW) -> (G, CO/G, Cg*KH*KW)
            dweight_matrix += np.matmul(grad_matrix, cols.transpose(0, 2, 1))
        if need_x:
            # (G, Cg*KH*KW, CO/G) @ (G, CO/G, B*OH*OW) -> (G, Cg*KH*KW, B*OH*OW)
            plan.add_to_image(np.matmul(plan.weight_matrix.transpose(0, 2, 1), grad_matrix),
                              dx[chunk])
    return dx, dweight_matrix.reshape(weight.shape) if need_weight else None


def _depthwise_backward(x, weight, grad_out, stride, padding, dilation, need_x, need_weight):
    """``(dx, dweight)`` of the direct convolution (``C // G == 1``)."""
    dx = np.empty(x.shape, x.dtype) if need_x else np.empty((0,) + x.shape[1:], x.dtype)
    dweight = np.empty(weight.shape, x.dtype) if need_weight else np.empty((0,) + weight.shape[1:],
                                                                           x.dtype)
    layout = _phase_layout(x.shape, stride, padding)
    launch(_depthwise_backward_kernel,
           grad_out.size * weight.shape[2] * weight.shape[3] >= PARALLEL_MIN_WORK,
           x, weight, grad_out, tuple(stride), tuple(dilation), layout,
           _input_runs(x.shape, stride, padding, layout), _wide_runs(grad_out.shape[2:], layout),
           dx, dweight)
    return dx if need_x else None, dweight if need_weight else None


# ----------------------------------------------------------------------------- sparse geometry
# The phase buffer is the size of the padded plane. When a large padding (or a large
# dilation over it) meets a large stride, most of that plane is cells no tap reads: padding
# 10**5 with stride 10**5 around a 7x7 image reads 9 cells of a 2 * 10**5-wide plane. Such an
# axis is first *gathered*: its cells read, tap by tap, in (output, tap) order, zeros where
# a tap reads padding. The convolution of the gathered input with stride K, dilation 1 and
# no padding reads exactly the same values, so it gives the same output and dweight; dx is
# the gathered gradient added back to the cells it came from. Ordinary layers (padding up to
# about the kernel's span) never take this path.


def _sparse_geometry(x_shape, kernel_hw, stride, padding, dilation):
    """The axes to gather and the geometry of the gathered problem.

    Returns ``(sparse, stride, padding, dilation)``: ``sparse`` lists ``(axis, taps)`` for
    each axis (2: H, 3: W) whose padded size exceeds four times both its input size and the
    cells its taps read, ``taps`` (OH * KH,) being the input index each tap of each output
    reads (out of range: padding); the settings are those of the gathered problem.
    """
    out_hw = _output_hw(x_shape, (0, 0) + tuple(kernel_hw), stride, padding, dilation)
    sparse, stride, padding, dilation = [], list(stride), list(padding), list(dilation)
    for i, (n, k, o) in enumerate(zip(x_shape[2:], kernel_hw, out_hw)):
        (before, after), s, d = padding[i], stride[i], dilation[i]
        if n + before + after > 4 * max(n, o * k):
            # (OH, 1) * sh + (1, KH) * dh -> (OH * KH,): the input index each tap reads
            taps = (np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - before).ravel()
            sparse.append((2 + i, taps))
            stride[i], padding[i], dilation[i] = k, (0, 0), 1
    return sparse, tuple(stride), tuple(padding), tuple(dilation)


def _gather(x, sparse):
    """x with each sparse axis replaced by the cells its taps read (0 for padding)."""
    for axis, taps in sparse:
        inside = (taps >= 0) & (taps < x.shape[axis])
        x = np.take(x, np.where(inside, taps, 0), axis=axis)  # a new, C-contiguous array
        x[(slice(None),) * axis + (~inside,)] = 0
    return x


def _scatter(grad, sparse, x_shape):
    """The adjoint of ``_gather``: each gathered cell's gradient added to the cell it came from."""
    for axis, taps in reversed(sparse):
        inside = (taps >= 0) & (taps < x_shape[axis])
        shape = grad.shape[:axis] + (x_shape[axis],) + grad.shape[axis + 1:]
        scattered = np.zeros(shape, grad.dtype)
        before = (slice(None),) * axis
        np.add.at(scattered, before + (taps[inside],), grad[before + (inside,)])
        grad = scattered
    return grad
