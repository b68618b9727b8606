# %% [markdown]
# # 8. Backpropagation
#
# Chapters 6 and 7 derived the gradient of a one-layer model by hand. A network with many
# layers needs the same derivation done mechanically, for any stack of layers, with no new
# algebra each time. That mechanism is **backpropagation**: the chain rule, applied from the
# loss backwards, one layer at a time, reusing what the forward pass computed.
#
# We build it in three steps: the chain rule for one neuron, with numbers; the matrix form for
# one layer acting on a whole batch; and the loop over any stack of layers. Each step is
# checked against finite differences with `nn101.gradcheck`, and the chapter ends by showing
# why this is the only practical way to compute gradients of large models.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np

import nn101
from nn101.functional import sigmoid
from nn101.gradcheck import check_layer, numerical_gradient

rng = np.random.default_rng(seed=8)

# %% [markdown]
# ## One neuron, by the chain rule
#
# A neuron with two inputs, a sigmoid and a squared-error loss against a target $t$:
#
# $$z = w_1 x_1 + w_2 x_2 + b, \qquad a = \sigma(z), \qquad L = \tfrac12 (a - t)^2.$$
#
# $L$ depends on $w_1$ only through $z$, and on $z$ only through $a$. The chain rule
# multiplies the derivatives along that path:
#
# $$\frac{\partial L}{\partial w_1}
#   = \frac{\partial L}{\partial a} \cdot \frac{\partial a}{\partial z} \cdot \frac{\partial z}{\partial w_1}
#   = (a - t) \cdot a(1 - a) \cdot x_1 .$$
#
# Notice the shape of the computation. The first two factors, $\delta = \partial L/\partial z
# = (a - t)\,a(1-a)$, are shared by every parameter and input that feeds into $z$:
#
# $$\frac{\partial L}{\partial w_j} = \delta\, x_j, \qquad \frac{\partial L}{\partial b} = \delta,
#   \qquad \frac{\partial L}{\partial x_j} = \delta\, w_j .$$
#
# Backpropagation is this observation made systematic: walk from the loss backwards, keep
# the gradient with respect to the current intermediate value (the **upstream gradient**), and
# at each step multiply it by the **local derivative** of that step. Every local derivative
# needs a value from the forward pass ($a$ for the sigmoid, $x$ for the weights), so the
# forward pass saves them.
#
# With numbers:

# %%
x = np.array([1.0, -2.0])
w = np.array([0.5, -0.3])
b, t = 0.1, 1.0

# forward, saving every intermediate value
z = x @ w + b
a = sigmoid(z)
L = 0.5 * (a - t) ** 2
print(f"forward:  z = {z:.4f}   a = {a:.4f}   L = {L:.6f}")

# backward: upstream gradient times local derivative, from the loss to the inputs
dL_da = a - t
dL_dz = dL_da * a * (1 - a)  # delta
dL_dw = dL_dz * x
dL_db = dL_dz
dL_dx = dL_dz * w
print(f"backward: dL/da = {dL_da:.4f}   dL/dz = {dL_dz:.4f}")
print("          dL/dw =", dL_dw, f"  dL/db = {dL_db:.6f}   dL/dx =", dL_dx)

# %% [markdown]
# To check it we need an independent way to compute a derivative. The centred finite
# difference
#
# $$\frac{\partial f}{\partial \theta_i} \approx
#   \frac{f(\theta + \varepsilon e_i) - f(\theta - \varepsilon e_i)}{2\varepsilon}$$
#
# needs nothing but the function itself. Its error is $O(\varepsilon^2)$ (the Taylor terms of
# odd order cancel), plus a rounding error of order $\epsilon_{\text{machine}}/\varepsilon$
# from subtracting two nearly equal numbers. `numerical_gradient` applies it to every entry
# of an array:

# %%
print(inspect.getsource(numerical_gradient))


# %%
def neuron_loss(w):
    return 0.5 * (sigmoid(x @ w + b) - t) ** 2


numeric = numerical_gradient(neuron_loss, w.copy())
print("chain rule:       ", dL_dw)
print("finite difference:", numeric)
assert np.allclose(numeric, dL_dw, rtol=1e-7, atol=1e-10)

