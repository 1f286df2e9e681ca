"""Every failure one line, with the right exit code: 2 for the user's mistake, 4 for "perfkit
failed" (never 1, which means "not shown" and lets a CI gate pass).

Each test here failed on the main this branch started from (78c7cdd): see RELIABILITY.md.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfkit import errors
from perfkit.cli import main
from perfkit.data.sources import load
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo-fix"
WORKFLOWS = ROOT / ".github" / "workflows"


def one_line(capsys, code: int, expected: int, *, prefix: str = "perfkit: error: ") -> str:
    err = capsys.readouterr().err
    assert code == expected, err
    assert err.count("\n") == 1 and err.startswith(prefix), err
    return err


def test_exit_code_4_is_defined_and_distinct():
    assert errors.EXIT_FAILED == 4
    codes = [errors.EXIT_OK, errors.EXIT_NOT_SHOWN, errors.EXIT_USAGE, errors.EXIT_REGRESSED,
             errors.EXIT_FAILED, errors.EXIT_INTERRUPTED]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("exc, words", [
    (OSError(errno.ENOSPC, "No space left on device", "/x/report.html"), "no space left on the device"),
    (OSError(errno.EROFS, "Read-only file system", "/x/runs.jsonl"), "the file system is read-only"),
    (OSError(errno.EACCES, "Permission denied", "/x/meta.json"), "permission denied"),
    (OSError(errno.EMFILE, "Too many open files"), "too many open files"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/ds"), "vanished"),
    (RuntimeError("something\nspread over\nthree lines"), "RuntimeError: something spread over"),
    (MemoryError(), "out of memory"),
])
def test_any_exception_escaping_a_command_is_one_line_and_exit_4(monkeypatch, capsys, exc, words):
    def boom(args):
        raise exc

    monkeypatch.setattr("perfkit.cli.compare._run_compare", boom)
    parser_main = main  # the parser binds func at build time: patch before building
    code = parser_main(["compare", str(DEMO)])
    err = one_line(capsys, code, errors.EXIT_FAILED, prefix="perfkit: failed: ")
    assert words in err


@pytest.mark.parametrize("argv, words", [
    (["--seed", "-1"], "`seed` (--seed) must be a whole number from 0"),
    (["--resamples", "100000000"], "from 100 to 1,000,000"),
    (["--resamples", "5"], "from 100 to 1,000,000"),
    (["--confidence", "nan"], "strictly between 0 and 1"),
])
def test_compare_options_out_of_range_are_one_line_and_fast(capsys, argv, words):
    t0 = time.monotonic()
    code = main(["compare", str(DEMO), *argv])
    assert words in one_line(capsys, code, errors.EXIT_USAGE)
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("param, words", [
    ("seed=abc", "-p seed: 'abc' is not a whole number"),
    ("resamples:=1e400", "-p resamples: inf is not a whole number"),
    ("resamples:=1.5", "-p resamples: 1.5 is not a whole number"),
    ("title:=5", "-p title: 5 is not a string"),
    ("confidence=high", "-p confidence: 'high' is not a finite number"),  # None  # type: float
    ("statistic:=5", "-p statistic: 5 is not a string"),
    ("metrics=wall_s", "-p metrics: 'wall_s' is not a list"),
    ("target:=true", "-p target: True is not a list"),
    ("seed:=-1", "must be a whole number from 0"),
])
def test_report_parameters_of_the_wrong_type_are_one_line_before_a_kernel(tmp_path, capsys, param,
                                                                          words):
    t0 = time.monotonic()
    code = main(["report", str(DEMO), "--out", str(tmp_path / "r"), "-p", param])
    assert words in one_line(capsys, code, errors.EXIT_USAGE)
    assert not (tmp_path / "r" / "report.html").exists()
    assert time.monotonic() - t0 < 30  # refused before a kernel starts


def test_a_full_disk_during_report_is_exit_4_and_leaves_no_truncated_report(tmp_path):
    out = tmp_path / "r"
    code = (
        "import resource, sys\n"
        "from perfkit.present.html_export import write_text_atomic\n"
        "from pathlib import Path\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "p = Path(sys.argv[1]); p.mkdir()\n"
        "write_text_atomic(p / 'report.html', 'old')\n"
        "try:\n"
        "    write_text_atomic(p / 'report.html', 'x' * 1_000_000)\n"
        "except OSError as exc:\n"
        "    print('failed', exc.errno)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["failed", str(errno.EFBIG)], proc.stderr
    assert sorted(os.listdir(out)) == ["report.html"]
    assert (out / "report.html").read_text() == "old"


def test_report_failing_on_a_full_disk_is_one_line_exit_4(monkeypatch, tmp_path, capsys):
    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("perfkit.present.report.write_text_atomic", full)
    code = main(["report", str(DEMO), "--out", str(tmp_path / "r")])
    err = one_line(capsys, code, errors.EXIT_FAILED, prefix="perfkit: failed: ")
    assert "no space left on the device" in err and "[ENOSPC]" in err


def test_a_read_only_dataset_folder_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    out = tmp_path / "ds"
    out.mkdir()
    out.chmod(0o500)
    try:
        code = main(["measure", "--out", str(out), "--runs", "1", "--no-progress",
                     "--variant", "a=true"])
    finally:
        out.chmod(0o700)
    one_line(capsys, code, errors.EXIT_USAGE)


def test_the_pull_request_workflow_fails_on_exit_4():
    text = "\n".join(p.read_text() for p in sorted(WORKFLOWS.glob("*.yml")))
    gate = text[text.index("Gate on the verdict"):]
    # 0 and 1 pass; everything else (3, 2, 4, none) fails the check
    assert '0) echo "perfkit: cleared" ;;' in gate and "*) echo" in gate and "exit 1 ;;" in gate
    assert "4 perfkit failed" in text or "4 failed" in text
    # the summary comment is not posted from a report that failed
    assert "steps.report.outputs.exit-code != '4'" in text


def test_ingest_into_a_folder_it_cannot_create_is_one_line(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".runs").mkdir(parents=True)
    proc = subprocess.run([sys.executable, "-m", "perfkit", "ingest", str(ws), "--out",
                           "/proc/perfkit-cannot-write-here"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode in (errors.EXIT_USAGE, errors.EXIT_FAILED)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not Path("/proc/perfkit-cannot-write-here").exists()
    with pytest.raises(Exception):
        load("/proc/perfkit-cannot-write-here")


def test_sigterm_during_measure_closes_the_journal_and_says_what_was_kept(tmp_path):
    import json
    import signal

    out = tmp_path / "ds"
    proc = subprocess.Popen([sys.executable, "-m", "perfkit", "measure", "--out", str(out),
                             "--runs", "500", "--no-progress", "--variant", "a=sleep 0.01"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "runs.jsonl").exists() or not (out / "runs.jsonl").stat().st_size:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == errors.EXIT_INTERRUPTED
    assert err.count("\n") == 1 and err.startswith("perfkit: interrupted: kept "), err
    meta = json.loads((out / "meta.json").read_text())
    assert meta["interrupted_at"] and not meta["complete"]
    assert len(load(out).runs) >= 1


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize(("module", "argv"), [("perfkit.cli", ["--version"]),
                                              ("perfkit.cli.compare", ["compare", "x"])])
def test_a_signal_while_perfkit_starts_is_one_line_and_exit_130(signame, module, argv):
    # the signal is sent (for real, to the process) while the entry point imports the CLI, or the
    # CLI the command's module and its libraries: one line and exit 130, not a silent death
    # (SIGTERM) or an import traceback (SIGINT)
    script = (
        "import os, signal, sys\n"
        "from perfkit.__main__ import entry\n"
        "class Arriving:\n"  # a finder asked first: the signal comes as the module is imported
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {module!r}:\n"
        f"            os.kill(os.getpid(), signal.{signame})\n"
        "        return None\n"
        "sys.meta_path.insert(0, Arriving())\n"
        f"sys.argv[1:] = {argv!r}\n"
        "raise SystemExit(entry())\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (errors.EXIT_INTERRUPTED, "")
    assert proc.stderr == "perfkit: interrupted while starting; nothing was run or written\n"


@pytest.mark.parametrize("command", [["compare"], ["report", "--out", "OUT"]])
def test_a_dataset_with_one_variant_asks_for_a_second_one_or_the_hotspot_report(
        tmp_path, capsys, command):
    one = Path(__file__).resolve().parents[2] / "data" / "orchestrator-outputs"
    argv = [a.replace("OUT", str(tmp_path / "report")) for a in command] + [str(one)]
    assert main(argv) == errors.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "one variant ('before')" in err and "perfkit report --hotspots" in err
    # no report was written (only the marker that perfkit made the folder, so a re-run may use it)
    made = (tmp_path / "report")
    assert not made.exists() or {p.name for p in made.iterdir()} <= {".perfkit-report"}
