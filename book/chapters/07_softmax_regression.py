# %% [markdown]
# # 7. Softmax regression
#
# Logistic regression answers a yes-or-no question. Most classification problems have more
# than two answers: which of the ten digits is this, which of a thousand objects is in the
# photo, which word comes next. **Softmax regression** (also called multinomial logistic
# regression) is the $K$-class version. It keeps the recipe of chapter 6:
#
# 1. an affine map, now with one score per class: $z = xW + b \in \mathbb{R}^K$;
# 2. a function that turns the $K$ scores into $K$ probabilities: the **softmax**;
# 3. the cross-entropy loss, which is again the negative log-probability of the right answer.
#
# We derive the softmax and its gradient, show that with two classes it *is* logistic
# regression (and check that numerically, down to the training trajectory), and train it on
# small 8x8 images of handwritten digits.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import sigmoid, softmax

rng = np.random.default_rng(seed=7)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## From scores to probabilities
#
# With $K$ classes the model computes $K$ scores (logits) per example, one column of the
# weight matrix per class:
#
# $$z = x W + b, \qquad W \in \mathbb{R}^{D \times K},\ b \in \mathbb{R}^{K}.$$
#
# We need a map from $\mathbb{R}^K$ to probability vectors: every entry positive, the entries
# summing to one, and a larger score giving a larger probability. Exponentiate (positive,
# increasing) and normalize (sum to one):
#
# $$\operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=1}^{K} e^{z_j}}.$$
#
# The name says what it does: it is a smooth version of "put all the probability on the
# largest score". Scaling the scores up makes it sharper; scaling them down makes it flatter.
#
# **Shift invariance.** Adding the same constant $c$ to every score changes nothing:
#
# $$\frac{e^{z_k + c}}{\sum_j e^{z_j + c}} = \frac{e^{c}\,e^{z_k}}{e^{c}\sum_j e^{z_j}}
#   = \operatorname{softmax}(z)_k.$$
#
# Only the *differences* between scores matter. This is also how softmax is computed safely:
# $e^{1000}$ overflows, so we subtract $m = \max_j z_j$ first, which makes every exponent
# $\le 0$ and the largest term exactly 1.

# %%
show(softmax)

