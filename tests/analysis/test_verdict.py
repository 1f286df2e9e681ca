"""The verdict: DESIGN's rules at each boundary, compare() end to end, and the CLI."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import perfkit
from perfkit.analysis.verdict import (
    Comparison,
    compare,
    guardrail_verdict,
    success_verdict,
    target_verdict,
)
from perfkit.cli import main
from perfkit.data.schema import runs_frame
from perfkit.errors import PerfkitError
from perfkit.present.export import markdown as markdown_export
from perfkit.present.export import text as text_export

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

RESAMPLES = 2000  # enough for the verdicts below; the default 10,000 is checked in one test


# --- the rules, literally --------------------------------------------------------------------


@pytest.mark.parametrize(
    "L, U, expected",
    [
        (0.20, 0.30, "cleared-stretch"),  # L = high
        (0.25, 0.25, "cleared-stretch"),
        (0.10, 0.30, "cleared"),  # L = low
        (0.1999, 0.25, "cleared"),
        (0.05, 0.10, "improved-unresolved"),  # U = low still straddles
        (0.01, 0.50, "improved-unresolved"),
        (0.05, 0.0999, "improved-below-target"),
        (1e-9, 0.02, "improved-below-target"),
        (0.0, 0.05, "no-change"),  # L = 0
        (-0.05, 0.0, "no-change"),  # U = 0
        (-0.05, 0.15, "no-change"),
        (0.0, 0.0, "no-change"),
        (-0.10, -1e-9, "regressed"),
        (-math.inf, -math.inf, "regressed"),
        (math.nan, math.nan, "undefined"),
    ],
)
def test_target_rules(L, U, expected):
    assert target_verdict(L, U, 0.10, 0.20) == expected


@pytest.mark.parametrize(
    "L, U, expected",
    [
        # change interval [L, U]; the increase interval is [-U, -L]; margin 5 %
        (-0.04, 0.10, "held"),  # increase up to 4 %
        (-0.05, 0.10, "unresolved"),  # increase up to exactly 5 %: not entirely below
        (-0.10, -0.06, "broken"),  # increase 6 %..10 %
        (-0.10, -0.05, "unresolved"),  # lower end exactly at the margin
        (-0.02, -0.02, "held"),  # exact
        (math.nan, math.nan, "undefined"),
    ],
)
def test_guardrail_rules(L, U, expected):
    assert guardrail_verdict(L, U, 0.05) == expected


def test_success_rules():
    assert success_verdict(0.1, 0.0, 0.0) == "held"
    assert success_verdict(0.1, 0.1, 0.05) == "held"
    assert success_verdict(0.05, 0.0, 0.03) == "unresolved"
    assert success_verdict(-0.01, 0.0, 0.4) == "broken"


# --- synthetic runs tables -------------------------------------------------------------------


def lognormal(rng, n, median, cv):
    return median * rng.lognormal(0.0, math.sqrt(math.log1p(cv * cv)), n)


def table(base: dict, cand: dict, *, statuses=None, names=("baseline", "candidate")):
    """Interleaved runs table; base/cand map column → values (same length per variant)."""
    rows = []
    n = len(next(iter(base.values())))
    order = 0
    for i in range(n):
        for name, cols in zip(names, (base, cand)):
            order += 1
            rec = {"variant": name, "run": i + 1, "order": order, "status": "ok"}
            rec.update({k: v[i] for k, v in cols.items()})
            rows.append(rec)
    df = runs_frame(rows)
    if statuses:
        for (variant, idx), status in statuses.items():
            hit = df.index[df["variant"] == variant][idx]
            df.loc[hit, "status"] = status
    return df


def make(seed=0, n=30, change=0.25, cv=0.05, rss_change=0.0, **kw):
    r = np.random.default_rng(seed)
    base = {"wall_s": lognormal(r, n, 1.0, cv),
            "max_rss_kib": np.round(lognormal(r, n, 100_000, 0.01)).astype(int)}
    cand = {"wall_s": lognormal(r, n, 1.0 - change, cv),
            "max_rss_kib": np.round(lognormal(r, n, 100_000 * (1 + rss_change), 0.01)).astype(int)}
    return table(base, cand, **kw)


def run(runs, **kw):
    kw.setdefault("n_resamples", RESAMPLES)
    return compare(runs, **kw)


# --- compare, end to end ---------------------------------------------------------------------


def test_clear_improvement_is_cleared():
    res = compare(make(change=0.25))  # default 10,000 resamples, statistic auto: hl, Moses
    row = res.row("wall_s")
    assert res.settings["statistic"] == "auto"
    assert row["verdict"] == "cleared-stretch" and row["method"] == "moses"
    res = compare(make(change=0.25), statistic="median")
    row = res.row("wall_s")
    assert row["verdict"] == "cleared-stretch" and row["method"] == "bca"
    assert row["ci_low"] >= 0.20 and row["p_value"] < 1e-6
    assert res.row("max_rss_kib")["verdict"] == "held"
    assert res.row("success_rate")["verdict"] == "held"
    assert res.overall == "cleared" and res.exit_code == 0
    assert list(res.table.columns[:12]) == [
        "metric", "role", "n_baseline", "n_candidate", "baseline", "candidate", "change",
        "ci_low", "ci_high", "verdict", "method", "p_value"]
    assert res.warnings == []


def test_regression_and_broken_guardrail():
    res = run(make(change=-0.10))
    assert res.row("wall_s")["verdict"] == "regressed"
    assert res.overall == "regressed" and res.exit_code == 3
    res = run(make(change=0.25, rss_change=0.20))
    assert res.row("max_rss_kib")["verdict"] == "broken"
    assert res.overall == "regressed"
    assert any("max_rss_kib: guardrail broken" in r for r in res.reasons)


def test_aa_is_no_change_and_not_shown():
    res = run(make(change=0.0, seed=2))
    assert res.row("wall_s")["verdict"] == "no-change"
    assert res.overall == "not-shown" and res.exit_code == 1


def test_unresolved_gives_advice_in_runs_per_variant():
    res = run(make(change=0.12, cv=0.15, n=10, seed=1))
    row = res.row("wall_s")
    assert row["verdict"] in ("improved-unresolved", "no-change")
    assert res.overall == "not-shown"
    assert pd.notna(row["runs_needed"]) and row["runs_needed"] > 10
    assert any(f"about {row['runs_needed']} runs per variant" in a for a in res.advice)
    # the advice is right in kind: with that many runs, the same truth settles
    n = int(row["runs_needed"])
    settled = run(make(change=0.12, cv=0.15, n=n, seed=1)).row("wall_s")["verdict"]
    assert settled in ("cleared", "cleared-stretch", "improved-below-target", "improved-unresolved")


def test_unresolved_guardrail_gives_advice():
    # memory up ~5 % with 1 % noise: the interval straddles the 5 % margin
    res = run(make(change=0.25, rss_change=0.05, n=8, seed=5))
    row = res.row("max_rss_kib")
    assert row["verdict"] == "unresolved"
    assert res.overall == "not-shown"
    # increase ~4.5 % ± 1.6 %: 0.5 % from the margin; (1.6/0.5)^2 x 8 ≈ 80 runs only narrow the
    # interval to the distance (a coin flip); an 80 % predictive chance to settle needs several
    # times more (perfkit.analysis.power)
    assert 80 < row["runs_needed"] < 800
    assert any(a.startswith(f"max_rss_kib: about {row['runs_needed']} runs") for a in res.advice)


def test_undefined_rows_are_explained():
    runs = make()
    runs["sys_s"] = np.where(np.arange(len(runs)) % 3 == 0, 0.001, 0.0)
    res = run(runs)
    assert res.row("sys_s")["method"] == "undefined"
    assert "sys_s: baseline median is 0" in "\n".join(text_export.lines(res))


def test_unbounded_interval_advice():
    runs = make(n=12)
    base = runs["variant"] == "baseline"
    # baseline median is 0 in many resamples: the increase interval reaches +inf
    runs["io_syscw"] = 1
    runs.loc[base, "io_syscw"] = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    res = run(runs, guardrails={"io_syscw": 0.05})
    row = res.row("io_syscw")
    assert row["verdict"] == "unresolved" and row["ci_low"] == -math.inf
    assert any("io_syscw: the interval is unbounded" in a for a in res.advice)
    json.loads(res.to_json())


def test_target_band_changes_the_verdict():
    runs = make(change=0.15, seed=3)
    assert run(runs, target=(0.10, 0.20)).row("wall_s")["verdict"] == "cleared"
    assert run(runs, target=(0.05, 0.10)).row("wall_s")["verdict"] == "cleared-stretch"
    assert run(runs, target=(0.30, 0.40)).row("wall_s")["verdict"] == "improved-below-target"


def test_success_rate_guardrail_and_failed_runs_left_out():
    statuses = {("candidate", i): "failed" for i in range(12)}
    runs = make(change=0.25, statuses=statuses)
    # a failed run that would drag the median if it were counted
    runs.loc[(runs["variant"] == "candidate") & (runs["status"] == "failed"), "wall_s"] = 50.0
    res = run(runs)
    s = res.row("success_rate")
    assert (s["baseline"], s["candidate"]) == (1.0, pytest.approx(18 / 30))
    assert s["verdict"] == "broken" and s["ci_high"] < 0 and s["method"] == "newcombe"
    assert res.row("wall_s")["n_candidate"] == 18
    assert res.row("wall_s")["verdict"] == "cleared-stretch"
    assert res.overall == "regressed"
    # one timeout more than the baseline: not conclusive -> unresolved, not shown
    res = run(make(change=0.25, statuses={("candidate", 0): "timeout"}))
    assert res.row("success_rate")["verdict"] == "unresolved"
    assert "1 timeout" in res.row("success_rate")["note"]
    assert res.overall == "not-shown"


def test_exact_counts_from_traced_rows_and_timing_from_untraced():
    runs = make(change=0.25)
    traced = runs_frame([
        {"variant": v, "run": i + 1, "order": 100 + k, "traced": True, "status": "ok",
         "wall_s": 99.0, "manifest_writes": w, "fs_fsyncs": 2}
        for k, (v, w, i) in enumerate([(v, w, i) for i in range(3)
                                       for v, w in (("baseline", 12), ("candidate", 4))])
    ])
    runs = pd.concat([runs, traced], ignore_index=True)
    res = run(runs, guardrails={"fs_fsyncs": 0.0})
    mw = res.row("manifest_writes")
    assert mw["role"] == "info" and mw["method"] == "exact"
    assert mw["change"] == mw["ci_low"] == mw["ci_high"] == pytest.approx(2 / 3)
    assert (mw["n_baseline"], mw["n_candidate"]) == (3, 3)
    fs = res.row("fs_fsyncs")
    assert fs["method"] == "exact" and fs["verdict"] == "unresolved"  # increase 0 = margin 0
    wall = res.row("wall_s")
    assert wall["n_baseline"] == 30 and wall["baseline"] < 2  # traced timings left out
    as_target = run(runs, targets=["manifest_writes"])
    assert as_target.row("manifest_writes")["verdict"] == "cleared-stretch"
    # 3 traced runs of a count that never varies: no "too few runs" (or any) warning about it
    assert not [w for w in as_target.warnings if w.metric == "manifest_writes"]
    # ...but a count that varies between traced runs is judged like any other metric
    varying = runs.copy()
    varying.loc[varying["traced"] & (varying["variant"] == "candidate"), "manifest_writes"] = [4, 5, 6]
    res = run(varying, targets=["manifest_writes"])
    assert res.row("manifest_writes")["method"] != "exact"
    assert any(w.metric == "manifest_writes" and w.kind == "too-few-runs" for w in res.warnings)


def test_near_constant_counts_do_not_crash():
    runs = make()
    runs["nvcsw"] = pd.array([5] * (len(runs) - 1) + [6], dtype="Int64")
    row = run(runs, statistic="median").row("nvcsw")
    assert row["method"] == "percentile" and "BCa undefined" in row["note"]


def test_every_metric_column_is_an_info_row():
    runs = make()
    for col in ("io_wchar", "minflt", "user_s"):
        runs[col] = np.arange(len(runs)) % 7 + 10
    res = run(runs)
    info = set(res.table.loc[res.table["role"] == "info", "metric"])
    assert {"io_wchar", "minflt", "user_s"} <= info
    # columns with no values at all (not recorded) are left out rather than shown empty
    assert "blk_in" not in info
    assert list(res.table["role"][:3]) == ["target", "guardrail", "guardrail"]


def test_two_tables_and_datasets_give_the_same_answer(tmp_path):
    runs = make(change=0.25)
    one = run(runs)
    b, c = runs[runs["variant"] == "baseline"], runs[runs["variant"] == "candidate"]
    two = run(b, candidate_runs=c)
    # two collections are not interleaved: the same estimates, intervals widened for
    # autocorrelation in run order (never narrower), the method says so
    pd.testing.assert_series_equal(one.table["change"], two.table["change"])
    timed = two.table["method"].str.endswith("-ar1")
    assert timed.any() and two.settings["design"] == "autocorrelated"
    assert (two.table.loc[timed, "ci_low"] <= one.table.loc[timed, "ci_low"]).all()
    assert (two.table.loc[timed, "ci_high"] >= one.table.loc[timed, "ci_high"]).all()
    ds_b = perfkit.save(tmp_path / "b", b, meta={"host": {"hostname": "ci-1", "kernel": "6.1"}})
    ds_c = perfkit.save(tmp_path / "c", c, meta={"host": {"hostname": "ci-2", "kernel": "6.1"}})
    three = run(ds_b, candidate_runs=ds_c)
    pd.testing.assert_frame_equal(two.table, three.table)
    hosts = [w for w in three.warnings if w.kind == "different-hosts"]
    assert len(hosts) == 1 and "ci-1 vs ci-2" in hosts[0].message


def test_warnings_surface_with_hints():
    runs = make(change=0.25, n=30)
    drift = runs["variant"] == "candidate"
    runs.loc[drift, "wall_s"] *= np.linspace(1.0, 1.3, drift.sum())
    res = run(runs)
    kinds = {(w.kind, w.variant) for w in res.warnings}
    assert ("drift", "candidate") in kinds
    assert any("--prepare" in str(w) for w in res.warnings)
    few = run(make(n=6))
    assert {w.kind for w in few.warnings} >= {"too-few-runs"}


def test_seeded_reproducible():
    runs = make(change=0.15, cv=0.10, seed=4)
    first = run(runs, seed=3, statistic="median").table
    pd.testing.assert_frame_equal(first, run(runs, seed=3, statistic="median").table)
    # and the seed is used: another seed moves the bootstrap interval (not the point estimate)
    other = run(runs, seed=4, statistic="median").table
    row = first["metric"] == "wall_s"
    assert first.loc[row, "change"].item() == other.loc[row, "change"].item()
    assert first.loc[row, "ci_low"].item() != other.loc[row, "ci_low"].item()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"baseline": "nope"}, "`baseline`: unknown variant 'nope'"),
        ({"candidate": "nope"}, "`candidate`: unknown variant"),
        ({"candidate": "baseline"}, "`candidate`: same variant"),
        ({"targets": ["nope"]}, "`targets`: 'nope' is not a column"),
        ({"guardrails": {"nope": 0.05}}, "`guardrails`: 'nope' is not a column"),
        ({"guardrails": {"max_rss_kib": -1}}, "`guardrails`: margin"),
        ({"guardrails": {"wall_s": 0.05}}, "`guardrails`: .* also named in `targets`"),
        ({"target": (0.2, 0.1)}, "`target`"),
        ({"target": (-0.1, 0.2)}, "`target`"),
        ({"target": (0.1, 1.0)}, "`target`"),
        ({"target": "ten"}, "`target`"),
        ({"confidence": 95}, "`confidence`"),
        ({"statistic": "min"}, "`statistic`"),
        ({"n_resamples": 5}, "`n_resamples`"),
    ],
)
def test_errors_name_the_argument(kwargs, match):
    with pytest.raises(PerfkitError, match=match):
        run(make(n=5), **kwargs)


def test_empty_variant_is_an_error():
    runs = make(n=5)
    runs.loc[runs["variant"] == "candidate", "warmup"] = True
    with pytest.raises(PerfkitError, match="`candidate`: variant 'candidate' has no measured runs"):
        run(runs)


def test_formats():
    res = run(make(change=0.12, cv=0.15, n=10, seed=1))
    text = "\n".join(text_export.lines(res))
    assert "NOT-SHOWN" in text and "wall_s" in text and "advice:" in text
    md = "\n".join(markdown_export.lines(res))
    assert md.startswith("### perfkit") and "| wall\\_s" in md and "**not-shown**" in md
    assert len("\n".join(markdown_export.lines(res, limit=1500))) <= 1500
    doc = json.loads(res.to_json())
    assert doc["schema"] == "perfkit.compare/1" and doc["overall"] == "not-shown"
    assert doc["exit_code"] == 1 and doc["metrics"][0]["metric"] == "wall_s"
    assert isinstance(res, Comparison) and str(res).splitlines()[0] == text.splitlines()[0]
    assert all(f"  - {reason}" in str(res) for reason in res.reasons)
    from perfkit.present import export

    assert export.render(res, "text") == text
    # the JSON export is to_json() plus each guardrail's increase (the sign its row and reason use)
    exported = json.loads(export.render(res, "json"))
    for mine, theirs in zip(exported["metrics"], doc["metrics"]):
        assert {k: v for k, v in mine.items() if not k.startswith("increase")} == theirs
        if mine["role"] == "guardrail" and mine["metric"] != "success_rate":
            assert mine["increase"] == -theirs["change"]
    table = pd.read_csv(io.StringIO(export.render(res, "csv")))
    assert list(table["metric"]) == list(res.table["metric"])
    assert table["change"].iloc[0] == pytest.approx(res.table["change"].iloc[0], rel=1e-9)
    with pytest.raises(PerfkitError, match="`format` must be one of"):
        export.render(res, "yaml")
    # non-finite numbers never reach the JSON
    runs = make()
    runs["fs_fsyncs"] = pd.array([0, 2] * (len(runs) // 2), dtype="Int64")
    json.loads(run(runs, info=["fs_fsyncs"]).to_json())


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("datasets")
    good = make(change=0.25)
    perfkit.save(tmp_path / "good", good, meta={"host": {"hostname": "a"}})
    perfkit.save(tmp_path / "bad", make(change=-0.2), meta={})
    perfkit.save(tmp_path / "aa", make(change=0.0, seed=2), meta={})
    b = good[good["variant"] == "baseline"].assign(variant="main")
    c = good[good["variant"] == "candidate"].assign(variant="fix")
    perfkit.save(tmp_path / "main", b, meta={})
    perfkit.save(tmp_path / "fix", c, meta={})
    return tmp_path


def cli(capsys, *argv):
    code = main(["compare", *map(str, argv), "--resamples", "1000"])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_codes(datasets, capsys):
    code, out, _ = cli(capsys, datasets / "good")
    assert code == 0 and "CLEARED" in out
    assert cli(capsys, datasets / "aa")[0] == 1
    assert cli(capsys, datasets / "bad")[0] == 3


def test_cli_two_datasets_and_formats(datasets, capsys):
    code, out, _ = cli(capsys, datasets / "main", datasets / "fix", "--format", "json",
                       "--target", "5%:10%", "--guardrail", "max_rss_kib=2%", "--metric", "wall_s")
    doc = json.loads(out)
    assert code == 0 and doc["baseline"] == "main" and doc["candidate"] == "fix"
    assert doc["settings"]["target"] == [0.05, 0.10]
    assert doc["settings"]["guardrails"] == {"max_rss_kib": 0.02}
    code, out, _ = cli(capsys, datasets / "good", "--format", "markdown")
    assert out.startswith("### perfkit") and len(out.encode()) < 64 * 1024


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--target", "30%:20%"], "`target`"),
        (["--target", "lots"], "--target"),
        (["--guardrail", "max_rss_kib"], "--guardrail"),
        (["--baseline", "x"], "`baseline`: unknown variant 'x'"),
        (["--metric", "nope"], "`targets`"),
    ],
)
def test_cli_usage_errors_are_one_line(datasets, capsys, argv, match):
    code, out, err = cli(capsys, datasets / "good", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(match, err)


def test_cli_missing_dataset(tmp_path, capsys):
    code, _, err = cli(capsys, tmp_path / "none")
    assert code == 2 and "no such dataset" in err


def test_cli_on_hyperfine_exports(capsys):
    # real exports from hyperfine (tests/fixtures/importers): no memory column, one all-failing variant

    data = FIXTURES / "importers"
    code, out, _ = cli(capsys, data / "hyperfine-pipeline.json")
    assert code == 0 and "guardrail max_rss_kib has no measured values" in out
    code, out, _ = cli(capsys, data / "hyperfine-failing.json", "--baseline", "true",
                       "--candidate", "false")
    assert code == 3 and "success_rate: broken" in out
