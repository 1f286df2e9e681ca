"""Charts for the comparison and the hotspot reports, and an offline, deterministic way to show them.

Every chart function takes DataFrames (perfkit's ``runs``/``stages`` tables or tables that perfkit
computed from them) and returns an :class:`altair.Chart`; none of them saves or displays anything.

:func:`use_offline_renderer` makes altair show charts in a way that suits both readers of a report:

* the notebook output is ``text/html`` holding a static SVG of the chart (drawn by vl-convert, so
  it shows in JupyterLab and on GitHub with no network) plus the chart's spec;
* a page that has defined ``window.vegaEmbed`` — the HTML report, whose template inlines the vega
  bundle once — replaces the SVG by the interactive chart (tooltips);
* the output is byte-for-byte stable between executions (a deterministic element id per chart, no
  ``$schema`` URL, seeded jitter), so strict nbval really compares charts.

altair's own renderers do not fit: ``html`` loads vega from a CDN and writes a random id, and in
altair 6 ``mimetype`` emits a mimetype that nbformat 5.11 rejects.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from perfkit._lazy import lazy_module
from perfkit.analysis.spending import level_text
from perfkit.data.schema import comparable_rows
from perfkit.errors import UsageError

#: altair, loaded when the first chart is drawn (see :mod:`perfkit._lazy`).
alt = lazy_module("altair")

RENDERER = "perfkit"

#: Colours per role, so that baseline/candidate look the same in every chart of a report.
BASELINE_COLOR = "#4c78a8"
CANDIDATE_COLOR = "#f58518"
TARGET_COLOR = "#54a24b"

#: The font of every chart (bundled with vl-convert; browsers without it fall back to sans-serif).
FONT = "Liberation Sans, Arial, sans-serif"

#: Width of every chart's plot in pixels: most of a 1400 px report page, not a third of it
#: (fixed, because the static SVG cannot adapt to its container; the page scales it down).
WIDE = 820
#: The same width under its older name (the hotspot charts use it).
WIDTH = WIDE
#: Colour of what belongs to no variant (the bootstrap distribution of the change).
NEUTRAL_COLOR = "#9d9d9d"
#: Units by a metric's name ending (perfkit's columns carry their unit in their name).
_UNITS = (("_s", "s"), ("_kib", "KiB"), ("_bytes", "bytes"), ("_rate", "share"))


def axis_title(metric: str) -> str:
    """``wall_s`` → ``wall_s (s)``; a metric with no unit in its name is a count."""
    if metric in ("io_rchar", "io_wchar"):  # /proc/<pid>/io's bytes read and written
        return f"{metric} (bytes)"
    for ending, unit in _UNITS:
        if metric.endswith(ending):
            return f"{metric} ({unit})"
    return f"{metric} (count)"


def _count_axis() -> alt.Axis:
    """An axis of counts (execution order, runs before): whole numbers only, never "45.5"."""
    return alt.Axis(format="d", tickMinStep=1)


_counter = itertools.count(1)


# --------------------------------------------------------------------------- rendering


def _script_safe_json(obj: Any) -> str:
    """JSON that cannot end the ``<script>`` element it sits in, whatever strings the data holds."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def warm_up() -> None:
    """Start vl-convert's JavaScript runtime now: its first conversion costs most of a second,
    which a kernel that ``perfkit report`` starts early pays before the notebook's first chart."""
    _svg({"data": {"values": [{"x": 0}]}, "mark": "point",
          "encoding": {"x": {"field": "x", "type": "quantitative"}}})


def _svg(spec: dict[str, Any]) -> str:
    import vl_convert as vlc  # imported late: its first call starts a JS runtime

    return vlc.vegalite_to_svg(spec)


