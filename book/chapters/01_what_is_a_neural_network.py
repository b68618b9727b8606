# %% [markdown]
# # 1. What a neural network is
#
# A neural network is a function. It takes numbers in (the pixels of an image, the words of a
# sentence turned into vectors, the measurements of a patient) and gives numbers out (a class,
# a probability, the next word). What makes it special is not any single step, each of which is
# elementary arithmetic, but that it has many adjustable numbers, its **parameters**, and a
# procedure that tunes them from examples until the function does what we want.
#
# This chapter looks at where the idea came from, builds the smallest network there is, a
# single artificial neuron, trains it with the oldest learning rule there is, and finds the
# limit that the rest of the book learns to overcome.

# %%
import inspect

import matplotlib.pyplot as plt
import numpy as np

import nn101

rng = np.random.default_rng(seed=2)

# %% [markdown]
# ## Neurons in the brain
#
# A biological neuron is a cell that collects electrical signals from thousands of other neurons
# through branches called **dendrites**. Each incoming connection, a **synapse**, has a strength:
# some excite the cell, some inhibit it. The cell body adds up what arrives; when the total
# crosses a threshold, the neuron **fires**, sending a spike down its **axon** to the next cells.
# Learning, in this picture, is the slow change of synapse strengths: connections that are used
# together grow stronger.
#
# Three ingredients survive in the artificial version: inputs arrive with **weights**, they are
# **summed**, and the sum passes through a **threshold-like function**. Everything else about
# real neurons (spike timing, chemistry, the wiring of the cortex) is left out. Modern networks
# owe the brain their vocabulary more than their design.
#
# ## Neurons in a program
#
# An artificial neuron with inputs $x_1, \dots, x_D$ has one weight per input $w_1, \dots, w_D$
# and a **bias** $b$ (a threshold moved to the other side of the inequality). It computes a
# weighted sum, the **pre-activation** $z$, and passes it through an **activation function** $f$:
#
# $$z = \sum_{i=1}^{D} x_i w_i + b = x \cdot w + b, \qquad a = f(z).$$
#
# The first artificial neurons used a hard threshold, the **step function**
#
# $$f(z) = \operatorname{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0, \end{cases}$$
#
# so the neuron answers yes or no. Later neurons use smooth activations such as the logistic
# **sigmoid** $\sigma(z) = 1 / (1 + e^{-z})$, a soft step whose output can be read as a
# probability, and whose derivative exists everywhere (chapter 3 shows why that matters).
# In code the whole neuron is one line:


# %%
def neuron(x, w, b, activation):
    """One artificial neuron: a = f(x·w + b).  Shapes: x (N, D), w (D,), b () -> a (N,)."""
    return activation(x @ w + b)


def step(z):
    return (z >= 0).astype(z.dtype)


x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
w, b = np.array([1.0, 1.0]), -1.5
print("inputs      ", x.tolist())
print("step neuron ", neuron(x, w, b, step))
print("sigmoid     ", neuron(x, w, b, nn101.functional.sigmoid).round(3))

# %% [markdown]
# With weights $(1, 1)$ and bias $-1.5$ the step neuron computes logical AND: only when both
# inputs are on does the sum $x_1 + x_2$ reach 1.5. The sigmoid neuron says the same thing
# softly (0.62 for "both on", 0.38 for "one on", 0.18 for "both off"). nn101 computes the sigmoid like this (the real
# source, printed from the library):

# %%
print(inspect.getsource(nn101.functional.sigmoid))

