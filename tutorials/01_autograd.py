# %% [markdown]
# # 1. Autograd from scratch
#
# Training a network means following the gradient of a loss with respect to every weight.
# minicnn computes those gradients the way PyTorch does, by **reverse-mode automatic
# differentiation**: while you compute, it records which operation produced each tensor;
# `loss.backward()` then walks that record backwards, applying the chain rule one operation
# at a time.
#
# In this notebook you will
#
# 1. look at the graph minicnn records for a small expression,
# 2. run `backward()` and check the answer by hand,
# 3. see why gradients *accumulate*, and use it,
# 4. write your own op, the NumPy way (`ArrayFunction`) and the PyTorch way (`Function`),
# 5. check it with `minicnn.gradcheck`, and read the report of a deliberately wrong backward,
# 6. change tensors in place, and see the rules autograd enforces.
#
# All of it lives in `minicnn/autograd.py` and `minicnn/gradcheck.py`: keep them open beside
# this notebook.

# %%
import numpy as np
import matplotlib.pyplot as plt

import minicnn
from minicnn import functional as F

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. The graph
#
# A `Tensor` wraps a NumPy array (`.data`). Gradients are only wanted for tensors created with
# `requires_grad=True`; gradient work is done in float64 here, so the hand checks below are
# exact to many digits. Take
#
# $$z = x\,y + c\,e^{x}, \qquad x = 2,\; y = 3,\; c = 0.5,$$
#
# where `c` is a constant (no gradient wanted).

# %%
x = minicnn.tensor(2.0, dtype=np.float64, requires_grad=True)
y = minicnn.tensor(3.0, dtype=np.float64, requires_grad=True)
c = minicnn.tensor(0.5, dtype=np.float64)        # requires_grad=False: a constant

z = x * y + c * x.exp()
print(z)
assert np.isclose(z.item(), 2 * 3 + 0.5 * np.exp(2))

# %% [markdown]
# Every tensor computed from a tensor that requires grad remembers the call that made it in
# `.grad_fn` (as in PyTorch): a node named after the op (`MulBackward0`), holding its `ctx`
# (what the backward pass will need: `ctx.saved_tensors` and `ctx.needs_input_grad`) and
# `next_functions`, the nodes of its inputs. A leaf that requires grad appears as its
# `AccumulateGrad` node (which adds into `.grad`); an input without grad as `None`. Leaves have
# `grad_fn = None` and `is_leaf = True`. Following `next_functions` from `z.grad_fn` walks the
# whole graph:

# %%
print(z.grad_fn, z.is_leaf, x.grad_fn, x.is_leaf)
names = {id(x): "x", id(y): "y", id(c): "c"}


def show_graph(node, names, depth=0):
    """Print the graph below ``node``: one line per node, its inputs indented below it."""
    indent = "    " * depth
    if node is None:  # an input that needs no gradient
        print(f"{indent}(constant)")
    elif node.name() == "AccumulateGrad":  # a leaf that requires grad
        print(f"{indent}{names[id(node.variable)]} = {node.variable.item():g}  (leaf)")
    else:
        print(f"{indent}{node.name()}   needs_input_grad={node.ctx.needs_input_grad}, "
              f"saved arrays: {len(node.ctx.saved_tensors)}")
        for parent, _ in node.next_functions:
            show_graph(parent, names, depth + 1)


show_graph(z.grad_fn, names)

# %% [markdown]
# Read it from the bottom up: `Exp` of `x`, multiplied by `c`; `x * y`; both added. Three
# details matter:
#
# * `Mul` **saves its inputs** (`a * b` needs `b` for `da` and `a` for `db`), `Add` saves
#   nothing (its gradient is the upstream gradient itself). What an op saves is what it will
#   need in `backward`.
# * `c * exp(x)` has `needs_input_grad=(False, True)`: nobody wants a gradient for the
#   constant `c`, so its backward can skip that work.
# * `x` appears **twice**: it feeds `Mul` and `Exp`. Its gradient will be the sum of what
#   flows back along both paths.
#
# `backward` needs an order in which every node comes after all the nodes that use its
# output (a topological order): it counts, for each node, the edges arriving from above, and
# runs a node when that count reaches zero. It keeps a stack, not Python's recursion, so a
# 10,000-op chain is no problem:

