# %% [markdown]
# # 11. Weight initialization
#
# Gradient descent has to start somewhere. For logistic regression any start works (the loss
# is convex, chapter 6). For a deep network the starting weights decide whether training
# works at all: with weights a little too small the signal fades to nothing on its way
# through the layers; a little too large and it blows up, or pins every tanh unit at $\pm 1$
# where its gradient is zero (chapter 10). The right scale is not a matter of trial and
# error: it follows from one requirement, that the **variance of the signal stays the same
# from layer to layer**. That requirement gives the Xavier (Glorot) and He initializations,
# which we derive and then watch at work across ten layers.

# %%
import functools
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=11)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Why random, and why zero will not do
#
# Suppose all weights into a hidden layer start equal, and every hidden unit also starts with
# the same outgoing weights. Then every hidden unit computes the same function of the input,
# receives the same gradient, and takes the same step. The units stay identical forever: a
# layer of 100 units trained this way is a layer of one. (All zeros is the extreme case:
# then no gradient reaches the first layer at all, since $\partial \mathcal{L}/\partial H = G W^{(2)\top} = 0$.)
# Random initial weights **break the symmetry**. What remains is to choose the
# distribution's scale. Biases have no symmetry to break and start at zero.

# %%
x_small = rng.normal(size=(64, 4))
labels_small = rng.integers(0, 3, size=64)
net = nn101.Sequential(
    nn101.Dense(4, 5, dtype=np.float64, rng=rng),
    nn101.Tanh(),
    nn101.Dense(5, 3, dtype=np.float64, rng=rng),
)
net[0].weight.value[...] = 0.3  # every input weight equal
net[2].weight.value[...] = rng.normal(size=3)  # (5, 3): every hidden unit's row the same
optimizer = nn101.SGD(net.parameters(), learning_rate=0.5)
loss_fn = nn101.SoftmaxCrossEntropy()
for _ in range(100):
    optimizer.zero_grad()
    loss_fn.forward(net.forward(x_small, training=True), labels_small)
    net.backward(loss_fn.backward())
    optimizer.step()
W1 = net[0].weight.value  # (4, 5): column j is hidden unit j
print("after 100 steps, the input weights of the five hidden units (one per column):")
print(W1.round(4))
assert np.allclose(W1, W1[:, :1])  # every column equals the first

# %% [markdown]
# The weights have moved away from 0.3, but all five columns are still identical: the
# network has five copies of one hidden unit.
#
# ## The variance of one layer
#
# Take one pre-activation of a dense layer, $z_j = \sum_{i=1}^{n_{\text{in}}} x_i W_{ij}$
# (we drop the bias, which starts at zero). Assume, as holds at initialization, that the
# weights are independent of each other and of the inputs, with mean zero and variance
# $v$. Each term has mean $\mathbb{E}[x_i]\mathbb{E}[W_{ij}] = 0$ and variance
#
# $$\operatorname{Var}(x_i W_{ij}) = \mathbb{E}[x_i^2 W_{ij}^2] - 0 = \mathbb{E}[x_i^2]\,\mathbb{E}[W_{ij}^2] = \mathbb{E}[x_i^2]\, v,$$
#
# and variances of independent terms add, so
#
# $$\operatorname{Var}(z_j) = n_{\text{in}}\, v\, \mathbb{E}[x^2].$$
#
# A sum of $n_{\text{in}}$ terms grows like $n_{\text{in}}$: the weight variance must shrink
# like $1 / n_{\text{in}}$ to compensate.
#
# ## Xavier / Glorot: for tanh (and the identity)
#
# Near zero, $\tanh(z) \approx z$, so with zero-mean inputs $\mathbb{E}[x^2]$ for the next layer is
# about $\operatorname{Var}(z)$ of this one, and layer $l$ gives
#
# $$\operatorname{Var}(z^{(l)}) = n_{\text{in}}\, v\, \operatorname{Var}(z^{(l-1)}).$$
#
# After $L$ layers the variance has been multiplied by $(n_{\text{in}} v)^L$: it vanishes if
# $n_{\text{in}} v < 1$ and explodes if $n_{\text{in}} v > 1$. The forward pass is stable for
# $v = 1/n_{\text{in}}$ (LeCun's rule).
#
# The backward pass multiplies by $W^\top$ instead (chapter 8: $\partial \mathcal{L}/\partial x =
# g W^\top$), a sum over the $n_{\text{out}}$ outputs, so the same argument gives
# $\operatorname{Var}(\partial \mathcal{L} / \partial x) = n_{\text{out}}\, v\,
# \operatorname{Var}(\partial \mathcal{L} / \partial z)$ and asks for $v = 1/n_{\text{out}}$. Glorot
# and Bengio (2010) compromise between the two with the harmonic mean:
#
# $$v = \frac{2}{n_{\text{in}} + n_{\text{out}}}.$$
#
# A uniform distribution $U(-a, a)$ has variance $\int_{-a}^{a} \frac{w^2}{2a}\,dw = a^2/3$,
# so the uniform version draws from $U(-a, a)$ with $a = \sqrt{6 / (n_{\text{in}} + n_{\text{out}})}$.
# This is nn101's (and Keras's) default for `Dense`.
#
# ## He / Kaiming: for ReLU
#
# ReLU is not the identity near zero: it zeroes the negative half. If $z$ is symmetric around
# zero, $\max(z, 0)^2$ equals $z^2$ on the positive half and $0$ on the negative half, so
#
# $$E\bigl[\operatorname{ReLU}(z)^2\bigr] = \tfrac12 \mathbb{E}[z^2] = \tfrac12 \operatorname{Var}(z).$$
#
# Each ReLU layer halves the second moment, so the recursion becomes
# $\operatorname{Var}(z^{(l)}) = \tfrac12\, n_{\text{in}}\, v\, \operatorname{Var}(z^{(l-1)})$,
# and constant variance needs twice the weight variance (He et al., 2015):
#
# $$v = \frac{2}{n_{\text{in}}}, \qquad W \sim \mathcal{N}\Bigl(0, \frac{2}{n_{\text{in}}}\Bigr).$$
#
# The initializers are plain functions in `nn101.init`; `Dense` takes one by name
# (`weight_init="he_normal"`) or as a function:

