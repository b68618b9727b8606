# %% [markdown]
# # 19. The convolutional layer's backward pass
#
# Chapter 18 computed a convolution as one matrix product: copy every patch of the image into a
# row of a matrix (im2col), multiply by the kernels. That rewriting also hands us the backward
# pass almost for free. A matrix product's gradients are the ones chapter 8 derived for a
# dense layer; what remains is to send the gradient of each *copied* patch entry back to the
# pixel it was copied from, the adjoint of im2col, called **col2im**. This chapter derives all
# three gradients, checks them with finite differences, and measures why the vectorized
# version is worth its few lines.

# %%
import inspect
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

import nn101
from nn101.functional import conv as F


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Forward, as a matrix product
#
# Pad the batch $x$ $(N, C_{in}, H, W)$ and list, for every output position $(n, i, j)$, the
# $k_h k_w C_{in}$ inputs it sees, in the order (kernel row, kernel column, channel). That is
# the patch matrix
#
# $$
# X_{col} = \operatorname{im2col}(x_{pad}) \quad (N H_o W_o) \times (k_h k_w C_{in}),
# $$
#
# and with the kernels as a matrix $W$ of shape $(k_h k_w C_{in}) \times C_{out}$ (nn101
# stores the weight as $(k_h, k_w, C_{in}, C_{out})$ exactly so that this reshape is free):
#
# $$
# Y = X_{col}\, W + b \qquad (N H_o W_o) \times C_{out},
# $$
#
# one row per output pixel, one column per output map. It is a dense layer applied to patches.
#
# ## Backward, derived
#
# Let $G = \partial \mathcal{L} / \partial Y$, same shape as $Y$. Since $Y$ is an affine map of
# $W$ and of $X_{col}$, chapter 8's dense-layer gradients apply unchanged:
#
# $$
# \frac{\partial \mathcal{L}}{\partial W} = X_{col}^\top G, \qquad
# \frac{\partial \mathcal{L}}{\partial b} = \sum_{\text{rows}} G, \qquad
# \frac{\partial \mathcal{L}}{\partial X_{col}} = G\, W^\top .
# $$
#
# The weight gradient is again one matrix product: every output position contributes, which is
# weight sharing seen from the gradient's side. For the input, each entry of $X_{col}$ is a copy
# of one pixel $x_{pad}[n, c, i s_h + a d_h, j s_w + e d_w]$, and a pixel copied into several
# patches influences the loss through each copy. By the chain rule its gradient is the **sum**
# of the gradients of its copies:
#
# $$
# \frac{\partial \mathcal{L}}{\partial x_{pad}[n, c, p, q]}
#   = \sum_{\substack{(i, j, a, e):\\ i s_h + a d_h = p,\ j s_w + e d_w = q}}
#     \frac{\partial \mathcal{L}}{\partial X_{col}}\big[(n, i, j),\ (a, e, c)\big].
# $$
#
# This scatter-add is col2im; cropping the padding gives $\partial \mathcal{L}/\partial x$. In
# linear-algebra terms im2col is a linear map $P$ (a 0/1 matrix that copies), $X_{col} = P x$,
# and col2im is its transpose $P^\top$: for every $x$ and every $c$,
# $\langle P x, c\rangle = \langle x, P^\top c\rangle$. The check below tests that identity.

# %%
rng = np.random.default_rng(0)
kernel, stride, dilation = (3, 2), (2, 1), (1, 2)
x_pad = rng.standard_normal((2, 9, 8, 3))  # channels last: (N, H, W, C)
out = (F.output_size(9, 3, 2, 0), F.output_size(8, 2, 1, 0, 2))
X_col = F.im2col(x_pad, kernel, stride, dilation, out)
c = rng.standard_normal(X_col.shape)
left, right = (
    np.vdot(X_col, c),
    np.vdot(x_pad, F.col2im(c, x_pad.shape, kernel, stride, dilation, out)),
)
print(f"<im2col(x), c> = {left:.10f}\n<x, col2im(c)> = {right:.10f}")
assert np.isclose(left, right, rtol=1e-12)