# %%
chain = x
for _ in range(10_000):
    chain = chain * 1.0
print(minicnn.autograd.grad(chain, [x]))  # d(chain)/dx = 1, without touching x.grad

# %% [markdown]
# ## 2. Backward
#
# `z.backward()` seeds $\partial z/\partial z = 1$ and calls each node's `backward` once, in
# that order. By hand:
#
# $$\frac{\partial z}{\partial x} = y + c\,e^{x} = 3 + 0.5\,e^{2},\qquad
#   \frac{\partial z}{\partial y} = x = 2 .$$

# %%
z.backward()
print("dz/dx =", x.grad, "  dz/dy =", y.grad, "  c.grad =", c.grad)
assert np.isclose(x.grad, 3 + 0.5 * np.exp(2))   # both paths through x, added
assert np.isclose(y.grad, 2.0)
assert c.grad is None                              # constants get no gradient

# %% [markdown]
# After `backward` the graph is freed: the saved arrays are released, so a training loop does
# not grow in memory. Backpropagating through it again is an error, with a message that says
# what to do instead:

# %%
try:
    z.backward()
except RuntimeError as error:
    print("RuntimeError:", error)
else:
    raise AssertionError("a second backward through a freed graph should fail")

# %% [markdown]
# ### Backward over a whole array
#
# With an array input, `y = f(x)` element-wise and `y.sum().backward()`, each `x.grad[i]` is
# $f'(x_i)$: one backward pass gives the derivative everywhere at once. Here is
# $f(x) = x\,\sigma(x)$ (SiLU, or swish) and its derivative
# $f'(x) = \sigma(x) + x\,\sigma(x)(1-\sigma(x))$:

# %%
grid = minicnn.tensor(np.linspace(-6, 6, 241), requires_grad=True)
silu = grid * F.sigmoid(grid)
silu.sum().backward()

s = 1 / (1 + np.exp(-grid.data))
assert np.allclose(grid.grad, s + grid.data * s * (1 - s))

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(grid.data, silu.data, label=r"$f(x) = x\,\sigma(x)$")
ax.plot(grid.data, grid.grad, label=r"$f'(x)$ from backward()")
ax.axhline(0, color="grey", lw=0.5)
ax.set_xlabel("x")
ax.legend()
ax.set_title("One backward pass gives the derivative at every point")
plt.show()

# %% [markdown]
# ## 3. Gradients accumulate
#
# A leaf's `.grad` is *added to*, never overwritten. That is what makes a tensor used twice
# correct (the two paths into `x` above), and it has a consequence: if you call `backward`
# twice, you get the sum.

# %%
w = minicnn.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
for _ in range(2):
    (w * w).sum().backward()           # d/dw sum(w^2) = 2w, each time
print(w.grad)
assert np.allclose(w.grad, 2 * (2 * w.data))   # twice 2w

w.grad = None                           # what optimizer.zero_grad() does
(w * w).sum().backward()
assert np.allclose(w.grad, 2 * w.data)

# %% [markdown]
# This is why a training loop calls `optimizer.zero_grad()` every step. It is also a feature:
# **gradient accumulation** splits a batch that does not fit in memory into micro-batches,
# runs `backward` on each, and steps once. For a mean loss, weight each micro-batch's loss by
# its share of the batch and the accumulated gradient is exactly the full batch's:

# %%
rng = np.random.default_rng(0)
inputs = rng.standard_normal((8, 5))
targets = rng.integers(0, 3, size=8)
weight = minicnn.tensor(rng.standard_normal((3, 5)), requires_grad=True)

F.cross_entropy(F.linear(minicnn.tensor(inputs), weight), targets).backward()
full_batch_grad = weight.grad
weight.grad = None

for part in (slice(0, 5), slice(5, 8)):            # micro-batches of 5 and 3 samples
    share = (part.stop - part.start) / len(inputs)
    loss = F.cross_entropy(F.linear(minicnn.tensor(inputs[part]), weight), targets[part])
    (loss * share).backward()                       # adds into weight.grad
