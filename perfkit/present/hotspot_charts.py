"""Charts of the hotspot report that the comparison report does not use (kept apart from
:mod:`perfkit.present.charts`, whose helpers and colours they share)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from perfkit._lazy import lazy_module
from perfkit.errors import UsageError
from perfkit.present.charts import WIDTH, _need, _plain, _variant_scale

#: altair, loaded when the first chart is drawn (see :mod:`perfkit._lazy`).
alt = lazy_module("altair")



def variant_breakdown(breakdown: pd.DataFrame, *, variants: Sequence[str] | None = None,
                      title: str | None = None) -> alt.Chart:
    """Median wall, CPU (user, sys) and off-CPU time per variant: one bar per variant and part.

    ``breakdown`` is :func:`perfkit.analysis.hotspots.variant_breakdown`'s table.
    """
    parts = [m for m in ("wall_s", "cpu_s", "user_s", "sys_s", "off_cpu_s") if m in breakdown]
    _need(breakdown, ["variant"], "variant_breakdown()")
    if not parts:
        raise UsageError("variant_breakdown(): the table has no time column")
    long = breakdown.melt(id_vars=["variant"], value_vars=parts, var_name="part",
                          value_name="seconds").dropna(subset=["seconds"])
    long = _plain(long)
    order = list(variants) if variants is not None else list(dict.fromkeys(long["variant"]))
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("seconds:Q", title="median over timed ok runs (s)"),
            y=alt.Y("part:N", sort=parts, title=None),
            yOffset=alt.YOffset("variant:N", sort=order),
            color=alt.Color("variant:N", scale=_variant_scale(order), sort=order),
            tooltip=["variant:N", "part:N", alt.Tooltip("seconds:Q", format=".4g", title="s")],
        )
        .properties(width=WIDTH, height=40 + 22 * len(parts) * max(1, len(order)) // 2,
                    title=title or "where a run's time goes, per variant")
    )


def stage_growth(stage_history: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Each stage's duration against the runs before it, one colour per stage, with fitted lines.

    ``stage_history`` is :func:`perfkit.analysis.hotspots.stage_growth`'s table.
    """
    _need(stage_history, ["history", "stage", "title", "duration_s"], "stage_growth()")
    data = _plain(stage_history[["history", "stage", "title", "duration_s"]])
    order = list(dict.fromkeys(data["title"]))
    base = alt.Chart(data).encode(
        x=alt.X("history:Q", title="runs before this one"),
        y=alt.Y("duration_s:Q", title="stage duration (s)"),
        color=alt.Color("title:N", sort=order, title="stage"),
    )
    points = base.mark_circle(size=25, opacity=0.6).encode(
        tooltip=["stage:N", "title:N", "history:Q", alt.Tooltip("duration_s:Q", format=".4g")]
    )
    lines = base.transform_regression("history", "duration_s", groupby=["title"]).mark_line()
    return alt.layer(points, lines).properties(
        width=WIDTH, height=200, title=title or "stage durations as the history grows"
    )

