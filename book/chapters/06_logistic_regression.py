# %% [markdown]
# # 6. Logistic regression
#
# Linear regression predicts a number. Many questions have a yes-or-no answer instead: is this
# e-mail spam, does this image show a cat, will this customer come back? The model we want
# should take a feature vector $x$ and return the **probability** that the answer is *yes*.
#
# Logistic regression does this with two pieces you already have and one new one:
#
# 1. an **affine map** $z = x \cdot w + b$ (chapter 2), which gives a *score* anywhere in
#    $(-\infty, \infty)$;
# 2. the **logistic function** $\sigma$, which squashes the score into $(0, 1)$;
# 3. a **loss** that rewards high probability on the correct answer: the cross-entropy.
#
# Together they make a single artificial **neuron**, the building block of every network in
# the rest of the book. We derive every piece, implement the whole training loop by hand in
# NumPy, and then rebuild it with three nn101 objects: `Dense(2, 1)`, `BinaryCrossEntropy` and
# `SGD`.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=6)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The logistic function
#
# The logistic (or sigmoid) function is
#
# $$\sigma(z) = \frac{1}{1 + e^{-z}}.$$
#
# For large positive $z$, $e^{-z} \to 0$ and $\sigma(z) \to 1$; for large negative $z$,
# $e^{-z} \to \infty$ and $\sigma(z) \to 0$; at $z = 0$ it is exactly $\tfrac12$. So we can
# read $\sigma(z)$ as a probability and $z$ as the evidence for *yes*: positive evidence
# pushes the probability above one half, negative evidence below.
#
# Two identities make it pleasant to work with. First, symmetry:
#
# $$1 - \sigma(z) = \frac{1 + e^{-z} - 1}{1 + e^{-z}} = \frac{e^{-z}}{1 + e^{-z}}
#   = \frac{1}{e^{z} + 1} = \sigma(-z).$$
#
# Second, its derivative is written with the function itself. By the chain rule on
# $(1 + e^{-z})^{-1}$:
#
# $$\sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2}
#   = \underbrace{\frac{1}{1 + e^{-z}}}_{\sigma(z)} \cdot
#     \underbrace{\frac{e^{-z}}{1 + e^{-z}}}_{1 - \sigma(z)}
#   = \sigma(z)\,\bigl(1 - \sigma(z)\bigr).$$
#
# The derivative is largest at $z = 0$, where it is $\tfrac14$, and falls towards zero on
# both sides. Keep that in mind: it is the reason chapter 10 warns against pairing a sigmoid
# with the squared error.
#
# The inverse of $\sigma$ is the **logit**, $z = \log\frac{p}{1-p}$, the log of the odds. A
# logistic regression model says that the log-odds of *yes* is an affine function of the
# features.
#
# nn101 keeps stateless math like this in `nn101.functional`. Here is its sigmoid:

# %%
show(nn101.functional.sigmoid)

# %%
z = np.linspace(-8, 8, 401)
s = nn101.functional.sigmoid(z)

# the two identities, checked on a grid
assert np.allclose(1 - s, nn101.functional.sigmoid(-z))
h = 1e-5
slope = (nn101.functional.sigmoid(z + h) - nn101.functional.sigmoid(z - h)) / (2 * h)
assert np.allclose(slope, s * (1 - s), atol=1e-9)

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(z, s, label=r"$\sigma(z)$")
ax.plot(z, s * (1 - s), label=r"$\sigma'(z) = \sigma(z)(1-\sigma(z))$")
ax.plot(z, (z > 0).astype(float), "k:", lw=1, label="step function (perceptron)")
ax.axhline(0.5, color="grey", lw=0.5)
ax.set_xlabel("$z$")
ax.legend(loc="center right", fontsize=8)
ax.set_title("The logistic function and its derivative")
plt.show()