assert np.allclose(weight.grad, full_batch_grad)
print("accumulated micro-batch gradient == full-batch gradient")

# %% [markdown]
# ## 4. Writing your own op
#
# minicnn's own ops (everything in `minicnn.ops`) subclass `minicnn.autograd.ArrayFunction`,
# with two static methods side by side:
#
# * `forward(ctx, *arrays)` gets **NumPy arrays**, returns the output array, and saves on `ctx`
#   what backward will need;
# * `backward(ctx, grad)` gets $\partial L/\partial \text{out}$ (shaped like the output) and
#   returns $\partial L/\partial \text{input}$ for each input, shaped like that input, or `None`
#   where `ctx.needs_input_grad` says nobody wants it.
#
# Our op is swish with a learnable sharpness $\beta$, $\;f(x, \beta) = x\,\sigma(\beta x)$. With
# $s = \sigma(\beta x)$:
#
# $$\frac{\partial f}{\partial x} = s + \beta x\, s(1-s), \qquad
#   \frac{\partial f}{\partial \beta} = x^2 s (1-s).$$
#
# $\beta$ is a single number used by every element, so its gradient is the **sum** over the
# elements: a gradient always has the shape of its input.

# %%
from minicnn.autograd import ArrayFunction


class Swish(ArrayFunction):
    """swish(x, beta) = x * sigmoid(beta * x); x any shape, beta a scalar (shape ())."""

    @staticmethod
    def forward(ctx, x, beta):
        s = 1 / (1 + np.exp(-beta * x))
        ctx.save_for_backward(x, beta, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)                                   # sigmoid's derivative
        dx = grad * (s + beta * x * ds) if ctx.needs_input_grad[0] else None
        dbeta = np.sum(grad * x * x * ds) if ctx.needs_input_grad[1] else None
        return dx, dbeta


x = minicnn.tensor(rng.standard_normal((4, 5)), requires_grad=True)   # float64
beta = minicnn.tensor(np.array(1.5), requires_grad=True)
out = Swish.apply(x, beta)
print(out.shape, out.grad_fn.name())

# %% [markdown]
# The same function composed from minicnn's own ops gives the same values and gradients; the
# custom op records one node instead of three and saves fewer arrays, which is why
# frameworks fuse common patterns into single ops.

# %%
composed = x * F.sigmoid(beta * x)
assert np.allclose(out.data, composed.data)

upstream = rng.standard_normal(out.shape)     # a random dL/dout, not all ones
out.backward(upstream)
grads_custom = x.grad, beta.grad
x.grad = beta.grad = None
composed.backward(upstream)
assert np.allclose(x.grad, grads_custom[0]) and np.allclose(beta.grad, grads_custom[1])
x.grad = beta.grad = None
print("custom op == composition of built-in ops, forward and backward")

# %% [markdown]
# ### The PyTorch way: `minicnn.autograd.Function`
#
# PyTorch's `torch.autograd.Function` has the same two methods, but they receive and return
# **Tensors**; minicnn has it as `minicnn.autograd.Function` (also `minicnn.Function`), so
# code written for PyTorch runs unchanged. `forward` runs without recording (so its tensor
# ops build no graph); `apply` records one node whose backward is yours. Use it to write code
# that runs on both; `ArrayFunction` is minicnn's lighter form for its own NumPy ops.

# %%
class TorchStyleSwish(minicnn.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta):                  # Tensors in
        s = F.sigmoid(beta * x)
        ctx.save_for_backward(x, beta, s)
        return x * s                            # a Tensor out

    @staticmethod
    def backward(ctx, grad):                    # a Tensor: dL/dout
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)
        return grad * (s + beta * x * ds), (grad * x * x * ds).sum()


same = TorchStyleSwish.apply(x, beta)
print(same.grad_fn.name())                      # TorchStyleSwishBackward, as PyTorch names it
same.backward(upstream)
assert np.allclose(same.data, out.data)
assert np.allclose(x.grad, grads_custom[0]) and np.allclose(beta.grad, grads_custom[1])
x.grad = beta.grad = None

