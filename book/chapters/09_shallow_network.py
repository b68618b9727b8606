# %% [markdown]
# # 9. A shallow network
#
# Logistic and softmax regression draw straight lines: the boundary between two classes is
# where two affine scores are equal, a hyperplane. Many problems are not like that. This
# chapter shows the smallest problem a linear model cannot solve, adds **one hidden layer**
# between the input and the output, and watches the network bend the boundary to fit the
# data. Along the way we meet the pieces of a real training run: a `Dataset`, a train/test
# split, mini-batches, and `Sequential.fit`.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=9)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## What a line cannot do: XOR
#
# The four points $(0,0), (0,1), (1,0), (1,1)$ with labels $0, 1, 1, 0$: the label is 1 when
# exactly one coordinate is 1, the **exclusive or**. Suppose a linear classifier
# $\hat y = [w_1 x_1 + w_2 x_2 + b > 0]$ got all four right. Then
#
# $$\begin{aligned}
# (0,0) \mapsto 0: &\quad b \le 0, &\qquad (0,1) \mapsto 1: &\quad w_2 + b > 0,\\
# (1,1) \mapsto 0: &\quad w_1 + w_2 + b \le 0, &\qquad (1,0) \mapsto 1: &\quad w_1 + b > 0.
# \end{aligned}$$
#
# Adding the two inequalities on the right gives $w_1 + w_2 + 2b > 0$, so
# $w_1 + w_2 + b > -b \ge 0$, which contradicts the first inequality on the left. No line
# separates the two classes. Minsky and Papert's 1969 book *Perceptrons* made this
# limitation of single-layer networks famous, and it stalled the field for a decade.

# %% [markdown]
# ## One hidden layer
#
# The fix is to compute new features first and classify on those. A network with one hidden
# layer of $M$ units computes
#
# $$H = \phi(X W^{(1)} + b^{(1)}), \qquad Z = H W^{(2)} + b^{(2)},$$
#
# with $W^{(1)} \in \mathbb{R}^{D \times M}$, $W^{(2)} \in \mathbb{R}^{M \times K}$ and an element-wise
# nonlinearity $\phi$ (ReLU, tanh, ...; chapter 10). The output layer is still a linear
# classifier, but on the hidden features $H$, which the network learns. The whole model is
# trained exactly like softmax regression: forward, loss, backward (chapter 8), update.
#
# **Why $\phi$ is essential.** Without it the two layers collapse into one:
#
# $$(X W^{(1)} + b^{(1)}) W^{(2)} + b^{(2)} = X \underbrace{(W^{(1)} W^{(2)})}_{W} + \underbrace{(b^{(1)} W^{(2)} + b^{(2)})}_{b},$$
#
# an affine map again, with exactly the power of softmax regression. Stacking linear layers
# buys nothing; the nonlinearity between them is what lets the network bend space.

# %%
first, second = (
    nn101.Dense(2, 5, rng=rng, dtype=np.float64),
    nn101.Dense(5, 3, rng=rng, dtype=np.float64),
)
x_probe = rng.normal(size=(4, 2))
two_layers = second.forward(first.forward(x_probe))
W, b = (
    first.weight.value @ second.weight.value,
    first.bias.value @ second.weight.value + second.bias.value,
)
assert np.allclose(two_layers, x_probe @ W + b)
print(
    "two linear layers == one linear layer: max difference",
    np.abs(two_layers - (x_probe @ W + b)).max(),
)

# %% [markdown]
# ### XOR with two hidden ReLU units, by hand
#
# Two hidden units are enough. Take $h_1 = \operatorname{ReLU}(x_1 + x_2)$ and
# $h_2 = \operatorname{ReLU}(x_1 + x_2 - 1)$, and the output score $z = h_1 - 2 h_2$:
#
# | $x$ | $x_1 + x_2$ | $h_1$ | $h_2$ | $z = h_1 - 2h_2$ |
# |---|---|---|---|---|
# | (0, 0) | 0 | 0 | 0 | 0 |
# | (0, 1) | 1 | 1 | 0 | 1 |
# | (1, 0) | 1 | 1 | 0 | 1 |
# | (1, 1) | 2 | 2 | 1 | 0 |
#
# The hidden layer maps the four corners to $(0,0)$, $(1,0)$, $(1,0)$ and $(2,1)$: the two
# "one" points land on top of each other, and in the $(h_1, h_2)$ plane a straight line
# separates them from the others. We set those weights into nn101 layers and look at noisy
# XOR data before and after the hidden layer.

