# %% [markdown]
# # 13. Regularization
#
# A network with tens of thousands of weights trained on a few hundred examples can memorize
# them: the training loss goes to zero while the loss on new examples — the only thing we care
# about — stops improving and then gets *worse*. This is **overfitting**. Regularization is
# everything we do to make a model generalize better without giving it more data. This chapter
# derives the three classic regularizers:
#
# * **L2** (weight decay): penalize the squared size of the weights;
# * **L1**: penalize their absolute size, which drives many of them to exactly zero;
# * **dropout**: randomly silence units during training, so that no unit can rely on any
#   particular other unit;
#
# then shows overfitting on the 8x8 digits and cures it three ways.

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
# ## Penalties on the weights
#
# Add to the data loss $\mathcal{L}_{\text{data}}$ (mean cross-entropy over the batch) a term
# that grows with the weights. In `nn101` each `Dense` layer may carry its own coefficients,
# `Dense(..., l1=λ₁, l2=λ₂)`, and contributes
#
# $$
# \Omega(W) = \lambda_1 \sum_{ij} |W_{ij}| + \lambda_2 \sum_{ij} W_{ij}^2
# $$
#
# (the Keras convention: weights only, never biases — a bias shifts a unit, it does not make
# the function more wiggly). The total loss is $\mathcal{L} = \mathcal{L}_{\text{data}} +
# \sum_{\text{layers}} \Omega(W)$, and since the penalty is a sum of terms in single weights,
# its gradient is elementwise:
#
# $$
# \frac{\partial \Omega}{\partial W_{ij}} = \lambda_1 \operatorname{sign}(W_{ij}) + 2 \lambda_2 W_{ij}.
# $$
#
# (At $W_{ij} = 0$, $|W_{ij}|$ has no derivative; $\operatorname{sign}(0) = 0$ is the usual
# choice of subgradient.)
#
# **Why L2 is called weight decay.** Plug the L2 gradient into a plain gradient step:
#
# $$
# W \leftarrow W - \eta\big(\nabla_W \mathcal{L}_{\text{data}} + 2\lambda_2 W\big)
#   = (1 - 2\eta\lambda_2)\, W - \eta\, \nabla_W \mathcal{L}_{\text{data}}.
# $$
#
# Before every step the weights shrink by the constant factor $1 - 2\eta\lambda_2$: weights
# that the data does not keep pushing up decay towards zero geometrically. Large weights make
# sharp, input-sensitive functions; keeping them small keeps the function smooth.
#
# **Why L1 makes weights exactly zero.** The L1 step subtracts $\eta\lambda_1
# \operatorname{sign}(W)$: a constant-size pull towards zero, however small the weight already
# is. L2's pull, $2\eta\lambda_2 W$, fades as $W \to 0$, so L2 makes weights small but rarely
# zero; L1 keeps pulling until a weight that the data does not need oscillates around zero. L1
# therefore selects features: it produces *sparse* weight matrices.
#
# The layer adds the penalty's gradient to the weight gradient in `backward`, and reports its
# value through `penalty()`; the training loop adds that value to the loss:

# %%
show(nn101.Dense.backward)
show(nn101.Dense.penalty)

# %% [markdown]
# ## Dropout
#
# Dropout (Srivastava et al., 2014) works on activations, not weights. During training each
# unit of the layer's input is kept with probability $1 - p_{\text{drop}}$ and zeroed with probability $p_{\text{drop}}$,
# independently for every example. With a mask $\mathcal{M}_{nj} \sim \operatorname{Bernoulli}(1 - p_{\text{drop}})$,
# *inverted* dropout rescales what survives:
#
# $$
# y = \frac{x \odot \mathcal{M}}{1 - p_{\text{drop}}}, \qquad
# \mathbb{E}[y_{nj}] = \frac{x_{nj}\,\mathbb{E}[\mathcal{M}_{nj}]}{1 - p_{\text{drop}}} = x_{nj}.
# $$
#
# Because the expectation is unchanged, at inference time dropout is simply the identity: the
# next layer sees inputs of the same average size as in training, and there is nothing to
# rescale. The backward pass is the derivative of a fixed elementwise multiplication:
#
# $$
# \frac{\partial \mathcal{L}}{\partial x} = \frac{\partial \mathcal{L}}{\partial y}
# \odot \frac{\mathcal{M}}{1 - p_{\text{drop}}}.
# $$
#
# Why does it regularize? Each step trains a different random sub-network, and a unit can no
# longer count on a particular partner being present, so the network must spread what it knows
# over many units (fewer fragile "co-adaptations"). The full network at inference is close to
# an average of this exponential family of sub-networks. The layer draws its mask from its own
# random generator and saves it for `backward`:

