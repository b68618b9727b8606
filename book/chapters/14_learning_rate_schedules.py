# %% [markdown]
# # 14. Learning-rate schedules
#
# The learning rate is the most important number in training a network, and there is no
# reason for it to stay the same from the first step to the last. Early on the weights are
# far from any good solution and large steps cover the distance quickly; late in training they
# sit near a minimum, and large steps only bounce around it. A **schedule** is a rule
# $\eta_t$ that gives the rate for step $t = 0, 1, 2, \dots$; the training loop asks it before
# every step. This chapter derives why decaying the rate helps, builds the classic schedules —
# halving, exponential decay, cyclical rates and the 1cycle policy — and the *learning-rate
# range test*, which finds a good rate in a few seconds instead of by trial and error.

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
# ## Why decay: the noise floor of SGD
#
# Mini-batch gradients are noisy: the gradient of a batch is the true gradient plus noise.
# Take the simplest loss, a one-dimensional quadratic $\mathcal{L}(\theta) = \tfrac{\omega}{2}
# \theta^2$ with its minimum at 0, and model a mini-batch gradient as $\omega\theta_t +
# \xi_t$ with independent noise of mean 0 and variance $s^2$. One SGD step is
#
# $$
# \theta_{t+1} = \theta_t - \eta(\omega\theta_t + \xi_t) = (1 - \eta\omega)\,\theta_t -
# \eta\,\xi_t .
# $$
#
# The mean $\mathbb{E}[\theta_t]$ shrinks by $1 - \eta\omega$ per step: it goes to 0, and
# faster for larger $\eta$ (as long as $\eta < 2/\omega$). But the variance does not go to 0.
# Since $\xi_t$ is independent of $\theta_t$,
#
# $$
# \operatorname{Var}[\theta_{t+1}] = (1 - \eta\omega)^2 \operatorname{Var}[\theta_t] + \eta^2 s^2 ,
# $$
#
# whose fixed point $V = (1-\eta\omega)^2 V + \eta^2 s^2$ is
#
# $$
# V = \frac{\eta^2 s^2}{1 - (1 - \eta\omega)^2} = \frac{\eta\, s^2}{\omega\,(2 - \eta\omega)}
# \approx \frac{\eta\, s^2}{2\omega} \quad (\eta\omega \ll 1).
# $$
#
# With a constant rate, SGD does not converge to the minimum: it converges to a cloud around
# it whose spread is *proportional to the learning rate*. That is the trade-off a schedule
# resolves: a large $\eta$ for fast progress of the mean while we are far away, a small
# $\eta$ at the end to shrink the cloud.
#
# ## Step decay, or halving
#
# The oldest recipe: train with $\eta_0$, and every $k$ steps (or epochs) multiply the rate by
# a factor $q$; with $q = \tfrac12$, halve it:
#
# $$
# \eta_t = \eta_0\, q^{\lfloor t / k \rfloor}.
# $$
#
# ## Exponential decay
#
# The smooth version multiplies by the factor $q^{1/k}$, slightly below 1, at *every* step:
# $\eta_t = \eta_0\, q^{t/k}$. It agrees with step decay at every $t$ that is a multiple of
# $k$, and moves smoothly in between.
#
# ## Cyclical learning rates
#
# Smith (2017) proposed the opposite of monotone decay: let the rate go up and down
# periodically between a lower bound $\eta_{\min}$ and an upper bound $\eta_{\max}$, in a
# triangle of half-period $n_{\text{half}}$ steps. With $u = t / (2 n_{\text{half}}) -
# \lfloor t / (2 n_{\text{half}}) \rfloor \in [0, 1)$ the position within the current cycle,
#
# $$
# \eta_t = \eta_{\min} + (\eta_{\max} - \eta_{\min}) \cdot
# \begin{cases} 2u & u \le \tfrac12 \\ 2(1 - u) & u > \tfrac12 \end{cases}
# $$
#
# (the `triangular2` variant halves the height after every cycle). The periods of large rate
# shake the weights out of sharp, narrow minima and across saddle points, where gradients are
# tiny; the periods of small rate settle into whatever basin they reach. And the method needs
# only a *range* of good rates, not one exact value.
#
# ## 1cycle and super-convergence
#
# Smith & Topin (2019) observed that with one single cycle — a warm-up from a small rate to a
# very large one, then a long annealing down to almost zero — some networks trained to the
# same accuracy in a fraction of the usual number of epochs. They called it
# *super-convergence*. The 1cycle policy, as PyTorch's `OneCycleLR` defines it:
#
# * warm-up: over the first 30% of the $n_{\text{steps}}$ steps, rise from $\eta_{\max} / 25$
#   to $\eta_{\max}$;
# * annealing: over the rest, fall to $\eta_{\max} / (25 \cdot 10^4)$;
# * each along half a cosine, $\eta = \eta_{\text{end}} + \tfrac12(\eta_{\text{start}} -
#   \eta_{\text{end}})(1 + \cos \pi u)$ for the fraction $u \in [0, 1]$ of the phase done;
# * and the **momentum** the other way round: from 0.95 down to 0.85 while the rate rises,
#   back to 0.95 while it falls.
#
# Why cycle the momentum against the rate? With momentum $\mu$ the velocity accumulates
# gradients up to a factor $1/(1 - \mu)$ (chapter 15), so the effective step is about
# $\eta / (1 - \mu)$. Lowering $\mu$ at the peak of $\eta$ keeps that product from getting out
# of hand; raising it when $\eta$ is small keeps progress going.
#
# Each schedule in `nn101.schedules` is a pure function of the step (no optimizer inside), so
# it can be plotted directly with `.values(steps)`. Calling a schedule is computing the
# formula; here are step decay and the cyclical rate:

