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

import matplotlib.pyplot as plt
import numpy as np

import nn101

rng = np.random.default_rng(seed=6)

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
# $$L(w, b) = \frac{1}{N} \sum_{i=1}^{N} r_i^2 = \frac{1}{N} \sum_{i=1}^{N} (w x_i + b - y_i)^2 .$$
#
# Squaring makes every error count as positive, punishes large errors more than small ones, and
# gives a smooth function of the parameters. (It is also the right loss when the noise is
# Gaussian: minimizing it is maximum likelihood.)
#
# To descend we need the two partial derivatives. Each term depends on $w$ through $r_i$, so the
# chain rule gives $\partial r_i^2/\partial w = 2 r_i \cdot \partial r_i / \partial w = 2 r_i x_i$
# and $\partial r_i^2/\partial b = 2 r_i \cdot 1$. Averaging,
#
# $$\frac{\partial L}{\partial w} = \frac{2}{N} \sum_{i=1}^{N} r_i\, x_i, \qquad
#   \frac{\partial L}{\partial b} = \frac{2}{N} \sum_{i=1}^{N} r_i .$$
#
# Read them aloud: if the line is too high where $x$ is large ($r_i > 0$ with $x_i > 0$),
# $\partial L / \partial w > 0$ and descent lowers the slope; if the line is too high on average,
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
# $L$ is a quadratic function of $(w, b)$ that opens upwards, so its minimum is where both partial
# derivatives vanish. Write $\bar x = \frac1N \sum_i x_i$ and $\bar y = \frac1N \sum_i y_i$.
#
# From $\partial L / \partial b = 0$: $\;\sum_i (w x_i + b - y_i) = 0$, so $N w \bar x + N b - N \bar y = 0$ and
#
# $$b^\star = \bar y - w^\star \bar x :$$
#
# the best line passes through the centre of mass $(\bar x, \bar y)$ of the data. Substituting
# this $b$ into $\partial L / \partial w = 0$:
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
# curvature. The curvatures of $L$ are the eigenvalues of its matrix of second derivatives, the
# **Hessian**:
#
# $$H = \begin{bmatrix} \partial^2 L/\partial w^2 & \partial^2 L/\partial w\,\partial b \\
#                        \partial^2 L/\partial b\,\partial w & \partial^2 L/\partial b^2 \end{bmatrix}
#     = \frac{2}{N} \begin{bmatrix} \sum_i x_i^2 & \sum_i x_i \\ \sum_i x_i & N \end{bmatrix}.$$
#
# Descent converges when $\eta < 2 / \lambda_{\max}(H)$ and needs on the order of
# $\kappa = \lambda_{\max} / \lambda_{\min}$ steps. Because our inputs are not centred, the
# off-diagonal term $\frac{2}{N}\sum_i x_i$ is large, $w$ and $b$ are coupled, and the bowl is a
# tilted, stretched ellipse: changing the slope pivots the line around $x = 0$, far from the
# data, so the intercept has to compensate. (Chapter 5 removes this by centring and scaling.)

# %%
H = 2 / N * np.array([[np.sum(x**2), np.sum(x)], [np.sum(x), N]])
eigenvalues = np.linalg.eigvalsh(H)
print("Hessian eigenvalues:", eigenvalues.round(3))
print(
    f"largest stable learning rate 2/λmax = {2 / eigenvalues[-1]:.3f}, "
    f"condition number κ = {eigenvalues[-1] / eigenvalues[0]:.1f}"
)

# %% [markdown]
# ## Experiment: descent against the exact answer
#
# Left: the data and the line after 0, 3, 10 and 300 descent steps, which
# ends on top of the least-squares line. Middle: the path of $(w, b)$ over the contours of $L$,
# moving quickly down the steep walls and then slowly along the tilted valley. Right: the
# distance to the optimum, $L(w_t, b_t) - L(w^\star, b^\star)$, falling by a constant factor per step
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
# $L$ and whose `backward` returns $\partial L / \partial \hat y_i = 2 r_i / N$. The Dense layer's
# `backward` applies the chain rule once more to get $\partial L / \partial w$ and
# $\partial L / \partial b$, which are the sums we derived by hand. Here is the loss:

# %%
print(inspect.getsource(nn101.MeanSquaredError))

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
# ## Exercises
#
# 1. Run descent with learning rates just below and just above $2 / \lambda_{\max}$. What happens
#    to the path in the $(w, b)$ plane?
# 2. Centre the inputs ($x \to x - \bar x$) and fit again. Recompute the Hessian: what happened to
#    the off-diagonal entries, and to the number of steps needed? How do you recover the line in
#    the original units?
# 3. Replace the squared error by the absolute error $\frac1N \sum_i |r_i|$. Derive its (sub)gradient,
#    fit the line by descent, and add a few outliers to the data. Which loss is pulled further by
#    the outliers, and why?
# 4. Show that the residuals of the least-squares line sum to zero and are uncorrelated with $x$
#    ($\sum_i r_i x_i = 0$). Which of the two gradient equations does each statement come from?
