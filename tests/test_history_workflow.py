""".github/workflows/history.yml: on every push to main, measure, add to the history branch, check.

Checked without GitHub: the YAML's shape (trigger, permissions, pinned actions, a queue that never
cancels), that every ``perfkit`` line is a valid invocation of perfkit's parser, that the gate
fails exactly on a regression or an error, and — by running the measure, add and check lines for
real — that they work together on a fresh history folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflow")

from perfkit.cli import build_parser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "history.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _job() -> dict:
    (job,) = _workflow()["jobs"].values()
    return job


def _step(name: str) -> dict:
    return next(s for s in _job()["steps"] if s.get("name") == name)


def _perfkit_lines(values: dict[str, str]) -> list[list[str]]:
    env = {**{k: str(v) for k, v in _workflow()["env"].items()}, **values}
    out = []
    for step in _job()["steps"]:
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("perfkit "):
                line = re.sub(r"\$\(git log -1 --format=%cI\)", "2026-01-01T00:00:00Z", line)
                line = line.split(" > ")[0]
                text = re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], line)
                out.append(shlex.split(text))
    return out


RUNNER = {"GITHUB_WORKSPACE": "/w", "RUNNER_TEMP": "/t", "GITHUB_SHA": "a" * 40,
          "GITHUB_OUTPUT": "/t/o", "GITHUB_STEP_SUMMARY": "/t/s", "GITHUB_PATH": "/t/p"}


def test_trigger_permissions_queue_and_pinned_actions():
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))
    assert triggers == {"push": {"branches": ["main"]}}
    assert wf["permissions"] == {"contents": "read"}
    assert _job()["permissions"] == {"contents": "write"}
    assert wf["concurrency"]["cancel-in-progress"] is False
    for step in _job()["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_every_perfkit_line_is_a_valid_invocation():
    commands = _perfkit_lines(RUNNER)
    assert [c[1:3] for c in commands] == [["measure", "--out"], ["history", "add"],
                                         ["history", "check"]]
    parser = build_parser()
    measure, add, check = (parser.parse_args(c[1:]) for c in commands)
    assert add.dataset == measure.out and add.commit == "a" * 40
    assert add.history == check.history and check.name == [add.name]
    assert add.repo == "."  # ordered by the checkout's first-parent chain, not by commit time
    checkout = next(s for s in _job()["steps"] if s.get("with", {}).get("path") == "code")
    assert checkout["with"]["fetch-depth"] == 0  # a shallow clone's depths would be wrong


@pytest.mark.parametrize(("code", "fails"), [("0", False), ("2", True), ("3", True), ("", True)])
def test_the_gate_fails_on_regression_and_errors_only(code, fails):
    done = subprocess.run(["bash", "-e", "-c", _step("Gate on regressions")["run"]],
                          env={"CODE": code, "PERF_LAST": "60", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert (done.returncode != 0) == fails, done.stdout


def test_the_measure_add_and_check_lines_run_for_real(tmp_path):
    # the checkout: a (full) git repository whose HEAD is the pushed commit
    code = tmp_path / "code"
    git = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q", str(code)], check=True, env=git)
    subprocess.run(["git", "-C", str(code), "commit", "-q", "--allow-empty", "-m", "x"],
                   check=True, env=git)
    sha = subprocess.run(["git", "-C", str(code), "rev-parse", "HEAD"], check=True,
                         capture_output=True, text=True).stdout.strip()
    values = {**RUNNER, "GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path / "t"),
              "GITHUB_SHA": sha, "PERF_RUNS": "3", "PERF_WARMUP": "0", "PERF_COMMAND": "true"}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in _perfkit_lines(values):
        done = subprocess.run([sys.executable, "-m", "perfkit", *argv[1:]], env=env, cwd=code,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "1 commits: at least 10 are needed" in done.stdout
    show = subprocess.run([sys.executable, "-m", "perfkit", "history", "show", "--history",
                           str(tmp_path / "history")], env=env, capture_output=True, text=True)
    assert "in first-parent chain order" in show.stdout, show.stderr
    assert list((tmp_path / "history" / "runs" / "benchmark=pipeline").glob("*.parquet"))
