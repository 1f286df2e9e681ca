"""JSON: the machine-readable verdict (``perfkit.compare/1``), full precision."""

from __future__ import annotations

from perfkit.analysis.verdict import Comparison


def render(result: Comparison) -> str:
    return result.to_json()
