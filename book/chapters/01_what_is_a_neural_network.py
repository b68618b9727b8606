# %% [markdown]
# # 1. What a neural network is
#
# A neural network is a function. It takes numbers in (the pixels of an image, the words of a
# sentence turned into vectors, the measurements of a patient) and gives numbers out (a class,
# a probability, the next word). What makes it special is not any single step, each of which is
# elementary arithmetic, but that it has many adjustable numbers, its **parameters**, and a
# procedure that tunes them from examples until the function does what we want.
#
# This chapter looks at where the idea came from, builds the smallest network there is, a
# single artificial neuron, trains it with the oldest learning rule there is, and finds the
# limit that the rest of the book learns to overcome.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=2)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Neurons in the brain
#
# The human brain has about 86 billion **neurons**, nerve cells that pass electrical signals to
# one another, and on the order of $10^{14}$ connections between them. A neuron has three parts
# that matter here (left panel of the figure below):
#
# * the **dendrites**, a tree of thin branches that receive signals from other neurons;
# * the **cell body** (soma), where the incoming signals add up as a change of the voltage
#   across the cell's membrane;
# * the **axon**, a single long fibre that carries the neuron's own signal away, often wrapped
#   in an insulating **myelin** sheath, and ends in many **axon terminals**.
#
# Where an axon terminal meets a dendrite of the next cell there is a **synapse**: a gap of a
# few tens of nanometres across which the terminal releases chemical messengers
# (neurotransmitters). Some synapses make the receiving cell more likely to fire (excitatory),
# others less likely (inhibitory), and each has a **strength** that depends on how much
# messenger is released and how many receptors catch it.
#
# At rest the inside of a neuron sits at about $-70$ mV relative to the outside. Each incoming
# signal nudges this voltage up or down a little, and the nudges fade within milliseconds. When
# enough of them arrive close together to lift the voltage past a **threshold** (around
# $-55$ mV), the cell fires an **action potential**: a spike of about 100 mV lasting about a
# millisecond, always of the same shape, which travels down the axon to every terminal. After
# a spike the neuron cannot fire again for a millisecond or two (the **refractory period**).
# A neuron therefore says yes or no many times a second, and what it tells the next cells is
# carried largely by *how often* it fires.
#
# Learning changes the synapses. In 1949 the psychologist Donald Hebb proposed that when one
# cell repeatedly takes part in firing another, the connection between them grows stronger;
# such strengthening (and the matching weakening) has since been measured in real synapses as
# long-term potentiation and depression. Memory and skill live, to a large extent, in synaptic
# strengths.
#
# The right panel shows what the artificial neuron of this book keeps from all that: inputs
# arrive with **weights** (synaptic strengths, positive or negative), they are **summed** (the
# cell body), and the sum passes through an **activation function** (the threshold), whose
# output goes on to other neurons (the axon).


