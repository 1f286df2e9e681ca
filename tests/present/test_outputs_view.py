"""The outputs sections: escaped everywhere, and wired into compare, reliability and ingest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from perfkit.analysis.outputs import output_stability
from perfkit.cli import main
from perfkit.data.outputs import describe_bytes
from perfkit.data.schema import outputs_frame
from perfkit.data.sources import load, read_outputs
from perfkit.data.store import save
from perfkit.present.outputs_view import (
    OutputsComparison,
    sizes_html,
    stability_html,
    stability_markdown,
    with_outputs,
)
from perfkit.analysis.outputs import outputs_diff, size_trends
from perfkit.present.reliability_view import reliability

FIXTURE = Path(__file__).parent.parent / "fixtures" / "orchestrator" / "workspace"
HOSTILE = "<script>alert(1)</script>|*x*"


def _rows(variant, docs, pattern):
    return [{"variant": variant, "run": i, "source": pattern, "pattern": pattern, "path": pattern,
             **describe_bytes(json.dumps(d).encode(), pattern + ".json")}
            for i, d in enumerate(docs, 1)]


def test_hostile_patterns_and_fields_are_escaped_in_html_and_markdown():
    rows = outputs_frame(_rows("v", [{HOSTILE: 1}, {HOSTILE: 2}, {HOSTILE: 3}], HOSTILE))
    st = output_stability(rows)
    for html in (stability_html(st).data, sizes_html(size_trends(rows)).data):
        assert "<script>" not in html and "&lt;script&gt;" in html
    md = stability_markdown(st)
    assert "<script>" not in md and "\\<script\\>" in md
    cmp = OutputsComparison(outputs_diff(rows, outputs_frame(_rows("c", [{}], HOSTILE))))
    assert "<script>" not in cmp.html().data and "<script>" not in cmp.markdown()
    assert HOSTILE in cmp.text()


def _dataset(folder, variant, docs):
    runs = pd.DataFrame([{"variant": variant, "run": i, "order": i, "status": "ok",
                          "wall_s": 1.0 + 0.01 * i} for i in range(1, len(docs) + 1)])
    return save(folder, runs, tables={"outputs": outputs_frame(_rows(variant, docs, "m.json"))})


def test_compare_prints_the_outputs_section_in_every_format(tmp_path, capsys):
    _dataset(tmp_path / "b", "baseline", [{"a": 1, "keep": True}] * 5)
    _dataset(tmp_path / "c", "candidate", [{"a": 1}] * 5)
    main(["compare", str(tmp_path / "b"), str(tmp_path / "c"), "--resamples", "200",
          "--format", "json", "--export-markdown", str(tmp_path / "r.md")])
    doc = json.loads(capsys.readouterr().out)
    assert doc["outputs"]["same"] is False
    assert doc["outputs"]["patterns"][0]["removed"] == ["keep"]
    assert "**Outputs: differ" in (tmp_path / "r.md").read_text()
    cmp = OutputsComparison(outputs_diff(read_outputs(load(tmp_path / "b")),
                                         read_outputs(load(tmp_path / "c"))))
    assert with_outputs("x", "csv", cmp) == "x"
    text = with_outputs("table", "text", cmp)
    assert "Outputs: differ (1 of 1 patterns)" in text and "key paths removed: keep" in text


def test_ingest_and_reliability_record_the_run_manifests_without_a_flag(tmp_path, capsys):
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    assert main(["ingest", str(ws), "--out", str(tmp_path / "ds")]) == 0
    table = read_outputs(load(tmp_path / "ds"))
    assert len(table) and set(table["kind"]) == {"json"}
    assert table["pattern"].str.endswith("/<run>/manifest.json").all()
    report = reliability(ws)
    assert report.outputs is not None and len(report.outputs)
    assert "Outputs:" in report.text() and json.loads(report.json())["outputs"]


def test_the_orchestrators_history_files_read_as_accumulating_not_flaky():
    # perfkit's own collection of the orchestrator (data/orchestrator-outputs): runs.json gains a
    # run each time, drift.json counts its samples; the manifest's object ids vary at random
    data = Path(__file__).resolve().parents[2] / "data" / "orchestrator-outputs"
    from perfkit.present.outputs_view import stability_text

    text = stability_text(output_stability(read_outputs(load(data))))
    lines = {line.split()[1]: line for line in text.splitlines()[3:]}
    assert "accumulates (run 1 vs run 2: runs)" in lines["out/nightly/runs.json"]
    assert "accumulates (run 1 vs run 2: total_samples)" in lines["out/nightly/control-plane/drift.json"]
    # the manifest's counter grows too; what flakes is the random id beside it
    assert "FLAKY (run 1 vs run 2: memory.observability.selected_memory.object_id)" \
        in lines[".runs/nightly/cli/<run>/manifest.json"]
    assert "2 flaky" in text and "2 accumulating" in text
