# %% [markdown]
# # 12. Deep networks
#
# A shallow network (chapter 9) has one hidden layer between the input and the output. A *deep*
# network simply has more of them. Nothing new is needed to train it: the forward pass is a
# longer composition of functions, the backward pass is a longer application of the chain rule,
# and the update is the same gradient step on every weight. What *is* new is what depth does to
# the gradients on their way back: they can shrink (or grow) geometrically from layer to layer.
#
# This chapter does two things.
#
# 1. It writes the whole forward / backward / update flow of a network with five hidden layers
#    on one page of plain NumPy, and checks that `nn101` computes exactly the same thing.
# 2. It measures the gradient that reaches each layer, with sigmoid and with ReLU activations,
#    and shows the *vanishing gradient* problem that kept deep networks untrainable for years.

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
# ## The flow, in equations
#
# Number the layers $l = 1, \dots, L$. Write $a^{(0)} = X$ for the input batch (shape $N \times
# D$), $W^{(l)}$ and $b^{(l)}$ for the weights and bias of layer $l$, and $\phi$ for the
# activation of the hidden layers. The **forward pass** alternates an affine map and an
# activation:
#
# $$
# z^{(l)} = a^{(l-1)} W^{(l)} + b^{(l)}, \qquad a^{(l)} = \phi\big(z^{(l)}\big), \qquad
# l = 1, \dots, L-1,
# $$
#
# and ends with logits $z^{(L)} = a^{(L-1)} W^{(L)} + b^{(L)}$, turned into a loss by softmax
# cross-entropy (chapter 7): with $P = \operatorname{softmax}(z^{(L)})$ and one-hot targets $Y$,
#
# $$
# \mathcal{L} = -\frac{1}{N} \sum_{n=1}^{N} \sum_{k} Y_{nk} \log P_{nk}.
# $$
#
# For the **backward pass** name the gradient of the loss with respect to each pre-activation,
# $\delta^{(l)} = \partial \mathcal{L} / \partial z^{(l)}$ (shape $N \times d_l$). Chapter 7
# derived its value at the top:
#
# $$
# \delta^{(L)} = \frac{1}{N}\,(P - Y).
# $$
#
# Going down one layer takes two steps of the chain rule. Since $z^{(l)} = a^{(l-1)} W^{(l)} +
# b^{(l)}$ is linear in $a^{(l-1)}$, the gradient with respect to the previous activation is
# $\delta^{(l)} W^{(l)\top}$; since $a^{(l-1)} = \phi(z^{(l-1)})$ acts elementwise, we multiply
# elementwise by $\phi'$:
#
# $$
# \delta^{(l-1)} = \big(\delta^{(l)}\, W^{(l)\top}\big) \odot \phi'\big(z^{(l-1)}\big).
# $$
#
# The parameter gradients of layer $l$ come out of the same linear map (chapter 8):
#
# $$
# \frac{\partial \mathcal{L}}{\partial W^{(l)}} = a^{(l-1)\top}\, \delta^{(l)}, \qquad
# \frac{\partial \mathcal{L}}{\partial b^{(l)}} = \sum_{n} \delta^{(l)}_{n,:}.
# $$
#
# And the **update** is a gradient step with learning rate $\eta$ on every parameter:
# $W^{(l)} \leftarrow W^{(l)} - \eta\, \partial \mathcal{L} / \partial W^{(l)}$, and the same
# for $b^{(l)}$.
#
# ## The flow, in code
#
# Here are those equations as they stand, for ReLU hidden layers
# ($\phi(z) = \max(z, 0)$, $\phi'(z) = [z > 0]$). Each function is a few lines; the forward
# pass keeps a *cache* of what the backward pass needs: each layer's input $a^{(l-1)}$ and
# pre-activation $z^{(l)}$.


# %%
def init_network(sizes, rng):
    """He-normal weights (chapter 11) and zero biases for layers of the given widths."""
    return [
        (rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)), np.zeros(fan_out))
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]


