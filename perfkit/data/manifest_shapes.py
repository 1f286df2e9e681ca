"""The structure of every run manifest of an orchestrator workspace, after masking volatile values.

No flag needed: :func:`manifest_shapes` reads the ``manifest.json`` of each run that
:func:`perfkit.data.orchestrator.read_orchestrator` listed and records its structure signature and
its normalised content hash (:mod:`perfkit.data.jsonshape`); :func:`shape_consistency` tells, per
variant, whether every run's manifest has one structure. A manifest that cannot be read as JSON is
recorded with null signature (the ingest's ``problems`` table says why).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit.data.jsonshape import content_hash, normalise, signature, structure

SHAPES_COLUMNS = ("variant", "run", "run_id", "signature", "normalised_sha256", "paths")


def manifest_shapes(data: Any) -> pd.DataFrame:
    """One row per run of ``data`` (an ``OrchestratorData``): :data:`SHAPES_COLUMNS`, plus the
    ``structure`` dict in the frame's ``attrs["structures"]`` keyed by ``run_id``."""
    rows, structures = [], {}
    root = Path(data.root)
    for r in data.runs.itertuples():
        try:
            doc = json.loads((root / r.manifest_path).read_bytes())
        except (OSError, ValueError):
            rows.append((r.variant, r.run, r.run_id, None, None, 0))
            continue
        shape = structure(doc)
        structures[r.run_id] = shape
        rows.append((r.variant, r.run, r.run_id, signature(doc),
                     content_hash(normalise(doc)), len(shape)))
    out = pd.DataFrame(rows, columns=list(SHAPES_COLUMNS))
    out.attrs["structures"] = structures
    return out


def shape_consistency(shapes: pd.DataFrame) -> pd.DataFrame:
    """Per variant: runs, distinct structures, distinct normalised contents, and ``consistent``
    (one structure across every readable manifest)."""
    rows = []
    for variant, grp in shapes.groupby("variant", sort=True):
        rows.append({"variant": variant, "runs": len(grp),
                     "structures": int(grp["signature"].nunique()),
                     "contents": int(grp["normalised_sha256"].nunique()),
                     "unreadable": int(grp["signature"].isna().sum()),
                     "consistent": bool(grp["signature"].nunique() <= 1)})
    return pd.DataFrame(rows, columns=["variant", "runs", "structures", "contents", "unreadable",
                                       "consistent"])