# %% [markdown]
# ## The neuron and the perceptron
#
# A single artificial neuron takes inputs $x_1, \dots, x_D$, weighs each by $w_j$, adds a
# bias $b$ and passes the sum through an **activation function** $f$:
#
# $$\hat y = f\Bigl(\sum_{j=1}^{D} x_j w_j + b\Bigr) = f(x \cdot w + b).$$
#
# Rosenblatt's **perceptron** (1958) used the step function $f(z) = [z > 0]$ (dotted line in
# the figure above): it answers 0 or 1 and nothing in between. It came with its own learning
# rule (on a mistake, add or subtract the input to the weights), but the step function has
# derivative zero everywhere except at 0, where it has none, so it gives gradient descent
# nothing to follow. Replacing the step by the smooth $\sigma$ keeps the same decision
# ($\sigma(z) > \tfrac12 \iff z > 0$) and makes the output differentiable in $w$ and $b$.
# That one change is what lets us train neurons, and later whole networks, by gradient
# descent.
#
# The decision boundary, the set of points where $x \cdot w + b = 0$, is a straight line in
# two dimensions (a hyperplane in $D$ dimensions). Logistic regression is therefore a
# **linear classifier**; chapter 9 shows what it cannot do.

# %% [markdown]
# ## A data set
#
# Two clouds of 2-D points, one per class, drawn from Gaussians with different centres. The
# labels are $y \in \{0, 1\}$.

# %%
n_per_class = 200
x0 = rng.normal(loc=(-1.0, -0.5), scale=1.0, size=(n_per_class, 2))
x1 = rng.normal(loc=(1.5, 1.0), scale=1.0, size=(n_per_class, 2))
X = np.concatenate([x0, x1])  # (N, 2)
y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])[:, None]  # (N, 1)
N, D = X.shape
print(X.shape, y.shape, "fraction of ones:", y.mean())

# %% [markdown]
# ## Forward pass
#
# For a whole batch we stack the examples as rows of $X \in \mathbb{R}^{N \times D}$ and
# compute every score at once (chapter 2):
#
# $$z = X w + b \in \mathbb{R}^{N \times 1}, \qquad p = \sigma(z),$$
#
# with $w \in \mathbb{R}^{D \times 1}$ and the scalar $b$ broadcast over the rows. $p_n$ is the
# model's probability that example $n$ belongs to class 1.
#
# ## The loss: cross-entropy from maximum likelihood
#
# The model says $P(y_n = 1) = p_n$ and $P(y_n = 0) = 1 - p_n$, which we can write as one
# formula, $P(y_n) = p_n^{y_n} (1 - p_n)^{1 - y_n}$ (one factor is always 1). Treating the
# examples as independent, the probability the model gives to all the observed labels is
# the product over $n$. We want it as large as possible. Products of many small numbers
# underflow and are awkward to differentiate, so we take the log, flip the sign to get
# something to *minimize*, and average over the batch:
#
# $$\mathcal{L} = -\frac1N \sum_{n=1}^{N} \Bigl[ y_n \log p_n + (1 - y_n) \log (1 - p_n) \Bigr].$$
#
# This is the **binary cross-entropy**. An example whose true label gets probability close
# to 1 costs almost nothing; one whose true label gets probability close to 0 costs a lot,
# without bound.
#
# Computing $\log \sigma(z)$ naively fails for large $|z|$ ($\sigma(-800)$ is 0 in floating
# point and its log is $-\infty$). Rewriting in terms of $z$ avoids that. Since
# $\log \sigma(z) = -\log(1 + e^{-z})$ and $\log(1 - \sigma(z)) = \log \sigma(-z) = -z - \log(1 + e^{-z})$,
#
# $$\ell(z, y) = -y \log\sigma(z) - (1-y)\log(1-\sigma(z)) = \log(1 + e^{-z}) + (1 - y)\,z,$$
#
# and with $\log(1 + e^{-z}) = \max(-z, 0) + \log(1 + e^{-|z|})$ nothing ever overflows:
#
# $$\ell(z, y) = \max(z, 0) - y z + \log\bigl(1 + e^{-|z|}\bigr).$$
#
# This is why nn101's `BinaryCrossEntropy` (like PyTorch's `BCEWithLogitsLoss`) takes the
# score $z$, the **logit**, rather than the probability.