# %%
show(nn101.init.glorot_uniform)
show(nn101.init.he_normal)

# %%
fan_in, fan_out = 400, 200
for name, expected in (
    ("glorot_uniform", 2 / (fan_in + fan_out)),
    ("glorot_normal", 2 / (fan_in + fan_out)),
    ("he_uniform", 2 / fan_in),
    ("he_normal", 2 / fan_in),
    ("lecun_normal", 1 / fan_in),
):
    W = getattr(nn101.init, name)(rng, (fan_in, fan_out), dtype=np.float64)
    print(f"{name:15s} variance {W.var():.6f}   formula {expected:.6f}")
    assert abs(W.var() / expected - 1) < 0.02

# %% [markdown]
# ## Experiment: ten layers, bad and good initialization
#
# A stack of ten `Dense(256, 256)` layers, each followed by the activation, fed a batch of
# 200 standard-normal inputs. We record the standard deviation of every layer's output on the
# way forward, then send a random upstream gradient back and record the standard deviation
# of the gradient reaching every layer's input. Five set-ups:
#
# * tanh with $\mathcal{N}(0, 0.01^2)$: far too small ($n_{\text{in}} v = 0.0256$);
# * tanh with $\mathcal{N}(0, 1)$: far too large ($n_{\text{in}} v = 256$);
# * tanh with Glorot uniform;
# * ReLU with Glorot uniform (right for tanh, half too small for ReLU);
# * ReLU with He normal.

# %%
width, depth = 256, 10
x = rng.normal(size=(200, width))
upstream = rng.normal(size=(200, width))
setups = {
    "tanh, N(0, 0.01²)": (nn101.Tanh, functools.partial(nn101.init.normal, std=0.01)),
    "tanh, N(0, 1)": (nn101.Tanh, functools.partial(nn101.init.normal, std=1.0)),
    "tanh, Glorot": (nn101.Tanh, "glorot_uniform"),
    "ReLU, Glorot": (nn101.ReLU, "glorot_uniform"),
    "ReLU, He": (nn101.ReLU, "he_normal"),
}


def build(activation, weight_init):
    layers = []
    for _ in range(depth):
        layers.append(nn101.Dense(width, width, weight_init=weight_init, rng=rng, dtype=np.float64))
        layers.append(activation())
    return nn101.Sequential(*layers)


