# %% [markdown]
# # 24. LSTM and GRU
#
# Chapter 23 measured why a plain RNN forgets: the gradient reaching a step $k$ steps back is a
# product of $k$ Jacobians $\operatorname{diag}(1 - h^2) W_{hh}^\top$, which shrinks (or grows)
# geometrically. The **long short-term memory** (Hochreiter and Schmidhuber, 1997; with the
# forget gate of Gers, Schmidhuber and Cummins, 2000) changes that product. Its memory, the
# *cell state* $c_t$, is updated by addition, $c_t = f \odot c_{t-1} + i \odot g$, and the
# network itself decides, through **gates**, how much of the old memory to keep and how much new
# content to write. The **GRU** (Cho et al., 2014) does the same with two gates and no separate
# cell. This chapter writes both, draws the LSTM, shows nn101's code, and measures the
# gradients they let through.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import recurrent


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


rng = np.random.default_rng(seed=24)

# %% [markdown]
# ## The LSTM cell
#
# At step $t$, four "gates" are computed from the input and the previous output, each a Dense
# layer on $[x_t, h_{t-1}]$ ($\sigma$ is the logistic sigmoid, values in $(0, 1)$):
#
# $$
# \begin{aligned}
# i &= \sigma(x_t W_{ii} + h_{t-1} W_{hi} + b_i) && \text{input gate: how much to write}\\
# f &= \sigma(x_t W_{if} + h_{t-1} W_{hf} + b_f) && \text{forget gate: how much to keep}\\
# g &= \tanh(x_t W_{ig} + h_{t-1} W_{hg} + b_g) && \text{candidate content}\\
# o &= \sigma(x_t W_{io} + h_{t-1} W_{ho} + b_o) && \text{output gate: how much to show}\\
# c_t &= f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).
# \end{aligned}
# $$
#
# All shapes are $(N, H)$. These are exactly PyTorch's `nn.LSTM` equations. The four gates are
# computed together: one $(D, 4H)$ input matrix and one $(H, 4H)$ recurrent matrix, so each
# step costs one matrix product $h_{t-1} W_{hh}$ for all gates.
#
# **Why the gradient survives.** Differentiate the cell update with respect to the previous
# cell: $\partial c_t / \partial c_{t-1} = \operatorname{diag}(f)$ (plus terms through
# $h_{t-1}$ inside the gates). Along the cell, the Jacobian product over $k$ steps is
# $\prod f$: no weight matrix, no squashing derivative. When the forget gate is near 1, memory
# and its gradient pass through unchanged, for as long as the network chooses; this path is the
# "constant error carousel" of the original paper.
#
# The figure draws one step: the cell state runs along the top, changed only by a
# multiplication by $f$ and an addition.

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.set(xlim=(0, 10), ylim=(0, 5.2))
ax.axis("off")
ax.annotate("", xy=(9.6, 4.3), xytext=(0.3, 4.3), arrowprops=dict(arrowstyle="->", lw=2.5))
ax.text(0.3, 4.55, "$c_{t-1}$", fontsize=12)
ax.text(9.2, 4.55, "$c_t$", fontsize=12)
ax.annotate("", xy=(9.6, 0.6), xytext=(0.3, 0.6), arrowprops=dict(arrowstyle="->", lw=1))
ax.text(0.3, 0.2, "$h_{t-1}$ and $x_t$", fontsize=11)
ax.text(9.2, 0.2, "$h_t$", fontsize=12)
gates = [
    (2.0, "f", r"$\sigma$"),
    (4.0, "i", r"$\sigma$"),
    (5.5, "g", r"$\tanh$"),
    (7.5, "o", r"$\sigma$"),
]
for x_gate, name, function in gates:
    ax.add_patch(plt.Rectangle((x_gate - 0.5, 1.4), 1.0, 0.8, fc="#dde8f5", ec="k"))
    ax.text(x_gate, 1.8, function, ha="center", va="center", fontsize=12)
    ax.text(x_gate + 0.55, 2.35, f"${name}$", fontsize=12)
    ax.annotate("", xy=(x_gate, 1.4), xytext=(x_gate, 0.6), arrowprops=dict(arrowstyle="->"))
for x_op, symbol in [(2.0, r"$\times$"), (4.75, "$+$"), (8.4, r"$\times$")]:
    ax.add_patch(plt.Circle((x_op, 4.3 if x_op < 8 else 3.2), 0.3, fc="#fde2c8", ec="k"))
    ax.text(x_op, 4.3 if x_op < 8 else 3.2, symbol, ha="center", va="center", fontsize=12)