# %%
def forward(X, w, b):
    z = X @ w + b  # (N, D) @ (D, 1) -> (N, 1)
    return z


def bce_from_logits(z, y):
    return np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))


# the stable formula agrees with the textbook one where the textbook one can be computed ...
z_test = np.array([[-3.0], [0.0], [0.5], [4.0]])
y_test = np.array([[0.0], [1.0], [0.0], [1.0]])
p_test = 1 / (1 + np.exp(-z_test))
naive = -np.mean(y_test * np.log(p_test) + (1 - y_test) * np.log(1 - p_test))
print("stable:", bce_from_logits(z_test, y_test), " naive:", naive)
# ... and stays finite where it cannot
print("confidently wrong, z = -800, y = 1:", bce_from_logits(np.array([[-800.0]]), np.ones((1, 1))))

# %% [markdown]
# ## Backward pass
#
# We need $\partial \mathcal{L} / \partial w$ and $\partial \mathcal{L} / \partial b$. Follow one example and apply
# the chain rule through the three steps $w \to z \to p \to \ell$.
#
# *Loss with respect to the probability*:
# $\dfrac{\partial \ell}{\partial p} = -\dfrac{y}{p} + \dfrac{1 - y}{1 - p}
#   = \dfrac{p - y}{p(1 - p)}$.
#
# *Probability with respect to the score*: $\dfrac{\partial p}{\partial z} = p(1-p)$ (the
# derivative of $\sigma$ from above).
#
# *Multiply*: the $p(1-p)$ cancels, and what is left is strikingly simple:
#
# $$\frac{\partial \ell}{\partial z} = p - y.$$
#
# The gradient on the score is the prediction error: the probability minus the label.
# (Differentiating the stable form $\log(1 + e^{-z}) + (1-y)z$ directly gives
# $-(1 - \sigma(z)) + 1 - y = \sigma(z) - y$, the same thing.)
#
# *Score with respect to the parameters*: $z_n = \sum_j X_{nj} w_j + b$, so
# $\partial z_n / \partial w_j = X_{nj}$ and $\partial z_n / \partial b = 1$. Averaging over
# the batch,
#
# $$\frac{\partial \mathcal{L}}{\partial w_j} = \frac1N \sum_n (p_n - y_n) X_{nj}
#   \quad\Longrightarrow\quad
#   \nabla_w \mathcal{L} = \frac1N X^\top (p - y), \qquad
#   \frac{\partial \mathcal{L}}{\partial b} = \frac1N \sum_n (p_n - y_n).$$
#
# The shapes check out: $X^\top$ is $D \times N$, $p - y$ is $N \times 1$, the product is
# $D \times 1$ like $w$. These are the same formulas as for linear regression with squared
# error (chapter 4), with the prediction $Xw + b$ replaced by $\sigma(Xw + b)$.


# %%
def gradients(X, y, w, b):
    p = nn101.functional.sigmoid(forward(X, w, b))  # (N, 1)
    error = p - y  # dL/dz times N, (N, 1)
    grad_w = X.T @ error / len(X)  # (D, N) @ (N, 1) -> (D, 1)
    grad_b = error.mean()
    return grad_w, grad_b


# a quick numerical check of the formulas (chapter 8 does this properly)
w_probe, b_probe = rng.normal(size=(D, 1)), 0.3
grad_w, grad_b = gradients(X, y, w_probe, b_probe)
eps = 1e-6
for j in range(D):
    step = np.zeros((D, 1))
    step[j] = eps
    numeric = (
        bce_from_logits(forward(X, w_probe + step, b_probe), y)
        - bce_from_logits(forward(X, w_probe - step, b_probe), y)
    ) / (2 * eps)
    print(f"dL/dw[{j}]  formula {grad_w[j, 0]:+.8f}   finite difference {numeric:+.8f}")

