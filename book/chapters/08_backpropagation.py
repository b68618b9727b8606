# %% [markdown]
# # 8. Backpropagation
#
# Chapters 6 and 7 derived the gradient of a one-layer model by hand. A network with many
# layers needs the same derivation done mechanically, for any stack of layers, with no new
# algebra each time. That mechanism is **backpropagation**: the chain rule, applied from the
# loss backwards, one layer at a time, reusing what the forward pass computed.
#
# We build it in four steps: the chain rule for one neuron, with numbers; a small automatic
# differentiator that records any computation on numbers as a graph and runs the chain rule
# backwards over it; the matrix form for one layer acting on a whole batch; and the loop over
# any stack of layers, which is how nn101 does it. Each step is checked against finite
# differences with `nn101.gradcheck`, and the chapter ends by showing why this is the only
# practical way to compute gradients of large models.

# %%
import inspect
import math
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import sigmoid
from nn101.gradcheck import check_layer, numerical_gradient

rng = np.random.default_rng(seed=8)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## One neuron, by the chain rule
#
# A neuron with two inputs, a sigmoid and a squared-error loss against a target $y$:
#
# $$z = x_1 w_1 + x_2 w_2 + b, \qquad a = \sigma(z), \qquad \mathcal{L} = \tfrac12 (a - y)^2.$$
#
# $\mathcal{L}$ depends on $w_1$ only through $z$, and on $z$ only through $a$. The chain rule
# multiplies the derivatives along that path:
#
# $$\frac{\partial \mathcal{L}}{\partial w_1}
#   = \frac{\partial \mathcal{L}}{\partial a} \cdot \frac{\partial a}{\partial z} \cdot \frac{\partial z}{\partial w_1}
#   = (a - y) \cdot a(1 - a) \cdot x_1 .$$
#
# Notice the shape of the computation. The first two factors, the **error signal**
# $\delta = \partial \mathcal{L}/\partial z = (a - y)\,a(1-a)$, are shared by every parameter
# and input that feeds into $z$:
#
# $$\frac{\partial \mathcal{L}}{\partial w_j} = \delta\, x_j, \qquad \frac{\partial \mathcal{L}}{\partial b} = \delta,
#   \qquad \frac{\partial \mathcal{L}}{\partial x_j} = \delta\, w_j .$$
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
b, y = 0.1, 1.0

# forward, saving every intermediate value
z = x @ w + b
a = sigmoid(z)
loss = 0.5 * (a - y) ** 2
print(f"forward:  z = {z:.4f}   a = {a:.4f}   loss = {loss:.6f}")

# backward: upstream gradient times local derivative, from the loss to the inputs
dL_da = a - y
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
show(numerical_gradient)


# %%
def neuron_loss(w):
    return 0.5 * (sigmoid(x @ w + b) - y) ** 2


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
# ## Backpropagation as an algorithm on a graph
#
# The derivation above was done by hand for one formula. To do it for *any* formula, record the
# computation as it happens. Every intermediate number becomes a node of a **computational
# graph** that remembers which operation made it and from which inputs (its **parents**). Each
# operation knows one thing about itself, its **local derivative**: for $u = p + q$,
# $\partial u / \partial p = \partial u / \partial q = 1$; for $u = p q$,
# $\partial u / \partial p = q$ and $\partial u / \partial q = p$; for $u = \tanh p$,
# $\partial u / \partial p = 1 - u^2$; for $u = e^p$, $\partial u / \partial p = u$; for
# $u = p^k$, $\partial u / \partial p = k p^{k-1}$.
#
# Backpropagation then needs no algebra at all:
#
# 1. set $\partial \mathcal{L} / \partial \mathcal{L} = 1$ on the output node;
# 2. visit the nodes in **reverse topological order** (every node after all the nodes computed
#    from it, so its gradient is complete when it is visited), and for each node $u$ and each
#    parent $p$ add $\frac{\partial \mathcal{L}}{\partial u} \cdot \frac{\partial u}{\partial p}$
#    to the parent's gradient.
#
# The gradients are *added*: a number used twice (an $x$ in $x \cdot x$, a weight shared by two
# layers) influences the loss along two paths, and the multivariable chain rule sums over paths.
# Here is the whole machine, a class `Value` wrapping one Python float:


# %%
class Value:
    """A number that remembers how it was computed, so that gradients can flow back to it."""

    def __init__(self, data, parents=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0  # d(output)/d(self), filled in by backward()
        self.parents = parents  # the Values this one was computed from
        self.op = op  # "+", "*", "tanh", "exp", "**k", or "" for an input
        self.label = label
        self.push_grad = lambda: None  # adds self.grad x local derivative into each parent

    def __repr__(self):
        return f"Value({self.label or self.op or 'const'}={self.data:.4f}, grad={self.grad:.4f})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def push_grad():
            self.grad += out.grad  # d(p + q)/dp = 1
            other.grad += out.grad  # d(p + q)/dq = 1

        out.push_grad = push_grad
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def push_grad():
            self.grad += other.data * out.grad  # d(p q)/dp = q
            other.grad += self.data * out.grad  # d(p q)/dq = p

        out.push_grad = push_grad
        return out

    def __pow__(self, k):  # k is a plain number
        out = Value(self.data**k, (self,), f"**{k}")

        def push_grad():
            self.grad += k * self.data ** (k - 1) * out.grad

        out.push_grad = push_grad
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def push_grad():
            self.grad += (1 - out.data**2) * out.grad

        out.push_grad = push_grad
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def push_grad():
            self.grad += out.data * out.grad

        out.push_grad = push_grad
        return out

    # the rest follows from the operations above
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def backward(self):
        """Fill in d(self)/d(node).grad for every node of the graph that produced self."""
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # outputs before the nodes they were computed from
            node.push_grad()


def topological_order(root):
    """Every node that `root` depends on, each after all of its parents (depth-first search)."""
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


# %% [markdown]
# The same neuron and loss as above, written with `Value`s. The sigmoid is built from the
# operations we have, $\sigma(z) = (1 + e^{-z})^{-1}$, so the graph is bigger than the
# formula: every elementary step is a node.

# %%
x1, x2 = Value(x[0], label="x1"), Value(x[1], label="x2")
w1, w2 = Value(w[0], label="w1"), Value(w[1], label="w2")
bias = Value(b, label="b")
z_node = x1 * w1 + x2 * w2 + bias
z_node.label = "z"
a_node = (1 + (-z_node).exp()) ** -1
a_node.label = "a"
loss_node = 0.5 * (a_node - y) ** 2
loss_node.label = "loss"
loss_node.backward()

print(f"{len(topological_order(loss_node))} nodes; loss = {loss_node.data:.6f}")
print("graph:     dL/dw =", [w1.grad, w2.grad], f"dL/db = {bias.grad:.6f}")
print("by hand:   dL/dw =", dL_dw.tolist(), f"dL/db = {dL_db:.6f}")
assert np.isclose(loss_node.data, loss)
assert np.allclose([w1.grad, w2.grad, bias.grad, x1.grad, x2.grad], [*dL_dw, dL_db, *dL_dx])


# %% [markdown]
# ### The graph, drawn
#
# Each box is one node: what made it, its value (forward pass, left to right) and its gradient
# (backward pass, right to left). Nodes are placed in columns by **depth**, the length of the
# longest path from an input (an input sits just before the node that uses it), so every edge
# runs left to right: reading the columns left to right is one valid topological order.


# %%
def draw_graph(root, ax):
    """Boxes for the nodes of root's graph, in columns by depth; arrows from parent to child."""
    order = topological_order(root)
    depth, children = {}, {}
    for node in order:  # parents come first, so their depth is known
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
        for parent in node.parents:
            children.setdefault(parent, []).append(node)
    for node in order:  # an input sits just left of the first node that uses it
        if not node.parents and node is not root:
            depth[node] = min(depth[child] for child in children[node]) - 1
    columns = {}
    for node in order:
        columns.setdefault(depth[node], []).append(node)
    position = {}
    for d, nodes in columns.items():
        for row, node in enumerate(nodes):
            position[node] = (d, row - (len(nodes) - 1) / 2)
    for node in order:
        for parent in node.parents:
            ax.annotate(
                "",
                xy=position[node],
                xytext=position[parent],
                arrowprops={"arrowstyle": "->", "color": "0.6", "shrinkA": 16, "shrinkB": 16},
            )
    for node in order:
        name = node.label or node.op or "const"
        title = f"{name} = {node.op}" if node.label and node.op else name
        colour = "#d0ebff" if not node.parents else "#fff3bf"
        ax.text(
            *position[node],
            f"{title}\n{node.data:.3f}\ngrad {node.grad:.3f}",
            ha="center",
            va="center",
            fontsize=7,
            bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.5"},
        )
    ax.set_xlim(min(depth.values()) - 0.6, max(depth.values()) + 0.6)
    rows = max(len(nodes) for nodes in columns.values())
    ax.set_ylim(-rows / 2 - 0.2, rows / 2 + 0.2)
    ax.axis("off")


fig, ax = plt.subplots(figsize=(15, 4.8))
draw_graph(loss_node, ax)
ax.set_title("The computational graph of one neuron and its loss (blue: inputs and constants)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the graph from the right: `loss` has gradient 1; the `**2` node receives
# $0.5 \cdot 1$; each `+` passes its gradient unchanged to both parents; each `*` passes it
# multiplied by the *other* factor's value. At the `exp` node the local derivative is the node's
# own value, and so on back to `w1`, `w2` and `b`, whose gradients are the numbers we derived by
# hand. Nothing in `Value.backward` knows what a neuron is: the same forty lines differentiate
# any formula built from these operations, which is the point of automatic differentiation.
#
# This is **reverse-mode automatic differentiation**, and it is what PyTorch's autograd does
# (chapter 3 used it): every tensor operation records a node, and `loss.backward()` walks the
# graph in reverse topological order. One backward pass gives the derivative of one output
# with respect to *every* input, at a cost of a small multiple of the forward pass.
#
# A network built from scalar `Value`s would work, but slowly: a Dense layer of 784 by 128
# weights on a batch of 128 would be some 13 million multiplication nodes, each a Python
# object. The rest of this chapter makes the nodes bigger. A whole layer becomes one node whose
# value is an array, and whose local derivative is applied as a matrix product.


# %% [markdown]
# ## One layer, matrix style
#
# A dense layer maps a batch $X \in \mathbb{R}^{N \times D}$ to $Y = XW + b \in
# \mathbb{R}^{N \times M}$. Somewhere downstream a scalar loss $\mathcal{L}$ is computed from $Y$. The
# layer receives the upstream gradient $G = \partial \mathcal{L} / \partial Y$, an $N \times M$ array
# (here $M$ is the layer's number of outputs),
# and must return $\partial \mathcal{L} / \partial X$ and the gradients of $W$ and $b$.
#
# Write the layer entry by entry: $Y_{nm} = \sum_d X_{nd} W_{dm} + b_m$. The entry $W_{dm}$
# appears in every $Y_{nm}$ for $n = 1, \dots, N$ with coefficient $X_{nd}$, so the chain
# rule sums over those paths:
#
# $$\frac{\partial \mathcal{L}}{\partial W_{dm}} = \sum_n \frac{\partial \mathcal{L}}{\partial Y_{nm}}
#   \frac{\partial Y_{nm}}{\partial W_{dm}} = \sum_n X_{nd}\, G_{nm} = (X^\top G)_{dm}.$$
#
# In the same way $b_m$ appears in every $Y_{nm}$ with coefficient 1, and $X_{nd}$ appears
# in $Y_{n1}, \dots, Y_{nM}$ with coefficients $W_{d1}, \dots, W_{dM}$:
#
# $$\frac{\partial \mathcal{L}}{\partial W} = X^\top G, \qquad
#   \frac{\partial \mathcal{L}}{\partial b} = \sum_{n} G_{n,:}, \qquad
#   \frac{\partial \mathcal{L}}{\partial X} = G W^\top .$$
#
# A useful sanity rule: a gradient has the shape of the thing it is the gradient of, and in
# each case there is only one way to multiply the available matrices to get that shape
# ($X^\top G$ is $D \times M$ like $W$; $G W^\top$ is $N \times D$ like $X$).
#
# An element-wise activation $A = \phi(Z)$ has no parameters, and each $A_{nm}$ depends only
# on $Z_{nm}$, so its backward pass is an element-wise product (written $\odot$):
#
# $$\frac{\partial \mathcal{L}}{\partial Z} = G \odot \phi'(Z).$$
#
# That is all the calculus a multilayer network needs. Here is nn101's `Dense.backward`: the
# three formulas, plus the gradients of the optional weight penalties of chapter 13. Like
# `Value`, it adds into `grad` rather than overwriting it, so that a parameter used twice
# collects both contributions. With `input_grad=False` it skips $G W^\top$: the first layer's
# input is the data, whose gradient nobody needs.

# %%
show(nn101.Dense.backward)

# %% [markdown]
# And the sigmoid layer: its forward pass saves its output $a$, because the local derivative
# $\sigma'(z) = a(1 - a)$ is cheapest to compute from it.

# %%
show(nn101.Sigmoid.forward)
show(nn101.Sigmoid.backward)

# %% [markdown]
# ## Any stack of layers
#
# A network is a composition $a^{(0)} = X,\ a^{(l)} = f_l(a^{(l-1)})$ for $l = 1, \dots, L$,
# followed by a loss $\mathcal{L}(a^{(L)})$. Each $f_l$ is a layer (a dense layer, an
# activation, anything with a forward and a backward). By the chain rule, the gradient with
# respect to $a^{(l-1)}$ is the gradient with respect to $a^{(l)}$ pushed back through $f_l$:
#
# $$G^{(L)} = \frac{\partial \mathcal{L}}{\partial a^{(L)}}, \qquad
#   G^{(l-1)} = \frac{\partial \mathcal{L}}{\partial a^{(l-1)}} = \Bigl(\frac{\partial a^{(l)}}{\partial a^{(l-1)}}\Bigr)^{\!\top} G^{(l)}
#   = f_l\text{.backward}(G^{(l)}),$$
#
# and on the way each layer uses $G^{(l)}$ and its saved input $a^{(l-1)}$ to fill its own
# parameter gradients. The $\top$ is the whole trick: we never form the Jacobian
# $J = \partial a^{(l)} / \partial a^{(l-1)}$ (for a layer of width 1000 on a batch of 100 it
# would have $10^{10}$ entries); each layer knows how to multiply a vector by its transpose
# directly, as $G W^\top$ and $G \odot \phi'(Z)$ do.
#
# **How this relates to the graph of `Value`s.** A `Sequential` network is a computational
# graph whose nodes are whole layers and whose edges carry arrays. The graph is a chain, so its
# reverse topological order is simply the list of layers reversed, and no graph search is
# needed. Each layer's `backward` is the `push_grad` of its node, with the local derivative
# applied as a matrix product instead of a multiplication of two floats; `Parameter.grad +=`
# is `self.grad +=`. And where `Value` records the graph while computing, a layer's `forward`
# saves exactly what its `backward` will need ($X$ for Dense, $a$ for the sigmoid).
#
# So a whole network needs only two loops: forward through the layers in order, then
# backward through them in reverse. That is all `Sequential` does:

# %%
show(nn101.Sequential.forward)
show(nn101.Sequential.backward)

# %% [markdown]
# ## Checking layers with `check_layer`
#
# To check a layer's backward pass we need a scalar function of its output. Any fixed random
# array $U$ of the output's shape will do: with $\mathcal{L} = \sum_{n,m} Y_{nm} U_{nm}$ the upstream
# gradient is exactly $\partial \mathcal{L} / \partial Y = U$. So `check_layer` draws $U$, calls
# `backward(U)`, and compares the result, and every parameter's gradient, with centred finite
# differences of $\mathcal{L}$, in float64. A random $U$ exercises every output at once, so one check
# covers the input and all parameters. For each of those arrays it computes the **relative**
# error $\lVert g - \hat g \rVert / (\lVert g \rVert + \lVert \hat g \rVert)$ between the
# backward pass $g$ and the finite differences $\hat g$, and returns the worst. Anything
# below about $10^{-7}$ means the formulas are right; a wrong formula typically gives
# $10^{-2}$ or more.

# %%
show(check_layer)

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
# A check is only worth something if it can fail. Here is a dense layer of our own, written
# against nn101's layer contract (`forward` saves what `backward` needs; `backward` adds into
# the parameters' `grad` and returns $\partial \mathcal{L} / \partial X$), with a classic bug:
# its bias gradient averages over the batch instead of summing (the batch average belongs in
# the loss, not in the layer). Training with it would still "work", just with a wrongly scaled
# bias step, which is exactly the kind of error nobody notices by looking at a loss curve.


# %%
class DenseWithBiasBug(nn101.Layer):
    """Y = X W + b, with a wrong bias gradient."""

    def __init__(self, in_features, out_features, rng):
        self.weight = nn101.Parameter(rng.normal(size=(in_features, out_features)))
        self.bias = nn101.Parameter(np.zeros(out_features))

    def forward(self, x, *, training=False):
        self.x = x  # saved for backward
        return x @ self.weight.value + self.bias.value

    def backward(self, grad_output, *, input_grad=True):
        self.weight.grad += self.x.T @ grad_output
        self.bias.grad += grad_output.mean(axis=0)  # wrong: should be .sum(axis=0)
        return grad_output @ self.weight.value.T


buggy = DenseWithBiasBug(4, 3, rng)
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
# chapter 17, with 235,914 parameters, finite differences would need about half a million
# forward passes per gradient, some $10^5$ times the cost of backpropagation; for a modern
# language model with $10^{11}$ parameters they are out of the question.
# Finite differences remain what they are best at: an independent check on small inputs.

# %% [markdown]
# ## PyTorch cross-check
#
# PyTorch's autograd is the same reverse-mode algorithm, implemented independently. First the
# scalar graph: the neuron of the `Value` section, written with PyTorch scalars, must give the
# same gradients as our forty lines.

# %%
import torch

w_t = torch.tensor(w, requires_grad=True)
b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
x_t = torch.tensor(x, requires_grad=True)
loss_t = 0.5 * (torch.sigmoid(x_t @ w_t + b_t) - y) ** 2
loss_t.backward()
assert np.allclose(w_t.grad.numpy(), [w1.grad, w2.grad], rtol=1e-12)
assert np.isclose(b_t.grad.item(), bias.grad, rtol=1e-12)
assert np.allclose(x_t.grad.numpy(), [x1.grad, x2.grad], rtol=1e-12)
print("Value and torch.autograd agree on the neuron's five gradients")

# %% [markdown]
# Then a three-layer network, built side by side: nn101's `Sequential` of `Dense` layers and
# PyTorch's `nn.Sequential` of `nn.Linear` layers (which store the transpose of our
# `(in, out)` weight), with the same weights, run on the same batch in float64. The loss, the
# input gradient and every parameter gradient must agree.

# %%
net = nn101.Sequential(
    nn101.Dense(10, 16, dtype=np.float64, rng=rng),
    nn101.Tanh(),
    nn101.Dense(16, 8, dtype=np.float64, rng=rng),
    nn101.Sigmoid(),
    nn101.Dense(8, 3, dtype=np.float64, rng=rng),
)
torch_net = torch.nn.Sequential(
    torch.nn.Linear(10, 16, dtype=torch.float64),
    torch.nn.Tanh(),
    torch.nn.Linear(16, 8, dtype=torch.float64),
    torch.nn.Sigmoid(),
    torch.nn.Linear(8, 3, dtype=torch.float64),
)
ours_dense = [layer for layer in net.layers if isinstance(layer, nn101.Dense)]
theirs_linear = [module for module in torch_net if isinstance(module, torch.nn.Linear)]
with torch.no_grad():
    for dense, linear in zip(ours_dense, theirs_linear, strict=True):
        linear.weight.copy_(torch.from_numpy(dense.weight.value.T))  # (out, in) = Wᵀ
        linear.bias.copy_(torch.from_numpy(dense.bias.value))

net.zero_grad()  # nn101: forward, loss, backward
loss = loss_fn(net.forward(x_batch), labels)
grad_x = net.backward(loss_fn.backward())

x_t = torch.tensor(x_batch, requires_grad=True)  # PyTorch: the same three steps
loss_t = torch.nn.functional.cross_entropy(torch_net(x_t), torch.from_numpy(labels))
loss_t.backward()

assert abs(loss - loss_t.item()) < 1e-12
assert np.allclose(grad_x, x_t.grad.numpy(), rtol=0, atol=1e-10)
for dense, linear in zip(ours_dense, theirs_linear, strict=True):
    assert np.allclose(dense.weight.grad, linear.weight.grad.numpy().T, rtol=0, atol=1e-10)
    assert np.allclose(dense.bias.grad, linear.bias.grad.numpy(), rtol=0, atol=1e-10)
print("PyTorch agrees on the loss, the input gradient and all six parameter gradients")

# %% [markdown]
# ## Summary
#
# * Backpropagation is the chain rule applied from the loss backwards: keep the gradient with
#   respect to the current value, multiply it by each step's local derivative, and **add** the
#   contributions of every path.
# * On a computational graph of scalars (`Value`) it is a short, general algorithm: record the
#   operations, sort the nodes topologically, visit them in reverse.
# * For a layer $Y = XW + b$ with upstream gradient $G$: $\partial \mathcal{L}/\partial W =
#   X^\top G$, $\partial \mathcal{L}/\partial b = \sum_n G_{n,:}$,
#   $\partial \mathcal{L}/\partial X = G W^\top$; an elementwise activation multiplies by
#   $\phi'(Z)$. nn101's layers are the nodes of a chain, and `Sequential.backward` is the
#   reverse loop.
# * Finite differences check a backward pass (in float64, with $\epsilon \approx 10^{-5}$ to
#   $10^{-6}$), but cost two forward passes per parameter; backpropagation costs about one.
#
# ## Exercises
#
# **Exercise 1.** Derive the backward pass of $Y = X W$ when the same $W$ is used twice,
# $\mathcal{L} = \ell(X W W)$. Why does it matter that `backward` *adds* into `grad`?
# *Hint:* give the two uses names, $W_a$ and $W_b$, differentiate, then set them equal.
#
# <details><summary>Solution</summary>
#
# With $U = X W_a$ and $Y = U W_b$ and $G = \partial \mathcal{L} / \partial Y$:
# $\partial \mathcal{L} / \partial W_b = U^\top G$ and $\partial \mathcal{L} / \partial W_a =
# X^\top (G W_b^\top)$. Since $W_a = W_b = W$ is one parameter, its gradient is the **sum** of
# the two. If each use *assigned* its gradient, the second would overwrite the first and the
# result would be wrong; adding makes the order irrelevant. The `Value` graph does the same for
# a number used twice.
#
# </details>
#
# **Exercise 2.** Write a layer `Square` with $y = x^2$ (forward and backward) and check it with
# `check_layer`. Then break its backward on purpose in a way that `check_layer` does *not*
# catch at $x = 0$. *Hint:* which wrong derivative agrees with $2x$ at $x = 0$?
#
# <details><summary>Solution</summary>
#
# The cell below writes the layer and checks it. A backward that returns $2x^3$ (or $2x + x^2$,
# or $0$) agrees with $2x$ at $x = 0$, so a check on $x = 0$ passes while the layer is wrong
# everywhere else. Test inputs must be random and away from special points (0, 1, ties in a max).
#
# </details>


# %% tags=["solution"]
# Solution to exercise 2
class Square(nn101.Layer):
    def forward(self, x, *, training=False):
        self.x = x  # saved for backward
        return x**2

    def backward(self, grad_output, *, input_grad=True):
        return grad_output * 2 * self.x


class WrongSquare(Square):
    def backward(self, grad_output, *, input_grad=True):
        return grad_output * 2 * self.x**3  # equals 2x only at x = 0 (and ±1)


x_random = rng.normal(size=(4, 3))
assert check_layer(Square(), x_random, rng=rng) < 1e-7
assert check_layer(WrongSquare(), np.zeros((4, 3)), rng=rng) < 1e-7  # the bug goes unseen
assert check_layer(WrongSquare(), x_random, rng=rng) > 1e-2  # random inputs catch it

# %% [markdown]
# **Exercise 3.** Add a `relu` method to `Value` and use it to compute the gradient of
# $\mathcal{L} = (\operatorname{ReLU}(x_1 w_1 + x_2 w_2 + b) - y)^2$. Check the result against
# PyTorch or finite differences. *Hint:* the local derivative is $[p > 0]$.
#
# <details><summary>Solution</summary>
#
# In the cell below; the gradient of every input agrees with a centred finite difference.
#
# </details>


# %% tags=["solution"]
# Solution to exercise 3
def relu(self):
    out = Value(max(self.data, 0.0), (self,), "relu")

    def push_grad():
        self.grad += (self.data > 0) * out.grad

    out.push_grad = push_grad
    return out


Value.relu = relu


def relu_neuron_loss(x1, x2, w1, w2, b, y):
    return ((x1 * w1 + x2 * w2 + b).relu() - y) ** 2


numbers = [0.7, -1.2, 0.9, 0.4, 0.3, 0.2]  # x1, x2, w1, w2, b, y
nodes = [Value(v) for v in numbers]
relu_neuron_loss(*nodes).backward()
for i, node in enumerate(nodes):
    up, down = list(numbers), list(numbers)
    up[i] += 1e-6
    down[i] -= 1e-6
    loss_up = relu_neuron_loss(*map(Value, up)).data
    loss_down = relu_neuron_loss(*map(Value, down)).data
    numeric = (loss_up - loss_down) / 2e-6
    assert abs(node.grad - numeric) < 1e-6, (i, node.grad, numeric)
print("ReLU gradients:", [round(node.grad, 6) for node in nodes])

# %% [markdown]
# **Exercise 4.** In float32 the machine epsilon is about $10^{-7}$. Where is the best
# $\epsilon$ for a centred difference, and what relative error can a float32 gradient check
# reach? *Hint:* balance $\epsilon^2$ against $10^{-7}/\epsilon$.
#
# <details><summary>Solution</summary>
#
# The total error $c\,\epsilon^2 + 10^{-7}/\epsilon$ is smallest near $\epsilon \approx
# (10^{-7})^{1/3} \approx 5 \cdot 10^{-3}$, where both terms are about $(10^{-7})^{2/3} \approx
# 2 \cdot 10^{-5}$. So a float32 check cannot do better than a relative error of about
# $10^{-5}$ to $10^{-4}$, too coarse to tell a small bug from rounding. In float64 the same
# reasoning gives about $10^{-10}$, which is why gradient checks run in float64.
#
# </details>
#
# **Exercise 5.** Count the floating-point operations of the forward and backward pass of
# `Dense(D, M)` on a batch of $N$. What is the ratio? *Hint:* a product of an $(a, b)$ and a
# $(b, c)$ matrix takes $2abc$ operations.
#
# <details><summary>Solution</summary>
#
# Forward: $XW$ is $2NDM$ (plus $NM$ for the bias). Backward: $X^\top G$ is $2DNM$ and
# $G W^\top$ is $2NMD$ (plus $NM$ for the bias sum). The backward pass costs twice the forward
# pass, or the same when `input_grad=False` skips $G W^\top$ for the first layer.
#
# </details>
#
# ## Further reading
#
# * D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations by
#   back-propagating errors", *Nature* 323 (1986): the paper that made backpropagation the way
#   to train networks with hidden layers.
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul and J. M. Siskind, "Automatic differentiation
#   in machine learning: a survey", *Journal of Machine Learning Research* 18 (2018): forward
#   and reverse mode, and how frameworks implement them.
# * A. Griewank and A. Walther, *Evaluating Derivatives* (2nd ed., 2008): the reference on
#   automatic differentiation, including its cost guarantees.
# * M. Nielsen, *Neural Networks and Deep Learning*, chapter 2 (2015): the four equations of
#   backpropagation, derived for a fully connected network.