def chart_html(spec: dict[str, Any], *, element_id: str | None = None) -> str:
    """The HTML fragment for one chart: a static SVG, upgraded to vega-embed where it is loaded.

    The fragment holds no URL: the SVG is a ``data:`` image and the spec sits in a JSON script
    element whose text cannot close the element (``<``, ``>``, ``&`` are escaped).
    """
    spec = {k: v for k, v in spec.items() if k != "$schema"}  # a URL, and not needed by vega-embed
    # vl-convert ships Liberation Sans: naming it makes the SVG's text layout the same on every
    # machine (a system "sans-serif" differs between hosts, and strict nbval compares the SVG)
    config = dict(spec.get("config") or {})
    config.setdefault("font", FONT)
    spec["config"] = config
    digest = hashlib.sha256(_script_safe_json(spec).encode()).hexdigest()[:12]
    element_id = element_id or f"perfkit-chart-{digest}"
    title = spec.get("title") or spec.get("description") or "chart"
    if isinstance(title, dict):
        title = title.get("text", "chart")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    svg64 = base64.b64encode(_svg(spec).encode("utf-8")).decode("ascii")
    eid = html.escape(element_id, quote=True)
    # The script runs where scripts run (the HTML report; a trusted notebook): if vega-embed is
    # present it draws the interactive chart, else the static SVG stays. A failure restores it.
    script = (
        "(function(){var id=%s;function draw(){var el=document.getElementById(id);"
        "if(!el||!window.vegaEmbed)return;var img=el.firstElementChild;"
        "var spec=JSON.parse(document.getElementById(id+'-spec').textContent);"
        "el.removeChild(img);window.vegaEmbed(el,spec,{actions:false,renderer:'svg'})"
        ".then(function(){el.setAttribute('data-perfkit-rendered','vega');})"
        ".catch(function(){el.replaceChildren(img);});}"
        "if(document.readyState==='loading'){document.addEventListener('DOMContentLoaded',draw);}"
        "else{draw();}})();"
    ) % json.dumps(element_id)
    return (
        f'<div class="perfkit-chart" id="{eid}" data-perfkit-rendered="svg">'
        f'<img alt="{html.escape(str(title), quote=True)}" '
        f'src="data:image/svg+xml;base64,{svg64}"/></div>\n'
        f'<script type="application/json" id="{eid}-spec">{_script_safe_json(spec)}</script>\n'
        f"<script>{script}</script>"
    )


