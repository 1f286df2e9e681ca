"""JSON shape: masking of volatile values, structure, and its diff — on documents of known truth."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from perfkit.data.jsonshape import (
    ABSENT,
    MASK,
    content_hash,
    diff_structures,
    differing_fields,
    differing_values,
    normalise,
    parse_rule,
    structure,
)

FIXTURE = Path(__file__).parent.parent / "fixtures" / "orchestrator" / "workspace"


def _doc(rng: np.random.Generator, run_id: str) -> dict:
    return {
        "run_id": run_id, "pid": int(rng.integers(1000, 99999)),
        "started_at": f"2026-11-29T01:0{rng.integers(0, 9)}:00.123Z",
        "duration_ms": float(rng.random()),
        "log": f"/tmp/tmp{rng.integers(1e6)}/run.log",
        "summary": f"run {run_id} finished",
        "result": {"status": "ok", "count": 3, "items": [{"name": "a", "elapsed": 1.5}]},
    }


def test_outputs_differing_only_in_timestamps_and_run_ids_are_alike_after_masking():
    rng = np.random.default_rng(1)
    ids = ["2026-11-29T01-02-03-123Z-ab12cd34", "2026-11-29T01-09-44-901Z-77ee0011"]
    a, b = _doc(rng, ids[0]), _doc(rng, ids[1])
    assert content_hash(a) != content_hash(b)
    assert content_hash(normalise(a)) == content_hash(normalise(b))
    assert normalise(a)["summary"] == f"run {MASK} finished"
    assert differing_fields(normalise(a), normalise(b)) == []


def test_random_content_still_differs_after_masking_and_names_the_field():
    rng = np.random.default_rng(2)
    a, b = _doc(rng, "x"), _doc(rng, "x")
    b["result"]["items"][0]["name"] = "b"
    assert content_hash(normalise(a)) != content_hash(normalise(b))
    assert differing_fields(normalise(a), normalise(b)) == ["result.items[0].name"]


def test_a_dropped_key_is_named_by_the_structure_diff():
    doc = json.loads(next((FIXTURE / ".runs").rglob("manifest.json")).read_text())
    dropped = copy.deepcopy(doc)
    del dropped["commands"][0]["exit_code"]
    for cmd in dropped["commands"]:
        cmd.pop("exit_code", None)
    dropped["status_detail"] = 5
    d = diff_structures(structure(doc), structure(dropped))
    assert d.removed == ["commands[].exit_code"]
    assert d.added == []
    assert [p for p, _, _ in d.type_changed] == ["status_detail"]
    assert not d.same and diff_structures(structure(doc), structure(doc)).same


def test_user_rules():
    doc = {"a": {"b": 1, "c": 2}, "items": [{"id": 1}, {"id": 2}], "deep": {"x": {"token": "t"}}}
    out = normalise(doc, [parse_rule("$.a.b"), parse_rule("$.items[*].id"),
                          parse_rule("$..token")])
    assert out == {"a": {"b": MASK, "c": 2}, "items": [{"id": MASK}, {"id": MASK}],
                   "deep": {"x": {"token": MASK}}}
    for bad in ("a.b", "$", "$..", "$.a[x]"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_structure_paths_and_types():
    s = structure({"a": [1, "x"], "b": None, "c": {"d": True}})
    assert s == {"$": "object", "a": "array", "a[]": "number|string", "b": "null",
                 "c": "object", "c.d": "boolean"}


def test_differing_values_give_both_sides_and_absent_keys():
    a = {"n": 1, "gone": True, "items": [1, 2], "same": "x"}
    b = {"n": 2, "items": [1, 2, 3], "same": "x", "new": None}
    got = differing_values(a, b)
    assert [p for p, _, _ in got] == differing_fields(a, b) == ["n", "gone", "items", "new"]
    assert got[0] == ("n", 1, 2) and got[1][2] is ABSENT and got[2][1:] == ([1, 2], [1, 2, 3])
    assert got[3][1] is ABSENT and got[3][2] is None
