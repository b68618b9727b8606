# %% [markdown]
# # 16. Batch normalization
#
# Chapter 11 chose initial weights so that every layer's pre-activations start with mean zero
# and a sensible variance. But training changes the weights, and with them the distribution of
# every layer's inputs: each layer chases a moving target, and a sigmoid layer whose inputs
# drift into its flat tails stops passing gradient back (chapter 12). **Batch normalization**
# (Ioffe & Szegedy, 2015) stops the drift by force: at every step it standardizes each feature
# over the mini-batch, then lets the network choose, through two learnable parameters per
# feature, the scale and shift it actually wants.
#
# This chapter derives the forward and — the part worth doing by hand — the backward pass,
# checks the derivation with finite differences, and measures what it does to training.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Forward
#
# Take a batch $x$ of shape $N \times D$. Batch normalization treats each of the $D$ features
# separately, so fix one column and write its entries $x_1, \dots, x_N$. Training-mode
# forward:
#
# $$
# \bar x = \frac{1}{N} \sum_{i=1}^{N} x_i, \qquad
# s^2 = \frac{1}{N} \sum_{i=1}^{N} (x_i - \bar x)^2, \qquad
# \hat x_i = \frac{x_i - \bar x}{\sqrt{s^2 + \epsilon}}, \qquad
# y_i = \gamma\, \hat x_i + \beta .
# $$
#
# $\hat x$ has mean 0 and variance (almost exactly) 1 over the batch; $\epsilon$ (say
# $10^{-5}$) keeps the division safe for a constant feature. The learnable scale $\gamma$
# and shift $\beta$ (initialized to 1 and 0) give back the freedom that standardizing took
# away: with $\gamma = \sqrt{s^2 + \epsilon}$, $\beta = \bar x$ the layer would be the
# identity. (For the same reason a `Dense` layer placed just before batch normalization does
# not need its bias: $\beta$ does that job.)
#
# At **inference** there may be no batch — one image at a time — and a prediction must not
# depend on which other examples happen to share its batch. So during training the layer keeps
# exponential running averages of $\bar x$ and $s^2$, and at inference it normalizes with
# those instead:
#
# $$
# \bar x_{\text{run}} \leftarrow \rho\,\bar x_{\text{run}} + (1 - \rho)\,\bar x, \qquad
# s^2_{\text{run}} \leftarrow \rho\,s^2_{\text{run}} + (1 - \rho)\,\frac{N}{N - 1}\,s^2, \qquad
# y = \gamma\, \frac{x - \bar x_{\text{run}}}{\sqrt{s^2_{\text{run}} + \epsilon}} + \beta ,
# $$
#
# with $\rho = 0.9$ and, as in PyTorch, the unbiased variance in the running average. (The layer's
# argument `momentum=0.1` is $1 - \rho$, PyTorch's convention.)
#
# ## Backward, derived
#
# Given the upstream gradient $g_i = \partial \mathcal{L} / \partial y_i$, the parameter
# gradients are immediate, since $y_i$ is linear in $\gamma$ and $\beta$:
#
# $$
# \frac{\partial \mathcal{L}}{\partial \beta} = \sum_i g_i, \qquad
# \frac{\partial \mathcal{L}}{\partial \gamma} = \sum_i g_i\, \hat x_i .
# $$
#
# The input gradient is the interesting part, because *every* $\hat x_i$ depends on *every*
# $x_k$ through $\bar x$ and $s^2$. Write $\tilde s = \sqrt{s^2 + \epsilon}$ so that
# $\hat x_i = (x_i - \bar x) / \tilde s$, and collect the pieces one at a time ($[i = k]$ is 1
# when $i = k$, else 0).
#
# 1. The mean: $\partial \bar x / \partial x_k = 1/N$.
# 2. The variance: $\dfrac{\partial s^2}{\partial x_k} = \dfrac{2}{N} \sum_i (x_i - \bar x)
#    \Big([i = k] - \dfrac{1}{N}\Big) = \dfrac{2}{N}(x_k - \bar x)$, because the deviations
#    $x_i - \bar x$ sum to zero.
# 3. The inverse standard deviation: $\dfrac{\partial \tilde s^{-1}}{\partial x_k} =
#    -\dfrac{1}{2} (s^2 + \epsilon)^{-3/2} \dfrac{\partial s^2}{\partial x_k}
#    = -\dfrac{x_k - \bar x}{N \tilde s^3}$.
# 4. The product rule on $\hat x_i = (x_i - \bar x)\, \tilde s^{-1}$:
#
# $$
# \frac{\partial \hat x_i}{\partial x_k}
#   = \frac{1}{\tilde s}\Big([i = k] - \frac{1}{N}\Big) - \frac{(x_i - \bar x)(x_k - \bar x)}{N \tilde s^3}
#   = \frac{1}{N \tilde s}\Big(N\,[i = k] - 1 - \hat x_i\, \hat x_k\Big).
# $$
#
# 5. The chain rule through $\hat x$, with $\partial \mathcal{L} / \partial \hat x_i = \gamma
#    g_i$:
#
# $$
# \frac{\partial \mathcal{L}}{\partial x_k}
#   = \sum_i \gamma\, g_i\, \frac{\partial \hat x_i}{\partial x_k}
#   = \frac{\gamma}{N \tilde s} \Big( N g_k - \sum_i g_i - \hat x_k \sum_i g_i\, \hat x_i \Big).
# $$
#
# The two sums are exactly $\partial \mathcal{L}/\partial \beta$ and $\partial
# \mathcal{L}/\partial \gamma$, so, for the whole batch at once (sums over the batch axis,
# everything else elementwise per feature):
#
# $$
# \boxed{\;\frac{\partial \mathcal{L}}{\partial x} = \frac{\gamma}{N \tilde s}
#   \Big( N g - \frac{\partial \mathcal{L}}{\partial \beta} -
#   \hat x \odot \frac{\partial \mathcal{L}}{\partial \gamma} \Big)\;}
# $$
#
# Read it as: take the upstream gradient, remove its mean (the part that would only shift the
# batch, which normalization undoes anyway) and its component along $\hat x$ (the part that
# would only rescale it), and scale by $\gamma / \tilde s$. So the forward pass needs to save
# exactly $\hat x$ and $1/\tilde s$ for the backward pass, which is what `nn101`'s layer does
# (as `X_hat` and `inv_std`). In the library $\gamma$ and $\beta$ are called `weight` and
# `bias` (as in PyTorch), and the formula is written with means instead of sums: with
# $\hat g = \gamma g$ (the gradient with respect to $\hat x$, `dX_hat` in the code), the box is
# $\frac{1}{\tilde s}\big(\hat g - \operatorname{mean}(\hat g) - \hat x \odot
# \operatorname{mean}(\hat g \odot \hat x)\big)$, the same thing divided through by $N$.
# The forward pass also accepts sequences $(N, C, L)$, normalizing each channel over the batch
# and length axes together.

