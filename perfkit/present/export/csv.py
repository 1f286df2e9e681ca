"""CSV: the comparison table, one row per metric, full precision (for a spreadsheet or pandas)."""

from __future__ import annotations

from perfkit.analysis.verdict import Comparison


def render(result: Comparison) -> str:
    return result.table.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def render_many(many) -> str:
    """Several candidates: every candidate's table in one, with ``variant`` (which candidate) and ``level``."""
    return many.table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
