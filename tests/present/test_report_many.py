"""``perfkit report`` on one dataset with more than two variants: every candidate against the
baseline in one report (Holm over the candidates), each with its own badge line."""

from __future__ import annotations

import json
import re

import browser  # tests/present/browser.py: headless Chromium, network blocked
import numpy as np
import pandas as pd
import pytest

from perfkit.data.store import save
from perfkit.present import report

HOSTILE = '<img src=x onerror="alert(1)">|'


@pytest.fixture(scope="module")
def many_report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(3)
    medians = {"baseline": 1.0, "fast": 0.7, HOSTILE: 1.25}  # the order given, not the alphabet
    rows, order = [], 0
    for rnd in range(12):
        for name, m in medians.items():
            order += 1
            rows.append({"variant": name, "run": rnd + 1, "round": rnd + 1, "order": order,
                         "warmup": False, "traced": False, "status": "ok", "exit_code": 0,
                         "wall_s": m * (1 + rng.normal(0, 0.02)), "max_rss_kib": 1000.0})
    ds = save(tmp / "ds", pd.DataFrame(rows),
              meta={"variants": {k: {"command": f"run {k}"} for k in medians}}).path
    return report.report(ds, out=tmp / "out", parameters={"resamples": 1000})


def test_one_report_answers_for_every_candidate(many_report):
    files = many_report
    assert files.exit_code == 3 and files.overall == "regressed"  # the worst candidate's
    doc = json.loads(files.verdict.read_text())
    assert doc["schema"] == "perfkit.compare-many/1" and doc["multiplicity"] == "holm"
    assert [c["candidate"] for c in doc["candidates"]] == ["fast", HOSTILE]
    assert [c["overall"] for c in doc["candidates"]] == ["cleared", "regressed"]
    page = files.html.read_text(encoding="utf-8")
    assert HOSTILE not in page  # escaped everywhere
    summary = files.summary.read_text()
    assert "- **CLEARED** fast" in summary and "- **REGRESSED**" in summary
    assert not re.search(r"(?<!\\)<img", summary) and "\\<img" in summary  # escaped


def test_each_candidate_has_its_badge_line_on_the_first_screen(many_report):
    boxes = browser.positions(many_report.html, [".perfkit-badge", ".perfkit-candidate",
                                                 ".perfkit-line.perfkit-target"])
    # the family's badge and one per candidate; each candidate's line and its target line
    assert len(boxes[".perfkit-badge"]) == 3 and len(boxes[".perfkit-candidate"]) == 2
    assert len(boxes[".perfkit-line.perfkit-target"]) == 2
    for sel in (".perfkit-badge", ".perfkit-candidate", ".perfkit-line.perfkit-target"):
        for left, top, width, height in boxes[sel]:
            assert top + height <= 900 and width > 0, (sel, top, height)
    assert set(boxes["__rendered"]) == {"vega"}  # every chart drawn, no network
    png = browser.screenshot(many_report.html, browser.artifacts_dir() / "compare-many-report.png")
    assert png.stat().st_size > 50_000
