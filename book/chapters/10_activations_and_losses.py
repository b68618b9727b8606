# %% [markdown]
# # 10. Activation and loss functions
#
# Chapter 9 showed that a network needs a nonlinearity between its layers, and chapters 6 and
# 7 paired a sigmoid output with the binary cross-entropy and a softmax output with the
# categorical cross-entropy. This chapter looks at both choices more closely:
#
# * the common **activation functions** (sigmoid, tanh, ReLU, leaky ReLU, softmax), their
#   derivatives, and where those derivatives become tiny (**saturation**);
# * which **loss** belongs with which output, why all three standard pairs give the same
#   simple gradient, and what goes wrong when they are mixed: the squared error on a sigmoid
#   output stops learning exactly when the model is most wrong.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import sigmoid

rng = np.random.default_rng(seed=10)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The activation functions
#
# **Sigmoid.** $\sigma(z) = 1/(1 + e^{-z})$, with $\sigma'(z) = \sigma(z)(1 - \sigma(z))$
# (chapter 6). Outputs in $(0, 1)$, a probability. Its slope is at most $\tfrac14$ (at
# $z = 0$), so every sigmoid a gradient passes through shrinks it at least fourfold, and for
# $|z| > 5$ the slope is below $0.007$. Its outputs are always positive, never centred on 0.
#
# **Hyperbolic tangent.** $\tanh(z) = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}}$. Multiplying
# numerator and denominator by $e^{-z}$,
#
# $$\tanh(z) = \frac{1 - e^{-2z}}{1 + e^{-2z}} = \frac{2}{1 + e^{-2z}} - 1 = 2\sigma(2z) - 1,$$
#
# so tanh is a sigmoid stretched to $(-1, 1)$ and centred on 0. Its derivative follows from the
# quotient rule, $\tanh'(z) = 1 - \tanh^2(z)$: 1 at the origin, four times the sigmoid's, but
# it saturates just the same for large $|z|$.
#
# **Rectified linear unit.** $\operatorname{ReLU}(z) = \max(z, 0)$ with derivative
# $[z > 0]$ (1 for positive inputs, 0 for negative; at exactly 0 we take 0). For positive
# inputs it passes the gradient through unchanged: no saturation, however large $z$ gets.
# It is also the cheapest function there is. Its weakness is the other half: a unit whose
# input is negative for every example gets zero gradient and never recovers (a **dead**
# unit).
#
# **Leaky ReLU.** $\max(z, \alpha z)$ with a small slope $\alpha$ (nn101's default is $0.01$) for
# negative inputs; derivative 1 or $a$. The negative side still carries a little gradient,
# so a unit cannot die completely.
#
# nn101 implements each as a layer that saves exactly what its derivative needs: the mask
# $[z > 0]$ for ReLU, the output $y$ for sigmoid and tanh (their derivatives are written
# in $y$):

# %%
show(nn101.Tanh.forward)
show(nn101.Tanh.backward)
show(nn101.ReLU.forward)
show(nn101.ReLU.backward)

# %% [markdown]
# The figure is computed by the layers themselves: `forward` on a grid gives the function, and
# `backward` with an upstream gradient of ones gives the derivative at every point (for an
# element-wise layer $\partial \mathcal{L}/\partial z = g \odot \phi'(z)$, so $g = 1$ leaves
# $\phi'(z)$).

# %%
z = np.linspace(-6, 6, 601)
activations = {
    "sigmoid": nn101.Sigmoid(),
    "tanh": nn101.Tanh(),
    "ReLU": nn101.ReLU(),
    "leaky ReLU (a = 0.1)": nn101.LeakyReLU(0.1),
}
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
for (name, layer), style in zip(activations.items(), ("-", "-", "-", "--"), strict=True):
    values = layer.forward(z)
    slopes = layer.backward(np.ones_like(z))
    ax_f.plot(z, values, style, label=name)
    ax_d.plot(z, slopes, style, label=name)
for ax in (ax_f, ax_d):
    ax.axvspan(-6, -4, color="grey", alpha=0.15)
    ax.axvspan(4, 6, color="grey", alpha=0.15)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("$z$")
