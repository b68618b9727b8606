# %% [markdown]
# # 20. Pooling and a first CNN: LeNet-5
#
# A convolution keeps the image's size (or nearly), so a stack of them produces as many
# numbers per map as there are pixels, and each output still sees only a small patch.
# **Pooling** summarizes each small window of a feature map by one number, its maximum or its
# mean: the maps shrink (a $2 \times 2$ pool keeps a quarter), later kernels see a larger part
# of the image, and a feature that moves by a pixel inside a window leaves the output unchanged.
#
# With convolutions and pooling we can build the network that started it all, LeCun's LeNet-5
# (1998), train it on MNIST next to the same network in PyTorch, and look inside: the filters
# it learns, the feature maps it computes, and the digits it still gets wrong.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display

import nn101
from nn101.functional import conv as F
from nn101.functional import pooling


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Max and average pooling
#
# For a window of size $k_h \times k_w$ moved with stride $s$ (by default $s = k$: disjoint
# windows), each output is
#
# $$
# y^{\max}_{n,c,i,j} = \max_{0 \le a < k_h,\ 0 \le e < k_w} x_{n,c,\,i s_h + a,\, j s_w + e},
# \qquad
# y^{\text{avg}}_{n,c,i,j} = \frac{1}{k_h k_w} \sum_{a, e} x_{n,c,\,i s_h + a,\, j s_w + e}.
# $$
#
# Each channel is pooled separately; there are no parameters. The output size follows the
# formula of chapter 18 with $d = 1$.
#
# **Backward.** Average pooling is linear: every pixel of a window receives
# $g_{n,c,i,j} / (k_h k_w)$ (summed over the windows that contain it). Max pooling is, locally,
# a selection: a small change of the maximum pixel changes the output by the same amount, a
# small change of any other pixel changes nothing. So the gradient goes entirely to the position
# of the maximum, $\partial \mathcal{L}/\partial x = g$ there and $0$ elsewhere. When several
# pixels tie for the maximum (common after a ReLU: whole windows of zeros), the derivative does
# not exist; nn101 follows PyTorch and gives the gradient to the **first** maximum in row-major
# order, so the two libraries agree exactly.
#
# The forward pass therefore remembers where each maximum was. When the windows tile the image
# exactly (the usual $2 \times 2$, stride 2 case), nn101 reshapes the image so that the windows
# become two axes, takes the maxima in two passes over whole rows, and keeps a mask of the
# first maxima; the backward pass is then one multiplication of the mask by the gradient.
# Otherwise it loops over the window offsets, as col2im does.

# %%
show(pooling.max_pool_forward)
show(pooling.max_pool_backward)

# %% [markdown]
# A small example with ties, and the check against finite differences (on values without
# ties, where the derivative exists):

# %%
x_small = np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]])  # (1, 1, 2, 4)
pool = nn101.MaxPool2d(2)
print("y =", pool.forward(x_small, training=True)[0, 0])
print("dL/dx for g = 1:\n", pool.backward(np.ones((1, 1, 1, 2)))[0, 0])

rng = np.random.default_rng(0)
x_distinct = rng.permutation(2 * 3 * 6 * 6).reshape(2, 3, 6, 6) / 10.0
for layer in [nn101.MaxPool2d(2), nn101.MaxPool2d(3, stride=2, padding=1), nn101.AvgPool2d(2)]:
    error = nn101.gradcheck.check_layer(layer, x_distinct, rng=rng)
    print(f"{layer!r:60s} worst relative error {error:.1e}")
    assert error < 1e-7

# %% [markdown]
# In the first window, 3 appears twice; the gradient goes to the first one (row 0, column 1).
# The second window is all zeros; its gradient goes to its top-left pixel.
#
# ## LeNet-5
#
# LeNet-5 alternates convolutions and pooling, then classifies with dense layers. The modern
# rendering (ReLU instead of scaled tanh, max-pooling instead of trainable subsampling, all
# connections between maps) on $28 \times 28$ digits:
#
# | layer | output shape | parameters |
# |---|---|---|
# | Conv2d(1, 6, 5, padding=2), ReLU | $6 \times 28 \times 28$ | $5 \cdot 5 \cdot 6 + 6 = 156$ |
# | MaxPool2d(2) | $6 \times 14 \times 14$ | 0 |
# | Conv2d(6, 16, 5), ReLU | $16 \times 10 \times 10$ | $5 \cdot 5 \cdot 6 \cdot 16 + 16 = 2{,}416$ |
# | MaxPool2d(2) | $16 \times 5 \times 5$ | 0 |
# | Flatten, Dense(400, 120), ReLU | 120 | 48,120 |
# | Dense(120, 84), ReLU | 84 | 10,164 |
# | Dense(84, 10) | 10 | 850 |
#
# About 62,000 parameters, fewer than a single 784-80-10 dense network, and most of them in the
# dense layers.


