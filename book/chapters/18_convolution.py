# %% [markdown]
# # 18. Convolution
#
# A dense layer treats the 784 pixels of a digit as an unordered list: the weight that connects
# pixel (3, 5) to a hidden unit knows nothing about the weight for pixel (3, 6), and a stroke
# learned in the top-left corner must be learned again in the bottom-right. A **convolution**
# builds in two facts about images instead. *Locality*: a unit looks at a small patch of
# neighbouring pixels. *Weight sharing*: the same small set of weights (the **kernel**) is slid
# over every position, so a pattern detector learned once works everywhere.
#
# This chapter defines the operation as a sliding dot product, works an example by hand, runs
# edge-detecting kernels over a digit, and derives the sizes that padding, stride and dilation
# produce, and how far each output can see (its receptive field). Chapter 19 derives the
# gradients; chapter 20 builds a whole network.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import conv as F


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The sliding dot product
#
# Take one image $x$ of height $H$ and width $W$ and a kernel $w$ of size $k_h \times k_w$. The
# output at position $(i, j)$ is the dot product of the kernel with the patch whose top-left
# corner is $(i, j)$:
#
# $$
# y_{ij} = b + \sum_{a=0}^{k_h-1} \sum_{c=0}^{k_w-1} w_{ac}\, x_{i+a,\, j+c},
# \qquad 0 \le i \le H - k_h,\quad 0 \le j \le W - k_w .
# $$
#
# (Mathematicians would flip the kernel and call this cross-correlation; every deep-learning
# library computes it unflipped and calls it convolution, and so do we. Since the kernel is
# learned, the flip would make no difference.) With $C_{in}$ input channels (3 for colour, or
# the previous layer's feature maps) the sum also runs over the channels, and a layer with
# $C_{out}$ kernels produces $C_{out}$ output maps:
#
# $$
# y_{n,o,i,j} = b_o + \sum_{c=0}^{C_{in}-1} \sum_{a,\,e} w_{a,e,c,o}\; x_{n,c,\,i+a,\,j+e}
# \qquad x: (N, C_{in}, H, W) \;\to\; y: (N, C_{out}, H_o, W_o).
# $$
#
# The parameters: $k_h k_w C_{in} C_{out}$ weights and $C_{out}$ biases, whatever the image
# size. A dense layer from a $28 \times 28$ image to 32 maps of $24 \times 24$ would need
# $784 \cdot 18{,}432 \approx 14.5$ million weights; a $5 \times 5$ convolution needs 800.
#
# ## A hand-worked example
#
# A $4 \times 4$ image, a $2 \times 2$ kernel, no bias. The first output is
# $1\cdot 1 + 2 \cdot 0 + 5 \cdot 0 + 6 \cdot (-1) = -5$; every output is "top-left minus
# bottom-right" of its patch. The loop below is the definition, term by term; `nn101.Conv2d`
# must agree.

# %%
x_small = np.arange(1.0, 17.0).reshape(4, 4)
kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
by_hand = np.zeros((3, 3))
for i in range(3):
    for j in range(3):
        by_hand[i, j] = np.sum(kernel * x_small[i : i + 2, j : j + 2])
print(by_hand)

conv = nn101.Conv2d(1, 1, 2, bias=False, dtype=np.float64)
conv.weight.value[:, :, 0, 0] = kernel  # nn101's weight is (kh, kw, in, out)
print(conv.forward(x_small.reshape(1, 1, 4, 4))[0, 0])
assert np.allclose(conv.forward(x_small.reshape(1, 1, 4, 4))[0, 0], by_hand)

# %% [markdown]
# Every output is $-5$: the image increases by 1 to the right and by 4 downwards, so every
# patch has the same top-left to bottom-right difference, $-(4 + 1) = -5$. A kernel responds to
# a *pattern* (here, a diagonal slope), wherever it is.
#
# ## Edge detectors on a digit
#
# Classic image processing designed kernels by hand. The Sobel kernels respond to horizontal
# and vertical changes of brightness: on a digit, to the edges of its strokes. A learned first
# layer of a CNN ends up with similar detectors (chapter 20 shows them).

# %%
try:
    train, test = nn101.data.load_mnist(flatten=False)
except (OSError, ValueError) as error:  # not found, download failed, or a bad checksum
    raise RuntimeError(
        "Chapter 18 needs MNIST. Put the four MNIST .gz files in a directory and set "
        "NN101_DATA_DIR to it, or run `nn101 data mnist` once with internet access. "
        f"Loading failed with: {error}"
    ) from error