# %% [markdown]
# ## The geometry of one neuron
#
# The step neuron says 1 exactly when $x \cdot w + b \ge 0$. The set where $x \cdot w + b = 0$
# is a straight line in two dimensions (a plane in three, a **hyperplane** in general), with $w$
# perpendicular to it: for any two points $p, q$ on it, $(p - q) \cdot w = 0$. Its distance from
# the origin is $|b| / \lVert w \rVert$. So a single neuron splits its input space into two
# half-spaces; it can only separate classes that a straight cut separates. Such data is called
# **linearly separable**.
#
# ## A short history
#
# * **1943**: Warren McCulloch and Walter Pitts describe the neuron as a threshold logic unit
#   and show that networks of them can compute any logical function. The weights are set by
#   hand.
# * **1958**: Frank Rosenblatt's **perceptron** *learns* its weights from examples, with the
#   rule below, and is built as a machine that learns to tell simple shapes apart.
# * **1969**: Marvin Minsky and Seymour Papert's book *Perceptrons* proves what single-layer
#   perceptrons cannot do, the XOR function among them. Enthusiasm and funding fade.
# * **1970s-1986**: reverse-mode differentiation (Seppo Linnainmaa, 1970), its use for networks
#   (Paul Werbos, 1974), and the 1986 paper by David Rumelhart, Geoffrey Hinton and Ronald
#   Williams make **backpropagation** the standard way to train networks with hidden layers
#   (chapter 8).
# * **1989-1998**: Yann LeCun's convolutional networks read handwritten digits on cheques;
#   Sepp Hochreiter and Jürgen Schmidhuber's LSTM (1997) learns from long sequences.
# * **2006-2012, the deep learning revival**: layer-wise pre-training makes deep networks
#   trainable; then in 2012 AlexNet, a convolutional network trained on GPUs with ReLU and
#   dropout (chapters 10 and 13), wins the ImageNet competition by a wide margin. Large labeled
#   datasets, fast parallel hardware and a handful of training tricks turn out to be what was
#   missing.
# * **2015 onwards**: residual networks over a hundred layers deep, attention and the
#   Transformer (2017), and the large language models built from them.
#
# ## Where networks are used
#
# Image classification and detection (medical scans, quality control, self-driving perception),
# speech recognition and synthesis, machine translation, text and code generation, search and
# recommendation, protein structure prediction, weather forecasting, and game playing (Go, chess,
# video games) by combining networks with search or reinforcement learning. In each case the
# network is a large, differentiable function fitted to data, assembled from the pieces this
# book builds one at a time.
#
# ## The perceptron learning rule
#
# Rosenblatt's rule visits the examples one at a time. With prediction
# $\hat y = \operatorname{step}(x \cdot w + b)$ and label $y \in \{0, 1\}$, it updates
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# When the prediction is right, $y - \hat y = 0$ and nothing changes. When the neuron said 0 but
# the answer was 1, $w$ moves toward $x$, which raises $x \cdot w$ for this example by
# $\eta \lVert x \rVert^2$ (plus $\eta$ from the bias): the next answer is closer to 1. The
# mistake in the other direction is symmetric. The **perceptron convergence theorem** (Novikoff,
# 1962) guarantees that on linearly separable data this rule stops making mistakes after a
# finite number of updates; on data that is not separable it never settles.


