"""The repository itself: no development machine's paths in anything committed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: An absolute path into a developer's or a machine's own folders. GitHub's runner paths in the
#: workflow test (/home/runner/...) are the documented layout of a hosted runner, not a machine's.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|root|tmp|Users|home/(?!runner/))[\w.-]*/[\w.-]+")


def tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = []
    for name in out.stdout.decode().split("\0"):
        path = ROOT / name
        if name and path.suffix not in (".parquet", ".png", ".gz") and path.is_file():
            files.append(path)
    return files


def test_no_machine_paths_in_the_repository():
    found = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in MACHINE_PATH.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    # tests build their own temporary paths at run time; a literal /tmp/... in a test is a fixture
    found = [f for f in found if not f.startswith(("tests/", "benchmarks/", ".github/"))]
    assert found == []


def test_the_pattern_catches_a_machine_path():
    assert MACHINE_PATH.search("ran /work/wt/report/examples/x.py")
    assert MACHINE_PATH.search('"cwd": "/tmp/orchdata/ws"')
    assert not MACHINE_PATH.search("GITHUB_WORKSPACE=/home/runner/work/proj")
    assert not MACHINE_PATH.search("demo-out/work/baseline")
