# %% [markdown]
# # 17. Digit recognition
#
# Everything in this book comes together on the problem that made neural networks famous:
# reading handwritten digits. LeCun and colleagues' networks read the zip codes on American
# mail and the amounts on cheques in the 1990s, and their MNIST dataset — 70,000 digits written
# by American census employees and high-school students, centered in 28x28 pixel images — has
# been the first benchmark of every learner since.
#
# This chapter goes end to end, the way a real project does:
#
# 1. **data**: load it, look at it, split it, know its shapes and ranges;
# 2. **model**: choose an architecture from the previous chapters;
# 3. **training**: with a validation set watched at every epoch;
# 4. **evaluation**: the test accuracy, once, at the end; the confusion matrix; and the
#    mistakes, looked at one by one.
#
# We do it twice with the same code: first on the small 8x8 digits shipped inside `nn101`
# (a few seconds), then on MNIST.

# %%
import inspect
import tempfile
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

import nn101


def show(function):
    """Display the real source of a library function, syntax-highlighted."""
    source = textwrap.dedent(inspect.getsource(function))
    display(Markdown(f"```python\n{source}```"))


# %% [markdown]
# ## The pipeline
#
# The model is a multilayer perceptron with two hidden layers, each `Dense` followed by batch
# normalization (chapter 16) and ReLU (chapter 10), He-initialized (chapter 11); the output
# layer gives ten logits, trained with softmax cross-entropy (chapter 7) by Adam (chapter 15),
# with a little L2 on the weights (chapter 13). `EarlyStopping` watches the validation loss and
# puts back the best weights if it stops improving.
#
# Turning the ten logits $z$ of an image into a decision takes the largest:
# $\hat y = \arg\max_k z_k$, and the softmax $p_k = e^{z_k} / \sum_j e^{z_j}$ says how sure
# the network is. The **accuracy** is the fraction of test images with $\hat y = y$. The
# **confusion matrix** counts, for every pair of classes, how often an image of class $i$ was
# predicted as class $j$:
#
# $$
# \mathrm{CM}_{ij} = \#\{\, n : y_n = i,\ \hat y_n = j \,\},
# $$
#
# so the diagonal holds the correct answers, $\text{accuracy} = \operatorname{tr}(\mathrm{CM}) /
# \sum_{ij} \mathrm{CM}_{ij}$, and each off-diagonal entry is one kind of mistake. The row-normalized
# diagonal $\mathrm{CM}_{ii} / \sum_j \mathrm{CM}_{ij}$ is the *recall* of class $i$: the share of its images
# that the network recognized. `nn101.metrics` computes both:

# %%
show(nn101.metrics.confusion_matrix)


# %%
def build(n_inputs, *, hidden=(256, 128), rng, dtype=np.float32, l2=1e-5):
    """Dense -> BatchNorm -> ReLU for each hidden width, then Dense to 10 logits."""
    layers, fan_in = [], n_inputs
    for width in hidden:
        layers += [
            nn101.Dense(fan_in, width, rng=rng, dtype=dtype, weight_init="he_normal", l2=l2),
            nn101.BatchNorm1d(width, dtype=dtype),
            nn101.ReLU(),
        ]
        fan_in = width
    layers.append(nn101.Dense(fan_in, 10, rng=rng, dtype=dtype, l2=l2))
    return nn101.Sequential(*layers)


def train(model, train_data, valid_data, *, epochs, batch_size, learning_rate, seed):
    """Adam on mini-batches; keeps the best weights seen on the validation data."""
    early_stopping = nn101.EarlyStopping("val_loss", patience=3, restore_best=True)
    return model.fit(
        train_data,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=nn101.Adam(model.parameters(), learning_rate=learning_rate),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=valid_data,
        callbacks=[early_stopping],
        rng=np.random.default_rng(seed),
        verbose=0,
    ).history


def split(dataset, n_valid, *, n_train=None, seed):
    """A random training subset and a disjoint validation set, as Datasets (uint8 stays uint8)."""
    order = np.random.default_rng(seed).permutation(len(dataset))
    valid, rest = order[:n_valid], order[n_valid:]
    rest = rest if n_train is None else rest[:n_train]

    def subset(indices, name):
        return nn101.data.Dataset(
            dataset.x[indices], dataset.y[indices], transform=dataset.transform, name=name
        )

    return subset(rest, "train"), subset(valid, "valid")


# %% [markdown]
# ## Warm-up: the 8x8 digits
#
# 1,797 images of 8x8 pixels with values 0 to 16 (scaled to $[0, 1]$ as each batch is read),
# split once and for all into 1,438 training and 359 test images. We hold out 200 of the
# training images for validation.