# %%
hidden = nn101.Dense(2, 2, dtype=np.float64, rng=rng)
hidden.weight.value[...] = [[1.0, 1.0], [1.0, 1.0]]  # (in=2, out=2): both units see x1 + x2
hidden.bias.value[...] = [0.0, -1.0]
output = nn101.Dense(2, 1, dtype=np.float64, rng=rng)
output.weight.value[...] = [[1.0], [-2.0]]
output.bias.value[...] = [-0.5]  # so that z > 0 exactly for the "one" corners
xor_net = nn101.Sequential(hidden, nn101.ReLU(), output)

corners, corner_labels = nn101.data.xor(4, noise=0.0)
print(
    "scores on the corners:",
    xor_net.forward(corners.astype(np.float64)).ravel(),
    "labels",
    corner_labels,
)

x_xor, y_xor = nn101.data.xor(200, noise=0.1, rng=rng, dtype=np.float64)
h_xor = nn101.ReLU().forward(hidden.forward(x_xor))  # (200, 2): the hidden features
accuracy = np.mean((xor_net.forward(x_xor)[:, 0] > 0) == (y_xor == 1))
print(f"accuracy on noisy XOR: {accuracy:.3f}")

fig, (ax_in, ax_hidden) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for ax, points, title in (
    (ax_in, x_xor, "input space $(x_1, x_2)$"),
    (ax_hidden, h_xor, "hidden space $(h_1, h_2)$"),
):
    ax.scatter(*points[y_xor == 0].T, s=10, c="tab:blue", label="label 0")
    ax.scatter(*points[y_xor == 1].T, s=10, c="tab:red", label="label 1")
    ax.set_title(title)
    ax.set_aspect("equal")
h1 = np.linspace(-0.2, 2.5, 10)
ax_hidden.plot(h1, (h1 - 0.5) / 2, "k--", label="$h_1 - 2h_2 = 0.5$")
ax_hidden.legend(loc="upper left", fontsize=8)
ax_in.legend(loc="center", fontsize=8)
fig.suptitle("The hidden layer makes XOR linearly separable")
plt.show()

# %% [markdown]
# Both hidden units look only at $x_1 + x_2$, so the hidden points lie along one bent line:
# the "one" corners land in the middle of it, between the images of the two "zero" corners.
# On a straight line no single cut could separate the middle from both ends; on the bent
# line one cut crosses it twice and does.
#
# In practice nobody designs hidden units by hand: gradient descent finds them. A network
# with one hidden layer can approximate any continuous function on a bounded region as well as
# we like, given enough hidden units (the **universal approximation theorem**, Cybenko 1989 and
# Hornik 1991). The theorem promises that good weights exist; it says nothing about how many
# units are needed or whether training finds them. The experiment below shows that, on a small
# problem, it does.

# %% [markdown]
# ## Data: spirals, a split, and mini-batches
#
# Three interleaved spiral arms in the plane, one per class, from `nn101.data.spirals`.
# Every arm winds around the origin, so any straight boundary cuts across all of them.

# %%
print(inspect.signature(nn101.data.spirals))
X, y = nn101.data.spirals(n_per_class=150, n_classes=3, noise=0.2, rng=rng)
print(X.shape, X.dtype, y.shape, y.dtype, np.bincount(y))

# %% [markdown]
# We hold out a quarter of the points to measure how well the model does on data it was not
# trained on. `train_test_split` draws the split from a generator (stratified: each class keeps
# its share), and a `Dataset` keeps inputs and labels together:

# %%
x_train, x_test, y_train, y_test = nn101.data.train_test_split(
    X, y, test_size=0.25, rng=rng, stratify=True
)
train = nn101.data.Dataset(x_train, y_train, name="spirals-train")
test = nn101.data.Dataset(x_test, y_test, name="spirals-test")
print(train, test, sep="\n")

# %% [markdown]
# Training reads the data in shuffled mini-batches (chapter 6). `Dataset.batches` wraps
# `batch_indices`: a fresh permutation each epoch, cut into slices of `batch_size`; the last
# batch holds whatever is left over.

# %%
show(nn101.data.Dataset.batches)
sizes = [len(xb) for xb, yb in train.batches(32, shuffle=True, rng=rng)]
print(f"one epoch: {len(sizes)} batches of sizes {sizes}")

# %% [markdown]
# ## Experiment: a linear model against one hidden layer
#
# Two models on the same data, with the same loss and optimizer:
#
# * softmax regression: `Dense(2, 3)`, 9 parameters;
# * a shallow network: `Dense(2, 64)`, `ReLU`, `Dense(64, 3)`, 387 parameters.
#
# `Sequential.fit` runs the loop of chapter 6 (shuffle, batch, forward, loss, backward,
# step) for every epoch and returns a `History` with the loss and accuracy per epoch, on the
# training data and on the validation data.


# %%
def train_model(model, epochs, learning_rate):
    return model.fit(
        train,
        epochs=epochs,
        batch_size=32,
        optimizer=nn101.SGD(model.parameters(), learning_rate=learning_rate),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=test,
        rng=rng,
        verbose=0,
    )


linear = nn101.Sequential(nn101.Dense(2, 3, rng=rng))
shallow = nn101.Sequential(
    nn101.Dense(2, 64, rng=rng, weight_init="he_normal"),
    nn101.ReLU(),
    nn101.Dense(64, 3, rng=rng),
)
epochs = 200
linear_history = train_model(linear, epochs, learning_rate=0.5)
shallow_history = train_model(shallow, epochs, learning_rate=0.5)
for name, history in (("linear", linear_history), ("one hidden layer", shallow_history)):
    h = history.history
    print(
        f"{name:17s} train accuracy {h['accuracy'][-1]:.3f}   test accuracy {h['val_accuracy'][-1]:.3f}"
    )


# %%
def plot_boundary(ax, model, title):
    g0, g1 = np.meshgrid(np.linspace(-1.2, 1.2, 250), np.linspace(-1.2, 1.2, 250))
    grid = np.column_stack([g0.ravel(), g1.ravel()]).astype(np.float32)  # (62500, 2)
    predicted = np.argmax(model.predict(grid), axis=1).reshape(g0.shape)
    ax.contourf(
        g0, g1, predicted, levels=[-0.5, 0.5, 1.5, 2.5], colors=["#c6dbef", "#fdd0a2", "#c7e9c0"]
    )
    for k, colour in enumerate(("tab:blue", "tab:orange", "tab:green")):
        ax.scatter(*X[y == k].T, s=6, c=colour)
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
test_acc = linear_history.history["val_accuracy"][-1]
plot_boundary(axes[0], linear, f"linear: test accuracy {test_acc:.2f}")
test_acc = shallow_history.history["val_accuracy"][-1]
plot_boundary(axes[1], shallow, f"one hidden layer (64 ReLU): test accuracy {test_acc:.2f}")
for name, history in (("linear", linear_history), ("hidden layer", shallow_history)):
    (line,) = axes[2].plot(history.history["loss"], label=f"{name}, train")
    axes[2].plot(history.history["val_loss"], "--", color=line.get_color(), label=f"{name}, test")
axes[2].set_xlabel("epoch")
axes[2].set_ylabel("cross-entropy")
axes[2].set_yscale("log")
axes[2].legend(fontsize=8)
axes[2].set_title("Loss", fontsize=10)
plt.show()

# %% [markdown]
# The linear model carves the plane into three wedges and gets roughly half the points
# right; more training cannot help, its loss curve is flat because it has already found the
# best three wedges. The shallow network follows the arms. Each ReLU unit contributes one
# straight fold (the line where its input is zero), and the output layer combines the 64
# folded pieces into a boundary made of straight segments that, together, curve.

