"""One small training run that exercises everything a checkpoint must keep, shared by
test_checkpoint.py and test_kill.py: shuffling and dropout from the fit generator, a second
Dropout with its own generator, BatchNorm running statistics, Adam's moments, a per-step 1cycle
schedule (rate and beta1), validation, ReduceOnPlateau and EarlyStopping state, and a partial
last batch. ``run`` trains it, checkpointing every ``every_steps`` steps into ``directory``.

Run by hand: ``python tests/checkpoint_run.py DIRECTORY`` trains and checkpoints (what the kill
test kills).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import nn101

EPOCHS = 6
BATCH = 16
N = 200  # 13 batches per epoch, the last one of 8
STEPS = EPOCHS * -(-N // BATCH)


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N + 60, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1)
    return x[:N], y[:N], x[N:], y[N:]


def build(seed: int = 0) -> tuple[nn101.Sequential, nn101.Adam]:
    rng = np.random.default_rng(seed)
    model = nn101.Sequential(
        nn101.Dense(6, 32, rng=rng),
        nn101.BatchNorm1d(32),
        nn101.ReLU(),
        nn101.Dropout(0.3),  # draws from the fit generator
        nn101.Dense(32, 16, rng=rng),
        nn101.Tanh(),
        nn101.Dropout(0.2, rng=np.random.default_rng(seed + 7)),  # its own generator
        nn101.Dense(16, 3, rng=rng),
    )
    return model, nn101.Adam(model.parameters(), learning_rate=0.01)


def run(
    directory: str | Path | None,
    *,
    every_steps: int | None = 3,
    epochs: int = EPOCHS,
    resume: bool = False,
    seed: int = 0,
    keep_last: int | None = 3,
) -> tuple[nn101.Sequential, nn101.Adam, nn101.History]:
    model, optimizer = build(seed)
    x, y, x_val, y_val = data()
    callbacks: list[nn101.Callback] = [
        nn101.ReduceOnPlateau("val_loss", patience=1, factor=0.7),
        nn101.EarlyStopping("val_loss", patience=100, restore_best=False),
    ]
    if directory is not None:
        callbacks.insert(
            0, nn101.Checkpoint(directory, every_steps=every_steps, keep_last=keep_last)
        )
    history = model.fit(
        x,
        y,
        optimizer=optimizer,
        loss=nn101.SoftmaxCrossEntropy(),
        epochs=epochs,
        batch_size=BATCH,
        validation_data=(x_val, y_val),
        rng=np.random.default_rng(seed + 1),
        verbose=0,
        callbacks=callbacks,
        schedule=nn101.OneCycle(0.02, total_steps=STEPS),
        resume_from=directory if resume else None,
    )
    return model, optimizer, history


def weights(model: nn101.Sequential) -> dict[str, np.ndarray]:
    return model.snapshot()


if __name__ == "__main__":
    run(sys.argv[1])