# %% [markdown]
# ### How small should $\varepsilon$ be?
#
# The two error terms pull in opposite directions: truncation error $\approx C\varepsilon^2$
# falls as $\varepsilon$ shrinks, rounding error $\approx \epsilon_{\text{machine}} |f| / \varepsilon$
# grows. The total is smallest where they meet, near $\varepsilon \approx
# \epsilon_{\text{machine}}^{1/3} \approx 10^{-5}$ in float64. The one-sided difference
# $(f(\theta + \varepsilon) - f(\theta))/\varepsilon$ has truncation error $O(\varepsilon)$
# and is never as accurate.

# %%
epsilons = np.logspace(-13, -1, 49)
exact = dL_dw[0]
e0 = np.array([1.0, 0.0])
centred = [
    abs((neuron_loss(w + h * e0) - neuron_loss(w - h * e0)) / (2 * h) - exact) for h in epsilons
]
one_sided = [abs((neuron_loss(w + h * e0) - neuron_loss(w)) / h - exact) for h in epsilons]

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(epsilons, centred, "o-", ms=3, label="centred difference")
ax.loglog(epsilons, one_sided, "s-", ms=3, label="one-sided difference")
ax.loglog(epsilons, 1e-17 / epsilons, "k:", lw=1, label=r"rounding $\propto 1/\varepsilon$")
ax.loglog(epsilons, epsilons**2 * 0.05, "k--", lw=1, label=r"truncation $\propto \varepsilon^2$")
ax.set_xlabel(r"step $\varepsilon$")
ax.set_ylabel(r"$|$finite difference $-$ chain rule$|$")
ax.set_ylim(1e-18, 1e-1)
ax.legend(fontsize=8)
ax.set_title("Finite-difference error in float64")
plt.show()

# %% [markdown]
# ## One layer, matrix style
#
# A dense layer maps a batch $X \in \mathbb{R}^{N \times D}$ to $Y = XW + b \in
# \mathbb{R}^{N \times M}$. Somewhere downstream a scalar loss $L$ is computed from $Y$. The
# layer receives the upstream gradient $G = \partial L / \partial Y$, an $N \times M$ array,
# and must return $\partial L / \partial X$ and the gradients of $W$ and $b$.
#
# Write the layer entry by entry: $Y_{nm} = \sum_d X_{nd} W_{dm} + b_m$. The entry $W_{dm}$
# appears in every $Y_{nm}$ for $n = 1, \dots, N$ with coefficient $X_{nd}$, so the chain
# rule sums over those paths:
#
# $$\frac{\partial L}{\partial W_{dm}} = \sum_n \frac{\partial L}{\partial Y_{nm}}
#   \frac{\partial Y_{nm}}{\partial W_{dm}} = \sum_n X_{nd}\, G_{nm} = (X^\top G)_{dm}.$$
#
# In the same way $b_m$ appears in every $Y_{nm}$ with coefficient 1, and $X_{nd}$ appears
# in $Y_{n1}, \dots, Y_{nM}$ with coefficients $W_{d1}, \dots, W_{dM}$:
#
# $$\frac{\partial L}{\partial W} = X^\top G, \qquad
#   \frac{\partial L}{\partial b} = \sum_{n} G_{n,:}, \qquad
#   \frac{\partial L}{\partial X} = G W^\top .$$
#
# A useful sanity rule: a gradient has the shape of the thing it is the gradient of, and in
# each case there is only one way to multiply the available matrices to get that shape
# ($X^\top G$ is $D \times M$ like $W$; $G W^\top$ is $N \times D$ like $X$).
#
# An element-wise activation $A = \phi(Z)$ has no parameters, and each $A_{nm}$ depends only
# on $Z_{nm}$, so its backward pass is an element-wise product (written $\odot$):
#
# $$\frac{\partial L}{\partial Z} = G \odot \phi'(Z).$$
#
# That is all the calculus a multilayer network needs. Here is nn101's `Dense.backward`: the
# three formulas, plus the gradients of the optional weight penalties of chapter 13. It adds
# into `grad` rather than overwriting it, so that a parameter used twice collects both
# contributions:

# %%
print(inspect.getsource(nn101.Dense.backward))
print(inspect.getsource(nn101.Sigmoid))