# %%
def draw_biological_neuron(ax, rng):
    """A schematic neuron: dendrites, soma, myelinated axon, terminals and one synapse."""

    def branch(start, angle, length, depth):  # dendrites: a random binary tree
        end = start + length * np.array([np.cos(angle), np.sin(angle)])
        ax.plot(*np.stack([start, end]).T, color="#5c7cfa", lw=0.6 + depth * 0.7)
        if depth > 0:
            for turn in (-0.45, 0.45):
                branch(end, angle + turn + rng.normal(0, 0.12), length * 0.68, depth - 1)

    for angle in np.deg2rad([130, 165, 200, 235, 100, 260]):
        branch(np.array([0.0, 0.0]), angle, 0.9, 3)
    ax.add_patch(plt.Circle((0, 0), 0.45, color="#4263eb", zorder=3))
    ax.plot([0.45, 5.0], [0, 0], color="#364fc7", lw=3, zorder=1)  # the axon
    for left in np.arange(0.9, 4.6, 0.85):  # myelin segments with gaps (nodes of Ranvier)
        ax.add_patch(plt.Rectangle((left, -0.13), 0.7, 0.26, color="#ffd43b", zorder=2))
    for angle in np.deg2rad([-40, -15, 10, 35]):  # axon terminals
        end = np.array([5.0, 0.0]) + 0.9 * np.array([np.cos(angle), np.sin(angle)])
        ax.plot([5.0, end[0]], [0, end[1]], color="#364fc7", lw=1.5)
        ax.add_patch(plt.Circle(end, 0.09, color="#364fc7", zorder=3))
    target = np.array([5.0, 0.0]) + 0.9 * np.array([np.cos(np.deg2rad(35)), np.sin(np.deg2rad(35))])
    ax.plot(
        [target[0] + 0.16, target[0] + 0.9],
        [target[1] + 0.05, target[1] + 0.7],
        color="#e8590c",
        lw=2.5,
    )  # a dendrite of the next neuron, just across the synaptic gap
    labels = {
        "dendrites": ((-1.9, 1.7), (-0.9, 0.9)),
        "cell body (soma)": ((0.9, -1.4), (0.3, -0.35)),
        "axon": ((2.2, -1.2), (2.45, -0.02)),
        "myelin sheath": ((3.0, 1.2), (3.0, 0.13)),
        "axon terminals": ((5.3, -1.6), (5.6, -0.5)),
        "synapse": ((4.3, 1.8), (target[0] + 0.08, target[1] + 0.03)),
    }
    for text, (xy_text, xy) in labels.items():
        ax.annotate(
            text, xy=xy, xytext=xy_text, fontsize=9, arrowprops={"arrowstyle": "-", "lw": 0.7}
        )
    ax.text(target[0] + 0.6, target[1] + 0.75, "next neuron", fontsize=8, color="#e8590c")
    ax.set(xlim=(-2.6, 6.6), ylim=(-2.2, 2.3), aspect="equal", title="A biological neuron")
    ax.axis("off")


def draw_artificial_neuron(ax):
    """Inputs x_j with weights w_j into a sum, an activation, and the output a."""
    inputs = [1.2, 0.0, -1.2]
    for j, height in enumerate(inputs, start=1):
        ax.add_patch(plt.Circle((0, height), 0.3, facecolor="#d0ebff", edgecolor="0.3"))
        ax.text(0, height, f"$x_{j}$", ha="center", va="center", fontsize=12)
        ax.annotate(
            "", xy=(2.2, 0), xytext=(0.3, height), arrowprops={"arrowstyle": "->", "lw": 1.2}
        )
        ax.text(1.1, height * 0.62 + 0.18, f"$w_{j}$", fontsize=12, color="#364fc7")
    ax.add_patch(plt.Circle((2.6, 0), 0.45, facecolor="#fff3bf", edgecolor="0.3"))
    ax.text(2.6, 0, r"$\Sigma$" + "\n" + r"$+\,b$", ha="center", va="center", fontsize=11)
    ax.annotate("", xy=(3.8, 0), xytext=(3.05, 0), arrowprops={"arrowstyle": "->", "lw": 1.2})
    ax.add_patch(plt.Rectangle((3.8, -0.4), 0.8, 0.8, facecolor="#ffe3e3", edgecolor="0.3"))
    ax.text(4.2, 0, r"$\phi$", ha="center", va="center", fontsize=14)
    ax.annotate("", xy=(5.5, 0), xytext=(4.6, 0), arrowprops={"arrowstyle": "->", "lw": 1.2})
    ax.text(5.6, 0, "$a$", va="center", fontsize=13)
    notes = [(0, -2.0, "inputs\n(dendrites)"), (1.2, 1.9, "weights\n(synapses)")]
    notes += [(2.6, -1.2, "sum $z$\n(cell body)"), (4.2, 1.0, "activation\n(threshold)")]
    notes += [(5.65, -1.0, "output\n(axon)")]
    for x_pos, y_pos, text in notes:
        ax.text(x_pos, y_pos, text, ha="center", va="center", fontsize=8, color="0.35")
    ax.set(xlim=(-0.6, 6.3), ylim=(-2.5, 2.4), aspect="equal", title="An artificial neuron")
    ax.axis("off")


fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1.3, 1]})
draw_biological_neuron(left, np.random.default_rng(4))
draw_artificial_neuron(right)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### From spikes to a firing rate
#
# How can a cell that only ever says "spike" stand behind a neuron that outputs a number? A
# standard simplified model, the **leaky integrate-and-fire** neuron, shows it. Its membrane
# voltage $V$ drifts back to rest with a time constant $\tau_m$ while an input current
# $I$ pushes it up,
#
# $$\tau_m \frac{dV}{dt} = -(V - V_{\text{rest}}) + R\,I,$$
#
# and whenever $V$ reaches the threshold the model records a spike, resets $V$, and stays silent
# for a refractory period. We simulate it in steps of 0.1 ms (Euler's method), for a range of
# constant input currents, and count the spikes per second.


# %%
def integrate_and_fire(drive_mv, *, duration_ms=1000.0, dt_ms=0.1):
    """Leaky integrate-and-fire neuron with constant drive R·I (in mV). Returns the voltage
    trace (mV) and the spike times (ms)."""
    tau_ms, v_rest, v_threshold, v_reset, refractory_ms = 10.0, -70.0, -55.0, -75.0, 2.0
    v, quiet_until, spikes, trace = v_rest, -1.0, [], []
    for step_index in range(int(duration_ms / dt_ms)):
        now = step_index * dt_ms
        if now >= quiet_until:
            v += dt_ms / tau_ms * (-(v - v_rest) + drive_mv)
        if v >= v_threshold:
            spikes.append(now)
            trace.append(30.0)  # draw the spike's peak
            v, quiet_until = v_reset, now + refractory_ms
        else:
            trace.append(v)
    return np.array(trace), np.array(spikes)


drives = np.linspace(0.0, 400.0, 81)  # R·I in mV
rates = np.array([len(integrate_and_fire(d)[1]) for d in drives])  # spikes in 1 s = Hz
trace, spike_times = integrate_and_fire(22.0, duration_ms=100.0)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
left.plot(np.arange(len(trace)) * 0.1, trace, color="#364fc7", lw=1)
left.axhline(-55.0, color="#e8590c", ls="--", lw=1, label="threshold")
left.set(xlabel="time (ms)", ylabel="membrane voltage (mV)", title="Constant input: regular spikes")
left.legend(loc="lower right")
right.plot(drives, rates, "o-", ms=3, color="#364fc7")
right.set(
    xlabel="input drive $R\\,I$ (mV)",
    ylabel="firing rate (spikes per second)",
    title="Firing rate: zero, then a rise that levels off",
)
plt.tight_layout()
plt.show()
print(
    f"first spikes at a drive of {drives[np.argmax(rates > 0)]:.0f} mV (of those tried); "
    f"{rates[-1]} spikes per second at {drives[-1]:.0f} mV (the refractory period caps it)"
)
assert rates[0] == 0 and np.all(np.diff(rates) >= 0) and rates[-1] < 1000 / 2.0

# %% [markdown]
# The firing rate as a function of the input is zero below a threshold, rises above it, and
# levels off because of the refractory period. That curve is the ancestor of every activation
# function in this book: the step function of the first artificial neurons keeps only the
# threshold, the sigmoid keeps the threshold and the saturation, and the ReLU of chapter 10
# keeps the threshold and the rise. An artificial neuron's output is best read as a firing
# rate, not as a spike.
#
# Everything else about real neurons is left out: the timing of individual spikes, the
# chemistry of hundreds of kinds of synapse, the geometry of dendrites (which compute in their
# own right), and the wiring of the cortex. Modern networks owe the brain their vocabulary and
# their first inspiration more than their design, and they learn by a rule (backpropagation,
# chapter 8) that the brain almost certainly does not use in this form.

