# %% [markdown]
# # 23. Backpropagation through time
#
# Unrolled, a recurrent layer is a deep network whose layers share their weights (chapter 22).
# Its gradient is therefore backpropagation (chapter 8) through the unrolled network, with one
# twist: the shared weights collect a contribution from every step. This is
# **backpropagation through time** (BPTT). This chapter derives it, checks it with finite
# differences and against PyTorch, then measures the problem it brings: through many steps the
# gradient shrinks or grows geometrically. Gradient clipping tames the growth; truncating the
# backward pass at a window makes long sequences affordable.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.functional import recurrent
from nn101.gradcheck import check_layer


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


rng = np.random.default_rng(seed=23)

# %% [markdown]
# ## The derivation
#
# Take the tanh RNN, $z_t = x_t W_{ih} + h_{t-1} W_{hh} + b$ and $h_t = \tanh(z_t)$, with a loss
# $\mathcal{L}$ that depends on the outputs $h_1, \dots, h_T$. Write $g_t = \partial
# \mathcal{L} / \partial h_t$ for the gradient that arrives at $h_t$ *from outside* the
# recurrence (from the layer above at that step), all of shape $(N, H)$.
#
# $h_t$ influences the loss in two ways: directly, and through $h_{t+1}$. So the total
# gradient $\bar h_t = d\mathcal{L}/dh_t$ satisfies a recursion that runs *backwards* in time:
#
# $$
# \bar h_T = g_T, \qquad
# \delta_t = \bar h_t \odot (1 - h_t^2), \qquad
# \bar h_{t-1} = g_{t-1} + \delta_t\, W_{hh}^\top ,
# $$
#
# where $\delta_t = d\mathcal{L}/dz_t$ uses $\tanh'(z) = 1 - \tanh^2(z)$. Each weight is used at
# every step, so its gradient is the sum over steps of what each use contributes (the same rule
# as for any shared weight):
#
# $$
# \frac{\partial \mathcal{L}}{\partial W_{hh}} = \sum_{t=1}^{T} h_{t-1}^\top \delta_t, \qquad
# \frac{\partial \mathcal{L}}{\partial W_{ih}} = \sum_{t=1}^{T} x_t^\top \delta_t, \qquad
# \frac{\partial \mathcal{L}}{\partial b} = \sum_{t=1}^{T} \sum_{n} \delta_{t,n}, \qquad
# \frac{\partial \mathcal{L}}{\partial x_t} = \delta_t\, W_{ih}^\top .
# $$
#
# Only the recursion for $\bar h$ is sequential. The sums over $t$ are matrix products over the
# stacked steps: with $\Delta$ the $(T N, H)$ stack of all $\delta_t$ and $X$ the stack of all
# $x_t$, $\partial \mathcal{L} / \partial W_{ih} = X^\top \Delta$ is *one* product after the
# loop, and so are the other two. That is how the library's backward is arranged:

# %%
show(recurrent.rnn_backward)

# %% [markdown]
# Finite differences agree, for a stacked layer returning its whole sequence and for one
# returning only the last step (`check_layer` compares every parameter's gradient and the input
# gradient with centered differences, chapter 8):

# %%
for sequences in (True, False):
    layer = nn101.RNN(3, 5, num_layers=2, return_sequences=sequences, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 6, 3))
    error = check_layer(layer, x, rng=rng)
    print(f"return_sequences={sequences}: largest relative error {error:.1e}")
    assert error < 1e-7

# %% [markdown]
# ## Vanishing and exploding gradients, measured
#
# Unfold the recursion: the gradient that the loss at the last step sends to the state at step
# $t$ is a product of $T - t$ Jacobians,
#
# $$
# \frac{\partial \mathcal{L}}{\partial h_t} = g_T \prod_{s=T}^{t+1}
# \operatorname{diag}(1 - h_s^2)\, W_{hh}^\top .
# $$
#
# If the largest singular value of $W_{hh}$ is below 1 (and $\tanh' \le 1$ only makes it
# smaller), the product shrinks geometrically with the distance $T - t$: the gradient
# **vanishes**, and the network cannot learn dependencies longer than a few steps. If it is well
# above 1, the product can grow geometrically: the gradient **explodes**, and one step of
# gradient descent throws the weights far away (Pascanu, Mikolov and Bengio, 2013).
#
# The experiment: an RNN of 32 units reads 60 steps; the loss is a random linear function of
# the last state only (`return_sequences=False`). We scale $W_{hh}$ to a chosen spectral
# radius $\rho$ and plot $\lVert \partial \mathcal{L} / \partial x_t \rVert$ against $t$. For
# the exploding case we use the ReLU variant, whose derivative does not saturate.


