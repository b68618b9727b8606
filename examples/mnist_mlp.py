"""Train a multilayer perceptron on MNIST and print its test accuracy.

    python examples/mnist_mlp.py                      # finds or downloads MNIST
    python examples/mnist_mlp.py --data-dir DIR --epochs 10      # DIR holds the four .gz files

The network is 784 -> 800 -> 10 with ReLU, trained with Adam (cosine learning-rate decay) on
softmax cross-entropy: the size of the 800-hidden-unit MLP whose published test error is 1.6%
(Simard, Steinkraus and Platt, "Best practices for convolutional neural networks applied to
visual document analysis", ICDAR 2003).
Images stay uint8 in memory; each mini-batch is scaled to float32 in [0, 1] as it is read.
"""

import argparse
import math
import time

import numpy as np

import nn101
from nn101.data import load_mnist

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data-dir", default=None, help="directory holding the MNIST .gz files")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--hidden", type=int, default=800)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# 1. Data: 60,000 training and 10,000 test images, flattened to (N, 784).
train, test = load_mnist(data_dir=args.data_dir)
print(f"train {train.x.shape} {train.x.dtype}, test {test.x.shape} {test.x.dtype}")

# 2. Model: one hidden layer of ReLU units, then 10 logits (the softmax lives in the loss).
rng = np.random.default_rng(args.seed)
model = nn101.Sequential(
    nn101.Dense(784, args.hidden, rng=rng, weight_init="he_uniform"),
    nn101.ReLU(),
    nn101.Dense(args.hidden, 10, rng=rng),
)

# 3. Training: Adam on softmax cross-entropy, the learning rate following a half cosine from
#    args.lr down to 0 over all steps, checking the test set after each epoch.
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
    rng=rng,
)
seconds = time.perf_counter() - start

# 4. Evaluation on the 10,000 test images the model never trained on.
result = model.evaluate(test, loss=loss)
print(f"trained {args.epochs} epochs in {seconds:.0f} s")
print(f"test loss {result['loss']:.4f}, test accuracy {100 * result['accuracy']:.2f}%")