# %%
z = np.array([1000.0, 1001.0, 999.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(z) / np.exp(z).sum()
print("naive:  ", naive)
print("stable: ", softmax(z))
print("shifted:", softmax(z - 1000.0))

# %% [markdown]
# ## Two classes: the bridge to logistic regression
#
# Take $K = 2$ with scores $z_1, z_2$. Divide numerator and denominator by $e^{z_1}$:
#
# $$\operatorname{softmax}(z)_1 = \frac{e^{z_1}}{e^{z_1} + e^{z_2}}
#   = \frac{1}{1 + e^{-(z_1 - z_2)}} = \sigma(z_1 - z_2),$$
#
# and $\operatorname{softmax}(z)_2 = 1 - \sigma(z_1 - z_2) = \sigma(z_2 - z_1)$. Two-class
# softmax only looks at the difference of its two scores and passes it through the logistic
# function. In particular, fixing the second score at zero,
#
# $$\operatorname{softmax}([z, 0]) = \bigl[\sigma(z),\ 1 - \sigma(z)\bigr].$$
#
# For the model this means: a two-class softmax regression with weight columns $w_1, w_2$ and
# biases $b_1, b_2$ gives exactly the same probabilities as a logistic regression with
#
# $$w = w_1 - w_2, \qquad b = b_1 - b_2.$$
#
# Softmax regression with $K$ classes therefore has one redundant set of parameters (we could
# fix one class's scores at zero); it is kept because it treats all classes alike. Numerically:

# %%
z = np.linspace(-30, 30, 1201)
pairs = np.stack([z, np.zeros_like(z)], axis=1)  # (1201, 2): the scores [z, 0]
difference = np.abs(softmax(pairs)[:, 0] - sigmoid(z)).max()
print(f"max |softmax([z, 0])_1 - sigmoid(z)| over z in [-30, 30]: {difference:.2e}")
assert difference < 1e-15

# any pair of scores: only the difference matters
scores = rng.normal(scale=5.0, size=(1000, 2))
assert np.allclose(softmax(scores)[:, 0], sigmoid(scores[:, 0] - scores[:, 1]), rtol=0, atol=1e-15)

# %% [markdown]
# ## The cross-entropy loss and its gradient
#
# Write $P = \operatorname{softmax}(Z)$ row by row for a batch $Z \in \mathbb{R}^{N \times K}$,
# and encode each label $y_n \in \{0, \dots, K-1\}$ as a **one-hot** row $Y_n$ (a 1 in column
# $y_n$, zeros elsewhere). As in chapter 6 the loss is the average negative log-likelihood:
#
# $$\mathcal{L} = -\frac1N \sum_{n=1}^N \sum_{k=1}^K Y_{nk} \log P_{nk} = -\frac1N \sum_{n=1}^N \log P_{n, y_n}.$$
#
# With $K = 2$ this is the binary cross-entropy of chapter 6 with $p = P_{n,1}$. For one
# example, substitute the softmax and the logarithm undoes the exponential:
#
# $$\ell(z, y) = -\log \frac{e^{z_y}}{\sum_j e^{z_j}} = \log \sum_{j} e^{z_j} - z_y.$$
#
# The first term is the **log-sum-exp**, computed stably with the same max-shift. Now
# differentiate with respect to a score $z_k$. The derivative of the log-sum-exp is the
# softmax itself,
#
# $$\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = \frac{e^{z_k}}{\sum_j e^{z_j}} = p_k,$$
#
# and $\partial z_y / \partial z_k$ is 1 if $k = y$ and 0 otherwise, which is $Y_k$. So
#
# $$\frac{\partial \ell}{\partial z_k} = p_k - Y_k.$$
#
# Exactly the logistic result: probability minus target. The same answer comes out the long
# way, through the softmax's Jacobian. Differentiating the quotient,
# $\partial p_i / \partial z_k = p_i(\delta_{ik} - p_k)$ (with $\delta_{ik}$ = 1 if $i = k$),
# and $\partial \ell / \partial p_i = -Y_i / p_i$, so
# $\partial \ell / \partial z_k = \sum_i (-Y_i/p_i)\, p_i(\delta_{ik} - p_k) = -Y_k + p_k \sum_i Y_i = p_k - Y_k$.
# Fusing the softmax and the loss skips the $K \times K$ Jacobian and the division by a
# possibly tiny $p_i$; that is why nn101's `SoftmaxCrossEntropy` takes logits.
#
# For the batch, with the $1/N$ of the mean:
#
# $$\frac{\partial \mathcal{L}}{\partial Z} = \frac1N (P - Y), \qquad
#   \nabla_W \mathcal{L} = X^\top \frac{P - Y}{N}, \qquad
#   \nabla_b \mathcal{L} = \sum_n \frac{P_n - Y_n}{N}.$$
#
# Shapes: $X^\top$ is $D \times N$ and $P - Y$ is $N \times K$, so $\nabla_W \mathcal{L}$ is $D \times K$,
# like $W$.

# %%
show(nn101.SoftmaxCrossEntropy.forward)
show(nn101.SoftmaxCrossEntropy.backward)

# %% [markdown]
# ## Checking the bridge during training
#
# Look at one gradient step of a two-class softmax model. The two score gradients are
# $(p_1 - Y_1)/N$ and $(p_2 - Y_2)/N = -(p_1 - Y_1)/N$: equal and opposite. So with learning
# rate $\eta$, column 1 moves by $-\eta g$ and column 2 by $+\eta g$, where
# $g = X^\top (p_1 - Y_1)/N$ is the logistic gradient, and their difference
# $w = w_1 - w_2$ moves by $-2\eta g$. **Two-class softmax regression trained with learning
# rate $\eta$ is logistic regression trained with learning rate $2\eta$.** We check that
# claim by running both models side by side in float64 on the same mini-batches.

# %%
n = 300
X2 = np.concatenate([rng.normal((-1, 0), 1.0, (n, 2)), rng.normal((1.5, 1), 1.0, (n, 2))])
labels = np.repeat([0, 1], n)  # class indices for the softmax model
is_class_0 = (labels == 0).astype(np.float64)[:, None]  # logistic target: p = P(class 0)

two_class = nn101.Dense(2, 2, dtype=np.float64, rng=rng)
logistic = nn101.Dense(2, 1, dtype=np.float64, rng=rng)
logistic.weight.value[:, 0] = two_class.weight.value[:, 0] - two_class.weight.value[:, 1]
logistic.bias.value[0] = two_class.bias.value[0] - two_class.bias.value[1]

eta = 0.05
ce, bce = nn101.SoftmaxCrossEntropy(), nn101.BinaryCrossEntropy()
opt_softmax = nn101.SGD(two_class.parameters(), learning_rate=eta)
opt_logistic = nn101.SGD(logistic.parameters(), learning_rate=2 * eta)
gaps = []
for idx in nn101.data.batch_indices(len(X2), 20, shuffle=True, rng=rng):
    for model, loss_fn, opt, target in (
        (two_class, ce, opt_softmax, labels[idx]),
        (logistic, bce, opt_logistic, is_class_0[idx]),
    ):
        opt.zero_grad()
        loss_fn.forward(model.forward(X2[idx], training=True), target)
        model.backward(loss_fn.backward())
        opt.step()
    w_diff = two_class.weight.value[:, 0] - two_class.weight.value[:, 1]
    b_diff = two_class.bias.value[0] - two_class.bias.value[1]
    gaps.append(
        max(
            np.abs(w_diff - logistic.weight.value[:, 0]).max(), abs(b_diff - logistic.bias.value[0])
        )
    )

print(f"{len(gaps)} steps; largest |(w1 - w2) - w| or |(b1 - b2) - b| on the way: {max(gaps):.1e}")
assert max(gaps) < 1e-12

# %% [markdown]
# ## Ten classes: handwritten digits
#
# `nn101.data.load_digits` returns the 1797 grey-scale images of handwritten digits shipped
# inside the package (the UCI "optical recognition of handwritten digits" test set), 8x8
# pixels with intensities 0 to 16, already split into a training and a test `Dataset` (a
# stratified 80/20 split with a fixed seed, so every chapter evaluates on the same 359 test
# images). Each image is flattened into $D = 64$ features and scaled to $[0, 1]$ as it is read.

# %%
train, test = nn101.data.load_digits()
print(train)
print(test)
x_train, y_train = train.inputs.astype(np.float64), train.y  # (1438, 64), (1438,)
x_test, y_test = test.inputs.astype(np.float64), test.y  # (359, 64), (359,)
print("pixel range", x_train.min(), x_train.max(), " images per class", np.bincount(y_train))

fig, axes = plt.subplots(2, 10, figsize=(10, 2.3))
for ax, image, label in zip(axes.ravel(), x_train[:20], y_train[:20], strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(str(label), fontsize=9)
    ax.axis("off")
fig.suptitle("Twenty training digits")
plt.show()

# %% [markdown]
# ### By hand
#
# Softmax regression on the digits is the loop of chapter 6 with a matrix where the vector
# was: `W` is $64 \times 10$, the error $P - Y$ is $N \times 10$.

# %%
Y_train = nn101.data.one_hot(y_train, 10)  # (N,) -> (N, 10)
W = np.zeros((64, 10))
b = np.zeros(10)
hand_losses = []
for _ in range(20):
    for idx in nn101.data.batch_indices(len(x_train), 32, shuffle=True, rng=rng):
        P = softmax(x_train[idx] @ W + b)  # (B, 64) @ (64, 10) -> (B, 10)
        G = (P - Y_train[idx]) / len(idx)  # dL/dZ, (B, 10)
        W -= 0.5 * x_train[idx].T @ G  # (64, B) @ (B, 10) -> (64, 10)
        b -= 0.5 * G.sum(axis=0)
    Z = x_train @ W + b
    hand_losses.append(np.mean(nn101.functional.logsumexp(Z) - Z[np.arange(len(Z)), y_train]))
test_accuracy = np.mean(np.argmax(x_test @ W + b, axis=1) == y_test)
print(f"by hand: training loss {hand_losses[-1]:.3f}, test accuracy {test_accuracy:.3f}")

# %% [markdown]
# ### With nn101
#
# The same model is one `Dense(64, 10)` layer; `Sequential.fit` runs the loop and records the
# loss and accuracy of every epoch, on the training data and on the validation data we pass.
# Here both are the `Dataset`s themselves.

# %%
model = nn101.Sequential(nn101.Dense(64, 10, rng=rng))
history = model.fit(
    train,  # a Dataset: inputs and labels together
    epochs=20,
    batch_size=32,
    optimizer=nn101.SGD(model.parameters(), learning_rate=0.5),
    loss=nn101.SoftmaxCrossEntropy(),
    validation_data=test,
    rng=rng,
    verbose=0,
)
print({k: round(v[-1], 4) for k, v in history.history.items()})

# %% [markdown]
# ## Experiment: what the model learned
#
# Each class $k$ gets a score $z_k = x \cdot W_{:,k} + b_k$: a weighted sum of the pixels. So
# column $k$ of $W$, reshaped to 8x8, is a **template**: the pixels where ink raises the score
# of class $k$ (red) and where it lowers it (blue). A linear classifier matches the input
# against one template per class and picks the best match.

# %%
fig = plt.figure(figsize=(11, 4.2))
grid = fig.add_gridspec(2, 7)
ax_curve = fig.add_subplot(grid[:, :2])
epochs = np.arange(1, 21)
ax_curve.plot(epochs, history.history["loss"], label="train loss")
ax_curve.plot(epochs, history.history["val_loss"], label="test loss")
ax_curve.plot(epochs, 1 - np.array(history.history["val_accuracy"]), "--", label="test error rate")
ax_curve.set_xlabel("epoch")
ax_curve.set_yscale("log")
ax_curve.legend(fontsize=8)
ax_curve.set_title("Softmax regression on digits")

weights = model.parameters()[0].value  # (64, 10)
limit = np.abs(weights).max()
for k in range(10):
    ax = fig.add_subplot(grid[k // 5, 2 + k % 5])
    ax.imshow(weights[:, k].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"class {k}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# The templates are not pictures of the digits. The 0 template punishes ink in the centre,
# where a 0 has a hole, and rewards ink on the sides; most of the others are patchy, because
# the softmax only needs the scores to *differ*: a template encodes what distinguishes its
# class from the other nine (shift invariance again: adding the same pattern to every column
# changes nothing). Still, about 95 % of the test digits are right with nothing but ten
# weighted sums. A linear model cannot do much better, because one template
# per class cannot describe a class that is written in several different ways (a 7 with or
# without a bar). Hidden layers (chapter 9) lift that limit.

# %% [markdown]
# ## PyTorch cross-check
#
# `torch.nn.functional.cross_entropy` on the same logits and labels must give the same loss,
# and autograd must give the gradient $(P - Y)/N$ that nn101's `SoftmaxCrossEntropy.backward`
# returns; and two-class softmax must match `torch.sigmoid`.

# %%
import torch

logits = rng.normal(scale=3.0, size=(50, 10))
classes = rng.integers(0, 10, size=50)
logits_t = torch.tensor(logits, requires_grad=True)
loss_t = torch.nn.functional.cross_entropy(logits_t, torch.tensor(classes))
loss_t.backward()

loss_fn = nn101.SoftmaxCrossEntropy()
ours = loss_fn.forward(logits, classes)
assert abs(ours - loss_t.item()) < 1e-12
assert np.allclose(loss_fn.backward(), logits_t.grad.numpy(), rtol=0, atol=1e-10)
assert np.allclose(
    (softmax(logits) - nn101.data.one_hot(classes, 10)) / 50, logits_t.grad.numpy(), atol=1e-10
)
torch_pair = torch.softmax(torch.tensor(pairs), dim=1)[:, 0].numpy()
assert np.allclose(torch_pair, sigmoid(z), rtol=0, atol=1e-15)
print("PyTorch agrees: loss", loss_t.item())

# %% [markdown]
# ### The same training loop in PyTorch
#
# One epoch of softmax regression on the digits, the NumPy loop from above and the idiomatic
# PyTorch one (`nn.Linear(64, 10)`, `nn.CrossEntropyLoss`, `optim.SGD`) side by side on the
# same mini-batches: the weights must stay equal step after step.

# %%
W_numpy, b_numpy = np.zeros((64, 10)), np.zeros(10)
linear = torch.nn.Linear(64, 10, dtype=torch.float64)
torch.nn.init.zeros_(linear.weight)
torch.nn.init.zeros_(linear.bias)
their_loss, their_optimizer = (
    torch.nn.CrossEntropyLoss(),
    torch.optim.SGD(linear.parameters(), lr=0.5),
)
x_t, y_t = torch.from_numpy(x_train), torch.from_numpy(y_train)

batches = nn101.data.batch_indices(len(x_train), 32, shuffle=True, rng=np.random.default_rng(11))
for idx in batches:
    P = softmax(x_train[idx] @ W_numpy + b_numpy)  # NumPy
    G = (P - Y_train[idx]) / len(idx)
    W_numpy -= 0.5 * x_train[idx].T @ G
    b_numpy -= 0.5 * G.sum(axis=0)

    their_optimizer.zero_grad()  # PyTorch
    their_loss(linear(x_t[idx]), y_t[idx]).backward()
    their_optimizer.step()

assert np.allclose(linear.weight.detach().numpy().T, W_numpy, atol=1e-10)
assert np.allclose(linear.bias.detach().numpy(), b_numpy, atol=1e-10)
print("after one epoch the NumPy and PyTorch weights agree")

# %% [markdown]
# ## Summary
#
# * Softmax turns $K$ scores into probabilities, $p_k = e^{z_k} / \sum_j e^{z_j}$; subtracting
#   the largest score first makes it safe from overflow without changing the result.
# * With two classes softmax regression *is* logistic regression on the difference of the two
#   scores, and training both gives the same boundary.
# * The cross-entropy's gradient with respect to the scores is again prediction minus target,
#   $\partial \mathcal{L} / \partial Z = (P - Y)/N$, so $\nabla_W \mathcal{L} = X^\top (P - Y)/N$.
# * On the 8x8 digits a single `Dense(64, 10)` layer reaches well over 90% test accuracy, and
#   its weights look like blurred templates of the digits.
#
# ## Exercises
#
# **Exercise 1.** Show that $\operatorname{softmax}(z / \tau)$ tends to a one-hot vector on the
# largest score as the temperature $\tau \to 0$ and to the uniform distribution as
# $\tau \to \infty$. Plot it for $z = (1, 2, 3)$.
#
# <details><summary>Solution</summary>
#
# Divide numerator and denominator by $e^{z_{\max}/\tau}$: $p_k = e^{(z_k - z_{\max})/\tau} /
# \sum_j e^{(z_j - z_{\max})/\tau}$. As $\tau \to 0$ every exponent with $z_k < z_{\max}$ goes to
# $-\infty$, leaving 1 on the largest score; as $\tau \to \infty$ every exponent goes to 0 and
# all $p_k \to 1/K$. The cell below checks both limits.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
scores_123 = np.array([[1.0, 2.0, 3.0]])
assert np.allclose(softmax(scores_123 / 1e-3), [[0.0, 0.0, 1.0]])
assert np.allclose(softmax(scores_123 / 1e6), [[1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
print("τ = 0.5, 1, 5:", [softmax(scores_123 / tau).round(3).tolist() for tau in (0.5, 1.0, 5.0)])

# %% [markdown]
# **Exercise 2.** Fix the last column of $W$ and the last entry of $b$ at zero and train on the
# digits. Does the test accuracy change? Why can that column be dropped without loss?
#
# <details><summary>Solution</summary>
#
# Softmax does not change when the same number is added to every score, so subtracting the last
# column's score $x \cdot W_{:,K} + b_K$ from every score leaves the probabilities unchanged and
# makes the last score zero. Any model is therefore equivalent to one with that column at zero:
# the accuracy is the same up to training noise. (With $K = 2$ this is exactly logistic
# regression.)
#
# </details>
#
# **Exercise 3.** Compute the $K \times K$ Jacobian of the softmax,
# $J = \operatorname{diag}(p) - p^\top p$ (for a row vector $p$), and check it against finite
# differences. Why is every row sum zero?
#
# <details><summary>Solution</summary>
#
# $\partial p_i / \partial z_j = p_i([i = j] - p_j)$. The probabilities always sum to 1, so
# moving any score leaves their sum unchanged: $\sum_i \partial p_i / \partial z_j = 0$, and as
# $J$ is symmetric the rows sum to zero too. Checked below.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 3
z_row = rng.normal(size=(1, 5))
p_row = softmax(z_row)  # (1, 5)
jacobian = np.diag(p_row[0]) - p_row.T @ p_row  # (5, 5)
numeric = np.stack(
    [(softmax(z_row + 1e-6 * e) - softmax(z_row - 1e-6 * e))[0] / 2e-6 for e in np.eye(5)],
    axis=1,
)  # column j: d p / d z_j
assert np.allclose(jacobian, numeric, atol=1e-9)
assert np.allclose(jacobian.sum(axis=1), 0.0)
print("the softmax Jacobian matches finite differences; its rows sum to zero")

# %% [markdown]
# **Exercise 4.** Find the digits the model gets wrong and show them next to the template of
# the class it chose. Are the mistakes understandable?
#
# <details><summary>Solution</summary>
#
# Most mistakes are digits written unusually (a 9 with a short tail, a 1 with a long base) that
# overlap the wrong template more than their own. A linear model scores each class by one
# template, so any digit that deviates from its class's average shape in the wrong direction
# is lost; networks with hidden layers (chapter 9) learn several templates per class.
#
# </details>
#
# ## Further reading
#
# * J. S. Bridle, "Probabilistic interpretation of feedforward classification network outputs,
#   with relationships to statistical pattern recognition" (1990): where the name softmax
#   comes from.
# * I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning* (2016), section 6.2.2.3: softmax
#   units for multinoulli output distributions.
# * A. Zhang, Z. C. Lipton, M. Li and A. J. Smola, *Dive into Deep Learning* (2023), section
#   4.1: softmax regression.
