"""Several candidates against one baseline: compare() per candidate, Holm-adjusted."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis.multi import adjusted_confidence, compare_many
from perfkit.analysis.verdict import compare
from perfkit.cli import main
from perfkit.data.store import save
from perfkit.errors import UsageError


def _runs(medians: dict[str, float], n: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    order = 0
    for name, m in medians.items():
        for i in range(n):
            order += 1
            rows.append({"variant": name, "run": i + 1, "order": order, "warmup": False,
                         "traced": False, "status": "ok", "exit_code": 0,
                         "wall_s": m * (1 + rng.normal(0, 0.02)), "max_rss_kib": 1000.0})
    return pd.DataFrame(rows)


def test_each_candidate_at_the_bonferroni_level_and_the_worst_answer():
    runs = _runs({"base": 1.0, "fast": 0.7, "slow": 1.3})
    many = compare_many(runs, "base", ["fast", "slow"], confidence=0.9, n_resamples=500)
    assert adjusted_confidence(0.9, 2) == pytest.approx(0.95)
    assert [c.candidate for c in many.comparisons] == ["fast", "slow"]
    # the same as compare() at the adjusted level, candidate by candidate (independent check)
    alone = compare(runs, "base", "slow", confidence=0.95, n_resamples=500)
    assert many.comparisons[1].table["ci_low"].equals(alone.table["ci_low"])
    assert many.overall == "regressed" and many.exit_code == 3
    assert list(many.table["variant"].unique()) == ["fast", "slow"]
    # the statistic of each candidate stays in its own column
    assert many.table.loc[many.table["variant"] == "slow", "candidate"].iloc[0] == pytest.approx(
        alone.row("wall_s")["candidate"])
    with pytest.raises(UsageError):
        compare_many(runs, "base", ["base"])


def test_holm_clears_at_a_looser_level_once_another_candidate_cleared():
    # "edge" clears on its own at 95 % but not at the Bonferroni level of 2 candidates (97.5 %):
    # checked here with compare() itself, the independent reference (the data are tuned for the
    # median's interval, so that statistic is named)
    runs = _runs({"base": 1.0, "fast": 0.7, "edge": 0.886})
    loose = compare(runs, "base", "edge", confidence=0.95, n_resamples=500, statistic="median")
    assert loose.overall == "cleared"
    strict = compare(runs, "base", "edge", confidence=0.975, n_resamples=500, statistic="median")
    assert strict.overall == "not-shown"
    many = compare_many(runs, "base", ["edge", "fast"], confidence=0.95, n_resamples=500,
                        statistic="median")
    # step 1 (97.5 %): fast clears and leaves the family; step 2 (95 %, one left): edge clears
    assert many.steps == [(pytest.approx(0.975), ["fast"]), (pytest.approx(0.95), ["edge"])]
    assert many.levels == [pytest.approx(0.95), pytest.approx(0.975)]
    assert [c.overall for c in many.comparisons] == ["cleared", "cleared"]
    assert many.overall == "cleared" and "'edge' at 95.00%" in many.summary_line()
    assert list(many.table["level"].round(4).unique()) == [0.95, 0.975]
    # without a cleared candidate nothing loosens: edge stays at the Bonferroni level, not shown
    alone = compare_many(runs.assign(wall_s=runs["wall_s"].where(runs["variant"] != "fast",
                                                                 runs["wall_s"] / 0.7)),
                         "base", ["edge", "fast"], confidence=0.95, n_resamples=500,
                         statistic="median")
    assert alone.steps == [(pytest.approx(0.975), [])]
    assert alone.comparisons[0].table["ci_low"].equals(strict.table["ci_low"])
    assert alone.overall == "not-shown"


def test_cli_compares_every_other_variant_with_the_baseline(tmp_path, capsys):
    runs = _runs({"zeta": 1.0, "b": 0.7, "a": 0.72})
    save(tmp_path / "ds", runs, meta={"variants": {"zeta": {}, "b": {}, "a": {}}})
    code = main(["compare", str(tmp_path / "ds"), "--baseline", "zeta", "--resamples", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 candidates against 'zeta'" in out and "97.50%" in out and "Holm" in out
    lines = [ln.split()[0] for ln in out.splitlines() if ln.split() and ln.split()[0] in ("a", "b")]
    assert lines[0] == "b"  # the order given, not the alphabet
    code = main(["compare", str(tmp_path / "ds"), "--baseline", "nope"])
    assert code == 2 and "--baseline nope: not a variant" in capsys.readouterr().err


def test_every_export_of_several_candidates(tmp_path, capsys):
    runs = _runs({"base": 1.0, "fast": 0.7, "<b>odd|name</b>": 1.3})
    save(tmp_path / "ds", runs, meta={"variants": {"base": {}, "fast": {}, "<b>odd|name</b>": {}}})
    paths = {fmt: tmp_path / f"out.{fmt}" for fmt in ("csv", "json", "md")}
    code = main(["compare", str(tmp_path / "ds"), "--resamples", "300", "--format", "markdown",
                 "--export-csv", str(paths["csv"]), "--export-json", str(paths["json"]),
                 "--export-markdown", str(paths["md"])])
    out = capsys.readouterr().out
    assert code == 3  # the worst answer: the odd one regressed
    # markdown: each candidate's own answer line, one table, names escaped
    assert "- **CLEARED** fast" in out and "- **REGRESSED** <b>" not in out
    assert r"\<b\>odd\|name\</b\>" in out
    assert out.rstrip("\n") == paths["md"].read_text().rstrip("\n")
    doc = json.loads(paths["json"].read_text())
    assert doc["schema"] == "perfkit.compare-many/1" and doc["multiplicity"] == "holm"
    assert [c["candidate"] for c in doc["candidates"]] == ["fast", "<b>odd|name</b>"]
    assert [c["overall"] for c in doc["candidates"]] == ["cleared", "regressed"]
    assert doc["steps"][0]["cleared"] == ["fast"] and doc["exit_code"] == 3
    table = pd.read_csv(paths["csv"])
    assert list(table.columns[:2]) == ["variant", "level"]
    assert list(table["variant"].unique()) == ["fast", "<b>odd|name</b>"]
    # an export path in a missing folder: one line, exit 2, before any bootstrap
    code = main(["compare", str(tmp_path / "ds"), "--export-csv", str(tmp_path / "no" / "x.csv")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_the_step_down_decides_as_holm_on_each_candidates_p_value():
    """Independent reference: each candidate's p-value for its cleared claim, found by bisection
    on the level (the smallest α at which compare() calls it cleared), then Holm's adjustment
    (perfkit.analysis.multiplicity.holm). The step-down must clear exactly those Holm rejects."""
    from perfkit.analysis.multiplicity import holm

    runs = _runs({"base": 1.0, "fast": 0.7, "edge": 0.893, "near": 0.905, "slow": 1.2})
    names = ["edge", "near", "fast", "slow"]

    def cleared(name: str, alpha: float) -> bool:
        return compare(runs, "base", name, confidence=1 - alpha, n_resamples=300,
                       info=[]).overall == "cleared"

    p = []
    for name in names:
        lo, hi = 1e-4, 0.5  # cleared at hi (p ≤ hi)? else p > 0.5
        if not cleared(name, hi):
            p.append(1.0)
            continue
        for _ in range(7):
            mid = (lo * hi) ** 0.5
            lo, hi = (lo, mid) if cleared(name, mid) else (mid, hi)
        p.append(hi)
    rejected = {n for n, adj in zip(names, holm(p)) if adj <= 0.05}
    many = compare_many(runs, "base", names, confidence=0.95, n_resamples=300, info=[])
    assert {c.candidate for c in many.comparisons if c.overall == "cleared"} == rejected
    assert "fast" in rejected and "slow" not in rejected