# %% [markdown]
# ## Neurons in a program
#
# An artificial neuron with inputs $x_1, \dots, x_D$ has one weight per input $w_1, \dots, w_D$
# and a **bias** $b$ (a threshold moved to the other side of the inequality). It computes a
# weighted sum, the **pre-activation** $z$, and passes it through an **activation function** $\phi$:
#
# $$z = \sum_{j=1}^{D} x_j w_j + b = x \cdot w + b, \qquad a = \phi(z).$$
#
# The first artificial neurons used a hard threshold, the **step function**
#
# $$\phi(z) = \operatorname{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0, \end{cases}$$
#
# so the neuron answers yes or no. Later neurons use smooth activations such as the logistic
# **sigmoid** $\sigma(z) = 1 / (1 + e^{-z})$, a soft step whose output can be read as a
# probability, and whose derivative exists everywhere (chapter 3 shows why that matters).
# In code the whole neuron is one line:


# %%
def neuron(x, w, b, activation):
    """One artificial neuron: a = f(x·w + b).  Shapes: x (N, D), w (D,), b () -> a (N,)."""
    return activation(x @ w + b)


def step(z):
    return (z >= 0).astype(z.dtype)


x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
w, b = np.array([1.0, 1.0]), -1.5
print("inputs      ", x.tolist())
print("step neuron ", neuron(x, w, b, step))
print("sigmoid     ", neuron(x, w, b, nn101.functional.sigmoid).round(3))

# %% [markdown]
# With weights $(1, 1)$ and bias $-1.5$ the step neuron computes logical AND: only when both
# inputs are on does the sum $x_1 + x_2$ reach 1.5. The sigmoid neuron says the same thing
# softly (0.62 for "both on", 0.38 for "one on", 0.18 for "both off"). nn101 computes the sigmoid like this (the real
# source, printed from the library):

# %%
show(nn101.functional.sigmoid)

# %% [markdown]
# ## The geometry of one neuron
#
# The step neuron says 1 exactly when $x \cdot w + b \ge 0$. The set where $x \cdot w + b = 0$
# is a straight line in two dimensions (a plane in three, a **hyperplane** in general), with $w$
# perpendicular to it: for any two points $p, q$ on it, $(p - q) \cdot w = 0$. Its distance from
# the origin is $|b| / \lVert w \rVert$. So a single neuron splits its input space into two
# half-spaces; it can only separate classes that a straight cut separates. Such data is called
# **linearly separable**.

# %% [markdown]
# ## A short history
#
# The idea of computing with networks of simple units is older than the digital computer's
# first programs, and its history is one of enthusiasm, disappointment and return.
#
# * **1943, the logical neuron.** Warren McCulloch, a neurophysiologist, and Walter Pitts, a
#   logician, describe the neuron as a threshold unit on binary inputs and show that networks
#   of such units can compute any logical function. The weights are set by hand; nothing learns.
# * **1949, a learning rule for synapses.** Donald Hebb's book *The Organization of Behavior*
#   proposes that connections strengthen when the cells they join are active together.
# * **1958, the perceptron.** Frank Rosenblatt's perceptron *learns* its weights from examples,
#   with the rule later in this chapter, and is built in hardware (the Mark I Perceptron, with
#   a camera of 400 photocells) to recognize simple shapes. Bernard Widrow and Ted Hoff's
#   ADALINE (1960) learns by gradient descent on a squared error (chapter 4's loss).
# * **1969, the limits.** Marvin Minsky and Seymour Papert's book *Perceptrons* proves what a
#   single layer of threshold units cannot compute, XOR and connectedness among them. Nobody
#   knows how to train more layers; interest and funding move elsewhere for more than a decade.
# * **1970-1986, backpropagation.** Reverse-mode differentiation (Seppo Linnainmaa, 1970), its
#   application to networks (Paul Werbos, 1974) and the 1986 paper by David Rumelhart,
#   Geoffrey Hinton and Ronald Williams make **backpropagation** the way to train hidden layers
#   (chapter 8). Hopfield's networks (1982) and Fukushima's neocognitron (1980) belong to the
#   same revival.
# * **1989-1998, convolutional networks.** Yann LeCun and colleagues train a convolutional
#   network with backpropagation to read handwritten zip codes (1989); its descendant LeNet-5
#   (1998) reads cheques in banks, and the paper introduces the MNIST digits of chapter 17.
# * **1997, memory.** Sepp Hochreiter and Jürgen Schmidhuber's **LSTM** learns from long
#   sequences by protecting its gradients from vanishing (chapter 12 shows the problem).
# * **2006-2012, deep learning.** Layer-wise pre-training makes deep networks trainable
#   (Hinton and colleagues, 2006); then in 2012 **AlexNet**, a convolutional network trained on
#   two GPUs with ReLU and dropout (chapters 10 and 13), cuts the error of the ImageNet
#   competition from about 26% to 15%. Large labelled datasets, fast parallel hardware and a
#   handful of training tricks turn out to be what was missing.
# * **2014-2017, attention.** Attention lets a translation network look back at any input word
#   (Bahdanau, Cho and Bengio, 2014); residual networks train 152 layers (He et al., 2015);
#   AlphaGo beats a world champion at Go (2016); the **Transformer** ("Attention is all you
#   need", Vaswani et al., 2017) drops recurrence for attention alone.
# * **2018 onwards, scale.** Transformers pre-trained on huge text collections (BERT and GPT,
#   2018; GPT-3, 2020), AlphaFold's protein structures (2020), image generation by diffusion
#   models (2020-2022) and conversational language models (ChatGPT, 2022) bring neural networks
#   into everyday use.