# %%
show(nn101.StepDecay.__call__)
show(nn101.CyclicLR.__call__)

# %% [markdown]
# 1cycle's two phases are the same half cosine with different end points. Written out in a few
# lines, with the phase boundaries of PyTorch's `OneCycleLR` (the warm-up ends at step
# $0.3\, n_{\text{steps}} - 1$), it gives exactly nn101's rates:


# %%
def one_cycle_rate(t, max_rate, n_steps, warmup=0.3, div=25.0, final_div=1e4):
    """The 1cycle learning rate at step t, from the definition above."""
    start, end_of_warmup = max_rate / div, warmup * n_steps - 1
    if t <= end_of_warmup:  # warm-up: start -> max_rate
        u, high, low = t / end_of_warmup, start, max_rate
    else:  # annealing: max_rate -> start / final_div
        u = (t - end_of_warmup) / (n_steps - 1 - end_of_warmup)
        high, low = max_rate, start / final_div
    return low + (high - low) / 2 * (1 + np.cos(np.pi * u))


ours = [one_cycle_rate(t, 0.1, 360) for t in range(360)]
assert np.allclose(ours, nn101.OneCycle(0.1, total_steps=360).values(360), rtol=1e-12)
print(f"one_cycle_rate agrees with nn101.OneCycle at all 360 steps (peak {max(ours):.3f})")

# %% [markdown]
# The training loop asks the schedule before every step (or every epoch, with
# `schedule_per="epoch"`), and copies 1cycle's momentum into the optimizer as well:

# %%
show(nn101.training.train_step)
show(nn101.training.loop.apply_schedule)

# %% [markdown]
# We will train the digits for 8 epochs of 45 mini-batches, 360 steps in all. Here are the
# schedules we are about to compare, over exactly those steps:

# %%
train_set, test_set = nn101.data.load_digits()  # 1,438 + 359 images, pixels in [0, 1]
X_train, y_train = train_set.inputs, train_set.y
X_test, y_test = test_set.inputs, test_set.y
batch_size, epochs = 32, 8
steps_per_epoch = -(-len(X_train) // batch_size)
total = epochs * steps_per_epoch

schedules = {
    "constant 0.02": nn101.Constant(0.02),
    "halving every 2 epochs": nn101.StepDecay(0.1, every=2 * steps_per_epoch, factor=0.5),
    "exponential": nn101.ExponentialDecay(0.1, factor=0.5 ** (1 / (2 * steps_per_epoch))),
    "cyclical (triangular2)": nn101.CyclicLR(
        0.005, 0.1, step_size_up=steps_per_epoch, mode="triangular2"
    ),
    "1cycle": nn101.OneCycle(0.1, total_steps=total),
}

fig, (ax, momentum_ax) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
for name, schedule in schedules.items():
    ax.plot(schedule.values(total), label=name)
ax.set(
    xlabel="step",
    ylabel="learning rate",
    yscale="log",
    ylim=(1e-7, 1),
    title=f"The schedules over {total} steps",
)
ax.legend(fontsize=8)
momentum_ax.plot(
    schedules["1cycle"].values(total) / schedules["1cycle"].max_lr, label="rate / max rate"
)
momentum_ax.plot(schedules["1cycle"].momentum_values(total), label="momentum")
momentum_ax.set(xlabel="step", title="1cycle: rate and momentum")
momentum_ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The learning-rate range test
#
# How large may $\eta_{\max}$ be? Smith's range test answers it empirically in one short run:
# train from a tiny rate, multiply the rate by the same factor after every mini-batch so that
# $n$ steps sweep from $\eta_{\text{start}}$ to $\eta_{\text{end}}$,
#
# $$
# \eta_i = \eta_{\text{start}} \left(\frac{\eta_{\text{end}}}{\eta_{\text{start}}}
# \right)^{i/(n-1)}, \qquad i = 0, \dots, n - 1,
# $$
#
# and record the loss. Mini-batch losses are noisy, so we smooth them with an exponential
# moving average, corrected for its start at zero exactly as Adam's moments are (chapter 15):
# $u_i = \rho\, u_{i-1} + (1 - \rho)\,\ell_i$, $\bar\ell_i = u_i / (1 - \rho^{i+1})$. Plotted
# against $\log \eta$ the curve has three parts: flat (the rate is too small to do anything),
# falling (learning), and exploding (the steps overshoot). The sweep stops at the explosion.
# A good maximal rate lies on the falling part: the rate where the curve is steepest, or the
# rate at the minimum divided by ten. (The moving average lags the raw losses by a few dozen
# steps, so the smoothed minimum sits to the right of the raw one: one more reason to stay
# well below it.) The model's weights are put back afterwards — the test only looks.


# %%
def build(seed=1):
    rng = np.random.default_rng(seed)
    return nn101.Sequential(
        nn101.Dense(64, 128, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(128, 128, rng=rng, weight_init="he_normal"),
        nn101.ReLU(),
        nn101.Dense(128, 10, rng=rng),
    )


finder = nn101.lr_find(
    build(),
    X_train,
    y_train,
    loss=nn101.SoftmaxCrossEntropy(),
    start_lr=1e-4,
    end_lr=10.0,
    num_steps=200,
    batch_size=batch_size,
    rng=np.random.default_rng(0),
)
print(
    f"steepest descent at η = {finder.suggestion:.3g}; minimum at η = "
    f"{finder.min_loss_rate:.3g} (tenth: {finder.min_loss_rate / 10:.3g}); "
    f"the sweep stopped after {len(finder.rates)} of 200 steps"
)

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(finder.rates, finder.raw_losses, color="lightgrey", lw=0.8, label="mini-batch loss")
ax.plot(finder.rates, finder.losses, label="smoothed")
ax.axvline(finder.suggestion, ls="--", color="C1", label=f"steepest: {finder.suggestion:.2g}")
ax.axvline(finder.min_loss_rate, ls=":", color="C2", label=f"minimum: {finder.min_loss_rate:.2g}")
ax.set(
    xscale="log",
    xlabel="learning rate",
    ylabel="loss",
    title="Learning-rate range test (SGD, momentum 0.9)",
    ylim=(0, 2.5 * finder.losses[0]),
)
ax.legend()
fig.tight_layout()
plt.show()

# %%
display(
    Markdown(
        "The three parts are plain to see: a flat start, a fall over the next decades, and an "
        f"explosion a little past the minimum, where the sweep stopped at "
        f"η = {finder.rates[-1]:.2g}. The two usual readings bracket the useful range: the "
        f"steepest descent (η = {finder.suggestion:.2g}) is a rate that is surely safe, the "
        f"minimum divided by ten ({finder.min_loss_rate / 10:.2g}) a bolder one. A rate held for a "
        "whole run has to be safe throughout, so we gave the constant schedule 0.02. A rate "
        "that is reached only briefly, in the middle of 1cycle, can go further: we gave its "
        f"peak 0.1, {0.1 / finder.min_loss_rate:.2g} times the rate at the minimum. The decaying "
        "schedules start from the same 0.1."
    )
)

# %% [markdown]
# ## The schedules, compared
#
# Each schedule now trains the same network from the same initial weights with SGD and
# momentum 0.9, for the 360 steps plotted above. Super-convergence is about doing *more with
# fewer epochs*, so we also give 1cycle a budget of only 3 epochs.


# %%
def train(schedule, epochs=epochs):
    model = build()
    optimizer = nn101.SGD(model.parameters(), learning_rate=schedule(0), momentum=0.9)
    return model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=(X_test, y_test),
        schedule=schedule,
        rng=np.random.default_rng(2),
        verbose=0,
    ).history


results = {name: train(schedule) for name, schedule in schedules.items()}
short_total = 3 * steps_per_epoch
results["1cycle, 3 epochs"] = train(nn101.OneCycle(0.1, total_steps=short_total), epochs=3)
for name, history in results.items():
    print(
        f"{name:24s} final training loss {history['loss'][-1]:.4f}, "
        f"test loss {history['val_loss'][-1]:.4f}, "
        f"test accuracy {history['val_accuracy'][-1]:.3f}"
    )

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
for name, history in results.items():
    epochs_run = np.arange(1, len(history["loss"]) + 1)
    style = "o--" if name == "1cycle, 3 epochs" else "o-"
    left.semilogy(epochs_run, history["loss"], style, ms=3, label=name)
    right.plot(epochs_run, history["val_loss"], style, ms=3, label=name)
left.set(xlabel="epoch", ylabel="training loss", title="Same network, SGD + momentum 0.9")
right.set(xlabel="epoch", ylabel="test loss", ylim=(0, 0.5))
left.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the two panels together. The constant rate makes the slowest progress on the training
# loss, and its test loss stalls and wobbles: the noise floor derived at the top of the
# chapter. 1cycle spends its middle epochs at rates five times the constant one and then
# anneals to almost nothing. What this run gives, in numbers:

# %%
final = {name: history["loss"][-1] for name, history in results.items()}
decaying = ["halving every 2 epochs", "exponential", "cyclical (triangular2)", "1cycle"]
ratios = [final["constant 0.02"] / final[name] for name in decaying]
best_loss = min(results, key=lambda name: results[name]["val_loss"][-1])
best_accuracy = max(results, key=lambda name: results[name]["val_accuracy"][-1])
short, constant = results["1cycle, 3 epochs"], results["constant 0.02"]
short_ahead = (
    short["val_loss"][-1] < constant["val_loss"][-1]
    and short["val_accuracy"][-1] >= constant["val_accuracy"][-1]
)
display(
    Markdown(
        f"Every decaying schedule ends with a small rate and a training loss "
        f"{min(ratios):.0f} to {max(ratios):.0f} times lower than the constant rate's. The lowest "
        f"final test loss is {best_loss}'s and the best test accuracy {best_accuracy}'s. With "
        f"only 3 epochs of budget, 1cycle ends with test loss {short['val_loss'][-1]:.3f} and "
        f"accuracy {short['val_accuracy'][-1]:.3f}, against {constant['val_loss'][-1]:.3f} and "
        f"{constant['val_accuracy'][-1]:.3f} after 8 epochs at the constant rate"
        + (": the super-convergence effect, in miniature." if short_ahead else ".")
    )
)

# %% [markdown]
# The digits are an easy problem, so the differences are modest; on harder ones Smith & Topin
# report the same accuracy in several times fewer epochs.
#
# ## PyTorch cross-check
#
# Every rate (and 1cycle's momentum) for the 360 steps, against the schedulers of
# `torch.optim.lr_scheduler` driving a real optimizer: the values must be equal up to
# rounding.

# %%
import torch


def torch_rates(make_scheduler, lr, steps, momentum=0.9):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)
    scheduler = make_scheduler(optimizer)
    rates, momenta = [], []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        momenta.append(optimizer.param_groups[0]["momentum"])
        optimizer.step()
        scheduler.step()
    return np.array(rates), np.array(momenta)


