# %% [markdown]
# # 22. Sequences and recurrence
#
# Every network so far has read a fixed-size input in one go: 784 pixels, 64 features. Text,
# speech and time series arrive one piece at a time, and their length varies. A **recurrent**
# network reads a sequence step by step with the *same* weights at every step, and carries a
# vector $h_t$, its **hidden state**, from one step to the next. The hidden state is the
# network's memory: what it computes at step $t$ can depend on everything it has read so far.
#
# This chapter writes the simplest recurrent layer (Elman, 1990), unrolls it in time, shows the
# library's code, and trains it on a task that needs memory: repeating its input three steps
# late.

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


rng = np.random.default_rng(seed=22)

# %% [markdown]
# ## A network with memory
#
# A batch of sequences has shape $(N, T, D)$: $N$ sequences of $T$ steps, each step a vector of
# $D$ features (batch first, as everywhere in the book). Write $x_t$ for the $(N, D)$ slice at
# step $t$. The recurrent layer keeps a state $h_t$ of shape $(N, H)$ and updates it with
#
# $$
# h_t = \tanh\!\big(x_t W_{ih} + h_{t-1} W_{hh} + b\big), \qquad h_0 = 0,
# $$
#
# with $W_{ih}$ of shape $(D, H)$, $W_{hh}$ of shape $(H, H)$ and $b$ of shape $(H,)$: a Dense
# layer on the concatenation $[x_t, h_{t-1}]$, followed by $\tanh$. The output is the sequence
# $h_1, \dots, h_T$, shape $(N, T, H)$, or only its last element $h_T$ when a single vector per
# sequence is wanted (to classify it, say: `return_sequences=False`).
#
# **Unrolled in time**, the layer is a deep feedforward network with one layer per step, in
# which every layer shares the same $W_{ih}$, $W_{hh}$ and $b$:
#
# $$
# h_0 \xrightarrow{\;x_1\;} h_1 \xrightarrow{\;x_2\;} h_2 \longrightarrow \cdots
# \xrightarrow{\;x_T\;} h_T .
# $$
#
# The number of weights does not depend on $T$, so one layer reads sequences of any length.
#
# ## The code
#
# The layer computes the input part $x_t W_{ih} + b$ for *all* steps in one matrix product
# before the loop (it does not depend on $h$); inside the loop only $h_{t-1} W_{hh}$ and the
# nonlinearity remain. The loop runs time-major, over arrays of shape $(T, N, \cdot)$, so each
# step is one contiguous block:

# %%
show(recurrent.rnn_forward)

# %% [markdown]
# The layer `nn101.RNN` holds the parameters, transposes batch-first input to time-major and
# back, stacks layers (`num_layers`) and handles the state: `layer.initial_state` sets $h_0$
# and `layer.final_state` holds $h_T$ after a call.

# %%
show(nn101.RNN.forward)

# %% [markdown]
# Check the loop against the formula, one step at a time, on a small batch:

# %%
layer = nn101.RNN(3, 4, rng=rng, dtype=np.float64)
x = rng.standard_normal((2, 5, 3))  # N=2 sequences, T=5 steps, D=3 features
W_ih, W_hh, b = layer.weight_ih_l0.value, layer.weight_hh_l0.value, layer.bias_l0.value
h = np.zeros((2, 4))
by_hand = []
for t in range(5):
    h = np.tanh(x[:, t] @ W_ih + h @ W_hh + b)
    by_hand.append(h)
y = layer.forward(x)
print("output shape:", y.shape, " final state shape:", layer.final_state.shape)
assert np.allclose(y, np.stack(by_hand, axis=1), atol=1e-12)
assert np.allclose(layer.final_state[0], by_hand[-1], atol=1e-12)

