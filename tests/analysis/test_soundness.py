"""The verdict's soundness rules: exact only for counts, no verdict on too few runs, and the
error rates of many questions at once held to the nominal level (simulations with known truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis.diagnostics import diagnose
from perfkit.analysis.multiplicity import holm
from perfkit.analysis.verdict import compare
from perfkit.data.schema import is_count, runs_frame
from perfkit.present.export import text as text_export


def table(values: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """{variant: {metric: values}} → an interleaved runs table."""
    rows, order = [], 0
    n = max(len(v) for m in values.values() for v in m.values())
    for i in range(n):
        for variant, metrics in values.items():
            order += 1
            row = {"variant": variant, "run": i + 1, "order": order, "status": "ok"}
            row.update({m: v[i] for m, v in metrics.items() if i < len(v)})
            rows.append(row)
    return runs_frame(rows)


def test_one_run_per_variant_is_insufficient_and_never_cleared():
    res = compare(table({"baseline": {"wall_s": [0.21]}, "candidate": {"wall_s": [0.18]}}),
                  n_resamples=200)
    row = res.row("wall_s")
    assert row["verdict"] == "insufficient" and row["method"] != "exact"
    assert res.overall == "not-shown"
    assert any("at least 3 runs per variant" in a for a in res.advice)


def test_two_runs_per_variant_are_insufficient_too():
    runs = table({"baseline": {"wall_s": [0.21, 0.22]}, "candidate": {"wall_s": [0.10, 0.11]}})
    assert compare(runs, n_resamples=200).row("wall_s")["verdict"] == "insufficient"


def test_a_constant_timing_is_never_exact_but_a_constant_count_is():
    assert is_count("manifest_writes") and is_count("io_wchar") and not is_count("wall_s")
    assert not is_count("max_rss_kib")  # peak memory is a measurement, not a count
    runs = table({"baseline": {"wall_s": [0.2] * 5, "io_syscw": [9] * 5},
                  "candidate": {"wall_s": [0.1] * 5, "io_syscw": [3] * 5}})
    res = compare(runs, targets=["wall_s", "io_syscw"], n_resamples=200)
    assert res.row("wall_s")["method"] == "percentile"
    assert "no spread" in res.row("wall_s")["note"]
    writes = res.row("io_syscw")
    assert writes["method"] == "exact" and np.isnan(writes["p_value"])  # no p beside an exact row
    text = "\n".join(text_export.lines(res))
    line = next(x for x in text.splitlines() if x.startswith("io_syscw"))
    assert line.rstrip().endswith("—")


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, np.nan, 0.20]
    # sorted 0.01, 0.03, 0.04, 0.20 with m = 4: 0.04, 0.09, 0.09 (monotone), 0.20
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, np.nan, 0.20], nan_ok=True)


def test_no_outlier_warning_where_values_barely_move():
    rng = np.random.default_rng(3)
    v = 10_000 + rng.integers(0, 160, 20)  # all within 1.6 % of each other
    v[[2, 7, 11]] = 10_160  # a few at the top edge: "outliers" by a robust z-score alone
    runs = table({"a": {"max_rss_kib": list(map(int, v))}})
    assert not [d for d in diagnose(runs, metric="max_rss_kib") if d.kind == "outliers"]


def _aa(rng, n: int, metrics: list[str]) -> pd.DataFrame:
    return table({v: {m: list(np.exp(rng.normal(0, 0.1, n))) for m in metrics}
                  for v in ("baseline", "candidate")})


@pytest.mark.slow
def test_a_a_with_six_targets_ends_regressed_at_most_five_percent_of_the_time():
    """A/A, 6 targets, lognormal noise (CV 10 %), 12 runs each. Unadjusted, about 13.5 % of such
    comparisons end `regressed` (measured on the previous rules); the Bonferroni confirmation
    keeps it at or below α/2 = 2.5 % in expectation."""
    rng = np.random.default_rng(2026)
    trials, targets = 150, [f"t{i}_s" for i in range(6)]
    regressed = sum(
        compare(_aa(rng, 12, targets), targets=targets, guardrails={}, info=[], n_resamples=300,
                seed=int(rng.integers(1 << 30))).overall == "regressed"
        for _ in range(trials)
    )
    assert regressed / trials <= 0.05, regressed


@pytest.mark.slow
def test_a_a_with_twenty_info_rows_reads_a_change_rarely():
    """A/A, 20 informational metrics: unadjusted, at least one reads better/worse in about 64 % of
    comparisons (1 − 0.95²⁰); Holm over the rows keeps it near 5 %."""
    rng = np.random.default_rng(7)
    trials, info = 60, [f"i{i}_s" for i in range(20)]
    called = 0
    for _ in range(trials):
        res = compare(_aa(rng, 12, ["wall_s", *info]), info=info, guardrails={}, n_resamples=200,
                      seed=int(rng.integers(1 << 30)))
        called += bool(res.table.loc[res.table["role"] == "info", "verdict"]
                       .isin(["better", "worse"]).any())
    assert called / trials <= 0.12, called


def test_runs_not_interleaved_are_warned_about():
    rng = np.random.default_rng(5)
    base = {"wall_s": list(np.exp(rng.normal(0, 0.1, 10)))}
    cand = {"wall_s": list(np.exp(rng.normal(-0.15, 0.1, 10)))}
    interleaved = table({"baseline": base, "candidate": cand})  # alternating order, no rounds
    kinds = {w.kind for w in compare(interleaved, n_resamples=200).warnings}
    assert "not-interleaved" not in kinds
    apart = interleaved.copy()
    apart.loc[apart["variant"] == "candidate", "order"] += 100  # one variant after the other
    warned = [w for w in compare(apart, n_resamples=200).warnings if w.kind == "not-interleaved"]
    assert len(warned) == 1 and "one after the other" in warned[0].message
    rounds = interleaved.assign(round=pd.array((interleaved["order"] + 1) // 2, dtype="Int64"))
    assert "not-interleaved" not in {w.kind for w in compare(rounds, n_resamples=200).warnings}
    split = compare(interleaved[interleaved["variant"] == "baseline"], "baseline", "candidate",
                    candidate_runs=interleaved[interleaved["variant"] == "candidate"],
                    n_resamples=200)
    assert "two collections" in next(w.message for w in split.warnings if w.kind == "not-interleaved")


def test_measure_records_the_round_of_every_run(tmp_path):
    from perfkit.collect.measure import measure

    ds = measure({"a": "true", "b": "true"}, out=tmp_path / "ds", runs=3, warmup=1, seed=1,
                 progress=False)
    runs = ds.runs.sort_values("order")
    assert runs["round"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]  # a warm-up round, then 3 rounds
    again = measure({"a": "true", "b": "true"}, out=tmp_path / "ds", runs=1, progress=False,
                    append=True)
    assert again.runs.sort_values("order")["round"].tolist()[-2:] == [5, 5]
