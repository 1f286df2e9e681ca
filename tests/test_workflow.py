""".github/workflows/perf-report.yml: the pull-request gate.

What can be checked without GitHub: the YAML's shape, that every ``perfkit`` command it runs is a
valid invocation of perfkit's own parser, that the gate fails exactly on "regressed" and errors,
that the README documents the same commands, and — by running its measure and report lines for
real on a stand-in workspace — that they produce the files the later steps upload and comment.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the workflow")

from perfkit.cli import build_parser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "perf-report.yml"

# What GitHub sets on a runner, for substitution (the values only need to be plausible paths).
RUNNER_VARS = {
    "GITHUB_WORKSPACE": "/home/runner/work/proj/proj",
    "RUNNER_TEMP": "/home/runner/work/_temp",
    "GITHUB_OUTPUT": "/home/runner/work/_temp/output",
    "GITHUB_STEP_SUMMARY": "/home/runner/work/_temp/summary",
    "GITHUB_PATH": "/home/runner/work/_temp/path",
}


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _job() -> dict:
    (job,) = _workflow()["jobs"].values()
    return job


def _step(name: str) -> dict:
    for step in _job()["steps"]:
        if step.get("name") == name:
            return step
    raise AssertionError(f"no step named {name!r}")


def _substitute(text: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            raise AssertionError(f"workflow uses ${name}, which neither it nor the runner defines")
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, text)


def perfkit_commands(values: dict[str, str] | None = None) -> list[list[str]]:
    """Every ``perfkit ...`` line of every run: step, variables substituted, shlex-split."""
    wf = _workflow()
    env = {**RUNNER_VARS, **{k: str(v) for k, v in wf.get("env", {}).items()}, **(values or {})}
    commands = []
    for step in _job()["steps"]:
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("perfkit "):
                step_env = {**env, **{k: str(v) for k, v in step.get("env", {}).items()}}
                commands.append(shlex.split(_substitute(line, step_env)))
    return commands


def test_triggers_permissions_and_pinned_actions():
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "pull_request" in triggers
    assert wf["permissions"] == {"contents": "read"}
    assert _job()["permissions"]["pull-requests"] == "write"
    for step in _job()["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    checkout = _step("Check out the head of the pull request")
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False


def test_every_perfkit_command_is_a_valid_invocation():
    commands = perfkit_commands()
    assert [c[1] for c in commands] == ["measure", "report"]
    parser = build_parser()
    for argv in commands:
        args = parser.parse_args(argv[1:])  # argparse exits (SystemExit) on anything invalid
        assert args.command == argv[1]
    measure, report = (parser.parse_args(c[1:]) for c in commands)
    # base and head are two variants of ONE interleaved collection, then reported together
    names = [v.partition("=")[0] for v in measure.variant]
    assert names == ["baseline", "candidate"]
    assert report.dataset == measure.out


def test_the_variant_commands_are_valid_shell():
    parser = build_parser()
    measure = parser.parse_args(perfkit_commands()[0][1:])
    for variant in measure.variant:
        command = variant.partition("=")[2]
        subprocess.run(["sh", "-n", "-c", command], check=True)


@pytest.mark.parametrize(
    ("code", "fails"), [("0", False), ("1", False), ("2", True), ("3", True), ("", True)]
)
def test_the_gate_fails_on_regression_and_errors_only(code, fails):
    script = _step("Gate on the verdict")["run"]
    done = subprocess.run(["bash", "-e", "-c", script], env={"CODE": code, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert (done.returncode != 0) == fails, done.stdout


def test_the_comment_is_one_updated_comment():
    step = _step("Post or update the summary comment")
    script = step["with"]["script"]
    assert "summary.md" in step["env"]["SUMMARY_PATH"]
    for needle in ("updateComment", "createComment", "<!-- perfkit-report -->"):
        assert needle in script
    upload = _step("Upload the report")
    assert "perf/report" in upload["with"]["path"]
    assert upload["if"] == "always()"
    # the comment links the artifact itself when upload-artifact gives its URL, else the run
    assert step["env"]["ARTIFACT_URL"] == "${{ steps.upload.outputs.artifact-url }}"
    assert upload["id"] == "upload" and "process.env.ARTIFACT_URL" in script


def test_the_summary_links_the_run_that_holds_the_report():
    url = _step("Compare and write the report")["env"]["PERFKIT_REPORT_URL"]
    assert url == ("${{ github.server_url }}/${{ github.repository }}/actions/runs/"
                   "${{ github.run_id }}")


def _squash(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def test_the_readme_documents_the_commands_the_workflow_runs():
    """Each perfkit command line of the workflow appears verbatim (whitespace aside) in README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if "pull-request gate" not in readme.lower():
        pytest.skip("README has no 'pull-request gate' section yet")
    documented = _squash(readme)
    for step in _job()["steps"]:
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            if line.strip().startswith("perfkit "):
                assert _squash(line) in documented, f"README does not document: {_squash(line)}"
    for name in ("PERF_COMMAND", "PERF_SETUP", "PERF_RUNS", "perf-report.yml"):
        assert name in readme


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="the traced pass needs strace")
def test_the_measure_and_report_lines_run_for_real(tmp_path):
    """The workflow's two perfkit lines, run on a stand-in workspace whose base and head are both
    this checkout: the files the upload and comment steps need must exist afterwards."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for side in ("base", "head"):
        (workspace / side).symlink_to(ROOT)
    values = {
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "PERF_RUNS": "3",
        "PERF_WARMUP": "0",
        # the default workload, smaller, writing outside the checkout
        "PERF_COMMAND": f"{shlex.quote(sys.executable)} examples/pipeline/candidate/pipeline.py "
        f"--shards 2 --rows 20 --workdir {shlex.quote(str(tmp_path / 'work'))}",
    }
    from perfkit.cli import main

    measure, report = perfkit_commands(values)
    assert main(measure[1:]) == 0  # in-process: the same parser and handler as the console script
    assert main(report[1:]) in (0, 1, 3)  # a verdict, not an error
    runs = __import__("perfkit").load(tmp_path / "temp" / "perf" / "dataset").runs
    # the candidate pipeline on both sides: once per stage, once at the end
    assert runs.loc[runs["traced"], "manifest_writes"].tolist() == [4 + 1] * 6  # 3 traced runs per variant (the default)
    out = tmp_path / "temp" / "perf" / "report"
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.strip() and len(summary.encode()) < 65_536  # fits in a PR comment
    assert "<details>" in summary  # one verdict line and a short table; the rest folded
    assert (out / "report.html").stat().st_size > 0


def _tool(name: str) -> str | None:
    """A linter installed next to this Python (a venv's bin) or on PATH; not a dependency."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


@pytest.mark.skipif(_tool("zizmor") is None, reason="zizmor not installed (pip install zizmor)")
def test_zizmor_finds_nothing_even_pedantic():
    done = subprocess.run([_tool("zizmor"), "--offline", "--persona", "pedantic", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(_tool("check-jsonschema") is None,
                    reason="check-jsonschema not installed (pip install check-jsonschema)")
def test_workflow_matches_the_github_workflow_schema():
    done = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_the_comment_script_is_valid_javascript(tmp_path):
    # actions/github-script runs the script as the body of an async function
    script = _step("Post or update the summary comment")["with"]["script"]
    path = tmp_path / "comment.js"
    path.write_text(f"(async function (github, context) {{\n{script}\n}});\n", encoding="utf-8")
    done = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