ax_f.set_ylim(-1.5, 3)
ax_f.set_title(r"activation $\phi(z)$")
ax_d.set_title(r"derivative $\phi'(z)$ (from backward)")
ax_d.legend(fontsize=8)
ax_d.text(-5, 0.6, "sigmoid and tanh\nsaturate here", ha="center", fontsize=8)
plt.show()

# the identities above, checked on the grid
assert np.allclose(np.tanh(z), 2 * sigmoid(2 * z) - 1)
for name in ("sigmoid", "tanh"):
    layer = activations[name]
    layer.forward(np.array([0.0, 5.0]))
    slopes = layer.backward(np.ones(2))
    print(f"{name:8s} slope at 0: {slopes[0]:.3f}   at 5: {slopes[1]:.5f}")

# %% [markdown]
# In the shaded regions the sigmoid and tanh are flat: whatever gradient arrives from above,
# almost none of it passes to the weights below. A unit whose input lands there for most
# examples has stopped learning. Chapter 11 shows how the scale of the initial weights decides
# where the inputs land, and chapter 12 what happens to a gradient that passes through many
# saturating layers.

# %% [markdown]
# ## Softmax, a vector function
#
# Softmax is not element-wise: each output depends on every input. Its derivative is a matrix,
# the Jacobian $J_{ij} = \partial p_i / \partial z_j$. For $i = j$ the quotient rule gives
# $\dfrac{e^{z_i}\sum_k e^{z_k} - e^{z_i} e^{z_i}}{(\sum_k e^{z_k})^2} = p_i - p_i^2$; for
# $i \ne j$ only the denominator depends on $z_j$, giving $-p_i p_j$. Together:
#
# $$J = \operatorname{diag}(p) - p\,p^\top.$$
#
# The backward pass needs $J^\top g$ for an upstream gradient $g$ (chapter 8). $J$ is
# symmetric, so
#
# $$J^\top g = p \odot g - p\,(p^\top g) = p \odot \bigl(g - \textstyle\sum_j g_j p_j\bigr),$$
#
# which costs $O(K)$ instead of the $O(K^2)$ of building $J$. That is the one line in
# `Softmax.backward`:

# %%
show(nn101.Softmax.backward)

layer = nn101.Softmax()
logits = np.array([[1.0, 2.0, 0.5, -1.0]])
p = layer.forward(logits)[0]
jacobian_from_backward = np.stack([layer.backward(np.eye(4)[[j]])[0] for j in range(4)])
assert np.allclose(jacobian_from_backward, np.diag(p) - np.outer(p, p))
print("p =", p.round(4), "\nJacobian rows sum to", jacobian_from_backward.sum(axis=1).round(16))

# %% [markdown]
# The rows of $J$ sum to zero: raising all scores together changes nothing (the shift
# invariance of chapter 7). As an output layer softmax is almost never used on its own in
# training: it is fused into `SoftmaxCrossEntropy`, whose gradient is simply $p - Y$.

# %% [markdown]
# ## Which loss goes with which output
#
# Each standard loss is the negative log-likelihood of a probability model for the target:
#
# | task | output $\hat y$ | model for the target | loss $-\log P(y)$ |
# |---|---|---|---|
# | regression | identity, $\hat y = z$ | $y \sim \mathcal{N}(\hat y, s^2)$ | $\frac{(y - \hat y)^2}{2 s^2} + \text{const}$: squared error |
# | two classes | sigmoid, $\hat y = \sigma(z)$ | $y \sim \text{Bernoulli}(\hat y)$ | $-y\log\hat y - (1-y)\log(1-\hat y)$: binary cross-entropy |
# | $K$ classes | softmax, $\hat y = \operatorname{softmax}(z)$ | $y \sim \text{Categorical}(\hat y)$ | $-\log \hat y_y$: cross-entropy |
#
# The output function maps the score $z$ into the set where the target lives (any number,
# $(0, 1)$, the probability simplex), and the loss measures how likely the target is under
# that prediction. Each pair was derived in chapters 4, 6 and 7, and each gave the same
# gradient with respect to the score:
#
# $$\frac{\partial \ell}{\partial z} = \hat y - y$$
#
# (times 2 for the squared error written without the $\tfrac12$). In statistics these are the
# *canonical links* of generalised linear models. The gradient is the error itself: large when
# the prediction is far off, zero when it is right. Mixing the pairs breaks this.
#
# ## Squared error on a sigmoid: learning stops when it is most wrong
#
# Put the squared error $\ell = (\sigma(z) - y)^2$ on a sigmoid output. By the chain rule
#
# $$\frac{\partial \ell}{\partial z} = 2\bigl(\sigma(z) - y\bigr)\, \sigma(z)\bigl(1 - \sigma(z)\bigr).$$
#
# Take a positive example, $y = 1$, that the model gets confidently wrong: $z \ll 0$, so
# $\sigma(z) \approx e^{z} \approx 0$. The error factor is about $-2$, but the sigmoid's slope
# $\sigma(z)(1 - \sigma(z)) \approx e^{z}$ is tiny, so
#
# $$\frac{\partial \ell_{\text{MSE}}}{\partial z} \approx -2 e^{z} \to 0
#   \qquad\text{while}\qquad
#   \frac{\partial \ell_{\text{BCE}}}{\partial z} = \sigma(z) - 1 \to -1 .$$
#
# The cross-entropy's $\log$ exactly cancels the sigmoid's flat tail; the squared error does
# not, and the worse the mistake, the smaller its gradient. We compute both with nn101 (the
# squared error through a `Sigmoid` layer and `MeanSquaredError`, the cross-entropy with
# `BinaryCrossEntropy` on the logits):