# %%
show(nn101.BatchNorm1d.forward)
show(nn101.BatchNorm1d.backward)

# %% [markdown]
# `backward` hands the boxed formula to a small helper shared by every batch-normalization
# layer. Here it is, written out from the box, and checked against the layer on a batch:


# %%
def batchnorm_input_gradient(g_hat, x_hat, inv_std):
    """dL/dx = (1/s̃) (ĝ - mean(ĝ) - x̂ ⊙ mean(ĝ ⊙ x̂)), means over the batch axis."""
    mean_g_hat = g_hat.mean(axis=0)
    mean_g_hat_x_hat = (g_hat * x_hat).mean(axis=0)
    return inv_std * (g_hat - mean_g_hat - x_hat * mean_g_hat_x_hat)


layer_check = nn101.BatchNorm1d(3, dtype=np.float64)
layer_check.weight.value[...] = [0.5, 2.0, -1.0]  # γ
x_batch = np.random.default_rng(1).normal(2.0, 3.0, size=(8, 3))
upstream = np.random.default_rng(2).normal(size=(8, 3))
layer_check.forward(x_batch, training=True)
from_layer = layer_check.backward(upstream)
inv_std = 1 / np.sqrt(x_batch.var(axis=0) + layer_check.eps)
x_hat = (x_batch - x_batch.mean(axis=0)) * inv_std
by_hand = batchnorm_input_gradient(upstream * layer_check.weight.value, x_hat, inv_std)
assert np.allclose(from_layer, by_hand, rtol=1e-10, atol=1e-12)
print("the boxed formula gives the layer's input gradient")