# %% [markdown]
# ## Weight update and mini-batch gradient descent
#
# Gradient descent (chapter 3) moves the parameters a small step against the gradient:
#
# $$w \leftarrow w - \eta\, \nabla_w \mathcal{L}, \qquad b \leftarrow b - \eta\, \frac{\partial \mathcal{L}}{\partial b}.$$
#
# Which examples do we average over? Three choices:
#
# * **full batch**: all $N$ examples per step; exact gradient, one step per pass over the data;
# * **stochastic** (batch size 1): one example per step; a noisy gradient but $N$ steps per pass;
# * **mini-batch**: $B$ examples per step, typically 16 to 512; $N/B$ steps per pass.
#
# The mini-batch gradient is an unbiased estimate of the full one (its expectation over a
# random batch is the full gradient), with variance that shrinks like $1/B$. Mini-batches
# are the standard choice: enough steps per pass to make quick progress, little enough noise
# to settle down, and a batch is a matrix, which the hardware multiplies efficiently. One
# pass over the data is an **epoch**; we reshuffle before each epoch so that the batches
# differ.
#
# `nn101.data.batch_indices` yields the index sets of one epoch:

# %%
show(nn101.data.batch_indices)
print([idx.tolist() for idx in nn101.data.batch_indices(10, 4, shuffle=True, rng=rng)])

# %% [markdown]
# The whole training loop by hand. Every step is forward, loss, backward, update:


# %%
def train_by_hand(X, y, *, batch_size, learning_rate, epochs, rng):
    w = np.zeros((X.shape[1], 1))
    b = 0.0
    losses = []  # the full-data loss after every epoch
    for _ in range(epochs):
        for idx in nn101.data.batch_indices(len(X), batch_size, shuffle=True, rng=rng):
            grad_w, grad_b = gradients(X[idx], y[idx], w, b)
            w = w - learning_rate * grad_w
            b = b - learning_rate * grad_b
        losses.append(bce_from_logits(forward(X, w, b), y))
    return w, b, losses


shuffle_seed = int(rng.integers(2**32))  # kept, to replay the same batches with nn101 below
w, b, losses = train_by_hand(
    X, y, batch_size=16, learning_rate=0.1, epochs=30, rng=np.random.default_rng(shuffle_seed)
)
accuracy = np.mean((forward(X, w, b) > 0) == (y == 1))
print("w =", w.ravel(), " b =", b, f" loss {losses[-1]:.4f}  accuracy {accuracy:.3f}")

# %% [markdown]
# ## Experiment: batch size, and the decision boundary
#
# We train with three batch sizes at the same learning rate and record the loss on the full
# data after each epoch. The panel on the right shows the learned probability surface
# $\sigma(x \cdot w + b)$ and the boundary $x \cdot w + b = 0$.

# %%
curves = {}
for batch_size in (1, 16, N):
    *_, curve = train_by_hand(X, y, batch_size=batch_size, learning_rate=0.1, epochs=30, rng=rng)
    curves[batch_size] = curve

fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(11, 4))
for batch_size, curve in curves.items():
    label = "full batch" if batch_size == N else f"batch size {batch_size}"
    steps = N // batch_size
    ax_loss.plot(range(1, 31), curve, label=f"{label} ({steps} step{'s' * (steps > 1)} / epoch)")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy on all data")
ax_loss.set_yscale("log")
ax_loss.legend()
ax_loss.set_title("Same learning rate, different batch sizes")