ax.annotate("", xy=(2.0, 4.0), xytext=(2.0, 2.2), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(4.75, 4.0), xytext=(4.0, 2.2), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(4.75, 4.0), xytext=(5.5, 2.2), arrowprops=dict(arrowstyle="->"))
ax.text(5.0, 3.2, r"$i \odot g$", fontsize=11)
ax.annotate("", xy=(8.1, 3.2), xytext=(7.5, 2.2), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(8.4, 3.5), xytext=(8.4, 4.3), arrowprops=dict(arrowstyle="->"))
ax.text(8.5, 3.75, r"$\tanh$", fontsize=10)
ax.annotate("", xy=(9.0, 0.65), xytext=(8.4, 2.9), arrowprops=dict(arrowstyle="->"))
ax.set_title("One LSTM step: the cell state (top) is only scaled by $f$ and added to")
plt.show()

# %% [markdown]
# ## The GRU cell
#
# The gated recurrent unit merges the cell into the hidden state and uses two gates, a reset
# gate $r$ and an update gate $z$ (PyTorch's equations, with $r$ applied after the recurrent
# product):
#
# $$
# \begin{aligned}
# r &= \sigma(x_t W_{ir} + b_{ir} + h_{t-1} W_{hr} + b_{hr}), \qquad
# z = \sigma(x_t W_{iz} + b_{iz} + h_{t-1} W_{hz} + b_{hz}),\\
# n &= \tanh\big(x_t W_{in} + b_{in} + r \odot (h_{t-1} W_{hn} + b_{hn})\big), \qquad
# h_t = (1 - z) \odot n + z \odot h_{t-1} .
# \end{aligned}
# $$
#
# Here $\partial h_t / \partial h_{t-1}$ contains the term $\operatorname{diag}(z)$: when the
# update gate is near 1 the state is copied forward, and with it the gradient.
#
# ## The code
#
# nn101 lays the gate weights side by side so that every step is one product; the sigmoid is
# computed as $\sigma(z) = \tfrac12 + \tfrac12 \tanh(z/2)$, so that one `tanh` call covers all
# four gates. The column order is $(i, f, o, g)$, sigmoid gates first (`LSTM`'s docstring gives
# the conversion to PyTorch's $(i, f, g, o)$ rows).

# %%
show(recurrent.lstm_forward)

# %% [markdown]
# The backward pass runs the chain rule through these lines in reverse. With $\bar h$ and
# $\bar c$ the gradients arriving at $h_t$ and $c_t$:
#
# $$
# \bar c \mathrel{+}= \bar h \odot o \odot (1 - \tanh^2 c_t), \quad
# \bar z_i = \bar c \odot g \odot i(1-i), \quad \bar z_f = \bar c \odot c_{t-1} \odot f(1-f),
# $$
# $$
# \bar z_o = \bar h \odot \tanh(c_t) \odot o(1-o), \quad \bar z_g = \bar c \odot i \odot
# (1 - g^2), \quad \bar h_{t-1} = \bar z\, W_{hh}^\top, \quad \bar c_{t-1} = \bar c \odot f .
# $$

# %%
show(recurrent.lstm_backward)

# %% [markdown]
# ## Experiment: gradient norms, RNN against LSTM and GRU
#
# The same measurement as in chapter 23: 100 steps of random input, a loss on the last state
# only, and the norm of the gradient reaching each input step, for freshly initialized layers of
# 64 units (PyTorch's default initialization, $U(-1/\sqrt H, 1/\sqrt H)$). For the LSTM we also
# set the forget-gate bias to 1, a common initialization that starts the cell out remembering
# (Jozefowicz, Zaremba and Sutskever, 2015).


# %%
def gradient_by_step(layer, steps=100):
    x = rng.standard_normal((16, steps, 8))
    h_last = layer.forward(x)
    dx = layer.backward(rng.standard_normal(h_last.shape))
    return np.linalg.norm(dx, axis=(0, 2))