# %%
events = [  # (year, what, height of the label, which side of the stem the label sits)
    (1943, "McCulloch-Pitts neuron", 1.2, "center"),
    (1949, "Hebb's rule", 2.4, "center"),
    (1958, "perceptron", 3.6, "center"),
    (1960, "ADALINE", -1.2, "center"),
    (1969, "Minsky-Papert, Perceptrons", -2.4, "center"),
    (1974, "Werbos: backprop for networks", -3.6, "center"),
    (1982, "Hopfield network", 1.2, "center"),
    (1986, "backpropagation (Rumelhart et al.)", 2.4, "center"),
    (1989, "convolutional net reads zip codes", 3.6, "center"),
    (1997, "LSTM", -1.2, "center"),
    (1998, "LeNet-5, MNIST", -2.4, "center"),
    (2006, "deep belief nets", -3.6, "center"),
    (2012, "AlexNet wins ImageNet", 1.2, "right"),
    (2014, "attention for translation", 2.4, "right"),
    (2015, "ResNet", 3.6, "right"),
    (2016, "AlphaGo", -1.2, "right"),
    (2017, "Transformer", -2.4, "right"),
    (2018, "BERT, GPT", -3.6, "left"),
    (2020, "GPT-3,\nAlphaFold 2", 1.2, "left"),
    (2022, "ChatGPT", -1.2, "left"),
]
fig, ax = plt.subplots(figsize=(14, 5))
ax.axhline(0, color="0.3", lw=1.5)
ax.axvspan(1969, 1982, color="0.92", zorder=0)
ax.text(1975.5, 4.5, "neural networks\nout of fashion", ha="center", fontsize=8, color="0.4")
for year, text, level, side in events:
    ax.plot([year, year], [0, level], color="#748ffc", lw=1)
    ax.plot(year, 0, "o", color="#364fc7", ms=5)
    ax.text(
        year,
        level + (0.15 if level > 0 else -0.15),
        f"{year}\n{text}" if level > 0 else f"{text}\n{year}",
        ha=side,
        va="bottom" if level > 0 else "top",
        fontsize=8,
    )
ax.set(xlim=(1938, 2027), ylim=(-5.0, 5.3), title="Eight decades of neural networks")
ax.set_yticks([])
for side in ("left", "right", "top"):
    ax.spines[side].set_visible(False)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where networks are used, then and now