# %%
digits_train, digits_test = nn101.data.load_digits()
small_train, small_valid = split(digits_train, 200, seed=0)
model = build(64, hidden=(128, 64), rng=np.random.default_rng(1))
history = train(
    model, small_train, small_valid, epochs=30, batch_size=32, learning_rate=3e-3, seed=2
)
result = model.evaluate(digits_test, loss=nn101.SoftmaxCrossEntropy())
print(f"8x8 digits: {len(history['loss'])} epochs, test accuracy {result['accuracy']:.3f}")
display(
    Markdown(
        f"The network reads {result['accuracy']:.1%} of the 359 test digits correctly after "
        f"{len(history['loss'])} epochs of a few seconds' training (early stopping may end the "
        "run before the 30 epochs allowed). Now the real thing."
    )
)

# %% [markdown]
#
# ## MNIST: the data
#
# `nn101.data.load_mnist()` looks for the four MNIST files in `$NN101_DATA_DIR` (or the
# directory you pass as `data_dir=`), then in its cache, and otherwise downloads them and
# verifies their SHA-256 checksums (about 11 MB, once). The rest of this chapter needs MNIST:
# without the files and without internet it stops here with a message that says what to do.

# %%
try:
    full_train, test = nn101.data.load_mnist()
except (OSError, ValueError) as error:  # not found, download failed, or a bad checksum
    raise RuntimeError(
        "Chapter 17 needs MNIST. Put the four MNIST .gz files in a directory and set "
        "NN101_DATA_DIR to it, or run `nn101 data mnist` once with internet access. "
        f"Loading failed with: {error}"
    ) from error
dataset_name, side = "MNIST", 28
print(dataset_name, "train:", full_train, "\ntest:", test)
print("pixel range of a batch:", full_train[:100][0].min(), "to", full_train[:100][0].max())
print("images per class in training:", np.bincount(full_train.y))

# %%
fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
for digit in range(10):
    examples = np.flatnonzero(full_train.y == digit)[:3]
    for row, index in enumerate(examples):
        axes[row, digit].imshow(full_train[index][0].reshape(side, side), cmap="gray_r")
        axes[row, digit].axis("off")
    axes[0, digit].set_title(str(digit))
fig.suptitle(f"{dataset_name}: three training images of each digit")
fig.tight_layout()
plt.show()

# %% [markdown]
# The images are stored as bytes (0 to 255) and scaled to float32 in $[0, 1]$ one mini-batch
# at a time, so that the 60,000 training images stay a 47 MB array rather than a 188 MB one.
# Each image is *flattened* to a vector of $28 \times 28 = 784$ pixels: a multilayer
# perceptron ignores the 2-D layout (a convolutional network would use it).
#
# To keep this chapter within a minute on a laptop we train on a random 20,000 of the 60,000
# training images, with 5,000 others for validation, for a few epochs. (Exercise 1: use them
# all.) The 10,000 test images are used once, at the end.

# %%
train_data, valid_data = split(full_train, 5_000, n_train=20_000, seed=0)
model = build(side * side, rng=np.random.default_rng(1))
model.summary()
history = train(model, train_data, valid_data, epochs=6, batch_size=128, learning_rate=2e-3, seed=2)
for epoch, (loss, acc, val_acc) in enumerate(
    zip(history["loss"], history["accuracy"], history["val_accuracy"]), start=1
):
    print(
        f"epoch {epoch}: loss {loss:.4f}, train accuracy {acc:.4f}, "
        f"validation accuracy {val_acc:.4f}"
    )

# %% [markdown]
# ## Evaluation
#
# Now, and only now, the test set:

# %%
logits = model.predict(test)
predicted = nn101.metrics.predicted_labels(logits)
actual = test.y
test_accuracy = nn101.metrics.accuracy(logits, actual)
confusion = nn101.metrics.confusion_matrix(predicted, actual, num_classes=10)
print(
    f"{dataset_name} test accuracy: {test_accuracy:.4f} "
    f"({np.sum(predicted != actual)} mistakes in {len(actual)} images)"
)
assert np.isclose(np.trace(confusion) / confusion.sum(), test_accuracy)

fig, ax = plt.subplots(figsize=(6.5, 5.5))
off_diagonal = confusion - np.diag(np.diag(confusion))
image = ax.imshow(off_diagonal, cmap="Reds")
for i in range(10):
    for j in range(10):
        ax.text(
            j,
            i,
            confusion[i, j],
            ha="center",
            va="center",
            fontsize=8,
            color="black" if i != j else "grey",
        )
