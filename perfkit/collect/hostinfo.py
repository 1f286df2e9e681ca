"""The metadata record of a collection: where and with what it was measured.

Everything here is best effort and fast (a few milliseconds, at most a few seconds when ``node``
or ``git`` hang): a value that cannot be found is None, never an error.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from perfkit._version import __version__

_TOOL_TIMEOUT_S = 5.0


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "Processor", "cpu model"):
                    return value.strip() or None
    except OSError:
        pass
    return platform.processor() or None


def _run(argv: list[str], cwd: str | os.PathLike | None = None) -> str | None:
    """stdout of a quick tool, stripped; None if it is missing, fails or hangs."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_TOOL_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def git_info(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """``git_commit`` and ``git_dirty`` (tracked files changed) of the repository holding ``cwd``."""
    commit = _run(["git", "rev-parse", "HEAD"], cwd)
    if commit is None:
        return {"git_commit": None, "git_dirty": None}
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd)
    return {"git_commit": commit, "git_dirty": bool(status)}


def collect(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The host part of a dataset's metadata record.

    Keys: host, os, kernel, machine, cpu_model, cpu_count, python, python_implementation,
    node (``node --version`` when node is on PATH, else None), perfkit_version, cwd, git_commit,
    git_dirty.
    """
    uname = platform.uname()
    where = Path(cwd) if cwd is not None else Path.cwd()
    info: dict[str, Any] = {
        "host": uname.node,
        "os": uname.system,
        "kernel": uname.release,
        "machine": uname.machine,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "node": _run(["node", "--version"]),
        "perfkit_version": __version__,
        "cwd": str(where.resolve()),
    }
    info.update(git_info(where))
    return info