# %% [markdown]
# ## 5. Checking a backward with `minicnn.gradcheck`
#
# Agreement with another implementation is reassuring, but the real test of a backward is
# the definition of the derivative. `minicnn.gradcheck(fn, inputs)` draws a random upstream
# gradient $v$, computes $L(x) = \sum f(x) \cdot v$, and compares every element of the
# analytic gradient with the central difference
#
# $$\frac{L(x + \epsilon e_i) - L(x - \epsilon e_i)}{2\epsilon}, \qquad \epsilon = 10^{-6}.$$
#
# It needs float64. Why: the central difference has a truncation error of order $\epsilon^2$
# and a rounding error of order $u/\epsilon$ ($u$ the unit round-off). The figure measures both
# on our swish at one point:

# %%
def swish_numpy(x, beta):
    return x / (1 + np.exp(-beta * x))


point, b = 0.7, 1.5
s0 = 1 / (1 + np.exp(-b * point))
exact = s0 + b * point * s0 * (1 - s0)
steps = np.logspace(-12, -1, 45)
errors = {}
for dtype in (np.float32, np.float64):
    p, bb = dtype(point), dtype(b)
    numeric = [(swish_numpy(p + dtype(h), bb) - swish_numpy(p - dtype(h), bb)) / (2 * dtype(h))
               for h in steps]
    errors[dtype.__name__] = np.abs(np.array(numeric, dtype=np.float64) - exact) / abs(exact)

fig, ax = plt.subplots(figsize=(6, 3.2))
for name, err in errors.items():
    ax.loglog(steps, np.maximum(err, 1e-17), "o-", ms=3, label=name)
ax.axvline(1e-6, color="grey", ls="--", lw=0.8, label="gradcheck's eps")
ax.set_xlabel(r"step $\epsilon$")
ax.set_ylabel("relative error of the central difference")
ax.legend()
ax.set_title("Rounding error (left) against truncation error (right)")
plt.show()

at_gradcheck_eps = {name: err[np.argmin(np.abs(steps - 1e-6))] for name, err in errors.items()}
print("relative error at eps = 1e-6:", {k: f"{v:.1e}" for k, v in at_gradcheck_eps.items()})
assert at_gradcheck_eps["float64"] < 1e-9 and at_gradcheck_eps["float32"] > 1e-3

# %% [markdown]
# At gradcheck's step, float64's finite difference is right to about 12 digits, while
# float32's is off by around a percent: more than gradcheck's tolerance ($10^{-3}$), so a
# correct backward would fail. Even float32's best steps only reach about $10^{-5}$ (the odd
# point lower is a lucky cancellation), too coarse to tell a right gradient from a slightly
# wrong one. gradcheck refuses float32 inputs and says so:

# %%
try:
    minicnn.gradcheck(Swish.apply, [minicnn.tensor(np.ones(3, np.float32), requires_grad=True),
                                    beta])
except TypeError as error:
    print("TypeError:", error)

# %% [markdown]
# Our op passes (`gradcheck` returns `True` or raises):

# %%
assert minicnn.gradcheck(Swish.apply, [x, beta])
print("Swish passes gradcheck")

# %% [markdown]
# ### Reading the report of a wrong backward
#
# The classic mistake with a product like $x\,\sigma(\beta x)$ is to forget half of the
# product rule and return $\partial f/\partial x = \sigma(\beta x)$. Here it is (the forward is
# inherited, only backward changes). `gradcheck` raises `minicnn.GradcheckError`; we catch it
# and print the report:

# %%
class WrongSwish(Swish):
    @staticmethod
    def backward(ctx, grad):
        x, beta, s = ctx.saved_tensors
        dx = grad * s                                     # BUG: forgot beta * x * s * (1 - s)
        dbeta = np.sum(grad * x * x * s * (1 - s))
        return dx, dbeta


try:
    minicnn.gradcheck(WrongSwish.apply, [x, beta])
except minicnn.GradcheckError as error:
    report = str(error)
    print(report)
else:
    raise AssertionError("gradcheck should have caught the missing term")

