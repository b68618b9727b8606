"""Classify MNIST digits with an LSTM that reads each image row by row, and print its accuracy.

    python examples/mnist_rows_lstm.py                       # finds or downloads MNIST
    python examples/mnist_rows_lstm.py --epochs 2 --hidden 64 # a quicker run

Each 28 x 28 image is a sequence of 28 steps of 28 pixels (N, T=28, D=28). An LSTM with 128
hidden units reads the rows top to bottom; its last hidden state (``return_sequences=False``)
goes to a Dense layer of 10 logits. This is the classic "sequential MNIST by rows" task: the
network must carry what it saw in the top rows through the recurrence until the end.
Trained with Adam, a half-cosine learning-rate decay and gradient clipping by global norm.
"""

import argparse
import math
import time

import numpy as np

import nn101
from nn101.data import Dataset, load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", default=None, help="directory holding the MNIST .gz files")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--lr", type=float, default=2e-3)
parser.add_argument("--hidden", type=int, default=128)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def as_rows(data: Dataset) -> Dataset:
    """uint8 (N, 784) -> (N, 28, 28): 28 steps of 28 pixels, scaled to [0, 1] per batch."""
    images = data.x.reshape(-1, 28, 28)
    return Dataset(images, data.y, transform=lambda x: x.astype(np.float32) / 255.0)


# 1. Data: 60,000 training and 10,000 test images as sequences of rows.
train, test = (as_rows(d) for d in load_mnist(data_dir=args.data_dir, normalize=False))
print(f"train {train.x.shape} {train.x.dtype}, test {test.x.shape} {test.x.dtype}")

# 2. Model: LSTM over the rows, its final hidden state -> 10 logits.
rng = np.random.default_rng(args.seed)
model = nn101.Sequential(
    nn101.LSTM(28, args.hidden, return_sequences=False, rng=rng),
    nn101.Dense(args.hidden, 10, rng=rng),
)

# 3. Training: Adam on softmax cross-entropy, cosine decay, clipping the gradient norm at 1.
optimizer = nn101.Adam(model.parameters(), learning_rate=args.lr)
loss = nn101.SoftmaxCrossEntropy()
steps_per_epoch = math.ceil(len(train) / args.batch_size)
schedule = nn101.CosineDecay(args.lr, total_steps=args.epochs * steps_per_epoch)
start = time.perf_counter()
model.fit(
    train,
    epochs=args.epochs,
    batch_size=args.batch_size,
    optimizer=optimizer,
    loss=loss,
    validation_data=test,
    schedule=schedule,
    clip_norm=1.0,
    rng=rng,
)
seconds = time.perf_counter() - start

# 4. Evaluation on the 10,000 test images.
result = model.evaluate(test, loss=loss)
print(f"trained {args.epochs} epochs in {seconds:.0f} s")
print(f"test loss {result['loss']:.4f}, test accuracy {100 * result['accuracy']:.2f}%")
