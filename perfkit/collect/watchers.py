"""Orchestrator run folders as a collection hook: each measured run gets the stages it created.

The watchers are ``after_run`` callables of the collection loop (:mod:`perfkit.collect.hooks`); they
read run folders with :mod:`perfkit.data.orchestrator` and hand back :class:`RunExtras`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit.collect.hooks import RunExtras
from perfkit.data.jsonshape import Rule
from perfkit.data.orchestrator import read_run_folders, record_measured, run_folders
from perfkit.data.outputs import manifest_rows
from perfkit.errors import UsageError


class RunFolderWatcher:
    """Attaches to each measured run the stages of the orchestrator run folders it created.

    Used by :func:`perfkit.measure` (``orchestrator_root=``): :meth:`before_run` lists
    ``.runs/*/cli/*`` just before the timed command starts (after any prepare command), and the
    ``after_run`` hook (calling the object) lists it again; every new folder — the run itself and
    the sub-runs it started — is read. Stage rows get the measured run's ``variant`` and ``run``
    (plus ``task``, ``run_id``, ``pipeline``, ``kind``, ``sub_run_id``, ``command``), and the run's
    row gets ``orchestrator_runs`` (folders created), ``orchestrator_manifest_bytes``,
    ``orchestrator_artifact_bytes`` (totals over them) and ``orchestrator_problems`` (folders
    that could not be read). Warm-up runs get the columns but no stage rows (their ``run`` is 0).
    Each new folder's ``manifest.json`` also becomes a row of the ``outputs`` table (size,
    hashes, structure after masking volatile values: :func:`perfkit.data.outputs.manifest_rows`).
    Every folder is also listed, with its run's warm-up/traced flag, in the workspace's
    ``.perfkit/measured.jsonl`` (:mod:`perfkit.data.orchestrator.flags`), so that an ingest of
    the workspace keeps the flags.
    """

    def __init__(self, root: str | os.PathLike, volatile: Sequence[Rule] = ()):
        self.rules = tuple(volatile)
        path = Path(root)
        if not path.exists():
            raise UsageError(f"--orchestrator-root {root}: no such folder")
        if not path.is_dir():
            raise UsageError(f"--orchestrator-root {root}: not a folder")
        self.root = path.resolve()
        self.runs_dir = str(self.root / ".runs")
        self.before: set[tuple[str, str]] = run_folders(self.runs_dir)

    def before_run(self) -> None:
        self.before = run_folders(self.runs_dir)

    def after_collection(self, collection: Any = None) -> None:
        """After the traced pass (an ``after_collection`` hook that runs after it): the folders
        created since the last timed run are the traced runs'; they are flagged ``traced``."""
        after = run_folders(self.runs_dir)
        new = sorted(after - self.before)
        self.before = after
        record_measured(self.root, [{"task": task, "run_id": run_id, "warmup": False,
                                     "traced": True} for task, run_id in new])

    def __call__(self, ctx: Any) -> Any:
        after = run_folders(self.runs_dir)
        new = sorted(after - self.before)
        self.before = after
        record_measured(self.root, [
            {"task": task, "run_id": run_id, "warmup": bool(ctx.warmup), "traced": False,
             "variant": ctx.variant.name, "run": ctx.run} for task, run_id in new])
        data = read_run_folders(self.root, new)
        columns = {
            "orchestrator_runs": len(new),
            "orchestrator_manifest_bytes": int(data.runs["manifest_bytes"].sum()),
            "orchestrator_artifact_bytes": int(data.runs["artifact_bytes"].fillna(0).sum()),
            "orchestrator_problems": len(data.problems),
        }
        stages: list[dict[str, Any]] = []
        if not ctx.warmup and len(data.stages):
            st = data.stages.rename(columns={"variant": "pipeline"}).drop(columns=["run"])
            st.insert(0, "run", ctx.run)
            st.insert(0, "variant", ctx.variant.name)
            for record in st.to_dict("records"):
                stages.append(
                    {k: (None if v is pd.NA or v is pd.NaT else v) for k, v in record.items()}
                )
        return RunExtras(columns=columns, stages=stages, outputs=manifest_rows(data, self.rules))


class VariantRunFolderWatcher:
    """:class:`RunFolderWatcher` for variants that each run in a workspace of their own.

    Used by :func:`perfkit.measure` when ``orchestrator_root`` maps variant names to workspaces
    (``{"aged": ws1, "fresh": ws2}``): each run's stages come from its own variant's workspace.
    Every workspace is listed before each run (a prepare command may have changed any of them);
    variants the mapping does not name get no orchestrator columns.
    """

    def __init__(self, roots: Mapping[str, str | os.PathLike], variants: Iterable[str],
                 volatile: Sequence[Rule] = ()):
        known = list(variants)
        unknown = [name for name in roots if name not in known]
        if unknown:
            raise UsageError(
                f"--orchestrator-root: no variant named {unknown[0]!r} "
                f"(variants: {', '.join(map(repr, known))})"
            )
        if not roots:
            raise UsageError("--orchestrator-root: the mapping of variants to workspaces is empty")
        self.watchers = {name: RunFolderWatcher(root, volatile) for name, root in roots.items()}

    def before_run(self) -> None:
        for watcher in self.watchers.values():
            watcher.before_run()

    def after_collection(self, collection: Any = None) -> None:
        for watcher in self.watchers.values():
            watcher.after_collection(collection)

    def __call__(self, ctx: Any) -> Any:
        watcher = self.watchers.get(ctx.variant.name)
        return watcher(ctx) if watcher is not None else None
