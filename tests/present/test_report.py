"""Tests for perfkit.present.report: parameter checks, failure path, offline HTML, escaping."""

from __future__ import annotations

import browser  # tests/present/browser.py: headless Chromium, network blocked
import nbformat
import pytest

from perfkit import _paths, fmt
from perfkit.analysis import stats
from perfkit.errors import DatasetError, NotebookError, UsageError
from perfkit.present import (
    compare_view,
    handoff,
    hotspots_view,
    html_export,
    markup,
    report,
    runner,
)


def _tiny_notebook(path, body: str):
    """A notebook with a parameters cell and one cell of ``body`` (no imports: a fast kernel)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("limit = 10\nlabel = 'x'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "not-installed", "display_name": "x", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_unknown_parameters_are_refused_before_a_kernel_starts(tmp_path):
    nb = _tiny_notebook(tmp_path / "t.ipynb", "1/0")
    with pytest.raises(UsageError, match=r"unknown parameter 'limt' \(did you mean 'limit'\?\)"):
        runner.execute(nb, tmp_path / "out" / "r.ipynb", {"limt": 3})
    assert not (tmp_path / "out" / "r.ipynb").exists()
    assert runner.notebook_parameters(nb) == {"limit": "10", "label": "'x'"}


def test_a_failing_cell_keeps_the_executed_copy_and_names_the_cell(tmp_path):
    nb = _tiny_notebook(tmp_path / "t.ipynb", "assert limit < 5, f'limit {limit} too big'")
    out = tmp_path / "out" / "r.ipynb"
    with pytest.raises(NotebookError, match=r"cell \d+ \(In \[\d+\]\) failed: AssertionError: limit 7 too big"):
        runner.execute(nb, out, {"limit": 7})
    executed = nbformat.read(str(out), as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "AssertionError"
    # papermill's timing metadata is gone, execution counts stay
    assert "papermill" not in executed.metadata
    assert all("execution" not in c.metadata for c in executed.cells)


def _kernels() -> list[int]:
    """The ipykernel processes this test process started and has not stopped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmd = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"ipykernel" in cmd:
            found.append(int(stat.parent.name))
    return found


def test_the_notebook_runs_in_the_kernel_started_ahead_and_stops_it(tmp_path):
    # what `perfkit report` does: the kernel boots (running `preload`) while the verdict is computed
    kernel = runner.start_kernel(tmp_path, ["preloaded = 41"])
    assert kernel is not None and _kernels()
    nb = _tiny_notebook(tmp_path / "t.ipynb", "assert preloaded + limit == 42, 'another kernel'")
    executed = runner.execute(nb, tmp_path / "r.ipynb", {"limit": 1}, cwd=tmp_path, kernel=kernel)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]  # the preload is outside the history
    assert not kernel.manager.has_kernel and _kernels() == []


def test_network_references_finds_what_a_page_would_fetch():
    page = """<html><head>
    <script src="https://cdn.example/require.js"></script>
    <link rel="stylesheet" href="//fonts.example/css">
    <style>@import "https://x.example/a.css"; .a { background: url('http://x.example/i.png') }
    .b { background: url(data:image/png;base64,AAAA) }</style>
    <script>var u = "https://vega.github.io/editor/";</script>
    </head><body><a href="https://example.org">a link</a>
    <img src="data:image/svg+xml;base64,PHN2Zz4="><div style="background:url(https://y.example/b.png)"></div>
    </body></html>"""
    found = html_export.network_references(page)
    assert len(found) == 5, found
    assert html_export.network_references("<html><body><p>https://only.text/</p></body></html>") == []


def test_find_data_looks_upwards_and_in_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "data" / "ds").mkdir(parents=True)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert runner.find_data("data/ds") == (tmp_path / "data" / "ds").resolve()
    with pytest.raises(DatasetError, match="nowhere"):
        runner.find_data("data/nowhere")
    assert runner.find_data("perfkit") == _paths.REPO_ROOT / "perfkit"


def test_escape():
    assert markup.escape('<b a="1">&') == "&lt;b a=&quot;1&quot;&gt;&amp;"
    assert markup.escape(None) == ""


# --------------------------------------------------------------------------- end to end
# One papermill run per notebook (a kernel start and the imports cost ~5 s each), shared by the
# tests below through module-scoped fixtures. Both run with non-default parameters.

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

