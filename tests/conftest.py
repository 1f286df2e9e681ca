"""Shared fixtures.

``orchestrator_install`` (the install folder) and ``orchestrator_bin`` (its executable): the real
Codex Orchestrator CLI, installed from npm once per test session (by
``examples/codex-orchestrator/study.py``'s own installer), for every integration test that needs it. ``PERFKIT_ORCHESTRATOR_DIR`` names an existing install instead (a folder holding
``node_modules/.bin/codex-orchestrator``). Skips with the reason when Node/npm are missing or the npm
registry cannot be reached; any other install failure fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUDY_SCRIPT = ROOT / "examples" / "codex-orchestrator" / "study.py"


def load_study_module():
    """``examples/codex-orchestrator/study.py`` as a module (its folder name is not importable)."""
    name = "perfkit_example_study"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, STUDY_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def orchestrator_install(tmp_path_factory) -> Path:
    """A folder holding ``node_modules/.bin/codex-orchestrator`` (the real CLI from npm).

    The version is the study's pin unless ``PERFKIT_ORCHESTRATOR_VERSION`` names another.
    """
    study = load_study_module()
    given = os.environ.get("PERFKIT_ORCHESTRATOR_DIR")
    if given:
        folder = Path(given)
        study.executable(folder)  # a clear error if the folder holds no install
        return folder
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed: the real-orchestrator tests need Node.js >= 20 "
                        "and npm")
    major = study.node_version(shutil.which("node"))
    if major < 20:
        pytest.skip(f"the real orchestrator needs Node >= 20; this node is version {major}")
    version = os.environ.get("PERFKIT_ORCHESTRATOR_VERSION")
    package = f"{study.PACKAGE.rsplit('@', 1)[0]}@{version}" if version else study.PACKAGE
    folder = tmp_path_factory.mktemp("codex-orchestrator")
    try:
        study.npm_install(folder, package, timeout=240)
    except study.RegistryUnreachable as exc:
        pytest.skip(f"cannot install the real orchestrator: {exc}")
    return folder


@pytest.fixture(scope="session")
def orchestrator_bin(orchestrator_install) -> Path:
    """The installed ``codex-orchestrator`` executable (one npm install per session)."""
    exe = orchestrator_install / "node_modules" / ".bin" / "codex-orchestrator"
    assert exe.exists(), f"npm installed the orchestrator but {exe} is missing"
    return exe


@pytest.fixture
def make_history_dataset(tmp_path):
    """A factory of small real dataset folders for the history tests: ``make(name, level, ...)``
    writes ``runs`` timed runs of wall time ``level`` (lognormal, CV 3 %, seeded by ``seed``), one
    traced run with ``writes`` manifest writes, and two stages per run (``build`` scaling with
    ``level``)."""
    import numpy as np
    import pandas as pd

    from perfkit.data.store import save

    def make(name: str, level: float = 1.0, *, seed: int = 0, runs: int = 6, writes: int = 3,
             stage: str = "build", variant: str = "main"):
        rng = np.random.default_rng(seed)
        rows = [dict(variant=variant, run=j + 1, order=j + 1, status="ok",
                     wall_s=float(level * rng.lognormal(0, 0.03)), max_rss_kib=1000 + seed)
                for j in range(runs)]
        rows.append(dict(variant=variant, run=runs + 1, order=runs + 1, status="ok", traced=True,
                         wall_s=2 * level, manifest_writes=writes, fs_fsyncs=2))
        stages = ([dict(variant=variant, run=j + 1, stage=stage, duration_s=0.5 * level,
                        status="ok") for j in range(runs)]
                  + [dict(variant=variant, run=j + 1, stage="test", duration_s=0.2, status="ok")
                     for j in range(runs)])
        return save(tmp_path / "datasets" / name, pd.DataFrame(rows), pd.DataFrame(stages),
                    {"host": {"cpu": "test"}})

    return make