# %% [markdown]
# ## col2im without a loop over positions
#
# The scatter-add could loop over output positions, or call `np.add.at` with an index array;
# both are slow (the first runs Python once per pixel, the second is 10 to 60 times slower than
# a plain `+=`). The fast version loops over the $k_h k_w$ **kernel offsets** instead: for a
# fixed offset $(a, e)$, the pixels that offset reads form a strided slice of the padded image,
# one slice for all positions at once, and different positions of one offset never hit the same
# pixel. So col2im is $k_h k_w$ strided `+=` of whole slices (9 of them for a $3 \times 3$
# kernel):

# %%
show(F.window_slices)
show(F.col2im)

# %% [markdown]
# nn101's layer goes one step further. Computing $G W^\top$ first produces the matrix
# $(N H_o W_o) \times (k_h k_w C_{in})$ whose pieces for one offset are short runs of $C_{in}$
# numbers spread across memory. Instead it multiplies $G$ by one offset's slice of $W$ at a
# time, into one contiguous buffer, and adds that buffer to its window: the same arithmetic,
# in the order memory likes.

# %%
show(F.conv_input_grad)
show(nn101.Conv2d.backward)

# %% [markdown]
# ## The derivation, checked
#
# `check_layer` compares the backward pass with centered finite differences of
# $\sum (y \odot u)$, for the input, the weights and the bias at once, in float64. A few
# geometries, including the awkward ones:

# %%
cases = [
    {"kernel_size": 3},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 0)},
    {"kernel_size": 3, "dilation": 2, "padding": "same"},
]
for kwargs in cases:
    layer = nn101.Conv2d(2, 3, rng=rng, dtype=np.float64, **kwargs)
    error = nn101.gradcheck.check_layer(layer, rng.standard_normal((2, 2, 7, 6)), rng=rng)
    print(f"{str(kwargs):60s} worst relative error {error:.1e}")
    assert error < 1e-7

# %% [markdown]
# For stride 1 there is a second way to see the input gradient: it is a *full* convolution of
# the gradient (padded by $k - 1$ on each side) with the kernel flipped in both directions and
# its input and output channels swapped. Each input pixel gathers, from every output it
# influenced, the weight that connected them. This identity is what "backward of a convolution
# is a convolution" means, and the check is one line:

# %%
layer = nn101.Conv2d(2, 3, 3, rng=rng, dtype=np.float64)
x = rng.standard_normal((2, 2, 8, 8))
g = rng.standard_normal(layer.forward(x, training=True).shape)  # (2, 3, 6, 6)
flipped = nn101.Conv2d(3, 2, 3, padding=2, bias=False, dtype=np.float64)
flipped.weight.value[...] = layer.weight.value[::-1, ::-1].transpose(0, 1, 3, 2)
assert np.allclose(layer.backward(g), flipped.forward(g), atol=1e-12)
print("dL/dx = full convolution of G with the flipped kernel: verified")

# %% [markdown]
# ## Why the vectorized version is fast
#
# A direct implementation loops over the output positions: forward, one patch dot product per
# position; backward, one weight update and one patch scatter per position. The same
# computation, timed against the layer on 32 images, 8 to 16 channels, $3 \times 3$ kernels:


# %%
def naive_forward_backward(x, W, g):
    """Loops over output positions (vectorized over the batch and channels only)."""
    N, C, H, Wd = x.shape
    k, C_out = W.shape[0], W.shape[3]
    Ho, Wo = H - k + 1, Wd - k + 1
    W_matrix = W.reshape(k * k * C, C_out)
    y = np.zeros((N, C_out, Ho, Wo), np.float32)
    dW, dx = np.zeros_like(W_matrix), np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            patch = x[:, :, i : i + k, j : j + k].transpose(0, 2, 3, 1).reshape(N, -1)
            y[:, :, i, j] = patch @ W_matrix
            dW += patch.T @ g[:, :, i, j]
            dpatch = (g[:, :, i, j] @ W_matrix.T).reshape(N, k, k, C).transpose(0, 3, 1, 2)
            dx[:, :, i : i + k, j : j + k] += dpatch
    return y, dW.reshape(W.shape), dx


x_time = rng.random((32, 8, 24, 24), dtype=np.float32)
layer = nn101.Conv2d(8, 16, 3, bias=False, rng=rng)
g_time = rng.standard_normal((32, 16, 22, 22)).astype(np.float32)


