"""The trend report: ``notebooks/trend.ipynb`` over a history, ``perfkit report --trend``.

One papermill run (module fixture) over a copy of ``data/trend-history`` whose stage names try to
inject HTML; the building blocks are checked on the committed history itself.
"""

from __future__ import annotations

import json
import re
import shutil

import browser  # tests/present/browser.py: headless Chromium, network blocked
import nbformat
import pandas as pd
import pytest

from perfkit import _paths
from perfkit.cli import main
from perfkit.present import handoff, html_export, report, trend_report
from perfkit.present.trend_report import default_metrics, stage_table, trend

HISTORY = _paths.REPO_ROOT / "data" / "trend-history"
HOSTILE = '<script>alert("perfkit")</script>'
FIX, MORE_ROWS = 10, 17  # positions (0-based) of commits 11 and 18: see the fixture's README


def _hostile_copy(dest):
    """The committed history with the stage ``parse`` renamed to an HTML injection."""
    shutil.copytree(HISTORY, dest)
    path = next((dest / "stages").glob("*/*.parquet"))
    stages = pd.read_parquet(path)
    stages["stage"] = stages["stage"].replace({"parse": f"parse {HOSTILE}"})
    stages.to_parquet(path, index=False)
    return dest


@pytest.fixture(scope="module")
def trend_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trend")
    history = _hostile_copy(tmp / "history")
    withdraw = handoff.withdraw
    checks = []
    real_check = trend_report.check_history

    def keep_a_copy(folder):  # the hand-off file, as the kernel saw it, before it is deleted
        if (folder / handoff.FILE_NAME).is_file():
            shutil.copy(folder / handoff.FILE_NAME, tmp / "handed-over.pickle")
        withdraw(folder)

    def counted(*args, **kwargs):
        checks.append(kwargs.get("names"))
        return real_check(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(handoff, "withdraw", keep_a_copy)
        mp.setattr(trend_report, "check_history", counted)
        files = report.trend_report(history, out=tmp / "out", parameters={
            "title": f"Pipeline {HOSTILE}", "metrics": ["user_s", "manifest_writes"], "seed": 3})
    files.checks_here = checks
    files.handed_over = tmp / "handed-over.pickle"
    return files


class _Checked(Exception):
    """Raised by a stand-in for check_history: the builder checked instead of taking."""


def test_the_report_checks_once_and_the_notebook_takes_that_check(trend_files, monkeypatch):
    # in the report's process: one check of the one benchmark
    assert trend_files.checks_here == [["pipeline"]]
    # the notebook got the hand-off file's name, and the file is gone after the run
    nb = nbformat.read(str(trend_files.notebook), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f'prepared = "{handoff.FILE_NAME}"' in injected[0].source
    assert not (trend_files.out / handoff.FILE_NAME).exists()
    # the notebook's own call, with its injected parameters, takes the handed-over check: it
    # does not run check_history again (the stand-in would raise)
    params: dict = {}
    exec(nb.cells[1].source + "\n" + injected[0].source, {}, params)

    def checked(*args, **kwargs):
        raise _Checked

    monkeypatch.setattr(trend_report, "check_history", checked)
    taken = trend(params["history"], names=params["benchmarks"] or None,
                  metrics=params["metrics"] or None, threshold=params["threshold"],
                  seed=params["seed"], title=params["title"], prepared=trend_files.handed_over)
    assert taken.result.regressed and taken.result.seed == 3
    # any other argument, or no hand-off (the notebook run by itself): checked afresh
    for other in ({"seed": 4}, {"threshold": 0.1}, {"metrics": ["user_s"]}, {"title": "x"},
                  {"prepared": None}):
        args = {"names": None, "metrics": params["metrics"], "threshold": params["threshold"],
                "seed": params["seed"], "title": params["title"],
                "prepared": trend_files.handed_over, **other}
        with pytest.raises(_Checked):
            trend(params["history"], **args)


def test_the_committed_history_shows_both_changes_where_they_were_made():
    """The fix cuts the manifest writes 49 → 5 at commit 11; twice the input at commit 18 makes
    CPU time step up (found within a commit of it), in the stages that handle records."""
    built = trend(HISTORY, metrics=["manifest_writes", "user_s"])
    writes, user = built.result.checks
    assert [(s.index, s.before, s.after) for s in writes.steps] == [(FIX, 49, 5)]
    assert [abs(s.index - MORE_ROWS) <= 1 and s.regression for s in user.steps] == [True]
    table = stage_table(user.steps[0])
    assert set(table["stage"]) == {"ingest", "parse", "transform", "publish"}
    grew = {m.name for m in user.steps[0].stages if m.after > 1.3 * m.before}
    assert {"ingest", "parse"} <= grew and "publish" not in grew
    assert built.result.regressed and "1 of 2 series regressed" in built.answer()


def test_default_metrics_are_time_memory_and_exact_writes():
    built = trend(HISTORY, metrics=None)
    assert default_metrics(built.history, "pipeline") == [
        "wall_s", "user_s", "sys_s", "max_rss_kib", "manifest_writes"]


def test_trend_report_writes_every_file_and_the_notebook_agrees(trend_files):
    files = trend_files
    assert files.exit_code == 3 and files.overall == "regressed"
    for path in (files.html, files.notebook, files.summary, files.verdict):
        assert path.is_file(), path
    check = json.loads(files.verdict.read_text())
    assert check["seed"] == 3 and check["regressed"] is True
    assert [c["metric"] for c in check["checks"]] == ["user_s", "manifest_writes"]
    nb = nbformat.read(str(files.notebook), as_version=4)
    shown = "".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "1 of 2 series regressed" in shown
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    summary = files.summary.read_text()
    assert "regressed" in summary and HOSTILE not in summary


def test_trend_html_is_offline_codeless_and_escaped(trend_files):
    page = trend_files.html.read_text(encoding="utf-8")
    assert html_export.network_references(page) == []
    assert "trend_report import trend" not in page  # no code cells
    assert page.count("window.vegaEmbed=") == 1
    # a chart per metric and a per-stage chart per step
    assert len(re.findall(r'class="perfkit-chart"', page)) == 4
    # every metric's axis carries its unit, as on the compare report's charts
    assert '"title":"user_s (s)"' in page and '"title":"manifest_writes (count)"' in page
    without_specs = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
    assert HOSTILE not in without_specs and "&lt;script&gt;alert(" in without_specs
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, flags=re.S):
        assert "</" not in spec


def test_trend_html_in_a_browser_answers_first_and_draws_every_chart(trend_files):
    """Headless Chromium, network blocked: the answer sits on the first screen, vega draws every
    chart; the screenshot goes to $PERFKIT_TEST_ARTIFACTS (trend-report.png)."""
    boxes = browser.positions(trend_files.html, [".perfkit-answer", "h3", "h4"])
    (left, top, width, height), = boxes[".perfkit-answer"]
    assert top + height <= 900 and width > 0
    assert len(boxes["h3"]) == 2 and len(boxes["h4"]) == 2
    assert boxes["__rendered"] == ["vega"] * 4
    png = browser.screenshot(trend_files.html, browser.artifacts_dir() / "trend-report.png",
                             height=3000)
    assert png.stat().st_size > 50_000


@pytest.mark.parametrize("argv,message", [
    (["--trend", "{tmp}/absent"], "no such history folder"),
    (["--trend", str(_paths.REPO_ROOT / "data" / "demo-fix")], "not a history folder"),
    (["--trend", str(HISTORY), "--metric", "nope"], "'nope' is not a metric"),
    (["--trend", str(HISTORY), "--target", "5%,10%"], "not for --trend"),
    (["--trend", str(HISTORY), "-p", "threshold=x"], "is not a finite number"),
    (["--trend", str(HISTORY), "-p", "treshold:=0.1"], "did you mean 'threshold'"),
    ([str(_paths.REPO_ROOT / "data" / "demo-fix"), "--trend", str(HISTORY)], "not DATASET"),
    ([], "DATASET is required"),
])
def test_bad_trend_input_is_one_line_exit_2_before_a_kernel(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code = main(["report", *[a.replace("{tmp}", str(tmp_path)) for a in argv], "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_an_empty_history_is_one_line_exit_2(tmp_path, capsys):
    empty = tmp_path / "h"
    shutil.copytree(HISTORY, empty)
    for table in ("runs", "stages"):
        shutil.rmtree(empty / table)
    code = main(["report", "--trend", str(empty), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "the history is empty" in err


def test_trend_report_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["report", "--trend", str(HISTORY), "--out", str(out)])
    assert code == 2 and "was not made by perfkit report" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
