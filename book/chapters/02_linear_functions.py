# %% [markdown]
# # 2. Linear functions
#
# Underneath every network in this book sits one operation: multiply the inputs by a matrix of
# weights and add a vector of biases. The activations, losses and optimizers of later chapters
# all wrap around it. This chapter builds that operation from a single number up to a batch of
# many examples with many features, writes it as one matrix product, and meets nn101's `Dense`
# layer, which is exactly that product.

# %%
import inspect
import textwrap
import time

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
# ## From a line to a linear map
#
# The simplest model of how an output depends on an input is a straight line,
#
# $$f(x) = w x + b,$$
#
# with **slope** (weight) $w$ and **intercept** (bias) $b$. Strictly speaking a function is
# **linear** when it respects sums and scaling,
#
# $$f(\alpha u + \beta v) = \alpha f(u) + \beta f(v) \quad \text{for all } u, v, \alpha, \beta,$$
#
# which $wx$ does and $wx + b$ does not (unless $b = 0$): take $\alpha = \beta = 0$ and the left
# side is $b$, the right side is $0$. A linear function plus a constant is called **affine**.
# Machine learning says "linear layer" for both; we will too, and write the bias explicitly.
#
# **Many inputs.** With $D$ input features $x = (x_1, \dots, x_D)$ and one weight per feature,
#
# $$y = x_1 w_1 + x_2 w_2 + \dots + x_D w_D + b = \sum_{i=1}^{D} x_i w_i + b = x \cdot w + b.$$
#
# **Many outputs.** With $K$ outputs, output $j$ has its own weights $W_{1j}, \dots, W_{Dj}$ and
# bias $b_j$:
#
# $$y_j = \sum_{i=1}^{D} x_i W_{ij} + b_j, \qquad j = 1, \dots, K.$$
#
# If $x$ is a row vector of shape $(1, D)$ and $W$ a $(D, K)$ matrix, the sum over $i$ is exactly
# the definition of the matrix product, entry $j$ of $xW$. So all $K$ outputs at once are
#
# $$y = x W + b, \qquad x: (1, D),\; W: (D, K),\; b: (1, K),\; y: (1, K).$$
#
# **Many examples.** Stack $N$ examples as the rows of a matrix $X$ of shape $(N, D)$. Row $n$
# of $XW$ is $x^{(n)} W$, so one product evaluates every example:
#
# $$Y = X W + \mathbf{1} b, \qquad X: (N, D),\; W: (D, K),\; Y: (N, K),$$
#
# where $\mathbf{1}$ is a column of $N$ ones that copies the bias to every row. NumPy does that
# copying for us: adding a shape-$(K,)$ array to a shape-$(N, K)$ array **broadcasts** it over
# the rows. This is nn101's convention throughout: **batch first**, one example per row,
# $Y = XW + b$. (PyTorch's `nn.Linear` computes the same thing but stores $W^\top$, shape
# $(K, D)$; the cross-check below handles the transpose.)
#
# Three ways to compute the same $Y$, from the definition to the matrix product:

# %%
N, D, K = 5, 3, 2
X = rng.normal(size=(N, D))  # (N, D): one example per row
W = rng.normal(size=(D, K))  # (D, K): one column of weights per output
b = rng.normal(size=K)  # (K,)

# 1. the definition, one entry at a time
Y_loops = np.zeros((N, K))
for n in range(N):
    for j in range(K):
        Y_loops[n, j] = sum(X[n, i] * W[i, j] for i in range(D)) + b[j]

# 2. one example (row) at a time
Y_rows = np.stack([X[n] @ W + b for n in range(N)])

# 3. the whole batch at once
Y = X @ W + b  # (N, D) @ (D, K) -> (N, K); b broadcasts over the N rows

print(Y.shape, np.allclose(Y, Y_loops), np.allclose(Y, Y_rows))