ax.set(
    xticks=range(10),
    yticks=range(10),
    xlabel="predicted digit",
    ylabel="true digit",
    title=f"{dataset_name} confusion matrix (colour: mistakes only)",
)
fig.colorbar(image, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

recall = np.diag(confusion) / confusion.sum(axis=1)
worst_pairs = np.dstack(
    np.unravel_index(np.argsort(off_diagonal, axis=None)[::-1][:3], off_diagonal.shape)
)[0]
print("recall per digit:", np.array2string(recall, precision=3))
print(
    "most frequent mistakes:",
    ", ".join(f"{i} read as {j} ({off_diagonal[i, j]}x)" for i, j in worst_pairs),
)

# %% [markdown]
# The diagonal dominates (the counts there are in the hundreds, the mistakes mostly in single
# digits), so we colour only the mistakes. They are not spread evenly: they gather in a few
# cells between digits that share strokes. What this run gives, read from the matrix above:

# %%
(i, j), (k, m) = worst_pairs[0], worst_pairs[1]
display(
    Markdown(
        f"The most frequent mistake is a **{i} read as a {j}** ({off_diagonal[i, j]} times), "
        f"then a **{k} read as a {m}** ({off_diagonal[k, m]} times). The matrix is not "
        f"symmetric: the reverse mistakes, a {j} read as a {i} and a {m} read as a {k}, happen "
        f"{off_diagonal[j, i]} and {off_diagonal[m, k]} times. The weakest recall is digit "
        f"{np.argmin(recall)}'s ({recall.min():.1%} of its images recognized), the best is "
        f"digit {np.argmax(recall)}'s ({recall.max():.1%})."
    )
)

# %% [markdown]
# ## The mistakes it makes
#
# Numbers summarize; looking at the failures teaches. Here are the misclassified test images
# the network was *most confident* about, with the true label, the prediction, and the
# softmax probability it gave its (wrong) answer:

# %%
probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
probabilities /= probabilities.sum(axis=1, keepdims=True)
wrong = np.flatnonzero(predicted != actual)
wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:24]

fig, axes = plt.subplots(3, 8, figsize=(11, 4.8))
for ax, index in zip(axes.ravel(), wrong):
    ax.imshow(test[index][0].reshape(side, side), cmap="gray_r")
    confidence = probabilities[index, predicted[index]]
    ax.set_title(
        f"{actual[index]} → {predicted[index]} ({confidence:.2f})", fontsize=9, color="firebrick"
    )
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("Misclassified test images: true → predicted (confidence)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Many of these are hard for a person too: a 4 with a closed top is a 9; a 7 with a crossbar
# written small is a 2. Others are plainly readable to us, and show what a multilayer
# perceptron lacks: it sees 784 independent numbers and has no built-in notion that a stroke
# moved by two pixels is the same stroke. Trained on all 60,000 images for longer, this
# multilayer perceptron reaches about 98%; convolutional networks, which build that notion in,
# pass 99%.
#
# ## Saving the model
#
# A trained model is worth keeping. `model.save` writes a directory with the architecture as
# JSON and the weights (and batch-norm running statistics) as a NumPy archive — no pickle, so
# loading a file from someone else cannot run code. `nn101.load` rebuilds it:

# %%
with tempfile.TemporaryDirectory() as directory:
    model.save(f"{directory}/mnist_mlp")
    restored = nn101.load(f"{directory}/mnist_mlp")
    assert np.array_equal(restored.predict(test), logits)
print("the reloaded model makes exactly the same predictions")

# %% [markdown]
# ## PyTorch cross-check
#
# The trained network, rebuilt in float64 in both libraries with the same weights and running
# statistics: on the first 1,000 test images the logits must agree, and so must the gradient
# of the loss with respect to the first layer's weights (training mode, batch statistics).

# %%
import torch

ours = build(side * side, rng=np.random.default_rng(0), dtype=np.float64, l2=0.0)  # data loss only
for (_, target), (_, source) in zip(ours.named_parameters(), model.named_parameters()):
    target.value[...] = source.value
for (_, target), (_, source) in zip(ours.named_buffers(), model.named_buffers()):
    target[...] = source

torch_layers = []
for layer in ours.layers:
    if isinstance(layer, nn101.Dense):
        module = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.weight.value.T))
            module.bias.copy_(torch.from_numpy(layer.bias.value))
    elif isinstance(layer, nn101.BatchNorm1d):
        module = torch.nn.BatchNorm1d(layer.num_features, dtype=torch.float64)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(layer.weight.value))
            module.bias.copy_(torch.from_numpy(layer.bias.value))
            module.running_mean.copy_(torch.from_numpy(layer.running_mean))
            module.running_var.copy_(torch.from_numpy(layer.running_var))
    else:
        module = torch.nn.ReLU()
    torch_layers.append(module)
torch_model = torch.nn.Sequential(*torch_layers)

x, y = test[:1000][0].astype(np.float64), test.y[:1000]
np.testing.assert_allclose(
    ours.predict(x), torch_model.eval()(torch.from_numpy(x)).detach(), rtol=1e-9, atol=1e-10
)

