"""The example's study script run by a Python without perfkit's dependencies: it re-executes
itself in the project's .venv (or says in one line what to run), never a ModuleNotFoundError."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "examples" / "codex-orchestrator" / "study.py"


def _bare_python() -> str:
    for name in ("/usr/bin/python3", shutil.which("python3") or ""):
        if name and Path(name).exists() and subprocess.run(
                [name, "-c", "import pandas"], capture_output=True).returncode != 0:
            return name
    pytest.skip("no Python without pandas on this machine")


def test_study_re_executes_in_the_venv_or_says_what_to_run():
    bare = _bare_python()
    done = subprocess.run([bare, str(STUDY), "--help"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert "Traceback" not in done.stderr and "ModuleNotFoundError" not in done.stderr
    if (ROOT / ".venv" / "bin" / "python").exists() and Path(sys.executable).parent.parent == ROOT / ".venv":
        assert done.returncode == 0 and "usage: study.py" in done.stdout
    else:
        assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1
        assert "dev.py setup" in done.stderr