forward_std, backward_std, last_outputs, models = {}, {}, {}, {}
for name, (activation, weight_init) in setups.items():
    model = build(activation, weight_init)
    h, stds = x, []
    for layer in model:  # forward, one layer at a time, to look at every activation
        h = layer.forward(h)
        if not isinstance(layer, nn101.Dense):
            stds.append(h.std())
    g, grad_stds = upstream, []
    for layer in reversed(list(model)):  # backward, the same way
        g = layer.backward(g)
        if isinstance(layer, nn101.Dense):
            grad_stds.append(g.std())
    forward_std[name], backward_std[name] = stds, grad_stds[::-1]
    last_outputs[name], models[name] = h, model

fig, (ax_fwd, ax_bwd, ax_hist) = plt.subplots(1, 3, figsize=(14, 4))
layers_axis = np.arange(1, depth + 1)
for name in setups:
    style = "--" if name.startswith("ReLU") else "-"
    ax_fwd.semilogy(layers_axis, forward_std[name], style, marker="o", ms=3, label=name)
    ax_bwd.semilogy(layers_axis, backward_std[name], style, marker="o", ms=3, label=name)
ax_fwd.set_title("forward: std of each layer's output")
ax_bwd.set_title("backward: std of the gradient at each layer's input")
for ax in (ax_fwd, ax_bwd):
    ax.set_xlabel("layer")
    ax.set_xticks(layers_axis)
ax_fwd.legend(fontsize=8)
for name in ("tanh, N(0, 0.01²)", "tanh, N(0, 1)", "tanh, Glorot"):
    ax_hist.hist(
        last_outputs[name].ravel(),
        bins=60,
        range=(-1, 1),
        histtype="step",
        density=True,
        label=name,
    )
ax_hist.set_yscale("log")
ax_hist.set_title("tanh outputs of layer 10")
ax_hist.legend(fontsize=8, loc="upper center")
plt.show()

for name in setups:
    print(
        f"{name:18s} layer 1 std {forward_std[name][0]:.3g}   layer 10 std {forward_std[name][-1]:.3g}"
    )
saturated = np.mean(np.abs(last_outputs["tanh, N(0, 1)"]) > 0.99)
print(f"with N(0, 1) weights, {saturated:.0%} of the tanh outputs in layer 10 are beyond ±0.99")
grads = backward_std["tanh, N(0, 1)"]
print(
    f"with N(0, 1) weights the gradient at layer 1 is {grads[0] / grads[-1]:.1e} times the one "
    f"at layer 10, a factor {(grads[0] / grads[-1]) ** (1 / (len(grads) - 1)):.1f} per layer"
)

# %% [markdown]
# Reading the figure:
#
# * **Too small** (tanh, $\mathcal{N}(0, 0.01^2)$): every layer multiplies the standard
#   deviation by about $\sqrt{256} \cdot 0.01 = 0.16$; after ten layers the signal is $10^{-8}$
#   of what went in, and the gradient shrinks the same way on its way back. Every example
#   produces the same (zero) output and the early layers receive no gradient.
# * **Too large** (tanh, $\mathcal{N}(0, 1)$): the pre-activations have a standard deviation
#   of about $\sqrt{256} = 16$, so most units sit at $\pm 1$ (histogram), in the flat part of
#   tanh. The forward signal *looks* healthy (a standard deviation near 1), but it is a
#   pattern of saturated $\pm 1$s. Backwards, the few units that are not saturated pass the
#   gradient through weights that are 16 times too large, and it *grows* by a factor of
#   several per layer (the printout above gives it): the first layer gets gradients orders of
#   magnitude larger than the last.
#   Neither direction is usable.
# * **Glorot with tanh** keeps both within a factor of a few of 1. The forward signal
#   still drifts down slowly, because tanh is contracting away from zero
#   ($|\tanh z| < |z|$).
# * **Glorot with ReLU** loses a factor $\sqrt 2$ per layer, as the derivation predicts
#   ($n_{\text{in}} v \cdot \tfrac12 = \tfrac12$ in variance): $2^{-5} \approx 0.03$ after ten
#   layers. **He with ReLU** fixes the factor and stays roughly flat in both directions (the
#   remaining wobble is the randomness of one draw of finite-width weight matrices).

# %% [markdown]
# ## Does it matter for training?
#
# A ten-layer tanh network of width 64 on the digits (chapter 7), trained for 8 epochs with
# the same optimizer and learning rate, from three initializations.