# %%
def gradient_by_step(radius, nonlinearity, steps=60, hidden=32):
    layer = nn101.RNN(
        8, hidden, nonlinearity=nonlinearity, return_sequences=False, rng=rng, dtype=np.float64
    )
    W = rng.standard_normal((hidden, hidden))
    layer.weight_hh_l0.value[...] = radius * W / np.max(np.abs(np.linalg.eigvals(W)))
    x = 0.5 * rng.standard_normal((16, steps, 8))
    h_last = layer.forward(x)
    dx = layer.backward(rng.standard_normal(h_last.shape))
    return np.linalg.norm(dx, axis=(0, 2))  # one norm per step t


cases = [(0.5, "tanh"), (0.9, "tanh"), (1.5, "tanh"), (2.0, "relu")]
plt.figure(figsize=(7, 4))
for radius, nonlinearity in cases:
    norms = gradient_by_step(radius, nonlinearity)
    plt.semilogy(norms, label=f"ρ = {radius}, {nonlinearity}")
plt.xlabel("step $t$ (the loss reads step 59)")
plt.ylabel(r"$\|\partial \mathcal{L} / \partial x_t\|$")
plt.title("Gradient reaching each step of a 60-step RNN")
plt.legend()
plt.show()

# %%
early, late = gradient_by_step(0.5, "tanh")[[0, -1]]
print(f"ρ = 0.5: the first step receives {early / late:.1e} times the gradient of the last")
assert early / late < 1e-6
early, late = gradient_by_step(2.0, "relu")[[0, -1]]
print(f"ρ = 2.0, ReLU: the first step receives {early / late:.1e} times the gradient of the last")
assert early / late > 1e3

# %% [markdown]
# The slopes are the story: with $\rho = 0.5$ the first steps receive a gradient many orders of
# magnitude smaller than the last; at $\rho = 1.5$ the tanh RNN sends back a little more than it
# receives, and the ReLU RNN at $\rho = 2$ (half of its units are off at any time, so it needs
# the larger $\rho$) grows by orders of magnitude from the end backwards. None of them learns a
# 60-step dependency well. Chapter 24's gates change the product itself.
#
# ## Gradient clipping
#
# Exploding gradients have a blunt but effective remedy: if the norm of the whole gradient
# (all parameters together) exceeds a threshold $c$, scale it down to norm $c$,
#
# $$
# \mathbf{g} \leftarrow \mathbf{g} \cdot \min\!\Big(1, \frac{c}{\lVert \mathbf{g} \rVert}\Big).
# $$
#
# The direction is kept; only the step length is capped. `fit(clip_norm=c)` applies it after
# every backward pass:

# %%
show(nn101.clip_grad_norm)

# %%
layer = nn101.RNN(8, 32, nonlinearity="relu", return_sequences=False, rng=rng, dtype=np.float64)
layer.weight_hh_l0.value *= 3.0  # an exploding layer
out = layer.forward(rng.standard_normal((4, 40, 8)))
layer.backward(np.ones_like(out))
before = np.sqrt(sum(np.sum(p.grad**2) for p in layer.parameters()))
nn101.clip_grad_norm(layer.parameters(), 5.0)
after = np.sqrt(sum(np.sum(p.grad**2) for p in layer.parameters()))
print(f"gradient norm before clipping {before:.3g}, after {after:.3g}")
assert abs(after - 5.0) < 1e-6  # PyTorch convention: c / (norm + 1e-6)

# %% [markdown]
# ## Truncated BPTT and carried state
#
# A text of a million characters cannot be unrolled in one piece: memory grows with $T$. The
# standard answer is to cut it into windows of, say, 64 steps, and to train on one window at a
# time while **carrying the state**: the final state of one window becomes the initial state of
# the next, so the forward pass sees an unbroken sequence, but the backward pass stops at the
# window's start (the carried state is treated as a constant). That is truncated BPTT
# (Williams and Peng, 1990). In nn101 a layer built with `stateful=True` carries its state from
# one call to the next, and `reset_state()` forgets it. Two windows of 5 steps give exactly
# the outputs of one window of 10:

# %%
x = rng.standard_normal((3, 10, 2))
whole = nn101.RNN(2, 4, rng=np.random.default_rng(0), dtype=np.float64)
windows = nn101.RNN(2, 4, stateful=True, rng=np.random.default_rng(0), dtype=np.float64)
y_whole = whole.forward(x)
y_windows = np.concatenate([windows.forward(x[:, :5]), windows.forward(x[:, 5:])], axis=1)
assert np.allclose(y_whole, y_windows, atol=1e-12)
print("two carried windows = one long window:", np.abs(y_whole - y_windows).max())

# %% [markdown]
# The price of truncation is that no gradient teaches the network to store something for longer
# than a window, although the carried state can still *use* information from earlier windows.
#
# ## The same in PyTorch
#
# PyTorch's autograd records the unrolled graph and runs the same backward recursion. Through
# the documented weight conversion, every gradient agrees with nn101's in float64:

# %%
import torch

ours = nn101.RNN(3, 4, rng=rng, dtype=np.float64)
theirs = torch.nn.RNN(3, 4, batch_first=True, dtype=torch.float64)
theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.to_torch_state_dict().items()})
x = rng.standard_normal((2, 7, 3))
g = rng.standard_normal((2, 7, 4))
ours.forward(x)
dx = ours.backward(g)
x_torch = torch.tensor(x, requires_grad=True)
y_torch, _ = theirs(x_torch)
(y_torch * torch.from_numpy(g)).sum().backward()
assert np.allclose(dx, x_torch.grad.numpy(), atol=1e-10)
assert np.allclose(ours.weight_hh_l0.grad, theirs.weight_hh_l0.grad.numpy().T, atol=1e-10)
assert np.allclose(ours.weight_ih_l0.grad, theirs.weight_ih_l0.grad.numpy().T, atol=1e-10)
assert np.allclose(ours.bias_l0.grad, theirs.bias_ih_l0.grad.numpy(), atol=1e-10)
print("input and weight gradients agree with PyTorch's autograd")

# %% [markdown]
# ## Summary
#
# * BPTT is backpropagation through the unrolled network: a backward recursion
#   $\bar h_{t-1} = g_{t-1} + (\bar h_t \odot (1 - h_t^2)) W_{hh}^\top$, and weight gradients
#   summed over steps, each one matrix product over the stacked steps.
# * The gradient reaching step $t$ is a product of $T - t$ Jacobians: it vanishes or explodes
#   geometrically with the distance, depending on the size of $W_{hh}$.
# * Clipping by global norm caps the step length without changing its direction.
# * Truncated BPTT trains on windows and carries the state between them: the forward pass is
#   exact, the gradient stops at the window.
#
# ## Exercises
#
# **Exercise 1.** For a *linear* RNN ($h_t = x_t W_{ih} + h_{t-1} W_{hh}$) with
# $W_{hh} = \rho I$, what is $\partial h_T / \partial h_t$? For which $\rho$ does it vanish,
# explode or stay constant?
#
# <details><summary>Solution</summary>
#
# $\partial h_T / \partial h_t = (W_{hh}^\top)^{T-t} = \rho^{T-t} I$: it vanishes for
# $|\rho| < 1$, explodes for $|\rho| > 1$ and stays 1 for $|\rho| = 1$. With a general
# $W_{hh}$ the eigenvalues play the role of $\rho$. Checked below with $\rho = 0.8$ over 10
# steps.
#
# </details>

# %%
# Solution to exercise 1
linear = nn101.RNN(1, 1, nonlinearity="relu", return_sequences=False, dtype=np.float64)
linear.weight_hh_l0.value[...] = 0.8
linear.weight_ih_l0.value[...] = 0.0
linear.bias_l0.value[...] = 0.0
linear.initial_state = np.ones((1, 1, 1))  # h_0 = 1 > 0 keeps the ReLU linear
linear.forward(np.zeros((1, 10, 1)))
linear.backward(np.ones((1, 1)))
assert np.isclose(linear.initial_state_grad[0, 0, 0], 0.8**10)

# %% [markdown]
# **Exercise 2.** Why must the carried state be a *constant* for the gradient? What would it
# cost to let the gradient flow into the previous window?
#
# <details><summary>Solution</summary>
#
# The previous window's forward pass has already been differentiated and its weights updated;
# letting the gradient flow back would mean keeping every earlier window's activations (memory
# growing with the whole text) and back-propagating through all of them at each step, which is
# untruncated BPTT over the entire sequence.
#
# </details>
#
# **Exercise 3.** In the clipping example, what is the largest entry of the gradient, before and
# after? Does clipping by value (each entry to $[-c, c]$) keep the direction?
#
# <details><summary>Solution</summary>
#
# Clipping by norm multiplies every entry by the same factor $c / \lVert g \rVert$, so the
# largest entry shrinks by that factor and the direction is unchanged. Clipping by value
# changes only the entries beyond $c$, so the direction changes (towards the diagonal of the
# box); `nn101.clip_grad_value` does that.
#
# </details>
#
# ## Further reading
#
# * P. J. Werbos, "Backpropagation through time: what it does and how to do it",
#   *Proceedings of the IEEE* 78 (1990).
# * R. J. Williams and J. Peng, "An efficient gradient-based algorithm for on-line training of
#   recurrent network trajectories", *Neural Computation* 2 (1990): truncated BPTT.
# * Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent neural
#   networks", ICML: vanishing and exploding gradients, and clipping by norm.
# * I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning* (2016), section 10.7.