# %%
def lenet(rng):
    return nn101.Sequential(
        nn101.Conv2d(1, 6, 5, padding=2, rng=rng),
        nn101.ReLU(),
        nn101.MaxPool2d(2),
        nn101.Conv2d(6, 16, 5, rng=rng),
        nn101.ReLU(),
        nn101.MaxPool2d(2),
        nn101.Flatten(),
        nn101.Dense(400, 120, rng=rng, weight_init="he_uniform"),
        nn101.ReLU(),
        nn101.Dense(120, 84, rng=rng, weight_init="he_uniform"),
        nn101.ReLU(),
        nn101.Dense(84, 10, rng=rng),
    )


model = lenet(np.random.default_rng(1))
model.summary(input_shape=(1, 28, 28))

# %% [markdown]
# ## Training, side by side with PyTorch
#
# The same network in idiomatic PyTorch, started from the same weights (converted between the
# layouts), trained with Adam on the same batches of 4,000 MNIST training images for two
# epochs (a short run, to keep the chapter quick); both evaluated on 2,000 test images.

# %%
try:
    train, test = nn101.data.load_mnist(flatten=False)
except (OSError, ValueError) as error:
    raise RuntimeError(
        "Chapter 20 needs MNIST: set NN101_DATA_DIR or run `nn101 data mnist` once. "
        f"Loading failed with: {error}"
    ) from error
n_train, batch, epochs = 4_000, 64, 2
x_train, y_train = train[:n_train][0], train.y[:n_train]
x_test, y_test = test[:2000][0], test.y[:2000]

nn_ = torch.nn
torch_model = nn_.Sequential(
    nn_.Conv2d(1, 6, 5, padding=2), nn_.ReLU(), nn_.MaxPool2d(2),
    nn_.Conv2d(6, 16, 5), nn_.ReLU(), nn_.MaxPool2d(2), nn_.Flatten(),
    nn_.Linear(400, 120), nn_.ReLU(), nn_.Linear(120, 84), nn_.ReLU(), nn_.Linear(84, 10),
)  # fmt: skip
with torch.no_grad():
    for ours, theirs in zip(model, torch_model):
        if isinstance(ours, nn101.Conv2d):
            theirs.weight.copy_(torch.from_numpy(F.weight_to_torch(ours.weight.value)))
        elif isinstance(ours, nn101.Dense):
            theirs.weight.copy_(torch.from_numpy(ours.weight.value.T.copy()))
        if isinstance(ours, nn101.Conv2d | nn101.Dense):
            theirs.bias.copy_(torch.from_numpy(ours.bias.value))