# %%
def train_perceptron(x, y, *, epochs, learning_rate=1.0, rng=None):
    """Rosenblatt's rule. Shapes: x (N, D), y (N,) in {0, 1}. Returns w, b, mistakes per epoch."""
    rng = np.random.default_rng() if rng is None else rng
    w, b = np.zeros(x.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for i in rng.permutation(len(x)):
            error = y[i] - step(x[i] @ w + b)  # -1, 0 or +1
            w += learning_rate * error * x[i]
            b += learning_rate * error
            wrong += int(error != 0)
        mistakes.append(wrong)
    return w, b, mistakes


# Two clouds of points that a straight line can separate.
n = 100
cloud_0 = rng.normal([-1.0, -1.0], 0.5, size=(n, 2))  # (n, 2): centre (-1, -1), std 0.5
cloud_1 = rng.normal([1.0, 0.8], 0.5, size=(n, 2))
x_sep = np.concatenate([cloud_0, cloud_1])  # (2n, 2)
y_sep = np.concatenate([np.zeros(n), np.ones(n)])
w_sep, b_sep, mistakes_sep = train_perceptron(x_sep, y_sep, epochs=20, rng=rng)

# XOR: output 1 when exactly one input is on. No line separates it.
x_xor = x.copy()
y_xor = np.array([0.0, 1.0, 1.0, 0.0])
w_xor, b_xor, mistakes_xor = train_perceptron(x_xor, y_xor, epochs=20, rng=rng)

print("separable data: mistakes per epoch", mistakes_sep)
print("XOR:            mistakes per epoch", mistakes_xor)
print("accuracy on separable data:", np.mean(step(x_sep @ w_sep + b_sep) == y_sep))

# %% [markdown]
# ## Experiment: a decision boundary, and a problem with none
#
# Left: the learned line $x \cdot w + b = 0$ cuts the two clouds apart, with $w$ drawn as an
# arrow perpendicular to it. Right: the number of mistakes per pass over the data. On the
# separable clouds it drops to zero after a few passes and stays there; on the four XOR points it never does,
# because no line puts $(0, 1)$ and $(1, 0)$ on one side and $(0, 0)$ and $(1, 1)$ on the other.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
grid = np.linspace(-2.5, 2.5, 300)
gx, gy = np.meshgrid(grid, grid)
region = step(np.stack([gx, gy], axis=-1) @ w_sep + b_sep)
left.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#dbe4ff", "#ffe3d6"])
left.scatter(*x_sep[y_sep == 0].T, s=12, c="#3451b2", label="class 0")
left.scatter(*x_sep[y_sep == 1].T, s=12, c="#d9480f", label="class 1")
left.plot(grid, -(w_sep[0] * grid + b_sep) / w_sep[1], "k-", lw=1.5, label=r"$x \cdot w + b = 0$")
foot = -b_sep * w_sep / (w_sep @ w_sep)  # the point of the line closest to the origin
left.annotate(
    "",
    xy=foot + w_sep / np.linalg.norm(w_sep),
    xytext=foot,
    arrowprops={"arrowstyle": "->", "lw": 2},
)
left.text(*(foot + 1.1 * w_sep / np.linalg.norm(w_sep)), "$w$", fontsize=13)
left.set(
    xlim=(-2.5, 2.5),
    ylim=(-2.5, 2.5),
    aspect="equal",
    xlabel="$x_1$",
    ylabel="$x_2$",
    title="A perceptron's decision boundary",
)
left.legend(loc="lower right", fontsize=8)
epochs = np.arange(1, len(mistakes_sep) + 1)
right.plot(epochs, mistakes_sep, "o-", label="separable clouds (200 points)")
right.plot(epochs, mistakes_xor, "s-", label="XOR (4 points)")
right.set(
    xlabel="epoch (one pass over the data)",
    ylabel="mistakes during the epoch",
    title="The perceptron rule converges only on separable data",
)
right.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The fix for XOR is to stack neurons: a hidden layer of two neurons can compute OR and NAND,
# and a third neuron can take their AND. But the step function has no useful derivative, so the
# perceptron rule cannot tell a *hidden* neuron how to change. Smooth activations, the gradient
# (chapter 3) and backpropagation (chapter 8) are the way out, and chapter 9 trains exactly such
# a network on XOR.
#
# ## PyTorch cross-check
#
# A neuron in PyTorch is `torch.nn.Linear` followed by an activation. PyTorch stores the weight
# as (out_features, in_features), the transpose of nn101's (in_features, out_features), so we
# copy $w$ in as a row. The outputs must agree with ours to float64 rounding.

# %%
import torch

x_check = rng.normal(size=(50, 2))
linear = torch.nn.Linear(2, 1, dtype=torch.float64)
with torch.no_grad():
    linear.weight.copy_(torch.from_numpy(w_sep[None, :]))  # (1, 2) = w as a row
    linear.bias.fill_(b_sep)
    ours = neuron(x_check, w_sep, b_sep, nn101.functional.sigmoid)
    theirs = torch.sigmoid(linear(torch.from_numpy(x_check)))[:, 0].numpy()
print("largest difference:", np.abs(ours - theirs).max())
assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
assert np.array_equal(step(x_check @ w_sep + b_sep), (theirs >= 0.5).astype(float))

# %% [markdown]
# ## Exercises
#
# 1. Find weights and a bias for a step neuron that computes OR, and for one that computes
#    NAND. Check them with `neuron(x, w, b, step)`.
# 2. Build XOR from three step neurons: a hidden layer computing OR and NAND, and an output
#    neuron computing the AND of the two. Why can't the perceptron rule find these weights by
#    itself?
# 3. Move the two clouds closer together (e.g. centres $(-0.3, -0.3)$ and $(0.5, 0.4)$) so that
#    they overlap. What happens to the mistakes per epoch, and to the line after each epoch?
# 4. Show that scaling $w$ and $b$ by any $c > 0$ leaves the step neuron's decisions unchanged.
#    What does this mean for the learning rate of the perceptron rule started from zero?
