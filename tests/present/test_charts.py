"""Tests for perfkit.present.charts: chart content, determinism, and the offline renderer's escaping."""

from __future__ import annotations

import base64
import json
import re

import altair as alt
import numpy as np
import pandas as pd
import pytest

from perfkit.data.schema import runs_frame
from perfkit.errors import UsageError
from perfkit.present import charts


def _runs(n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    recs = []
    for order in range(1, 2 * n + 1):
        variant = "baseline" if order % 2 else "candidate"
        recs.append(
            dict(variant=variant, run=(order + 1) // 2, order=order, warmup=False, traced=False,
                 started_at="2026-01-01T00:00:00Z", status="ok", exit_code=0,
                 wall_s=(1.0 if variant == "baseline" else 0.8) + rng.normal(0, 0.02),
                 max_rss_kib=1000 + order, io_wchar=4096 * order)
        )
    # a warm-up and a traced run must never reach a comparison chart
    recs.append(dict(recs[0], run=0, order=0, warmup=True, wall_s=99.0))
    recs.append(dict(recs[0], run=1, order=2 * n + 1, traced=True, wall_s=50.0))
    return runs_frame(recs)


def _layer_data(chart: alt.TopLevelMixin) -> list[list[dict]]:
    spec = chart.to_dict()
    return [spec["datasets"][name] for name in spec["datasets"]]


def test_distributions_has_every_comparable_run_and_the_medians():
    runs = _runs()
    chart = charts.distributions(runs, "wall_s")
    spec = chart.to_dict()
    points, medians = (spec["datasets"][layer["data"]["name"]] for layer in spec["layer"])
    assert len(points) == 12  # warm-up and traced runs left out
    assert max(p["value"] for p in points) < 2
    got = {m["variant"]: m["value"] for m in medians}
    comparable = runs[~runs.warmup & ~runs.traced]
    expected = comparable.groupby("variant")["wall_s"].median()
    assert got == pytest.approx(expected.to_dict())


def test_distributions_jitter_is_seeded():
    runs = _runs()
    a = charts.distributions(runs, "wall_s", seed=1).to_dict()
    b = charts.distributions(runs, "wall_s", seed=1).to_dict()
    c = charts.distributions(runs, "wall_s", seed=2).to_dict()
    assert a == b
    assert a != c


def test_distributions_names_a_missing_metric():
    with pytest.raises(UsageError, match="'nope'"):
        charts.distributions(_runs(), "nope")


def test_bootstrap_histogram_bins_and_keeps_the_total():
    samples = np.random.default_rng(0).normal(0.15, 0.02, 10_000)
    hist = charts.bootstrap_histogram(samples, bins=40)
    assert len(hist) == 40
    assert hist["count"].sum() == 10_000
    assert hist["start"].min() == pytest.approx(samples.min())
    constant = charts.bootstrap_histogram(np.full(100, 0.1))
    assert constant["count"].sum() == 100 and (constant["end"] > constant["start"]).all()


def test_bootstrap_change_marks_interval_estimate_and_target():
    chart = charts.bootstrap_change(
        np.linspace(0.05, 0.25, 500), estimate=0.15, ci_low=0.11, ci_high=0.19,
        target=(0.10, 0.20), metric="wall_s", confidence=0.95,
    )
    spec = chart.to_dict()
    data = {layer["data"]["name"]: spec["datasets"][layer["data"]["name"]] for layer in spec["layer"]}
    flat = [row for rows in data.values() for row in rows]
    assert {"low": 0.1, "high": 0.2, "what": "target band"} in flat
    marks = {row["what"]: row["x"] for row in flat if "x" in row}
    assert marks == {"estimate": 0.15, "CI low": 0.11, "CI high": 0.19, "no change": 0.0}
    assert "95%" in spec["title"]


def test_execution_order_and_per_run_and_growth_build():
    runs = _runs()
    for chart in (
        charts.execution_order(runs, "wall_s"),
        charts.per_run(runs, ["io_wchar", "max_rss_kib"]),
        charts.growth(runs.assign(history=runs["order"]), "wall_s"),
    ):
        assert isinstance(chart.to_dict(), dict)
    with pytest.raises(UsageError, match="has values"):
        charts.per_run(runs, ["fs_fsyncs"])


def test_change_intervals_and_stage_shares_build():
    table = pd.DataFrame({"stage": ["a", "b"], "change": [0.1, -0.02], "ci_low": [0.05, -0.05],
                          "ci_high": [0.15, 0.01]})
    spec = charts.change_intervals(table, label="stage", target=(0.1, 0.2)).to_dict()
    assert len(spec["layer"]) == 4
    shares = pd.DataFrame({"stage": ["s1", "s2"], "title": ["<b>one</b>", "two"], "share": [0.7, 0.3],
                           "share_p25": [0.6, 0.2], "share_p75": [0.8, 0.4], "median_s": [1.0, 0.4]})
    spec = charts.stage_shares(shares).to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"] == ["<b>one</b>", "two"]


def test_chart_html_is_deterministic_offline_and_cannot_break_out_of_its_script():
    hostile = "</script><script>alert(1)</script>"
    df = pd.DataFrame({"x": [1.0, 2.0], "label": [hostile, "ok & fine"]})
    chart = alt.Chart(df).mark_point().encode(x="x:Q", y="label:N").properties(title=hostile)
    first = charts.chart_html(chart.to_dict())
    assert first == charts.chart_html(chart.to_dict())
    assert "http://" not in first.replace('xmlns="http://www.w3.org', "")  # no URL outside the SVG
    assert "https://" not in first
    # the only script end tags are the two of the fragment itself
    assert first.count("</script>") == 2
    assert "alert(1)</script>" not in first
    spec_text = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', first, re.S).group(1)
    spec = json.loads(spec_text)
    assert hostile in json.dumps(spec["datasets"], ensure_ascii=False)
    assert "$schema" not in spec
    svg = base64.b64decode(re.search(r'base64,([^"]+)"', first).group(1)).decode()
    assert svg.startswith("<svg") and "alert(1)</script>" not in svg  # the SVG escapes its text


def test_renderer_gives_stable_ids_and_a_plain_text_fallback():
    charts.use_offline_renderer()
    assert alt.renderers.active == charts.RENDERER
    chart = charts.execution_order(_runs(), "wall_s")
    bundle = alt.renderers.get()(chart.to_dict())
    assert set(bundle) == {"text/html", "text/plain"}
    ids = re.findall(r'id="(perfkit-chart-\d+-[0-9a-f]{12})"', bundle["text/html"])
    assert ids, "a deterministic element id"
    again = alt.renderers.get()(chart.to_dict())
    assert re.sub(r"perfkit-chart-\d+-", "", again["text/html"]) == re.sub(
        r"perfkit-chart-\d+-", "", bundle["text/html"]
    )