# %%
show(nn101.Dropout.forward)
show(nn101.Dropout.backward)

# %% [markdown]
# ## Overfitting, shown
#
# To provoke overfitting we give a big network little data, and make that data harder to
# trust: 400 training digits, of which we mislabel 30% at random (real datasets contain wrong
# labels too, if fewer), and two hidden layers of 256 units: $64 \cdot 256 + 256 \cdot 256 +
# 256 \cdot 10 = 84{,}480$ weights, ample to memorize 400 answers, right or wrong. We watch the 359 digits of the test split, correctly
# labelled, as validation data. All networks start from the same weights and train with Adam
# (chapter 15) for 60 epochs.
#
# Since `fit` reports the loss *with* the penalty (that is what it minimizes) and measures
# accuracy in training mode (with dropout active), we record what we want to compare with a
# small callback: the cross-entropy without penalty and the accuracy, in inference mode, on
# the training data and on the validation data, after every epoch.

# %%
train_set, test_set = nn101.data.load_digits()  # pixels in [0, 1]
X_train, y_clean = train_set.inputs[:400], train_set.y[:400]
X_val, y_val = test_set.inputs, test_set.y

noise_rng = np.random.default_rng(5)
mislabelled = noise_rng.random(len(y_clean)) < 0.3
y_train = y_clean.copy()  # a wrong label: shift by 1..9, modulo 10
y_train[mislabelled] = (
    y_clean[mislabelled] + noise_rng.integers(1, 10, size=mislabelled.sum())
) % 10
print(f"{mislabelled.sum()} of {len(y_train)} training labels are wrong")


class Monitor(nn101.Callback):
    """Record cross-entropy (without the penalty) and accuracy on training and validation data."""

    def __init__(self):
        self.logs = {"train loss": [], "val loss": [], "train accuracy": [], "val accuracy": []}

    def on_epoch_end(self, state, logs):
        for split, X, y in [("train", X_train, y_train), ("val", X_val, y_val)]:
            output = state.model.predict(X)
            self.logs[f"{split} loss"].append(nn101.SoftmaxCrossEntropy()(output, y))
            self.logs[f"{split} accuracy"].append(nn101.metrics.accuracy(output, y))
        return False  # never stop early


def build(*, l1=0.0, l2=0.0, dropout=0.0, seed=1):
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in [(64, 256), (256, 256)]:
        layers += [
            nn101.Dense(fan_in, fan_out, rng=rng, l1=l1, l2=l2, weight_init="he_normal"),
            nn101.ReLU(),
        ]
        if dropout:
            layers.append(nn101.Dropout(dropout, rng=rng))
    layers.append(nn101.Dense(256, 10, rng=rng, l1=l1, l2=l2))
    return nn101.Sequential(*layers)


def train(model, epochs=60):
    monitor = Monitor()
    model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        optimizer=nn101.Adam(model.parameters(), learning_rate=1e-3),
        loss=nn101.SoftmaxCrossEntropy(),
        callbacks=[monitor],
        rng=np.random.default_rng(2),
        verbose=0,
    )
    return monitor.logs


settings = {
    "no regularization": {},
    "L2, l2 = 1e-2": {"l2": 1e-2},
    "L1, l1 = 1e-3": {"l1": 1e-3},
    "dropout, p = 0.7": {"dropout": 0.7},
}
models, logs = {}, {}
for name, kwargs in settings.items():
    models[name] = build(**kwargs)
    logs[name] = train(models[name])
    predicted = models[name].predict(X_train).argmax(axis=1)
    memorized = np.mean(predicted[mislabelled] == y_train[mislabelled])
    print(
        f"{name:18s} validation accuracy: best {max(logs[name]['val accuracy']):.3f}, "
        f"final {logs[name]['val accuracy'][-1]:.3f} | wrong training labels reproduced: "
        f"{memorized:.0%}"
    )