# %% [markdown]
# ## How wide must the hidden layer be?
#
# We train the shallow network with 2, 4 and 16 hidden units for the same number of epochs,
# and put the 64-unit network from above next to them.

# %%
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
for ax, width in zip(axes, (2, 4, 16), strict=False):
    model = nn101.Sequential(
        nn101.Dense(2, width, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(width, 3, rng=rng),
    )
    history = train_model(model, epochs, learning_rate=0.5)
    accuracy = history.history["val_accuracy"][-1]
    plot_boundary(ax, model, f"{width} hidden units: test acc. {accuracy:.2f}")
accuracy = shallow_history.history["val_accuracy"][-1]
plot_boundary(axes[3], shallow, f"64 hidden units: test acc. {accuracy:.2f}")
plt.show()

# %% [markdown]
# Two units give two folds, not enough for three arms; four do better; by 16
# the boundary follows the spirals. More units give the optimizer more, and smoother, ways to
# fit, which is one reason that networks much larger than strictly necessary train well.

# %% [markdown]
# ## PyTorch cross-check
#
# The same shallow network in PyTorch, started from the same weights (PyTorch's `Linear`
# stores $W^\top$), trained side by side on the same mini-batches in float64: nn101's loop and
# the idiomatic PyTorch one (`nn.CrossEntropyLoss`, `optim.SGD`). After 50 steps every weight
# must agree with ours.

# %%
import torch

net = nn101.Sequential(
    nn101.Dense(2, 16, dtype=np.float64, rng=rng),
    nn101.ReLU(),
    nn101.Dense(16, 3, dtype=np.float64, rng=rng),
)
torch_net = torch.nn.Sequential(
    torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
).double()
with torch.no_grad():
    for ours, theirs in ((net[0], torch_net[0]), (net[2], torch_net[2])):
        theirs.weight.copy_(torch.tensor(ours.weight.value.T))
        theirs.bias.copy_(torch.tensor(ours.bias.value))

optimizer = nn101.SGD(net.parameters(), learning_rate=0.5)
loss_fn = nn101.SoftmaxCrossEntropy()
torch_optimizer = torch.optim.SGD(torch_net.parameters(), lr=0.5)
torch_loss_fn = torch.nn.CrossEntropyLoss()
batches = list(nn101.data.batch_indices(len(x_train), 32, shuffle=True, rng=rng))
x64 = x_train.astype(np.float64)
for step in range(50):
    idx = batches[step % len(batches)]
    optimizer.zero_grad()  # nn101
    loss_fn.forward(net.forward(x64[idx], training=True), y_train[idx])
    net.backward(loss_fn.backward())
    optimizer.step()

    torch_optimizer.zero_grad()  # PyTorch
    torch_loss_fn(torch_net(torch.tensor(x64[idx])), torch.tensor(y_train[idx])).backward()
    torch_optimizer.step()

for ours, theirs in ((net[0], torch_net[0]), (net[2], torch_net[2])):
    assert np.allclose(ours.weight.value, theirs.weight.detach().numpy().T, rtol=0, atol=1e-10)
    assert np.allclose(ours.bias.value, theirs.bias.detach().numpy(), rtol=0, atol=1e-10)
print("after 50 gradient steps nn101 and PyTorch weights agree to 1e-10")

# %% [markdown]
# ## Summary
#
# * No line separates XOR, and no linear model can; a hidden layer computes new features
#   $H = \phi(XW^{(1)} + b^{(1)})$ on which a linear output layer can.
# * Without the nonlinearity $\phi$ two layers collapse into one affine map.
# * Two ReLU units solve XOR by hand; on two interleaved spirals, gradient descent finds
#   hidden units that bend the boundary, where softmax regression stays at chance-like accuracy.
# * The wider the hidden layer, the more bends the boundary can have: with enough units one
#   hidden layer can approximate any continuous function, though not necessarily efficiently.
# * A real training run needs a `Dataset`, a train/test split and shuffled mini-batches;
#   `Sequential.fit` puts them together.
#
# ## Exercises
#
# **Exercise 1.** Train `Dense(2, 2)`, `Tanh`, `Dense(2, 1)` with `BinaryCrossEntropy` on noisy
# XOR from ten random initializations. How often does it find a solution? Repeat with 8 hidden
# units. *Hint:* count a run as solved when its accuracy on the noisy XOR points exceeds 95%.
#
# <details><summary>Solution</summary>
#
# With two hidden units a sizeable fraction of the runs get stuck in a poor local minimum or a
# flat region, classifying only three of the four corners correctly; with eight units almost
# every run succeeds. Extra width gives gradient descent many more ways to reach a solution:
# one reason why networks in practice are much wider than the minimum the problem needs. The
# cell below runs the experiment.
#
# </details>


# %% tags=["solution"]
# Solution to exercise 1
def xor_successes(width, runs=10):
    solved = 0
    for seed in range(runs):
        run_rng = np.random.default_rng(seed)
        net = nn101.Sequential(
            nn101.Dense(2, width, rng=run_rng), nn101.Tanh(), nn101.Dense(width, 1, rng=run_rng)
        )
        net.fit(
            x_xor.astype(np.float32),
            y_xor.astype(np.float32)[:, None],
            epochs=60,
            batch_size=40,
            optimizer=nn101.SGD(net.parameters(), learning_rate=0.5),
            loss=nn101.BinaryCrossEntropy(),
            rng=run_rng,
            verbose=0,
        )
        accuracy = np.mean((net.predict(x_xor.astype(np.float32))[:, 0] > 0) == (y_xor == 1))
        solved += accuracy > 0.95
    return solved


successes = {width: xor_successes(width) for width in (2, 8)}
print(f"solved out of 10: {successes[2]} with 2 hidden units, {successes[8]} with 8")
assert successes[8] >= successes[2]

# %% [markdown]
# **Exercise 2.** Replace the ReLU in the spiral network by `Identity()`. Explain the result with
# the collapse argument above.
#
# <details><summary>Solution</summary>
#
# The network becomes an affine map, $X W^{(1)} W^{(2)} + \dots$, exactly as expressive as
# softmax regression: its decision regions are separated by straight lines and its test
# accuracy drops to the linear model's. The extra parameters add nothing.
#
# </details>
#
# **Exercise 3.** Plot the lines $x \cdot W^{(1)}_{:,j} + b^{(1)}_j = 0$ where the hidden ReLUs of
# the trained spiral network switch on, on top of its decision boundary. How do they relate?
#
# <details><summary>Solution</summary>
#
# Each hidden ReLU is linear on either side of its line, so the network's output is piecewise
# linear, with pieces bounded by these lines. The decision boundary is made of segments of the
# regions they cut out: it bends only where it crosses one of the lines. Many lines fall far
# from the data or duplicate each other; those units contribute little.
#
# </details>
#
# **Exercise 4.** With 4 hidden units, train on 90% of the points instead of 75%, then on 50%.
# How do training and test accuracy change?
#
# <details><summary>Solution</summary>
#
# A network of 4 hidden units cannot fit the spirals well whatever the split: training and test
# accuracy stay close to each other and both are limited by the model's capacity
# (underfitting). More training data barely helps; fewer points make the estimates noisier.
# Overfitting, where more data would help, shows up with wide networks and few points
# (chapter 13).
#
# </details>
#
# ## Further reading
#
# * G. Cybenko, "Approximation by superpositions of a sigmoidal function", *Mathematics of
#   Control, Signals and Systems* 2 (1989); K. Hornik, "Approximation capabilities of
#   multilayer feedforward networks", *Neural Networks* 4 (1991): the universal approximation
#   theorems.
# * M. Nielsen, *Neural Networks and Deep Learning*, chapter 4 (2015): a visual proof that
#   neural networks can compute any function.
# * A. Karpathy, CS231n course notes, "Neural networks part 1: setting up the architecture"
#   (2015): layers, capacity and how the number of hidden units shapes the decision regions.