# %% [markdown]
# ## The derivation, checked
#
# Five steps of calculus deserve a check. `nn101.gradcheck.check_layer` compares the layer's
# backward pass with centered finite differences of $\sum (y \odot u)$ for a random upstream
# $u$, for the input and for $\gamma$ and $\beta$, in float64, and returns the worst relative
# error:

# %%
rng = np.random.default_rng(0)
batch_norm = nn101.BatchNorm1d(5, dtype=np.float64)
batch_norm.weight.value[...] = rng.uniform(0.5, 2.0, size=5)  # γ, not the trivial 1
batch_norm.bias.value[...] = rng.normal(size=5)  # β, not the trivial 0
x = rng.normal(3.0, 2.0, size=(8, 5))
worst = nn101.gradcheck.check_layer(batch_norm, x, rng=rng)
print(f"worst relative error of the BatchNorm1d backward pass: {worst:.2e}")
assert worst < 1e-6

# %% [markdown]
# A relative error around $10^{-9}$ or below is what centered differences with float64 can
# resolve; an error in any term of the boxed formula (drop the $\hat x$ term, say) would show
# up as an error of order one.
#
# ## What it does to training
#
# Back to the deep networks of chapter 12: five hidden layers of 64 units on the digits,
# trained with plain SGD at the same learning rate, with and without a `BatchNorm1d` between
# each `Dense` and its activation. The deep sigmoid network was the one that could hardly
# learn.

# %%
train_set, test_set = nn101.data.load_digits()  # 1,438 + 359 images, pixels in [0, 1]
X_train, y_train = train_set.inputs, train_set.y
X_test, y_test = test_set.inputs, test_set.y


def build(activation, *, batch_norm, seed=1, width=64, depth=5):
    rng = np.random.default_rng(seed)
    init = "he_normal" if activation is nn101.ReLU else "glorot_uniform"
    layers, fan_in = [], 64
    for _ in range(depth):
        layers.append(nn101.Dense(fan_in, width, rng=rng, weight_init=init))
        if batch_norm:
            layers.append(nn101.BatchNorm1d(width))
        layers.append(activation())
        fan_in = width
    layers.append(nn101.Dense(width, 10, rng=rng))
    return nn101.Sequential(*layers)


def train(model, learning_rate, epochs):
    return model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        optimizer=nn101.SGD(model.parameters(), learning_rate=learning_rate),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=(X_test, y_test),
        rng=np.random.default_rng(2),
        verbose=0,
    ).history


curves = {}
for activation in (nn101.Sigmoid, nn101.ReLU):
    for use_bn in (False, True):
        name = f"{activation.__name__}{' + BatchNorm' if use_bn else ''}"
        curves[name] = train(build(activation, batch_norm=use_bn), learning_rate=0.05, epochs=15)
        print(
            f"{name:20s} test accuracy after 1, 5, 15 epochs: "
            + ", ".join(f"{curves[name]['val_accuracy'][e]:.3f}" for e in (0, 4, 14))
        )

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
epochs = np.arange(1, 16)
for name, history in curves.items():
    style = "-" if "BatchNorm" in name else "--"
    left.semilogy(epochs, history["loss"], style, marker="o", ms=3, label=name)
    right.plot(epochs, history["val_accuracy"], style, marker="o", ms=3, label=name)
left.set(xlabel="epoch", ylabel="training loss", title="Five hidden layers, SGD, η = 0.05")
right.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1))
left.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# With batch normalization the sigmoid network, which on its own barely leaves chance level,
# trains about as fast as the ReLU one: every sigmoid now receives inputs with mean $\beta$
# and spread $\gamma$, near its steep middle, so its derivative is no longer tiny and the
# gradient reaches the first layers. The ReLU network, which trained already, gets a head
# start from normalization (compare the first epoch); after that the two ReLU runs are
# close, and the plain one even ends with the lower training loss. On a small network that
# is already well initialized, faster early training is most of what batch normalization
# adds at a fixed rate.
#
# The second classic effect is that batch normalization tolerates much larger learning rates:
# a layer's output no longer grows when its weights grow (scaling $W$ scales $\bar x$ and $s$
# alike and cancels in $\hat x$), so a large step cannot blow up the activations downstream.
# Let us scan the learning rate for the ReLU network, three epochs each:

