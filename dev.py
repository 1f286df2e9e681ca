#!/usr/bin/env python3
"""Set up perfkit in a virtual environment in this checkout and run one of its jobs.

    python3 dev.py demo     # the main job: the discover → fix → validate loop on a built-in workload
    python3 dev.py test     # the whole test suite (pytest + strict nbval over notebooks/)
    python3 dev.py setup    # only create/update .venv

Needs nothing but Python >= 3.11 (Node/npm for the orchestrator tests, which skip without it).
Extra arguments after the job name are passed on (to ``perfkit demo`` or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PERFKIT_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
STAMP = VENV / ".perfkit-installed"

NBVAL_ARGS = [
    "--nbval",
    "--nbval-current-env",
    "--nbval-sanitize-with",
    str(ROOT / "notebooks" / "sanitize.cfg"),
]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"perfkit needs Python >= 3.11, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print("dev.py: installing perfkit and its pinned dependencies (a minute or two)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run(
        [*pip, "install", "-q", "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test,lab]"],
        check=True,
    )
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    job, rest = (argv[0], argv[1:]) if argv else ("demo", [])
    if job not in ("setup", "demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    setup()
    if job == "setup":
        return 0
    if job == "demo":
        return subprocess.call([str(BIN / "perfkit"), "demo", *rest], cwd=ROOT)
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    cmd = [str(BIN / "python"), "-m", "pytest", "tests"]
    if notebooks:
        cmd += [*notebooks, *NBVAL_ARGS]
    return subprocess.call([*cmd, *rest], cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
