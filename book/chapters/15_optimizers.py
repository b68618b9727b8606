# %% [markdown]
# # 15. Optimizers
#
# Plain gradient descent takes a step against the gradient, of a size set by one learning rate
# shared by every weight: $\theta \leftarrow \theta - \eta\, g$ with $g = \nabla \mathcal{L}
# (\theta)$. Two things go wrong with it on real loss surfaces.
#
# * **Ravines.** When the surface is much steeper in one direction than in another (an
#   ill-conditioned problem), a learning rate small enough not to diverge across the ravine is
#   far too small to make progress along it. Descent zig-zags across and crawls along.
# * **Different scales.** Gradients of different weights can differ by orders of magnitude
#   (the first and last layers of a deep network, chapter 12; rare and frequent input features),
#   so no single learning rate suits all of them.
#
# *Momentum* addresses the first by averaging gradients over steps; *RMSprop* addresses the
# second by dividing each weight's step by a running size of its own gradient; *Adam* does
# both, and *AdaMax* is Adam with a different measure of size. This chapter derives each
# update, watches them on a two-dimensional surface, and races them on the digits.

# %%
import inspect
import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## Momentum
#
# Keep a *velocity* $m$, an exponentially decaying sum of past gradients, and step along it:
#
# $$
# m_t = \mu\, m_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, m_t ,
# $$
#
# with momentum coefficient $\mu \in [0, 1)$ (typically $0.9$) and $m_0 = 0$. Unrolling,
# $m_t = \sum_{i \le t} \mu^{t-i} g_i$. Along the floor of a ravine successive gradients point
# the same way and add up: with a constant gradient $g$ the velocity tends to $g / (1 - \mu)$,
# a step ten times longer for $\mu = 0.9$. Across the ravine they alternate in sign and
# cancel. So momentum accelerates where descent is consistent and damps oscillation where it
# is not. (This is PyTorch's convention; some texts write $m_t = \mu m_{t-1} + \eta g_t$, which
# is the same thing while $\eta$ is constant.)
#
# *Nesterov* momentum (`nesterov=True`) looks ahead: it steps along $g_t + \mu m_t$, the
# gradient plus the velocity it is about to apply, which corrects an overshoot one step
# earlier.
#
# ## RMSprop
#
# Keep a running average of each weight's *squared* gradient and divide the step by its root:
#
# $$
# v_t = \rho\, v_{t-1} + (1 - \rho)\, g_t^2, \qquad
# \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon},
# $$
#
# all operations elementwise, with $\rho = 0.99$ and $\epsilon = 10^{-8}$ (PyTorch's
# defaults; PyTorch calls $\rho$ `alpha`). $\sqrt{v_t}$ is the root mean square of recent
# gradients of that weight, so $g_t / \sqrt{v_t}$ is of order one whatever the scale of the gradient: every weight moves by
# about $\eta$ per step. A weight with steep, large gradients gets a proportionally smaller
# step; a weight with tiny gradients a proportionally larger one. $\epsilon$ only guards the
# division.
#
# ## Adam
#
# Adam (Kingma & Ba, 2015) combines the two: a running mean of the gradient (momentum, the
# *first moment*) and a running mean of its square (RMSprop, the *second moment*):
#
# $$
# m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
# v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 ,
# $$
#
# with $\beta_1 = 0.9$, $\beta_2 = 0.999$, $m_0 = v_0 = 0$. Starting at zero biases both
# averages towards zero in the first steps. Unroll $m_t$:
#
# $$
# m_t = (1 - \beta_1) \sum_{i=1}^{t} \beta_1^{t-i} g_i .
# $$
#
# If the gradients have a stationary mean $\mathbb{E}[g]$, then
#
# $$
# \mathbb{E}[m_t] = \mathbb{E}[g]\,(1 - \beta_1) \sum_{i=1}^{t} \beta_1^{t-i}
#                 = \mathbb{E}[g]\,(1 - \beta_1)\,\frac{1 - \beta_1^t}{1 - \beta_1}
#                 = \mathbb{E}[g]\,\big(1 - \beta_1^t\big),
# $$
#
# by the geometric series. So dividing by $1 - \beta_1^t$ removes the bias, and likewise
# for $v$:
#
# $$
# \hat m_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t}, \qquad
# \theta_t = \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.
# $$
#
# The correction matters most for $v$: at the first step $1 - \beta_2 = 0.001$, so an
# uncorrected $\sqrt{v_1} = \sqrt{0.001}\,|g_1|$ is about 30 times too small, and correcting
# $m$ alone would make the first step about 30 times too long ($1/\sqrt{0.001} \approx 32$).
# With neither corrected the two errors partly cancel, to a first step about 3 times too long.
#
# ## AdaMax
#
# Adam scales by the 2-norm of recent gradients. Replace the square by a $\nu$-th power,
# $v_t = \beta_2^\nu v_{t-1} + (1 - \beta_2^\nu) |g_t|^\nu$, and let $\nu \to \infty$ (Kingma &
# Ba, section 7). Unrolled, $v_t^{1/\nu} = (1-\beta_2^\nu)^{1/\nu} \big(\sum_i \beta_2^{\nu(t-i)}
# |g_i|^\nu\big)^{1/\nu}$; the first factor tends to 1 and the $\nu$-norm of a vector tends to
# its largest entry, so
#
# $$
# v^{\infty}_t = \lim_{\nu \to \infty} v_t^{1/\nu} = \max_i\, \beta_2^{t-i} |g_i|
#     = \max\big(\beta_2\, v^{\infty}_{t-1},\ |g_t|\big).
# $$
#
# A simple recursion, with no bias to correct (the maximum does not start from an average of
# zeros), and the update
#
# $$
# \theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{v^{\infty}_t} .
# $$
#
# PyTorch (and `nn101`) add $\epsilon$ inside the maximum, $v^{\infty}_t = \max(\beta_2
# v^{\infty}_{t-1}, |g_t| + \epsilon)$, so a weight whose gradient has always been zero does not
# divide by zero.
#
# Each of these is a small class in `nn101.optimizers`; each sees only a list of Parameters
# and updates their values in place from their gradients. Here are their `step` methods, each
# the rules above, one line per update, with the equation in the comment. They work in place,
# with one scratch array per parameter (`tmp`), so that a step allocates no new arrays; the
# code names follow PyTorch's where the book's letters differ: the velocity $m$ is
# `momentum_buffer` (`b`), RMSprop's $\rho$ is `alpha` (`a`), AdaMax's $v^{\infty}$ is `u`, and
# $\lambda$ in the comments is `weight_decay`, an option we skipped (as are dampening and
# centered RMSprop; the docstrings state them). SGD, with and without momentum:

# %%
show(nn101.SGD.step)

# %% [markdown]
# RMSprop (with its optional momentum and centering):

# %%
show(nn101.RMSprop.step)

# %% [markdown]
# Adam folds the two bias corrections into the step size and $\epsilon$: with
# $\eta_t = \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)$ and
# $\epsilon_t = \epsilon \sqrt{1 - \beta_2^t}$,
#
# $$
# \eta_t \frac{m_t}{\sqrt{v_t} + \epsilon_t}
# = \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{\sqrt{v_t}/\sqrt{1 - \beta_2^t} + \epsilon}
# = \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon},
# $$
#
# the same update with two scalar multiplications instead of two array divisions:

# %%
show(nn101.Adam.step)

# %% [markdown]
# And AdaMax, whose maximum needs no bias correction:

# %%
show(nn101.AdaMax.step)

# %% [markdown]
# ## Trajectories on one surface
#
# A two-dimensional surface lets us *see* the paths. We take the classic long curved valley,
# Rosenbrock's function $f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2$, with its minimum at
# $(1, 1)$: across the valley the walls are steep (curvature in the hundreds), along its floor
# the slope is gentle (curvature of order one). Its gradient is
#
# $$
# \frac{\partial f}{\partial x} = -2(1 - x) - 400\,x\,(y - x^2), \qquad
# \frac{\partial f}{\partial y} = 200\,(y - x^2).
# $$
#
# The point $(x, y)$ is a single `Parameter`; each step we write the gradient into its `grad`
# and call `step()`, exactly as a network's training loop does. The learning rates of the
# different methods are not on the same scale — for SGD $\eta$ multiplies the gradient, for
# the adaptive methods it is roughly the distance moved per step — so a fair race tunes each:
# every optimizer runs 500 steps with each of nine rates from $10^{-4}$ to 1, and we keep its
# best run (lowest final $f$; a run that blows up counts as lost).


