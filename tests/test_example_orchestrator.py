"""examples/codex-orchestrator/study.py: the real orchestrator, studied end to end (quick size).

The integration test runs the study's CI configuration (``--quick``) against the real CLI from npm
and checks what it produced. The other tests check the script's setup errors without Node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import perfkit
from tests.conftest import STUDY_SCRIPT, load_study_module


def _run_study(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STUDY_SCRIPT), *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.integration
@pytest.mark.slow
def test_quick_study_on_the_real_orchestrator(orchestrator_install, tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed: the study's manifest-write counts need it")
    out = tmp_path / "study"
    proc = _run_study("--quick", "--out", str(out), "--orchestrator-dir", str(orchestrator_install),
                      "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "overall:" in proc.stdout and "compare report:" in proc.stdout

    # the history: 15 measured runs, each with its three stages, history files growing
    history = perfkit.load(out / "history")
    h = history.runs.sort_values("order")
    assert len(h) == 15 and (h["status"] == "ok").all()
    assert set(history.stages["stage"]) == {"generate", "transform", "check"}
    assert len(history.stages) == 3 * 15
    assert h["metrics_json_bytes"].is_monotonic_increasing
    assert h["metrics_json_bytes"].iloc[-1] > 5 * h["metrics_json_bytes"].iloc[0]

    # the comparison: both variants timed and traced, stages attached to each of their own runs
    compared = perfkit.load(out / "compare")
    runs = compared.runs
    timed = runs[~runs["traced"] & ~runs["warmup"]]
    assert timed.groupby("variant").size().to_dict() == {"aged": 5, "fresh": 5}
    assert (timed["status"] == "ok").all()
    stages = compared.stages
    assert stages.groupby("variant")["run"].nunique().to_dict() == {"aged": 5, "fresh": 5}
    # the reset keeps `fresh` fresh: every run of it starts from an empty history
    fresh = timed[timed["variant"] == "fresh"]
    aged = timed[timed["variant"] == "aged"]
    assert fresh["metrics_json_bytes"].nunique() == 1
    assert aged["metrics_json_bytes"].min() > 10 * fresh["metrics_json_bytes"].max()
    traced = runs[runs["traced"]]
    assert traced.groupby("variant").size().to_dict() == {"aged": 1, "fresh": 1}
    assert (traced["manifest_writes"] > 0).all()
    assert (traced["metrics_writes"] > 0).all()

    # the reports and the figures
    for name in ("hotspots", "compare"):
        folder = out / "reports" / name
        assert (folder / "report.html").stat().st_size > 10_000
        assert (folder / "summary.md").read_text().strip()
    verdict = json.loads((out / "reports" / "compare" / "verdict.json").read_text())
    assert (verdict["baseline"], verdict["candidate"]) == ("aged", "fresh")
    assert verdict["overall"] in ("cleared", "not-shown", "regressed")
    figures = json.loads((out / "study.json").read_text())
    assert set(figures["compare"]) == {"aged", "fresh"}
    assert figures["compare"]["aged"]["manifest_writes"] >= 1
    assert set(figures["compare"]["fresh"]["stages_s"]) == {"generate", "transform", "check"}
    assert figures["verdict"]["metric"] == "wall_s"


def _main(capsys, *args: str) -> tuple[int, str]:
    """Run the study's main() in this process (the error paths need no subprocess)."""
    code = load_study_module().main(list(args))
    return code, capsys.readouterr().err


def test_missing_install_is_one_line(tmp_path, capsys):
    code, err = _main(capsys, "--quick", "--out", str(tmp_path / "o"),
                      "--orchestrator-dir", str(tmp_path))
    assert code == 2
    assert err.startswith("study: --orchestrator-dir")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_foreign_output_folder_is_refused(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    code, err = _main(capsys, "--out", str(tmp_path), "--orchestrator-dir", str(tmp_path))
    assert code == 2
    assert "not made by this study" in err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_bad_count_is_refused(tmp_path, capsys):
    code, err = _main(capsys, "--runs", "0", "--out", str(tmp_path / "o"))
    assert code == 2 and "--runs must be at least 1" in err
    assert not (tmp_path / "o").exists()


def _fake_npm(folder: Path, monkeypatch, message: str, code: int) -> None:
    """Put first on PATH an npm that prints ``message`` and exits with ``code`` (and a node 20)."""
    folder.mkdir()
    for name, body in (("npm", f"echo {json.dumps(message)} >&2; exit {code}"), ("node", "echo v20.11.0")):
        script = folder / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


@pytest.mark.parametrize(
    ("message", "network"),
    [
        ("npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org/x "
         "failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org", True),
        ("npm error code EAI_AGAIN\nnpm error syscall getaddrinfo", True),
        ("npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope", False),
        ("npm error code ENOSPC\nnpm error nospc no space left on device", False),
    ],
)
def test_npm_failures_are_told_apart(tmp_path, monkeypatch, message, network):
    study = load_study_module()
    _fake_npm(tmp_path / "bin", monkeypatch, message, 1)
    expected = study.RegistryUnreachable if network else study.StudyError
    with pytest.raises(study.StudyError, match=r"npm install @kbediako/codex-orchestrator") as info:
        study.npm_install(tmp_path / "install")
    assert type(info.value) is expected
    if not network:
        assert message.splitlines()[-1] in str(info.value)


def test_network_failure_exit_code(tmp_path, monkeypatch, capsys):
    _fake_npm(tmp_path / "bin", monkeypatch, "npm error code ECONNREFUSED", 1)
    code, err = _main(capsys, "--quick", "--out", str(tmp_path / "o"), "--no-progress")
    assert code == 4, err
    assert "npm registry is unreachable (ECONNREFUSED)" in err


def test_missing_node_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither node nor npm
    code, err = _main(capsys, "--quick", "--out", str(tmp_path / "o"))
    assert code == 2 and "node and npm are needed" in err


def test_old_node_is_refused(tmp_path, monkeypatch):
    study = load_study_module()
    _fake_npm(tmp_path / "bin", monkeypatch, "never run", 0)
    (tmp_path / "bin" / "node").write_text("#!/bin/sh\necho v18.19.0\n")
    with pytest.raises(study.StudyError, match=r"needs Node >= 20; this node is version 18"):
        study.npm_install(tmp_path / "install")