g0, g1 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-4.5, 4.5, 200))
grid = np.column_stack([g0.ravel(), g1.ravel()])
prob = nn101.functional.sigmoid(forward(grid, w, b)).reshape(g0.shape)
im = ax_map.contourf(g0, g1, prob, levels=20, cmap="RdBu_r", alpha=0.6)
ax_map.contour(g0, g1, prob, levels=[0.5], colors="k")
ax_map.scatter(*x0.T, s=8, c="tab:blue", label="class 0")
ax_map.scatter(*x1.T, s=8, c="tab:red", label="class 1")
fig.colorbar(im, ax=ax_map, label="$p$ (class 1)")
ax_map.legend(loc="lower right")
ax_map.set_title("Learned probability and decision boundary")
plt.show()

# %% [markdown]
# With the same learning rate, smaller batches take many more steps per epoch, so they get
# far in the first epochs; batch size 1 then keeps jittering around the minimum because each
# step follows a single, noisy example. The full batch takes one careful step per epoch and is
# still far from the minimum after 30 epochs. The boundary is a straight line, as promised,
# and the probability changes smoothly across it: points near the line are uncertain.

# %% [markdown]
# ## The same model with nn101
#
# Everything above is one layer, one loss and one optimizer:
#
# * `nn101.Dense(2, 1)` holds $w$ (shape `(2, 1)`: in-features by out-features) and $b$
#   and computes $z = Xw + b$; its `backward` turns $\partial \mathcal{L}/\partial z$ into the
#   parameter gradients $X^\top g$ and $\sum_n g_n$;
# * `nn101.BinaryCrossEntropy` takes the logits $z$ and the labels and returns the mean loss;
#   its `backward` returns $\partial \mathcal{L} / \partial z = (p - y)/N$;
# * `nn101.SGD` applies $w \leftarrow w - \eta\,\nabla_w \mathcal{L}$ to every parameter.
#
# Here is the loss, forward and backward side by side:

# %%
show(nn101.BinaryCrossEntropy.forward)
show(nn101.BinaryCrossEntropy.backward)

# %% [markdown]
# We start from the same zero weights, use float64 and a generator with the same seed for the
# shuffling (so the batches are the same), and write the six-line training loop. Because the arithmetic is the same, the
# result should match the hand-written version up to rounding.

# %%
layer = nn101.Dense(2, 1, dtype=np.float64, rng=rng)
layer.weight.value[...] = 0.0
layer.bias.value[...] = 0.0
loss_fn = nn101.BinaryCrossEntropy()
optimizer = nn101.SGD(layer.parameters(), learning_rate=0.1)

shuffle_rng = np.random.default_rng(shuffle_seed)  # the same batches as by hand
for _ in range(30):
    for idx in nn101.data.batch_indices(N, 16, shuffle=True, rng=shuffle_rng):
        optimizer.zero_grad()
        loss = loss_fn.forward(layer.forward(X[idx], training=True), y[idx])
        layer.backward(loss_fn.backward())
        optimizer.step()

print("nn101:   w =", layer.weight.value.ravel(), " b =", layer.bias.value)
print("by hand: w =", w.ravel(), " b =", b)
assert np.allclose(layer.weight.value, w, atol=1e-12)
assert np.allclose(layer.bias.value, b, atol=1e-12)

# %% [markdown]
# Identical. From here on we let the library do the bookkeeping. A `Sequential` model with a
# single `Dense` layer and `fit` run the same loop (with its own shuffling):

# %%
model = nn101.Sequential(nn101.Dense(2, 1, rng=rng))
history = model.fit(
    X.astype(np.float32),
    y.astype(np.float32),
    epochs=30,
    batch_size=16,
    optimizer=nn101.SGD(model.parameters(), learning_rate=0.1),
    loss=nn101.BinaryCrossEntropy(),
    rng=rng,
    verbose=0,
)
print(f"final training loss {history.history['loss'][-1]:.4f}")
print(model.evaluate(X.astype(np.float32), y.astype(np.float32), loss=nn101.BinaryCrossEntropy()))