digit = train[:1][0].astype(np.float64)  # (1, 1, 28, 28), pixels in [0, 1]

sobel = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
kernels = {"vertical edges": sobel, "horizontal edges": sobel.T, "blur": np.ones((3, 3)) / 9}
edges = nn101.Conv2d(1, 3, 3, padding=1, bias=False, dtype=np.float64)
for o, k in enumerate(kernels.values()):
    edges.weight.value[:, :, 0, o] = k
maps = edges.forward(digit)[0]  # (3, 28, 28): padding 1 keeps the size

fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
axes[0].imshow(digit[0, 0], cmap="gray_r")
axes[0].set_title(f"input (label {train.y[0]})")
for ax, name, feature_map in zip(axes[1:], kernels, maps):
    limit = np.abs(feature_map).max()
    ax.imshow(feature_map, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(name)
for ax in axes:
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# Red is a positive response, blue a negative one: the vertical-edge kernel lights up on the
# left and right sides of each stroke with opposite signs, the horizontal one on the top and
# bottom, and the blur smooths the digit.
#
# ## Padding, stride, dilation
#
# Three arguments change where the kernel goes. Along one axis of size $n$, with a kernel of
# size $k$:
#
# * **Padding** $p$ adds $p$ zeros on each side. Without it the output shrinks by $k - 1$;
#   `padding="same"` adds $k - 1$ in total, so that the output keeps the input's size.
# * **Stride** $s$ moves the kernel $s$ pixels at a time: the output is about $s$ times smaller.
# * **Dilation** $d$ spreads the kernel's taps $d$ pixels apart: a $3 \times 3$ kernel with
#   $d = 2$ covers $5 \times 5$ pixels with 9 weights. Its extent is $d(k - 1) + 1$.
#
# The output size counts the positions where the (dilated) kernel fits in the padded input,
# stepping by $s$:
#
# $$
# n_{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1 .
# $$
#
# `nn101.functional.conv.output_size` is this formula; the layer uses it, and it agrees with
# the shape the layer produces for every combination below.

# %%
show(F.output_size)

for kwargs in [
    {"kernel_size": 5},
    {"kernel_size": 5, "padding": 2},
    {"kernel_size": 3, "padding": "same"},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "dilation": 2},
]:
    layer = nn101.Conv2d(1, 1, **kwargs)
    shape = layer.forward(np.zeros((1, 1, 28, 28), np.float32)).shape
    print(f"{str(kwargs):52s} 28 x 28 -> {shape[2]} x {shape[3]}")
    p = {"same": (kwargs["kernel_size"] - 1) // 2}.get(kwargs.get("padding"), kwargs.get("padding"))
    expected = F.output_size(
        28, kwargs["kernel_size"], kwargs.get("stride", 1), 2 * (p or 0), kwargs.get("dilation", 1)
    )
    assert shape[2] == expected

# %% [markdown]
# ## The receptive field
#
# One output of a layer sees $k$ pixels of its input along each axis. Stack layers and the
# field grows: an output of layer $L$ sees $k_L$ outputs of layer $L-1$, which are
# $j_{L-1}$ input pixels apart, where the **jump** $j$ is the product of the strides so far.
# Each layer widens the field by $(k_L - 1)\, d_L\, j_{L-1}$:
#
# $$
# r_0 = 1,\quad j_0 = 1,\qquad r_L = r_{L-1} + (k_L - 1)\, d_L\, j_{L-1},\qquad
# j_L = j_{L-1}\, s_L .
# $$
#
# Stride (and pooling, chapter 20) makes later layers grow the field faster; dilation grows it
# without downsampling. The experiment measures the field directly: put a gradient of 1 on the
# centre output and see which input pixels receive any gradient (chapter 19 explains why the
# backward pass answers this question).


# %%
def receptive_field(layers):
    r, jump = 1, 1
    for k, s, d in layers:
        r, jump = r + (k - 1) * d * jump, jump * s
    return r


def measured_field(stack, size=41):
    model = nn101.Sequential(*stack)
    y = model.forward(np.zeros((1, 1, size, size)), training=True)
    g = np.zeros_like(y)
    g[0, 0, y.shape[2] // 2, y.shape[3] // 2] = 1.0
    touched = np.abs(model.backward(g)[0, 0]) > 0
    rows = np.flatnonzero(touched.any(axis=1))
    return rows[-1] - rows[0] + 1, touched


def ones_conv(k, s=1, d=1):
    layer = nn101.Conv2d(1, 1, k, stride=s, dilation=d, bias=False, dtype=np.float64)
    layer.weight.value[...] = 1.0
    return layer


stacks = {
    "three 3x3": [(3, 1, 1)] * 3,
    "3x3, 3x3 stride 2, 3x3": [(3, 1, 1), (3, 2, 1), (3, 1, 1)],
    "3x3 dilations 1, 2, 4": [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, (name, spec) in zip(axes, stacks.items()):
    size, touched = measured_field([ones_conv(*layer) for layer in spec])
    assert size == receptive_field(spec)
    ax.imshow(touched, cmap="Greens")
    ax.set_title(f"{name}\nfield {size} x {size}")
    ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# Three $3 \times 3$ layers see $7 \times 7$ pixels (with $3 \cdot 9 = 27$ weights, against 49
# for one $7 \times 7$ kernel, and two more nonlinearities: the argument of the VGG networks);
# a stride in the middle widens the last layer's step; dilations $1, 2, 4$ reach
# $15 \times 15$.
#
# ## How the library computes it
#
# Looping over positions, as the hand-worked example did, costs one Python iteration per output
# pixel (chapter 19 times it). `nn101` instead copies every patch into one row of a matrix
# (**im2col**), then does the whole convolution as **one matrix product** of that patch matrix
# with the kernels
# reshaped to $(k_h k_w C_{in}) \times C_{out}$. The patches are read through a strided *view*
# of the padded image (no copy), and the reshape to a matrix is the only copy. Images are kept
# with their channels last in memory, $(N, H, W, C)$, so that each patch row is made of long
# contiguous runs. When no backward pass will follow (inference), the layer never keeps the
# patch matrix, which is $k_h k_w$ times larger than its input: `blocked_conv` builds and
# multiplies it a few images at a time. Chapter 19 takes this apart; here is the forward pass:

# %%
show(F.im2col)
show(nn101.Conv2d.forward)

# %% [markdown]
# ## The same in PyTorch
#
# `torch.nn.Conv2d` stores its weight as $(C_{out}, C_{in}, k_h, k_w)$; nn101's is
# $(k_h, k_w, C_{in}, C_{out})$, and `weight_to_torch` / `weight_from_torch` convert. First the
# outputs, in float64, for a strided, padded, dilated layer; then a tiny network, one strided
# convolution and a dense layer, trained side by side on 3,000 MNIST digits from the same
# initial weights with the same Adam settings and the same batches.

# %%
import torch

rng = np.random.default_rng(1)
ours = nn101.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2, rng=rng, dtype=np.float64)
theirs = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2, dtype=torch.float64)
with torch.no_grad():
    theirs.weight.copy_(torch.from_numpy(F.weight_to_torch(ours.weight.value)))
    theirs.bias.copy_(torch.from_numpy(ours.bias.value))
x_check = rng.standard_normal((2, 3, 11, 9))
np.testing.assert_allclose(
    ours.forward(x_check), theirs(torch.from_numpy(x_check)).detach().numpy(), rtol=1e-10
)
print("Conv2d output agrees with torch.nn.Conv2d to 1e-10")

# %%
n_train, batch, epochs = 3000, 50, 3
x_train, y_train = train[:n_train][0], train.y[:n_train]
x_test, y_test = test[:2000][0], test.y[:2000]

rng = np.random.default_rng(2)
net = nn101.Sequential(
    nn101.Conv2d(1, 8, 5, stride=2, rng=rng),  # (N, 8, 12, 12)
    nn101.ReLU(),
    nn101.Flatten(),
    nn101.Dense(8 * 12 * 12, 10, rng=rng),
)
torch_net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 5, stride=2),
    torch.nn.ReLU(),
    torch.nn.Flatten(),
    torch.nn.Linear(1152, 10),
)
with torch.no_grad():
    torch_net[0].weight.copy_(torch.from_numpy(F.weight_to_torch(net[0].weight.value)))
    torch_net[0].bias.copy_(torch.from_numpy(net[0].bias.value))
    torch_net[3].weight.copy_(torch.from_numpy(net[3].weight.value.T.copy()))
    torch_net[3].bias.copy_(torch.from_numpy(net[3].bias.value))