#
# **Then.** ADALINE-style adaptive filters were among the first learning machines to earn their
# keep: from the 1960s on, adaptive filters of this kind cancelled echoes on telephone lines and
# cleaned up signals in modems. In 1989 ALVINN, a small network with one hidden layer, steered
# a van from camera images. In the 1990s convolutional networks read the amounts on bank
# cheques and the zip codes on letters, and networks scored credit card transactions for fraud.
# These were small networks, a few thousand to a few hundred thousand weights, each built for
# one narrow task.
#
# **Now.** Image classification, detection and segmentation (medical scans, quality control in
# factories, the perception of driver-assistance systems); speech recognition and synthesis in
# phones; machine translation; search and recommendation; text, code and image generation;
# protein structure prediction; weather forecasting that rivals physical simulation; and game
# playing (Go, chess, video games) by combining networks with search or reinforcement learning.
# The largest networks have hundreds of billions of weights and are trained once for many
# tasks, then adapted.
#
# The building blocks have changed less than the scale. In each case the network is a large,
# differentiable function fitted to data, assembled from the pieces this book builds one at a
# time: linear layers (chapter 2), gradient descent (chapter 3), losses (chapters 4 to 7),
# backpropagation (chapter 8), and the techniques that make deep networks train (chapters 10
# to 16).
#
# ## The perceptron learning rule
#
# Rosenblatt's rule visits the examples one at a time. With prediction
# $\hat y = \operatorname{step}(x \cdot w + b)$ and label $y \in \{0, 1\}$, it updates
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# When the prediction is right, $y - \hat y = 0$ and nothing changes. When the neuron said 0 but
# the answer was 1, $w$ moves toward $x$, which raises $x \cdot w$ for this example by
# $\eta \lVert x \rVert^2$ (plus $\eta$ from the bias): the next answer is closer to 1. The
# mistake in the other direction is symmetric. The **perceptron convergence theorem** (Novikoff,
# 1962) guarantees that on linearly separable data this rule stops making mistakes after a
# finite number of updates; on data that is not separable it never settles.