# %%
z = np.linspace(-10, 10, 401)[:, None]  # (401, 1): one logit per "example"
target = np.ones_like(z)
mse, bce, squash = nn101.MeanSquaredError(), nn101.BinaryCrossEntropy(), nn101.Sigmoid()

mse_losses, mse_grads, bce_losses, bce_grads = [], [], [], []
for logit in z:  # one example at a time, so that each loss is the per-example loss
    mse_losses.append(mse.forward(squash.forward(logit[None]), target[:1]))
    mse_grads.append(squash.backward(mse.backward())[0, 0])
    bce_losses.append(bce.forward(logit[None], target[:1]))
    bce_grads.append(bce.backward()[0, 0])

fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(z, mse_losses, label=r"squared error $(\sigma(z) - 1)^2$")
ax_loss.plot(z, bce_losses, label=r"cross-entropy $-\log\sigma(z)$")
ax_loss.set_ylim(0, 5)
ax_loss.set_title("loss for a positive example ($y = 1$)")
ax_grad.plot(z, np.abs(mse_grads), label="squared error")
ax_grad.plot(z, np.abs(bce_grads), label="cross-entropy")
ax_grad.set_yscale("log")
ax_grad.set_title(r"gradient magnitude $|\partial \ell / \partial z|$")
for ax in (ax_loss, ax_grad):
    ax.axvspan(-10, -3, color="tab:red", alpha=0.08)
    ax.set_xlabel("logit $z$ (negative = confidently wrong)")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### The effect on training
#
# Logistic regression on two Gaussian clouds, started from weights that point the wrong way
# and are large, so that almost every example is confidently misclassified (this is what a
# saturated unit looks like from the inside). We train the same model twice, once with each
# loss, with the same learning rate and batches.

# %%
n = 200
X = np.concatenate([rng.normal((-1.5, -1), 1.0, (n, 2)), rng.normal((1.5, 1), 1.0, (n, 2))])
y = np.repeat([0.0, 1.0], n)[:, None]  # (400, 1)


shuffle_seed = int(rng.integers(2**32))  # both runs replay the same batches


def train(loss_name, epochs=40):
    layer = nn101.Dense(2, 1, dtype=np.float64, rng=rng)
    layer.weight.value[...] = [[-4.0], [-4.0]]  # wrong direction, large: scores of about -10 to 10
    layer.bias.value[...] = 0.0
    optimizer = nn101.SGD(layer.parameters(), learning_rate=0.5)
    squash, loss_fn = (
        nn101.Sigmoid(),
        (nn101.MeanSquaredError() if loss_name == "mse" else nn101.BinaryCrossEntropy()),
    )
    accuracy = np.mean((layer.forward(X) > 0) == (y == 1))
    accuracies, shuffle = [accuracy], np.random.default_rng(shuffle_seed)
    for _ in range(epochs):
        for idx in nn101.data.batch_indices(len(X), 20, shuffle=True, rng=shuffle):
            optimizer.zero_grad()
            z = layer.forward(X[idx], training=True)
            if loss_name == "mse":  # squared error on the probability: backward through the sigmoid
                loss_fn.forward(squash.forward(z), y[idx])
                layer.backward(squash.backward(loss_fn.backward()))
            else:  # cross-entropy on the logits
                loss_fn.forward(z, y[idx])
                layer.backward(loss_fn.backward())
            optimizer.step()
        accuracies.append(np.mean((layer.forward(X) > 0) == (y == 1)))
    return accuracies