# %% [markdown]
# ## Any stack of layers
#
# A network is a composition $a_0 = X,\ a_l = f_l(a_{l-1})$ for $l = 1, \dots, L$, followed by
# a loss $\ell(a_L)$. Each $f_l$ is a layer (a dense layer, an activation, anything with a
# forward and a backward). By the chain rule, the gradient with respect to $a_{l-1}$ is the
# gradient with respect to $a_l$ pushed back through $f_l$:
#
# $$g_L = \frac{\partial \ell}{\partial a_L}, \qquad
#   g_{l-1} = \frac{\partial \ell}{\partial a_{l-1}} = \Bigl(\frac{\partial a_l}{\partial a_{l-1}}\Bigr)^{\!\top} g_l
#   = f_l\text{.backward}(g_l),$$
#
# and on the way each layer uses $g_l$ and its saved input $a_{l-1}$ to fill its own parameter
# gradients. The $\top$ is the whole trick: we never form the Jacobian
# $\partial a_l / \partial a_{l-1}$ (for a layer of width 1000 on a batch of 100 it would have
# $10^{10}$ entries); each layer knows how to multiply a vector by its transpose directly, as
# $G W^\top$ and $G \odot \phi'(Z)$ do.
#
# So a whole network needs only two loops: forward through the layers in order, then
# backward through them in reverse. That is all `Sequential` does:

# %%
print(inspect.getsource(nn101.Sequential.forward))
print(inspect.getsource(nn101.Sequential.backward))

# %% [markdown]
# ## Checking layers with `check_layer`
#
# To check a layer's backward pass we need a scalar function of its output. Any fixed random
# array $U$ of the output's shape will do: with $L = \sum_{n,m} Y_{nm} U_{nm}$ the upstream
# gradient is exactly $\partial L / \partial Y = U$. So `check_layer` draws $U$, calls
# `backward(U)`, and compares the result, and every parameter's gradient, with centred finite
# differences of $L$, in float64. A random $U$ exercises every output at once, so one check
# covers the input and all parameters. For each of those arrays it computes the **relative**
# error $\lVert g - \hat g \rVert / (\lVert g \rVert + \lVert \hat g \rVert)$ between the
# backward pass $g$ and the finite differences $\hat g$, and returns the worst. Anything
# below about $10^{-7}$ means the formulas are right; a wrong formula typically gives
# $10^{-2}$ or more.

# %%
print(inspect.getsource(check_layer))

# %%
x_check = rng.normal(size=(5, 4))  # (N, D) in float64
cases = {
    "Dense(4, 3)": nn101.Dense(4, 3, dtype=np.float64, rng=rng),
    "Sigmoid()": nn101.Sigmoid(),
    "Tanh()": nn101.Tanh(),
    "ReLU()": nn101.ReLU(),
    "Softmax()": nn101.Softmax(),
    "Dense-Tanh-Dense-Sigmoid": nn101.Sequential(
        nn101.Dense(4, 6, dtype=np.float64, rng=rng),
        nn101.Tanh(),
        nn101.Dense(6, 2, dtype=np.float64, rng=rng),
        nn101.Sigmoid(),
    ),
}
for name, layer in cases.items():
    error = check_layer(layer, x_check, rng=rng)
    print(f"{name:28s} worst relative error {error:.1e}")
    assert error < 1e-7

# %% [markdown]
# A check is only worth something if it can fail. Here is a dense layer with a classic bug:
# its bias gradient averages over the batch instead of summing (the batch average belongs in
# the loss, not in the layer). Training with it would still "work", just with a wrongly scaled
# bias step, which is exactly the kind of error nobody notices by looking at a loss curve.


# %%
class DenseWithBiasBug(nn101.Dense):
    def backward(self, grad_output):
        self.weight.grad += self._x.T @ grad_output
        self.bias.grad += grad_output.mean(axis=0)  # wrong: should be .sum(axis=0)
        return grad_output @ self.weight.value.T


buggy = DenseWithBiasBug(4, 3, dtype=np.float64, rng=rng)
error = check_layer(buggy, x_check, rng=rng)
print(f"buggy layer: worst relative error {error:.2f}")
assert error > 1e-2

# %% [markdown]
# ## Experiment: why backpropagation and not finite differences?
#
# Finite differences need two forward passes *per parameter*. Backpropagation gets all the
# gradients from one forward and one backward pass, and the backward pass costs about as much
# as the forward one (each layer does one or two matrix products of the same size). For a
# model with $P$ parameters that is $2P$ forward passes against roughly three. We time both
# on a two-layer network of growing width.


