"""Values perfkit cannot see below: a guardrail on such a metric is ``unresolved``, never ``held``.

A command's peak RSS (``max_rss_kib``) starts at the RSS of the process that exec'd it: the
collection's floor, recorded in the dataset's meta as ``spawner_rss_kib`` (about 0.5 MiB with the
exec helper, about 11 MiB without it; see :mod:`perfkit.collect.process`). A value at or within
the guardrail's margin of that floor may hide any change of the command's own memory, so the
guardrail cannot be held there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: metric → the dataset meta key of the floor under it
FLOOR_KEYS: Mapping[str, str] = {"max_rss_kib": "spawner_rss_kib"}

AT_FLOOR_NOTE = "at the measurable floor"


def measurable_floor(metric: str, *metas: Mapping[str, Any] | None) -> float | None:
    """The highest floor any of ``metas`` records under ``metric``; None where there is none."""
    key = FLOOR_KEYS.get(metric)
    values = [m.get(key) for m in metas if key and m]
    values = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(values) if values else None


def at_floor_reason(metric: str, baseline: float, candidate: float, margin: float,
                    floor: float | None) -> str | None:
    """Why a guardrail on ``metric`` cannot be judged at this floor, or None when it can.

    Either variant's value at most ``floor · (1 + margin)`` is "at the floor": a change the
    margin is about could sit below what perfkit sees.
    """
    if floor is None or not floor > 0:
        return None
    limit = floor * (1 + (margin if math.isfinite(margin) else 0.0))
    low = min(baseline, candidate)
    if not low <= limit:
        return None
    return (f"{AT_FLOOR_NOTE}: {metric} {low:.0f} is within the {margin:.0%} margin of the "
            f"{floor:.0f} the process that starts the command already uses; "
            "the command's own value may be anything up to it")