loss_fn = nn101.SoftmaxCrossEntropy()
ours.zero_grad()
loss = loss_fn(ours.forward(x, training=True), y)
ours.backward(loss_fn.backward())
torch_loss = torch.nn.functional.cross_entropy(
    torch_model.train()(torch.from_numpy(x)), torch.from_numpy(y)
)
torch_loss.backward()
np.testing.assert_allclose(loss, torch_loss.item(), rtol=1e-10)
np.testing.assert_allclose(
    ours.layers[0].weight.grad, torch_model[0].weight.grad.numpy().T, rtol=1e-8, atol=1e-12
)
print(f"logits and gradients agree with PyTorch (loss {loss:.6f})")

# %% [markdown]
# ## Summary
#
# * A real project runs in four stages: data (look at it, split off validation data), model,
#   training watched on the validation set, and one final evaluation on the test set.
# * The multilayer perceptron of the previous chapters (Dense, batch normalization, ReLU, He
#   initialization, Adam, L2, early stopping) reads most handwritten digits correctly after a
#   minute of CPU training on a third of MNIST.
# * The confusion matrix shows *which* mistakes a model makes; they cluster between digits that
#   share strokes, and the matrix is not symmetric. The most confident mistakes are the ones to
#   look at.
# * A model is saved as JSON plus arrays and reloads to the same predictions; a float64 copy
#   agrees with PyTorch on logits and gradients.
#
# ## Exercises
#
# **Exercise 1.** Train on all 60,000 training images (keep 5,000 for validation) for 10
# epochs. How much does the test accuracy improve over the 20,000-image run, and how much longer
# does it take? *Hint:* `split(full_train, 5_000, seed=0)` without `n_train`.
#
# <details><summary>Solution</summary>
#
# Three times the data costs about three times as long per epoch. The test accuracy typically
# rises by several tenths of a percentage point, towards 98%, and the mistakes fall accordingly.
# More data helps most where the network was unsure, on the rarer ways of writing a digit.
#
# </details>
#
# **Exercise 2.** Remove the two `BatchNorm1d` layers and retrain with the same settings.
# Compare the training curves and the test accuracy. *Hint:* give `build` a `batch_norm` flag.
#
# <details><summary>Solution</summary>
#
# Without batch normalization the first epochs learn more slowly (the loss starts higher and
# falls later) and the final accuracy is usually a little lower at the same learning rate; with
# a smaller learning rate the gap narrows. Batch normalization's main gift here is that a large
# learning rate is safe (chapter 16).
#
# </details>
#
# **Exercise 3.** Replace `nn101.data.load_mnist()` with `nn101.data.load_fashion_mnist()`
# (clothes instead of digits, same format). Which classes get confused now?
#
# <details><summary>Solution</summary>
#
# The accuracy falls to the high 80s. The confusions are between garments of similar shape:
# shirt, T-shirt/top, pullover and coat confuse each other, while trousers, bags and footwear are
# recognized almost always. Fashion-MNIST was made to be harder than MNIST for exactly this
# reason.
#
# </details>
#
# **Exercise 4.** Shift every test image by two pixels to the right (`np.roll` on the 28x28
# image, then flatten) and measure the accuracy. What does the result say about multilayer
# perceptrons? *Hint:* `np.roll(images.reshape(-1, 28, 28), 2, axis=2)`.
#
# <details><summary>Solution</summary>
#
# The accuracy drops sharply (the cell below measures it): every pixel the network learned to
# weigh now holds what used to be its neighbour's value. A multilayer perceptron has no notion
# that a stroke moved by two pixels is the same stroke; convolutional networks build that in.
#
# </details>

# %% tags=["solution"]
# Solution to exercise 4
images = test[:][0].reshape(-1, 28, 28)
shifted = np.roll(images, 2, axis=2).reshape(-1, 784)  # two pixels to the right
shifted_accuracy = nn101.metrics.accuracy(model.predict(shifted), test.y)
print(f"test accuracy: {test_accuracy:.4f} as is, {shifted_accuracy:.4f} shifted by 2 pixels")
assert shifted_accuracy < test_accuracy - 0.05

# %% [markdown]
# ## Further reading
#
# * Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to document
#   recognition", *Proceedings of the IEEE* (1998): the paper behind MNIST and LeNet-5, with a
#   table of many classifiers' error rates on it.
# * P. Y. Simard, D. Steinkraus and J. C. Platt, "Best practices for convolutional neural networks
#   applied to visual document analysis", ICDAR (2003): how distorted copies of the training
#   images push a plain network past 99%.
# * H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image dataset for benchmarking
#   machine learning algorithms", arXiv:1708.07747 (2017).
# * M. Nielsen, *Neural Networks and Deep Learning*, chapter 1 (2015): the same problem solved
#   with a sigmoid network and plain SGD.