def forward(params, X):
    """Return the logits and the cache [(a_prev, z), ...] of every layer."""
    cache, a = [], X
    for l, (W, b) in enumerate(params):
        z = a @ W + b  # (N, d_{l-1}) -> (N, d_l)
        cache.append((a, z))
        a = np.maximum(z, 0.0) if l < len(params) - 1 else z
    return a, cache


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy and delta_L = (P - Y) / N, for integer labels y."""
    N = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)  # stable: exp never overflows
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    delta = np.exp(log_P)
    delta[np.arange(N), y] -= 1.0
    return -log_P[np.arange(N), y].mean(), delta / N


def backward(params, cache, delta):
    """From delta_L, return [(dL/dW, dL/db), ...] for every layer, first layer first."""
    grads = []
    for l in reversed(range(len(params))):
        a_prev, z = cache[l]
        if l < len(params) - 1:  # hidden layer: through ReLU'
            delta = delta * (z > 0)
        grads.append((a_prev.T @ delta, delta.sum(axis=0)))
        delta = delta @ params[l][0].T  # (N, d_l) -> (N, d_{l-1})
    return grads[::-1]


def update(params, grads, learning_rate):
    return [
        (W - learning_rate * dW, b - learning_rate * db) for (W, b), (dW, db) in zip(params, grads)
    ]


# %% [markdown]
# That is the whole algorithm. Let us train it on the 8x8 handwritten digits shipped with
# `nn101` (1,797 images of 64 pixels, ten classes), with five hidden layers of 64 units.

# %%
train_set, test_set = nn101.data.load_digits(dtype=np.float64)  # pixels scaled to [0, 1]
X_train, y_train = train_set.inputs, train_set.y
X_test, y_test = test_set.inputs, test_set.y
print("train", X_train.shape, "test", X_test.shape, "classes", np.unique(y_train))

# %%
sizes = [64, 64, 64, 64, 64, 64, 10]  # five hidden layers
rng = np.random.default_rng(1)
params = init_network(sizes, rng)
losses = []
for _ in range(15):
    shuffled = rng.permutation(len(X_train))
    for start in range(0, len(X_train), 32):
        batch = shuffled[start : start + 32]
        logits, cache = forward(params, X_train[batch])
        loss, delta = softmax_cross_entropy(logits, y_train[batch])
        params = update(params, backward(params, cache, delta), learning_rate=0.05)
        losses.append(loss)
test_accuracy = (forward(params, X_test)[0].argmax(axis=1) == y_test).mean()
print(f"after 15 epochs: last batch loss {losses[-1]:.3f}, test accuracy {test_accuracy:.3f}")

# %% [markdown]
# ## The same network in `nn101`
#
# In the library each equation lives in its own layer: `Dense` is $z = aW + b$, `ReLU` is
# $\phi$, and `Sequential` chains them. Its forward pass calls each layer in turn; its backward
# pass walks the layers in reverse, handing each the gradient with respect to its output —
# exactly the loop in `backward` above, with the ReLU factor moved into the `ReLU` layer.

# %%
show(nn101.Sequential.forward)
show(nn101.Sequential.backward)
show(nn101.ReLU.forward)
show(nn101.ReLU.backward)

# %% [markdown]
# We build the same architecture, copy our hand-written network's weights into it, and check
# that one backward pass gives the same gradients in every layer (float64 on both sides).


# %%
def build_deep(activation, *, init, rng, dtype=np.float32, widths=(64, 64, 64, 64, 64, 64, 10)):
    """Dense -> activation, five times, then a Dense that outputs logits."""
    layers = []
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1]):
        layers += [
            nn101.Dense(fan_in, fan_out, rng=rng, dtype=dtype, weight_init=init),
            activation(),
        ]
    layers.append(nn101.Dense(widths[-2], widths[-1], rng=rng, dtype=dtype, weight_init=init))
    return nn101.Sequential(*layers)


def dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, nn101.Dense)]


model = build_deep(nn101.ReLU, init="he_normal", rng=np.random.default_rng(2), dtype=np.float64)
for layer, (W, b) in zip(dense_layers(model), params):
    layer.weight.value[...] = W
    layer.bias.value[...] = b

X_batch, y_batch = X_train[:32], y_train[:32]
loss_fn = nn101.SoftmaxCrossEntropy()
model.zero_grad()
library_loss = loss_fn(model.forward(X_batch, training=True), y_batch)
model.backward(loss_fn.backward())

logits, cache = forward(params, X_batch)
our_loss, delta = softmax_cross_entropy(logits, y_batch)
our_grads = backward(params, cache, delta)
worst = max(
    np.abs(layer.weight.grad - dW).max() for layer, (dW, _) in zip(dense_layers(model), our_grads)
)
print(
    f"loss: ours {our_loss:.12f}, nn101 {library_loss:.12f}; worst weight-gradient gap {worst:.1e}"
)
assert abs(our_loss - library_loss) < 1e-12 and worst < 1e-12

# %% [markdown]
# ## Vanishing gradients
#
# Take norms in the backward recursion. Each step down multiplies $\delta$ by $W^{(l)\top}$ and
# then elementwise by $\phi'(z^{(l-1)})$, so roughly
#
# $$
# \big\|\delta^{(l-1)}\big\| \approx \big\|\delta^{(l)}\big\| \cdot
# \underbrace{\sqrt{d_l\, \operatorname{Var}(W^{(l)})}}_{\text{weights}} \cdot
# \underbrace{\sqrt{\mathbb{E}\big[\phi'(z)^2\big]}}_{\text{activation}} .
# $$
#
# Compounded over $L$ layers, the gradient at the bottom is the gradient at the top times a
# product of $L$ such factors: if each is below 1 the product vanishes exponentially, if above 1
# it explodes.
#
# * **Sigmoid.** $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ is at most $1/4$ (at $z = 0$) and
#   smaller everywhere else. With Glorot weights the weight factor is about 1, so each sigmoid
#   layer shrinks the gradient by a factor of four or more: five hidden layers cost about
#   $4^5 \approx 10^3$.
# * **ReLU.** $\phi'(z) \in \{0, 1\}$: about half the units pass the gradient through untouched,
#   so $\mathbb{E}[\phi'^2] = 1/2$, and He initialization, $\operatorname{Var}(W) = 2/n_{\text{in}}$, makes
#   the weight factor $\sqrt{2}$: the product is 1 and the gradient keeps its size.
#
# The consequence of a vanishing gradient is that the *first* layers, the ones that see the raw
# pixels, barely learn: every update they receive is a thousand times smaller than the last
# layer's. Let us measure $\|\partial \mathcal{L}/\partial W^{(l)}\|$ for every layer of the two
# networks at initialization, on a batch of 256 training digits, and then train both with the
# same plain SGD for 20 epochs.


# %%
def layer_gradient_norms(model, X, y):
    """The Frobenius norm of dL/dW for every Dense layer, input side first."""
    model.zero_grad()
    loss_fn = nn101.SoftmaxCrossEntropy()
    loss_fn(model.forward(X, training=True), y)
    model.backward(loss_fn.backward())
    return np.array([np.linalg.norm(layer.weight.grad) for layer in dense_layers(model)])


X32, X_test32 = X_train.astype(np.float32), X_test.astype(np.float32)
setups = {
    "sigmoid (Glorot)": (nn101.Sigmoid, "glorot_uniform"),
    "ReLU (He)": (nn101.ReLU, "he_normal"),
}
norms_at_init, histories = {}, {}
for name, (activation, init) in setups.items():
    net = build_deep(activation, init=init, rng=np.random.default_rng(3))
    norms_at_init[name] = layer_gradient_norms(net, X32[:256], y_train[:256])
    optimizer = nn101.SGD(net.parameters(), learning_rate=0.05)
    histories[name] = net.fit(
        X32,
        y_train,
        epochs=20,
        batch_size=32,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=(X_test32, y_test),
        rng=np.random.default_rng(4),
        verbose=0,
    ).history
    print(
        f"{name:17s} gradient norm per layer at init:",
        np.array2string(norms_at_init[name], precision=4),
        f"| ratio first/last {norms_at_init[name][0] / norms_at_init[name][-1]:.1e}",
    )

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
layer_numbers = np.arange(1, len(sizes))
for name in setups:
    left.semilogy(layer_numbers, norms_at_init[name], "o-", label=name)
    right.plot(np.arange(1, 21), histories[name]["val_accuracy"], label=name)
left.set(
    xlabel="layer (1 = next to the input)",
    ylabel=r"$\|\partial \mathcal{L} / \partial W^{(l)}\|$",
    title="Gradient reaching each layer, at initialization",
    xticks=layer_numbers,
)
right.set(
    xlabel="epoch",
    ylabel="validation accuracy",
    ylim=(0, 1),
    title="Same SGD, same learning rate, 20 epochs",
)
left.legend()
right.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The left panel is the vanishing gradient in one picture: with sigmoid the gradient falls by
# roughly a factor of four per layer on its way down, so the layer next to the input gets
# orders of magnitude less signal than the output layer. With ReLU and He initialization the
# norms stay within a small factor of each other. The right panel shows the consequence: with
# the same optimizer and learning rate the ReLU network learns the digits within a few epochs,
# while the sigmoid network stalls on a plateau, near chance, for a long time.
#
# The cures for vanishing gradients are the subject of the next chapters and of modern
# architectures: non-saturating activations (ReLU and its relatives), variance-preserving
# initialization (chapter 11), adaptive optimizers that rescale each parameter's step
# (chapter 15), normalization layers that keep pre-activations near the sensitive region of
# the activation (chapter 16), and — beyond this book — residual connections, which add an
# identity path whose derivative is exactly 1.

# %% [markdown]
# ## PyTorch cross-check
#
# The same five-hidden-layer sigmoid network in PyTorch (float64), with our weights: the loss
# and every layer's weight gradient must agree. PyTorch's `Linear` stores $W^\top$, hence the
# transposes.

# %%
import torch

net = build_deep(
    nn101.Sigmoid, init="glorot_uniform", rng=np.random.default_rng(5), dtype=np.float64
)
ours = layer_gradient_norms(net, X_train[:64], y_train[:64])
torch_layers = []
for i, layer in enumerate(dense_layers(net)):
    linear = torch.nn.Linear(*layer.weight.value.shape, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.weight.value.T))
        linear.bias.copy_(torch.from_numpy(layer.bias.value))
    torch_layers += [linear] + ([torch.nn.Sigmoid()] if i < 5 else [])
torch_net = torch.nn.Sequential(*torch_layers)
torch_loss = torch.nn.functional.cross_entropy(
    torch_net(torch.from_numpy(X_train[:64])), torch.from_numpy(y_train[:64]).long()
)
torch_loss.backward()
for layer, linear in zip(dense_layers(net), torch_net[::2]):
    np.testing.assert_allclose(
        layer.weight.grad, linear.weight.grad.numpy().T, rtol=1e-9, atol=1e-14
    )
print("per-layer gradient norms agree with PyTorch:", np.array2string(ours, precision=6))

# %% [markdown]
# ## Summary
#
# * A deep network is a stack of layers $a^{(l)} = \phi(a^{(l-1)} W^{(l)} + b^{(l)})$; the
#   forward pass is one loop up the stack, the backward pass one loop down, and each layer's
#   error signal is $\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)\top}) \odot \phi'(z^{(l)})$.
# * The gradient at the bottom is the gradient at the top times a product of one factor per
#   layer; with sigmoids each factor carries a $\sigma' \le \tfrac14$, and the gradient
#   **vanishes** exponentially with depth.
# * ReLU with He initialization keeps the factors near 1, so all layers learn at comparable
#   speeds.
# * nn101's `Sequential` is exactly the two loops; PyTorch computes the same gradients.
#
# ## Exercises
#
# **Exercise 1.** Add five more hidden layers (ten in all) to both networks and redraw the left
# panel. By what factor per layer does the sigmoid gradient shrink? Compare with the bound
# $\sigma' \le 1/4$.
#
# <details><summary>Solution</summary>
#
# The sigmoid network's gradient norm falls by a roughly constant factor per layer, at least
# the 4 that the bound $\sigma' \le \tfrac14$ gives when the weights preserve the backward
# signal's scale (as Glorot initialization roughly does): ten layers lose several orders of
# magnitude. The ReLU network's gradients stay within a small factor of each other.
#
# </details>
#
# **Exercise 2.** Give the sigmoid network He initialization instead of Glorot. Does the gradient
# at the first layer get bigger? Does training get faster? Explain with the formula above.
#
# <details><summary>Solution</summary>
#
# Somewhat bigger: larger weights multiply the backward signal by a larger factor. But they
# also push more pre-activations into the sigmoid's flat tails, where $\sigma'$ is far below
# $\tfrac14$, so the product per layer stays well below 1. Training is not much faster; the
# vanishing comes from $\sigma'$ and cannot be initialized away.
#
# </details>
#
# **Exercise 3.** Use `Tanh` (Glorot) instead of sigmoid. $\tanh'(0) = 1$: how do the gradient
# norms change, and why does tanh suffer less than the sigmoid?
#
# <details><summary>Solution</summary>
#
# Near zero tanh's slope is 1, four times the sigmoid's best, and tanh's outputs are centred
# on zero, so the next layer's inputs are not all positive. The gradient norms decay much more
# slowly across layers, though still somewhat, since not every unit sits at $z = 0$.
#
# </details>
#
# **Exercise 4.** Modify `backward` to return $\lVert \delta^{(l)} \rVert$ as well as the weight
# gradients, and plot both across layers. Which one does the figure above really measure?
#
# <details><summary>Solution</summary>
#
# The weight gradient is $a^{(l-1)\top} \delta^{(l)}$: it is the error signal scaled by the
# layer's input. The figure shows the weight gradients, so it mixes the vanishing of
# $\delta^{(l)}$ with the size of the activations. For sigmoid layers, whose activations all lie
# in $(0, 1)$ and are mostly of order 0.5, the two curves fall at nearly the same rate.
#
# </details>
#
# ## Further reading
#
# * S. Hochreiter, *Untersuchungen zu dynamischen neuronalen Netzen*, diploma thesis (1991), and
#   Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient
#   descent is difficult", *IEEE Transactions on Neural Networks* 5 (1994): the vanishing
#   gradient problem.
# * M. Nielsen, *Neural Networks and Deep Learning*, chapter 5 (2015): why deep networks are
#   hard to train.
# * I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning* (2016), chapter 6: deep
#   feedforward networks.