curves = {"squared error on sigmoid": train("mse"), "cross-entropy on logits": train("bce")}
fig, ax = plt.subplots(figsize=(6, 3.6))
for name, accuracies in curves.items():
    ax.plot(range(0, 41), accuracies, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training accuracy")
ax.set_title("Starting confidently wrong")
ax.legend()
plt.show()
for name, accuracies in curves.items():
    first = next((i for i, a in enumerate(accuracies) if a > 0.9), None)
    print(
        f"{name}: accuracy at the start {accuracies[0]:.2f}, after 1 epoch {accuracies[1]:.2f}, "
        f"first above 0.9 after epoch {first}"
    )

# %% [markdown]
# With the cross-entropy the model recovers within an epoch or two: the worst mistakes send
# the largest gradients. With the squared error it sits on a plateau, barely moving, because
# the examples that most need correcting are exactly the ones deep in the sigmoid's flat tail.
# The rule: **sigmoid output with binary cross-entropy, softmax with categorical cross-entropy,
# identity with squared error**, and let the loss take the logits.

# %% [markdown]
# ## PyTorch cross-check
#
# Every activation's backward pass against `torch.autograd` on random inputs and a random
# upstream gradient, and the two losses of the experiment (including the squared error
# through the sigmoid) against PyTorch's, in float64.

# %%
import torch

x = rng.normal(scale=3.0, size=(6, 5))
upstream = rng.normal(size=(6, 5))
pairs = [
    (nn101.Sigmoid(), torch.sigmoid),
    (nn101.Tanh(), torch.tanh),
    (nn101.ReLU(), torch.relu),
    (nn101.LeakyReLU(0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    (nn101.Softmax(), lambda t: torch.softmax(t, dim=-1)),
]
for ours, theirs in pairs:
    x_t = torch.tensor(x, requires_grad=True)
    y_t = theirs(x_t)
    (y_t * torch.tensor(upstream)).sum().backward()
    assert np.allclose(ours.forward(x), y_t.detach().numpy(), rtol=0, atol=1e-12)
    assert np.allclose(ours.backward(upstream), x_t.grad.numpy(), rtol=0, atol=1e-10)

logits, targets = (
    rng.normal(scale=4.0, size=(8, 1)),
    rng.integers(0, 2, size=(8, 1)).astype(np.float64),
)
z_t = torch.tensor(logits, requires_grad=True)
torch.nn.functional.mse_loss(torch.sigmoid(z_t), torch.tensor(targets)).backward()
squash, mse = nn101.Sigmoid(), nn101.MeanSquaredError()
mse.forward(squash.forward(logits), targets)
assert np.allclose(squash.backward(mse.backward()), z_t.grad.numpy(), rtol=0, atol=1e-10)

z_t = torch.tensor(logits, requires_grad=True)
torch.nn.functional.binary_cross_entropy_with_logits(z_t, torch.tensor(targets)).backward()
bce = nn101.BinaryCrossEntropy()
bce.forward(logits, targets)
assert np.allclose(bce.backward(), z_t.grad.numpy(), rtol=0, atol=1e-10)
print("PyTorch agrees on 5 activations and both losses")

# %% [markdown]
# ## Summary
#
# * The sigmoid and tanh saturate: their slopes, at most $\tfrac14$ and 1, vanish for large
#   $|z|$. ReLU's slope is exactly 1 for $z > 0$ and 0 below, cheap and non-saturating for
#   positive inputs, at the risk of "dead" units; leaky ReLU keeps a small slope $\alpha$.
# * Softmax is a vector function: its backward pass multiplies by its Jacobian
#   $\operatorname{diag}(p) - p^\top p$ without forming it.
# * Each output goes with a loss: identity with squared error for numbers, sigmoid with binary
#   cross-entropy and softmax with cross-entropy for classes. With the matching pair the
#   gradient at the logits is simply prediction minus target.
# * A squared error on a sigmoid multiplies that gradient by $\sigma'(z)$, so a confidently
#   wrong unit learns slowest exactly when it is most wrong.
#
# ## Exercises
#
# **Exercise 1.** Show that $\sigma'(z) \le \tfrac14$ and $\tanh'(z) \le 1$, and find $z$ at which
# the sigmoid's slope has fallen to 1% of its maximum. *Hint:* $\sigma' = \sigma(1 - \sigma)$,
# and $s(1 - s)$ is largest at $s = \tfrac12$.
#
# <details><summary>Solution</summary>
#
# $\sigma(1 - \sigma) \le \tfrac14$ with equality at $\sigma = \tfrac12$, i.e. $z = 0$;
# $\tanh' = 1 - \tanh^2 \le 1$, equality at 0. The slope is 1% of $\tfrac14$ when
# $\sigma(1-\sigma) = 0.0025$, i.e. $\sigma = (1 + \sqrt{0.99})/2$, at
# $z = \log(\sigma / (1 - \sigma)) \approx 5.99$. Checked below.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
s_one_percent = (1 + np.sqrt(0.99)) / 2
z_one_percent = np.log(s_one_percent / (1 - s_one_percent))
slope = nn101.Sigmoid()
slope.forward(np.array([[z_one_percent]]))
print(f"z = {z_one_percent:.4f}: slope {slope.backward(np.ones((1, 1)))[0, 0]:.6f}")
assert np.isclose(slope.backward(np.ones((1, 1)))[0, 0], 0.01 * 0.25)

# %% [markdown]
# **Exercise 2.** Derive the Jacobian of softmax for $K = 2$ and show that it reduces to the
# sigmoid's derivative (chapter 7's bridge, one derivative further).
#
# <details><summary>Solution</summary>
#
# With $p_1 = \sigma(z_1 - z_2)$ and $p_2 = 1 - p_1$: $\partial p_1 / \partial z_1 = p_1(1 - p_1)
# = \sigma'(z_1 - z_2)$, $\partial p_1 / \partial z_2 = -p_1(1 - p_1)$, and the second row is the
# negative of the first. The whole Jacobian is $\sigma'(z_1 - z_2)$ times
# $\begin{bmatrix} 1 & -1 \\ -1 & 1 \end{bmatrix}$: only the difference of the scores matters.
#
# </details>
#
# **Exercise 3.** Repeat the "confidently wrong" experiment with the squared error on the
# *logits* (identity output) against 0/1 targets. Does it get stuck? What is wrong with it
# instead? *Hint:* what does it do to an example that is confidently *right*?
#
# <details><summary>Solution</summary>
#
# It does not get stuck: the gradient $2(z - y)/N$ grows with the error. But it punishes an
# example that is confidently right, e.g. $z = 5$ for target 1, as hard as one that is wrong
# by the same distance, pulling the logits of easy examples back towards the target value and
# letting them dominate the fit. The boundary is then set by the well-classified bulk rather
# than by the examples near the boundary: the classification is worse than with cross-entropy.
#
# </details>
#
# **Exercise 4.** Build a 10-layer network with ReLU and count, after a few epochs of training on
# the digits, how many hidden units are dead (zero for every training image). Repeat with leaky
# ReLU.
#
# <details><summary>Solution</summary>
#
# With a moderate learning rate and He initialization usually only a small fraction of the
# ReLU units die; with a large learning rate a single large step can push a unit's bias far
# negative, and many units (in the worst case whole layers) die. Leaky ReLU units never output exactly zero for every input, so none are
# dead, and a unit pushed negative still receives a gradient of slope $\alpha$ to come back.
#
# </details>
#
# ## Further reading
#
# * X. Glorot, A. Bordes and Y. Bengio, "Deep sparse rectifier neural networks", AISTATS
#   (2011): why ReLU trains deep networks better than the sigmoid.
# * A. L. Maas, A. Y. Hannun and A. Y. Ng, "Rectifier nonlinearities improve neural network
#   acoustic models", ICML workshop (2013): the leaky ReLU.
# * M. Nielsen, *Neural Networks and Deep Learning*, chapter 3 (2015): the cross-entropy cost
#   and the learning slowdown of a squared error on sigmoid outputs.
