"""Output files as rows of the ``outputs`` table: size, content hashes and, for JSON, structure.

Pure but for reading the file (data layer). :func:`describe_file` turns one file into a row
(columns in :mod:`perfkit.data.schema`); :func:`missing_row` records that a run wrote no file
matching a pattern; :func:`manifest_rows` does the same for the run manifests of an orchestrator
workspace (no flag needed). :func:`perfkit.data.sources.read_outputs` finds a source's table.

How a file is normalised before its ``normalised_sha256`` is taken:

- ``.json`` that parses: the volatile values masked (:func:`perfkit.data.jsonshape.normalise`,
  the default rules plus the user's ``--volatile`` rules), then canonical JSON (sorted keys);
- other UTF-8 text: ISO date-times, UUIDs, orchestrator run ids and absolute temporary paths
  masked wherever they stand (:func:`perfkit.data.jsonshape.mask_text`);
- anything else (binary), and any file over :data:`MAX_READ_BYTES` (64 MiB): the raw bytes.

The normalised JSON document itself is kept (``normalised``) when it is at most
:data:`MAX_NORMALISED_BYTES` long, so that a report can name the first field that differs
between two runs, or between baseline and candidate; above that only the hashes are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from perfkit.data.jsonshape import Rule, canonical, mask_text, normalise, shape_signature, structure
from perfkit.data.paths import fold_path

#: The longest normalised JSON document kept whole in the table (bytes of canonical JSON).
MAX_NORMALISED_BYTES = 64 * 1024

#: Files larger than this are hashed in chunks as binary (never read whole, parsed or masked).
MAX_READ_BYTES = 64 * 1024 * 1024

#: The ``source`` of rows recorded for orchestrator run manifests (no ``--outputs`` needed).
MANIFEST_SOURCE = "orchestrator:manifest"


_NOT_JSON = object()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe_bytes(data: bytes, name: str, rules: Iterable[Rule] = ()) -> dict[str, Any]:
    """The content columns of one file's bytes: ``size``, ``sha256``, ``kind`` (json, text,
    binary), ``normalised_sha256``; for JSON ``signature``, ``structure`` and ``normalised``."""
    row: dict[str, Any] = {"size": len(data), "sha256": _sha(data), "signature": None,
                           "structure": None, "normalised": None}
    doc: Any = _NOT_JSON
    if name.lower().endswith(".json"):
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            doc = _NOT_JSON
    if doc is not _NOT_JSON:
        try:
            text = canonical(normalise(doc, rules))
            shape = structure(doc)
        except (ValueError, RecursionError):  # nested too deep, a lone surrogate: read as text
            doc = _NOT_JSON
    if doc is not _NOT_JSON:
        row.update(kind="json", normalised_sha256=_sha(text), signature=shape_signature(shape),
                   structure=json.dumps(shape, sort_keys=True))
        if len(text) <= MAX_NORMALISED_BYTES:
            row["normalised"] = text.decode("utf-8")
        return row
    try:
        text_value = data.decode("utf-8")
    except UnicodeDecodeError:
        row.update(kind="binary", normalised_sha256=row["sha256"])
        return row
    row.update(kind="text", normalised_sha256=_sha(mask_text(text_value).encode("utf-8")))
    return row


def describe_file(path: str | os.PathLike, rel: str, rules: Iterable[Rule] = ()) -> dict[str, Any] | None:
    """A row's file columns (``path`` = ``rel``, its ``pattern``, content columns), or None when
    the file cannot be read (it vanished between listing and reading)."""
    rel = str(rel).replace(os.sep, "/")
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_READ_BYTES:  # hashed in chunks, not parsed
                digest, size = hashlib.sha256(), 0
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                content = {"size": size, "sha256": digest.hexdigest(), "kind": "binary",
                           "normalised_sha256": digest.hexdigest(), "signature": None,
                           "structure": None, "normalised": None}
                return {"path": rel, "pattern": fold_path(rel), **content}
            data = fh.read()
    except OSError:
        return None
    return {"path": rel, "pattern": fold_path(rel), **describe_bytes(data, rel, rules)}


def missing_row(source: str) -> dict[str, Any]:
    """The row of a run that wrote no file matching ``source`` (a glob): ``kind`` ``missing``."""
    return {"path": None, "pattern": source, "kind": "missing", "size": None, "sha256": None,
            "normalised_sha256": None, "signature": None, "structure": None, "normalised": None}


def manifest_rows(data: Any, rules: Iterable[Rule] = ()) -> list[dict[str, Any]]:
    """Rows for the ``manifest.json`` of each run of ``data`` (an ``OrchestratorData``), with its
    ``variant`` and ``run``; ``source`` :data:`MANIFEST_SOURCE`."""
    rows = []
    root = Path(data.root)
    for r in data.runs.itertuples():
        described = describe_file(root / r.manifest_path, r.manifest_path, rules)
        if described is None:
            continue
        rows.append({"variant": r.variant, "run": int(r.run), "warmup": False,
                     "source": MANIFEST_SOURCE, **described})
    return rows