# %% [markdown]
# ## PyTorch cross-check
#
# PyTorch's `binary_cross_entropy_with_logits` and its autograd should give the same loss
# and the same gradients as our formulas $\frac1N X^\top(p - y)$ and $\frac1N\sum_n(p_n - y_n)$.

# %%
import torch

w_t = torch.tensor(w_probe, requires_grad=True)
b_t = torch.tensor(b_probe, dtype=torch.float64, requires_grad=True)
z_t = torch.tensor(X) @ w_t + b_t
loss_t = torch.nn.functional.binary_cross_entropy_with_logits(z_t, torch.tensor(y))
loss_t.backward()

grad_w, grad_b = gradients(X, y, w_probe, b_probe)
assert abs(loss_t.item() - bce_from_logits(forward(X, w_probe, b_probe), y)) < 1e-12
assert abs(loss_t.item() - nn101.BinaryCrossEntropy()(forward(X, w_probe, b_probe), y)) < 1e-12
assert np.allclose(w_t.grad.numpy(), grad_w, rtol=0, atol=1e-10)
assert abs(b_t.grad.item() - grad_b) < 1e-10
print("PyTorch agrees: loss", loss_t.item(), " grad_w", w_t.grad.numpy().ravel())

# %% [markdown]
# ### The same training loop in PyTorch
#
# The idiomatic PyTorch version of the loop above: `nn.Linear`, `nn.BCEWithLogitsLoss` (the loss
# computed from the logits, as ours is) and `optim.SGD`, on the same mini-batches, next to
# nn101's. Both start at zero and must end at the same weights as the hand-written loop.

# %%
ours = nn101.Dense(2, 1, dtype=np.float64)
ours.weight.value[...], ours.bias.value[...] = 0.0, 0.0
our_loss, our_optimizer = (
    nn101.BinaryCrossEntropy(),
    nn101.SGD(ours.parameters(), learning_rate=0.1),
)

linear = torch.nn.Linear(2, 1, dtype=torch.float64)
torch.nn.init.zeros_(linear.weight)
torch.nn.init.zeros_(linear.bias)
their_loss = torch.nn.BCEWithLogitsLoss()
their_optimizer = torch.optim.SGD(linear.parameters(), lr=0.1)
X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

shuffle_rng = np.random.default_rng(shuffle_seed)  # the batches of the hand-written loop
for _ in range(30):
    for idx in nn101.data.batch_indices(N, 16, shuffle=True, rng=shuffle_rng):
        our_optimizer.zero_grad()  # nn101
        our_loss(ours.forward(X[idx], training=True), y[idx])
        ours.backward(our_loss.backward())
        our_optimizer.step()

        their_optimizer.zero_grad()  # PyTorch
        their_loss(linear(X_t[idx]), y_t[idx]).backward()
        their_optimizer.step()

print("PyTorch: w =", linear.weight.detach().numpy().ravel(), " b =", linear.bias.item())
assert np.allclose(linear.weight.detach().numpy().T, w, atol=1e-10)
assert np.allclose(ours.weight.value, w, atol=1e-10) and np.isclose(linear.bias.item(), b)

