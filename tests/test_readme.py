"""The README stays true: its quickstart runs, and its test command is what CI runs."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import nn101

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quickstart_runs_and_learns(tmp_path, monkeypatch, capsys):
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code, "README has no ```python quickstart block"
    assert len(code.group(1).strip().splitlines()) <= 15
    script = tmp_path / "quickstart.py"
    script.write_text(
        code.group(1).replace("validation_data=test)", "validation_data=test, verbose=0)")
    )
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script))
    assert namespace["history"]["val_accuracy"][-1] >= 0.9
    assert nn101.serialization.is_model(tmp_path / "digits.nn101")


def test_ci_runs_the_readme_test_command():
    readme_command = re.findall(r"&& (python -m pytest\S*)", README)
    assert readme_command, "README gives no test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(readme_command[0])}$", ci, re.M)
    extras = re.search(r'pip install -e "\.\[([a-z,]+)\]" && python -m pytest', README)
    assert extras and f'-e ".[{extras.group(1)}]"' in ci
