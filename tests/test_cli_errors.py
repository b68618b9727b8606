"""Every expected error of the nn101 command: one line on stderr, status 2 for bad usage (found
before any training) and 1 for a failure, no traceback unless --debug; nothing is lost."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nn101
from nn101.cli import main
from nn101.registry import OPTIMIZERS

TRAIN = ["train", "--quiet", "--epochs", "1", "--hidden", "8"]


def error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err and "Training" not in captured.out
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--epochs", "0"], "--epochs: expected an integer >= 1, got 0"),
        (["--seed", "-1"], "--seed: expected an integer >= 0, got -1"),
        (["--batch-size", "x"], "--batch-size: expected an integer, got 'x'"),
        (["--lr", "nan"], "--lr: expected a finite number > 0, got nan"),
        (["--val-split", "1"], "--val-split: expected a fraction in [0, 1), got 1"),
        (["--optimizer", "_adamfamily"], "invalid choice: '_adamfamily'"),
        (["--hidden", "12,x"], "--hidden expects sizes like 128,64"),
        (["--x", "a.npy"], "--x and --y go together"),
        (
            ["--resume", "nowhere.ckpt"],
            "--resume nowhere.ckpt: no such checkpoint file or directory",
        ),
    ],
)
def test_bad_options_are_one_line_usage_errors(args, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert status_of(["train", *args]) == 2
    line = error_line(capsys)
    assert line.startswith("nn101 train: error: ") and expected in line
    assert list(tmp_path.iterdir()) == []


def status_of(args: list[str]) -> int:
    """The exit status of ``nn101 ARGS``, whether argparse or the command reports the error."""
    try:
        return main(args)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_optimizer_choices_come_from_the_registry(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "_adamfamily" not in text
    assert "{" + ",".join(OPTIMIZERS.names()) + "}" in text


@pytest.mark.parametrize("out", [".", "/", "{tmp}", "{tmp}/missing/model.nn101"])
def test_out_that_cannot_hold_a_model_is_refused_before_training(out, tmp_path, capsys):
    out = out.format(tmp=tmp_path)
    assert main([*TRAIN, "--out", out]) == 2
    assert "--out" in error_line(capsys)


def test_out_never_replaces_a_file_nn101_did_not_write(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert main([*TRAIN, "--out", str(notes), "--overwrite"]) == 2
    assert "is not an nn101 model" in error_line(capsys)
    assert notes.read_text() == "mine"


def test_out_never_replaces_a_directory(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    (project / "README").write_text("keep me")
    assert main([*TRAIN, "--out", str(project), "--overwrite"]) == 2
    assert "is a directory" in error_line(capsys)
    assert (project / "README").read_text() == "keep me"


def test_a_diverged_run_saves_nothing_and_keeps_the_old_model(tmp_path, capsys):
    out = tmp_path / "m.nn101"
    assert main([*TRAIN, "--out", str(out)]) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert main([*TRAIN, "--out", str(out), "--overwrite", "--lr", "1e300"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "diverged" in err[0] and "nothing was saved" in err[0]
    assert out.read_bytes() == before


def test_debug_shows_the_traceback(tmp_path):
    command = [sys.executable, "-m", "nn101", "--debug", "train", "--quiet", "--epochs", "1"]
    result = subprocess.run(
        [*command, "--lr", "1e300", "--out", str(tmp_path / "m")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr
    assert "FloatingPointError" in result.stderr


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_evaluate_a_missing_or_foreign_model(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "no such model file" in error_line(capsys)
    (tmp_path / "x.nn101").write_bytes(b"not a zip")
    assert main(["evaluate", str(tmp_path / "x.nn101")]) == 2
    assert "not an nn101 model" in error_line(capsys)


def test_evaluate_never_downloads_unless_asked(tmp_path, capsys, monkeypatch):
    from nn101.data import fetch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NN101_DATA_DIR", raising=False)
    calls = []
    monkeypatch.setattr(fetch, "_download_dataset", lambda *a, **k: calls.append(a))
    model = tmp_path / "m.nn101"
    assert main([*TRAIN, "--out", str(model)]) == 0
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("evaluate", "predict"):
        assert main([command, str(model), "--dataset", "mnist", "--data-dir", str(empty)]) == 1
        line = error_line(capsys)
        assert "add --download" in line and str(empty) in line
    assert calls == []


def test_data_info_fails_on_bad_files(data_dir, tmp_path, capsys):
    bad = tmp_path / "mnist"
    bad.mkdir()
    for file in (data_dir / "mnist").glob("*.gz"):
        (bad / file.name).write_bytes(file.read_bytes())
    labels = bad / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-10])  # truncated
    assert main(["data", "info", str(tmp_path)]) == 1
    assert "some files are missing or bad" in capsys.readouterr().out
    assert main(["data", "info", str(tmp_path / "nowhere")]) == 2
    assert error_line(capsys).startswith("nn101 data info: error: ")


def test_data_download_reports_a_failure_in_one_line(tmp_path, capsys, monkeypatch):
    from nn101.data import fetch

    # A closed port on this machine: every mirror refuses, nothing may be left behind.
    monkeypatch.setitem(fetch.MIRRORS, "mnist", ["http://127.0.0.1:9/"])
    assert main(["data", "download", "mnist", "--dir", str(tmp_path / "cache")]) == 1
    assert "could not download" in error_line(capsys)
    leftovers = list((tmp_path / "cache").rglob("*")) if (tmp_path / "cache").exists() else []
    assert leftovers == []


def test_bench_outside_a_source_checkout_says_where_to_run_it(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick"]) == 2
    assert "run 'nn101 bench' from the repository root" in error_line(capsys)


def test_messages_and_help_name_no_machine_path(capsys):
    for args in (["--help"], ["train", "--help"], ["evaluate", "--help"], ["data", "--help"]):
        with pytest.raises(SystemExit):
            main(args)
        text = capsys.readouterr().out
        assert "shared/data" not in text and "/work" not in text


def test_own_arrays_that_are_not_usable_are_refused(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((10, 3), np.float32))
    np.save(tmp_path / "y.npy", np.zeros(9, np.int64))
    args = ["train", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    assert main([*args, "--out", str(tmp_path / "m")]) == 1
    assert "expected 10 labels of shape (10,), got (9,)" in error_line(capsys)
    assert nn101.serialization.is_model(tmp_path / "m") is False