def _renderer(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    # A counter keeps two displays of the same chart apart; in a fresh kernel it is deterministic.
    digest = hashlib.sha256(_script_safe_json(spec).encode()).hexdigest()[:12]
    element_id = f"perfkit-chart-{next(_counter)}-{digest}"
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return {
        "text/html": chart_html(spec, element_id=element_id),
        "text/plain": f"<perfkit chart: {text or spec.get('mark', 'layered')}>",
    }


def use_offline_renderer(interactive: bool = False) -> None:
    """Show altair charts offline and deterministically (see the module docstring).

    ``interactive=True`` (for a live JupyterLab kernel, never for nbval or a report) also puts
    the vega bundle into the notebook once, so each chart's static SVG is replaced by vega's own
    drawing, with tooltips — still with no network. The default keeps outputs small and stable.

    Also lifts altair's 5000-row limit: perfkit's chart data are small by construction (the
    bootstrap distribution is binned before it is charted), and a long history must not fail.
    """
    alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()
    if interactive:
        from IPython.display import HTML, display

        from perfkit.present.html_export import _vega_bundle

        display(HTML(f"<script>{_vega_bundle()}</script>"))


# --------------------------------------------------------------------------- helpers


def _variant_scale(variants: Sequence[str]) -> alt.Scale:
    palette = [BASELINE_COLOR, CANDIDATE_COLOR, "#e45756", "#72b7b2", "#b279a2", "#9d755d"]
    return alt.Scale(domain=list(variants), range=palette[: len(variants)] or palette)


def _ordered_variants(runs: pd.DataFrame, variants: Sequence[str] | None) -> list[str]:
    if variants is not None:
        return list(variants)
    if "order" in runs.columns:
        return list(runs.sort_values("order")["variant"].astype(str).drop_duplicates())
    return list(runs["variant"].astype(str).drop_duplicates())


def _comparable(runs: pd.DataFrame, metric: str | None = None) -> pd.DataFrame:
    """The runs a comparison uses for ``metric``: :func:`perfkit.data.schema.comparable_rows`."""
    return comparable_rows(runs, metric)


def _need(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:

    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UsageError(f"{what}: missing column(s) {', '.join(map(repr, missing))}")


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Columns altair serialises predictably: strings, floats, ints (no pandas NA objects)."""
    out = df.copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.StringDtype) or dtype == object:
            out[col] = out[col].astype(object).where(out[col].notna(), None)
        elif pd.api.types.is_bool_dtype(dtype):
            out[col] = out[col].astype(bool)
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif pd.api.types.is_numeric_dtype(dtype):
            out[col] = pd.to_numeric(out[col]).astype("float64")
    return out


# --------------------------------------------------------------------------- comparison charts


def distributions(
    runs: pd.DataFrame,
    metric: str,
    *,
    variants: Sequence[str] | None = None,
    seed: int = 0,
    title: str | None = None,
) -> alt.LayerChart:
    """Every run of every variant as a point (seeded vertical jitter) and each variant's median.

    ``runs`` is a runs table (warm-up and traced runs are left out, as in a comparison).
    """
    _need(runs, ["variant", metric], "distributions()")
    data = _comparable(runs, metric)
    data = data[data[metric].notna()]
    order = [v for v in _ordered_variants(runs, variants) if v in set(data["variant"].astype(str))]
    cols = [c for c in ("variant", "run", "order", "status") if c in data.columns]
    data = _plain(data[cols + [metric]]).rename(columns={metric: "value"})
    data["variant"] = data["variant"].astype(str)
    # jitter drawn here with a seeded generator: vega's random() would change every render
    data["jitter"] = np.random.default_rng(seed).uniform(-0.3, 0.3, len(data))
    medians = data.groupby("variant", sort=False)["value"].median().reset_index()
    y = alt.Y("variant:N", sort=order, title=None)
    color = alt.Color("variant:N", scale=_variant_scale(order), legend=None)
    points = (
        alt.Chart(data)
        .mark_circle(size=45, opacity=0.7)
        .encode(
            # padded, so that both variants' values sit inside the axis, not on its edge
            x=alt.X("value:Q", title=axis_title(metric), scale=alt.Scale(zero=False, padding=16)),
            y=y,
            yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.5, 0.5])),
            color=color,
            tooltip=[c for c in ("variant:N", "run:Q", "order:Q", "status:N") if c.split(":")[0] in data]
            + [alt.Tooltip("value:Q", title=metric, format=".4g")],
        )
    )
    ticks = (
        alt.Chart(medians)
        .mark_tick(thickness=3, size=34, color="black")
        .encode(
            x="value:Q",
            y=y,
            tooltip=["variant:N", alt.Tooltip("value:Q", title=f"median {metric}", format=".4g")],
        )
    )
    return alt.layer(points, ticks).properties(
        width=WIDE, height=60 * max(len(order), 1), title=title or f"{metric}: every run, and the median"
    )


def bootstrap_histogram(samples: Sequence[float] | np.ndarray, *, bins: int = 60) -> pd.DataFrame:
    """Bin a bootstrap distribution for charting.

    Returns a DataFrame with columns ``start``, ``end`` (bin edges, as changes) and ``count``.
    Binning here keeps the chart's data to ``bins`` rows however many resamples were drawn.
    """
    values = np.asarray(samples, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return pd.DataFrame({"start": [], "end": [], "count": []})
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:  # a constant metric: one bar of zero width would not show
        lo, hi = lo - 0.005, hi + 0.005
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts.astype(float)})


def bootstrap_change(
    samples: Sequence[float] | np.ndarray,
    *,
    estimate: float,
    ci_low: float,
    ci_high: float,
    target: tuple[float, float] | None = (0.10, 0.20),
    metric: str = "",
    confidence: float | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """The bootstrap distribution of the change, with the interval, the estimate and the target band.

    ``samples`` are bootstrap replicates of the change (0.15 = 15 % better); the target band is a
    shaded rectangle, the interval two dashed rules, the estimate a solid rule, zero a grey rule.
    """
    hist = bootstrap_histogram(samples)
    marks = pd.DataFrame(
        {
            "what": ["estimate", "CI low", "CI high", "no change"],
            "x": [estimate, ci_low, ci_high, 0.0],
        }
    ).dropna()
    x = alt.X("start:Q", title=f"change in {metric} (positive = better)", axis=alt.Axis(format="%"))
    layers: list[alt.Chart] = []
    if target is not None:
        band = pd.DataFrame({"low": [target[0]], "high": [target[1]], "what": ["target band"]})
        layers.append(
            alt.Chart(band)
            .mark_rect(color=TARGET_COLOR, opacity=0.18)
            .encode(x="low:Q", x2="high:Q", tooltip=["what:N", alt.Tooltip("low:Q", format=".1%"),
                                                      alt.Tooltip("high:Q", format=".1%")])
        )
    layers.append(
        alt.Chart(hist)
        .mark_rect(color=NEUTRAL_COLOR, opacity=0.75)
        .encode(x=x, x2="end:Q", y=alt.Y("count:Q", title="resamples"), y2=alt.datum(0))
    )
    level = f"{level_text(confidence)} " if confidence else ""
    layers.append(
        alt.Chart(marks)
        .mark_rule(size=2)
        .encode(
            x="x:Q",
            color=alt.Color(
                "what:N",
                scale=alt.Scale(
                    domain=["estimate", "CI low", "CI high", "no change"],
                    range=["black", "#e45756", "#e45756", "#999999"],
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "what:N",
                scale=alt.Scale(
                    domain=["estimate", "CI low", "CI high", "no change"],
                    range=[[1, 0], [6, 3], [6, 3], [2, 2]],
                ),
                legend=None,
            ),
            tooltip=["what:N", alt.Tooltip("x:Q", title="change", format=".2%")],
        )
    )
    return alt.layer(*layers).properties(
        width=WIDE,
        height=180,
        title=title or f"{metric}: bootstrap distribution of the change, {level}interval and target",
    )


def execution_order(
    runs: pd.DataFrame, metric: str, *, variants: Sequence[str] | None = None, title: str | None = None
) -> alt.LayerChart:
    """The metric of each run against its global execution order, one line per variant.

    Where the runs were interleaved, a drift of the machine shows as a common slope of all
    variants; where they were not, it cannot be told apart from the change.
    """
    _need(runs, ["variant", "order", metric], "execution_order()")
    data = _comparable(runs, metric)
    data = data[data[metric].notna()]
    order = _ordered_variants(runs, variants)
    cols = [c for c in ("variant", "run", "order", "status") if c in data.columns]
    data = _plain(data[cols + [metric]]).rename(columns={metric: "value"})
    base = alt.Chart(data).encode(
        x=alt.X("order:Q", title="execution order", axis=_count_axis()),
        y=alt.Y("value:Q", title=axis_title(metric), scale=alt.Scale(zero=False, padding=8)),
        color=alt.Color("variant:N", scale=_variant_scale(order), sort=order),
    )
    lines = base.mark_line(opacity=0.5)
    points = base.mark_circle(size=40).encode(
        tooltip=[c for c in ("variant:N", "run:Q", "order:Q", "status:N") if c.split(":")[0] in data]
        + [alt.Tooltip("value:Q", title=metric, format=".4g")]
    )
    return alt.layer(lines, points).properties(
        width=WIDE, height=200, title=title or f"{metric} in execution order (drift shows as a trend)"
    )


def change_intervals(
    table: pd.DataFrame,
    *,
    label: str = "metric",
    target: tuple[float, float] | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Changes with their intervals, one row per ``label`` (a metric, or a stage).

    ``table`` needs columns ``label``, ``change``, ``ci_low``, ``ci_high`` (and may have
    ``verdict``), like the verdict table or :func:`perfkit.present.report.stage_changes`.
    """
    _need(table, [label, "change", "ci_low", "ci_high"], "change_intervals()")
    cols = [label, "change", "ci_low", "ci_high"] + (["verdict"] if "verdict" in table else [])
    data = _plain(table[cols]).rename(columns={label: "label"})
    data["label"] = data["label"].astype(str)
    data = data.dropna(subset=["change"])
    sort = list(data["label"])
    y = alt.Y("label:N", sort=sort, title=None)
    layers: list[alt.Chart] = []
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"low": [target[0]], "high": [target[1]]}))
            .mark_rect(color=TARGET_COLOR, opacity=0.18)
            .encode(x="low:Q", x2="high:Q")
        )
    layers.append(alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#999999").encode(x="x:Q"))
    tooltip = ["label:N", alt.Tooltip("change:Q", format=".1%"), alt.Tooltip("ci_low:Q", format=".1%"),
               alt.Tooltip("ci_high:Q", format=".1%")] + (["verdict:N"] if "verdict" in data else [])
    layers.append(
        alt.Chart(data)
        .mark_rule(size=2, color=CANDIDATE_COLOR)
        .encode(x=alt.X("ci_low:Q", title="change (positive = better)", axis=alt.Axis(format="%")),
                x2="ci_high:Q", y=y, tooltip=tooltip)
    )
    layers.append(
        alt.Chart(data).mark_circle(size=70, color="black", opacity=1).encode(x="change:Q", y=y, tooltip=tooltip)
    )
    return alt.layer(*layers).properties(
        width=WIDTH, height=24 * max(len(data), 1) + 20, title=title or "change and interval"
    )


# --------------------------------------------------------------------------- hotspot charts


def stage_shares(shares: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Stages ranked by their median share of the run, with the spread over runs (25th–75th pct).

    ``shares`` is :func:`perfkit.analysis.hotspots.stage_shares`'s table (``stage``, ``title``, ``share``,
    ``share_p25``, ``share_p75``, ``median_s``).
    """
    _need(shares, ["stage", "share", "share_p25", "share_p75"], "stage_shares()")
    data = _plain(shares)
    data["label"] = (
        data["title"].fillna(data["stage"]).astype(str) if "title" in data else data["stage"].astype(str)
    )
    sort = list(data.sort_values("share", ascending=False)["label"])
    y = alt.Y("label:N", sort=sort, title=None)
    tooltip = ["stage:N", "label:N", alt.Tooltip("share:Q", format=".1%"),
               alt.Tooltip("share_p25:Q", format=".1%"), alt.Tooltip("share_p75:Q", format=".1%")]
    if "median_s" in data:
        tooltip.append(alt.Tooltip("median_s:Q", format=".4g", title="median seconds"))
    bars = alt.Chart(data).mark_bar(color=BASELINE_COLOR, opacity=0.8).encode(
        x=alt.X("share:Q", title="share of the run's wall time (median over runs)", axis=alt.Axis(format="%")),
        y=y,
        tooltip=tooltip,
    )
    spread = alt.Chart(data).mark_rule(color="black", size=2).encode(x="share_p25:Q", x2="share_p75:Q", y=y)
    return alt.layer(bars, spread).properties(
        width=WIDTH, height=22 * max(len(data), 1) + 20,
        title=title or "where the time goes: stages by share of wall time (bar: median, line: 25–75 %)",
    )


def per_run(runs: pd.DataFrame, metrics: Sequence[str], *, title: str | None = None,
            variants: Sequence[str] | None = None) -> alt.FacetChart:
    """One small panel per metric: its value for every run in execution order (I/O, writes…).

    Each panel is labelled with its unit (:func:`axis_title`); ``variants`` fixes the colour
    order (the report's one colour per variant)."""
    present = [m for m in metrics if m in runs.columns and runs[m].notna().any()]
    _need(runs, ["variant", "order"], "per_run()")
    if not present:

        raise UsageError(f"per_run(): none of the metrics {list(metrics)} has values")
    keep = [c for c in ("variant", "run", "order", "traced") if c in runs.columns]
    # per metric, the runs a comparison would use: timed runs, or the traced ones for counts only
    # a traced pass records (a tracer's own work pollutes the timed counters of a traced run)
    parts = [_comparable(runs, m)[keep + [m]].rename(columns={m: "value"}).assign(metric=m)
             for m in present]
    long = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    long["metric"] = long["metric"].map(axis_title)
    long = _plain(long)
    order = _ordered_variants(runs, variants)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("order:O", title="run (execution order)"),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("variant:N", scale=_variant_scale(order), sort=order),
            tooltip=["metric:N", "variant:N", "run:Q", "order:Q", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=90)
        .facet(row=alt.Row("metric:N", title=None, sort=[axis_title(m) for m in present],
                           header=alt.Header(labelAngle=0, labelAlign="left")),
               title=title or "per run")
        .resolve_scale(y="independent")
    )


def growth(
    history: pd.DataFrame, y: str, *, x: str = "history", y_title: str | None = None,
    title: str | None = None, variants: Sequence[str] | None = None,
) -> alt.LayerChart:
    """A quantity against how many runs came before, with a least-squares line (does it grow?).

    ``history`` is :func:`perfkit.analysis.hotspots.growth`'s table or any table holding ``x`` and ``y``.
    """
    _need(history, [x, y], "growth()")
    cols = [x, y] + [c for c in ("variant", "run_id") if c in history.columns and c not in (x, y)]
    data = _plain(history[cols].dropna(subset=[x, y]))
    by_variant = "variant" in data.columns and data["variant"].nunique() > 1
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:Q", title="runs before this one", axis=_count_axis()),
        y=alt.Y(f"{y}:Q", title=y_title or y, scale=alt.Scale(zero=False)),
    )
    if by_variant:  # one fitted line per variant: their levels differ, growth is within each
        order = list(variants) if variants is not None else list(dict.fromkeys(data["variant"]))
        color = alt.Color("variant:N", scale=_variant_scale(order), sort=order)
        points = base.mark_circle(size=40).encode(
            color=color, tooltip=[alt.Tooltip(f"{c}:{'Q' if c in (x, y) else 'N'}") for c in cols])
        line = base.transform_regression(x, y, groupby=["variant"]).mark_line().encode(color=color)
        return alt.layer(points, line).properties(
            width=WIDTH, height=180, title=title or f"{y_title or y} as the history grows")
    # one variant: its own colour of the report (the first variant's unless told)
    own = BASELINE_COLOR
    if variants is not None and "variant" in data.columns and len(data):
        palette = _variant_scale(list(variants)).range
        name = data["variant"].iloc[0]
        own = palette[list(variants).index(name)] if name in list(variants) else own
    points = base.mark_circle(size=40, color=own).encode(
        tooltip=[alt.Tooltip(f"{c}:{'Q' if c in (x, y) else 'N'}") for c in cols]
    )
    line = base.transform_regression(x, y).mark_line(color=own, strokeDash=[4, 2])
    return alt.layer(points, line).properties(
        width=WIDTH, height=180, title=title or f"{y_title or y} as the history grows"
    )
