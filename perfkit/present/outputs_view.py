"""Outputs as a reviewer reads them: stability per file pattern, artifact sizes per run, and the
"Outputs: same structure and content / differ" section of a comparison.

Every string from data (patterns, field paths, variant names) is escaped: :func:`escape` in HTML,
:func:`md_escape` in markdown. Numbers go through :mod:`perfkit.fmt`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tabulate import tabulate

from perfkit import fmt
from perfkit.analysis.outputs import output_stability, outputs_diff, size_trends
from perfkit.data.sources import read_artifact_sizes, read_outputs
from perfkit.present.markup import as_html, escape, md_escape, shorten, table_html

#: Rows shown in text, markdown and HTML (JSON has every row).
LIMIT = 30
#: Items of a list (fields, paths) shown per pattern.
ITEMS = 12


def _bytes(x: Any) -> str:
    value = float(x) if x is not None and not pd.isna(x) else math.nan
    if math.isnan(value):
        return fmt.MISSING
    return fmt.bytes_(value) if abs(value) >= 1024 else f"{fmt.num(value)} B"


def growth_text(slope: Any) -> str:
    """``+5.02 KiB/run``, ``0 B/run``, or — when there is no fit (fewer than 3 runs)."""
    if slope is None or pd.isna(slope):
        return fmt.MISSING
    sign = "+" if slope > 0 else ("−" if slope < 0 else "")
    return f"{sign}{_bytes(abs(float(slope)))}/run"


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
            for rec in df.to_dict("records")]


def _md_rows(rows: list[list[str]]) -> list[list[str]]:
    return [[md_escape(shorten(c, 200)) for c in row] for row in rows]


# -- stability -------------------------------------------------------------------------------
STABILITY_HEADERS = ["variant", "pattern", "kind", "runs", "contents (raw/normalised)",
                     "structures", "size median", "size 25–75 %", "growth", "verdict"]


def _verdict(r: Any) -> str:
    if r.flaky:
        verdict = f"FLAKY ({r.first_difference})"
    elif r.accumulates:
        verdict = f"accumulates ({r.first_difference})"
    else:
        verdict = "stable"
    if r.kind == "missing" or r.runs < r.of_runs:
        missing = f"missing in {r.of_runs - r.runs} of {r.of_runs} runs"
        return missing if verdict == "stable" else f"{verdict}; {missing}"
    return verdict


def stability_rows(table: pd.DataFrame, limit: int | None = LIMIT) -> list[list[str]]:
    t = table if limit is None else table.head(limit)
    return [[str(r.variant), str(r.pattern), str(r.kind), f"{r.runs} of {r.of_runs}",
             f"{r.contents}/{r.normalised_contents}",
             str(r.structures) if r.kind == "json" else fmt.MISSING, _bytes(r.size_median),
             f"{_bytes(r.size_p25)}–{_bytes(r.size_p75)}", growth_text(r.growth_per_run),
             _verdict(r)] for r in t.itertuples()]


def stability_headline(table: pd.DataFrame) -> str:
    if table.empty:
        return "No outputs recorded (perfkit measure --outputs GLOB records them)."
    flaky = table[table["flaky"]]
    missing = table[table["runs"] < table["of_runs"]]
    parts = [f"{len(table)} output pattern{'s' * (len(table) != 1)}"]
    parts.append(f"{len(flaky)} flaky (more than one content after masking volatile values)"
                 if len(flaky) else "none flaky")
    growing = table[table["accumulates"]]
    if len(growing):
        parts.append(f"{len(growing)} accumulating (each run only adds: counts up, lists longer)")
    if len(missing):
        parts.append(f"{len(missing)} missing in some runs")
    return "Outputs: " + ", ".join(parts) + "."


def stability_text(table: pd.DataFrame) -> str:
    lines = [stability_headline(table)]
    if len(table):
        lines += ["", tabulate(stability_rows(table), headers=STABILITY_HEADERS,
                               disable_numparse=True)]
    return "\n".join(lines) + "\n"


def stability_markdown(table: pd.DataFrame) -> str:
    lines = ["#### Outputs", "", md_escape(stability_headline(table))]
    if len(table):
        lines += ["", tabulate(_md_rows(stability_rows(table)), headers=STABILITY_HEADERS,
                               tablefmt="github", disable_numparse=True)]
    return "\n".join(lines) + "\n"


def stability_html(table: pd.DataFrame) -> Any:
    body = f"<p>{escape(stability_headline(table))}</p>"
    if len(table):
        body += table_html(pd.DataFrame(stability_rows(table), columns=STABILITY_HEADERS))
    return as_html(body)


def stability_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return _records(table)


# -- artifact sizes --------------------------------------------------------------------------
SIZE_HEADERS = ["variant", "pattern", "runs", "size median", "25–75 %", "min–max", "growth",
                "r"]


def sizes_table(trends: pd.DataFrame, limit: int | None = LIMIT) -> pd.DataFrame:
    """Artifact predictability, one row per pattern: size per run, its spread, growth per run."""
    t = trends if limit is None else trends.head(limit)
    return pd.DataFrame(
        [[str(r.variant), str(r.pattern), str(r.runs), _bytes(r.size_median),
          f"{_bytes(r.size_p25)}–{_bytes(r.size_p75)}", f"{_bytes(r.size_min)}–{_bytes(r.size_max)}",
          growth_text(r.growth_per_run), fmt.ratio(r.r)] for r in t.itertuples()],
        columns=SIZE_HEADERS)


def sizes_headline(trends: pd.DataFrame) -> str:
    if trends.empty:
        return "No artifact sizes recorded."
    grow = trends[(trends["growth_per_run"] > 0) & (trends["r"] >= 0.9)]
    if grow.empty:
        return (f"{len(trends)} artifact pattern{'s' * (len(trends) != 1)}: none grows steadily "
                "from run to run.")
    top = grow.iloc[0]
    return (f"{len(trends)} artifact patterns; {len(grow)} grow steadily, the most "
            f"{top['pattern']} ({top['variant']}): {growth_text(top['growth_per_run'])} "
            f"(r = {fmt.ratio(top['r'])}).")


def sizes_html(trends: pd.DataFrame) -> Any:
    body = f"<p>{escape(sizes_headline(trends))}</p>"
    if len(trends):
        body += table_html(sizes_table(trends))
    return as_html(body)


def sizes_markdown(trends: pd.DataFrame) -> str:
    if trends.empty:
        return ""
    rows = _md_rows(sizes_table(trends, limit=10).values.tolist())
    return "\n".join([md_escape(sizes_headline(trends)), "",
                      tabulate(rows, headers=SIZE_HEADERS, tablefmt="github",
                               disable_numparse=True)]) + "\n"


def artifact_trends(dataset: Any) -> pd.DataFrame:
    """:func:`size_trends` of a source's artifacts (an ingest's or workspace's run-folder files;
    else its recorded outputs)."""
    return size_trends(read_artifact_sizes(dataset))


def stability_of(dataset: Any) -> pd.DataFrame:
    return output_stability(read_outputs(dataset))


# -- baseline against candidate ----------------------------------------------------------------
@dataclass
class OutputsComparison:
    """The candidate's outputs against the baseline's (:func:`outputs_diff`), per pattern."""

    diff: pd.DataFrame

    @property
    def recorded(self) -> bool:
        return len(self.diff) > 0

    @property
    def same(self) -> bool:
        return bool((self.diff["same_structure"] & self.diff["same_content"]).all())

    def differing(self) -> pd.DataFrame:
        return self.diff[~(self.diff["same_structure"] & self.diff["same_content"])]

    def headline(self) -> str:
        if not self.recorded:
            return "Outputs: none recorded on both sides."
        if self.same:
            return (f"Outputs: same structure and content ({len(self.diff)} pattern"
                    f"{'s' * (len(self.diff) != 1)}, after masking volatile values).")
        return f"Outputs: differ ({len(self.differing())} of {len(self.diff)} patterns)."

    def items(self) -> list[str]:
        """One line per difference: ``pattern: key removed: commands[].exit_code`` …"""
        out = []
        for r in self.differing().itertuples():
            if r.note and not (r.added or r.removed or r.type_changed or r.fields):
                out.append(f"{r.pattern}: {r.note}")
            for label, values in (("key paths removed", r.removed), ("key paths added", r.added),
                                  ("type changed", r.type_changed),
                                  ("fields differ", r.fields)):
                if values:
                    more = f" (+{len(values) - ITEMS} more)" if len(values) > ITEMS else ""
                    out.append(f"{r.pattern}: {label}: {', '.join(values[:ITEMS])}{more}")
            if not r.same_content and not r.fields and r.kind != "json" and not r.note:
                out.append(f"{r.pattern}: content differs ({r.kind})")
        return out

    def text(self) -> str:
        return "\n".join([self.headline(), *(f"  - {x}" for x in self.items())]) + "\n"

    def markdown(self) -> str:
        lines = [f"**{md_escape(self.headline())}**"]
        items = self.items()
        if items:
            lines += [""] + [f"- {md_escape(shorten(x, 600))}" for x in items[:LIMIT]]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"same": self.same if self.recorded else None, "headline": self.headline(),
                "patterns": _records(self.diff)}

    def html(self) -> Any:
        items = "".join(f"<li>{escape(x)}</li>" for x in self.items()[:LIMIT])
        return as_html(f"<p><strong>{escape(self.headline())}</strong></p>"
                       + (f"<ul>{items}</ul>" if items else ""))


def _side(dataset: Any, variant: str) -> pd.DataFrame:
    table = read_outputs(dataset)
    return table[table["variant"] == variant]


def outputs_comparison(baseline_data: Any, baseline: str, candidate: str,
                       candidate_data: Any | None = None) -> OutputsComparison:
    """Compare the outputs of ``baseline`` (in ``baseline_data``) and ``candidate`` (in
    ``candidate_data``, or the same dataset)."""
    second = baseline_data if candidate_data is None else candidate_data
    return OutputsComparison(outputs_diff(_side(baseline_data, baseline), _side(second, candidate)))


def with_outputs(rendered: str, fmt_name: str, outputs: OutputsComparison) -> str:
    """A rendered comparison (text, markdown, JSON) with the outputs section added; unchanged
    when no outputs were recorded, or for CSV (a table of metrics)."""
    if not outputs.recorded or fmt_name == "csv":
        return rendered
    if fmt_name == "json":
        doc = json.loads(rendered)
        doc["outputs"] = outputs.to_dict()
        return json.dumps(doc, indent=2, allow_nan=False, default=str)
    section = outputs.markdown() if fmt_name == "markdown" else outputs.text()
    return rendered.rstrip("\n") + "\n\n" + section