# %%
rates = [0.01, 0.03, 0.1, 0.3, 1.0]
scan = {False: [], True: []}
for use_bn in (False, True):
    for rate in rates:
        try:
            history = train(build(nn101.ReLU, batch_norm=use_bn), learning_rate=rate, epochs=3)
            scan[use_bn].append(history["val_accuracy"][-1])
        except FloatingPointError:  # the loss became infinite: the run diverged
            scan[use_bn].append(0.0)

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogx(rates, scan[False], "o--", label="ReLU")
ax.semilogx(rates, scan[True], "o-", label="ReLU + BatchNorm")
ax.set(
    xlabel="learning rate",
    ylabel="test accuracy after 3 epochs",
    ylim=(0, 1),
    title="Learning-rate tolerance",
)
ax.legend()
fig.tight_layout()
plt.show()
print("without BN:", np.round(scan[False], 3), " with BN:", np.round(scan[True], 3))

# %% [markdown]
# Without normalization the network's accuracy collapses as the rate grows past a few tenths:
# the steps overshoot, and at the largest rate the loss becomes infinite and `fit` stops with
# an error (drawn at 0). With normalization it learns best at exactly the rates where the
# plain network fails, and reaches in 3 epochs what took 15 above.
#
# ## PyTorch cross-check
#
# `BatchNorm1d` and `torch.nn.BatchNorm1d` in float64, on the same batch with the same
# $\gamma$ and $\beta$: the training-mode output, the three gradients, the running statistics
# after two steps, and the inference-mode output must agree.

# %%
import torch

rng = np.random.default_rng(3)
ours = nn101.BatchNorm1d(4, dtype=np.float64)
theirs = torch.nn.BatchNorm1d(4, dtype=torch.float64)
gamma, beta = rng.uniform(0.5, 2.0, size=4), rng.normal(size=4)
ours.weight.value[...], ours.bias.value[...] = gamma, beta
with torch.no_grad():
    theirs.weight.copy_(torch.from_numpy(gamma))
    theirs.bias.copy_(torch.from_numpy(beta))

for _ in range(2):
    x, g = rng.normal(1.0, 3.0, size=(16, 4)), rng.normal(size=(16, 4))
    ours.zero_grad()
    theirs.zero_grad()
    y_ours = ours.forward(x, training=True)
    dx_ours = ours.backward(g)
    x_t = torch.tensor(x, requires_grad=True)
    y_t = theirs.train()(x_t)
    y_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y_ours, y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx_ours, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10)

np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
x = rng.normal(size=(5, 4))
np.testing.assert_allclose(
    ours.forward(x, training=False), theirs.eval()(torch.from_numpy(x)).detach().numpy(), rtol=1e-10
)
print("BatchNorm1d agrees with torch.nn.BatchNorm1d: outputs, gradients, running statistics")