# %%
fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), sharex=True, sharey="row")
epochs = np.arange(1, 61)
for column, (name, log) in enumerate(logs.items()):
    top, bottom = axes[:, column]
    top.plot(epochs, log["train accuracy"], label="training (30% wrong labels)")
    top.plot(epochs, log["val accuracy"], label="validation")
    top.axhline(1 - mislabelled.mean(), color="grey", lw=0.8, ls=":")
    top.set(title=name, ylim=(0, 1.02))
    bottom.plot(epochs, log["train loss"], label="training")
    bottom.plot(epochs, log["val loss"], label="validation")
    bottom.set(xlabel="epoch", ylim=(0, 3))
axes[0, 0].set_ylabel("accuracy")
axes[1, 0].set_ylabel("cross-entropy (no penalty)")
axes[0, 0].legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Without regularization the network does exactly what we feared. Its training accuracy climbs
# past the dotted line at 68% — the share of training labels that are right — to 100%: to get
# there it must learn the wrong labels too, one example at a time, and it does (the printout
# above says how many of the wrong labels it reproduces). Validation accuracy peaks early,
# while the network is still learning what digits look like, and then *falls* as memorization
# takes over; the validation loss climbs steeply because the network grows confident in its
# memorized answers. The widening gap between the curves *is* overfitting.
#
# Each regularizer stops the memorization in its own way. With L2 or L1, fitting a mislabelled
# example requires weights tuned to that one example, which now cost; the network fits the
# easy, consistent majority instead — training accuracy settles near 68%, on the right labels
# — and the validation accuracy stays near its peak instead of collapsing. Dropout reaches the
# same end by making memorization unreliable: a detail stored in a few units is erased
# whenever they are dropped. The strengths here are a first guess: exercise 1 asks you to
# scan them.
#
# ## What L1 and L2 do to the weights
#
# The derivation predicted that L1 makes weights exactly (or nearly) zero while L2 only makes
# them small. Look at the first layer's weights after training:

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
bins = np.linspace(-0.6, 0.6, 121)
for name in ["no regularization", "L2, l2 = 1e-2", "L1, l1 = 1e-3"]:
    weights = models[name].layers[0].weight.value.ravel()
    ax.hist(weights, bins=bins, histtype="step", lw=1.5, label=name)
    print(
        f"{name:18s} |W| < 1e-3 for {np.mean(np.abs(weights) < 1e-3):6.1%} of first-layer "
        f"weights; mean |W| = {np.abs(weights).mean():.4f}"
    )
ax.set(
    yscale="log",
    xlabel="first-layer weight",
    ylabel="count",
    title="First-layer weights after training",
)
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# L1 sets most first-layer weights to (nearly) zero and leaves a minority large — the long
# tails of the green histogram: each hidden unit ends up reading only a minority of the
# pixels, through a *sparse* weight matrix. L2 shrinks the whole distribution, its largest
# weights most of all, into a narrow bell. L2 has a spike at zero as well, smaller than L1's,
# and the optimizer is the reason: Adam divides every gradient, the penalty's included, by a
# running estimate of its size (chapter 15), so a weight whose only gradient is the penalty
# $2\lambda_2 W$ keeps shrinking by about $\eta$ per step, however small it already is — L2
# under Adam behaves partly like L1. (With plain SGD the L2 pull fades as $W \to 0$, as
# derived above; the *decoupled* weight decay of `nn101.AdamW` restores that behaviour for
# Adam.)

# %% [markdown]
# ## PyTorch cross-check
#
# The same layer with both penalties, in float64, in both libraries: the penalized loss and
# the weight and bias gradients must agree. Then dropout: we read the mask `nn101` drew (the
# units whose output is zero) and apply it in PyTorch by hand, and compare both directions.

# %%
import torch

