# %% [markdown]
# # 3. Function optimization
#
# Training a network means making a number small: the **loss**, which measures how wrong the
# network's outputs are. This chapter is about the tool that does it in every chapter that
# follows, **gradient descent**. We look at two faces of the same problem:
#
# 1. **finding the input that minimizes a function**: given $f$, find $x^\star = \arg\min_x f(x)$;
# 2. **fitting parameters to data**: given examples $(x_i, y_i)$ and a model $\hat y = g(x; \theta)$,
#    find the parameters $\theta$ that minimize a loss $\mathcal{L}(\theta)$ comparing $\hat y_i$ with $y_i$.
#
# The second is the first with the roles renamed: the data are fixed and the parameters are the
# input we search over. So we learn the method on plain functions, then apply it to data.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101
from nn101.gradcheck import numerical_gradient

rng = np.random.default_rng(seed=3)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## One variable: the derivative points uphill
#
# For smooth $f$, the derivative $f'(x)$ is the slope of the tangent at $x$, and near $x$
#
# $$f(x + h) \approx f(x) + f'(x)\,h \qquad \text{(first-order Taylor expansion).}$$
#
# At a minimum of a smooth function the slope is zero, $f'(x^\star) = 0$; sometimes we can solve
# that equation by hand. When we cannot, we move step by step. Which step $h$ lowers $f$ the
# most for its size? The Taylor expansion says the change is $f'(x)\,h$, so step *against* the
# slope: take $h = -\eta f'(x)$ with a small **learning rate** $\eta > 0$. Then
#
# $$f(x - \eta f'(x)) \approx f(x) - \eta\, f'(x)^2 \le f(x),$$
#
# a decrease whenever $f'(x) \neq 0$ and $\eta$ is small enough for the approximation to hold.
# Repeating it is **gradient descent** in one variable:
#
# $$x_{t+1} = x_t - \eta\, f'(x_t).$$
#
# Try it on $f(x) = x^4 - 3x^2 + x$, whose derivative $f'(x) = 4x^3 - 6x + 1$ has three roots: two
# minima and a maximum between them.


# %%
def f(x):
    return x**4 - 3 * x**2 + x


def df(x):
    return 4 * x**3 - 6 * x + 1


def descend(gradient, x0, learning_rate, steps):
    """Gradient descent x <- x - η ∇f(x); returns every iterate, shape (steps + 1, *x0.shape)."""
    path = [np.asarray(x0, dtype=np.float64)]
    for _ in range(steps):
        path.append(path[-1] - learning_rate * gradient(path[-1]))
    return np.array(path)


for x0 in (-0.5, 0.5):
    path = descend(df, x0, learning_rate=0.02, steps=100)
    print(
        f"start {x0:+.1f} -> x = {path[-1]:+.5f}, f(x) = {f(path[-1]):+.5f}, "
        f"f'(x) = {df(path[-1]):+.1e}"
    )

# %% [markdown]
# Two starting points, two different answers. Gradient descent only knows the local slope, so it
# finds *a* minimum near where it starts, a **local minimum**, not necessarily the **global**
# one (here $x \approx -1.30$, with $f \approx -3.51$). Losses of neural networks have many local
# minima; remarkably, in large networks most of them turn out to be about as good as each other.
#
# ## How large a step?
#
# Take the simplest case, $f(x) = \frac{\omega}{2} x^2$ with curvature $\omega = f''(x) > 0$. Then
# $f'(x) = \omega x$ and one step gives
#
# $$x_{t+1} = x_t - \eta \omega x_t = (1 - \eta \omega)\, x_t \quad\Longrightarrow\quad x_t = (1 - \eta \omega)^t\, x_0.$$
#
# The iterates shrink to 0 exactly when $|1 - \eta \omega| < 1$, that is $0 < \eta < 2/\omega$:
#
# * $\eta < 1/\omega$: every step goes part of the way, never overshooting;
# * $\eta = 1/\omega$: one step lands on the minimum;
# * $1/\omega < \eta < 2/\omega$: each step overshoots, and the iterates zig-zag inwards;
# * $\eta > 2/\omega$: each overshoot is larger than the last, and descent **diverges**.
#
# Near any smooth minimum, a function looks like such a parabola, with $\omega = f''(x^\star)$, so this
# small calculation is the rule of thumb for every learning rate in this book: **the step size is
# limited by the curvature.**

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
xs = np.linspace(-2.0, 2.0, 400)
left.plot(xs, f(xs), color="0.3")
for x0, colour in ((-0.5, "#3451b2"), (0.5, "#d9480f")):
    path = descend(df, x0, learning_rate=0.02, steps=30)
    left.plot(path, f(path), "o-", ms=4, color=colour, alpha=0.8, label=f"start at {x0:+.1f}")