H = 64
layers = {
    "RNN (tanh)": nn101.RNN(8, H, return_sequences=False, rng=rng, dtype=np.float64),
    "LSTM": nn101.LSTM(8, H, return_sequences=False, rng=rng, dtype=np.float64),
    "LSTM, forget bias 1": nn101.LSTM(8, H, return_sequences=False, rng=rng, dtype=np.float64),
    "GRU": nn101.GRU(8, H, return_sequences=False, rng=rng, dtype=np.float64),
    "GRU, update bias 1": nn101.GRU(8, H, return_sequences=False, rng=rng, dtype=np.float64),
}
layers["LSTM, forget bias 1"].bias_l0.value[H : 2 * H] = 1.0  # the f block: columns H..2H
layers["GRU, update bias 1"].bias_ih_l0.value[H : 2 * H] = 1.0  # the z block
norms = {name: gradient_by_step(layer) for name, layer in layers.items()}
plt.figure(figsize=(7, 4))
for name, n in norms.items():
    plt.semilogy(n / n[-1], label=name)
plt.xlabel("step $t$ (the loss reads step 99)")
plt.ylabel(r"$\|\partial \mathcal{L}/\partial x_t\|$, relative to the last step")
plt.title("How far back the gradient reaches, at initialization")
plt.legend()
plt.show()
for name, n in norms.items():
    print(f"{name:>20}: 50 steps back the gradient is {n[49] / n[-1]:.1e} of the last step's")
assert norms["LSTM, forget bias 1"][49] / norms["LSTM, forget bias 1"][-1] > 1e3 * (
    norms["RNN (tanh)"][49] / norms["RNN (tanh)"][-1]
)

# %% [markdown]
# Gates are not magic by themselves: with the default initialization the forget gate sits near
# $\sigma(0) = \tfrac12$, so the cell path multiplies the gradient by about one half per step,
# and the plain LSTM and GRU lose it as fast as the RNN (or faster). What the gates give is a
# *path that the network controls*: open them (forget bias 1, so $f \approx 0.73$; for the GRU,
# update bias 1 so that $z \approx 0.73$ copies the state forward) and the gradient fifty steps
# back is orders of magnitude larger than the RNN's. Training learns to hold the gates open
# where memory is needed, which a weight matrix in the RNN's product cannot do uniformly.
#
# ## Experiment: remembering across 30 steps
#
# The task: the first step of each sequence carries a bit ($\pm 1$ on the first input), the
# next 29 steps carry only noise (on the second input), and the network must output the bit at
# the end. We train an RNN and an LSTM (forget-gate bias 1) of the same width with the same
# budget: 4 epochs of 32 batches.


# %%
def memory_data(n, steps, rng):
    x = 0.5 * rng.standard_normal((n, steps, 2))
    bits = rng.integers(0, 2, n)
    x[:, 0, 0] = 2.0 * bits - 1.0
    x[:, 1:, 0] = 0.0
    return x.astype(np.float32), bits


x_train, y_train = memory_data(1024, 30, rng)
x_test, y_test = memory_data(512, 30, rng)
accuracy, final_loss = {}, {}
for name, cell in [("RNN", nn101.RNN), ("LSTM", nn101.LSTM)]:
    layer = cell(2, 24, return_sequences=False, rng=rng)
    if name == "LSTM":
        layer.bias_l0.value[24:48] = 1.0  # forget gates start open
    model = nn101.Sequential(layer, nn101.Dense(24, 2, rng=rng))
    history = model.fit(
        x_train,
        y_train,
        optimizer=nn101.Adam(model.parameters(), learning_rate=0.01),
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=4,
        batch_size=32,
        clip_norm=1.0,
        rng=rng,
        verbose=0,
    )
    accuracy[name] = model.evaluate(x_test, y_test)["accuracy"]
    final_loss[name] = history["loss"][-1]
    plt.plot(history["loss"], "o-", label=f"{name}: test accuracy {100 * accuracy[name]:.0f}%")
plt.xlabel("epoch")
plt.ylabel("training loss")
plt.title("Remembering a bit across 30 steps of noise")
plt.legend()
plt.show()
print({name: f"{100 * a:.1f}%" for name, a in accuracy.items()})
assert accuracy["LSTM"] > 0.9 and final_loss["LSTM"] < final_loss["RNN"]

# %% [markdown]
# With the same budget the LSTM solves the task within the first epochs, while the RNN's loss
# hardly leaves $\log 2 \approx 0.69$, the loss of guessing: its gradient from the last step
# is too weak by the time it reaches the first. (Given many more epochs the RNN can get there on
# 30 steps; the gap widens with the length.)
#
# ## The same in PyTorch
#
# `torch.nn.LSTM` and `torch.nn.GRU` (which run fused oneDNN kernels on a CPU) compute the same
# functions. `to_torch_state_dict` reorders the gate blocks and transposes the weights; outputs,
# final states and gradients agree in float64:

# %%
import torch

for kind in ("LSTM", "GRU"):
    ours = getattr(nn101, kind)(3, 5, num_layers=2, rng=rng, dtype=np.float64)
    theirs = getattr(torch.nn, kind)(3, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.to_torch_state_dict().items()})
    x = rng.standard_normal((2, 6, 3))
    g = rng.standard_normal((2, 6, 5))
    y = ours.forward(x)
    dx = ours.backward(g)
    x_torch = torch.tensor(x, requires_grad=True)
    y_torch, _ = theirs(x_torch)
    (y_torch * torch.from_numpy(g)).sum().backward()
    assert np.allclose(y, y_torch.detach().numpy(), atol=1e-10)
    assert np.allclose(dx, x_torch.grad.numpy(), atol=1e-10)
    print(f"{kind}: outputs and input gradients agree with PyTorch")

# %% [markdown]
# ## Summary
#
# * The LSTM keeps a cell state updated by addition, $c_t = f \odot c_{t-1} + i \odot g$;
#   gates in $(0, 1)$ decide what to keep, write and show. Along the cell the gradient is
#   multiplied only by the forget gate, so it can survive many steps.
# * The GRU merges cell and state, $h_t = (1 - z) \odot n + z \odot h_{t-1}$, with a reset gate
#   inside the candidate; it has three gate blocks to the LSTM's four.
# * Computed as one $(H, 4H)$ (or $(H, 3H)$) product per step plus elementwise gate math.
# * Measured: with their gates opened at initialization (forget or update bias 1) the gated
#   layers pass back gradients orders of magnitude larger over 50 steps than the RNN, and an
#   LSTM learns a 30-step memory task in the budget where the plain RNN stays at chance.
#
# ## Exercises
#
# **Exercise 1.** Count the parameters of `LSTM(D, H)` and `GRU(D, H)` in nn101 and in PyTorch.
# Why do they differ?
#
# <details><summary>Solution</summary>
#
# nn101's LSTM: $4H(D + H) + 4H$ (one bias); PyTorch's: $4H(D + H) + 8H$ (two biases that only
# ever appear as a sum). The GRU needs both biases in both libraries, because $b_{hn}$ sits
# inside $r \odot (\cdot)$: $3H(D + H) + 6H$.
#
# </details>

# %%
# Solution to exercise 1
D, H = 3, 5
assert nn101.LSTM(D, H).num_parameters() == 4 * H * (D + H) + 4 * H
assert sum(p.numel() for p in torch.nn.LSTM(D, H).parameters()) == 4 * H * (D + H) + 8 * H
assert nn101.GRU(D, H).num_parameters() == 3 * H * (D + H) + 6 * H

# %% [markdown]
# **Exercise 2.** Set every forget gate to exactly 1 and every input gate to 0. What does the
# LSTM compute, and what is $\partial c_T / \partial c_0$?
#
# <details><summary>Solution</summary>
#
# $c_t = c_{t-1}$: the cell never changes, $c_T = c_0$ and $\partial c_T / \partial c_0 = I$
# whatever $T$: a perfect memory that learns nothing new. Training balances the two.
#
# </details>
#
# **Exercise 3.** Why is $\sigma(z) = \tfrac12 + \tfrac12\tanh(z/2)$ true, and why is it a
# sensible way to compute a sigmoid?
#
# <details><summary>Solution</summary>
#
# $\tanh(u) = (1 - e^{-2u})/(1 + e^{-2u})$, so $\tfrac12 + \tfrac12 \tanh(z/2) =
# \tfrac12 \cdot \frac{2}{1 + e^{-z}} = \sigma(z)$. `tanh` never overflows (no large
# exponential), and it lets one vectorized call handle the sigmoid gates and the tanh gate of a
# step together.
#
# </details>
#
# ## Further reading
#
# * Hochreiter and Schmidhuber (1997), "Long short-term memory", *Neural Computation* 9.
# * F. A. Gers, J. Schmidhuber and F. Cummins, "Learning to forget: continual prediction with
#   LSTM", *Neural Computation* 12 (2000): the forget gate.
# * Cho et al. (2014), "Learning phrase representations using RNN encoder-decoder for
#   statistical machine translation": the GRU.
# * R. Jozefowicz, W. Zaremba and I. Sutskever, "An empirical exploration of recurrent network
#   architectures", ICML (2015).
# * C. Olah, "Understanding LSTM networks" (2015), a blog post with the classic diagrams.
