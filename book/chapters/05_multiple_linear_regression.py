# %% [markdown]
# # 5. Multiple linear regression and feature scaling
#
# Real predictions depend on more than one input. The price of a flat depends on its floor
# area, the number of rooms, its age, the distance to the city centre. This chapter extends
# chapter 4's line to $D$ features, writes the gradient as two matrix products so that one
# line of NumPy handles any number of features and examples, solves the same problem exactly with
# the normal equations, and then meets a practical problem that every network in this book
# shares: when the features have very different scales, gradient descent slows to a crawl.
# The cure, **feature scaling**, costs two lines of code.

# %%
import inspect
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101

rng = np.random.default_rng(seed=5)


def show(function):
    """Display the real source of a library function or method, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The data: four features on four scales
#
# We generate flats with floor area in square metres (tens to hundreds), number of rooms (a few),
# age in years (tens) and distance to the centre in kilometres, and a price in thousands that
# depends linearly on all four, plus noise. The point is the *units*: the features differ in size
# by two orders of magnitude, as real features do.

# %%
N = 400
area = rng.uniform(30, 200, N)  # m²
rooms = np.clip(np.round(area / 30 + rng.normal(0, 0.7, N)), 1, 8)  # correlated with area
age = rng.uniform(0, 80, N)  # years
distance = rng.gamma(2.0, 3.0, N)  # km
X_all = np.stack([area, rooms, age, distance], axis=1)  # (N, D) = (400, 4), batch first
features = ["area (m²)", "rooms", "age (years)", "distance (km)"]
w_true = np.array([3.0, 10.0, -1.2, -6.0])  # thousands per unit of each feature
b_true = 60.0
y_all = X_all @ w_true + b_true + rng.normal(0, 20.0, N)  # (N,)

X, X_test, y, y_test = nn101.data.train_test_split(X_all, y_all, test_size=0.25, rng=rng)
N, D = X.shape
for name, column in zip(features, X.T, strict=True):
    print(f"{name:15s} mean {column.mean():8.2f}   std {column.std():7.2f}")

# %% [markdown]
# ## The model and its gradient, vectorized
#
# One example $x$ (a row of $D$ features) gets the prediction $\hat y = x \cdot w + b$; all $N$
# examples at once, as in chapter 2, are
#
# $$\hat y = X w + b\mathbf{1}, \qquad X: (N, D),\; w: (D,),\; \hat y: (N,),$$
#
# and the mean squared error with residuals $r = \hat y - y$ is
#
# $$\mathcal{L}(w, b) = \frac{1}{N} \sum_{i=1}^{N} r_i^2 = \frac1N\, r \cdot r,
#   \qquad r_i = \sum_{j=1}^{D} X_{ij} w_j + b - y_i.$$
#
# Differentiate with respect to one weight $w_j$. Only the term $X_{ij} w_j$ of $r_i$ depends on
# it, so $\partial r_i / \partial w_j = X_{ij}$ and, by the chain rule,
#
# $$\frac{\partial \mathcal{L}}{\partial w_j} = \frac{2}{N} \sum_{i=1}^{N} r_i\, X_{ij}
#   = \frac{2}{N} \big(X^\top r\big)_j .$$
#
# The sum over examples $i$ for a fixed feature $j$ is entry $j$ of $X^\top r$: a matrix product.
# The same argument with $\partial r_i / \partial b = 1$ gives the bias. Together:
#
# $$\nabla_w \mathcal{L} = \frac{2}{N} X^\top r \quad (D,), \qquad \frac{\partial \mathcal{L}}{\partial b} = \frac{2}{N} \sum_i r_i .$$
#
# Check the shapes: $X^\top$ is $(D, N)$, $r$ is $(N,)$, the product is $(D,)$ like $w$. With
# $D = 1$ these are chapter 4's formulas. In code the whole gradient is two lines, whatever $N$
# and $D$ are:


# %%
def loss_and_gradient(X, y, w, b):
    """MSE of y ≈ X w + b and its gradient. Shapes: X (N, D), y (N,), w (D,), b ()."""
    r = X @ w + b - y  # (N, D) @ (D,) -> (N,): residuals
    grad_w = 2 / len(y) * (X.T @ r)  # (D, N) @ (N,) -> (D,)
    grad_b = 2 / len(y) * r.sum()
    return r @ r / len(y), grad_w, grad_b


# %% [markdown]
# ## The exact answer: the normal equations
#
# Fold the bias into the weights with chapter 2's trick: append a column of ones to $X$,
# $\tilde X = [X, \mathbf{1}]$ of shape $(N, D + 1)$, and $\theta = (w, b)$. Then
# $\hat y = \tilde X \theta$, the gradient is $\frac2N \tilde X^\top (\tilde X \theta - y)$, and
# setting it to zero gives the **normal equations**
#
# $$\tilde X^\top \tilde X\, \theta^\star = \tilde X^\top y .$$
#
# When the columns of $\tilde X$ are linearly independent, $\tilde X^\top \tilde X$ is invertible
# and $\theta^\star$ is unique. In practice we do not form the inverse: `np.linalg.lstsq` solves
# the least-squares problem through an orthogonal factorization, which is more accurate because
# forming $\tilde X^\top \tilde X$ squares the condition number discussed below.

# %%
X_tilde = np.column_stack([X, np.ones(N)])  # (N, D + 1)
theta_star, *_ = np.linalg.lstsq(X_tilde, y, rcond=None)
w_star, b_star = theta_star[:D], theta_star[D]
L_star, *_ = loss_and_gradient(X, y, w_star, b_star)
print("least squares w:", w_star.round(3), " b:", b_star.round(2), " (true:", w_true, b_true, ")")
print(f"training MSE at the optimum: {L_star:.2f} (noise variance 400)")

# %% [markdown]
# ## Why descent crawls on raw features
#
# The loss is a quadratic bowl in $\theta$ whose Hessian is
#
# $$\nabla^2 \mathcal{L} = \frac{2}{N} \tilde X^\top \tilde X, \qquad (\nabla^2 \mathcal{L})_{jk} = \frac{2}{N} \sum_i \tilde X_{ij} \tilde X_{ik} .$$
#
# Its diagonal holds the mean squares of the features: for the area, about
# $2 \cdot 130^2 \approx 3 \cdot 10^4$; for the bias column, 2. From chapter 3 we know what that
# means: the learning rate must stay below $2/\omega_{\max}$, set by the *largest* feature, while
# progress along the flattest direction shrinks by a factor of only $1 - \eta \omega_{\min}$ per
# step. The number of steps grows with the condition number
# $\kappa = \omega_{\max} / \omega_{\min}$.


# %%
def hessian_eigenvalues(X):
    X_tilde = np.column_stack([X, np.ones(len(X))])
    return np.linalg.eigvalsh(2 / len(X) * X_tilde.T @ X_tilde)  # ascending


raw_eigenvalues = hessian_eigenvalues(X)
print("Hessian eigenvalues, raw features:", ", ".join(f"{v:.3g}" for v in raw_eigenvalues))
print(f"condition number κ = {raw_eigenvalues[-1] / raw_eigenvalues[0]:.3g}")

# %% [markdown]
# ## Feature scaling
#
# **Standardize** each feature with its training mean $\bar x_j$ and standard deviation $s_j$:
#
# $$x'_{ij} = \frac{x_{ij} - \bar x_j}{s_j} .$$
#
# Every scaled column has mean 0 and variance 1, so the Hessian becomes
#
# $$\nabla^2 \mathcal{L}' = \frac2N \begin{bmatrix} X'^\top X' & X'^\top \mathbf 1 \\ \mathbf 1^\top X' & N \end{bmatrix}
#      = 2 \begin{bmatrix} C & 0 \\ 0 & 1 \end{bmatrix},$$
#
# where $C$ is the **correlation matrix** of the features (ones on its diagonal). Centring zeroes
# the off-diagonal blocks, so the bias no longer fights the weights (chapter 4's tilted valley);
# dividing by $s_j$ puts every diagonal entry at 2. What remains of $\kappa$ comes only from
# correlations between features, here mostly area and rooms.
#
# Nothing is lost: a model on scaled features is a model on raw features in disguise. Expanding
# $\hat y = \sum_j w'_j (x_j - \bar x_j)/s_j + b'$ gives
#
# $$w_j = \frac{w'_j}{s_j}, \qquad b = b' - \sum_j \frac{w'_j\, \bar x_j}{s_j} .$$
#
# The statistics are computed on the **training** data only and reused, unchanged, for test data
# and for every future prediction; otherwise the model would see different units at test time.
# `nn101.data.standardize` returns them for that purpose:

# %%
show(nn101.data.standardize)

# %%
X_scaled, x_mean, x_std = nn101.data.standardize(X)
X_test_scaled, _, _ = nn101.data.standardize(X_test, x_mean, x_std)  # the training statistics
scaled_eigenvalues = hessian_eigenvalues(X_scaled)
print("Hessian eigenvalues, scaled features:", ", ".join(f"{v:.3g}" for v in scaled_eigenvalues))
print(f"condition number κ = {scaled_eigenvalues[-1] / scaled_eigenvalues[0]:.3g}")

# %% [markdown]
# ## Experiment: the same descent, raw vs scaled
#
# We run full-batch gradient descent from zero on both versions of the data, each with the
# learning rate $\eta = 1/\omega_{\max}$ (safely below the divergence limit $2/\omega_{\max}$),
# and plot the relative excess loss $(\mathcal{L} - \mathcal{L}^\star)/\mathcal{L}^\star$ on a log scale. The optimum $\mathcal{L}^\star$
# is the same for both, since scaling only re-parametrizes the model.


# %%
def descend(X, y, learning_rate, steps):
    w, b = np.zeros(X.shape[1]), 0.0
    history = []
    for _ in range(steps):
        value, grad_w, grad_b = loss_and_gradient(X, y, w, b)
        history.append(value)
        w, b = w - learning_rate * grad_w, b - learning_rate * grad_b
    return w, b, np.array(history)


steps = 2000
w_raw, b_raw, history_raw = descend(X, y, 1 / raw_eigenvalues[-1], steps)
w_sc, b_sc, history_scaled = descend(X_scaled, y, 1 / scaled_eigenvalues[-1], steps)
for name, history in (("raw", history_raw), ("scaled", history_scaled)):
    below = np.nonzero(history - L_star < 1e-6 * L_star)[0]
    reached = f"step {below[0]}" if len(below) else f"not within {steps} steps"
    print(
        f"{name:6s}: L - L* = {history[-1] - L_star:10.3e} after {steps} steps; "
        f"within 1e-6 relative: {reached}"
    )

# %%
fig, (ax_loss, ax_eig) = plt.subplots(1, 2, figsize=(13, 4.5))
kappa_raw = raw_eigenvalues[-1] / raw_eigenvalues[0]
kappa_scaled = scaled_eigenvalues[-1] / scaled_eigenvalues[0]
floor = 1e-14  # float64 rounding: the excess loss cannot be resolved below about this
ax_loss.semilogy(
    np.maximum((history_raw - L_star) / L_star, floor),
    label=rf"raw features ($\kappa$ = {kappa_raw:.1e})",
)
ax_loss.semilogy(
    np.maximum((history_scaled - L_star) / L_star, floor),
    label=rf"standardized ($\kappa$ = {kappa_scaled:.1f})",
)
ax_loss.set(
    xlabel="step",
    ylabel=r"$(L - L^\star) / L^\star$ (log scale)",
    title=r"Gradient descent with $\eta = 1/\omega_{\max}$",
)
ax_loss.legend()
positions = np.arange(D + 1)
ax_eig.bar(positions - 0.2, raw_eigenvalues, width=0.4, label="raw")
ax_eig.bar(positions + 0.2, scaled_eigenvalues, width=0.4, label="standardized")
ax_eig.set_yscale("log")
ax_eig.set(
    xticks=positions,
    xticklabels=[f"$\\omega_{i + 1}$" for i in positions],
    ylabel="eigenvalue of the Hessian (log scale)",
    title="Curvatures of the loss bowl",
)
ax_eig.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# On raw features the loss drops quickly at first (the steep directions, dominated by the area,
# are fitted in a few steps) and then stalls: after 2000 steps it is still far from the optimum,
# because the flat directions shrink by a factor of only $1 - \omega_{\min}/\omega_{\max}$ per
# step. On standardized features the same method reaches the optimum to six digits in little
# more than a hundred steps, and to rounding error soon after. Neural networks are not quadratic bowls, but the same curvature argument applies
# locally, which is why every chapter from here on scales its inputs (pixels to $[0, 1]$ or to
# zero mean and unit variance) and why batch normalization (chapter 16) scales the inputs of
# *every* layer.
#
# Converting the scaled model back to raw units gives the least-squares answer:

# %%
w_back = w_sc / x_std
b_back = b_sc - np.sum(w_sc * x_mean / x_std)
print("from scaled descent:", w_back.round(4), round(b_back, 3))
print("least squares:      ", w_star.round(4), round(b_star, 3))
assert np.allclose(w_back, w_star, rtol=1e-6) and np.isclose(b_back, b_star, rtol=1e-6)

# %% [markdown]
# ## The same model in nn101
#
# A `Dense(4, 1)` layer, the mean squared error and SGD, on the standardized features. We keep
# float64 here to compare with the exact answer; in float32, nn101's default, the results agree
# to about six digits. The test set, scaled with the *training* statistics, tells us how well
# the model predicts prices it has not seen.

# %%
model = nn101.Dense(D, 1, dtype=np.float64, rng=rng)
loss_fn = nn101.MeanSquaredError()
optimizer = nn101.SGD(model.parameters(), learning_rate=1 / scaled_eigenvalues[-1])
for _ in range(500):
    optimizer.zero_grad()
    train_mse = loss_fn(model(X_scaled), y[:, None])
    model.backward(loss_fn.backward())
    optimizer.step()

test_mse = loss_fn(model(X_test_scaled), y_test[:, None])
print(f"train MSE {train_mse:.2f} (optimum {L_star:.2f}), test MSE {test_mse:.2f}")
assert np.allclose(model.weight.value[:, 0] / x_std, w_star, rtol=1e-6)

# %% [markdown]
# ## PyTorch cross-check
#
# In float64: autograd's gradient of the vectorized loss equals our $\frac2N X^\top r$ (on raw and
# on scaled features) up to rounding, which we measure against the size of the terms summed in
# $X^\top r$ because on raw features they are large and partly cancel; the gradients that
# `Dense.backward` accumulates equal it too; and
# `torch.linalg.lstsq` finds the same $\theta^\star$.

# %%
import torch

w0, b0 = rng.normal(size=D), rng.normal()
for features_matrix in (X, X_scaled):
    X_t = torch.from_numpy(features_matrix)
    w_t = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(b0, dtype=torch.float64, requires_grad=True)  # (a Python float alone
    # would become float32, torch's default)
    torch.mean((X_t @ w_t + b_t - torch.from_numpy(y)) ** 2).backward()
    _, grad_w, grad_b = loss_and_gradient(features_matrix, y, w0, b0)
    # Rounding errors scale with the size of the terms summed in X^T r, not with their sum.
    r = features_matrix @ w0 + b0 - y
    term_size = 2 / N * (np.abs(features_matrix).T @ np.abs(r))  # (D,)
    error = np.max(np.abs(grad_w - w_t.grad.numpy()) / term_size)
    print(f"difference in ∇w relative to the summed terms: {error:.1e}")
    assert error < 1e-12
    assert np.isclose(grad_b, b_t.grad.item(), rtol=1e-10, atol=1e-12)

layer = nn101.Dense(D, 1, dtype=np.float64)
layer.weight.value[:, 0] = w0
layer.bias.value[...] = b0
mse = nn101.MeanSquaredError()
mse(layer(X_scaled), y[:, None])
layer.backward(mse.backward())
_, grad_w, grad_b = loss_and_gradient(X_scaled, y, w0, b0)
assert np.allclose(layer.weight.grad[:, 0], grad_w, rtol=1e-10)
assert np.isclose(layer.bias.grad[0], grad_b, rtol=1e-10)

theta_torch = torch.linalg.lstsq(torch.from_numpy(X_tilde), torch.from_numpy(y)[:, None]).solution
print("torch.linalg.lstsq:", theta_torch[:, 0].numpy().round(4))
assert np.allclose(theta_torch[:, 0].numpy(), theta_star, rtol=1e-8)

# %% [markdown]
# ### The same training loop in PyTorch
#
# nn101's six-line loop and the idiomatic PyTorch one (`nn.Linear(4, 1)`, `nn.MSELoss`,
# `optim.SGD`) side by side, from the same zero start on the standardized features: after 500
# steps both hold the same weights.

# %%
ours = nn101.Dense(D, 1, dtype=np.float64)
ours.weight.value[...], ours.bias.value[...] = 0.0, 0.0
our_loss = nn101.MeanSquaredError()
our_optimizer = nn101.SGD(ours.parameters(), learning_rate=1 / scaled_eigenvalues[-1])

linear = torch.nn.Linear(D, 1, dtype=torch.float64)
torch.nn.init.zeros_(linear.weight)
torch.nn.init.zeros_(linear.bias)
their_loss = torch.nn.MSELoss()
their_optimizer = torch.optim.SGD(linear.parameters(), lr=1 / scaled_eigenvalues[-1])
X_scaled_t, y_t = torch.from_numpy(X_scaled), torch.from_numpy(y[:, None])

for _ in range(500):
    our_optimizer.zero_grad()  # nn101
    our_loss(ours(X_scaled), y[:, None])
    ours.backward(our_loss.backward())
    our_optimizer.step()

    their_optimizer.zero_grad()  # PyTorch
    their_loss(linear(X_scaled_t), y_t).backward()
    their_optimizer.step()

assert np.allclose(ours.weight.value, linear.weight.detach().numpy().T, rtol=1e-10)
assert np.isclose(ours.bias.value[0], linear.bias.item(), rtol=1e-10)
print("nn101 and PyTorch end at the same weights:", linear.weight.detach().numpy().round(3))

# %% [markdown]
# ## Summary
#
# * With $D$ features the model is $\hat y = Xw + b$ and the gradient of the mean squared error
#   is two matrix products, $\frac2N X^\top r$ and $\frac2N \sum_i r_i$, for any $N$ and $D$.
# * The normal equations $\tilde X^\top \tilde X \theta^\star = \tilde X^\top y$ give the exact
#   answer; `lstsq` solves them without squaring the condition number.
# * Features on different scales give the loss a Hessian with a huge condition number, and
#   gradient descent crawls. Standardizing each feature with its *training* mean $\bar x_j$ and
#   standard deviation $s_j$ leaves only the correlations between features, and descent
#   converges in a few hundred steps instead of never.
# * A model fitted on scaled features converts back exactly to raw units.
#
# ## Exercises
#
# **Exercise 1.** Scale the features to $[0, 1]$ instead (min-max scaling). Compute $\kappa$ and
# rerun the experiment. Why is it better than raw features but worse than standardization?
# *Hint:* look at the off-diagonal entries of the Hessian.
#
# <details><summary>Solution</summary>
#
# Min-max scaling equalizes the *ranges*, so the diagonal of the Hessian no longer spans four
# orders of magnitude, and $\kappa$ falls by orders of magnitude. But the scaled features are
# not centred (their means are around 0.5), so the bias column is strongly correlated with every
# feature and the off-diagonal entries stay large: $\kappa$ remains well above
# standardization's. The cell below compares the three.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 1
X_minmax = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
kappas = {
    name: (lambda ev: ev[-1] / ev[0])(hessian_eigenvalues(features))
    for name, features in (("raw", X), ("min-max", X_minmax), ("standardized", X_scaled))
}
print(", ".join(f"{name}: κ = {kappa:.3g}" for name, kappa in kappas.items()))
assert kappas["raw"] > kappas["min-max"] > kappas["standardized"]

# %% [markdown]
# **Exercise 2.** Solve the normal equations with
# `np.linalg.solve(X_tilde.T @ X_tilde, X_tilde.T @ y)` in float32 on raw and on scaled
# features. Compare with `lstsq` in float64. Which one loses digits, and how many, and what does
# it have to do with $\kappa^2$?
#
# <details><summary>Solution</summary>
#
# Solving a linear system loses about $\log_{10}$ of its matrix's condition number in digits.
# $\tilde X^\top \tilde X$ has condition number $\kappa(\tilde X)^2$, which for raw features is
# in the millions or more: float32, with about 7 digits, keeps few or no correct digits. On
# standardized features the condition number is small and float32 agrees with float64 to about
# six digits.
#
# </details>
#
# **Exercise 3.** Add a fifth feature that is the area in square feet (area × 10.76). What
# happens to the normal equations, to $\kappa$, and to gradient descent? Which of them still
# gives a useful model?
#
# <details><summary>Solution</summary>
#
# The two area columns are exactly proportional, so $\tilde X^\top \tilde X$ is singular,
# $\omega_{\min} = 0$ and $\kappa$ is infinite (in floating point, enormous). The weights are no
# longer unique: any split of the area's effect between the two columns fits equally well.
# `solve` fails or returns huge, cancelling weights; `lstsq` returns the minimum-norm solution;
# gradient descent from zero converges to that same minimum-norm split in the directions it can
# see. The *predictions* of `lstsq` and of descent remain good.
#
# </details>
#
# **Exercise 4.** Train with mini-batches of 32 examples (`nn101.data.batch_indices`) instead of
# the full batch. Plot the loss per epoch for a few learning rates. Does scaling still matter?
#
# <details><summary>Solution</summary>
#
# Yes. Mini-batch gradients are noisy estimates of the full gradient, but the curvature that
# limits the learning rate is the same, so on raw features the rate must still stay below
# $2/\omega_{\max}$ and the flat directions still crawl. On scaled features a mini-batch run
# reaches the neighbourhood of the optimum within a few epochs and then fluctuates at a noise
# floor set by the learning rate (chapter 14).
#
# </details>
#
# ## Further reading
#
# * Y. LeCun, L. Bottou, G. B. Orr and K.-R. Müller, "Efficient BackProp", in *Neural Networks:
#   Tricks of the Trade* (1998): why inputs should be centred and scaled, from the Hessian.
# * L. N. Trefethen and D. Bau, *Numerical Linear Algebra* (1997), lectures 11-19: least
#   squares, QR factorization and conditioning.
# * G. James, D. Witten, T. Hastie and R. Tibshirani, *An Introduction to Statistical Learning*
#   (2nd ed., 2021), section 3.2: multiple linear regression.
