"""Output stability and the outputs diff on tables of known truth (no processes)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from perfkit.analysis.outputs import output_stability, outputs_diff, size_trends
from perfkit.data.outputs import describe_bytes
from perfkit.data.schema import outputs_frame

FIXTURE = Path(__file__).parent.parent / "fixtures" / "orchestrator" / "workspace"


def _rows(variant, docs, pattern="out/m.json"):
    return [{"variant": variant, "run": i, "source": "out/*.json", "pattern": pattern,
             "path": pattern, **describe_bytes(json.dumps(d).encode(), pattern)}
            for i, d in enumerate(docs, 1)]


def _manifest():
    return json.loads(next((FIXTURE / ".runs").rglob("manifest.json")).read_text())


def test_a_candidate_dropping_one_key_is_named_by_its_path():
    base = _manifest()
    cand = copy.deepcopy(base)
    del cand["commands"][0]["exit_code"]
    for c in cand["commands"]:
        c.pop("exit_code", None)
    diff = outputs_diff(outputs_frame(_rows("b", [base] * 3)), outputs_frame(_rows("c", [cand] * 3)))
    row = diff.iloc[0]
    assert row["removed"] == ["commands[].exit_code"] and row["added"] == []
    assert not row["same_structure"] and not row["same_content"]
    assert all(f.endswith(".exit_code") for f in row["fields"])


def test_same_documents_up_to_volatile_values_are_the_same_and_baseline_noise_is_not_a_change():
    base = _manifest()
    later = copy.deepcopy(base)
    later["run_id"] = "2026-12-01T00-00-00-000Z-deadbeef"
    later["started_at"] = "2026-12-01T00:00:00.000Z"
    diff = outputs_diff(outputs_frame(_rows("b", [base, base])), outputs_frame(_rows("c", [later])))
    assert bool(diff.iloc[0]["same_structure"]) and bool(diff.iloc[0]["same_content"])
    noisy = [dict(x=1, noise=i) for i in range(3)]
    diff = outputs_diff(outputs_frame(_rows("b", noisy)),
                        outputs_frame(_rows("c", [dict(x=1, noise=9)])))
    assert bool(diff.iloc[0]["same_content"]) and "vary between baseline runs" in diff.iloc[0]["note"]
    diff = outputs_diff(outputs_frame(_rows("b", noisy)),
                        outputs_frame(_rows("c", [dict(x=2, noise=9)])))
    assert diff.iloc[0]["fields"] == ["x"]


def test_a_type_change_and_a_pattern_on_one_side_only():
    diff = outputs_diff(outputs_frame(_rows("b", [{"n": 1}])),
                        outputs_frame(_rows("c", [{"n": "1"}]) + _rows("c", [{}], "new.json")))
    by = diff.set_index("pattern")
    assert by.loc["out/m.json", "type_changed"] == ["n: number → string"]
    assert by.loc["new.json", "note"] == "only in the candidate"


def test_stability_flaky_with_first_field_and_growth_against_scipy():
    rng = np.random.default_rng(5)
    sizes = (1000 + 5120 * np.arange(1, 9) + rng.integers(0, 50, 8)).tolist()
    rows = [{"variant": "v", "run": i, "source": "g", "pattern": "h.bin", "kind": "binary",
             "size": s, "sha256": str(s), "normalised_sha256": str(s)}
            for i, s in enumerate(sizes, 1)]
    rows += _rows("v", [{"a": {"b": [1, 2]}, "c": 1}, {"a": {"b": [1, 3]}, "c": 1}])
    st = output_stability(outputs_frame(rows)).set_index("pattern")
    assert st.loc["out/m.json", "first_difference"] == "run 1 vs run 2: a.b[1]"
    fit = stats.theilslopes(sizes, range(1, 9))  # an independent, robust reference
    assert st.loc["h.bin", "growth_per_run"] == pytest.approx(5120, rel=0.01)
    assert st.loc["h.bin", "growth_per_run"] == pytest.approx(fit.slope, rel=0.01)
    trends = size_trends(outputs_frame(rows))
    assert trends.iloc[0]["pattern"] == "h.bin" and trends.iloc[0]["r"] > 0.99


def test_text_outputs_are_masked_and_binary_ones_are_not():
    a = describe_bytes(b"done at 2026-11-29T01:02:03 in /tmp/tmpab12cd/x\n", "log.txt")
    b = describe_bytes(b"done at 2026-11-30T09:09:09 in /tmp/tmpzz99yy/x\n", "log.txt")
    assert a["kind"] == "text" and a["sha256"] != b["sha256"]
    assert a["normalised_sha256"] == b["normalised_sha256"]
    c = describe_bytes(b"\xff\xfe2026-11-29T01:02:03", "x.bin")
    assert c["kind"] == "binary" and c["normalised_sha256"] == c["sha256"]
    bad = describe_bytes(b"{not json", "broken.json")
    assert bad["kind"] == "text" and bad["structure"] is None


def test_hostile_json_is_described_not_crashed_on():
    deep = b"[" * 5000 + b"]" * 5000
    assert describe_bytes(deep, "deep.json")["kind"] == "text"
    surrogate = describe_bytes(b'{"a": "\\ud800"}', "s.json")
    assert surrogate["kind"] == "text" and surrogate["sha256"]
    nested = b"[" * 900 + b"]" * 900  # parses, then masking and structure recurse as deep
    assert describe_bytes(nested, "n.json")["kind"] in ("json", "text")


def test_extends_adds_keys_items_and_larger_numbers_only():
    from perfkit.analysis.outputs import extends

    old = {"n": 2, "runs": [{"id": 1}], "name": "x", "ok": True}
    assert extends(old, {"n": 3, "runs": [{"id": 1}, {"id": 2}], "name": "x", "ok": True, "new": 1})
    assert extends(old, old)
    assert not extends(old, {**old, "n": 1})  # a count that went down
    assert not extends(old, {**old, "runs": [{"id": "9"}, {"id": 2}]})  # an item changed in place
    assert not extends(old, {**old, "runs": [{"id": 0}]})  # a number in an item went down
    assert not extends(old, {k: v for k, v in old.items() if k != "name"})  # a key dropped
    assert not extends(old, {**old, "ok": False})  # a flag is not a number
    assert not extends(old, {**old, "name": "y"})
    assert not extends({"runs": [1, 2]}, {"runs": [1]})


def _stability(docs, pattern="out/h.json"):
    return output_stability(outputs_frame(_rows("v", docs, pattern))).iloc[0]


def test_a_history_file_and_a_counter_accumulate_rather_than_flake():
    history = [{"total_samples": i, "runs": [{"run": r, "ok": True} for r in range(i)]}
               for i in range(1, 7)]
    row = _stability(history)
    assert row["accumulates"] and not row["flaky"]
    assert row["first_difference"] == "run 1 vs run 2: runs"  # (keys in canonical order)
    # a count that goes down once, or too few changes to tell, stays flaky
    dips = copy.deepcopy(history)
    dips[3]["total_samples"] = 0
    assert _stability(dips)["flaky"] and not _stability(dips)["accumulates"]
    assert _stability(history[:4])["flaky"]  # 3 changes < MIN_CHANGES
    # random values: flaky
    rng = np.random.default_rng(3)
    assert _stability([{"v": float(x)} for x in rng.random(8)])["flaky"]


def test_documents_too_big_to_keep_accumulate_only_while_the_file_does_not_shrink():
    big = [{"runs": ["x" * 1000] * (70 + 5 * i)} for i in range(6)]  # each over 64 KiB
    rows = outputs_frame(_rows("v", big))
    assert rows["normalised"].isna().all()
    st = output_stability(rows).iloc[0]
    assert st["accumulates"] and not st["flaky"]
    shrinks = big[:3] + [{"runs": ["x" * 1000] * 66}] + big[3:]
    assert output_stability(outputs_frame(_rows("v", shrinks))).iloc[0]["flaky"]


def test_a_random_number_accumulates_as_often_as_chance_says():
    """Known truth: i.i.d. values over 5 runs rise 4 times running with probability 1/5! = 1/120."""
    from perfkit.analysis.outputs import accumulates

    rng = np.random.default_rng(11)
    trials = 1200
    hits = sum(accumulates(outputs_frame(_rows("v", [{"v": float(x)} for x in rng.random(5)])))
               for _ in range(trials))
    low, high = stats.binom.ppf([0.0005, 0.9995], trials, 1 / 120)
    assert low <= hits <= high, hits


def test_the_first_difference_names_what_does_more_than_grow():
    docs = [{"samples": i, "memory": {"object_id": f"{i * 7919 % 1000:03d}"}} for i in range(1, 6)]
    row = _stability(docs)
    assert row["flaky"] and row["first_difference"] == "run 1 vs run 2: memory.object_id"
    # only growth between the two runs compared: the first field that differs
    assert _stability([{"n": 1, "x": 1}, {"n": 2, "x": 2}])["first_difference"] == "run 1 vs run 2: n"
    dropped = _stability([{"n": 1, "gone": 1}, {"n": 2}])
    assert dropped["first_difference"] == "run 1 vs run 2: gone"
    # a key added is growth too, as in extends(): only growth, so the first field that differs
    added = _stability([{"n": 1}, {"n": 2, "new": 1}])
    assert added["first_difference"] == "run 1 vs run 2: n"