# %%
train, test = nn101.data.load_digits()
curves = {}
for name, weight_init in (
    ("N(0, 0.01²)", functools.partial(nn101.init.normal, std=0.01)),
    ("N(0, 1)", functools.partial(nn101.init.normal, std=1.0)),
    ("Glorot uniform", "glorot_uniform"),
):
    layers = [nn101.Dense(64, 64, weight_init=weight_init, rng=rng), nn101.Tanh()]
    for _ in range(8):
        layers += [nn101.Dense(64, 64, weight_init=weight_init, rng=rng), nn101.Tanh()]
    model = nn101.Sequential(*layers, nn101.Dense(64, 10, rng=rng))
    history = model.fit(
        train,
        epochs=8,
        batch_size=64,
        optimizer=nn101.SGD(model.parameters(), learning_rate=0.1),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=test,
        rng=rng,
        verbose=0,
    )
    curves[name] = history.history

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, h in curves.items():
    ax_loss.plot(range(1, 9), h["loss"], marker="o", ms=3, label=name)
    ax_acc.plot(range(1, 9), h["val_accuracy"], marker="o", ms=3, label=name)
ax_loss.set_yscale("log")
ax_loss.set_title("training loss, 10 tanh layers")
ax_acc.set_title("test accuracy")
for ax in (ax_loss, ax_acc):
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
plt.show()
for name, h in curves.items():
    print(f"{name:15s} test accuracy after 8 epochs: {h['val_accuracy'][-1]:.3f}")

# %% [markdown]
# Both badly initialized networks stay at or near chance (10 % on ten classes) for the
# whole run. With tiny weights every image produces the same output and the gradients are too
# small to change that; with large weights the saturated units pass almost no gradient and
# the rest pass exploding ones, and plain gradient descent makes no progress from there.
# Glorot initialization, with the same architecture, optimizer and learning rate, trains from
# the first epoch. Later chapters add tools that make deep networks less sensitive to the
# initial scale (batch normalization, chapter 16), but none of them removes the need to start
# from a sensible one.

# %% [markdown]
# ## PyTorch cross-check
#
# PyTorch's `xavier_uniform_` and `kaiming_normal_` must follow the same formulas. Its
# `Linear` weight is stored as (out, in), so `fan_in` is its second dimension. Different
# random generators give different numbers, so we compare the distributions: the uniform
# bound, and the empirical variances against each other and against the formula. Then we run
# our ten-layer He/ReLU stack in PyTorch with our weights and check that every layer's
# statistics agree.

# %%
import torch

generator = torch.Generator().manual_seed(0)
fan_in, fan_out = 400, 200
theirs = torch.empty(fan_out, fan_in, dtype=torch.float64)
ours = nn101.init.glorot_uniform(rng, (fan_in, fan_out), dtype=np.float64)
torch.nn.init.xavier_uniform_(theirs, generator=generator)
bound = np.sqrt(6 / (fan_in + fan_out))
assert theirs.abs().max().item() <= bound and np.abs(ours).max() <= bound
assert abs(theirs.var().item() / ours.var() - 1) < 0.03

torch.nn.init.kaiming_normal_(theirs, nonlinearity="relu", generator=generator)  # mode="fan_in"
ours = nn101.init.he_normal(rng, (fan_in, fan_out), dtype=np.float64)
assert (
    abs(theirs.var().item() / (2 / fan_in) - 1) < 0.03 and abs(ours.var() / (2 / fan_in) - 1) < 0.03
)

h_t = torch.tensor(x)
torch_std = []
for layer in models["ReLU, He"]:
    if isinstance(layer, nn101.Dense):
        h_t = h_t @ torch.tensor(layer.weight.value) + torch.tensor(layer.bias.value)
    else:
        h_t = torch.relu(h_t)
        torch_std.append(h_t.std(correction=0).item())
assert np.allclose(torch_std, forward_std["ReLU, He"], rtol=1e-10, atol=0)
assert np.allclose(h_t.numpy(), last_outputs["ReLU, He"], rtol=0, atol=1e-10)
print("PyTorch agrees: Glorot bound and variance, He variance, and all ten layer statistics")

