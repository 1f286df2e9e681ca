"""JSON: the machine-readable verdict (``perfkit.compare/1``), full precision.

A guardrail's record also carries ``increase``, ``increase_ci_low`` and ``increase_ci_high``
(candidate/baseline − 1, the sign its table row and its reason use); ``change`` stays as
:func:`perfkit.compare` computed it (positive = better) for every row.
"""

from __future__ import annotations

import json
import math
from typing import Any

from perfkit.analysis.verdict import SUCCESS_METRIC, Comparison


def _finite(x: Any) -> float | None:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def as_dict(result: Comparison) -> dict[str, Any]:
    """:meth:`Comparison.to_dict` with each guardrail's increase next to its change."""
    doc = result.to_dict()
    for rec in doc["metrics"]:
        if rec.get("role") == "guardrail" and rec.get("metric") != SUCCESS_METRIC:
            change, low, high = (_finite(rec.get(k)) for k in ("change", "ci_low", "ci_high"))
            rec["increase"] = None if change is None else -change
            rec["increase_ci_low"] = None if high is None else -high
            rec["increase_ci_high"] = None if low is None else -low
    return doc


def render(result: Comparison) -> str:
    return json.dumps(as_dict(result), indent=2, allow_nan=False)


#: Version of the JSON document of several candidates.
MANY_SCHEMA = "perfkit.compare-many/1"


def as_dict_many(many) -> dict[str, Any]:
    """Several candidates: the family's answer and adjustment, then each candidate's verdict
    (:func:`as_dict`) with the level it was judged at."""
    return {
        "schema": MANY_SCHEMA,
        "baseline": many.baseline,
        "overall": many.overall,
        "exit_code": many.exit_code,
        "confidence": many.confidence,
        "multiplicity": many.method,
        "steps": [{"level": level, "cleared": list(names)} for level, names in many.steps],
        "candidates": [{**as_dict(c), "level": level}
                       for c, level in zip(many.comparisons, many.levels)],
    }


def render_many(many) -> str:
    return json.dumps(as_dict_many(many), indent=2, allow_nan=False)
