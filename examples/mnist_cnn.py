"""Train the default convolutional network on MNIST (or Fashion-MNIST); print test accuracy.

    python examples/mnist_cnn.py                                  # finds or downloads MNIST
    python examples/mnist_cnn.py --augment --seed 1               # random 2-pixel shifts
    python examples/mnist_cnn.py --dataset fashion-mnist --data-dir DIR
    python examples/mnist_cnn.py --limit 6000 --epochs 2          # a short run

The network and its training settings come from ``nn101.recipes.build_cnn`` (the model of
``nn101 train --model cnn``): two 5x5 convolution stages (convolution, batch normalization,
ReLU, 2x2 max-pooling) with 32 and 64 channels, then Dense(1024, 128), dropout 0.3 and the 10
logits; Adam with a cosine-decayed learning rate on softmax cross-entropy. With ``--augment``
every training batch is shifted at random by up to 2 pixels (a new shift every epoch), and the
recipe trains longer. Images stay uint8 in memory; each batch is scaled to float32 as it is read.
Set OPENBLAS_NUM_THREADS (e.g. 2) to choose the number of cores.
"""

import argparse
import time

import numpy as np

import nn101
from nn101.data import load_fashion_mnist, load_mnist
from nn101.recipes import augment_training_set, build_cnn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
parser.add_argument("--data-dir", default=None, help="directory holding the dataset's .gz files")
parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
parser.add_argument("--augment", action="store_true", help="random shifts of up to 2 pixels")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
parser.add_argument("--validate", action="store_true", help="test accuracy after every epoch")
args = parser.parse_args()

# 1. Data: (N, 1, 28, 28) uint8 images; the training set optionally read through random shifts.
load = load_mnist if args.dataset == "mnist" else load_fashion_mnist
train, test = load(data_dir=args.data_dir, flatten=False)
if args.limit is not None:
    train = nn101.data.Dataset(
        train.x[: args.limit], train.y[: args.limit], transform=train.transform, name=train.name
    )
rng = np.random.default_rng(args.seed)
if args.augment:
    train = augment_training_set(train, args.dataset, rng=rng)
print(f"{args.dataset}: train {train.x.shape} {train.x.dtype}, test {test.x.shape}")

# 2. Model and settings from the recipe.
model, settings = build_cnn(args.dataset, augment=args.augment, rng=rng)
settings = settings.with_changes(epochs=args.epochs)
model.summary(input_shape=(1, 28, 28))
print(f"settings: {settings.as_dict()}")

# 3. Training: Adam, the learning rate following a half cosine down to 0 over all steps.
loss = nn101.SoftmaxCrossEntropy()
start = time.perf_counter()
model.fit(
    train,
    epochs=settings.epochs,
    batch_size=settings.batch_size,
    optimizer=settings.make_optimizer(model.parameters()),
    loss=loss,
    schedule=settings.make_schedule(len(train)),
    validation_data=test if args.validate else None,
    rng=rng,
    verbose=2,
)
seconds = time.perf_counter() - start

# 4. Evaluation on the 10,000 test images the model never trained on.
result = model.evaluate(test, loss=loss)
print(f"trained {settings.epochs} epochs in {seconds:.0f} s (wall, training only)")
print(f"test loss {result['loss']:.4f}, test accuracy {100 * result['accuracy']:.2f}%")