left.set(
    xlabel="$x$",
    ylabel="$f(x)$",
    ylim=(-4, 4),
    title=r"$f(x) = x^4 - 3x^2 + x$: descent finds the nearest minimum",
)
left.legend()

a = 2.0
for eta, style in ((0.1, "o-"), (0.5, "s-"), (0.9, "^-"), (1.05, "v-")):
    path = descend(lambda x: a * x, 1.0, learning_rate=eta, steps=20)
    right.plot(path, style, ms=4, label=rf"$\eta = {eta}$  ($\eta \omega = {eta * a:.1f}$)")
right.axhline(0, color="0.6", lw=0.8)
right.set(
    xlabel="step $t$",
    ylabel="$x_t$",
    ylim=(-2, 2),
    title=r"$f(x) = \frac{\omega}{2}x^2$ with $\omega = 2$: converges iff $\eta < 2/\omega = 1$",
)
right.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Many variables: the gradient
#
# A function of many inputs $f(x_1, \dots, x_D)$ has a **partial derivative** for each: the
# slope along one axis with the others held fixed. Stacked into a vector they form the
# **gradient**,
#
# $$\nabla f(x) = \left( \frac{\partial f}{\partial x_1}, \dots, \frac{\partial f}{\partial x_D} \right),$$
#
# and the Taylor expansion becomes $f(x + h) \approx f(x) + \nabla f(x) \cdot h$. Which direction
# lowers $f$ fastest? Among all steps of a fixed length, $\lVert h \rVert = \epsilon$, the change
# $\nabla f \cdot h$ is smallest when $h$ points exactly opposite to $\nabla f$: by the
# Cauchy-Schwarz inequality $\nabla f \cdot h \ge -\lVert \nabla f \rVert\,\lVert h \rVert$, with
# equality only for $h = -\epsilon\, \nabla f / \lVert \nabla f \rVert$. So the gradient points
# in the direction of **steepest ascent**, it is perpendicular to the contour lines (along a
# contour $f$ does not change, so $\nabla f \cdot h = 0$ for $h$ along it), and gradient descent
# in $D$ dimensions is
#
# $$x_{t+1} = x_t - \eta\, \nabla f(x_t).$$
#
# ### A stretched bowl
#
# Consider $f(x) = \frac12 (\omega_1 x_1^2 + \omega_2 x_2^2)$ with $\omega_1 = 1$ and $\omega_2 = 10$: a bowl ten times
# steeper along $x_2$ than along $x_1$. Its gradient is $\nabla f = (\omega_1 x_1, \omega_2 x_2)$, so each
# coordinate follows its own one-variable recursion, $x_{i,t} = (1 - \eta \omega_i)^t x_{i,0}$.
# The steep direction sets the limit, $\eta < 2/\omega_2 = 0.2$, and with such a small step the shallow
# direction crawls: its factor $1 - \eta \omega_1 \ge 0.8$ per step. The ratio
# $\kappa = \omega_{\max} / \omega_{\min}$, the **condition number**, measures how bad this is; the best
# fixed rate, $\eta = 2/(\omega_1 + \omega_2)$, still needs about $\kappa / 2$ steps per factor $e$ of
# progress. Chapter 5 shows how *feature scaling* makes $\kappa$ small for regression problems.
#
# Before trusting a hand-derived gradient we check it against **finite differences**,
# $\partial f / \partial x_i \approx (f(x + \epsilon e_i) - f(x - \epsilon e_i)) / 2\epsilon$,
# whose error shrinks like $\epsilon^2$. nn101 has that check built in; chapter 8 uses it on every
# layer.