# %%
def timed(function, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


x_batch = rng.normal(size=(32, 10))
labels = rng.integers(0, 3, size=32)
loss_fn = nn101.SoftmaxCrossEntropy()
sizes, t_backprop, t_numeric = [], [], []
for width in (2, 4, 8, 16, 32, 64):
    net = nn101.Sequential(
        nn101.Dense(10, width, dtype=np.float64, rng=rng),
        nn101.Tanh(),
        nn101.Dense(width, 3, dtype=np.float64, rng=rng),
    )

    def backprop(net=net):
        net.zero_grad()
        loss_fn.forward(net.forward(x_batch), labels)
        net.backward(loss_fn.backward())

    def finite_differences(net=net):
        for p in net.parameters():
            numerical_gradient(lambda value: loss_fn.forward(net.forward(x_batch), labels), p.value)

    sizes.append(net.num_parameters())
    t_backprop.append(timed(backprop, 20))
    t_numeric.append(timed(finite_differences, 1))

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.loglog(sizes, t_numeric, "o-", label="finite differences ($2P$ forward passes)")
ax.loglog(sizes, t_backprop, "s-", label="backpropagation (1 forward + 1 backward)")
ax.set_xlabel("number of parameters $P$")
ax.set_ylabel("seconds for the full gradient")
ax.legend(fontsize=8)
ax.set_title("Cost of one gradient")
plt.show()
print(f"at P = {sizes[-1]}: backprop is {t_numeric[-1] / t_backprop[-1]:.0f} times faster")

# %% [markdown]
# The finite-difference cost grows linearly with $P$; backpropagation's barely moves at these
# sizes (the matrix products are small and fixed overheads dominate). For the MNIST network of
# chapter 17, with about $10^5$ parameters, finite differences would be some $10^5$ times
# slower; for a modern language model with $10^{11}$ parameters they are out of the question.
# Finite differences remain what they are best at: an independent check on small inputs.

# %% [markdown]
# ## PyTorch cross-check
#
# PyTorch's autograd is the same reverse-mode algorithm, implemented independently. We copy the
# weights of a three-layer nn101 network into PyTorch (whose `Linear` stores the transpose of
# our `(in, out)` weight), run both on the same batch in float64, and compare every gradient.

# %%
import torch  # noqa: E402

net = nn101.Sequential(
    nn101.Dense(10, 16, dtype=np.float64, rng=rng),
    nn101.Tanh(),
    nn101.Dense(16, 8, dtype=np.float64, rng=rng),
    nn101.Sigmoid(),
    nn101.Dense(8, 3, dtype=np.float64, rng=rng),
)
net.zero_grad()
loss = loss_fn.forward(net.forward(x_batch), labels)
grad_x = net.backward(loss_fn.backward())

dense_layers = [p for p in net.parameters()]  # W1, b1, W2, b2, W3, b3
torch_params = [torch.tensor(p.value, requires_grad=True) for p in dense_layers]
x_t = torch.tensor(x_batch, requires_grad=True)
W1, b1, W2, b2, W3, b3 = torch_params
h = torch.tanh(x_t @ W1 + b1)
h = torch.sigmoid(h @ W2 + b2)
loss_t = torch.nn.functional.cross_entropy(h @ W3 + b3, torch.tensor(labels))
loss_t.backward()

assert abs(loss - loss_t.item()) < 1e-12
assert np.allclose(grad_x, x_t.grad.numpy(), rtol=0, atol=1e-10)
for ours, theirs in zip(dense_layers, torch_params, strict=True):
    assert np.allclose(ours.grad, theirs.grad.numpy(), rtol=0, atol=1e-10)
print("PyTorch agrees on the loss, the input gradient and all", len(torch_params), "parameters")

# %% [markdown]
# ## Exercises
#
# 1. Derive the backward pass of $Y = X W$ when the same $W$ is used twice,
#    $L = \ell(X W W)$. Why does it matter that `backward` *adds* into `grad`?
# 2. Write a layer `Square` with $y = x^2$ (forward and backward) and check it with
#    `check_layer`. Then break its backward on purpose in a way that `check_layer` does *not*
#    catch at $x = 0$. What does that teach about choosing test inputs?
# 3. In float32 the machine epsilon is about $10^{-7}$. Where is the best $\varepsilon$ for a
#    centred difference, and what relative error can a float32 gradient check reach? (This is
#    why gradient checks run in float64.)
# 4. Count the floating-point operations of the forward and backward pass of
#    `Dense(D, M)` on a batch of $N$. What is the ratio?
