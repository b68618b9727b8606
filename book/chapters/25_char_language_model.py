# %% [markdown]
# # 25. A character-level language model
#
# The last chapter puts part 4 together: an LSTM that reads Shakespeare one character at a time
# and learns to predict the next one. Trained, it becomes a generator: feed it a prompt, sample
# a character from its prediction, feed that back, and repeat. The pieces are all from the
# previous chapters (an embedding for the character ids, an LSTM, a Dense layer on every step,
# softmax cross-entropy) plus two new ones: training on a long text with **truncated BPTT and
# carried state**, and **sampling with a temperature**.
#
# The corpus is "tiny Shakespeare" (Karpathy, 2015): 1,115,394 characters of the plays. As in
# nanoGPT, the first 90% is for training and the last 10% for validation.

# %%
import inspect
import textwrap
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.data.text import char_windows, load_shakespeare
from nn101.recipes.char import (
    CharSettings,
    build_char_lstm,
    char_datasets,
    evaluate_char_loss,
    generate,
)
from nn101.training import TrainState, train_step


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


rng = np.random.default_rng(seed=25)

# %% [markdown]
# ## Text as ids
#
# The vocabulary is the set of characters of the training text, sorted; a character's id is its
# position. The model's job, at every position $t$ of the text $s$, is a distribution
# $p(s_{t+1} \mid s_1, \dots, s_t)$ over the $V$ characters, and its loss is the cross-entropy
# of the character that actually comes next, averaged over positions, in **nats per character**:
#
# $$
# \mathcal{L} = -\frac{1}{T} \sum_{t} \log p(s_{t+1} \mid s_{\le t}) .
# $$
#
# Two baselines tell what a number means: guessing uniformly costs $\log V$, and a model that
# knows only how frequent each character is (no context) costs the entropy of the character
# frequencies.

# %%
corpus = load_shakespeare()
V = len(corpus.vocab)
print(f"{len(corpus.train):,} training and {len(corpus.valid):,} validation characters, V = {V}")
print("vocabulary:", repr(corpus.vocab.chars))
frequencies = np.bincount(corpus.train, minlength=V) / len(corpus.train)
unigram = -np.sum(frequencies * np.log(frequencies))
print(f"uniform guess: {np.log(V):.3f} nats/char; character frequencies alone: {unigram:.3f}")

# %% [markdown]
# ## Windows, streams and carried state
#
# A million characters cannot be unrolled in one piece (chapter 23). The text is cut into
# $B$ parallel **streams** (one per row of the batch), and each stream into windows of $T$
# characters. Batch $k$ holds window $k$ of every stream, so row $n$ of batch $k+1$ continues
# row $n$ of batch $k$. The LSTM is `stateful`: its final $(h, c)$ from one batch is its initial
# state for the next, a constant for the gradient, so the model sees an unbroken text while
# the gradient stops at the window's start (truncated BPTT). The state is reset at each pass
# over the text. Targets are the inputs shifted by one character.

# %%
show(char_windows)

# %%
demo = char_windows(corpus.train[:2001], seq_len=8, batch_size=4)
for k in range(2):
    x, y = demo[4 * k : 4 * k + 4]
    print(f"batch {k}, row 0: x = {corpus.vocab.decode(x[0])!r}  y = {corpus.vocab.decode(y[0])!r}")

# %% [markdown]
# ## The model and a short training run
#
# The recipe (`nn101.recipes.char`) is Embedding(65, 64) → LSTM(64, 512, stateful) →
# Dense(512, 65), Adam with learning rate $2 \times 10^{-3}$, gradient clipping at norm 5,
# batches of 32 windows of 64 characters. The book trains a smaller version (64 units, batches
# of 16) for 150 steps, enough to see the loss fall and the samples change; the full run is
# below. The training loop is `train_step` (chapter 17) in a plain loop, resetting the carried
# state at each pass:

