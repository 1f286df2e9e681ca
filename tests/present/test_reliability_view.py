"""The Reliability section of the hotspot report: ranked by failure rate, data escaped."""

from __future__ import annotations

import pandas as pd

from perfkit.data.store import save
from perfkit.present.hotspots_view import hotspots


def test_hotspot_report_reliability_section_ranks_by_failure_and_escapes(tmp_path):
    n = 10
    runs = pd.DataFrame({"variant": "v", "run": range(1, n + 1), "order": range(1, n + 1),
                         "status": ["failed" if r % 5 == 0 else "ok" for r in range(1, n + 1)],
                         "wall_s": 1.0})
    stages = []
    for r in range(1, n + 1):
        stages.append({"variant": "v", "run": r, "stage": "steady", "status": "succeeded",
                       "duration_s": 0.5})
        stages.append({"variant": "v", "run": r, "stage": "<script>flaky",
                       "status": "failed" if r % 5 == 0 else "succeeded", "duration_s": 0.2})
    save(tmp_path / "ds", runs, pd.DataFrame(stages))
    report = hotspots(tmp_path / "ds")
    table = report.reliability().stages
    assert list(table["stage"]) == ["<script>flaky", "steady"]
    assert table.iloc[0]["failed"] == 2 and table.iloc[0]["runs"] == n
    html = report.reliability_section()[0].data
    assert "&lt;script&gt;flaky" in html and "<script>" not in html
    assert html.index("flaky") < html.index("steady")
    assert "20% (6%–51%)" in html
