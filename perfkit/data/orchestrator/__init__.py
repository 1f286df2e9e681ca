"""Ingesting an orchestrator's run folders: manifests → runs, stages, artifacts and problems.

The Codex Orchestrator CLI (``@kbediako/codex-orchestrator`` on npm) records every run in a
workspace as::

    .runs/<task>/cli/<run-id>/manifest.json     the run and its commands (schema version 1)
    .runs/<task>/cli/<run-id>/...               runner.ndjson, events.jsonl, commands/*.ndjson, ...
    .runs/<task>/metrics.json, .runs/<task>/... task-level history
    out/<task>/...                              snapshots (runs.json grows with every run)

:func:`read_orchestrator` walks such a workspace and returns an :class:`OrchestratorData` of four
DataFrames. One bad file never stops the walk: it becomes a row of ``problems`` and every other
run is still read. Only a bad ``root`` (missing, not a folder) raises, as a :class:`PerfkitError`.

:func:`to_dataset_tables` maps an ingest onto the runs/stages contract of :mod:`perfkit.data.schema`
so that it can be saved with :func:`perfkit.save` and compared like measured runs.
"""

from perfkit.data.orchestrator.flags import FLAGS_FILE, read_measured, record_measured
from perfkit.data.orchestrator.ingest import ingest, to_dataset_tables
from perfkit.data.orchestrator.manifest import (
    ARTIFACTS_COLUMNS,
    DEFAULT_MAX_MANIFEST_BYTES,
    MANIFEST,
    PROBLEM_REASONS,
    PROBLEMS_COLUMNS,
    RUNS_COLUMNS,
    STAGE_EXTRA_COLUMNS,
    STATUS_TO_CONTRACT,
    SUPPORTED_MANIFEST_VERSIONS,
    UNFINISHED_STATUSES,
)
from perfkit.data.orchestrator.tables import (
    OrchestratorData,
    read_orchestrator,
    read_run_folders,
    run_folders,
)

__all__ = [
    "FLAGS_FILE", "read_measured", "record_measured",
    "ARTIFACTS_COLUMNS", "DEFAULT_MAX_MANIFEST_BYTES", "MANIFEST", "OrchestratorData",
    "PROBLEMS_COLUMNS", "PROBLEM_REASONS", "RUNS_COLUMNS", "STAGE_EXTRA_COLUMNS",
    "STATUS_TO_CONTRACT", "SUPPORTED_MANIFEST_VERSIONS", "UNFINISHED_STATUSES", "ingest",
    "read_orchestrator", "read_run_folders", "run_folders", "to_dataset_tables",
]
