"""Tests for perfkit.report: parameter checks, failure path, offline HTML, escaping."""

from __future__ import annotations

import nbformat
import pytest

from perfkit import report
from perfkit.errors import DatasetError, NotebookError, UsageError


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
        report.execute(nb, tmp_path / "out" / "r.ipynb", {"limt": 3})
    assert not (tmp_path / "out" / "r.ipynb").exists()
    assert report.notebook_parameters(nb) == {"limit": "10", "label": "'x'"}


def test_a_failing_cell_keeps_the_executed_copy_and_names_the_cell(tmp_path):
    nb = _tiny_notebook(tmp_path / "t.ipynb", "assert limit < 5, f'limit {limit} too big'")
    out = tmp_path / "out" / "r.ipynb"
    with pytest.raises(NotebookError, match=r"cell \d+ \(In \[\d+\]\) failed: AssertionError: limit 7 too big"):
        report.execute(nb, out, {"limit": 7})
    executed = nbformat.read(str(out), as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "AssertionError"
    # papermill's timing metadata is gone, execution counts stay
    assert "papermill" not in executed.metadata
    assert all("execution" not in c.metadata for c in executed.cells)


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
    found = report.network_references(page)
    assert len(found) == 5, found
    assert report.network_references("<html><body><p>https://only.text/</p></body></html>") == []


def test_find_data_looks_upwards_and_in_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "data" / "ds").mkdir(parents=True)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert report.find_data("data/ds") == (tmp_path / "data" / "ds").resolve()
    with pytest.raises(DatasetError, match="nowhere"):
        report.find_data("data/nowhere")
    assert report.find_data("perfkit") == report.REPO_ROOT / "perfkit"


def test_escape():
    assert report.escape('<b a="1">&') == "&lt;b a=&quot;1&quot;&gt;&amp;"
    assert report.escape(None) == ""
