"""Hostile and huge variant names in the pull-request summary and the report.

On the main this branch started from, summary.md put names raw into its heading and warnings (two
external images and an unbalanced ``<details>`` rendered in a PR comment; ``@`` never escaped),
and 100 kB names left only the title under the 64 KB cap. Each test here failed there.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from perfkit.data import store
from perfkit.data.schema import runs_frame
from perfkit.present.compare_view import SUMMARY_LIMIT, comparison
from perfkit.present.export import markdown as markdown_export
from perfkit.present.markup import SHOWN_CHARS, display_label, escape, md_escape

HOSTILE = [
    "![p](http://evil.example/pixel.png)",
    "<details><summary>open me",
    "</details>",
    "@alice please look",
    "[click](javascript:alert(1))",
    "<script>alert('x')</script>",
    "a|b|c",
    "`code` and ``more``",
    "# a heading",
    "- a list item",
    "1. ordered",
    "line one\nline two",
    "**bold** _em_ ~~gone~~",
    "$x^2$ &lt;b&gt; &amp;",
    "<img src=x onerror=alert(1)>",
]


def dataset(folder, base: str, cand: str, n: int = 12):
    rng = np.random.default_rng(1)
    rows, order = [], 1
    for i in range(1, n + 1):
        # a noisy candidate: the comparison warns (warnings quote the names)
        for name, mu, cv in ((base, 1.0, 0.02), (cand, 0.9, 0.4 if i % 5 else 3.0)):
            rows.append({"variant": name, "run": i, "order": order, "status": "ok",
                         "wall_s": mu * rng.lognormal(0, cv), "max_rss_kib": 1000})
            order += 1
    store.save(folder, runs_frame(rows), meta={"variants": {base: {"command": base},
                                                            cand: {"command": cand}}})
    return folder


def unescaped(pattern: str, text: str) -> list[str]:
    return re.findall(r"(?<!\\)" + pattern, text)


def assert_inert(markdown: str) -> None:
    assert not unescaped(r"!\[", markdown), "an image would render"
    assert not unescaped(r"\[click\]", markdown)
    assert not unescaped(r"<(script|img|summary)", markdown)
    opened = len(unescaped(r"<details>", markdown))
    assert opened == len(unescaped(r"</details>", markdown)) <= 1  # only perfkit's own
    assert not re.search(r"@[A-Za-z]", markdown), "a mention would notify someone"
    for line in markdown.splitlines():
        if line.startswith("|"):
            assert line.rstrip().endswith("|"), line  # no name broke a table row


@pytest.mark.parametrize("name", HOSTILE)
def test_md_escape_leaves_nothing_markdown_or_html_would_act_on(name):
    text = md_escape(name)
    assert "\n" not in text
    assert_inert(text)


@pytest.mark.parametrize("pair", [(HOSTILE[i], HOSTILE[-1 - i]) for i in range(7)])
def test_summary_markdown_with_hostile_names_renders_as_text(tmp_path, pair):
    base, cand = pair
    report = comparison(dataset(tmp_path / "ds", base, cand), baseline=base, candidate=cand,
                        resamples=500)
    md = report.summary_markdown()
    assert_inert(md)
    assert "| wall" in md
    assert_inert("\n".join(markdown_export.lines(report.result)))
    assert "<script>" not in escape(report.answer())


def test_summary_of_100kb_names_keeps_its_table_under_the_cap(tmp_path):
    base, cand = "b" * 99_999 + "1", "c" * 99_999 + "2"
    report = comparison(dataset(tmp_path / "ds", base, cand), baseline=base, candidate=cand,
                        resamples=500)
    md = report.summary_markdown()
    assert len(md.encode("utf-8")) <= SUMMARY_LIMIT
    assert "| wall" in md and "_(truncated)_" not in md
    # what the report shows (charts, tables, the notebook) carries short labels only
    assert {report.result.baseline, report.result.candidate} == {display_label(base),
                                                                display_label(cand)}
    assert all(len(v) <= SHOWN_CHARS + 40 for v in report.baseline_data.runs["variant"].unique())


def test_long_names_sharing_a_start_stay_apart():
    a, b = "x" * 5000 + "a", "x" * 5000 + "b"
    assert display_label(a) != display_label(b)
    assert len(display_label(a)) <= SHOWN_CHARS + 40
    assert display_label("short") == "short"