rng = np.random.default_rng(7)
layer = nn101.Dense(6, 4, rng=rng, dtype=np.float64, l1=0.01, l2=0.02)
x, y = rng.normal(size=(5, 6)), rng.integers(0, 4, size=5)
loss_fn = nn101.SoftmaxCrossEntropy()
layer.zero_grad()
ours = loss_fn(layer.forward(x, training=True), y) + layer.penalty()
layer.backward(loss_fn.backward())

W = torch.tensor(layer.weight.value, requires_grad=True)
b = torch.tensor(layer.bias.value, requires_grad=True)
theirs = (
    torch.nn.functional.cross_entropy(torch.from_numpy(x) @ W + b, torch.from_numpy(y))
    + 0.01 * W.abs().sum()
    + 0.02 * (W**2).sum()
)
theirs.backward()
np.testing.assert_allclose(ours, theirs.item(), rtol=1e-12)
np.testing.assert_allclose(layer.weight.grad, W.grad.numpy(), rtol=1e-10, atol=1e-14)
np.testing.assert_allclose(layer.bias.grad, b.grad.numpy(), rtol=1e-10, atol=1e-14)

dropout = nn101.Dropout(0.3, rng=np.random.default_rng(8))
x = rng.uniform(1.0, 2.0, size=(50, 20))  # no zeros, so zeros mark dropped units
g = rng.normal(size=x.shape)
y_ours = dropout.forward(x, training=True)
dx_ours = dropout.backward(g)
mask = torch.from_numpy((y_ours != 0).astype(np.float64))
x_t = torch.tensor(x, requires_grad=True)
y_t = x_t * mask / (1 - 0.3)
y_t.backward(torch.from_numpy(g))
np.testing.assert_allclose(y_ours, y_t.detach().numpy(), rtol=1e-12)
np.testing.assert_allclose(dx_ours, x_t.grad.numpy(), rtol=1e-12)
assert np.array_equal(dropout.forward(x, training=False), x)  # identity at inference
print(
    f"penalized loss {ours:.10f} agrees with PyTorch; dropout kept {mask.mean():.2f} of units "
    "(expected 0.70)"
)

# %% [markdown]
# ## Summary
#
# * Overfitting is a model learning its training set, noise and wrong labels included, at the
#   expense of new data: training accuracy rises while validation accuracy falls.
# * L2 adds $\lambda_2 \sum W^2$ to the loss and shrinks every weight by a constant factor per
#   step (weight decay); L1 adds $\lambda_1 \sum |W|$ and pulls weights to exactly zero, giving
#   sparse weight matrices.
# * Dropout zeroes each unit with probability $p_{\text{drop}}$ during training and rescales the
#   rest by $1/(1 - p_{\text{drop}})$, so that nothing changes at inference.
# * On 400 digits with 30% wrong labels each of the three keeps the network from memorizing
#   the wrong labels and holds the validation accuracy up.
#
# ## Exercises
#
# **Exercise 1.** Scan $\lambda_2 \in \{10^{-5}, 10^{-4}, 10^{-3}, 10^{-2}, 10^{-1}\}$ and plot
# the final training and validation accuracy against $\lambda_2$. Where is overfitting, where
# underfitting? Do the same for the dropout rate.
#
# <details><summary>Solution</summary>
#
# At the small end the curves look like the unregularized run: training accuracy near 100%,
# validation accuracy fallen from its peak (overfitting). Around $10^{-2}$ training accuracy
# settles near the share of correct labels and validation accuracy is highest. At $10^{-1}$ the
# penalty dominates, the weights stay tiny, and both accuracies fall (underfitting). Dropout
# rates show the same U shape, with the best rates high here because the labels are so noisy.
#
# </details>
#
# **Exercise 2.** Show that with L2 and SGD (no momentum) one step equals
# `SGD(weight_decay=...)` for the right value of `weight_decay`. What is it in terms of
# $\lambda_2$? *Hint:* compare the two gradients added to the data gradient.
#
# <details><summary>Solution</summary>
#
# The penalty adds $2\lambda_2 W$ to the gradient; `weight_decay` $= c$ adds $cW$. So
# `weight_decay` $= 2\lambda_2$ (and `l2` $= c/2$, as `Dense`'s docstring says). The cell
# below takes one step each way and compares.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 2
step_rng = np.random.default_rng(3)
with_penalty = nn101.Dense(6, 4, rng=step_rng, dtype=np.float64, l2=0.05)
with_decay = nn101.Dense(6, 4, dtype=np.float64)
for target, source in zip(with_decay.parameters(), with_penalty.parameters(), strict=True):
    target.value[...] = source.value