# %%
def rosenbrock(p):
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def trajectory(make_optimizer, start=(-1.2, 1.6), steps=500):
    """The path of an optimizer from ``start``; stops early if it leaves the picture."""
    point = nn101.Parameter(np.array(start, dtype=np.float64))
    optimizer = make_optimizer([point])
    path = [point.value.copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        point.grad += rosenbrock_grad(point.value)
        optimizer.step()
        path.append(point.value.copy())
        if not np.abs(point.value).max() < 100:  # diverged (or became nan)
            break
    return np.array(path)


contenders = {
    "SGD": lambda p, rate: nn101.SGD(p, learning_rate=rate),
    "momentum 0.9": lambda p, rate: nn101.SGD(p, learning_rate=rate, momentum=0.9),
    "RMSprop": lambda p, rate: nn101.RMSprop(p, learning_rate=rate),
    "Adam": lambda p, rate: nn101.Adam(p, learning_rate=rate),
    "AdaMax": lambda p, rate: nn101.AdaMax(p, learning_rate=rate),
}
rates = np.logspace(-4, 0, 9)
paths, best_rate = {}, {}
with np.errstate(over="ignore", invalid="ignore"):  # some rates are meant to blow up
    for name, make in contenders.items():
        runs = {rate: trajectory(lambda p, r=rate, m=make: m(p, r)) for rate in rates}
        final = {
            rate: rosenbrock(path[-1]) if len(path) == 501 else np.inf
            for rate, path in runs.items()
        }
        best_rate[name] = min(final, key=final.get)
        paths[name] = runs[best_rate[name]]
        print(
            f"{name:13s} best rate {best_rate[name]:<7.4g} after 500 steps at "
            f"({paths[name][-1, 0]:+.3f}, {paths[name][-1, 1]:+.3f}), "
            f"f = {final[best_rate[name]]:.1e}"
        )

# %%
xs, ys = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 2.2, 300))
fig, (ax, curves) = plt.subplots(1, 2, figsize=(12, 4.8))
ax.contourf(
    xs,
    ys,
    rosenbrock((xs, ys)),
    levels=np.logspace(-2, 3, 21),
    norm=matplotlib.colors.LogNorm(),
    cmap="Greys_r",
    alpha=0.5,
)
for name, path in paths.items():
    label = f"{name}, η={best_rate[name]:.2g}"
    ax.plot(path[:, 0], path[:, 1], lw=1.4, label=label)
    curves.semilogy([rosenbrock(p) for p in path], label=label)
ax.plot(1, 1, "k*", ms=12)
ax.plot(-1.2, 1.6, "ko", ms=5)
ax.set(
    xlabel="x",
    ylabel="y",
    xlim=(-1.6, 1.6),
    ylim=(-0.6, 2.2),
    title="500 steps on $(1-x)^2 + 100(y-x^2)^2$, best rate each",
)
curves.set(xlabel="step", ylabel="f", title="Loss along each path")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# Every path must first drop into the valley and then follow its floor round the bend to the
# star. Plain SGD's best rate sits right at the edge of stability, about $2/\omega_{\max}$ for
# the steep curvature $\omega_{\max}$ of the walls: it is thrown across the valley in the first
# steps and later oscillates between the walls, and any smaller rate crawls along the gentle
# floor even more slowly. Momentum, at a *smaller* rate, accumulates the consistent push along
# the floor and arrives smoothly. Adam gets there too, by a different route: its
# per-coordinate scaling makes the gentle direction move as fast as the steep one, and its
# momentum averages out the bouncing between the walls.
#
# RMSprop has the scaling but no momentum: with $g / \sqrt{v}$ of order one in every
# coordinate it keeps stepping about $\eta$ across the valley as well as along it, and must
# trade speed for bouncing. AdaMax is slow here for a reason its formula shows:
# $v^{\infty}_t$ remembers the *largest* recent gradient, decaying only by $\beta_2 = 0.999$ per step, and
# the gradients at the start, high on the wall, are a hundred times those on the floor — so
# only a huge rate moves it along the floor at all, and that rate throws it around at the
# start. Toy surfaces like this one exaggerate such quirks; the real test is a network.
#
# ## The race on a real network
#
# Now the same optimizers train the same network from the same initial weights on the 8x8
# digits: three hidden ReLU layers of 128 units, 15 epochs, mini-batches of 32. Each gets a
# usual learning rate for its kind.