import perfkit
from perfkit import cli

DATA = _paths.REPO_ROOT / "data"
HOSTILE = '<script>alert("perfkit")</script>'

#: Interval methods that come from bootstrap resamples (stats.py, paired.py); the others
#: (exact, undefined, moses, moses-ar1, newcombe) have none to draw.
RESAMPLED = {"bca", "percentile", "paired-bca", "paired-percentile", "bca-ar1", "percentile-ar1"}


def _hostile_copy(src: Path, dest: Path) -> Path:
    """A copy of a real dataset whose data-borne strings try to inject HTML."""
    ds = perfkit.load(src)
    stages = ds.stages.copy()
    stages.loc[stages["stage"] == stages["stage"].iloc[0], "title"] = f"Build {HOSTILE} & <b>go</b>"
    meta = dict(ds.meta)
    meta["variants"] = {k: {**v, "command": f"python3 run.py --tag '{HOSTILE}'"}
                        for k, v in meta.get("variants", {}).items()}
    return perfkit.save(dest, ds.runs, stages, meta).path


@pytest.fixture(scope="module")
def compare_report(tmp_path_factory):
    """Two datasets (orchestrator before/after, with stages), hostile strings, other parameters."""
    tmp = tmp_path_factory.mktemp("compare")
    before = _hostile_copy(DATA / "orchestrator-before", tmp / "before")
    after = _hostile_copy(DATA / "orchestrator-after", tmp / "after")
    files = report.report(
        before, after, out=tmp / "out",
        parameters={"title": f"Catalog fix {HOSTILE}", "seed": 7, "resamples": 2000,
                    "confidence": 0.9, "metrics": ["wall_s"], "target": [0.05, 0.15]},
    )
    return files


def test_compare_report_writes_every_file(compare_report):
    files = compare_report
    assert {p.name for p in files.out.iterdir()} >= {"report.ipynb", "report.html", "summary.md",
                                                      "verdict.json"}
    verdict = json.loads(files.verdict.read_text())
    assert verdict["overall"] == files.overall
    assert verdict["exit_code"] == files.exit_code
    assert verdict["settings"]["seed"] == 7 and verdict["settings"]["n_resamples"] == 2000
    assert verdict["settings"]["target"] == [0.05, 0.15]
    summary = files.summary.read_text()
    assert len(summary.encode()) < 64 * 1024
    assert files.overall.upper() in summary.splitlines()[2] and "`wall\\_s`" in summary
    # one verdict line, a short table, the rest folded
    assert summary.count(files.overall.upper()) == 1 and "<details>" in summary
    assert "<script>" not in summary  # markdown renders inline HTML: it must be escaped