def vectorized():
    layer.zero_grad()
    y = layer.forward(x_time, training=True)
    return y, layer.weight.grad, layer.backward(g_time)


timings = {}
for name, run in [
    ("loop over positions", lambda: naive_forward_backward(x_time, layer.weight.value, g_time)),
    ("im2col + products", vectorized),
]:
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    timings[name] = (best, result)
(slow_s, slow), (fast_s, fast) = timings.values()
for a, b in zip(slow, fast):
    assert np.allclose(a, b, rtol=1e-3, atol=1e-3)
speedup = slow_s / fast_s
fig, ax = plt.subplots(figsize=(6, 2.4))
ax.barh(list(timings), [1e3 * t for t, _ in timings.values()], color=["#c44", "#48c"])
ax.set_xlabel("milliseconds, forward + backward (best of 3)")
ax.set_title(f"the same results, {speedup:.0f}x faster")
fig.tight_layout()
plt.show()

# %% [markdown]
# The loop runs Python $22 \times 22 = 484$ times with small products; the layer runs one big
# product for $Y$, one for $\partial \mathcal{L}/\partial W$, and nine per-offset products for
# $\partial \mathcal{L}/\partial x$, each over all positions at once (the figure's title gives
# the ratio measured in this run). On LeNet-5 and on the conv32-conv64 network of PyTorch's
# MNIST example, the benchmark suite (`python -m benchmarks --only LeNet`) times a whole
# training step of nn101 against PyTorch's oneDNN convolutions in the same run.
#
# ## The same in PyTorch
#
# Autograd computes the same three gradients from the forward pass alone. In float64, with
# the weight converted between the layouts, they agree to 1e-10; then a two-layer CNN trained
# side by side on 2,000 digits shows that the agreement carries through training.

# %%
ours = nn101.Conv2d(3, 4, 3, stride=2, padding=1, rng=rng, dtype=np.float64)
theirs = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
with torch.no_grad():
    theirs.weight.copy_(torch.from_numpy(F.weight_to_torch(ours.weight.value)))
    theirs.bias.copy_(torch.from_numpy(ours.bias.value))
x = rng.standard_normal((2, 3, 9, 8))
g = rng.standard_normal(ours.forward(x, training=True).shape)
dx = ours.backward(g)
x_t = torch.tensor(x, requires_grad=True)
theirs(x_t).backward(torch.from_numpy(g))
np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
np.testing.assert_allclose(
    ours.weight.grad, F.weight_from_torch(theirs.weight.grad.numpy()), rtol=1e-10
)
np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10)
print("dL/dx, dL/dW and dL/db agree with torch autograd to 1e-10")

# %%
try:
    train, _ = nn101.data.load_mnist(flatten=False)
except (OSError, ValueError) as error:
    raise RuntimeError(
        "Chapter 19 needs MNIST: set NN101_DATA_DIR or run `nn101 data mnist` once. "
        f"Loading failed with: {error}"
    ) from error
x_train, y_train = train[:2000][0], train.y[:2000]

rng = np.random.default_rng(4)
net = nn101.Sequential(
    nn101.Conv2d(1, 6, 5, stride=2, rng=rng),  # (N, 6, 12, 12)
    nn101.ReLU(),
    nn101.Conv2d(6, 12, 3, stride=2, rng=rng),  # (N, 12, 5, 5)
    nn101.ReLU(),
    nn101.Flatten(),
    nn101.Dense(300, 10, rng=rng),
)
nn_ = torch.nn
torch_net = nn_.Sequential(
    nn_.Conv2d(1, 6, 5, stride=2), nn_.ReLU(), nn_.Conv2d(6, 12, 3, stride=2), nn_.ReLU(),
    nn_.Flatten(), nn_.Linear(300, 10),
)  # fmt: skip
with torch.no_grad():
    for i in (0, 2):
        torch_net[i].weight.copy_(torch.from_numpy(F.weight_to_torch(net[i].weight.value)))
        torch_net[i].bias.copy_(torch.from_numpy(net[i].bias.value))
    torch_net[5].weight.copy_(torch.from_numpy(net[5].weight.value.T.copy()))
    torch_net[5].bias.copy_(torch.from_numpy(net[5].bias.value))

