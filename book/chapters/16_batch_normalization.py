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

import matplotlib.pyplot as plt
import numpy as np

import nn101

# %% [markdown]
# ## Forward
#
# Take a batch $x$ of shape $N \times D$. Batch normalization treats each of the $D$ features
# separately, so fix one column and write its entries $x_1, \dots, x_N$. Training-mode
# forward:
#
# $$
# \mu = \frac{1}{N} \sum_{i=1}^{N} x_i, \qquad
# \sigma^2 = \frac{1}{N} \sum_{i=1}^{N} (x_i - \mu)^2, \qquad
# \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
# y_i = \gamma\, \hat x_i + \beta .
# $$
#
# $\hat x$ has mean 0 and variance (almost exactly) 1 over the batch; $\epsilon$ (say
# $10^{-5}$) keeps the division safe for a constant feature. The learnable scale $\gamma$
# and shift $\beta$ (initialized to 1 and 0) give back the freedom that standardizing took
# away: with $\gamma = \sqrt{\sigma^2 + \epsilon}$, $\beta = \mu$ the layer would be the
# identity. (For the same reason a `Dense` layer placed just before batch normalization does
# not need its bias: $\beta$ does that job.)
#
# At **inference** there may be no batch — one image at a time — and a prediction must not
# depend on which other examples happen to share its batch. So during training the layer keeps
# exponential running averages of $\mu$ and $\sigma^2$, and at inference it normalizes with
# those instead:
#
# $$
# \bar\mu \leftarrow (1 - m)\,\bar\mu + m\,\mu, \qquad
# \bar\sigma^2 \leftarrow (1 - m)\,\bar\sigma^2 + m\,\frac{N}{N - 1}\,\sigma^2, \qquad
# y = \gamma\, \frac{x - \bar\mu}{\sqrt{\bar\sigma^2 + \epsilon}} + \beta ,
# $$
#
# with momentum $m = 0.1$, and — as in PyTorch — the unbiased variance in the running average.
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
# $x_k$ through $\mu$ and $\sigma^2$. Write $r = (\sigma^2 + \epsilon)^{-1/2}$ so that
# $\hat x_i = (x_i - \mu)\, r$, and collect the pieces one at a time.
#
# 1. The mean: $\partial \mu / \partial x_k = 1/N$.
# 2. The variance: $\dfrac{\partial \sigma^2}{\partial x_k} = \dfrac{2}{N} \sum_i (x_i - \mu)
#    \Big(\delta_{ik} - \dfrac{1}{N}\Big) = \dfrac{2}{N}(x_k - \mu)$, because the deviations
#    $x_i - \mu$ sum to zero.
# 3. The inverse standard deviation: $\dfrac{\partial r}{\partial x_k} = -\dfrac{1}{2}
#    (\sigma^2 + \epsilon)^{-3/2} \dfrac{\partial \sigma^2}{\partial x_k}
#    = -\dfrac{r^3}{N}\,(x_k - \mu)$.
# 4. The product rule on $\hat x_i = (x_i - \mu)\, r$:
#
# $$
# \frac{\partial \hat x_i}{\partial x_k}
#   = r\Big(\delta_{ik} - \frac{1}{N}\Big) - (x_i - \mu)\,\frac{r^3}{N}\,(x_k - \mu)
#   = \frac{r}{N}\Big(N\,\delta_{ik} - 1 - \hat x_i\, \hat x_k\Big).
# $$
#
# 5. The chain rule through $\hat x$, with $\partial \mathcal{L} / \partial \hat x_i = \gamma
#    g_i$:
#
# $$
# \frac{\partial \mathcal{L}}{\partial x_k}
#   = \sum_i \gamma\, g_i\, \frac{\partial \hat x_i}{\partial x_k}
#   = \frac{\gamma\, r}{N} \Big( N g_k - \sum_i g_i - \hat x_k \sum_i g_i\, \hat x_i \Big).
# $$
#
# The two sums are exactly $\partial \mathcal{L}/\partial \beta$ and $\partial
# \mathcal{L}/\partial \gamma$, so, for the whole batch at once (sums over the batch axis,
# everything else elementwise per feature):
#
# $$
# \boxed{\;\frac{\partial \mathcal{L}}{\partial x} = \frac{\gamma\, r}{N}
#   \Big( N g - \frac{\partial \mathcal{L}}{\partial \beta} -
#   \hat x \odot \frac{\partial \mathcal{L}}{\partial \gamma} \Big)\;}
# $$
#
# Read it as: take the upstream gradient, remove its mean (the part that would only shift the
# batch, which normalization undoes anyway) and its component along $\hat x$ (the part that
# would only rescale it), and scale by $\gamma r$. So the forward pass needs to save exactly
# $\hat x$ and $r$ for the backward pass — which is what `nn101`'s layer does. In the library
# $\gamma$ and $\beta$ are called `weight` and `bias` (as in PyTorch), and the formula is
# written with means instead of sums: with $\hat g = \gamma g$ (the gradient with respect to
# $\hat x$), the box is $r\,\big(\hat g - \operatorname{mean}(\hat g) - \hat x \odot
# \operatorname{mean}(\hat g \odot \hat x)\big)$, the same thing divided through by $N$.
# The forward pass also accepts sequences $(N, C, L)$, normalizing each channel over the batch
# and length axes together.