# %% [markdown]
# ## Summary
#
# * Logistic regression is one neuron: $p = \sigma(x \cdot w + b)$ reads the score as the
#   probability of the positive class, and its decision boundary $x \cdot w + b = 0$ is a
#   hyperplane.
# * Maximum likelihood gives the binary cross-entropy loss, and its gradient is remarkably
#   simple: $\partial \mathcal{L} / \partial z = (p - y)/N$, so
#   $\nabla_w \mathcal{L} = \frac1N X^\top (p - y)$.
# * Computed from the logits, the loss is numerically safe; computed from probabilities, it
#   overflows for confident mistakes.
# * Mini-batch gradient descent trades exactness of each step for many more steps per epoch;
#   nn101's `Dense`, `BinaryCrossEntropy` and `SGD` reproduce the hand-written loop exactly.
#
# ## Exercises
#
# **Exercise 1.** Show that the cross-entropy $\mathcal{L}(w, b)$ of logistic regression is
# convex in $(w, b)$. *Hint:* compute the Hessian $\frac1N \tilde X^\top
# \mathrm{diag}(p \odot (1-p))\, \tilde X$ for the augmented $\tilde X = [X, \mathbf{1}]$. What
# does convexity say about the starting point?
#
# <details><summary>Solution</summary>
#
# Differentiating the gradient $\frac1N \tilde X^\top (p - y)$ once more, with
# $\partial p_n / \partial z_n = p_n (1 - p_n)$, gives the Hessian above. For any vector $v$,
# $v^\top \nabla^2 \mathcal{L}\, v = \frac1N \sum_n p_n (1 - p_n) (\tilde x_n \cdot v)^2 \ge 0$:
# positive semi-definite, so $\mathcal{L}$ is convex. Every local minimum is global, and gradient
# descent reaches it from any start (which is why starting at zero is fine here, unlike in
# networks with hidden layers). The cell below checks the sign numerically.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
X_aug = np.column_stack([X, np.ones(N)])  # (N, D + 1)
for _ in range(5):  # at random parameter values
    p_random = nn101.functional.sigmoid(X_aug @ rng.normal(size=(D + 1, 1)))  # (N, 1)
    hessian = X_aug.T @ (p_random * (1 - p_random) * X_aug) / N  # (D + 1, D + 1)
    assert np.linalg.eigvalsh(hessian).min() >= -1e-12
print("the Hessian is positive semi-definite at every point tried")

# %% [markdown]
# **Exercise 2.** Move the two clouds apart until the classes are perfectly separable and train
# for many epochs. What happens to $\lVert w \rVert$ and to the loss? Why does the minimum not
# exist? Add an L2 penalty (`Dense(2, 1, l2=...)`) and try again.
#
# <details><summary>Solution</summary>
#
# On separable data any separating $w$ can be scaled up to push every $p_n$ closer to its label,
# which always lowers the loss: $\lVert w \rVert$ grows without bound (logarithmically in the
# number of steps) and the loss tends to 0 without reaching it. The infimum is 0 but no finite
# $w$ attains it. An L2 penalty adds a cost that grows with $\lVert w \rVert^2$, so the sum has
# a finite minimizer and the weights stop growing.
#
# </details>
#
# **Exercise 3.** Implement Rosenblatt's perceptron rule
# ($w \leftarrow w + \eta (y - [z > 0])\,x$) on the same data and compare its boundary with
# logistic regression's. Which one tells you how sure it is?
#
# <details><summary>Solution</summary>
#
# On these overlapping clouds the perceptron never stops updating (chapter 1): its final line
# depends on where the last mistakes happened to be. Logistic regression converges to one line,
# and only it gives a probability $p$ for each point: $p$ near 0.5 near the boundary, near 0 or
# 1 far from it.
#
# </details>
#
# **Exercise 4.** For batch sizes 1, 4, 16, 64 and 400, find by trial the largest learning rate
# that still converges. How does it scale with the batch size?
#
# <details><summary>Solution</summary>
#
# For very small batches the noise in each gradient limits the useful rate; as the batch grows
# the largest workable rate tends to grow with it, and then levels off at the full-batch limit
# $2/\omega_{\max}$ set by the curvature. Past that point larger batches only cost more
# computation per step. (How fast it grows before levelling off depends on the data: try it.)
#
# </details>
#
# ## Further reading
#
# * D. R. Cox, "The regression analysis of binary sequences", *Journal of the Royal Statistical
#   Society B* 20 (1958): logistic regression as a statistical model.
# * C. M. Bishop, *Pattern Recognition and Machine Learning* (2006), section 4.3: probabilistic
#   discriminative models, logistic regression and its Hessian.
# * D. Jurafsky and J. H. Martin, *Speech and Language Processing* (3rd ed. draft, 2024),
#   chapter 5: logistic regression explained for classification of text.