optimizer = nn101.SGD(net.parameters(), learning_rate=0.05, momentum=0.9)
torch_optimizer = torch.optim.SGD(torch_net.parameters(), lr=0.05, momentum=0.9)
loss = nn101.SoftmaxCrossEntropy()
curves = {"nn101": [], "PyTorch": []}
order = np.random.default_rng(5)
for _ in range(2):
    for index in np.array_split(order.permutation(2000), 40):
        optimizer.zero_grad()
        value = loss.forward(net.forward(x_train[index], training=True), y_train[index])
        net.backward(loss.backward(), input_grad=False)
        optimizer.step()
        curves["nn101"].append(value)
        torch_optimizer.zero_grad()
        inputs, targets = torch.from_numpy(x_train[index]), torch.from_numpy(y_train[index])
        torch_loss = nn_.functional.cross_entropy(torch_net(inputs), targets)
        torch_loss.backward()
        torch_optimizer.step()
        curves["PyTorch"].append(torch_loss.item())

fig, ax = plt.subplots(figsize=(6.5, 3.2))
for name, values in curves.items():
    ax.plot(values, label=name, alpha=0.8)
ax.set_xlabel("step (batch of 50)")
ax.set_ylabel("training loss")
ax.legend()
plt.show()
gap = np.max(np.abs(np.subtract(curves["nn101"], curves["PyTorch"])))
print(f"largest difference between the loss curves over {len(curves['nn101'])} steps: {gap:.1e}")
assert gap < 1e-2

# %% [markdown]
# ## Summary
#
# * With $X_{col} = \operatorname{im2col}(x)$, a convolution is $Y = X_{col} W + b$, and its
#   gradients are a dense layer's: $\partial W = X_{col}^\top G$, $\partial b = \sum G$,
#   $\partial X_{col} = G W^\top$.
# * $\partial x = \operatorname{col2im}(\partial X_{col})$: each pixel sums the gradients of
#   its copies. col2im is the transpose of im2col, written as one strided `+=` per kernel
#   offset, never a loop over positions or `np.add.at`.
# * At stride 1 the input gradient is a full convolution with the flipped kernel.
# * Verified by finite differences and by PyTorch's autograd (1e-10 in float64); the
#   vectorized layer is many times faster than the loop over positions.
#
# ## Exercises
#
# **Exercise 1.** How many times is pixel $(p, q)$ of a $28 \times 28$ image copied into
# $X_{col}$ by a $5 \times 5$ convolution with stride 1 and no padding, for a pixel in the
# middle, and for the corner pixel $(0, 0)$?
#
# <details><summary>Solution</summary>
#
# A middle pixel lies in $5 \times 5 = 25$ patches; the corner pixel only in the first one.
# That is why, without padding, border pixels get smaller gradients: they influence fewer
# outputs.
#
# </details>
#
# **Exercise 2.** Write col2im with `np.add.at`, check it against `F.col2im`, and time both.
#
# <details><summary>Solution</summary>
#
# Build the index arrays of the pixel each $X_{col}$ entry came from (for offset $(a, e)$ and
# position $(i, j)$: row $i s + a d$, column $j s + e d$) and call
# `np.add.at(dx, (n_idx, row_idx, col_idx, c_idx), cols.ravel())`. The results agree; on a
# batch of 64 images the `np.add.at` version is typically 10 to 60 times slower.
#
# </details>
#
# **Exercise 3.** Why does a model's first convolution skip $\partial \mathcal{L}/\partial x$
# (`backward(g, input_grad=False)`), and how much of its backward pass does that save?
#
# <details><summary>Solution</summary>
#
# Its input is the data, which has no parameters upstream. Skipping it saves the product
# $G W^\top$ (or the $k_h k_w$ per-offset products) and the col2im: roughly half of the
# layer's backward work.
#
# </details>
#
# ## Further reading
#
# * Chellapilla, Puri & Simard (2006), "High performance convolutional neural networks for
#   document processing": unrolling convolutions into matrix products.
# * Dumoulin & Visin (2016), "A guide to convolution arithmetic for deep learning": transposed
#   convolutions, the backward pass as a convolution.
# * cs231n, "Convolutional Neural Networks for Visual Recognition", notes on im2col.