# %%
print(inspect.getsource(nn101.BatchNorm1d.forward))
print(inspect.getsource(nn101.BatchNorm1d.backward))
print(inspect.getsource(nn101.layers.normalization._normalized_backward))

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
batch_norm.bias.value[...] = rng.normal(size=5)                # β, not the trivial 0
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
train_set, test_set = nn101.data.load_digits()   # 1,438 + 359 images, pixels in [0, 1]
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
    return model.fit(X_train, y_train, epochs=epochs, batch_size=32,
                     optimizer=nn101.SGD(model.parameters(), learning_rate=learning_rate),
                     loss=nn101.SoftmaxCrossEntropy(), validation_data=(X_test, y_test),
                     rng=np.random.default_rng(2), verbose=0).history


curves = {}
for activation in (nn101.Sigmoid, nn101.ReLU):
    for use_bn in (False, True):
        name = f"{activation.__name__}{' + BatchNorm' if use_bn else ''}"
        curves[name] = train(build(activation, batch_norm=use_bn), learning_rate=0.05, epochs=15)
        print(f"{name:20s} test accuracy after 1, 5, 15 epochs: " + ", ".join(
            f"{curves[name]['val_accuracy'][e]:.3f}" for e in (0, 4, 14)))

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
# a layer's output no longer grows when its weights grow (scaling $W$ scales $\mu$ and $\sigma$
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
ax.set(xlabel="learning rate", ylabel="test accuracy after 3 epochs", ylim=(0, 1),
       title="Learning-rate tolerance")
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
np.testing.assert_allclose(ours.forward(x, training=False),
                           theirs.eval()(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)
print("BatchNorm1d agrees with torch.nn.BatchNorm1d: outputs, gradients, running statistics")

# %% [markdown]
# ## Exercises
#
# 1. Derive $\partial \mathcal{L} / \partial x$ a second way: treat batch normalization as the
#    composition *center* ($x - \mu$), *scale* (times $r$), *affine* (times $\gamma$, plus
#    $\beta$), write each piece's backward pass, and chain them. Show the result equals the
#    boxed formula.
# 2. Prove from the boxed formula that $\sum_k \partial \mathcal{L}/\partial x_k = 0$ and
#    $\sum_k \hat x_k\, \partial \mathcal{L}/\partial x_k = 0$. Why must that be so?
# 3. Train the BatchNorm network with `batch_size=2` and with `batch_size=256`. What goes
#    wrong with very small batches? (Think about $\sigma^2$ for $N = 2$.)
# 4. Compare `model.evaluate` on the test set with the accuracy you get by calling
#    `model.forward(X_test, training=True)`. Why do they differ, and which is right?