# %% [markdown]
# ## Token ids and embeddings
#
# Text is a sequence of discrete symbols, not of vectors. Number the symbols $0, \dots, V-1$
# (a character's position in the vocabulary, say). Feeding the id itself as a number would
# impose an order that means nothing ("b" is not twice "a"). The classic encoding is one-hot:
# $e_v \in \{0, 1\}^V$ with a single 1. A Dense layer on a one-hot vector just picks a row of
# its weight: $e_v W = W_{v,:}$. An **embedding** is exactly that, without the zeros: a
# learned table $W$ of shape $(V, E)$ whose row $v$ is the vector of symbol $v$. Its gradient
# adds the upstream gradient of each position into the row of that position's id:
#
# $$
# y_{n,t} = W_{\text{ids}_{n,t}}, \qquad
# \frac{\partial \mathcal{L}}{\partial W_v} = \sum_{(n,t):\ \text{ids}_{n,t} = v}
# \frac{\partial \mathcal{L}}{\partial y_{n,t}} .
# $$

# %%
show(nn101.Embedding.backward)

# %%
embedding = nn101.Embedding(5, 3, rng=rng, dtype=np.float64)
ids = np.array([[0, 3, 3, 1]])
one_hot = np.eye(5)[ids]  # (1, 4, 5)
assert np.allclose(embedding.forward(ids), one_hot @ embedding.weight.value)
print("embedding of ids", ids.tolist(), "has shape", embedding.forward(ids).shape)

# %% [markdown]
# ## Experiment: an echo three steps late
#
# A task that needs memory: the input is a random sequence $x_t \in \{-1, 1\}$ and the target is
# the input three steps earlier, $y_t = x_{t-3}$ (and 0 for the first three steps). No
# function of $x_t$ alone can do it; the hidden state must hold the last three inputs. The
# model is `RNN(1, 16)` followed by `Dense(16, 1)` applied at every step, trained with Adam on
# the mean squared error.


# %%
def echo_data(n, steps, delay, rng):
    x = rng.choice([-1.0, 1.0], size=(n, steps, 1))
    y = np.zeros_like(x)
    y[:, delay:] = x[:, :-delay]
    return x, y


x_train, y_train = echo_data(512, 20, 3, rng)
x_test, y_test = echo_data(256, 20, 3, rng)
model = nn101.Sequential(nn101.RNN(1, 16, rng=rng), nn101.Dense(16, 1, rng=rng))
history = model.fit(
    x_train.astype(np.float32),
    y_train.astype(np.float32),
    optimizer=nn101.Adam(model.parameters(), learning_rate=0.01),
    loss=nn101.MeanSquaredError(),
    epochs=40,
    batch_size=32,
    rng=rng,
    verbose=0,
)
prediction = model.predict(x_test.astype(np.float32))
sign_accuracy = np.mean(np.sign(prediction[:, 3:]) == y_test[:, 3:])
print(f"test: the sign of the prediction is right at {100 * sign_accuracy:.1f}% of the steps")
assert sign_accuracy > 0.95

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].plot(history["loss"])
axes[0].set(xlabel="epoch", ylabel="training MSE", yscale="log", title="Learning to echo")
steps = np.arange(20)
axes[1].step(steps, x_test[0, :, 0], where="mid", label="input $x_t$", alpha=0.5)
axes[1].step(steps, y_test[0, :, 0], where="mid", label="target $x_{t-3}$")
axes[1].plot(steps, prediction[0, :, 0], "o", label="RNN output")
axes[1].set(xlabel="step $t$", title="One test sequence")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The hidden state is where the memory lives. Here are the 16 hidden units over the same test
# sequence: their pattern changes with the inputs of the last few steps.