k = 2 * steps_per_epoch
sched = torch.optim.lr_scheduler
checks = {
    "halving every 2 epochs": (lambda o: sched.StepLR(o, step_size=k, gamma=0.5), 0.1),
    "exponential": (lambda o: sched.ExponentialLR(o, gamma=0.5 ** (1 / k)), 0.1),
    "cyclical (triangular2)": (
        lambda o: sched.CyclicLR(
            o,
            base_lr=0.005,
            max_lr=0.1,
            step_size_up=steps_per_epoch,
            mode="triangular2",
            cycle_momentum=False,
        ),
        0.005,
    ),
    "1cycle": (lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=total), 0.1),
}
for name, (make, lr) in checks.items():
    theirs, their_momenta = torch_rates(make, lr, total)
    np.testing.assert_allclose(schedules[name].values(total), theirs, rtol=1e-12, atol=1e-15)
    print(f"{name:24s} agrees with torch for all {total} steps")
np.testing.assert_allclose(schedules["1cycle"].momentum_values(total), their_momenta, rtol=1e-12)
print("1cycle momentum agrees with torch's OneCycleLR")

# %% [markdown]
# ## Summary
#
# * With a constant rate, SGD's noisy steps keep the parameters in a cloud around the minimum
#   whose spread is proportional to $\eta$; decaying the rate shrinks the cloud.
# * Step decay, exponential decay, cyclical rates and 1cycle are pure functions of the step;
#   1cycle also cycles the momentum against the rate.
# * The range test finds the useful range of rates in one short run: from where the loss starts
#   to fall to where it explodes.
# * On the digits every decaying schedule beats the constant rate, and a short 1cycle run
#   competes with a much longer constant one. nn101's schedules match PyTorch's at every step.
#
# ## Exercises
#
# **Exercise 1.** Check the noise-floor formula numerically: run SGD on
# $\tfrac{\omega}{2}\theta^2$ with gradient noise of variance $s^2$ for many steps and several
# $\eta$, and compare the variance of the last iterates with
# $\eta s^2 / (\omega(2 - \eta\omega))$.
#
# <details><summary>Solution</summary>
#
# Run many independent chains at once (one array), long enough to forget the start
# ($\gg 1/(\eta\omega)$ steps), and take the variance across chains. The cell below does it;
# the measured variance matches the formula to within sampling error.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
curvature, noise_std, chains = 2.0, 1.0, 20_000
noise_rng = np.random.default_rng(0)
for eta in (0.05, 0.2, 0.5):
    theta = np.ones(chains)
    for _ in range(int(20 / (eta * curvature))):
        theta -= eta * (curvature * theta + noise_rng.normal(0.0, noise_std, chains))
    predicted = eta * noise_std**2 / (curvature * (2 - eta * curvature))
    print(f"η = {eta}: variance {theta.var():.4f}, formula {predicted:.4f}")
    assert abs(theta.var() / predicted - 1) < 0.05

