# %% [markdown]
# # 4. Simple linear regression
#
# The first real learning problem: given points $(x_i, y_i)$, find the straight line
# $\hat y = w x + b$ that fits them best. It is the smallest model there is, a `Dense(1, 1)` layer
# with no activation, and yet it contains the whole training recipe of the book: a model, a
# loss, gradients derived by the chain rule, and gradient descent. It is also one of the rare
# problems we can solve exactly with a formula, which lets us check that descent finds the
# right answer.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=6)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The data
#
# `nn101.data.linear` draws inputs from a standard normal distribution and targets from
# $y = x w_{\text{true}} + b_{\text{true}} + \text{noise}$. We shift the inputs so that they are not
# centred on zero (real measurements rarely are); the line we are after then has slope
# $w_{\text{true}}$ and intercept $b_{\text{true}} - 2 w_{\text{true}}$. We work in float64 so that
# we can compare answers to many digits.

# %%
X, y, w_true, b_true = nn101.data.linear(
    n_samples=60, n_features=1, noise=0.6, rng=rng, dtype=np.float64
)
x = X[:, 0] + 2.0  # (N,): inputs centred on 2
y = y[:, 0]  # (N,)
N = len(x)
print(f"N = {N}; true slope {w_true[0, 0]:.4f}, true intercept {b_true[0] - 2 * w_true[0, 0]:.4f}")

# %% [markdown]
# ## The loss and its gradient
#
# With parameters $w$ and $b$, the prediction for example $i$ is $\hat y_i = w x_i + b$ and its
# error, the **residual**, is $r_i = \hat y_i - y_i$. We measure the fit by the **mean squared
# error**
#
# $$\mathcal{L}(w, b) = \frac{1}{N} \sum_{i=1}^{N} r_i^2 = \frac{1}{N} \sum_{i=1}^{N} (w x_i + b - y_i)^2 .$$
#
# Squaring makes every error count as positive, punishes large errors more than small ones, and
# gives a smooth function of the parameters. (It is also the right loss when the noise is
# Gaussian: minimizing it is maximum likelihood.)
#
# To descend we need the two partial derivatives. Each term depends on $w$ through $r_i$, so the
# chain rule gives $\partial r_i^2/\partial w = 2 r_i \cdot \partial r_i / \partial w = 2 r_i x_i$
# and $\partial r_i^2/\partial b = 2 r_i \cdot 1$. Averaging,
#
# $$\frac{\partial \mathcal{L}}{\partial w} = \frac{2}{N} \sum_{i=1}^{N} r_i\, x_i, \qquad
#   \frac{\partial \mathcal{L}}{\partial b} = \frac{2}{N} \sum_{i=1}^{N} r_i .$$
#
# Read them aloud: if the line is too high where $x$ is large ($r_i > 0$ with $x_i > 0$),
# $\partial \mathcal{L} / \partial w > 0$ and descent lowers the slope; if the line is too high on average,
# it lowers the intercept.


# %%
def loss(w, b):
    """Mean squared error of the line (w, b). w and b may be arrays (a grid): broadcasts."""
    residual = np.multiply.outer(w, x) + np.expand_dims(b, -1) - y  # (..., N)
    return np.mean(residual**2, axis=-1)


def gradient(w, b):
    r = w * x + b - y  # (N,): residuals
    return 2 * np.mean(r * x), 2 * np.mean(r)