optimizer = nn101.Adam(net.parameters(), learning_rate=1e-3)
torch_optimizer = torch.optim.Adam(torch_net.parameters(), lr=1e-3)
loss = nn101.SoftmaxCrossEntropy()
order_rng = np.random.default_rng(3)
curves = {"nn101": [], "PyTorch": []}
for _ in range(epochs):
    for index in np.array_split(order_rng.permutation(n_train), n_train // batch):
        optimizer.zero_grad()
        curves["nn101"].append(
            loss.forward(net.forward(x_train[index], training=True), y_train[index])
        )
        net.backward(loss.backward(), input_grad=False)
        optimizer.step()
        torch_optimizer.zero_grad()
        torch_loss = torch.nn.functional.cross_entropy(
            torch_net(torch.from_numpy(x_train[index])), torch.from_numpy(y_train[index])
        )
        torch_loss.backward()
        torch_optimizer.step()
        curves["PyTorch"].append(torch_loss.item())

accuracy = (net.predict(x_test).argmax(1) == y_test).mean()
torch_accuracy = (torch_net(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for name, values in curves.items():
    ax.plot(values, label=name, alpha=0.8)
ax.set_xlabel("step (batch of 50)")
ax.set_ylabel("training loss")
ax.set_title(f"test accuracy: nn101 {accuracy:.1%}, PyTorch {torch_accuracy:.1%}")
ax.legend()
plt.show()
gap = np.max(np.abs(np.array(curves["nn101"]) - np.array(curves["PyTorch"])))
print(f"largest difference between the two loss curves: {gap:.2e}")
assert gap < 1e-3  # float32 rounding only: the same computation

# %% [markdown]
# The two curves lie on top of each other: same initial weights, same batches, same
# arithmetic up to float32 rounding. One strided convolution and a dense layer, trained for
# three short epochs on 3,000 images, already classify most test digits (the title gives the
# accuracy on 2,000 test images); the CNN of chapter 21 goes much further.
#
# ## Summary
#
# * A convolution is a sliding dot product: one kernel of $k_h k_w C_{in}$ weights per output
#   map, applied at every position (locality and weight sharing).
# * $n_{out} = \lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1$; `padding="same"` keeps the size at
#   stride 1; stride downsamples; dilation spreads the taps.
# * The receptive field grows by $(k-1)\,d$ times the product of the earlier strides per layer.
# * nn101 computes the whole layer as im2col (a strided view, one copy) and one matrix
#   product; it matches `torch.nn.Conv2d` to 1e-10 in float64.
#
# ## Exercises
#
# **Exercise 1.** A $28 \times 28$ image goes through a $5 \times 5$ convolution with padding
# 2, then a $3 \times 3$ convolution with stride 2 and padding 1, then a $3 \times 3$
# convolution with dilation 2. What are the three output sizes? Check with `Conv2d`.
#
# <details><summary>Solution</summary>
#
# $28 + 4 - 4 = 28$; $\lfloor (28 + 2 - 2 - 1)/2 \rfloor + 1 = 14$; $14 - 2 \cdot 2 = 10$.
# `nn101.Sequential(nn101.Conv2d(1, 1, 5, padding=2), nn101.Conv2d(1, 1, 3, stride=2,
# padding=1), nn101.Conv2d(1, 1, 3, dilation=2)).summary(input_shape=(1, 28, 28))` prints
# 28, 14 and 10.
#
# </details>
#
# **Exercise 2.** What is the receptive field of one output of the third layer in exercise 1?
#
# <details><summary>Solution</summary>
#
# $r = 1 + 4 \cdot 1 = 5$, then $5 + 2 \cdot 1 = 7$ (jump becomes 2), then
# $7 + 2 \cdot 2 \cdot 2 = 15$: a $15 \times 15$ patch of the input.
#
# </details>
#
# **Exercise 3.** Write a kernel that detects the diagonal stroke of a "7" and show its
# response on a few sevens.
#
# <details><summary>Solution</summary>
#
# A stroke from top-right to bottom-left is bright along the anti-diagonal:
# `np.fliplr(np.eye(3)) - 1/3` (mean zero, so flat regions give 0). Put it in a `Conv2d(1, 1,
# 3, padding=1)` as above and plot the output for `train.x[train.y == 7][:4]`: the response
# is strongest along the slanted stroke.
#
# </details>
#
# ## Further reading
#
# * Dumoulin & Visin (2016), "A guide to convolution arithmetic for deep learning": every
#   size formula of this chapter, with pictures.
# * LeCun et al. (1998), "Gradient-based learning applied to document recognition": the
#   convolutional network for digits, LeNet-5.
# * Chellapilla, Puri & Simard (2006), "High performance convolutional neural networks for
#   document processing": convolution as one matrix product (im2col).
# * Yu & Koltun (2016), "Multi-scale context aggregation by dilated convolutions".
