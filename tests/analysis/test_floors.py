"""A memory guardrail at the measurable floor is unresolved with the reason, never held."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfkit.analysis.floors import at_floor_reason, measurable_floor
from perfkit.analysis.verdict import compare


def _runs(base_rss: float, cand_rss: float, n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for variant, rss, wall in (("baseline", base_rss, 1.0), ("candidate", cand_rss, 0.85)):
        for i in range(n):
            rows.append({"variant": variant, "run": i + 1, "order": len(rows), "warmup": False,
                         "traced": False, "status": "ok", "exit_code": 0,
                         "wall_s": wall + rng.normal(0, 0.005), "max_rss_kib": int(rss)})
    return pd.DataFrame(rows)


def test_identical_memory_at_the_floor_is_unresolved_not_held():
    runs = _runs(11_300, 11_300)
    meta = {"spawner_rss_kib": 11_292}
    cmp = compare(runs, meta=meta, candidate_meta=meta)
    row = cmp.row("max_rss_kib")
    assert row["verdict"] == "unresolved"
    assert "floor" in row["note"]
    assert any(d.kind == "at-floor" for d in cmp.warnings)
    assert any("max_rss_kib: guardrail unresolved, at the measurable floor" in r for r in cmp.reasons)
    assert pd.isna(row["runs_needed"])  # more runs cannot see below the floor


def test_the_same_values_well_above_a_small_floor_are_held():
    runs = _runs(11_300, 11_300)
    meta = {"spawner_rss_kib": 528}
    row = compare(runs, meta=meta, candidate_meta=meta).row("max_rss_kib")
    assert row["verdict"] == "held"


def test_without_a_recorded_floor_nothing_changes():
    assert compare(_runs(11_300, 11_300)).row("max_rss_kib")["verdict"] == "held"


def test_the_margin_decides_what_is_at_the_floor():
    assert at_floor_reason("max_rss_kib", 1000, 1100, 0.05, 1000) is not None
    assert at_floor_reason("max_rss_kib", 1060, 1100, 0.05, 1000) is None
    assert at_floor_reason("max_rss_kib", 1000, 1000, 0.05, None) is None
    assert measurable_floor("max_rss_kib", {"spawner_rss_kib": 500}, {"spawner_rss_kib": 900}) == 900
    assert measurable_floor("wall_s", {"spawner_rss_kib": 500}) is None
    assert measurable_floor("max_rss_kib", {}, None) is None