# %% [markdown]
# ## Summary
#
# * Weights must start random, to break the symmetry between units; biases can start at zero.
# * A layer multiplies the variance of its signal by about $n_{\text{in}} \operatorname{Var}(W)$
#   forward and $n_{\text{out}} \operatorname{Var}(W)$ backward; over many layers any factor
#   other than 1 makes signals vanish or explode exponentially.
# * Glorot's rule, $\operatorname{Var}(W) = 2 / (n_{\text{in}} + n_{\text{out}})$, balances both
#   directions for tanh and linear layers; He's rule, $2 / n_{\text{in}}$, compensates for ReLU
#   zeroing half of its inputs.
# * With the wrong scale a ten-layer network's activations die out or blow up before training
#   starts; with the right one it trains.
#
# ## Exercises
#
# **Exercise 1.** Derive the variance of $\mathcal{U}(-c, c)$ and check the bound
# $c = \sqrt{6/(n_{\text{in}} + n_{\text{out}})}$. What bound makes a uniform distribution match
# He's variance?
#
# <details><summary>Solution</summary>
#
# $\operatorname{Var} = \frac{1}{2c}\int_{-c}^{c} w^2\, dw = c^2/3$. Setting $c^2/3 =
# 2/(n_{\text{in}} + n_{\text{out}})$ gives Glorot's bound; $c^2/3 = 2/n_{\text{in}}$ gives
# $c = \sqrt{6/n_{\text{in}}}$ (PyTorch's `kaiming_uniform_`). The cell below checks the first
# against `nn101.init.glorot_uniform`.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
fan_in, fan_out = 300, 100
sample = nn101.init.glorot_uniform(
    np.random.default_rng(0), (fan_in, fan_out), fan_in, fan_out, np.float64
)
bound = np.sqrt(6 / (fan_in + fan_out))
print(f"largest |W| {np.abs(sample).max():.4f} <= c = {bound:.4f}; variance {sample.var():.5f}")
assert np.abs(sample).max() <= bound
assert np.isclose(sample.var(), bound**2 / 3, rtol=0.05)

# %% [markdown]
# **Exercise 2.** For leaky ReLU with slope $\alpha$ show that
# $\mathbb{E}[\phi(z)^2] = \tfrac{1 + \alpha^2}{2}\operatorname{Var}[z]$ for $z$ symmetric around
# zero, and derive the matching initialization. (PyTorch calls the factor the *gain*.)
#
# <details><summary>Solution</summary>
#
# Half of the time $z > 0$ and $\phi(z)^2 = z^2$, half of the time $\phi(z)^2 = \alpha^2 z^2$;
# by symmetry each half carries half of $\mathbb{E}[z^2] = \operatorname{Var}[z]$. Keeping the
# variance constant then needs $n_{\text{in}} \operatorname{Var}(W) \tfrac{1 + \alpha^2}{2} = 1$,
# i.e. $\operatorname{Var}(W) = \frac{2}{(1 + \alpha^2)\, n_{\text{in}}}$: the gain is
# $\sqrt{2/(1 + \alpha^2)}$, which is He's $\sqrt 2$ at $\alpha = 0$ and 1 (Glorot-like) at
# $\alpha = 1$.
#
# </details>
#
# **Exercise 3.** Repeat the ten-layer experiment with widths that change from layer to layer
# ($256 \to 64 \to 256 \to \dots$). Which of the two Glorot conditions (forward or backward)
# does each layer then satisfy?
#
# <details><summary>Solution</summary>
#
# Neither exactly: with $n_{\text{in}} \ne n_{\text{out}}$ Glorot's compromise gives a forward
# factor $2 n_{\text{in}}/(n_{\text{in}} + n_{\text{out}})$ and a backward factor
# $2 n_{\text{out}}/(n_{\text{in}} + n_{\text{out}})$; a $256 \to 64$ layer amplifies the forward
# signal by 1.6 and shrinks the backward one to 0.4, and the next $64 \to 256$ layer does the
# reverse. Over a pair the factors cancel, so alternating widths stay stable overall.
#
# </details>
#
# **Exercise 4.** Initialize the ReLU stack with He's rule and multiply all weights by 1.1, then
# by 0.9. After how many layers is the signal off by a factor of 10? What does this say about
# networks with 100 layers?
#
# <details><summary>Solution</summary>
#
# The standard deviation of the signal changes by the factor 1.1 (or 0.9) per layer, so it is
# off by 10 after $\log 10 / \log 1.1 \approx 24$ layers (or $\log 10 / |\log 0.9| \approx 22$).
# A 100-layer network needs its scale right to within a few percent, or a mechanism that resets
# it: batch normalization (chapter 16) or residual connections.
#
# </details>
#
# ## Further reading
#
# * X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural
#   networks", AISTATS (2010).
# * K. He, X. Zhang, S. Ren and J. Sun, "Delving deep into rectifiers: surpassing human-level
#   performance on ImageNet classification", ICCV (2015): He initialization.
# * D. Mishkin and J. Matas, "All you need is a good init", ICLR (2016): initializing by
#   measuring the variance layer by layer.