# %%
train_set, test_set = nn101.data.load_digits()  # 1,438 + 359 images, pixels in [0, 1]
X_train, y_train = train_set.inputs, train_set.y
X_test, y_test = test_set.inputs, test_set.y


def build(seed=1):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(
        nn101.Dense(64, 128, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(128, 128, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(128, 128, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(128, 10, rng=rng),
    )


race = {
    "SGD, η=0.01": lambda p: nn101.SGD(p, learning_rate=0.01),
    "momentum 0.9, η=0.01": lambda p: nn101.SGD(p, learning_rate=0.01, momentum=0.9),
    "RMSprop, η=0.001": lambda p: nn101.RMSprop(p, learning_rate=0.001),
    "Adam, η=0.001": lambda p: nn101.Adam(p, learning_rate=0.001),
    "AdaMax, η=0.002": lambda p: nn101.AdaMax(p, learning_rate=0.002),
}
results = {}
for name, make in race.items():
    model = build()
    results[name] = model.fit(
        X_train,
        y_train,
        epochs=15,
        batch_size=32,
        optimizer=make(model.parameters()),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=(X_test, y_test),
        rng=np.random.default_rng(2),
        verbose=0,
    ).history
    print(
        f"{name:22s} train loss {results[name]['loss'][-1]:.4f}, "
        f"test accuracy {results[name]['val_accuracy'][-1]:.3f}"
    )

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
epochs = np.arange(1, 16)
for name, history in results.items():
    left.semilogy(epochs, history["loss"], "o-", ms=3, label=name)
    right.plot(epochs, history["val_accuracy"], "o-", ms=3, label=name)
left.set(xlabel="epoch", ylabel="training loss", title="Digits, same network and seed")
right.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.5, 1.0))
left.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Plain SGD at this rate is the slowest by far. Momentum, with the same $\eta$, takes steps
# up to ten times longer ($1/(1-\mu)$) and keeps pace with the adaptive methods, which reach a
# low training loss within a few epochs although their rates are ten times smaller.

# %%
others = {name: h["val_accuracy"][-1] for name, h in results.items() if name != "SGD, η=0.01"}
spread = max(others.values()) - min(others.values())
display(
    Markdown(
        f"Apart from plain SGD, the final test accuracies lie between {min(others.values()):.1%} "
        f"and {max(others.values()):.1%}, {100 * spread:.1f} percentage points apart: on an easy "
        "problem every reasonable optimizer gets there; what differs is how fast, and how much "
        "tuning it took."
    )
)

# %% [markdown]
#
# ## PyTorch cross-check
#
# Fifty steps on the Rosenbrock surface, in float64, with each optimizer in `nn101` and its
# counterpart in `torch.optim` (same hyperparameters): the paths must coincide.

# %%
import torch


def torch_trajectory(make_optimizer, start=(-1.2, 1.6), steps=50):
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([point])
    path = [point.detach().numpy().copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        x, y = point
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        loss.backward()
        optimizer.step()
        path.append(point.detach().numpy().copy())
    return np.array(path)


pairs = {
    "momentum (Nesterov)": (
        lambda p: nn101.SGD(p, learning_rate=0.001, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.001, momentum=0.9, nesterov=True),
    ),
    "RMSprop": (
        lambda p: nn101.RMSprop(p, learning_rate=0.01),
        lambda p: torch.optim.RMSprop(p, lr=0.01),
    ),
    "Adam": (lambda p: nn101.Adam(p, learning_rate=0.1), lambda p: torch.optim.Adam(p, lr=0.1)),
    "AdaMax": (
        lambda p: nn101.AdaMax(p, learning_rate=0.1),
        lambda p: torch.optim.Adamax(p, lr=0.1),
    ),
}
for name, (ours, theirs) in pairs.items():
    a, b = trajectory(ours, steps=50), torch_trajectory(theirs)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    print(f"{name:20s} 50 steps agree with torch.optim; max difference {np.abs(a - b).max():.1e}")

# %% [markdown]
# ## Summary
#
# * Momentum averages gradients over steps ($m_t = \mu m_{t-1} + g_t$): it accelerates along
#   consistent directions and damps oscillation across ravines.
# * RMSprop divides each weight's step by the root mean square of its recent gradients, so
#   every weight moves by about $\eta$ whatever its gradient's scale.
# * Adam does both, with bias corrections $1/(1 - \beta_1^t)$ and $1/(1 - \beta_2^t)$ that undo
#   the start of its averages at zero; AdaMax replaces the mean square by a decaying maximum.
# * Each `step` in `nn101.optimizers` is these equations, one line each, and follows
#   `torch.optim` to rounding; on the digits all tuned optimizers but plain SGD end close
#   together.
#
# ## Exercises
#
# **Exercise 1.** Give plain SGD its best chance on the Rosenbrock surface: find the largest
# learning rate that does not diverge. Why is it limited by the *steep* direction? *Hint:* on a
# quadratic with curvature $\omega$, SGD is stable only for $\eta < 2 / \omega$.
#
# <details><summary>Solution</summary>
#
# Near the minimum the Hessian of Rosenbrock's function has eigenvalues of about 1000 and 0.4,
# so the limit there is about $2/1000 = 0.002$; from the start at $(-1.2, 1.6)$ the walls are
# steeper still, and the largest stable rate found by trial is of that order. The steep
# direction's curvature sets the limit because that is where a too-large step overshoots and
# grows; the shallow direction would tolerate a rate a thousand times larger.
#
# </details>
#
# **Exercise 2.** Show that with a constant gradient $g$, Adam's step is exactly $\eta$ in size
# for every $t$ (ignoring $\epsilon$). What does this say about the units of $\eta$ for Adam
# versus SGD?
#
# <details><summary>Solution</summary>
#
# With $g_t = g$: $m_t = (1 - \beta_1^t) g$, so $\hat m_t = g$; likewise $\hat v_t = g^2$. The
# step is $\eta\, g / |g| = \eta \operatorname{sign}(g)$ in every coordinate. Adam's $\eta$ is a
# distance in parameter space, independent of the loss's scale; SGD's $\eta$ multiplies the
# gradient, so its units are (parameter units)$^2$ per loss unit, and it must be retuned when
# the loss is rescaled. The cell below checks it with `nn101.Adam`.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 2
point = nn101.Parameter(np.zeros(3))
adam = nn101.Adam([point], learning_rate=0.01, eps=0.0)
constant_gradient = np.array([1e-4, -3.0, 250.0])
for _ in range(5):
    before = point.value.copy()
    adam.zero_grad()
    point.grad += constant_gradient
    adam.step()
    assert np.allclose(point.value - before, -0.01 * np.sign(constant_gradient), rtol=1e-9)
print("every Adam step moved each coordinate by exactly η = 0.01")

# %% [markdown]
# **Exercise 3.** Switch off Adam's bias correction (write the update by hand in a few lines)
# and compare the first ten steps on the digits network. Which moment's correction matters
# more, and why?
#
# <details><summary>Solution</summary>
#
# The second moment's: at step 1 the uncorrected $v_1 = 0.001\, g_1^2$ makes
# $\sqrt{v_1}$ about 32 times too small, while $m_1 = 0.1\, g_1$ is only 10 times too small, so
# the uncorrected first step is about 3 times too long, and with $m$ corrected but $v$ not it
# would be about 32 times too long. The effect fades as $\beta_2^t \to 0$, after a few thousand
# steps for $v$ but a few dozen for $m$; in the first ten steps the loss of the uncorrected run
# jumps around more.
#
# </details>
#
# **Exercise 4.** Add `nn101.SGD(..., momentum=0.9, nesterov=True)` and `nn101.Nadam` to the
# race. Does looking ahead help on this network?
#
# <details><summary>Solution</summary>
#
# Slightly, if at all: Nesterov momentum and Nadam reach about the same training loss and test
# accuracy as their plain versions, sometimes a little earlier. The look-ahead matters most on
# ill-conditioned surfaces with high momentum, where it damps overshooting; mini-batch noise
# on an easy problem hides the difference.
#
# </details>
#
# ## Further reading
#
# * B. T. Polyak, "Some methods of speeding up the convergence of iteration methods", *USSR
#   Computational Mathematics and Mathematical Physics* 4 (1964): the heavy-ball method.
# * I. Sutskever, J. Martens, G. Dahl and G. Hinton, "On the importance of initialization and
#   momentum in deep learning", ICML (2013): Nesterov momentum for networks.
# * D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", ICLR (2015).
# * S. Ruder, "An overview of gradient descent optimization algorithms", arXiv:1609.04747
#   (2016).