# %%
rnn = model.layers[0]
hidden = rnn.forward(x_test[:1].astype(np.float32))[0]  # (T, H)
plt.figure(figsize=(8, 3))
plt.imshow(hidden.T, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
plt.colorbar(label="$h_t$")
plt.xlabel("step $t$")
plt.ylabel("hidden unit")
plt.title("Hidden state of the trained RNN")
plt.show()

# %% [markdown]
# ## The same in PyTorch
#
# `torch.nn.RNN(batch_first=True)` computes the same recurrence. PyTorch stores the weights
# transposed, $(H, D)$ and $(H, H)$, and has two biases that it adds ($b = b_{ih} + b_{hh}$);
# `to_torch_state_dict` converts nn101's parameters to that layout (and `from_torch_state_dict`
# back). In float64 the two agree to rounding:

# %%
import torch

ours = nn101.RNN(3, 4, num_layers=2, rng=rng, dtype=np.float64)
theirs = torch.nn.RNN(3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.to_torch_state_dict().items()})
x = rng.standard_normal((2, 6, 3))
y_torch, h_torch = theirs(torch.from_numpy(x))
difference = np.abs(ours.forward(x) - y_torch.detach().numpy()).max()
print(f"largest difference in the outputs: {difference:.1e}")
assert difference < 1e-10
assert np.allclose(ours.final_state, h_torch.detach().numpy(), atol=1e-10)

# %% [markdown]
# ## Summary
#
# * A recurrent layer applies the same weights at every step and carries a hidden state:
#   $h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)$. Unrolled, it is a deep network whose
#   layers share their weights; its size does not depend on the sequence length.
# * Shapes: $(N, T, D) \to (N, T, H)$, or $(N, H)$ for the last step only.
# * The input projection of all steps is one matrix product; only $h_{t-1} W_{hh}$ is in the
#   loop.
# * Token ids enter through an embedding: a learned table, equivalent to a Dense layer on
#   one-hot vectors.
# * An RNN with 16 units learns to echo its input three steps late: the hidden state remembers.
#
# ## Exercises
#
# **Exercise 1.** How many parameters does `RNN(D, H)` have? And `RNN(D, H, num_layers=2)`?
#
# <details><summary>Solution</summary>
#
# One layer: $DH + H^2 + H$. The second layer reads the first's $H$ outputs, so it adds
# $H^2 + H^2 + H$: in total $DH + 3H^2 + 2H$. Checked below for $D = 3, H = 4$.
#
# </details>

# %%
# Solution to exercise 1
D, H = 3, 4
assert nn101.RNN(D, H).num_parameters() == D * H + H * H + H
assert nn101.RNN(D, H, num_layers=2).num_parameters() == D * H + 3 * H * H + 2 * H

# %% [markdown]
# **Exercise 2.** Make the delay of the echo task 10 steps instead of 3. What happens to the
# accuracy, and why? *Hint:* look ahead to [chapter 23](23_backprop_through_time.ipynb).
#
# <details><summary>Solution</summary>
#
# The accuracy drops towards chance for the delayed part: to learn it, the gradient of the
# error at step $t$ must reach the input at step $t - 10$ through ten multiplications by
# $W_{hh}^\top$ and $\tanh'$, and it shrinks on the way. Chapter 23 measures this; chapter 24
# fixes it with gates.
#
# </details>
#
# **Exercise 3.** Show that an embedding followed by `Dense(E, K)` can be replaced by a single
# embedding of width $K$. Why use the two then?
#
# <details><summary>Solution</summary>
#
# $W_{\text{ids}} W' = (W W')_{\text{ids}}$: the table $W W'$ of shape $(V, K)$ gives the same
# outputs. The factorized form has $VE + EK$ parameters instead of $VK$, fewer when $E$ is small,
# and in a recurrent network the embedding feeds $W_{ih}$, which already is such a Dense layer.
#
# </details>
#
# ## Further reading
#
# * J. L. Elman, "Finding structure in time", *Cognitive Science* 14 (1990): the simple
#   recurrent network.
# * I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning* (2016), chapter 10, "Sequence
#   modeling: recurrent and recursive nets".
# * A. Karpathy, "The unreasonable effectiveness of recurrent neural networks" (2015).
