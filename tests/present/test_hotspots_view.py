"""The hotspot report for any command: per-variant breakdown, timed and traced runs apart, no
all-zero panel, one colour per variant, units on figures, top files in the summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from perfkit import fmt
from perfkit.analysis.hotspots import variant_breakdown
from perfkit.data.schema import FILES_COLUMNS, FILES_PARQUET
from perfkit.data.store import save
from perfkit.present.hotspots_view import _program_name, hotspots


def _dataset(tmp_path):
    rng = np.random.default_rng(3)
    rows, order = [], 0
    for run in range(1, 7):
        for variant, wall in (("slow", 0.2), ("fast", 0.1)):
            order += 1
            rows.append({"variant": variant, "run": run, "order": order, "status": "ok",
                         "wall_s": wall + rng.normal(0, 0.001), "user_s": wall / 2,
                         "sys_s": wall / 10, "max_rss_kib": 2048, "io_wchar": 4096 * run,
                         "io_syscw": 3, "io_read_bytes": 0, "size_hist_bytes": 100 * order})
    for run in (1, 2):
        for variant in ("slow", "fast"):
            order += 1
            rows.append({"variant": variant, "run": run, "order": order, "status": "ok",
                         "traced": True, "wall_s": 9.0, "io_wchar": 99,
                         "fs_opens_write": 5 if variant == "slow" else 1, "fs_fsyncs": 0,
                         "manifest_writes": 5 if variant == "slow" else 1})
    save(tmp_path / "ds", pd.DataFrame(rows), meta={"variants": {"slow": {}, "fast": {}}})
    files = pd.DataFrame([{"variant": v, "run": r, "pattern": ".runs/t/cli/<run>/manifest.json",
                           "path": f".runs/t/cli/{r}/manifest.json", "process": "node <b>cli",
                           "writes": n, "opens_write": 0, "renames_onto": n, "write_calls": n,
                           "bytes": 700 * n, "truncates": 0, "fsyncs": 0}
                          for v, n in (("slow", 5), ("fast", 1)) for r in (1, 2)])
    files.astype({c: t for c, t in FILES_COLUMNS.items() if t == "int64"}).to_parquet(
        tmp_path / "ds" / FILES_PARQUET)
    return hotspots(tmp_path / "ds")


def test_breakdown_medians_per_variant_leave_out_zero_columns_and_traced_runs(tmp_path):
    hot = _dataset(tmp_path)
    b = variant_breakdown(hot.runs).set_index("variant")
    assert list(b.index) == ["slow", "fast"] and (b["runs"] == 6).all()
    assert b.loc["fast", "wall_s"] == pytest.approx(0.1, abs=0.003)
    assert b.loc["slow", "cpu_s"] == pytest.approx(0.12)
    assert b.loc["slow", "off_cpu_s"] == pytest.approx(0.08, abs=0.003)
    assert b.loc["slow", "io_wchar"] == 4096 * 3.5  # the traced runs' 99 is left out
    assert "io_read_bytes" not in b.columns  # zero in every run
    html = "".join(item.data for item in hot.breakdown_section() if isinstance(getattr(item, "data", None), str))
    assert "120 ms" in html and "14 KiB" in html


def test_io_panels_timed_and_traced_apart_no_zero_panel_units_and_colours(tmp_path):
    hot = _dataset(tmp_path)
    assert "io_read_bytes" not in hot.io_metrics() and "fs_fsyncs" not in hot.io_metrics()
    timed, traced = hot.io_section()
    t, c = timed.to_dict(), traced.to_dict()
    values = [json.dumps(d) for d in (t, c)]
    assert "io_wchar (bytes)" in values[0] and "manifest_writes" not in values[0]
    assert "manifest_writes (count)" in values[1] and "io_wchar" not in values[1]
    # one colour per variant, in the same order, in every chart
    variants = hot.variants()
    assert variants == ["slow", "fast"]
    assert t["spec"]["encoding"]["color"]["scale"]["domain"] == variants
    assert c["spec"]["encoding"]["color"]["scale"]["domain"] == variants
    for chart in hot.growth_charts():
        spec = json.dumps(chart.to_dict())
        assert '"domain": ["slow", "fast"]' in spec
    growth_titles = [ch.to_dict()["layer"][0]["encoding"]["y"]["title"] for ch in hot.growth_charts()]
    assert "wall_s (s)" in growth_titles and "size_hist_bytes (bytes)" in growth_titles


def test_slopes_carry_units_and_the_summary_lists_top_files(tmp_path):
    hot = _dataset(tmp_path)
    html = hot.slopes_table().data
    assert "e-0" not in html  # no bare scientific notation: every value has its unit
    per_run = hot.slopes().set_index(["variant", "metric"])["per_run"]
    assert fmt.of_metric("size_hist_bytes", per_run[("slow", "size_hist_bytes")]) in html
    md = hot.summary_markdown()
    assert "files written most per traced run" in md
    assert ".runs/t/cli/&lt;run&gt;/manifest.json" in md or r".runs/t/cli/\<run\>/manifest.json" in md
    files = "".join(item.data for item in hot.files_section())
    assert "node &lt;b&gt;cli" in files and "<b>cli" not in files
    assert "3.42 KiB" in files  # 5 writes × 700 B per run
    # a program's path is shown as its name: the report reads the same on every machine
    assert _program_name("/root/.venv/bin/node cli.js start") == "node cli.js start"
    assert _program_name("sh -c 'x'") == "sh -c 'x'"


def test_of_metric_units():
    assert fmt.of_metric("wall_s", 5.309e-05) == "53.1 µs"
    assert fmt.of_metric("stage build", 1.5) == "1.5 s"
    assert fmt.of_metric("max_rss_kib", 2048) == "2 MiB"
    assert fmt.of_metric("io_wchar", 4096) == "4 KiB"
    assert fmt.of_metric("manifest_writes", 18) == "18"
    assert fmt.of_metric("io_syscw", float("nan")) == fmt.MISSING