# %%
settings = CharSettings(hidden_size=64, batch_size=16, seq_len=64, learning_rate=5e-3)
train, valid = char_datasets(corpus, settings)
model = build_char_lstm(V, settings, rng=rng)
optimizer = nn101.Adam(model.parameters(), learning_rate=settings.learning_rate)
state = TrainState(model, optimizer, nn101.SoftmaxCrossEntropy(), rng, clip_norm=settings.clip_norm)
valid_sample = nn101.data.Dataset(valid.x[: 16 * 16], valid.y[: 16 * 16])  # 16 batches
steps, every = 150, 30
curve = [(0, evaluate_char_loss(model, valid_sample, 16))]
samples = {0: generate(model, corpus.vocab, "ROMEO:", 120, 0.8, np.random.default_rng(0))}
started = time.perf_counter()
for step in range(1, steps + 1):
    k = (step - 1) % (len(train) // 16)
    if k == 0:
        model.reset_state()
    train_step(state, *train[16 * k : 16 * k + 16])
    if step % every == 0:
        curve.append((step, evaluate_char_loss(model, valid_sample, 16)))
seconds = time.perf_counter() - started
samples[steps] = generate(model, corpus.vocab, "ROMEO:", 120, 0.8, np.random.default_rng(0))
print(f"{steps} steps in {seconds:.0f} s; validation loss {curve[0][1]:.2f} -> {curve[-1][1]:.2f}")
assert curve[-1][1] < unigram < curve[0][1]

# %%
plt.figure(figsize=(7, 4))
plt.plot(*zip(*curve), "o-", label="LSTM-64 (validation)")
plt.axhline(np.log(V), color="gray", ls=":", label=f"uniform guess, {np.log(V):.2f}")
plt.axhline(unigram, color="gray", ls="--", label=f"character frequencies, {unigram:.2f}")
plt.axhline(1.55, color="k", lw=0.8, label="the full recipe's goal, 1.55")
plt.xlabel("training step (16 x 64 characters each)")
plt.ylabel("nats per character")
plt.title("A short run of the character model")
plt.legend(fontsize=8)
plt.show()
for step, text in samples.items():
    print(f"--- sample after {step} steps ---\n{text}\n")

# %% [markdown]
# ## Sampling with a temperature
#
# To generate, the prompt is read in one call (the state carries it), then each next character
# is drawn from the softmax of the logits divided by a **temperature** $\tau$:
#
# $$
# p_\tau(v) = \frac{e^{z_v / \tau}}{\sum_u e^{z_u / \tau}} .
# $$
#
# $\tau = 1$ samples the model's own distribution; $\tau < 1$ sharpens it towards the most
# likely characters (safer, more repetitive text); $\tau > 1$ flattens it (more surprising,
# more misspelled); $\tau \to 0$ is the argmax. A seeded generator makes the text reproducible.

# %%
show(generate)

# %%
prompt_ids = corpus.vocab.encode("ROMEO:\nWhat light through yonder window")[None]
model.reset_state()
logits = model.forward(prompt_ids)[0, -1].astype(np.float64)
model.reset_state()
top = np.argsort(logits)[::-1][:8]
fig, ax = plt.subplots(figsize=(7, 3.5))
for j, tau in enumerate([0.5, 1.0, 2.0]):
    p = nn101.functional.softmax(logits / tau)
    ax.bar(np.arange(8) + 0.27 * (j - 1), p[top], width=0.27, label=f"τ = {tau}")
ax.set_xticks(range(8), [repr(corpus.vocab.chars[i]) for i in top])
ax.set(
    ylabel="probability of the next character",
    title="After 'What light through yonder window': the next character",
)
ax.legend()
plt.show()
entropy = {
    tau: -np.sum(
        nn101.functional.softmax(logits / tau) * nn101.functional.log_softmax(logits / tau)
    )
    for tau in (0.5, 1.0, 2.0)
}
assert entropy[0.5] < entropy[1.0] < entropy[2.0]
print({tau: f"{h:.2f} nats" for tau, h in entropy.items()})

# %% [markdown]
# ## The full run
#
# `examples/char_rnn.py` trains the full recipe (LSTM with 512 units) with a wall-clock budget,
# printing the validation loss every 250 steps and samples along the way, and can run the very
# same recipe with PyTorch's `nn.LSTM` from the same initial weights (`--backend torch`):
#
# ```bash
# python examples/char_rnn.py --minutes 30 --seed 0           # nn101
# python examples/char_rnn.py --steps N --backend torch       # PyTorch, the same N steps
# ```
#
# Measured on two cores of a Xeon server (both backends side by side, 4.3-minute budget, cosine
# decay over the budget), the two implementations follow the same curve step for step:
# validation loss 1.926 / 1.925 (nn101 / PyTorch) after 200 steps, 1.727 / 1.723 after 400, and
# 1.549 / 1.545 after 1,000. nn101 reached **1.517 nats per character after 1,400 steps (231 s)**,
# already below the recipe's goal of 1.55; PyTorch's fused kernels ran about 1.6 times as many
# steps in the same time and reached 1.474 after 2,200 steps. Six-minute runs on the same
# machine gave 1.499 (LSTM-512, batch 32) and 1.495 (LSTM-256, batch 64, learning rate
# $3 \times 10^{-3}$). For scale: nanoGPT's small CPU transformer reports 1.88 after about three
# minutes, its GPU transformer 1.47.
#
# ## The same in PyTorch
#
# The model in idiomatic PyTorch, given the same weights (the LSTM through
# `to_torch_state_dict`, the Dense weight transposed), computes the same loss and the same
# gradients for a batch of windows, in float64:

# %%
import torch

small = CharSettings(embedding_dim=8, hidden_size=16)
ours = build_char_lstm(V, small, rng=rng, dtype=np.float64)
embedding, lstm, head = ours.layers
torch_embedding = torch.nn.Embedding(V, 8, dtype=torch.float64)
torch_lstm = torch.nn.LSTM(8, 16, batch_first=True, dtype=torch.float64)
torch_head = torch.nn.Linear(16, V, dtype=torch.float64)
with torch.no_grad():
    torch_embedding.weight.copy_(torch.from_numpy(embedding.weight.value))
    torch_lstm.load_state_dict(
        {k: torch.from_numpy(v) for k, v in lstm.to_torch_state_dict().items()}
    )
    torch_head.weight.copy_(torch.from_numpy(head.weight.value.T.copy()))
    torch_head.bias.copy_(torch.from_numpy(head.bias.value))
x, y = train[:32]
loss = nn101.SoftmaxCrossEntropy()
value = loss.forward(ours.forward(x, training=True), y)
ours.backward(loss.backward(), input_grad=False)
out, _ = torch_lstm(torch_embedding(torch.from_numpy(x)))
torch_loss = torch.nn.functional.cross_entropy(
    torch_head(out).flatten(0, 1), torch.from_numpy(y).flatten()
)
torch_loss.backward()
assert abs(value - torch_loss.item()) < 1e-10
assert np.allclose(embedding.weight.grad, torch_embedding.weight.grad.numpy(), atol=1e-10)
assert np.allclose(head.weight.grad, torch_head.weight.grad.numpy().T, atol=1e-10)
converted = nn101.LSTM(8, 16, dtype=np.float64)
converted.from_torch_state_dict(
    {k: p.grad if k.startswith("weight") else 0 * p.grad for k, p in torch_lstm.named_parameters()}
)
assert np.allclose(lstm.weight_hh_l0.grad, converted.weight_hh_l0.value, atol=1e-10)
print(f"loss {value:.6f} (nn101) and {torch_loss.item():.6f} (PyTorch); the gradients agree")

# %% [markdown]
# ## Summary
#
# * A character model predicts the next character at every position; its loss, in nats per
#   character, compares with $\log V$ (uniform) and with the entropy of the character frequencies.
# * The text is read as $B$ parallel streams in windows of $T$; a stateful LSTM carries its
#   state from window to window (truncated BPTT) and is reset at each pass.
# * Generation feeds each sampled character back; the temperature trades safety for variety.
# * The full recipe (LSTM-512) passes 1.55 nats per character within minutes on two cores, and
#   follows PyTorch's `nn.LSTM` step for step from the same weights.
#
# ## Exercises
#
# **Exercise 1.** A model that ignores the context and always predicts the character
# frequencies of the training text: what is its validation loss? Compare with the unigram
# entropy above. *Hint:* the frequencies of the validation text differ.
#
# <details><summary>Solution</summary>
#
# Its loss is the cross-entropy $-\sum_v q_v \log p_v$ between the validation frequencies $q$
# and the training frequencies $p$, a little above the entropy of $p$. Computed below.
#
# </details>

# %%
# Solution to exercise 1
q = np.bincount(corpus.valid, minlength=V) / len(corpus.valid)
cross_entropy = -np.sum(q * np.log(frequencies))
print(f"frequencies-only model on the validation text: {cross_entropy:.3f} nats/char")
assert cross_entropy > -np.sum(q[q > 0] * np.log(q[q > 0]))  # Gibbs: never below q's entropy

# %% [markdown]
# **Exercise 2.** Generate with $\tau = 0$ from the trained model. What do you see, and why?
#
# <details><summary>Solution</summary>
#
# With the argmax every step is deterministic, and the model soon falls into a loop (often
# " the the the" or a repeated line): once a state recurs, so does everything after it. Sampling
# with $\tau$ near 1 keeps the text varied. Shown below.
#
# </details>

# %%
# Solution to exercise 2
greedy = generate(model, corpus.vocab, "ROMEO:", 150, 0.0)
print(greedy)
assert greedy == generate(model, corpus.vocab, "ROMEO:", 150, 0.0)  # no randomness at τ = 0

# %% [markdown]
# **Exercise 3.** Why reset the carried state at the start of each pass over the text, and not
# between every two batches?
#
# <details><summary>Solution</summary>
#
# Within a pass, row $n$ of each batch continues row $n$ of the previous one, so the carried
# state is the right context. At the start of a new pass, row $n$ jumps back to the beginning of
# its stream: the state from the end of the stream would be a wrong context. Resetting between
# every two batches would throw away context that is correct, and the model would only ever
# learn from windows that start from a blank state.
#
# </details>
#
# ## Further reading
#
# * A. Karpathy, "The unreasonable effectiveness of recurrent neural networks" (2015), and the
#   char-rnn code: the tiny Shakespeare corpus comes from it.
# * I. Sutskever, J. Martens and G. E. Hinton, "Generating text with recurrent neural networks",
#   ICML (2011).
# * A. Graves, "Generating sequences with recurrent neural networks", arXiv:1308.0850 (2013).
# * A. Karpathy, nanoGPT (2023): the same data and split, with a transformer.