# %%
def train_perceptron(x, y, *, epochs, learning_rate=1.0, rng=None):
    """Rosenblatt's rule. Shapes: x (N, D), y (N,) in {0, 1}. Returns w, b, mistakes per epoch."""
    rng = np.random.default_rng() if rng is None else rng
    w, b = np.zeros(x.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for i in rng.permutation(len(x)):
            error = y[i] - step(x[i] @ w + b)  # -1, 0 or +1
            w += learning_rate * error * x[i]
            b += learning_rate * error
            wrong += int(error != 0)
        mistakes.append(wrong)
    return w, b, mistakes


# Two clouds of points that a straight line can separate.
n = 100
cloud_0 = rng.normal([-1.0, -1.0], 0.5, size=(n, 2))  # (n, 2): centre (-1, -1), std 0.5
cloud_1 = rng.normal([1.0, 0.8], 0.5, size=(n, 2))
x_sep = np.concatenate([cloud_0, cloud_1])  # (2n, 2)
y_sep = np.concatenate([np.zeros(n), np.ones(n)])
w_sep, b_sep, mistakes_sep = train_perceptron(x_sep, y_sep, epochs=20, rng=rng)

# XOR: output 1 when exactly one input is on. No line separates it.
x_xor = x.copy()
y_xor = np.array([0.0, 1.0, 1.0, 0.0])
w_xor, b_xor, mistakes_xor = train_perceptron(x_xor, y_xor, epochs=20, rng=rng)

print("separable data: mistakes per epoch", mistakes_sep)
print("XOR:            mistakes per epoch", mistakes_xor)
print("accuracy on separable data:", np.mean(step(x_sep @ w_sep + b_sep) == y_sep))

# %% [markdown]
# ## Experiment: a decision boundary, and a problem with none
#
# Left: the learned line $x \cdot w + b = 0$ cuts the two clouds apart, with $w$ drawn as an
# arrow perpendicular to it. Right: the number of mistakes per pass over the data. On the
# separable clouds it drops to zero after a few passes and stays there; on the four XOR points it never does,
# because no line puts $(0, 1)$ and $(1, 0)$ on one side and $(0, 0)$ and $(1, 1)$ on the other.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
grid = np.linspace(-2.5, 2.5, 300)
gx, gy = np.meshgrid(grid, grid)
region = step(np.stack([gx, gy], axis=-1) @ w_sep + b_sep)
left.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#dbe4ff", "#ffe3d6"])
left.scatter(*x_sep[y_sep == 0].T, s=12, c="#3451b2", label="class 0")
left.scatter(*x_sep[y_sep == 1].T, s=12, c="#d9480f", label="class 1")
left.plot(grid, -(w_sep[0] * grid + b_sep) / w_sep[1], "k-", lw=1.5, label=r"$x \cdot w + b = 0$")
foot = -b_sep * w_sep / (w_sep @ w_sep)  # the point of the line closest to the origin
left.annotate(
    "",
    xy=foot + w_sep / np.linalg.norm(w_sep),
    xytext=foot,
    arrowprops={"arrowstyle": "->", "lw": 2},
)
left.text(*(foot + 1.1 * w_sep / np.linalg.norm(w_sep)), "$w$", fontsize=13)
left.set(
    xlim=(-2.5, 2.5),
    ylim=(-2.5, 2.5),
    aspect="equal",
    xlabel="$x_1$",
    ylabel="$x_2$",
    title="A perceptron's decision boundary",
)
left.legend(loc="lower right", fontsize=8)
epochs = np.arange(1, len(mistakes_sep) + 1)
right.plot(epochs, mistakes_sep, "o-", label="separable clouds (200 points)")
right.plot(epochs, mistakes_xor, "s-", label="XOR (4 points)")
right.set(
    xlabel="epoch (one pass over the data)",
    ylabel="mistakes during the epoch",
    title="The perceptron rule converges only on separable data",
)
right.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The fix for XOR is to stack neurons: a hidden layer of two neurons can compute OR and NAND,
# and a third neuron can take their AND. But the step function has no useful derivative, so the
# perceptron rule cannot tell a *hidden* neuron how to change. Smooth activations, the gradient
# (chapter 3) and backpropagation (chapter 8) are the way out. Chapter 9 sets the weights of
# such a network for XOR by hand, then trains one-hidden-layer networks on data that no line
# can separate.
#
# ## PyTorch cross-check
#
# A neuron in PyTorch is `torch.nn.Linear` followed by an activation. PyTorch stores the weight
# as (out_features, in_features), the transpose of nn101's (in_features, out_features), so we
# copy $w$ in as a row. The outputs must agree with ours to float64 rounding.

# %%
import torch

x_check = rng.normal(size=(50, 2))
linear = torch.nn.Linear(2, 1, dtype=torch.float64)
with torch.no_grad():
    linear.weight.copy_(torch.from_numpy(w_sep[None, :]))  # (1, 2) = w as a row
    linear.bias.fill_(b_sep)
    ours = neuron(x_check, w_sep, b_sep, nn101.functional.sigmoid)
    theirs = torch.sigmoid(linear(torch.from_numpy(x_check)))[:, 0].numpy()
print("largest difference:", np.abs(ours - theirs).max())
assert np.allclose(ours, theirs, rtol=0, atol=1e-12)
assert np.array_equal(step(x_check @ w_sep + b_sep), (theirs >= 0.5).astype(float))

# %% [markdown]
# ## Summary
#
# * An artificial neuron computes a weighted sum of its inputs plus a bias, $z = x \cdot w + b$,
#   and passes it through an activation, $a = \phi(z)$. It keeps three ideas from biological
#   neurons: weighted inputs, summation, a threshold.
# * A single neuron separates its input space with a hyperplane perpendicular to $w$, so it can
#   only classify linearly separable data.
# * Rosenblatt's perceptron rule learns such a neuron from examples and provably converges on
#   separable data; on XOR it never settles.
# * Stacking neurons solves XOR, but training hidden neurons needs smooth activations, gradients
#   and backpropagation: the subject of the chapters that follow.
#
# ## Exercises
#
# **Exercise 1.** Find weights and a bias for a step neuron that computes OR, and for one that
# computes NAND. Check them with `neuron(x, w, b, step)`. *Hint:* OR fires when the sum of the
# inputs reaches 1; NAND is AND with every sign flipped.
#
# <details><summary>Solution</summary>
#
# OR: $w = (1, 1)$, $b = -0.5$. NAND: $w = (-1, -1)$, $b = 1.5$. Any positive multiple of either
# works too (exercise 4). The cell after exercise 2 checks both.
#
# </details>
#
# **Exercise 2.** Build XOR from three step neurons: a hidden layer computing OR and NAND, and an
# output neuron computing the AND of the two. Why can't the perceptron rule find these weights
# by itself? *Hint:* what target would the rule need for a hidden neuron?
#
# <details><summary>Solution</summary>
#
# XOR is "at least one, but not both": $\text{AND}(\text{OR}(x), \text{NAND}(x))$, checked in
# the cell below. The perceptron rule updates a neuron by comparing its output with a target;
# the data give targets only for the output neuron, and nothing says what a hidden neuron
# should have answered. Gradients through smooth activations (chapters 3 and 8) answer that
# question.
#
# </details>

# %% tags=["solution"]
# Solutions to exercises 1 and 2
w_or, b_or = np.array([1.0, 1.0]), -0.5
w_nand, b_nand = np.array([-1.0, -1.0]), 1.5
assert np.array_equal(neuron(x, w_or, b_or, step), [0, 1, 1, 1])
assert np.array_equal(neuron(x, w_nand, b_nand, step), [1, 1, 1, 0])
hidden = np.stack([neuron(x, w_or, b_or, step), neuron(x, w_nand, b_nand, step)], axis=1)
xor_output = neuron(hidden, np.array([1.0, 1.0]), -1.5, step)  # AND of the two
print("XOR from three neurons:", xor_output)
assert np.array_equal(xor_output, y_xor)

# %% [markdown]
# **Exercise 3.** Move the two clouds closer together (e.g. centres $(-0.3, -0.3)$ and
# $(0.5, 0.4)$) so that they overlap. What happens to the mistakes per epoch, and to the line
# after each epoch?
#
# <details><summary>Solution</summary>
#
# The mistakes never reach zero: every epoch some points on the wrong side of any line trigger
# updates, and the line keeps jumping between positions instead of settling. The rule has no
# notion of "the best line so far"; logistic regression (chapter 6) replaces the yes/no
# mistake with a smooth loss that has a best line.
#
# </details>
#
# **Exercise 4.** Show that scaling $w$ and $b$ by any $c > 0$ leaves the step neuron's
# decisions unchanged. What does this mean for the learning rate of the perceptron rule started
# from zero?
#
# <details><summary>Solution</summary>
#
# $\operatorname{step}(c(x \cdot w + b)) = \operatorname{step}(x \cdot w + b)$ for $c > 0$,
# since multiplying by a positive number does not change a sign. Started from $w = 0, b = 0$,
# every update is $\eta$ times a vector that does not depend on $\eta$, so the weights after any
# sequence of updates are $\eta$ times those for $\eta = 1$: the decisions, and so the whole
# run, do not depend on $\eta$ at all.
#
# </details>
#
# ## Further reading
#
# * W. S. McCulloch and W. Pitts, "A logical calculus of the ideas immanent in nervous
#   activity", *Bulletin of Mathematical Biophysics* 5 (1943).
# * F. Rosenblatt, "The perceptron: a probabilistic model for information storage and
#   organization in the brain", *Psychological Review* 65 (1958).
# * M. Minsky and S. Papert, *Perceptrons* (1969; expanded edition 1988).
# * Y. LeCun, Y. Bengio and G. Hinton, "Deep learning", *Nature* 521 (2015): the field's state
#   after the 2012 revival, by three of its pioneers.
