"""The reliability view: failure modes per stage and per run, as text, markdown, JSON or HTML.

:func:`reliability` reads a dataset or an orchestrator workspace and returns a
:class:`ReliabilityReport`. A workspace is read with :func:`perfkit.data.orchestrator.read_orchestrator`
directly (not through the dataset mapping), so that runs killed while still ``in_progress`` and
their stages stuck at ``running`` count as unfinished instead of vanishing.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tabulate import tabulate

from perfkit import fmt
from perfkit.analysis.reliability import run_outcomes, stage_reliability
from perfkit.data.manifest_shapes import manifest_shapes, shape_consistency
from perfkit.data.orchestrator import read_orchestrator
from perfkit.analysis.outputs import output_stability
from perfkit.data.outputs import manifest_rows
from perfkit.data.schema import outputs_frame
from perfkit.data.sources import is_dataset, load, read_outputs
from perfkit.errors import DatasetError, UsageError
from perfkit.present.markup import as_html, escape, md_escape, table_html
from perfkit.present.outputs_view import stability_markdown, stability_text

FORMATS = ("text", "markdown", "json")

#: Rows shown in text/markdown/HTML (the JSON has every row).
LIMIT = 30


def _interval(rate: float, low: float, high: float) -> str:
    if isinstance(rate, float) and math.isnan(rate):
        return fmt.MISSING
    return f"{rate:.0%} ({low:.0%}–{high:.0%})"


@dataclass
class ReliabilityReport:
    """Per-stage and per-run failure modes of one source."""

    stages: pd.DataFrame  # stage_reliability()
    runs: pd.DataFrame  # run_outcomes()
    source: str = ""
    manifests: pd.DataFrame | None = None  # shape_consistency() of a workspace's run manifests
    outputs: pd.DataFrame | None = None  # output_stability() of the recorded outputs

    def rows(self, limit: int | None = LIMIT) -> list[list[str]]:
        s = self.stages if limit is None else self.stages.head(limit)
        return [[r.variant, r.stage, str(r.runs),
                 _interval(r.failed_rate, r.failed_low, r.failed_high),
                 _interval(r.timed_out_rate, r.timed_out_low, r.timed_out_high),
                 _interval(r.unfinished_rate, r.unfinished_low, r.unfinished_high),
                 _interval(r.retried_rate, r.retried_low, r.retried_high),
                 fmt.ratio(r.tail_ratio)] for r in s.itertuples()]

    HEADERS = ["variant", "stage", "runs", "failed", "timed out", "unfinished", "retried",
               "p95/median"]
    RUN_HEADERS = ["variant", "runs", "ok", "failed", "timeout", "error", "unfinished", "bad"]

    def _run_rows(self) -> list[list[str]]:
        return [[r.variant, str(r.runs), str(r.ok), str(r.failed), str(r.timeout), str(r.error),
                 str(r.unfinished), _interval(r.bad_rate, r.bad_low, r.bad_high)]
                for r in self.runs.itertuples()]

    def headline(self) -> str:
        if self.stages.empty:
            return "No stages recorded: nothing to rank by failure rate."
        worst = self.stages.iloc[0]
        if not worst["bad_rate"] > 0:
            return f"Every stage ended ok in every run ({len(self.stages)} stages)."
        return (f"Worst stage: {worst['stage']} ({worst['variant']}) went wrong in "
                f"{int(worst['runs'] - worst['ok'])} of {int(worst['runs'])} runs "
                f"({_interval(worst['bad_rate'], worst['bad_low'], worst['bad_high'])}, "
                "95 % Wilson interval).")

    def _manifest_lines(self) -> list[str]:
        if self.manifests is None or self.manifests.empty:
            return []
        return [f"run manifests of {r.variant}: {r.structures} structure"
                f"{'s' if r.structures != 1 else ''} across {r.runs} runs "
                f"({'consistent' if r.consistent else 'INCONSISTENT'}; {r.contents} distinct "
                "after masking volatile values)" for r in self.manifests.itertuples()]

    def text(self) -> str:
        parts = [self.headline(), *self._manifest_lines(), ""]
        if len(self.runs):
            parts += [tabulate(self._run_rows(), headers=self.RUN_HEADERS, disable_numparse=True),
                      ""]
        if len(self.stages):
            parts.append(tabulate(self.rows(), headers=self.HEADERS, disable_numparse=True))
        if self.outputs is not None and len(self.outputs):
            parts += ["", stability_text(self.outputs)]
        return "\n".join(parts).rstrip() + "\n"

    def markdown(self) -> str:
        def esc(rows):
            return [[md_escape(c) for c in row] for row in rows]

        parts = ["### Reliability", "", md_escape(self.headline()), "",
                 *[f"- {md_escape(line)}" for line in self._manifest_lines()], ""]
        if len(self.runs):
            parts += [tabulate(esc(self._run_rows()), headers=self.RUN_HEADERS,
                               tablefmt="github", disable_numparse=True), ""]
        if len(self.stages):
            parts.append(tabulate(esc(self.rows()), headers=self.HEADERS, tablefmt="github",
                                  disable_numparse=True))
        if self.outputs is not None and len(self.outputs):
            parts += ["", stability_markdown(self.outputs)]
        return "\n".join(parts).rstrip() + "\n"

    def json(self) -> str:
        def records(df):
            return [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in rec.items()} for rec in df.to_dict("records")]

        manifests = records(self.manifests) if self.manifests is not None else []
        outputs = records(self.outputs) if self.outputs is not None else []
        return json.dumps({"source": self.source, "runs": records(self.runs),
                           "stages": records(self.stages), "manifests": manifests,
                           "outputs": outputs}, indent=2, default=str)

    def render(self, fmt_name: str) -> str:
        if fmt_name not in FORMATS:
            raise UsageError(f"--format {fmt_name!r}: expected one of {', '.join(FORMATS)}")
        return getattr(self, fmt_name)()

    def html(self) -> Any:
        """The stage table for a notebook (cells escaped by :func:`table_html`)."""
        df = pd.DataFrame(self.rows(), columns=self.HEADERS)
        return as_html(f"<p>{escape(self.headline())}</p>" + table_html(df))


def from_tables(runs: pd.DataFrame | None, stages: pd.DataFrame | None,
                source: str = "") -> ReliabilityReport:
    stage_tbl = stage_reliability(stages, runs) if stages is not None else stage_reliability(None)
    run_tbl = run_outcomes(runs) if runs is not None else run_outcomes(None)
    return ReliabilityReport(stages=stage_tbl, runs=run_tbl, source=source)


def reliability(source: str | os.PathLike) -> ReliabilityReport:
    """Failure modes of a dataset folder/file or an orchestrator workspace (a folder with .runs/)."""
    path = Path(source)
    if not path.exists():
        raise DatasetError(f"{source}: no such dataset or orchestrator workspace")
    if is_dataset(path) or path.is_file():
        data = load(path)
        report = from_tables(data.runs, data.stages, str(source))
        report.outputs = output_stability(read_outputs(data))
        return report
    if (path / ".runs").is_dir() or path.name == ".runs":
        data = read_orchestrator(path)
        report = from_tables(data.runs, data.stages, str(source))
        report.manifests = shape_consistency(manifest_shapes(data))
        report.outputs = output_stability(outputs_frame(manifest_rows(data)))
        return report
    raise DatasetError(f"{source}: neither a perfkit dataset nor an orchestrator workspace")
