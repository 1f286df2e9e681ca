"""Fault campaign: kill, terminate, fill, freeze and double-write real `perfkit measure` collections.

Cases (each a real `python -m perfkit measure` of two shell commands that count their own starts):

* ``kill-9 #k`` / ``sigterm #k`` — SIGKILL / SIGTERM to perfkit at ``--moments`` random moments
  (seeded); then: how many runs started, how many the dataset keeps (at most the run in flight
  may be lost), whether anything of the collection is still running, and whether
  ``--append`` continues the dataset (journal repaired, stale lock taken over).
* ``disk-full`` — the dataset on a 96 KiB tmpfs (as root); without mount rights, RLIMIT_FSIZE
  stands in (EFBIG instead of ENOSPC) and the table says so.
* ``read-only remount`` — the tmpfs remounted read-only mid-collection (the kernel refuses while
  perfkit holds the journal open: EBUSY, reported); then ``--append`` to the now read-only dataset.
* ``two writers`` — a second `perfkit measure --append` while the first one collects.

Prints one row per case: case, runs started, runs kept, exit code, message (perfkit's last stderr
line), and writes benchmarks/results/fault_campaign.json. Run as root for the mount cases:

    .venv/bin/python benchmarks/fault_campaign.py [--moments 20] [--seed 13]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

PERFKIT = [sys.executable, "-m", "perfkit"]


def _kept(folder: Path) -> int:
    from perfkit.data.sources import load

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return len(load(folder).runs)
    except Exception:  # noqa: BLE001 - a campaign reports, it does not stop
        return -1


def _started(counter: Path) -> int:
    try:
        return len(counter.read_bytes().splitlines())
    except FileNotFoundError:
        return 0


def _alive(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{name}/cmdline").read_bytes()
                stat = Path(f"/proc/{name}/stat").read_text()
                if marker.encode() in cmd and ") Z" not in stat:
                    found.append(int(name))
    return found


def _variants(counter: Path, marker: str, pause: float = 0.01) -> list[str]:
    # the marker (a path) appears in every shell's command line: leftovers can be found
    return [f"--variant=a=echo a >> {counter}; sleep {pause} # {marker}",
            f"--variant=b=echo b >> {counter}; sleep {pause} # {marker}"]


def _measure(out: Path, counter: Path, marker: str, *extra: str, runs: int = 300,
             **popen) -> subprocess.Popen:
    return subprocess.Popen([*PERFKIT, "measure", "--out", str(out), "--runs", str(runs),
                             "--no-progress", *_variants(counter, marker), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **popen)


def _last_line(text: str) -> str:
    lines = [x for x in (text or "").strip().splitlines() if x.strip()]
    return lines[-1][:160] if lines else ""


def _wait_for_first_run(proc: subprocess.Popen, counter: Path, limit: float = 120) -> None:
    """Moments count from the first run's start (perfkit's own start-up varies with load)."""
    deadline = time.monotonic() + limit
    while not counter.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def signal_case(base: Path, label: str, sig: int, moment: float) -> dict:
    case = base / label.replace(" ", "-").replace("#", "")
    case.mkdir()
    out, counter, marker = case / "ds", case / "started", str(case)
    proc = _measure(out, counter, marker)
    _wait_for_first_run(proc, counter)
    time.sleep(moment)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    time.sleep(0.5)  # the spawner sees its parent die (PDEATHSIG) and kills the run in flight
    left = _alive(marker)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    started, kept = _started(counter), _kept(out)
    resume = subprocess.run([*PERFKIT, "measure", "--out", str(out), "--append", "--runs", "1",
                             "--no-progress", *_variants(counter, marker)],
                            capture_output=True, text=True, timeout=120)
    note = f"killed at {moment:.2f} s; lost {started - kept}; left running {len(left)}; " \
           f"--append after: exit {resume.returncode}"
    warn = [x for x in resume.stderr.splitlines() if "truncated a torn" in x or "stale lock" in x]
    if warn:
        note += " (" + "; ".join(w.split(": ", 2)[-1][:60] for w in warn) + ")"
    return {"case": label, "runs_started": started, "runs_kept": kept,
            "exit_code": proc.returncode, "message": _last_line(err) or note, "note": note,
            "lost": started - kept, "left_running": len(left), "resume_exit": resume.returncode,
            "ok": started - kept <= 1 and not left and resume.returncode == 0}


@contextlib.contextmanager
def _tmpfs(where: Path, size: str):
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def disk_full_case(base: Path) -> dict:
    case = base / "disk-full"
    case.mkdir()
    counter, marker = case / "started", str(case)
    with _tmpfs(case / "mnt", "96k") as mnt:
        how = "96 KiB tmpfs (ENOSPC)"
        if mnt is not None:
            proc = _measure(mnt / "ds", counter, marker, runs=2000)
        else:
            how = "no mount rights: RLIMIT_FSIZE 96 KiB stands in (EFBIG)"
            (case / "mnt").mkdir(exist_ok=True)

            def small() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, 96 * 1024))

            proc = _measure(case / "mnt" / "ds", counter, marker, runs=2000, preexec_fn=small)
        _, err = proc.communicate(timeout=600)
        kept = _kept((mnt or case / "mnt") / "ds")
        started = _started(counter)
    return {"case": "disk full", "runs_started": started, "runs_kept": kept,
            "exit_code": proc.returncode, "message": _last_line(err), "note": how,
            "lost": started - kept, "ok": proc.returncode == 4 and started - kept <= 1
            and "Traceback" not in err}


def read_only_case(base: Path) -> list[dict]:
    case = base / "read-only"
    case.mkdir()
    counter, marker = case / "started", str(case)
    rows = []
    with _tmpfs(case / "mnt", "16m") as mnt:
        if mnt is None:
            return [{"case": "read-only remount", "runs_started": 0, "runs_kept": 0,
                     "exit_code": None, "message": "skipped: no mount rights (not root?)",
                     "ok": None}]
        proc = _measure(mnt / "ds", counter, marker, runs=150)
        _wait_for_first_run(proc, counter)
        time.sleep(1.0)
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True,
                                 text=True)
        _, err = proc.communicate(timeout=300)
        started, kept = _started(counter), _kept(mnt / "ds")
        said = (remount.stderr.strip().splitlines() or ["remounted"])[0][:100]
        rows.append({"case": "read-only remount mid-run", "runs_started": started,
                     "runs_kept": kept, "exit_code": proc.returncode,
                     "message": _last_line(err) or f"(mount said: {said})",
                     "note": f"mount -o remount,ro: exit {remount.returncode} ({said})",
                     "ok": started - kept <= 1 and "Traceback" not in err})
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True)
        before = _kept(mnt / "ds")
        again = subprocess.run([*PERFKIT, "measure", "--out", str(mnt / "ds"), "--append",
                                "--runs", "3", "--no-progress", *_variants(counter, marker)],
                               capture_output=True, text=True, timeout=120)
        rows.append({"case": "--append to a read-only dataset", "runs_started": 0,
                     "runs_kept": _kept(mnt / "ds"), "exit_code": again.returncode,
                     "message": _last_line(again.stderr),
                     "ok": again.returncode in (2, 4) and _kept(mnt / "ds") == before
                     and again.stderr.count("\n") == 1})
    return rows


def two_writers_case(base: Path) -> dict:
    case = base / "two-writers"
    case.mkdir()
    out, counter, marker = case / "ds", case / "started", str(case)
    go = case / "go"
    first = subprocess.Popen(
        [*PERFKIT, "measure", "--out", str(out), "--runs", "50", "--no-progress",
         f"--variant=a=echo a >> {counter}; i=0; while [ ! -e {go} ] && [ $i -lt 6000 ]; "
         f"do sleep 0.01; i=$((i+1)); done # {marker}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    _wait_for_first_run(first, counter)
    second = subprocess.run([*PERFKIT, "measure", "--out", str(out), "--append", "--runs", "5",
                             "--no-progress", f"--variant=c=echo c >> {case / 'second'}"],
                            capture_output=True, text=True, timeout=120)
    go.touch()
    _, err = first.communicate(timeout=300)
    kept = _kept(out)
    return {"case": "two writers (second)", "runs_started": _started(case / "second"),
            "runs_kept": kept, "exit_code": second.returncode,
            "message": _last_line(second.stderr),
            "note": f"first writer: exit {first.returncode}, {kept} runs kept of {_started(counter)}",
            "ok": second.returncode == 2 and first.returncode == 0
            and kept == _started(counter) == 50}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=20, help="moments per signal (20)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--latest", type=float, default=3.0,
                        help="latest moment, seconds after start (3.0)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    base = Path(tempfile.mkdtemp(prefix="perfkit-faults-"))
    try:
        for label, sig in (("kill-9", signal.SIGKILL), ("sigterm", signal.SIGTERM)):
            for k in range(1, args.moments + 1):
                moment = rng.uniform(0.3, args.latest)
                rows.append(signal_case(base, f"{label} #{k}", sig, moment))
                _print(rows[-1])
        for row in (disk_full_case(base), *read_only_case(base), two_writers_case(base)):
            rows.append(row)
            _print(row)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    held = sum(1 for r in rows if r.get("ok"))
    judged = sum(1 for r in rows if r.get("ok") is not None)
    print(f"{held} of {judged} cases held their promise")
    path = write_results("fault_campaign.json", {"seed": args.seed, "moments": args.moments,
                                                 "cases": rows, "held": held, "judged": judged})
    print(f"wrote {path}")


def _print(row: dict) -> None:
    code = "-" if row["exit_code"] is None else row["exit_code"]
    verdict = {True: "ok  ", False: "FAIL", None: "skip"}[row.get("ok")]
    print(f"{verdict} {row['case']:<32} started {row['runs_started']:>4}  kept "
          f"{row['runs_kept']:>4}  exit {code!s:>4}  {row['message']}"
          + (f"  [{row['note']}]" if row.get("note") and row["note"] != row["message"] else ""),
          flush=True)


if __name__ == "__main__":
    main()