# %%
curvatures = np.array([1.0, 10.0])  # ω_1, ω_2


def bowl(x):
    """f(x) = ½ Σ ω_i x_i². Shapes: x (..., 2) -> (...)."""
    return 0.5 * np.sum(curvatures * x**2, axis=-1)


def bowl_gradient(x):
    return curvatures * x


x_test = rng.normal(size=2)
numeric = numerical_gradient(bowl, x_test.copy())
print("analytic gradient:", bowl_gradient(x_test))
print("numerical:        ", numeric)
print("largest difference:", np.abs(numeric - bowl_gradient(x_test)).max())

# %% [markdown]
# ## Experiment: descent paths on a contour plot
#
# Three learning rates from the same start $(-9, 2.5)$. With $\eta = 0.05$ the path hugs the valley
# floor but creeps; $\eta = 2/(\omega_1 + \omega_2) \approx 0.18$ is the best fixed rate, zig-zagging across
# the steep direction while moving fast along the shallow one; $\eta = 0.205$ is just past
# $2/\omega_2$, so the zig-zag grows and the run diverges.

# %%
start = np.array([-9.0, 2.5])
runs = {0.05: "#2b8a3e", 2 / (curvatures.sum()): "#3451b2", 0.205: "#d9480f"}
g1, g2 = np.meshgrid(np.linspace(-10, 10, 300), np.linspace(-5, 5, 300))
surface = bowl(np.stack([g1, g2], axis=-1))

fig, (ax, loss_ax) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
ax.contour(g1, g2, surface, levels=np.geomspace(0.1, 200, 14), cmap="Greys", linewidths=0.8)
for eta, colour in runs.items():
    path = descend(bowl_gradient, start, learning_rate=eta, steps=40)
    shown = path[np.all(np.abs(path) < [10, 5], axis=1)]
    ax.plot(*shown.T, "o-", ms=3, lw=1.2, color=colour, label=rf"$\eta = {eta:.3f}$")
    loss_ax.semilogy(bowl(path), color=colour, label=rf"$\eta = {eta:.3f}$")
ax.plot(0, 0, "k*", ms=12)
ax.set(
    xlim=(-10, 10),
    ylim=(-5, 5),
    aspect="equal",
    xlabel="$x_1$",
    ylabel="$x_2$",
    title=r"Gradient descent on $f = \frac{1}{2}(x_1^2 + 10\,x_2^2)$",
)
ax.legend(loc="lower right")
loss_ax.set(
    xlabel="step $t$", ylabel="$f(x_t)$ (log scale)", title="The value of $f$ along each path"
)
loss_ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Fitting parameters to data
#
# Now the second face of optimization. We measure pairs $(x_i, y_i)$, $i = 1, \dots, N$, that
# follow $y \approx w x$ for an unknown $w$, and choose $w$ to minimize the **mean squared error**
#
# $$\mathcal{L}(w) = \frac{1}{N} \sum_{i=1}^{N} (w x_i - y_i)^2.$$
#
# The data are constants; $w$ is the variable. By the chain rule, the derivative of each term is
# $2 (w x_i - y_i) \cdot x_i$, so
#
# $$\mathcal{L}'(w) = \frac{2}{N} \sum_{i=1}^{N} (w x_i - y_i)\, x_i, \qquad \mathcal{L}''(w) = \frac{2}{N}\sum_i x_i^2.$$
#
# $\mathcal{L}$ is a parabola in $w$ with curvature $\omega = \frac{2}{N}\sum_i x_i^2$, so everything above
# applies: descent converges for $\eta < 2/\omega$, and $\mathcal{L}'(w) = 0$ gives the exact answer
# $w^\star = \sum_i x_i y_i / \sum_i x_i^2$ to compare with.
#
# nn101 separates the two jobs the same way PyTorch does: a `Parameter` holds a value and its
# gradient, and an optimizer updates values from gradients, knowing nothing about where the
# gradients came from. The plainest optimizer, `SGD`, *is* the update rule $w \leftarrow w - \eta g$:

# %%
show(nn101.SGD.step)

# %%
x_data = rng.uniform(-2, 2, size=40)
y_data = 1.7 * x_data + rng.normal(scale=0.4, size=40)

w = nn101.Parameter(np.zeros(1))  # float64, shape (1,)
optimizer = nn101.SGD([w], learning_rate=0.3)
for _ in range(30):
    residual = w.value * x_data - y_data  # (N,)
    optimizer.zero_grad()
    w.grad += 2 * np.mean(residual * x_data)  # dL/dw
    optimizer.step()

w_exact = np.sum(x_data * y_data) / np.sum(x_data**2)
curvature = 2 * np.mean(x_data**2)
print(f"gradient descent: w = {w.value[0]:.6f}   closed form: w* = {w_exact:.6f}")
print(f"curvature ω = {curvature:.3f}, so descent converges for eta < 2/ω = {2 / curvature:.3f}")

# %% [markdown]
# Chapter 4 does the same for a line with a slope *and* an intercept, where the loss becomes a
# bowl in two dimensions, exactly like the one in the contour plot.
#
# ## PyTorch cross-check
#
# PyTorch's **autograd** computes gradients by recording the operations and applying the chain
# rule backwards (chapter 8 builds a small version of it for scalars). Its gradients must match ours in
# float64, and `torch.optim.SGD` must follow exactly the same path as nn101's `SGD`.

# %%
import torch

# 1. gradients of the quartic and of the bowl, at random points
x_t = torch.tensor(rng.normal(size=5), dtype=torch.float64, requires_grad=True)
(x_t**4 - 3 * x_t**2 + x_t).sum().backward()
assert np.allclose(x_t.grad.numpy(), df(x_t.detach().numpy()), rtol=1e-12, atol=1e-12)

p_t = torch.tensor(x_test, dtype=torch.float64, requires_grad=True)
(0.5 * (torch.from_numpy(curvatures) * p_t**2).sum()).backward()
assert np.allclose(p_t.grad.numpy(), bowl_gradient(x_test), rtol=1e-12, atol=1e-12)

# 2. the same descent path, nn101.SGD vs torch.optim.SGD, 25 steps on the bowl
ours = nn101.Parameter(start.copy())
theirs = torch.tensor(start, dtype=torch.float64, requires_grad=True)
nn101_sgd = nn101.SGD([ours], learning_rate=0.15)
torch_sgd = torch.optim.SGD([theirs], lr=0.15)
for _ in range(25):
    nn101_sgd.zero_grad()
    ours.grad += bowl_gradient(ours.value)
    nn101_sgd.step()
    torch_sgd.zero_grad()
    (0.5 * (torch.from_numpy(curvatures) * theirs**2).sum()).backward()
    torch_sgd.step()
