"""SIGKILL at random moments: a training process resumed from its last checkpoint ends with
weights identical, bit for bit, to an uninterrupted run with the same seed; a process killed
while saving leaves the path holding a loadable model (the old one or the new one).

The processes are forked from the test process (nn101 already imported, so a trial costs
milliseconds rather than an interpreter start) and killed with SIGKILL: no handler, no
cleanup, as with ``kill -9`` or an out-of-memory kill. Figures are printed (``pytest -s``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from checkpoint_run import run
from test_checkpoint import assert_same_run

import nn101
from nn101.serialization.container import TMP_MARK, temporary_files
from nn101.training.checkpoint import NAME, latest_checkpoint

TRAINING_TRIALS = 28
SAVE_TRIALS = 200


def forked(work) -> int:
    """Start ``work()`` in a child process; return its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            work()
            code = 0
        finally:
            os._exit(code)
    return pid


def kill_after(pid: int, seconds: float) -> bool:
    """SIGKILL ``pid`` after ``seconds``; True if it was still running then."""
    time.sleep(seconds)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.slow
def test_a_run_killed_at_random_moments_resumes_bit_identically(tmp_path):
    expected = run(None)
    started = time.monotonic()
    pid = forked(lambda: run(tmp_path / "timing", every_steps=3))
    assert os.waitpid(pid, 0)[1] == 0
    duration = time.monotonic() - started  # of a whole run with its checkpoints
    rng = np.random.default_rng(2026)
    kill_steps = []
    for trial in range(TRAINING_TRIALS):
        directory = tmp_path / f"trial{trial}"
        pid = forked(lambda directory=directory: run(directory, every_steps=3))
        killed = kill_after(pid, rng.uniform(0.05, 0.95) * duration)
        latest = latest_checkpoint(directory) if directory.exists() else None
        step = int(NAME.match(latest.name)[2]) if latest is not None else 0
        kill_steps.append((step, killed))
        assert_same_run(expected, run(directory, every_steps=None, resume=latest is not None))
        assert not [p for p in directory.iterdir() if TMP_MARK in p.name]  # leftovers removed
    resumed = [step for step, killed in kill_steps if killed and step > 0]
    print(
        f"\nkill-and-resume: {len(kill_steps)} trials, {len(resumed)} killed mid-run and "
        f"resumed from a checkpoint, at steps {sorted(resumed)}; run {duration:.2f} s"
    )
    assert len(resumed) >= 20 and len(set(resumed)) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("target_step", [17, 40])
def test_the_training_script_killed_in_its_own_interpreter_resumes(tmp_path, target_step):
    """The same, with ``python tests/checkpoint_run.py DIR`` started afresh and killed as soon
    as it has checkpointed step ``target_step`` or later."""
    script = Path(__file__).with_name("checkpoint_run.py")
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            latest = latest_checkpoint(tmp_path) if tmp_path.exists() else None
            if latest is not None and int(NAME.match(latest.name)[2]) >= target_step:
                break
            time.sleep(0.002)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert_same_run(run(None), run(tmp_path, every_steps=None, resume=True))


def two_models():
    rng = np.random.default_rng(0)
    return [
        nn101.Sequential(nn101.Dense(64, 256, rng=rng), nn101.ReLU(), nn101.Dense(256, 10, rng=rng))
        for _ in range(2)
    ]


@pytest.mark.slow
def test_a_save_killed_at_random_moments_leaves_the_old_or_the_new_model(tmp_path):
    models = two_models()
    path = tmp_path / "m.nn101"
    models[0].save(path)
    expected = [m.snapshot() for m in models]

    def save_forever() -> None:
        for i in range(10**9):
            models[i % 2].save(path, overwrite=True)

    started = time.monotonic()
    for _ in range(5):
        models[1].save(path, overwrite=True)
    one_save = (time.monotonic() - started) / 5
    rng = np.random.default_rng(7)
    mid_write, which = 0, []
    for _ in range(SAVE_TRIALS):
        assert kill_after(forked(save_forever), rng.uniform(0, 6 * one_save))
        mid_write += bool(temporary_files(path))
        loaded = nn101.load(path).snapshot()  # never a missing or half-written file
        matches = [all(np.array_equal(loaded[k], e[k]) for k in e) for e in expected]
        assert any(matches)
        which.append(matches.index(True))
    models[0].save(path, overwrite=True)
    assert temporary_files(path) == []  # the next save removed what the killed ones left
    print(
        f"\nkill-during-save: {SAVE_TRIALS} kills (one save {one_save * 1e3:.1f} ms); "
        f"{mid_write} left a temporary file (killed mid-write); old/new model found "
        f"{which.count(0)}/{which.count(1)} times; always loadable"
    )
    assert mid_write >= SAVE_TRIALS // 10