# %% [markdown]
# ## Why the matrix product matters: speed
#
# The three versions do the same $N \cdot D \cdot K$ multiply-adds. The loop version does them
# one Python operation at a time; the matrix product hands all of them to optimized,
# cache-aware, vectorized machine code (BLAS). On a batch of 256 examples with 784 inputs and 128
# outputs, about 26 million multiply-adds, the difference is large:

# %%
N, D, K = 256, 784, 128
X_big, W_big, b_big = rng.normal(size=(N, D)), rng.normal(size=(D, K)), rng.normal(size=K)


def best_time(f, repeat=5):
    """The fastest of `repeat` runs, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


one_entry_s = best_time(lambda: sum(X_big[0, i] * W_big[i, 0] for i in range(D)))  # ONE entry
rows_s = best_time(lambda: np.stack([X_big[n] @ W_big + b_big for n in range(N)]))
batch_s = best_time(lambda: X_big @ W_big + b_big)
Y_rows = np.stack([X_big[n] @ W_big + b_big for n in range(N)])
Y_big = X_big @ W_big + b_big

print(
    f"pure Python, one entry of {N * K}: {one_entry_s * 1e3:8.3f} ms "
    f"(about {one_entry_s * N * K:.1f} s for all of them)"
)
print(f"one row at a time:               {rows_s * 1e3:8.3f} ms")
print(f"whole batch, one product:        {batch_s * 1e3:8.3f} ms")
assert np.allclose(Y_rows, Y_big)

# %% [markdown]
# ## nn101's Dense layer
#
# `nn101.Dense(in_features, out_features)` holds $W$ (shape `(in_features, out_features)`) and
# $b$ as `Parameter`s, and its `forward` method is the product above. Here is its real source:
# after checking the input's shape, it keeps a reference to $x$ (the backward pass of chapter 8
# needs it) and computes `x @ W`, then adds $b$ in place. Its `backward` is derived in chapter
# 8, its L1/L2 penalties in chapter 13 and its initializers in chapter 11.

# %%
show(nn101.Dense.forward)

# %% [markdown]
# We can set its parameters to our $W$ and $b$ and check that it computes $XW + b$. Note the
# dtype: nn101 works in float32 by default, as PyTorch does, and `dtype=np.float64` asks for
# double precision, which is what we want when comparing numbers to many digits.

# %%
layer = nn101.Dense(D, K, dtype=np.float64, rng=rng)
layer.weight.value[...] = W_big
layer.bias.value[...] = b_big
print(layer, "->", layer.num_parameters(), "parameters =", D, "x", K, "+", K)
print("max |Dense(x) - (x W + b)| =", np.abs(layer(X_big) - Y_big).max())

# %% [markdown]
# ## Experiment: what a matrix does to space
#
# A $(2, 2)$ matrix maps the plane to itself. Because the map is linear, it is fully described
# by where it sends the two unit vectors $e_1 = (1, 0)$ and $e_2 = (0, 1)$: with row vectors,
# $e_1 W$ is the first *row* of $W$ and $e_2 W$ the second. Every grid line stays a straight line,
# parallel lines stay parallel, and the origin stays put (until the bias shifts everything).
# Below, a grid and a unit circle go through four maps: a scaling, a rotation, a shear, and a
# general matrix plus a bias. The circle becomes an ellipse whose axes are the **singular
# vectors** of $W$, stretched by its **singular values**.

# %%
theta = np.pi / 6
maps = {
    "scale: diag(1.5, 0.5)": (np.diag([1.5, 0.5]), np.zeros(2)),
    "rotate by 30°": (
        np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]]),
        np.zeros(2),
    ),
    "shear": (np.array([[1.0, 0.0], [0.8, 1.0]]), np.zeros(2)),
    "general W, plus bias b": (np.array([[1.2, 0.4], [-0.5, 0.9]]), np.array([0.5, -0.3])),
}
t = np.linspace(0, 2 * np.pi, 200)
circle = np.stack([np.cos(t), np.sin(t)], axis=1)  # (200, 2): points as rows
lines = np.linspace(-1, 1, 9)

fig, axes = plt.subplots(1, 4, figsize=(15, 4))
for ax, (name, (M, shift)) in zip(axes, maps.items(), strict=True):
    for c in lines:  # a grid: vertical and horizontal lines, mapped as batches of points
        for segment in (
            np.stack([np.full(50, c), np.linspace(-1, 1, 50)], axis=1),
            np.stack([np.linspace(-1, 1, 50), np.full(50, c)], axis=1),
        ):
            ax.plot(*segment.T, color="0.85", lw=0.8)
            ax.plot(*(segment @ M + shift).T, color="#748ffc", lw=0.8)
    ax.plot(*circle.T, color="0.5", lw=1.5, ls="--")
    ax.plot(*(circle @ M + shift).T, color="#d9480f", lw=2)
    for e, label in ((np.array([1.0, 0.0]), "$e_1 W$"), (np.array([0.0, 1.0]), "$e_2 W$")):
        end = e @ M
        ax.annotate("", xy=shift + end, xytext=shift, arrowprops={"arrowstyle": "->", "lw": 2})
        ax.text(*(shift + 1.12 * end), label, fontsize=11)
    ax.set(xlim=(-2, 2), ylim=(-2, 2), aspect="equal", title=name)
fig.suptitle("Grey: the unit grid and circle. Colour: their images under x ↦ xW + b")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Stacking linear layers gives nothing new
#
# If linear layers are all there is, depth buys nothing: two layers in a row,
#
# $$(X W_1 + b_1) W_2 + b_2 = X (W_1 W_2) + (b_1 W_2 + b_2),$$
#
# are again one linear layer, with weight $W_1 W_2$ and bias $b_1 W_2 + b_2$. However many layers
# we stack, the network can only draw straight lines (chapter 1's XOR problem stays unsolved).
# This is why every network puts a **non-linear activation** between its linear layers (chapters
# 6, 9 and 10). Let us confirm the algebra numerically with two Dense layers:

# %%
first = nn101.Dense(4, 3, dtype=np.float64, rng=rng)
second = nn101.Dense(3, 2, dtype=np.float64, rng=rng)
first.bias.value[...] = rng.normal(size=3)
second.bias.value[...] = rng.normal(size=2)
X4 = rng.normal(size=(10, 4))

two_layers = second(first(X4))
W_merged = first.weight.value @ second.weight.value  # (4, 3) @ (3, 2) -> (4, 2)
b_merged = first.bias.value @ second.weight.value + second.bias.value  # (3,) @ (3, 2) -> (2,)
print(
    "max difference, two layers vs one merged layer:",
    np.abs(two_layers - (X4 @ W_merged + b_merged)).max(),
)

# %% [markdown]
# ## PyTorch cross-check
#
# `torch.nn.Linear(D, K)` stores its weight with shape $(K, D)$ and computes $x W^\top + b$, so
# we copy in the transpose of our $W$. Its output must match nn101's `Dense` to rounding, both
# in float64 and in the default float32.

# %%
import torch

for dtype, np_dtype, tolerance in (
    (torch.float64, np.float64, 1e-12),
    (torch.float32, np.float32, 1e-4),
):
    ours = nn101.Dense(D, K, dtype=np_dtype, rng=rng)
    ours.bias.value[...] = rng.normal(size=K)
    linear = torch.nn.Linear(D, K, dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(ours.weight.value.T.copy()))  # (K, D) = Wᵀ
        linear.bias.copy_(torch.from_numpy(ours.bias.value))
        theirs = linear(torch.from_numpy(X_big.astype(np_dtype))).numpy()
    mine = ours(X_big.astype(np_dtype))
    error = np.abs(mine - theirs).max() / np.abs(theirs).max()
    print(f"{np_dtype.__name__}: output dtype {mine.dtype}, relative difference {error:.2e}")
    assert mine.dtype == np_dtype and error < tolerance

# %% [markdown]
# ## Summary
#
# * A linear layer computes $Y = XW + b$: batch first, one example per row, $W$ of shape
#   $(n_{\text{in}}, n_{\text{out}})$, the bias broadcast over the rows. Strictly it is
#   *affine*; machine learning calls it linear.
# * One matrix product evaluates a whole batch, orders of magnitude faster than Python loops.
# * A $(2, 2)$ matrix maps grids to grids and circles to ellipses; the bias shifts everything.
# * Two linear layers in a row are one linear layer, so networks need non-linear activations
#   between their layers.
#
# ## Exercises
#
# **Exercise 1.** Prove that $f(x) = xW$ is linear in the sense of the definition above, using
# only the rules of matrix multiplication. Which property fails for $xW + b$?
#
# <details><summary>Solution</summary>
#
# $(\alpha u + \beta v) W = \alpha (uW) + \beta (vW)$ by distributivity and because scalars
# commute with matrices. For $f(x) = xW + b$: $f(\alpha u + \beta v) = \alpha uW + \beta vW + b$
# while $\alpha f(u) + \beta f(v) = \alpha uW + \beta vW + (\alpha + \beta) b$: they differ
# unless $\alpha + \beta = 1$ or $b = 0$. Affine maps preserve *affine* combinations only.
#
# </details>
#
# **Exercise 2.** Write the $(2, 2)$ matrix (row-vector convention, $y = xW$) that reflects
# points across the line $x_1 = x_2$, and one that projects them onto the $x_1$ axis. Which of
# the two can be undone, and how do you see it in $W$? *Hint:* the rows of $W$ are the images
# of $e_1$ and $e_2$.
#
# <details><summary>Solution</summary>
#
# Reflection: $W = \begin{bmatrix} 0 & 1 \\ 1 & 0 \end{bmatrix}$ (it swaps the coordinates), its
# own inverse. Projection: $W = \begin{bmatrix} 1 & 0 \\ 0 & 0 \end{bmatrix}$, which sends the
# circle to a segment. The projection cannot be undone: its determinant is 0, one singular
# value is 0, and every point of a vertical line lands on the same image.
#
# </details>
#
# **Exercise 3.** A Dense layer from 784 inputs to 128 outputs: how many parameters does it
# have, and how many multiply-adds does a forward pass over a batch of 64 take? Time it for
# batch sizes 1, 8, 64 and 512 and plot the time *per example*. Why does it fall?
#
# <details><summary>Solution</summary>
#
# $784 \cdot 128 + 128 = 100{,}480$ parameters, and $64 \cdot 784 \cdot 128 \approx 6.4$
# million multiply-adds. The time per example falls with the batch size because the weights
# are read from memory once per batch instead of once per example, and the matrix product
# keeps every core and vector unit busy; fixed per-call overheads are shared too.
#
# </details>
#
# **Exercise 4.** Instead of a bias, append a column of ones to $X$ and a row to $W$. Show that
# $[X, \mathbf{1}] \begin{bmatrix} W \\ b \end{bmatrix} = XW + \mathbf{1}b$ and check it in
# NumPy.
#
# <details><summary>Solution</summary>
#
# Block multiplication: $[X, \mathbf{1}]$ times the stacked matrix is $XW + \mathbf{1} b$. The
# cell below checks it.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 4
X_ones = np.concatenate([X_big, np.ones((len(X_big), 1))], axis=1)  # (N, D + 1)
W_bias = np.concatenate([W_big, b_big[None, :]], axis=0)  # (D + 1, K)
assert np.allclose(X_ones @ W_bias, X_big @ W_big + b_big)
print("the bias trick gives the same output")

# %% [markdown]
# ## Further reading
#
# * G. Strang, *Introduction to Linear Algebra* (5th ed., 2016): matrices as maps, the singular
#   value decomposition.
# * A. Zhang, Z. C. Lipton, M. Li and A. J. Smola, *Dive into Deep Learning*, section 2.3
#   "Linear algebra" (2023).
# * K. Goto and R. A. van de Geijn, "Anatomy of high-performance matrix multiplication", *ACM
#   Transactions on Mathematical Software* 34 (2008): why BLAS is so much faster than a loop.