# %% [markdown]
# **Exercise 2.** Run the range test with Adam
# (`optimizer_factory=lambda ps, lr: nn101.Adam(ps, lr)`). How do the suggested rates compare
# with SGD's, and why are they on a different scale?
#
# <details><summary>Solution</summary>
#
# Adam's suggestions come out one to two orders of magnitude smaller (around $10^{-3}$). Adam
# divides each gradient by the root of its running mean square, so its step is about $\eta$ in
# every coordinate regardless of the gradient's size (chapter 15); SGD's step is $\eta$ times
# the gradient, which is small for these losses, so SGD needs a larger $\eta$ for the same
# step.
#
# </details>
#
# **Exercise 3.** Train 1cycle with peak rates 0.05, 0.2, 0.5, 1 and 2. Where does it stop
# helping, and how does that compare with the range test's curve?
#
# <details><summary>Solution</summary>
#
# Results improve up to a peak rate near the range test's minimum and degrade beyond it; at the
# largest peaks training diverges in the middle of the cycle. 1cycle tolerates peaks a few times
# larger than a constant rate would, because it reaches them briefly and with momentum lowered,
# but not rates far past the point where the range test's loss explodes.
#
# </details>
#
# **Exercise 4.** `ReduceOnPlateau` is a schedule that *watches*: it halves the rate when the
# validation loss stops improving. Train with `callbacks=[nn101.ReduceOnPlateau("val_loss",
# patience=1)]` and a constant starting rate of 0.1, and plot `history["lr"]`.
#
# <details><summary>Solution</summary>
#
# The rate stays at 0.1 for the first epochs, while the validation loss still falls, and then
# drops by half each time an epoch fails to improve on the best validation loss: a staircase
# like step decay, but with steps placed by the data. It needs validation data, and on noisy
# validation losses it can decay too early.
#
# </details>
#
# ## Further reading
#
# * L. N. Smith, "Cyclical learning rates for training neural networks", WACV (2017): cyclical
#   rates and the range test.
# * L. N. Smith and N. Topin, "Super-convergence: very fast training of neural networks using
#   large learning rates" (2018; SPIE Proceedings 2019).
# * I. Loshchilov and F. Hutter, "SGDR: stochastic gradient descent with warm restarts", ICLR
#   (2017): cosine annealing.
# * P. Goyal et al., "Accurate, large minibatch SGD: training ImageNet in 1 hour" (2017):
#   warm-up and the linear scaling rule.
