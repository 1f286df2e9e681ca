"""A stand-in for the real orchestrator in fast tests (the real one needs Node and npm).

    python fake_orchestrator.py WRITES [--fail]

Creates one run folder ``.runs/demo/cli/<run-id>/`` in the current directory and persists its
manifest like the real program does (write a temporary file, rename it over manifest.json)
WRITES times, with two commands; then one sub-run with one command, persisted once. Run ids come
from the clock and the pid, so repeated runs never collide.
"""

import datetime as dt
import json
import os
import sys
import time


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def persist(folder: str, manifest: dict) -> None:
    tmp = os.path.join(folder, f"manifest.json.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(manifest, fh)
    os.rename(tmp, os.path.join(folder, "manifest.json"))


def new_run(pipeline: str, parent: str | None) -> tuple[str, str, dict]:
    run_id = f"{time.time_ns()}-{os.getpid()}-{pipeline}"
    folder = os.path.join(".runs", "demo", "cli", run_id)
    os.makedirs(folder)
    manifest = {
        "version": 1, "task_id": "demo", "run_id": run_id, "parent_run_id": parent,
        "pipeline_id": pipeline, "pipeline_title": pipeline, "status": "in_progress",
        "status_detail": None, "started_at": now(), "completed_at": None, "heartbeat_at": now(),
        "commands": [],
    }
    return run_id, folder, manifest


def command(index: int, cid: str, kind: str = "command", sub: str | None = None) -> dict:
    return {
        "index": index, "id": cid, "title": cid.title(), "command": None if sub else f"run {cid}",
        "kind": kind, "status": "running", "started_at": now(), "completed_at": None,
        "exit_code": None, "sub_run_id": sub,
    }


def main() -> int:
    writes = int(sys.argv[1])
    fail = "--fail" in sys.argv
    run_id, folder, manifest = new_run("outer", None)
    manifest["commands"] = [command(1, "build"), command(2, "test")]
    for i in range(writes - 1):
        persist(folder, manifest)
    for c in manifest["commands"]:
        time.sleep(0.01)
        c.update(status="succeeded", completed_at=now(), exit_code=0)
    # a sub-pipeline run, persisted once
    child_id, child_folder, child = new_run("inner", run_id)
    child["commands"] = [command(1, "lint")]
    child["commands"][0].update(status="succeeded", completed_at=now(), exit_code=0)
    child.update(status="succeeded", completed_at=now())
    persist(child_folder, child)
    manifest["commands"].append(command(3, "child", kind="subpipeline", sub=child_id))
    manifest["commands"][2].update(status="succeeded", completed_at=now())
    manifest.update(status="failed" if fail else "succeeded", completed_at=now())
    persist(folder, manifest)
    with open(os.path.join(folder, "runner.ndjson"), "a") as fh:
        fh.write("{}\n")
    return 1 if fail else 0


if __name__ == "__main__":
    raise SystemExit(main())