def fit_by_descent(learning_rate, steps, w=0.0, b=0.0):
    path = [(w, b)]
    for _ in range(steps):
        dw, db = gradient(w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
        path.append((w, b))
    return np.array(path)  # (steps + 1, 2)


path = fit_by_descent(learning_rate=0.15, steps=300)
w_gd, b_gd = path[-1]
print(
    f"gradient descent after 300 steps: w = {w_gd:.6f}, b = {b_gd:.6f}, L = {loss(w_gd, b_gd):.6f}"
)

# %% [markdown]
# ## The closed-form answer: least squares
#
# $\mathcal{L}$ is a quadratic function of $(w, b)$ that opens upwards, so its minimum is where both partial
# derivatives vanish. Write $\bar x = \frac1N \sum_i x_i$ and $\bar y = \frac1N \sum_i y_i$.
#
# From $\partial \mathcal{L} / \partial b = 0$: $\;\sum_i (w x_i + b - y_i) = 0$, so $N w \bar x + N b - N \bar y = 0$ and
#
# $$b^\star = \bar y - w^\star \bar x :$$
#
# the best line passes through the centre of mass $(\bar x, \bar y)$ of the data. Substituting
# this $b$ into $\partial \mathcal{L} / \partial w = 0$:
#
# $$\sum_i \big(w (x_i - \bar x) - (y_i - \bar y)\big)\, x_i = 0
#   \quad\Longrightarrow\quad
#   w^\star = \frac{\sum_i (x_i - \bar x)\, y_i}{\sum_i (x_i - \bar x)\, x_i}
#           = \frac{\sum_i (x_i - \bar x)(y_i - \bar y)}{\sum_i (x_i - \bar x)^2},$$
#
# where the last step subtracts $\sum_i (x_i - \bar x)\,\bar y = 0$ above and
# $\sum_i (x_i - \bar x)\,\bar x = 0$ below. The slope is the covariance of $x$ and $y$ divided by
# the variance of $x$.

# %%
x_mean, y_mean = x.mean(), y.mean()
w_star = np.sum((x - x_mean) * (y - y_mean)) / np.sum((x - x_mean) ** 2)
b_star = y_mean - w_star * x_mean
print(
    f"least squares:                    w = {w_star:.6f}, b = {b_star:.6f}, L = {loss(w_star, b_star):.6f}"
)
print(f"descent - closed form:            dw = {w_gd - w_star:.1e}, db = {b_gd - b_star:.1e}")

# %% [markdown]
# ## How fast, and how large a step?
#
# Chapter 3 showed that on a quadratic bowl the learning rate is limited by the largest
# curvature. The curvatures of $\mathcal{L}$ are the eigenvalues of its matrix of second derivatives, the
# **Hessian**:
#
# $$\nabla^2 \mathcal{L} = \begin{bmatrix} \partial^2 \mathcal{L}/\partial w^2 & \partial^2 \mathcal{L}/\partial w\,\partial b \\
#                        \partial^2 \mathcal{L}/\partial b\,\partial w & \partial^2 \mathcal{L}/\partial b^2 \end{bmatrix}
#     = \frac{2}{N} \begin{bmatrix} \sum_i x_i^2 & \sum_i x_i \\ \sum_i x_i & N \end{bmatrix}.$$
#
# Call them $\omega_{\min} \le \omega_{\max}$. Descent converges when $\eta < 2 / \omega_{\max}$ and
# needs on the order of $\kappa = \omega_{\max} / \omega_{\min}$ steps. Because our inputs are not centred, the
# off-diagonal term $\frac{2}{N}\sum_i x_i$ is large, $w$ and $b$ are coupled, and the bowl is a
# tilted, stretched ellipse: changing the slope pivots the line around $x = 0$, far from the
# data, so the intercept has to compensate. (Chapter 5 removes this by centring and scaling.)

# %%
hessian = 2 / N * np.array([[np.sum(x**2), np.sum(x)], [np.sum(x), N]])
eigenvalues = np.linalg.eigvalsh(hessian)
print("Hessian eigenvalues:", eigenvalues.round(3))
print(
    f"largest stable learning rate 2/ω_max = {2 / eigenvalues[-1]:.3f}, "
    f"condition number κ = {eigenvalues[-1] / eigenvalues[0]:.1f}"
)

# %% [markdown]
# ## Experiment: descent against the exact answer
#
# Left: the data and the line after 0, 3, 10 and 300 descent steps, which
# ends on top of the least-squares line. Middle: the path of $(w, b)$ over the contours of $\mathcal{L}$,
# moving quickly down the steep walls and then slowly along the tilted valley. Right: the
# distance to the optimum, $\mathcal{L}(w_t, b_t) - \mathcal{L}(w^\star, b^\star)$, falling by a constant factor per step
# once the valley is reached, the **linear convergence** the Hessian analysis predicts.

# %%
fig, (ax_data, ax_path, ax_loss) = plt.subplots(1, 3, figsize=(16, 4.5))
grid = np.linspace(x.min() - 0.3, x.max() + 0.3, 10)
ax_data.scatter(x, y, s=14, color="0.4", label="data")
for step, alpha in ((0, 0.25), (3, 0.45), (10, 0.7)):
    ax_data.plot(
        grid,
        path[step, 0] * grid + path[step, 1],
        color="#3451b2",
        alpha=alpha,
        label=f"descent, step {step}",
    )
ax_data.plot(grid, w_gd * grid + b_gd, color="#3451b2", lw=2.5, label="descent, step 300")
ax_data.plot(grid, w_star * grid + b_star, "--", color="#d9480f", lw=1.5, label="least squares")
ax_data.set(xlabel="$x$", ylabel="$y$", title="Fitting a line")
ax_data.legend(fontsize=8)

w_low, w_high = min(0.0, w_star) - 1.0, max(0.0, w_star) + 1.0  # the start (0, 0) and the optimum
b_low, b_high = min(0.0, b_star) - 1.5, max(0.0, b_star) + 1.5
ws, bs = np.meshgrid(np.linspace(w_low, w_high, 200), np.linspace(b_low, b_high, 200))
ax_path.contour(
    ws,
    bs,
    loss(ws, bs),
    levels=np.geomspace(loss(w_star, b_star) * 1.02, 40, 15),
    colors="0.6",
    linewidths=0.8,
)
ax_path.plot(*path.T, "o-", ms=2.5, color="#3451b2", label="descent path")
ax_path.plot(w_star, b_star, "*", color="#d9480f", ms=14, label="least squares")
ax_path.set(xlabel="$w$", ylabel="$b$", title="The path over the contours of $L(w, b)$")
ax_path.legend()

ax_loss.semilogy(loss(path[:, 0], path[:, 1]) - loss(w_star, b_star))
ax_loss.set(xlabel="step", ylabel=r"$L - L^\star$ (log scale)", title="Linear convergence")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The same model in nn101
#
# The line is a `Dense(1, 1)` layer and the loss is `MeanSquaredError`, whose `forward` returns
# $\mathcal{L}$ and whose `backward` returns $\partial \mathcal{L} / \partial \hat y_i = 2 r_i / N$. The Dense layer's
# `backward` applies the chain rule once more to get $\partial \mathcal{L} / \partial w$ and
# $\partial \mathcal{L} / \partial b$, which are the sums we derived by hand. Here is the loss:

# %%
show(nn101.MeanSquaredError.forward)
show(nn101.MeanSquaredError.backward)

# %% [markdown]
# The training loop is six lines, the same six lines that train every network in this book:
# compute the prediction, the loss, the gradient of the loss, pass it back through the model, and
# let the optimizer take a step.

# %%
model = nn101.Dense(1, 1, dtype=np.float64, rng=rng)
loss_fn = nn101.MeanSquaredError()
optimizer = nn101.SGD(model.parameters(), learning_rate=0.15)
inputs, targets = x[:, None], y[:, None]  # (N, 1): batch first
for _ in range(300):
    optimizer.zero_grad()
    value = loss_fn(model(inputs), targets)
    model.backward(loss_fn.backward())
    optimizer.step()

w_nn, b_nn = model.weight.value[0, 0], model.bias.value[0]
print(f"nn101 Dense(1, 1): w = {w_nn:.6f}, b = {b_nn:.6f}, L = {value:.6f}")
assert abs(w_nn - w_star) < 1e-4 and abs(b_nn - b_star) < 1e-4

# %% [markdown]
# ## PyTorch cross-check
#
# Three checks in float64: autograd's gradient of the loss equals our formula; `nn101`'s loss
# gradient passed through `Dense.backward` equals it too; and PyTorch's least-squares solver
# agrees with our closed form.

# %%
import torch

w0, b0 = rng.normal(size=2)
w_t = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
b_t = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
torch.mean((w_t * x_t + b_t - y_t) ** 2).backward()
ours = np.array(gradient(w0, b0))
print("ours:   ", ours)
print("autograd:", [w_t.grad.item(), b_t.grad.item()])
assert np.allclose(ours, [w_t.grad.item(), b_t.grad.item()], rtol=1e-10, atol=1e-12)

layer = nn101.Dense(1, 1, dtype=np.float64)
layer.weight.value[...] = w0
layer.bias.value[...] = b0
mse = nn101.MeanSquaredError()
mse(layer(inputs), targets)
layer.backward(mse.backward())
assert np.allclose([layer.weight.grad[0, 0], layer.bias.grad[0]], ours, rtol=1e-10, atol=1e-12)

design = torch.stack([x_t, torch.ones_like(x_t)], dim=1)  # (N, 2): columns x and 1
solution = torch.linalg.lstsq(design, y_t[:, None]).solution[:, 0].numpy()
print("torch.linalg.lstsq:", solution, " ours:", np.array([w_star, b_star]))
assert np.allclose(solution, [w_star, b_star], rtol=1e-10, atol=1e-12)

# %% [markdown]
# ### The same training loop in PyTorch
#
# Side by side, one step of each per line pair: nn101's `Dense`, `MeanSquaredError` and `SGD`,
# and PyTorch's `nn.Linear`, `nn.MSELoss` and `optim.SGD`, from the same starting line. After
# 300 steps they must have found the same line, and it is the least-squares one.

# %%
ours = nn101.Dense(1, 1, dtype=np.float64)
ours.weight.value[...], ours.bias.value[...] = 0.5, -0.2
our_loss, our_optimizer = nn101.MeanSquaredError(), nn101.SGD(ours.parameters(), learning_rate=0.15)

line = torch.nn.Linear(1, 1, dtype=torch.float64)
torch.nn.init.constant_(line.weight, 0.5)
torch.nn.init.constant_(line.bias, -0.2)
their_loss, their_optimizer = torch.nn.MSELoss(), torch.optim.SGD(line.parameters(), lr=0.15)
inputs_t, targets_t = torch.from_numpy(inputs), torch.from_numpy(targets)

for _ in range(300):
    our_optimizer.zero_grad()  # nn101
    our_loss(ours(inputs), targets)
    ours.backward(our_loss.backward())
    our_optimizer.step()

    their_optimizer.zero_grad()  # PyTorch
    their_loss(line(inputs_t), targets_t).backward()
    their_optimizer.step()

print(f"nn101 w = {ours.weight.value[0, 0]:.6f}, PyTorch w = {line.weight.item():.6f}")
assert np.isclose(ours.weight.value[0, 0], line.weight.item(), rtol=1e-10)
assert np.isclose(ours.bias.value[0], line.bias.item(), rtol=1e-10)
assert abs(line.weight.item() - w_star) < 1e-4

# %% [markdown]
# ## Summary
#
# * Simple linear regression fits $\hat y = wx + b$ by minimizing the mean squared error
#   $\mathcal{L}(w, b) = \frac1N \sum_i r_i^2$, whose gradient is
#   $\frac2N (\sum_i r_i x_i, \sum_i r_i)$.
# * Setting the gradient to zero gives the least-squares line: it passes through
#   $(\bar x, \bar y)$ and its slope is the covariance of $x$ and $y$ over the variance of $x$.
# * Gradient descent reaches the same line. Its speed is set by the Hessian's eigenvalues: the
#   rate must stay below $2/\omega_{\max}$, and uncentred inputs couple $w$ and $b$ into a
#   stretched, tilted valley.
# * In nn101 the model is `Dense(1, 1)`, the loss `MeanSquaredError`, and training is six
#   lines; PyTorch agrees on gradients and on the least-squares solution.
#
# ## Exercises
#
# **Exercise 1.** Run descent with learning rates just below and just above
# $2 / \omega_{\max}$. What happens to the path in the $(w, b)$ plane?
#
# <details><summary>Solution</summary>
#
# Just below, the path zig-zags across the valley along the steep eigenvector, with
# oscillations that shrink slowly, while it creeps along the valley. Just above, the zig-zag
# grows by the factor $|1 - \eta\,\omega_{\max}| > 1$ per step and the path leaves the plot: the
# loss explodes. The cell below checks both sides.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
limit = 2 / eigenvalues[-1]
below = fit_by_descent(learning_rate=0.95 * limit, steps=2000)[-1]
above = fit_by_descent(learning_rate=1.05 * limit, steps=200)[-1]
print(f"0.95 x limit ends at loss {loss(*below):.4f}; 1.05 x limit at loss {loss(*above):.3g}")
assert np.allclose(below, [w_star, b_star], atol=1e-6)
assert loss(*above) > 1e6

# %% [markdown]
# **Exercise 2.** Centre the inputs ($x \to x - \bar x$) and fit again. Recompute the Hessian:
# what happened to the off-diagonal entries, and to the number of steps needed? How do you
# recover the line in the original units?
#
# <details><summary>Solution</summary>
#
# The off-diagonal entries are $\frac2N \sum_i (x_i - \bar x) = 0$: the Hessian is diagonal,
# $w$ and $b$ no longer interact, and with $\eta$ near $1/\omega_{\max}$ descent converges in a
# few dozen steps instead of hundreds. The fitted line $\hat y = w'(x - \bar x) + b'$ is, in
# original units, slope $w = w'$ and intercept $b = b' - w' \bar x$.
#
# </details>
#
# **Exercise 3.** Replace the squared error by the absolute error $\frac1N \sum_i |r_i|$.
# Derive its (sub)gradient, fit the line by descent, and add a few outliers to the data. Which
# loss is pulled further by the outliers, and why?
#
# <details><summary>Solution</summary>
#
# $\partial / \partial w = \frac1N \sum_i \operatorname{sign}(r_i)\, x_i$ and
# $\partial / \partial b = \frac1N \sum_i \operatorname{sign}(r_i)$. Every point pulls with the
# same force whatever its distance, so a few outliers barely move the absolute-error line (it
# is a median-like fit); the squared error's pull grows with the residual, so outliers drag its
# line towards them. With a fixed learning rate the absolute-error descent ends up oscillating
# around the minimum, because its gradient does not shrink near it.
#
# </details>
#
# **Exercise 4.** Show that the residuals of the least-squares line sum to zero and are
# uncorrelated with $x$ ($\sum_i r_i x_i = 0$). Which of the two gradient equations does each
# statement come from?
#
# <details><summary>Solution</summary>
#
# $\partial \mathcal{L} / \partial b = \frac2N \sum_i r_i = 0$ at the optimum gives the first,
# $\partial \mathcal{L} / \partial w = \frac2N \sum_i r_i x_i = 0$ the second. Together they say
# $\sum_i r_i (x_i - \bar x) = 0$: the residuals have zero covariance with the input. Checked
# below.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 4
residuals = w_star * x + b_star - y
assert abs(residuals.sum()) < 1e-10 and abs(np.sum(residuals * x)) < 1e-10
print(
    f"sum of residuals {residuals.sum():.1e}, sum of residuals times x {np.sum(residuals * x):.1e}"
)

# %% [markdown]
# ## Further reading
#
# * T. Hastie, R. Tibshirani and J. Friedman, *The Elements of Statistical Learning* (2nd ed.,
#   2009), section 3.2: least squares, its geometry and its statistics.
# * G. James, D. Witten, T. Hastie and R. Tibshirani, *An Introduction to Statistical Learning*
#   (2nd ed., 2021), chapter 3: simple and multiple linear regression, gently.
# * A. M. Legendre, *Nouvelles méthodes pour la détermination des orbites des comètes* (1805):
#   the first publication of the method of least squares.