optimizer = nn101.Adam(model.parameters(), learning_rate=3e-3)
torch_optimizer = torch.optim.Adam(torch_model.parameters(), lr=3e-3)
loss = nn101.SoftmaxCrossEntropy()
curves = {"nn101": [], "PyTorch": []}
order = np.random.default_rng(2)
for _ in range(epochs):
    for index in np.array_split(order.permutation(n_train), n_train // batch):
        optimizer.zero_grad()
        curves["nn101"].append(
            loss.forward(model.forward(x_train[index], training=True), y_train[index])
        )
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()
        torch_optimizer.zero_grad()
        inputs, targets = torch.from_numpy(x_train[index]), torch.from_numpy(y_train[index])
        torch_loss = nn_.functional.cross_entropy(torch_model(inputs), targets)
        torch_loss.backward()
        torch_optimizer.step()
        curves["PyTorch"].append(torch_loss.item())

scores = model.predict(x_test)
accuracy = (scores.argmax(1) == y_test).mean()
with torch.inference_mode():
    torch_accuracy = (torch_model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
fig, ax = plt.subplots(figsize=(6.5, 3.4))
for name, values in curves.items():
    smooth = np.convolve(values, np.ones(20) / 20, mode="valid")
    ax.plot(smooth, label=name, alpha=0.85)
ax.set_yscale("log")
ax.set_xlabel("step (batch of 64)")
ax.set_ylabel("training loss (mean of 20 steps)")
ax.set_title(f"LeNet-5, test accuracy: nn101 {accuracy:.2%}, PyTorch {torch_accuracy:.2%}")
ax.legend()
plt.show()
print(
    f"test accuracy after {epochs} epochs on {n_train:,} images: nn101 {accuracy:.2%}, PyTorch {torch_accuracy:.2%}"
)
assert abs(accuracy - torch_accuracy) < 0.01

# %% [markdown]
# The curves coincide at first and drift apart slowly: both run in float32, and the libraries
# round differently (a max-pool tie or a ReLU at zero decided differently on one pixel is
# enough to start the divergence), but they optimize the same function from the same point.
# This short run sees each of 4,000 images twice; trained on all 60,000 for several epochs the
# same network does markedly better (exercise 1 of chapter 21 measures it).
#
# ## What the network learned
#
# The six $5 \times 5$ kernels of the first layer, and what they compute on one test digit:
# the maps after the first convolution (with ReLU) and the 16 maps after the second stage, at
# $10 \times 10$. The first layer finds oriented edges and strokes, like the Sobel kernels of
# chapter 18, but learned.

# %%
kernels = model[0].weight.value[:, :, 0, :]  # (5, 5, 6)
digit = x_test[:1]
maps_1 = model[1].forward(model[0].forward(digit))[0]  # (6, 28, 28)
stage_2 = model[4].forward(model[3].forward(model[2].forward(maps_1[None])))[0]  # (16, 10, 10)

fig, axes = plt.subplots(3, 8, figsize=(11, 4.6))
for ax in axes.ravel():
    ax.axis("off")
for o in range(6):
    limit = np.abs(kernels[:, :, o]).max()
    axes[0, o].imshow(kernels[:, :, o], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0, o].set_title(f"kernel {o}", fontsize=9)
    axes[1, o].imshow(maps_1[o], cmap="gray_r")
axes[0, 7].imshow(digit[0, 0], cmap="gray_r")
axes[0, 7].set_title(f"digit ({y_test[0]})", fontsize=9)
for o in range(8):
    axes[2, o].imshow(stage_2[o], cmap="gray_r")
axes[1, 0].set_title("first-layer maps", fontsize=9, loc="left")
axes[2, 0].set_title("second-stage maps (8 of 16)", fontsize=9, loc="left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What it gets wrong
#
# The test digits with the most confident wrong answers. Many are genuinely ambiguous or badly
# written; some are plain mistakes that more training, more data or augmentation (chapter 21)
# fix.

# %%
predicted = scores.argmax(1)
wrong = np.flatnonzero(predicted != y_test)
probabilities = nn101.functional.softmax(scores[wrong])
worst = wrong[np.argsort(-probabilities.max(1))][:16]
fig, axes = plt.subplots(2, 8, figsize=(11, 3.4))
for ax, i in zip(axes.ravel(), worst):
    ax.imshow(x_test[i, 0], cmap="gray_r")
    ax.set_title(f"{predicted[i]} (true {y_test[i]})", fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
confusion = nn101.metrics.confusion_matrix(predicted, y_test, num_classes=10)
np.fill_diagonal(confusion, 0)
true_digit, guessed = np.unravel_index(confusion.argmax(), confusion.shape)
print(
    f"{len(wrong)} of {len(y_test):,} test digits wrong; the most frequent confusion: "
    f"{true_digit} read as {guessed} ({confusion.max()} times)"
)

# %% [markdown]
# ## Summary
#
# * Max pooling keeps the largest value of each window, average pooling the mean; both have no
#   parameters and shrink the maps (a $2 \times 2$ pool by 4).
# * Backward: average pooling spreads $g / (k_h k_w)$ over the window; max pooling routes $g$ to
#   the (first) maximum, as PyTorch does, so the two agree exactly even with ties.
# * LeNet-5 (two convolution-pool stages and three dense layers, 62k parameters) trains to the
#   same curve in nn101 and PyTorch from the same start; its first-layer kernels are learned
#   edge detectors.
#
# ## Exercises
#
# **Exercise 1.** Replace both `MaxPool2d(2)` by `AvgPool2d(2)` and train again. Which is
# better here, and why might that be?
#
# <details><summary>Solution</summary>
#
# Max pooling usually wins by a few tenths of a percent on MNIST: a stroke detector's
# response matters where it is strongest, and averaging dilutes it with the empty background
# around thin strokes. Average pooling is smoother (every pixel gets gradient), which matters
# more in deep networks' last layer (global average pooling, chapter 21).
#
# </details>
#
# **Exercise 2.** Show that max pooling and ReLU commute: `MaxPool2d(2)` then `ReLU` gives
# the same output as `ReLU` then `MaxPool2d(2)`. Which order is cheaper?
#
# <details><summary>Solution</summary>
#
# $\max(0, \max_i x_i) = \max_i \max(0, x_i)$ because both functions are nondecreasing.
# Pooling first is cheaper: the ReLU then touches a quarter of the values. (The recipe of
# chapter 21 uses this order, with batch normalization between them.)
#
# </details>
#
# **Exercise 3.** How large is the receptive field of one output of LeNet-5's second
# convolution, in input pixels?
#
# <details><summary>Solution</summary>
#
# Chapter 18's recursion with (k, s) = (5, 1), (2, 2), (5, 1): $r = 1 + 4 = 5$, then
# $5 + 1 = 6$ (jump 2), then $6 + 4 \cdot 2 = 14$: a $14 \times 14$ patch, half the digit.
#
# </details>
#
# ## Further reading
#
# * LeCun, Bottou, Bengio & Haffner (1998), "Gradient-based learning applied to document
#   recognition", Proceedings of the IEEE: LeNet-5, and the MNIST database.
# * Scherer, Müller & Behnke (2010), "Evaluation of pooling operations in convolutional
#   architectures for object recognition".
# * Zeiler & Fergus (2014), "Visualizing and understanding convolutional networks": what the
#   maps of deeper layers respond to.