def test_compare_notebook_ran_with_the_parameters_and_agrees_with_verdict_json(compare_report):
    nb = nbformat.read(str(compare_report.notebook), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "seed = 7" in injected[0].source
    # the kernel was handed the comparison computed for verdict.json, and the file is gone
    assert f'prepared = "{handoff.FILE_NAME}"' in injected[0].source
    assert not (compare_report.out / handoff.FILE_NAME).exists()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html_out = "\n".join(o.get("data", {}).get("text/html", "") for o in outputs)
    verdict = json.loads(compare_report.verdict.read_text())
    row = next(m for m in verdict["metrics"] if m["metric"] == "wall_s")
    # the interval the notebook shows is the one verdict.json holds (same seed, same resamples)
    assert fmt.pct(row["ci_low"]) in html_out and fmt.pct(row["ci_high"]) in html_out
    assert "catalog" in html_out  # the per-stage section found the stages


def test_compare_html_is_offline_small_codeless_and_escaped(compare_report):
    page = compare_report.html.read_text(encoding="utf-8")
    assert html_export.network_references(page) == []
    assert compare_report.html.stat().st_size < 3 * 1024 * 1024
    assert "compare_view.comparison(" not in page  # no code cells
    assert page.count("window.vegaEmbed=") == 1  # the vega bundle is inlined once
    assert len(re.findall(r'class="perfkit-chart"', page)) >= 3
    # a bootstrap chart exactly for the targets whose interval has resamples, a line for the rest
    targets = [m for m in json.loads(compare_report.verdict.read_text())["metrics"]
               if m["role"] == "target"]
    drawn = re.findall(r'<img alt="([^"]*): bootstrap distribution of the change', page)
    assert drawn == [m["metric"] for m in targets if m["method"] in RESAMPLED]
    notes = re.findall(r'<p class="perfkit-note">([^<]*)</p>', page)
    assert [n.split(":")[0] for n in notes] == [m["metric"] for m in targets
                                                if m["method"] not in RESAMPLED]
    # data-borne strings are escaped everywhere they appear as HTML
    without_specs = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
    assert HOSTILE not in without_specs
    assert "&lt;script&gt;alert(" in without_specs  # shown, as text
    assert "<b>go</b>" not in without_specs
    # inside the charts' JSON the same strings cannot close their script element
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, flags=re.S):
        assert "</" not in spec


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_compare_html_draws_its_charts_in_a_browser_without_network(compare_report, tmp_path):
    """Headless Chromium, network disabled: every chart is replaced by vega's own drawing."""
    shot = tmp_path / "report.png"
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    url = compare_report.html.resolve().as_uri()
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    charts_total = len(re.findall(r'class="perfkit-chart[^"]*"', dom))
    drawn = dom.count('data-perfkit-rendered="vega"')
    # every chart the page carries (runs, order, stages; a bootstrap histogram only where the
    # interval has resamples: test_compare_html_is_offline_small_codeless_and_escaped) is drawn
    page = compare_report.html.read_text(encoding="utf-8")
    assert charts_total == len(re.findall(r'class="perfkit-chart"', page)) >= 3
    assert drawn == charts_total, (drawn, charts_total)
    subprocess.run([*base, "--window-size=1100,4000", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000  # a page with drawings, not a blank one


def test_compare_html_answers_on_the_first_screen(compare_report):
    """At 1400 px wide, the badge and every target and guardrail line sit in the first 900 px;
    a screenshot goes to the test artifacts ($PERFKIT_TEST_ARTIFACTS)."""
    boxes = browser.positions(compare_report.html, [".perfkit-badge", ".perfkit-line.perfkit-target",
                                                     ".perfkit-line.perfkit-guardrail", "h2"])
    assert len(boxes[".perfkit-badge"]) == 1
    roles = [m["role"] for m in json.loads(compare_report.verdict.read_text())["metrics"]]
    assert len(boxes[".perfkit-line.perfkit-target"]) == roles.count("target") >= 1
    assert len(boxes[".perfkit-line.perfkit-guardrail"]) == roles.count("guardrail") >= 1
    for sel in (".perfkit-badge", ".perfkit-line.perfkit-target", ".perfkit-line.perfkit-guardrail"):
        for left, top, width, height in boxes[sel]:
            assert top + height <= 900 and width > 0, (sel, top, height)
    # the answer comes before every section heading but the title
    assert sum(1 for b in boxes["h2"] if b[1] < boxes[".perfkit-badge"][0][1]) <= 1
    png = browser.screenshot(compare_report.html, browser.artifacts_dir() / "compare-report.png")
    assert png.stat().st_size > 50_000


@pytest.fixture(scope="module")
def hotspots_report(tmp_path_factory):
    """The real command in a subprocess, as CI runs it (a workspace's dataset, another title)."""
    out = tmp_path_factory.mktemp("hotspots") / "out"
    env = {**os.environ, "PYTHONPATH": str(_paths.REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "perfkit", "report", "--hotspots", str(DATA / "orchestrator-after"),
         "--out", str(out), "--title", f"After the fix {HOSTILE}"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "IPKernelApp" not in done.stderr  # the kernel's own chatter stays out of the terminal
    return report.ReportFiles(out=out, notebook=out / "report.ipynb", html=out / "report.html",
                              summary=out / "summary.md", verdict=None, exit_code=done.returncode)


def test_hotspots_report_screenshot(hotspots_report):
    page = hotspots_report.html
    png = browser.screenshot(page, browser.artifacts_dir() / "hotspots-report.png")
    assert png.stat().st_size > 50_000


def test_hotspots_report(hotspots_report):
    files = hotspots_report
    assert not (files.out / "verdict.json").exists()
    nb = nbformat.read(str(files.notebook), as_version=4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    page = files.html.read_text(encoding="utf-8")
    assert html_export.network_references(page) == []
    assert "hot.shares_chart" not in page
    without_specs = re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)
    assert HOSTILE not in without_specs
    summary = files.summary.read_text()
    assert "catalog" in summary and "<script>" not in summary


# --------------------------------------------------------------------------- the CLI


def test_cli_refuses_unknown_parameters_before_running(tmp_path, capsys):
    code = cli.main(["report", str(DATA / "demo-fix"), "--out", str(tmp_path / "o"), "-p", "sed=3"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown parameter 'sed' (did you mean 'seed'?)" in err
    assert not (tmp_path / "o" / "report.ipynb").exists()
    code = cli.main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert code == 2 and "missing" in capsys.readouterr().err


def test_cli_maps_compare_options_to_notebook_parameters():
    parser = cli.build_parser()
    args = parser.parse_args(["report", "a", "--out", "o", "--target", "5%:15%", "--metric", "user_s",
                              "--guardrail", "max_rss_kib=3%", "--seed", "4", "--resamples", "500",
                              "-p", "title=12e4567", "-p", "confidence:=0.9"])
    params = cli.report._report_parameters(args)
    assert params == {"target": [0.05, 0.15], "metrics": ["user_s"],
                      "guardrails": {"max_rss_kib": 0.03}, "seed": 4, "resamples": 500,
                      "title": "12e4567", "confidence": 0.9}
    with pytest.raises(UsageError, match="--seed: comparison options, not for --hotspots"):
        cli.report._report_parameters(parser.parse_args(["report", "--hotspots", "a", "--out", "o",
                                                  "--seed", "3"]))
    with pytest.raises(UsageError, match="not JSON"):
        cli.report._report_parameters(parser.parse_args(["report", "a", "--out", "o", "-p", "seed:=x"]))


def test_report_exit_code_is_compares(compare_report, tmp_path):
    before, after = (compare_report.out.parent / name for name in ("before", "after"))
    code = cli.main(["compare", str(before), str(after), "--seed", "7", "--resamples", "2000",
                     "--confidence", "0.9", "--target", "5%:15%"])
    assert compare_report.exit_code == code
    assert code in (0, 1, 3)


def test_bootstrap_distribution_is_the_one_behind_the_interval():
    """Same seed and resampling as perfkit.analysis.stats.change_interval: its percentile interval must be
    the quantiles of our replicates."""
    import numpy as np

    from perfkit.analysis.stats import change_interval

    rng = np.random.default_rng(11)
    b, c = rng.normal(1.0, 0.05, 15), rng.normal(0.85, 0.05, 17)
    dist = stats.bootstrap_distribution(b, c, n_resamples=3000, seed=5)
    ci = change_interval(b, c, n_resamples=3000, seed=5, method="percentile", confidence=0.9)
    assert len(dist) == 3000
    assert np.quantile(dist, [0.05, 0.95]) == pytest.approx([ci.ci_low, ci.ci_high], rel=1e-9)
    assert stats.bootstrap_distribution([1.0, 1.0], [0.5, 0.5]).tolist() == [0.5]
    assert stats.bootstrap_distribution([1.0], [0.5, 0.6]).size == 0


def test_summary_stays_under_the_comment_limit_and_escapes_markdown():
    rep = compare_view.comparison(DATA / "demo-fix", resamples=500, title="x" * 70_000 + " <img src=x>")
    text = rep.summary_markdown()
    assert len(text.encode("utf-8")) <= compare_view.SUMMARY_LIMIT
    assert "<img" not in text


def test_default_targets_add_manifest_writes_only_where_both_sides_counted(tmp_path, monkeypatch):
    assert compare_view.comparison(DATA / "demo-fix", resamples=200).targets == ["wall_s", "manifest_writes"]
    # no traced pass in these: wall time alone, and the notebook is told so (its own default
    # names manifest_writes, which they lack)
    seen = {}

    def fake_execute(nb, out, params, cwd=None, kernel=None):
        seen.update(params)
        return out

    monkeypatch.setattr(report, "start_kernel", lambda cwd, preload: None)  # no notebook runs
    monkeypatch.setattr(report, "execute", fake_execute)
    monkeypatch.setattr(report, "export_html", lambda nb, html, title="": html)
    files = report.report(DATA / "orchestrator-before", DATA / "orchestrator-after",
                          out=tmp_path / "o", parameters={"resamples": 200})
    assert seen["metrics"] == ["wall_s"]
    assert json.loads(files.verdict.read_text())["settings"]["targets"] == ["wall_s"]


def test_display_tables_read_plainly():
    rep = compare_view.comparison(DATA / "demo-fix", resamples=200)
    targets = rep._display(("target", "guardrail")).set_index("metric")
    assert targets.loc["manifest_writes", "95% interval"] == "exact"  # constant counts
    assert targets.loc["success_rate", "baseline median"] == "100%"
    assert "exact: every run counted the same" in rep.answer()
    info = rep._display(("info",))
    # informational rows have no target band: a direction, never "cleared"
    assert "verdict" not in info.columns
    assert set(info["direction"]) <= {"better", "worse", "no clear change", "—"}
    page = rep.metadata().data
    assert "perfkit-meta" in page and "variants.baseline.command" in page
    assert "variants.baseline.argv" not in page  # the same words as the command


def test_metadata_cuts_long_values_in_display_only():
    long = "python3 run.py " + "--flag " * 100
    rows = markup.meta_rows({"variants": {"a": {"command": long, "argv": ["/bin/sh", "-c", long]}}})
    assert rows["variants.a.command"].endswith(f"({len(long) - markup.META_VALUE_LIMIT:,} more characters)")
    assert "variants.a.argv" in rows  # a shell's argv differs from the command: kept


def test_growth_charts_skip_sizes_that_barely_move():
    import pandas as pd

    assert hotspots_view._varies(pd.Series([1.0, 1.5, 2.0]))
    assert not hotspots_view._varies(pd.Series([13024.0, 13025.0, 13025.0]))  # a byte in 13 KB
    assert not hotspots_view._varies(pd.Series([5.0, None]))
    assert hotspots_view._varies(pd.Series([0.0, 0.0, 1.0]))


def test_report_out_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's own file")
    from perfkit.cli import main

    code = main(["report", str(DATA / "demo-fix"), "--out", str(mine), "--resamples", "200"])
    err = capsys.readouterr().err
    assert code == 2 and "folder is not empty and was not made by perfkit report" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]  # nothing written
    # a new folder, an empty one, and a previous report's folder are fine
    for folder in (tmp_path / "new", tmp_path / "empty"):
        if folder.name == "empty":
            folder.mkdir()
        report.prepare_out(folder)
        assert (folder / report.MARKER).exists()
    (tmp_path / "new" / "report.html").write_text("old")
    report.prepare_out(tmp_path / "new")  # made by a report: written again
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        report.prepare_out(blocker)


def test_a_failed_report_leaves_the_out_folder_as_it_found_it(tmp_path, capsys):
    """A usage error found while judging (an unknown metric, a bad variant) ends before the
    folder is made or marked: an empty folder stays empty, a new one is not created."""
    from perfkit.cli import main

    empty, new = tmp_path / "empty", tmp_path / "new"
    empty.mkdir()
    for folder, extra in [(empty, ["--metric", "no_such_metric"]),
                          (new, ["--baseline", "no_such_variant"])]:
        code = main(["report", str(DATA / "demo-fix"), "--out", str(folder), *extra])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, (extra, err)
        assert list(empty.iterdir()) == [] and not new.exists(), (extra, err)
        assert _kernels() == []  # the kernel started ahead was stopped
    # a previous report's folder keeps its files and its mark
    report.prepare_out(new)
    (new / "report.html").write_text("old")
    assert main(["report", str(DATA / "demo-fix"), "--out", str(new), "--metric", "nope"]) == 2
    assert sorted(p.name for p in new.iterdir()) == [report.MARKER, "report.html"]


def test_pr_summary_is_one_verdict_line_a_short_table_and_a_link():
    rep = compare_view.comparison(DATA / "demo-fix", resamples=300)
    text = rep.summary_markdown(report_url="https://example.test/runs/1 (x)")
    lines = text.splitlines()
    assert lines[0].startswith("✅ **CLEARED**") and text.count("CLEARED") == 1
    table = [ln for ln in lines[: lines.index("<details><summary>Reasons, advice, settings, "
                                               "other metrics</summary>")] if ln.startswith("|")]
    assert len(table) == 2 + 4  # header, rule, two targets, two guardrails
    assert "[Full report](https://example.test/runs/1%20%28x%29)" in text or \
        "[Full report](https://example.test/runs/1%20(x%29)" in text
    assert "increase" in text and "</details>" in text
    assert "Full report" not in rep.summary_markdown()  # no URL given: no link


def test_one_sign_convention_for_a_guardrail_and_digits_for_tiny_changes():
    rep = compare_view.comparison(DATA / "demo-fix", resamples=300)
    row = rep.result.row("max_rss_kib")
    shown = rep._display(("guardrail",)).set_index("metric").loc["max_rss_kib"]
    # the table shows the increase and its interval, as the reason does
    increase = f"{fmt.pct(-row['ci_high'])} to {fmt.pct(-row['ci_low'])}"
    assert shown["95% interval"] == increase
    assert shown["change"] == f"increase {fmt.pct(-row['change'])}"
    assert any(increase in reason for reason in rep.result.reasons)
    doc = json.loads(rep.verdict_json())
    rec = next(m for m in doc["metrics"] if m["metric"] == "max_rss_kib")
    assert rec["increase"] == -rec["change"] and rec["increase_ci_low"] == -rec["ci_high"]
    # 17,365 -> 17,373 is 0.046 % more: never "+0.0 %" beside a verdict that says it moved
    assert fmt.pct(1 - 17373 / 17365) == "−0.05 %" and fmt.pct(0.0) == "0.0 %"
    assert fmt.pct(1e-9) == "0.0 %"  # beyond four digits it is zero for a reader


def test_a_bootstrap_chart_exactly_where_the_interval_has_resamples():
    # demo-fix under `auto`: wall_s by Moses (ranks), manifest_writes exact, user_s (info) BCa
    rep = compare_view.comparison(DATA / "demo-fix", resamples=300)
    methods = {m: rep.result.row(m)["method"] for m in ("wall_s", "manifest_writes", "user_s")}
    assert methods == {"wall_s": "moses", "manifest_writes": "exact", "user_s": "bca"}
    for metric, method in methods.items():
        shown = rep.target_charts(metric)
        specs = [c.to_dict() if hasattr(c, "to_dict") else None for c in shown]
        assert specs[0]["title"] == f"{metric}: every run, and the median" and len(shown) == 2
        drawn = [s for s in specs[1:] if s and "bootstrap distribution" in s["title"]]
        assert len(drawn) == (method in RESAMPLED), (metric, method)
        if drawn:  # the histogram holds every resample: never an empty axis
            bars = next(layer for layer in drawn[0]["layer"]
                        if layer["mark"]["type"] == "rect" and "y" in layer["encoding"])
            counts = drawn[0]["datasets"][bars["data"]["name"]]
            assert sum(r["count"] for r in counts) == len(rep.distribution(metric)) == 300
        else:  # one line says how the interval was found instead
            assert specs[1] is None and shown[1].data.count("<p") == 1
            assert metric in shown[1].data and ("Moses" in shown[1].data) == (method == "moses")


def test_the_method_sentence_comes_from_the_interleaving_diagnostic(compare_report):
    # two collections: the not-interleaved warning fires, and the sentence says so too
    page = compare_report.html.read_text(encoding="utf-8")
    verdict = json.loads(compare_report.verdict.read_text())
    assert "not-interleaved" in {w["kind"] for w in verdict["warnings"]}
    assert "Not interleaved:" in page and "ran interleaved" not in page
    # the demo (one interleaved collection, as the committed notebook shows): no warning, and
    # the sentence says the runs were interleaved
    nb = nbformat.read(str(_paths.NOTEBOOKS_DIR / "compare.ipynb"), as_version=4)
    shown = "\n".join(o.get("data", {}).get("text/html", "") for c in nb.cells
                      if c.cell_type == "code" for o in c.outputs)
    assert "ran interleaved, round by round" in shown and "Not interleaved" not in shown


def test_every_chart_is_sized_to_the_page():
    runs = perfkit.load(DATA / "orchestrator-measured").runs
    table = pd.DataFrame({"stage": ["a", "b"], "change": [0.1, -0.05], "ci_low": [0.0, -0.1],
                          "ci_high": [0.2, 0.0]})
    from perfkit.present import charts

    for chart in (charts.change_intervals(table, label="stage"),
                  charts.per_run(runs, ["io_wchar"]),
                  charts.growth(runs.assign(history=runs["order"]), "wall_s")):
        spec = chart.to_dict()
        width = spec.get("width") or spec.get("spec", {}).get("width")
        assert width == charts.WIDE