# %% [markdown]
# How to read it:
#
# * **Which input**: "input 0", that is `x` (the inputs are numbered as you passed them).
#   `beta` (input 1) is not mentioned: its gradient is right, so the bug is in `dx`.
# * **How many elements**: how widespread the bug is. All or nearly all elements wrong
#   points at a formula; a few wrong ones at an edge case (a border, a tie, a padding cell).
# * **The worst elements**: the index, the analytic value (your backward) and the numeric one
#   (the finite difference), and the relative error. Both are gradients of gradcheck's
#   $L = \sum f(x) \cdot v$ with its random $v$, so compare them with each other, not with
#   $f'(x)$.
#
# Here every element of `x` disagrees: the formula is wrong, not an edge case.

# %%
assert "input 0" in report and "input 1" not in report
assert f"{x.numel()} of {x.numel()} elements disagree" in report
assert "analytic" in report and "numeric" in report

# %% [markdown]
# One more mistake it catches: a backward that ignores the upstream gradient (returns
# $\partial f/\partial x$ instead of `grad *` $\partial f/\partial x$). Checked with an
# upstream of all ones, that bug would pass unnoticed; gradcheck's upstream is random, so it
# cannot hide.

# %%
class IgnoresUpstream(Swish):
    @staticmethod
    def backward(ctx, grad):
        x, beta, s = ctx.saved_tensors
        ds = s * (1 - s)
        return s + beta * x * ds, np.sum(x * x * ds)     # BUG: never multiplied by grad


try:
    minicnn.gradcheck(IgnoresUpstream.apply, [x, beta])
except minicnn.GradcheckError as error:
    first_lines = str(error).splitlines()[:3]
    print("\n".join(first_lines))
    assert "input 0" in str(error) and "input 1" in str(error)
else:
    raise AssertionError("gradcheck should have caught the ignored upstream gradient")

# %% [markdown]
# ## 6. In-place operations
#
# `w -= lr * w.grad`, `w.add_(...)`, `t[mask] = 0`, `zero_()`, ... change a tensor itself.
# That is how a parameter is updated, and autograd has three rules about it (PyTorch's):
#
# 1. A leaf that requires grad may only be changed in place when nothing is recorded: inside
#    `with minicnn.no_grad():` (what optimizers do), or through `.data`.
# 2. A tensor inside the graph may be changed in place; the change is recorded like any op.
# 3. Every tensor counts its in-place changes (`t._version`). An op that saved a tensor for its
#    backward remembers that count; if the tensor changed since, `backward` refuses to compute
#    a wrong gradient and raises.

# %%
w = minicnn.tensor(np.array([1.0, -2.0]), requires_grad=True)
(w * w).sum().backward()
try:
    w -= 0.1 * w.grad                           # rule 1: refused
except RuntimeError as error:
    print("RuntimeError:", error)
with minicnn.no_grad():
    w -= 0.1 * w.grad                           # one step of gradient descent
print(w, w._version)

w.grad = None
h = w * 3.0
h[0] = 0.0                                      # rule 2: recorded
h.sum().backward()
print(h.grad_fn.name(), w.grad)                 # w[0] no longer reaches h

e = w.exp()                                     # exp saves its output for backward
e.add_(1.0)                                     # ... which is now changed
try:
    e.sum().backward()                          # rule 3
except RuntimeError as error:
    print("RuntimeError:", str(error)[:120], "...")

# %% [markdown]
# ## Summary
#
# * Every op records a node (`grad_fn`, with its `ctx` and `next_functions`); `backward`
#   visits the nodes in topological order and calls each op's `backward` once.
# * Gradients accumulate: a tensor used twice sums its paths; `.grad` sums across backward
#   calls (zero it each step, or use it to accumulate micro-batches).
# * A new op is an `ArrayFunction` (NumPy arrays in and out) or, PyTorch's way, a `Function`
#   (Tensors in and out), with `forward` and `backward` side by side; its gradient for each
#   input has that input's shape (sum over broadcast axes).
# * In place: only under `no_grad` for leaves that require grad; recorded otherwise; a saved
#   tensor changed before backward is an error.
# * Check every backward with `minicnn.gradcheck` in float64; its report says which input,
#   how many elements and by how much.
