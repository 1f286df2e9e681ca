"""Which orchestrator runs perfkit made as warm-ups or under a tracer, kept in the workspace.

``perfkit measure --orchestrator-root WS`` knows, for every run folder a measured run created,
whether that run was a warm-up (its state is not the steady one) or ran under strace (its timings
are perturbed). The orchestrator's own manifests do not say so; an ingest of the workspace would
count those runs as ordinary ones. So the run-folder watcher appends one JSON line per folder to
``WS/.perfkit/measured.jsonl`` (``task``, ``run_id``, ``warmup``, ``traced``, ``variant``,
``run`` — the measured run it belongs to), and :func:`perfkit.data.orchestrator.to_dataset_tables`
carries the flags over. A folder perfkit never saw keeps ``warmup = traced = False``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FLAGS_FILE = os.path.join(".perfkit", "measured.jsonl")


def _workspace(root: str | os.PathLike) -> Path:
    path = Path(root)
    return path.parent if path.name == ".runs" else path


def record_measured(root: str | os.PathLike, records: Iterable[Mapping[str, Any]]) -> None:
    """Append one line per run folder (``task``, ``run_id``, ``warmup``, ``traced``, …).

    Best effort: a workspace that cannot be written to loses only the flags, never a run.
    """
    lines = "".join(json.dumps(dict(r), sort_keys=True) + "\n" for r in records)
    if not lines:
        return
    path = _workspace(root) / FLAGS_FILE
    try:
        path.parent.mkdir(exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(lines)
    except OSError:
        pass


def read_measured(root: str | os.PathLike) -> dict[tuple[str, str], dict[str, bool]]:
    """``{(task, run_id): {"warmup": bool, "traced": bool}}`` from the workspace's flags file
    (empty when there is none; unreadable lines are skipped; a later line wins)."""
    path = _workspace(root) / FLAGS_FILE
    flags: dict[tuple[str, str], dict[str, bool]] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return flags
    for line in text.splitlines():
        try:
            r = json.loads(line)
            key = (str(r["task"]), str(r["run_id"]))
        except (ValueError, KeyError, TypeError):
            continue
        flags[key] = {"warmup": r.get("warmup") is True, "traced": r.get("traced") is True}
    return flags