# %% [markdown]
# ## Summary
#
# * Batch normalization standardizes each feature over the batch, $\hat x = (x - \bar x) /
#   \sqrt{s^2 + \epsilon}$, then rescales and shifts it with learned $\gamma$ and $\beta$; at
#   inference it uses running averages of the batch statistics instead.
# * Its backward pass, derived with the chain rule through the mean and the variance, removes
#   from the upstream gradient its mean and its component along $\hat x$ and scales by
#   $\gamma / \tilde s$; it needs only $\hat x$ and $1/\tilde s$ saved from the forward pass.
# * Because a layer's output no longer depends on the scale of its weights, much larger
#   learning rates become safe, and deep networks train faster.
#
# ## Exercises
#
# **Exercise 1.** Derive $\partial \mathcal{L} / \partial x$ a second way: treat batch
# normalization as the composition *center* ($x - \bar x$), *scale* (times $1/\tilde s$),
# *affine* (times $\gamma$, plus $\beta$), write each piece's backward pass, and chain them.
# Show the result equals the boxed formula. *Hint:* the centring step's backward pass subtracts
# the mean of its upstream gradient.
#
# <details><summary>Solution</summary>
#
# Affine: $\hat g = \gamma g$. Scale, $u = c / \tilde s$ with $c = x - \bar x$ and $\tilde s$ a
# function of $c$: $\partial \mathcal{L}/\partial c = \hat g / \tilde s - c\,
# \operatorname{mean}(\hat g \odot c) / \tilde s^3$ (the second term through $s^2 =
# \operatorname{mean}(c^2)$) $= \frac{1}{\tilde s}(\hat g - \hat x \odot
# \operatorname{mean}(\hat g \odot \hat x))$. Center: subtract the mean of that; the mean of the
# second term is zero because $\operatorname{mean}(\hat x) = 0$, leaving
# $\frac{1}{\tilde s}(\hat g - \operatorname{mean}(\hat g) - \hat x \odot
# \operatorname{mean}(\hat g \odot \hat x))$: the box.
#
# </details>
#
# **Exercise 2.** Prove from the boxed formula that $\sum_k \partial \mathcal{L}/\partial x_k = 0$
# and $\sum_k \hat x_k\, \partial \mathcal{L}/\partial x_k = 0$. Why must that be so?
#
# <details><summary>Solution</summary>
#
# Sum the box over $k$: $N \sum g - N \sum g - \sum_k \hat x_k \sum_i g_i \hat x_i = 0$ since
# $\sum_k \hat x_k = 0$. Multiply by $\hat x_k$ and sum: $N \sum g \hat x - 0 - \sum_k \hat x_k^2
# \sum_i g_i \hat x_i = 0$ since $\sum_k \hat x_k^2 = N$ (ignoring $\epsilon$). It must be so
# because the output does not change when the batch is shifted ($x + c$) or scaled around its
# mean: the loss's derivatives along those two directions are zero. Checked below.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 2
ones_direction = from_layer.sum(axis=0)  # Σ_k dL/dx_k, per feature
x_hat_direction = (x_hat * from_layer).sum(axis=0)  # Σ_k x̂_k dL/dx_k
print("sums:", ones_direction.round(12), (x_hat_direction).round(6))
assert np.allclose(ones_direction, 0, atol=1e-10)
assert np.allclose(x_hat_direction, 0, atol=1e-4)  # not exactly 0: ε makes Σ x̂² < N

# %% [markdown]
# **Exercise 3.** Train the BatchNorm network with `batch_size=2` and with `batch_size=256`.
# What goes wrong with very small batches? *Hint:* what are $\hat x_1$ and $\hat x_2$ for
# $N = 2$?
#
# <details><summary>Solution</summary>
#
# With $N = 2$, $\hat x_1 = -\hat x_2 = \pm 1$ (nearly) whatever the inputs: the normalized
# features carry only the *sign* of the difference between the two examples, and the batch
# statistics are so noisy that the running averages used at inference differ from anything
# seen in training. Training is erratic and test accuracy suffers. With 256 the statistics are
# accurate, but there are fewer steps per epoch.
#
# </details>
#
# **Exercise 4.** Compare `model.evaluate` on the test set with the accuracy you get by calling
# `model.forward(X_test, training=True)`. Why do they differ, and which is right?
#
# <details><summary>Solution</summary>
#
# `training=True` normalizes with the statistics of the test batch itself, so each prediction
# depends on the other test examples, and it also updates the running averages. `evaluate` uses
# the running averages from training, so every example is classified on its own, as it would
# be in deployment. The second is right; the first usually gives a similar number on a large,
# shuffled test batch, but fails for a batch of one.
#
# </details>
#
# ## Further reading
#
# * S. Ioffe and C. Szegedy, "Batch normalization: accelerating deep network training by
#   reducing internal covariate shift", ICML (2015).
# * S. Santurkar, D. Tsipras, A. Ilyas and A. Madry, "How does batch normalization help
#   optimization?", NeurIPS (2018): smoothing of the loss surface rather than covariate shift.
# * J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer normalization", arXiv:1607.06450 (2016): the
#   variant that normalizes over features instead of the batch.
