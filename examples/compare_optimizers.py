"""Optimizers and learning-rate schedules compared on one deep network, one seed.

The network is the "deep network" of the book: five hidden layers of 64 units on the 8x8
digits, He initialization, ReLU. Part 1 trains it with Adam and batch normalization. Part 2
trains it (without batch normalization, so the optimizers do all the work) with SGD, SGD with
momentum, RMSprop, Adam and AdaMax; part 3 compares a constant rate with 1cycle for SGD with
momentum. For each run it prints the test accuracy and the first epoch at which the test
accuracy reached 95%.

    python examples/compare_optimizers.py [--epochs 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import nn101

HIDDEN = [64] * 5


def deep_mlp(rng: np.random.Generator, batch_norm: bool) -> nn101.Sequential:
    layers: list[nn101.Layer] = []
    sizes = [64, *HIDDEN]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers.append(nn101.Dense(fan_in, fan_out, rng=rng, weight_init="he_uniform"))
        if batch_norm:
            layers.append(nn101.BatchNorm1d(fan_out))
        layers.append(nn101.ReLU())
    layers.append(nn101.Dense(sizes[-1], 10, rng=rng))
    return nn101.Sequential(*layers)


def run(name, make_optimizer, *, epochs, seed, batch_norm=False, schedule=None):
    train, test = nn101.data.load_digits()
    rng = np.random.default_rng(seed)
    model = deep_mlp(rng, batch_norm)
    start = time.perf_counter()
    history = model.fit(
        train,
        epochs=epochs,
        batch_size=32,
        rng=rng,
        verbose=0,
        optimizer=make_optimizer(model.parameters()),
        loss=nn101.SoftmaxCrossEntropy(),
        validation_data=test,
        schedule=schedule,
    )
    seconds = time.perf_counter() - start
    accuracies = history["val_accuracy"]
    reached = next((epoch + 1 for epoch, acc in enumerate(accuracies) if acc >= 0.95), None)
    print(
        f"{name:<28} test accuracy {accuracies[-1]:.2%}   epochs to 95%: "
        f"{reached if reached else 'never':>5}   ({seconds:.1f} s)",
        flush=True,
    )
    return accuracies[-1], reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    common = dict(epochs=args.epochs, seed=args.seed)
    steps = args.epochs * -(-1437 // 32)  # 1,437 training digits, batches of 32

    print(
        f"Deep MLP 64-{'-'.join(map(str, HIDDEN))}-10 on the digits, seed {args.seed}, "
        f"{args.epochs} epochs, batch 32\n"
    )
    print("1. Adam + He initialization + batch normalization")
    run("Adam + BatchNorm", lambda p: nn101.Adam(p, learning_rate=1e-3), batch_norm=True, **common)

    print("\n2. Optimizers (no batch normalization)")
    optimizers = {
        "SGD (lr 0.05)": lambda p: nn101.SGD(p, learning_rate=0.05),
        "SGD + momentum 0.9 (0.01)": lambda p: nn101.SGD(p, learning_rate=0.01, momentum=0.9),
        "RMSprop (lr 1e-3)": lambda p: nn101.RMSprop(p, learning_rate=1e-3),
        "Adam (lr 1e-3)": lambda p: nn101.Adam(p, learning_rate=1e-3),
        "AdaMax (lr 2e-3)": lambda p: nn101.AdaMax(p, learning_rate=2e-3),
    }
    for name, make in optimizers.items():
        run(name, make, **common)

    print("\n3. Constant rate vs 1cycle (SGD + momentum)")
    run("constant 0.01", lambda p: nn101.SGD(p, learning_rate=0.01, momentum=0.9), **common)
    run(
        "1cycle, peak 0.1",
        lambda p: nn101.SGD(p, learning_rate=0.01, momentum=0.9),
        schedule=nn101.OneCycle(0.1, total_steps=steps),
        **common,
    )


if __name__ == "__main__":
    main()