x_step, y_step = step_rng.normal(size=(8, 6)), step_rng.integers(0, 4, size=8)
for layer, optimizer in (
    (with_penalty, nn101.SGD(with_penalty.parameters(), learning_rate=0.1)),
    (with_decay, nn101.SGD(with_decay.parameters(), learning_rate=0.1, weight_decay=2 * 0.05)),
):
    loss_fn = nn101.SoftmaxCrossEntropy()
    optimizer.zero_grad()
    loss_fn(layer.forward(x_step, training=True), y_step)
    layer.backward(loss_fn.backward())
    optimizer.step()
assert np.allclose(with_penalty.weight.value, with_decay.weight.value, rtol=1e-12)
print("l2 = λ and weight_decay = 2λ take the same step")

# %% [markdown]
# **Exercise 3.** Early stopping is a regularizer too: train the unregularized network with
# `validation_data=(X_val, y_val)` and `callbacks=[nn101.EarlyStopping("val_loss",
# patience=5)]` (which restores the best weights) and compare its validation accuracy with the
# regularized ones. Why is it cheating a little to stop on the data you report?
#
# <details><summary>Solution</summary>
#
# Early stopping keeps the weights from around the epoch where the validation loss was lowest,
# before memorization took over, and its validation accuracy is close to the regularized runs'
# best. But the stopping epoch was *chosen* on the validation data, so the reported validation
# accuracy is optimistically biased: an honest estimate needs a third set, the test set, used
# once at the end (chapter 17 does this).
#
# </details>
#
# **Exercise 4.** Prove that inverted dropout preserves the mean of each unit but not its
# variance: compute $\operatorname{Var}[y_{nj}]$ for a fixed input. Why can this matter for a
# layer like batch normalization (chapter 16) placed after dropout?
#
# <details><summary>Solution</summary>
#
# With $q = 1 - p_{\text{drop}}$: $y = x \mathcal{M} / q$, $\mathbb{E}[y] = x$ and
# $\mathbb{E}[y^2] = x^2 / q$, so $\operatorname{Var}[y] = x^2 (1/q - 1) = x^2\,
# p_{\text{drop}} / (1 - p_{\text{drop}})$. At inference dropout is the identity and that
# variance disappears, so a batch normalization layer after dropout normalizes with running
# variances measured on noisier inputs than it sees at test time: a "variance shift". The cell
# below measures it.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 4
p_drop, x_fixed = 0.3, np.full((200_000, 1), 2.0)
y_dropped = nn101.Dropout(p_drop, rng=np.random.default_rng(0)).forward(x_fixed, training=True)
expected_variance = 2.0**2 * p_drop / (1 - p_drop)
print(
    f"mean {y_dropped.mean():.3f} (2.0), variance {y_dropped.var():.3f} ({expected_variance:.3f})"
)
assert abs(y_dropped.mean() - 2.0) < 0.02 and abs(y_dropped.var() - expected_variance) < 0.05

# %% [markdown]
# ## Further reading
#
# * N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R. Salakhutdinov, "Dropout: a
#   simple way to prevent neural networks from overfitting", *Journal of Machine Learning
#   Research* 15 (2014).
# * A. Krogh and J. A. Hertz, "A simple weight decay can improve generalization", NIPS (1991).
# * I. Loshchilov and F. Hutter, "Decoupled weight decay regularization", ICLR (2019): why L2
#   and weight decay differ for Adam, and AdamW.
# * C. Zhang, S. Bengio, M. Hardt, B. Recht and O. Vinyals, "Understanding deep learning
#   requires rethinking generalization", ICLR (2017): networks that memorize random labels.