print("after 25 steps, nn101:", ours.value, " torch:", theirs.detach().numpy())
assert np.allclose(ours.value, theirs.detach().numpy(), rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## Summary
#
# * Gradient descent, $x_{t+1} = x_t - \eta \nabla f(x_t)$, steps against the gradient, the
#   direction of steepest ascent; it finds a local minimum near its start.
# * On a quadratic with curvature $\omega$ it converges exactly when $0 < \eta < 2/\omega$: the
#   curvature limits the step size.
# * With several curvatures the steepest one sets the learning rate and the shallowest one sets
#   the pace; their ratio, the condition number $\kappa$, measures how slow descent will be.
# * Fitting parameters to data is the same problem, with the loss as the function and the
#   parameters as the variables. nn101 separates gradients (`Parameter.grad`) from the update
#   rule (an optimizer such as `SGD`).
#
# ## Exercises
#
# **Exercise 1.** For $f(x) = x^4 - 3x^2 + x$, find the set of starting points from which
# descent (with a small $\eta$) reaches the global minimum. Where exactly is the boundary, and
# why? *Hint:* what does descent do at a point where $f'(x) = 0$?
#
# <details><summary>Solution</summary>
#
# The boundary is the local maximum, the middle root of $f'(x) = 4x^3 - 6x + 1$, at
# $x \approx 0.17$. With a small step, descent never crosses a point where $f' = 0$, because
# $f'$ keeps its sign between the roots: every start $x_0 < 0.17$ reaches the global minimum
# near $-1.30$, every start above it reaches the local one near $1.13$. The cell below finds the
# roots and checks both sides.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
roots = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)  # minimum, maximum, minimum
boundary = roots[1]
left_end = descend(df, boundary - 0.01, learning_rate=0.02, steps=500)[-1]
right_end = descend(df, boundary + 0.01, learning_rate=0.02, steps=500)[-1]
print(f"boundary x = {boundary:.4f}; just left -> {left_end:.4f}, just right -> {right_end:.4f}")
assert np.isclose(left_end, roots[0], atol=1e-6) and np.isclose(right_end, roots[2], atol=1e-6)

# %% [markdown]
# **Exercise 2.** Rotate the stretched bowl by 45° (use $f(x) = \frac12 x A x^\top$ with
# $A = R\, \mathrm{diag}(1, 10)\, R^\top$). Show that the gradient is $x A$ and that the largest
# stable learning rate is still $2/10$.
#
# <details><summary>Solution</summary>
#
# $A$ is symmetric, so $\nabla f = \frac12 x (A + A^\top) = xA$. In the rotated coordinates
# $u = xR$ the function is again $\frac12 (u_1^2 + 10 u_2^2)$, and descent commutes with the
# rotation, so each rotated coordinate follows its own recursion: stable for $\eta < 2/10$.
# Only the picture changes: the zig-zag now runs diagonally.
#
# </details>
#
# **Exercise 3.** Vary $\omega_2$ in the stretched bowl from 1 to 100 and, for each, count the
# steps the best fixed learning rate needs to reach $f < 10^{-6}$. Plot the count against
# $\kappa$.
#
# <details><summary>Solution</summary>
#
# With $\eta = 2/(\omega_1 + \omega_2)$ both coordinates shrink by the factor
# $(\kappa - 1)/(\kappa + 1) \approx 1 - 2/\kappa$ per step, and $f$ by its square, so the count
# grows about linearly in $\kappa$: roughly $\frac{\kappa}{4} \ln(f_0 / 10^{-6})$ steps for large
# $\kappa$. The plot is close to a straight line.
#
# </details>
#
# **Exercise 4.** Use `numerical_gradient` with $\epsilon = 10^{-1}, \dots, 10^{-12}$ on the
# quartic and plot the error against $\epsilon$ on log-log axes. Explain both sides of the "V".
#
# <details><summary>Solution</summary>
#
# On the right the truncation error of the centred difference dominates, falling like
# $\epsilon^2$ (slope 2). On the left the rounding error of subtracting two nearly equal values
# of $f$ dominates, growing like $10^{-16}/\epsilon$ (slope -1). The bottom of the V is near
# $\epsilon \approx 10^{-5}$; chapter 8 draws this curve.
#
# </details>
#
# ## Further reading
#
# * S. Boyd and L. Vandenberghe, *Convex Optimization*, section 9.3 on gradient descent
#   (2004).
# * J. Nocedal and S. J. Wright, *Numerical Optimization* (2nd ed., 2006), chapters 2 and 3.
# * G. Goh, "Why momentum really works", *Distill* (2017): an interactive look at the
#   condition number and what momentum does about it (chapter 15).
