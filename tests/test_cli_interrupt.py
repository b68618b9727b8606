"""Ctrl-C during ``nn101 train``: a checkpoint, the command that resumes it, status 130, no
traceback; the resumed run ends bit for bit where the uninterrupted one does."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nn101
from nn101.cli import main
from nn101.cli.interrupt import StopOnInterrupt

ARGS = ["train", "--quiet", "--epochs", "3", "--hidden", "16", "--batch-size", "64"]


def weights(path) -> list[np.ndarray]:
    return [p.value for p in nn101.load(path).parameters()]


def test_ctrl_c_checkpoints_and_the_printed_command_resumes_bit_for_bit(
    tmp_path, capsys, monkeypatch
):
    args = [*ARGS, "--dropout", "0.1", "--schedule", "cosine"]  # generators and a schedule
    full = tmp_path / "full.nn101"
    assert main([*args, "--out", str(full)]) == 0
    original = StopOnInterrupt.on_batch_end

    def interrupted_at_step_30(self, state, loss):
        if state.step == 30:
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C does, in the middle of epoch 2
        original(self, state, loss)

    monkeypatch.setattr(StopOnInterrupt, "on_batch_end", interrupted_at_step_30)
    out = tmp_path / "run.nn101"
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and not out.exists()
    last = err.strip().splitlines()[-1]
    assert last.startswith("nn101 train: interrupted; saved the run at epoch 2, step 30 to ")
    resume = shlex.split(re.search(r"resume with: (.*)$", last).group(1))
    assert resume[0] == "nn101" and resume[-2:] == ["--resume", str(tmp_path / "run.ckpt")]

    steps = []

    def counted(self, state, loss):
        steps.append(state.step)
        original(self, state, loss)

    monkeypatch.setattr(StopOnInterrupt, "on_batch_end", counted)
    assert main(resume[1:]) == 0
    assert "Resuming the run saved in" in capsys.readouterr().out
    assert steps == list(range(31, 3 * 23 + 1))  # 1,438 digits / 64 = 23 steps per epoch
    for resumed, uninterrupted in zip(weights(out), weights(full), strict=True):
        np.testing.assert_array_equal(resumed, uninterrupted)


def test_resume_from_a_checkpoint_of_another_model_is_one_line(tmp_path, capsys, monkeypatch):
    original = StopOnInterrupt.on_batch_end

    def interrupted(self, state, loss):
        if state.step == 3:
            signal.raise_signal(signal.SIGINT)
        original(self, state, loss)

    monkeypatch.setattr(StopOnInterrupt, "on_batch_end", interrupted)
    assert main([*ARGS, "--out", str(tmp_path / "a.nn101")]) == 130
    monkeypatch.setattr(StopOnInterrupt, "on_batch_end", original)
    capsys.readouterr()
    other = [*ARGS, "--hidden", "17", "--out", str(tmp_path / "b.nn101")]
    assert main([*other, "--resume", str(tmp_path / "a.ckpt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "written for another model" in err[0]
    assert not (tmp_path / "b.nn101").exists()


@pytest.mark.slow
def test_sigint_to_a_training_process_exits_130_with_a_checkpoint(tmp_path):
    command = [sys.executable, "-m", "nn101", *ARGS, "--epochs", "400", "--batch-size", "4"]
    process = subprocess.Popen(
        [*command, "--out", str(tmp_path / "m.nn101")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("Training")  # printed just before fit
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "resume with: nn101 train" in err.strip().splitlines()[-1]
    assert nn101.serialization.is_model(tmp_path / "m.ckpt")
    assert not (tmp_path / "m.nn101").exists()


def test_checkpoint_every_saves_epochs_and_a_longer_run_resumes_from_the_folder(tmp_path, capsys):
    args = ["train", "--quiet", "--hidden", "16", "--batch-size", "64"]  # constant rate
    straight = tmp_path / "straight.nn101"
    assert main([*args, "--epochs", "5", "--out", str(straight)]) == 0
    out = tmp_path / "run.nn101"
    assert main([*args, "--epochs", "3", "--checkpoint-every", "1", "--out", str(out)]) == 0
    folder = tmp_path / "run-checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [
        "epoch0002-step00000046.ckpt",
        "epoch0003-step00000069.ckpt",
    ]
    longer = [*args, "--epochs", "5", "--out", str(out), "--overwrite"]
    assert main([*longer, "--resume", str(folder)]) == 0
    for resumed, uninterrupted in zip(weights(out), weights(straight), strict=True):
        np.testing.assert_array_equal(resumed, uninterrupted)
