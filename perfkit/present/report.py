"""Reports: run a parameterised notebook with papermill, export it as offline HTML, summarise it.

``perfkit report`` is :func:`report`: it checks the parameters against the notebook's
``parameters`` cell (papermill itself accepts misspelt names silently), executes
``notebooks/compare.ipynb`` (or ``hotspots.ipynb``) with papermill's Python API in the ``python3``
kernel, and writes into the output folder

* ``report.ipynb`` — the executed notebook (kept when a cell fails; the error names the cell),
* ``report.html`` — no code cells, every chart drawn, nothing loaded over the network,
* ``summary.md`` — verdict and table for a pull-request comment (text only, < 64 KB),
* ``verdict.json`` — the machine-readable verdict (comparison reports only).
"""

from __future__ import annotations

import contextlib
import difflib
import html
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from perfkit.errors import DatasetError, NotebookError, UsageError

from perfkit._paths import NOTEBOOKS_DIR, REPO_ROOT, TEMPLATES_DIR
TEMPLATE_NAME = "perfkit_report"

#: GitHub refuses pull-request comments over 65,536 characters; stay clearly below.
SUMMARY_LIMIT = 60_000

KERNEL = "python3"


# --------------------------------------------------------------------------- paths


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb`` of this checkout (``name`` is ``compare`` or ``hotspots``)."""
    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    if not path.exists():
        raise UsageError(f"notebook {name!r}: {path} does not exist (is this a perfkit checkout?)")
    return path


def find_data(path: str | os.PathLike) -> Path:
    """Resolve a dataset path the same way wherever a notebook runs.

    nbval starts the kernel in ``notebooks/``, papermill in the caller's folder: a relative path
    is tried against the working folder, then each of its parents, then the perfkit checkout.
    Returns an absolute path; raises :class:`DatasetError` naming the path if none exists.
    """
    raw = Path(os.fspath(path)).expanduser()
    if raw.is_absolute():
        if not raw.exists():
            raise DatasetError(f"{raw}: no such dataset")
        return raw
    cwd = Path.cwd()
    for base in (cwd, *cwd.parents, REPO_ROOT):
        candidate = base / raw
        if candidate.exists():
            return candidate.resolve()
    raise DatasetError(f"{raw}: no such dataset (looked in {cwd}, its parents and {REPO_ROOT})")


# --------------------------------------------------------------------------- parameters


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, str]:
    """The names of a notebook's parameters (its cell tagged ``parameters``) → default as written."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: str(info.get("default")) for name, info in found.items()}


def check_parameters(notebook: str | os.PathLike, parameters: Mapping[str, Any]) -> None:
    """Refuse parameter names the notebook does not declare (papermill would only warn)."""
    known = notebook_parameters(notebook)
    unknown = [name for name in parameters if name not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UsageError(
            f"unknown parameter {', '.join(hints)} for {Path(notebook).name}; "
            f"it takes: {', '.join(sorted(known))}"
        )


# --------------------------------------------------------------------------- execution


@contextlib.contextmanager
def _kernel_can_import_perfkit() -> Iterator[None]:
    """Let the kernel import this perfkit even when it is not installed (a plain checkout).

    The kernel is a new process that inherits the environment, not ``sys.path``.
    """
    old = os.environ.get("PYTHONPATH")
    parts = [str(REPO_ROOT)] + ([old] if old else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def clean_notebook(nb: Any) -> Any:
    """Drop papermill's timing metadata (it changes every run and would make diffs noisy).

    Execution counts and outputs stay: strict nbval compares only cells that have them.
    """
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def execute(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike | None = None,
    timeout: float | None = 600,
) -> Any:
    """Execute ``notebook`` into ``output`` with papermill; return the executed notebook node.

    Unknown parameter names are refused before a kernel starts. On a failing cell the executed
    copy is still written and :class:`NotebookError` says which cell failed and why.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = Path(notebook).resolve()
    output = Path(output).resolve()
    parameters = dict(parameters or {})
    check_parameters(notebook, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(mode="w+b") as kernel_log:
        try:
            with _kernel_can_import_perfkit():
                papermill.execute_notebook(
                    str(notebook),
                    str(output),
                    parameters=parameters,
                    kernel_name=KERNEL,
                    cwd=str(cwd or notebook.parent),
                    progress_bar=False,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=timeout,
                    kernel_manager_class=_kernel_manager(kernel_log),
                )
        except PapermillExecutionError as exc:
            _clean_file(output)
            count = f" (In [{exc.exec_count}])" if exc.exec_count else ""
            raise NotebookError(
                f"{notebook.name}: cell {exc.cell_index}{count} failed: {exc.ename}: "
                f"{_one_line(exc.evalue)}; the executed notebook is kept at {output}"
            ) from None
        except Exception as exc:  # the kernel died, timed out, or never started
            if output.exists():
                _clean_file(output)
            kernel_log.seek(0)
            tail = kernel_log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise NotebookError(
                f"{notebook.name}: execution failed: {type(exc).__name__}: {_one_line(str(exc))}"
                + (f" (kernel said: {_one_line(' | '.join(tail))})" if tail else "")
                + (f"; the partly executed notebook is kept at {output}" if output.exists() else "")
            ) from None
    return _clean_file(output)


def _kernel_manager(log: Any) -> type:
    """A kernel manager whose kernel writes its own stderr to ``log``, not to the terminal.

    ipykernel ≥ 7.3 warns about unencrypted TCP on every start; a report's user should not see
    that, but a kernel that dies should still be explained (the error quotes the log's tail).
    """
    from jupyter_client.manager import AsyncKernelManager

    class _QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["stderr"] = log
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return _QuietKernelManager


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_file(path: Path) -> Any:
    import nbformat

    nb = clean_notebook(nbformat.read(str(path), as_version=4))
    nbformat.write(nb, str(path))
    return nb


# --------------------------------------------------------------------------- HTML


def _vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script, cached per vl-convert version (it takes ~2 s)."""
    import vl_convert as vlc

    version = getattr(vlc, "__version__", "unknown")
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = cache_root / "perfkit" / f"vega-bundle-vl-convert-{version}.js"
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vlc.javascript_bundle()
    if "</script" in bundle.lower():  # would end the inline <script> element early
        bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        os.replace(tmp, cache)
    return bundle


def export_html(notebook: Any, output: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write ``notebook`` (a node or a path) as a standalone HTML page without code cells.

    The page renders with no network: perfkit's template drops the lab template's CDN scripts and
    inlines the vega bundle once.
    """
    import nbformat
    from nbconvert import HTMLExporter

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = nbformat.from_dict(notebook)
    if title:
        nb.metadata["title"] = title  # the template escapes it
    body, _ = exporter.from_notebook_node(nb, resources={"perfkit_vega_js": _vega_bundle()})
    output = Path(output)
    output.write_text(body, encoding="utf-8")
    return output


class _References(HTMLParser):
    """Collects every URL a page would fetch: src/href/srcset/data attributes and CSS url()/@import."""

    FETCHING = {"src", "href", "srcset", "data", "poster", "background", "xlink:href"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in self.FETCHING and tag != "a":  # a link the reader may click is no dependency
                self.found += [f"<{tag} {name}={u}>" for u in _remote(value)]
            if name == "style":
                self.found += [f"<{tag} style: {u}>" for u in _css_remote(value)]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [f"<style>: {u}>" for u in _css_remote(data)]


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)


def _remote(value: str) -> list[str]:
    parts = [p.strip().split(" ")[0] for p in value.split(",")] if "," in value else [value.strip()]
    return [p for p in parts if _REMOTE.match(p)]


def _css_remote(css: str) -> list[str]:
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css, flags=re.IGNORECASE)
    imports = re.findall(r"@import\s+['\"]([^'\"]+)", css, flags=re.IGNORECASE)
    return [u for u in urls + imports if _REMOTE.match(u)]


def network_references(page: str) -> list[str]:
    """Every resource an HTML page would load over the network (empty list: renders offline).

    Looks at fetching attributes of all elements (``script src``, ``link href``, ``img src``…)
    and at CSS in ``<style>`` elements and ``style`` attributes (``url(…)``, ``@import``).
    URLs that are only text — a namespace, a link in a script's strings — fetch nothing.
    """
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.found


def escape(text: Any) -> str:
    """HTML-escape a string that comes from data (a command line, a stage title)."""
    return html.escape("" if text is None else str(text), quote=True)


def table_html(df: Any, *, index: bool = False, classes: str = "") -> str:
    """A DataFrame as an HTML table whose cells are escaped (pandas escapes by default; a Styler
    would not, and writes random ids)."""
    return df.to_html(index=index, escape=True, na_rep="—", border=0,
                      classes=" ".join(["perfkit-table", *classes.split()]))


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


# --------------------------------------------------------------------------- the comparison report

#: Verdicts that count as "the target metric made it" / "the guardrail held".
_GOOD = {"cleared", "cleared-stretch", "held"}


def _fmt_pct(x: Any) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "—"
    if value != value:  # NaN
        return "—"
    if value in (float("inf"), float("-inf")):  # an unbounded interval (baseline median 0)
        return "+∞" if value > 0 else "−∞"
    if abs(value) < 0.0005:
        return "0.0%"  # never "-0.0%" nor "+0.0%"
    return f"{value:+.1%}"


def _fmt_num(x: Any) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "—"
    if value != value:
        return "—"
    if abs(value) >= 1000 or (value == int(value) and abs(value) < 1e15):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _fmt_r(x: Any) -> str:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if value != value else f"{value:.2f}"


def _flatten(meta: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in meta.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = " ".join(map(str, value)) if all(
                not isinstance(v, (dict, list)) for v in value) else json.dumps(value, default=str)
        else:
            out[name] = "" if value is None else str(value)
    return out


#: Longest metadata value shown whole; longer ones (a long command line) are cut in the display.
META_VALUE_LIMIT = 240


def _meta_rows(meta: Mapping[str, Any]) -> dict[str, str]:
    """:func:`_flatten` for display: a variant's ``argv`` is dropped when it only repeats its
    ``command`` word for word, and a value longer than :data:`META_VALUE_LIMIT` is cut (the
    dataset's ``meta.json`` keeps it whole)."""
    flat = _flatten(meta)
    out = {}
    for key, value in flat.items():
        if key.endswith(".argv") and flat.get(key[: -len("argv")] + "command") == value:
            continue
        if len(value) > META_VALUE_LIMIT:
            value = f"{value[:META_VALUE_LIMIT]}… ({len(value) - META_VALUE_LIMIT:,} more characters)"
        out[key] = value
    return out


def _direction(verdict: str) -> str:
    """An informational row's reading: which way the interval points, with no target implied."""
    if verdict in ("cleared-stretch", "cleared", "improved-unresolved", "improved-below-target"):
        return "better"  # the whole interval is above 0
    return {"no-change": "no clear change", "regressed": "worse"}.get(verdict, "—")


@dataclass
class ComparisonReport:
    """Everything ``notebooks/compare.ipynb`` shows, computed by perfkit (the notebook only displays).

    Built by :func:`comparison`. ``result`` is :func:`perfkit.compare`'s
    :class:`~perfkit.analysis.verdict.Comparison`; ``baseline_data``/``candidate_data`` the datasets
    (``candidate_data`` is ``None`` when one dataset holds both variants).
    """

    result: Any
    baseline_data: Any
    candidate_data: Any | None
    title: str = ""
    sources: tuple[str, str] = ("", "")
    _distributions: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- labels and tables ------------------------------------------------------------------
    @property
    def baseline(self) -> str:
        return self.result.baseline

    @property
    def candidate(self) -> str:
        return self.result.candidate

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.result.settings)

    @property
    def targets(self) -> list[str]:
        t = self.result.table
        return list(t.loc[t["role"] == "target", "metric"])

    def _labels(self) -> tuple[str, str]:
        if self.baseline != self.candidate:
            return self.baseline, self.candidate
        return f"{self.baseline} (baseline)", f"{self.candidate} (candidate)"

    @property
    def runs(self) -> Any:
        """The runs of both variants in one table (``variant`` relabelled if both share a label)."""
        import pandas as pd

        b_label, c_label = self._labels()
        first = self.baseline_data.runs
        if self.candidate_data is None:
            both = first[first["variant"].isin([self.baseline, self.candidate])].copy()
            return both
        b = first[first["variant"] == self.baseline].assign(variant=b_label)
        second = self.candidate_data.runs
        c = second[second["variant"] == self.candidate].assign(variant=c_label)
        return pd.concat([b, c], ignore_index=True)

    @property
    def stages(self) -> Any:
        import pandas as pd

        b_label, c_label = self._labels()
        first = self.baseline_data.stages
        if self.candidate_data is None:
            return first[first["variant"].isin([self.baseline, self.candidate])].copy()
        second = self.candidate_data.stages
        return pd.concat(
            [first[first["variant"] == self.baseline].assign(variant=b_label),
             second[second["variant"] == self.candidate].assign(variant=c_label)],
            ignore_index=True,
        )

    # -- the answer ---------------------------------------------------------------------------
    def title_html(self) -> Any:
        """The report's title and what was compared (escaped: labels and paths come from data)."""
        title = self.title or f"{self.candidate} against {self.baseline}"
        where = (self.sources[0] if self.candidate_data is None
                 else f"{self.sources[0]} → {self.sources[1]}")
        return _html(f"<h2>{escape(title)}</h2><p>baseline {escape(repr(self.baseline))}, "
                     f"candidate {escape(repr(self.candidate))}; data: {escape(where)}</p>")

    def answer(self) -> str:
        """The overall answer in one sentence (plain text)."""
        r = self.result
        t = r.table
        conf = f"{self.settings.get('confidence', 0.95):.0%}"
        low, high = self.settings.get("target", [0.1, 0.2])
        parts = []
        for row in t[t["role"] == "target"].itertuples():
            interval = ("exact: every run counted the same" if row.method == "exact" else
                        f"{conf} interval {_fmt_pct(row.ci_low)} to {_fmt_pct(row.ci_high)}")
            parts.append(
                f"{row.metric} {_fmt_pct(row.change)} (better if positive; {interval}): {row.verdict}"
            )
        guards = t[t["role"] == "guardrail"]
        bad = [f"{g.metric} {g.verdict}" for g in guards.itertuples() if g.verdict != "held"]
        guard_text = "every guardrail held" if not bad else "guardrails: " + ", ".join(bad)
        head = {"cleared": "Cleared", "regressed": "Regressed", "not-shown": "Not shown"}.get(
            r.overall, r.overall)
        return (
            f"{head}: {r.candidate!r} against {r.baseline!r}, target {low:.0%}–{high:.0%} better — "
            + "; ".join(parts) + f"; {guard_text}."
        )

    def answer_html(self) -> Any:
        """:meth:`answer` as an HTML block (escaped: variant and metric names come from data)."""
        return _html(f'<p class="perfkit-answer {escape(self.result.overall)}">'
                     f"{escape(self.answer())}</p>")

    def _display(self, roles: tuple[str, ...]) -> Any:
        import pandas as pd

        t = self.result.table
        t = t[t["role"].isin(roles)]
        conf = f"{self.settings.get('confidence', 0.95):.0%}"
        stat = self.settings.get("statistic", "median")
        rate = t["metric"] == "success_rate"  # perfkit.analysis.verdict.SUCCESS_METRIC

        def level(col: str) -> list[str]:  # the success rate reads as a percentage
            return [f"{v:.0%}" if r and v == v else _fmt_num(v) for v, r in zip(t[col], rate)]

        info = roles == ("info",)
        return pd.DataFrame(
            {
                "metric": t["metric"].astype(str),
                "role": t["role"].astype(str),
                "runs (b/c)": [f"{a}/{b}" for a, b in zip(t["n_baseline"], t["n_candidate"])],
                f"baseline {stat}": level("baseline"),
                f"candidate {stat}": level("candidate"),
                "change": t["change"].map(_fmt_pct),
                # an exact comparison (constant counts) has no interval to show
                f"{conf} interval": ["exact" if m == "exact" else f"{_fmt_pct(a)} to {_fmt_pct(b)}"
                                     for a, b, m in zip(t["ci_low"], t["ci_high"], t["method"])],
                # informational rows have no target: say which way they went, not "cleared"
                ("direction" if info else "verdict"): (t["verdict"].map(_direction) if info
                                                       else t["verdict"].astype(str)),
                "method": t["method"].astype(str),
                "p": t["p_value"].map(lambda p: "—" if p != p else f"{p:.3g}"),
            }
        ).reset_index(drop=True)

    def verdict_table(self) -> Any:
        """Targets and guardrails, formatted for reading (an HTML table, escaped)."""
        return _html(table_html(self._display(("target", "guardrail"))))

    def guardrails_table(self) -> Any:
        """Guardrails with their margins (an HTML table, escaped)."""
        t = self.result.table
        g = self._display(("guardrail",))
        margins = t.loc[t["role"] == "guardrail", "margin"].tolist()
        g.insert(2, "margin", [("—" if m != m else f"{m:.0%}") for m in margins])
        g["increase"] = [_fmt_pct(-c) if c == c else "—"
                         for c in t.loc[t["role"] == "guardrail", "change"]]
        return _html(table_html(g))

    def info_table(self) -> Any:
        """Every other metric (informational rows, no verdict)."""
        return _html(table_html(self._display(("info",))))

    def advice_html(self) -> Any:
        """Reasons, advice on more runs, and the statistical warnings, as escaped lists."""
        r = self.result
        blocks = []
        for title, items in (("Why", r.reasons), ("More runs?", r.advice or
                              ["no row is unresolved: more runs are not needed to decide"]),
                             ("Warnings", [str(w) for w in r.warnings])):
            if items:
                lis = "".join(f"<li>{escape(x)}</li>" for x in items)
                blocks.append(f"<p><strong>{escape(title)}</strong></p><ul>{lis}</ul>")
        return _html("\n".join(blocks))

    def metadata(self) -> Any:
        """Both sides' metadata records side by side (a DataFrame; pandas escapes its HTML)."""
        import pandas as pd

        first = _meta_rows(self.baseline_data.meta)
        if self.candidate_data is None:
            df = pd.DataFrame({"field": list(first), "value": list(first.values())})
        else:
            second = _meta_rows(self.candidate_data.meta)
            keys = list(dict.fromkeys([*first, *second]))
            df = pd.DataFrame({"field": keys,
                               f"baseline ({self.sources[0]})": [first.get(k, "") for k in keys],
                               f"candidate ({self.sources[1]})": [second.get(k, "") for k in keys]})
        return _html(table_html(df, classes="perfkit-meta"))

    # -- statistics for the charts ----------------------------------------------------------
    def _values(self, metric: str) -> tuple[Any, Any]:
        from perfkit.analysis.diagnostics import measured_values

        first = self.baseline_data.runs
        second = first if self.candidate_data is None else self.candidate_data.runs
        b, _ = measured_values(first[first["variant"] == self.baseline], metric)
        c, _ = measured_values(second[second["variant"] == self.candidate], metric)
        return b, c

    def distribution(self, metric: str) -> Any:
        """Bootstrap replicates of the change of ``metric`` (the resamples behind its interval)."""
        if metric not in self._distributions:
            s = self.settings
            b, c = self._values(metric)
            self._distributions[metric] = bootstrap_distribution(
                b, c, statistic=s.get("statistic", "median"),
                n_resamples=int(s.get("n_resamples", 10_000)), seed=s.get("seed", 0))
        return self._distributions[metric]

    def stage_changes(self) -> Any:
        """Per-stage change of duration (see :func:`stage_changes`); empty without stages."""
        s = self.settings
        b_label, c_label = self._labels()
        return stage_changes(self.stages, b_label, c_label, confidence=s.get("confidence", 0.95),
                             statistic=s.get("statistic", "median"),
                             n_resamples=int(s.get("n_resamples", 10_000)), seed=s.get("seed", 0))

    def stage_section(self) -> list[Any]:
        """What the report shows per stage: a chart and a table, or a note that there are none."""
        import pandas as pd

        table = self.stage_changes()
        if table.empty:
            return [_html("<p>This dataset records no stages that ran in both variants.</p>")]
        stat = self.settings.get("statistic", "median")
        shown = pd.DataFrame({
            "stage": table["stage"], "title": table["title"],
            "runs (b/c)": [f"{a}/{b}" for a, b in zip(table["n_baseline"], table["n_candidate"])],
            f"baseline {stat} s": table["baseline"].map(_fmt_num),
            f"candidate {stat} s": table["candidate"].map(_fmt_num),
            "change": table["change"].map(_fmt_pct),
            "interval": [f"{_fmt_pct(a)} to {_fmt_pct(b)}"
                         for a, b in zip(table["ci_low"], table["ci_high"])],
            "method": table["method"],
        })
        return [self.stage_chart(), _html(table_html(shown))]

    # -- charts -------------------------------------------------------------------------------
    def distribution_chart(self, metric: str) -> Any:
        from perfkit.present import charts

        b_label, c_label = self._labels()
        return charts.distributions(self.runs, metric, variants=[b_label, c_label],
                                    seed=int(self.settings.get("seed", 0)))

    def bootstrap_chart(self, metric: str) -> Any:
        from perfkit.present import charts

        row = self.result.row(metric)
        s = self.settings
        return charts.bootstrap_change(
            self.distribution(metric), estimate=float(row["change"]), ci_low=float(row["ci_low"]),
            ci_high=float(row["ci_high"]), target=tuple(s.get("target", (0.1, 0.2))),
            metric=metric, confidence=s.get("confidence"))

    def order_chart(self, metric: str) -> Any:
        from perfkit.present import charts

        return charts.execution_order(self.runs, metric, variants=list(self._labels()))

    def stage_chart(self) -> Any:
        from perfkit.present import charts

        table = self.stage_changes()
        return charts.change_intervals(table.assign(label=table["title"]), label="label",
                                       title="change of each stage's duration, with its interval")

    # -- files ----------------------------------------------------------------------------------
    def summary_markdown(self, limit: int = SUMMARY_LIMIT) -> str:
        """The verdict and table for a pull-request comment: text and tables only, < ``limit``."""
        from perfkit.analysis.verdict import format_markdown

        head = [f"## {_md_escape(self.title)}", ""] if self.title else []
        head += [_md_escape(self.answer()), ""]
        budget = limit - len("\n".join(head)) - 1
        body = "\n".join(format_markdown(self.result, limit=budget))
        text = "\n".join(head) + body + "\n"
        return text if len(text.encode("utf-8")) <= limit else text.encode("utf-8")[: limit - 20].decode(
            "utf-8", "ignore") + "\n_(truncated)_\n"

    def verdict_json(self) -> str:
        """The machine-readable verdict (:meth:`~perfkit.analysis.verdict.Comparison.to_json`)."""
        return self.result.to_json()


def _md_escape(text: str) -> str:
    """Markdown that shows ``text`` literally (a PR comment renders inline HTML and markup)."""
    return re.sub(r"([\\`*_{}\[\]<>|#!~])", r"\\\1", str(text))


def bootstrap_distribution(
    baseline: Any, candidate: Any, *, statistic: str = "median", n_resamples: int = 10_000,
    seed: int = 0,
) -> Any:
    """Bootstrap replicates of ``1 − S(candidate)/S(baseline)`` (each sample resampled on its own).

    Draws exactly as :func:`perfkit.analysis.stats.change_interval` does (same generator, seed and
    resampling), so the histogram is the distribution behind the reported interval. A metric
    constant in both samples gives its exact change. Returns a numpy array of the finite
    replicates (a histogram cannot show the ``-inf`` of a resample whose baseline is 0).
    """
    import numpy as np
    from scipy import stats as sstats

    from perfkit.analysis.stats import _STAT_FUNCS  # the statistics the comparison uses

    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    f = _STAT_FUNCS[statistic]
    if b.size == 0 or c.size == 0:
        return np.array([], dtype=float)
    if np.ptp(b) == 0 and np.ptp(c) == 0:
        sb, sc = float(f(b)), float(f(c))
        exact = 0.0 if sb == sc else (1 - sc / sb if sb else -np.inf)
        return np.full(1, exact)

    if min(b.size, c.size) < 2:
        return np.array([], dtype=float)  # change_interval gives no interval either

    def ratio_change(x, y, axis=-1):
        sx, sy = f(x, axis=axis), f(y, axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - sy / sx
        return np.where((sx == 0) & (sy == 0), 0.0, out)  # as change_interval does

    res = sstats.bootstrap((b, c), ratio_change, n_resamples=int(n_resamples), method="percentile",
                           vectorized=True, paired=False, rng=np.random.default_rng(seed))
    dist = np.asarray(res.bootstrap_distribution, dtype=float)
    return dist[np.isfinite(dist)]


def stage_changes(
    stages: Any, baseline: str, candidate: str, *, confidence: float = 0.95,
    statistic: str = "median", n_resamples: int = 10_000, seed: int = 0,
) -> Any:
    """Change of each stage's duration between two variants, with its bootstrap interval.

    Only stages that ran (with a duration) in both variants are compared. Returns one row per
    stage, in the baseline's stage order, with columns ``stage``, ``title``, ``n_baseline``,
    ``n_candidate``, ``baseline``, ``candidate`` (the statistic of the durations, seconds),
    ``change`` (1 − candidate/baseline: positive = faster), ``ci_low``, ``ci_high``, ``method``.
    """
    import pandas as pd

    from perfkit.analysis.stats import change_interval

    columns = ["stage", "title", "n_baseline", "n_candidate", "baseline", "candidate", "change",
               "ci_low", "ci_high", "method"]
    if stages is None or len(stages) == 0:
        return pd.DataFrame(columns=columns)
    st = stages.dropna(subset=["duration_s"])
    if "status" in st.columns:
        st = st[st["status"].isin(["ok", "succeeded"]) | st["status"].isna()]
    b = st[st["variant"] == baseline]
    c = st[st["variant"] == candidate]
    order = b.sort_values("index", kind="stable")["stage"].drop_duplicates() if "index" in b else (
        b["stage"].drop_duplicates())
    rows = []
    for stage in order:
        vb = b.loc[b["stage"] == stage, "duration_s"].to_numpy(float)
        vc = c.loc[c["stage"] == stage, "duration_s"].to_numpy(float)
        if vb.size < 2 or vc.size < 2:
            continue
        ci = change_interval(vb, vc, statistic=statistic, confidence=confidence,
                             n_resamples=n_resamples, seed=seed)
        title = b.loc[b["stage"] == stage, "title"].dropna()
        rows.append({"stage": str(stage), "title": str(title.iloc[0]) if len(title) else str(stage),
                     "n_baseline": ci.n_baseline, "n_candidate": ci.n_candidate,
                     "baseline": ci.baseline, "candidate": ci.candidate, "change": ci.change,
                     "ci_low": ci.ci_low, "ci_high": ci.ci_high, "method": ci.method})
    return pd.DataFrame(rows, columns=columns)


def _pick_variant(dataset: Any, wanted: str | None, default: str) -> str:
    """``wanted`` if given; else ``default`` if the dataset has it; else its only variant."""
    if wanted:
        return wanted
    variants = dataset.variants
    if default in variants or len(variants) != 1:
        return default
    return variants[0]


def default_metrics(*runs: Any) -> list[str]:
    """``wall_s``, plus ``manifest_writes`` when every runs table given has counts in it."""
    import pandas as pd

    counted = all("manifest_writes" in r.columns
                  and pd.to_numeric(r["manifest_writes"], errors="coerce").notna().any()
                  for r in runs)
    return ["wall_s", "manifest_writes"] if counted else ["wall_s"]


def comparison(
    baseline_path: str | os.PathLike,
    candidate_path: str | os.PathLike | None = None,
    *,
    baseline: str | None = None,
    candidate: str | None = None,
    metrics: Any = None,
    target: Any = (0.10, 0.20),
    guardrails: Mapping[str, float] | None = None,
    confidence: float = 0.95,
    statistic: str = "median",
    seed: int = 0,
    resamples: int = 10_000,
    title: str = "",
) -> ComparisonReport:
    """Load the dataset(s), run :func:`perfkit.compare`, and return what the report shows.

    ``baseline_path`` holds both variants, or (with ``candidate_path``) only the baseline's runs.
    Variant labels default to ``baseline``/``candidate``, or a one-variant dataset's only label.
    Relative paths are found with :func:`find_data`. ``metrics=None`` judges ``wall_s``, and
    ``manifest_writes`` too when both sides carry traced counts (the two targets ``perfkit demo``
    judges). ``guardrails=None`` uses compare's default (peak memory within 5 %).
    """
    from perfkit.data.sources import load
    from perfkit.analysis.verdict import DEFAULT_GUARDRAILS, compare

    first = load(find_data(baseline_path))
    second = load(find_data(candidate_path)) if candidate_path else None
    base = _pick_variant(first, baseline, "baseline")
    cand = _pick_variant(second if second is not None else first, candidate, "candidate")
    if metrics is None:
        metrics = default_metrics(first.runs, (second if second is not None else first).runs)
    result = compare(
        first, base, cand, candidate_runs=second,
        targets=[metrics] if isinstance(metrics, str) else list(metrics),
        target=target if isinstance(target, (int, float)) else tuple(target),
        guardrails=DEFAULT_GUARDRAILS if guardrails is None else dict(guardrails),
        confidence=confidence, statistic=statistic, n_resamples=resamples, seed=seed,
    )
    sources = (str(baseline_path), str(candidate_path or baseline_path))
    return ComparisonReport(result=result, baseline_data=first, candidate_data=second,
                            title=title, sources=sources)


# --------------------------------------------------------------------------- the hotspot report


def _varies(values: Any, rel: float = 0.001) -> bool:
    """At least two values, spread over more than ``rel`` (0.1 %) of their median's size."""
    v = values.dropna()
    if len(v) < 2 or v.nunique() < 2:
        return False
    scale = abs(float(v.median()))
    return scale == 0 or float(v.max() - v.min()) > rel * scale


@dataclass
class HotspotsReport:
    """Everything ``notebooks/hotspots.ipynb`` shows; built by :func:`hotspots`."""

    data: Any
    source: str
    title: str = ""

    @property
    def runs(self) -> Any:
        return self.data.runs

    @property
    def stages(self) -> Any:
        return self.data.stages

    def overview(self) -> str:
        """One sentence: what was read, and where the time goes."""
        runs, shares = self.runs, self.shares()
        variants = ", ".join(map(str, self.data.variants)) or "none"
        warm = int(runs["warmup"].sum()) if "warmup" in runs.columns else 0
        traced = int(runs["traced"].sum()) if "traced" in runs.columns else 0
        extra = [f"{warm} warm-up" + "s" * (warm > 1)] * bool(warm) + [
            f"{traced} traced"] * bool(traced)
        text = (f"{len(runs) - warm - traced} timed runs"
                + (f" (+{', '.join(extra)})" if extra else "")
                + f" of {variants}, {len(self.stages)} stage records")
        if len(shares):
            top = shares.iloc[0]
            text += (f"; the largest stage is {top['title']!r}, a median {top['share']:.0%} of a "
                     f"run's wall time (25–75 %: {top['share_p25']:.0%}–{top['share_p75']:.0%})")
        slopes = self.slopes()
        # CPU time next to wall time: a wall-time slope with flat CPU time is the machine drifting
        # over a collection made run after run, not the history
        for metric, label in (("wall_s", "wall time"), ("cpu_s", "CPU time (user + sys)")):
            fit = slopes[(slopes["metric"] == metric) & slopes["growth"].notna()]
            if len(fit):
                fits = [(f"{w.variant}: " if len(fit) > 1 else "")
                        + f"{w.growth:+.1%} over {w.n} runs (r = {_fmt_r(w.r)})"
                        for w in fit.itertuples()]
                text += f"; fitted {label} from the first to the last run: " + ", ".join(fits)
        return text + "."

    def title_html(self) -> Any:
        title = self.title or "Where do time and I/O go?"
        return _html(f"<h2>{escape(title)}</h2><p>data: {escape(self.source)}</p>")

    def overview_html(self) -> Any:
        return _html(f'<p class="perfkit-answer">{escape(self.overview())}</p>')

    def shares(self) -> Any:
        from perfkit.analysis.hotspots import stage_shares

        return stage_shares(self.stages, self.runs)

    def shares_table(self) -> Any:
        import pandas as pd

        s = self.shares()
        df = pd.DataFrame({
            "stage": s["stage"], "title": s["title"], "runs": s["runs"],
            "median s": s["median_s"].map(_fmt_num),
            "share": s["share"].map(lambda x: f"{x:.1%}"),
            "share 25–75 %": [f"{a:.1%}–{b:.1%}" for a, b in zip(s["share_p25"], s["share_p75"])],
            "cv": s["cv"].map(lambda x: "—" if x != x else f"{x:.2f}"),
        })
        return _html(table_html(df))

    def io_metrics(self) -> list[str]:
        from perfkit.analysis.hotspots import io_metrics

        return io_metrics(self.runs)

    def history(self) -> Any:
        from perfkit.analysis.hotspots import growth

        return growth(self.runs)

    def slopes(self) -> Any:
        """Growth per earlier run of the run-level metrics, then of each stage's duration."""
        import pandas as pd

        from perfkit.analysis.hotspots import growth_slopes, stage_growth, stage_growth_slopes

        run_level = growth_slopes(self.history())
        per_stage = stage_growth_slopes(stage_growth(self.stages, self.runs))
        return pd.concat([run_level, per_stage], ignore_index=True) if len(per_stage) else run_level

    def slopes_table(self) -> Any:
        import pandas as pd

        s = self.slopes()
        df = pd.DataFrame({
            "variant": s["variant"], "metric": s["metric"], "runs": s["n"], "fitted first": s["first"].map(_fmt_num),
            "fitted last": s["last"].map(_fmt_num), "per run": s["per_run"].map(_fmt_num),
            "first → last": s["growth"].map(_fmt_pct),
            "r": s["r"].map(_fmt_r),
        })
        return _html(table_html(df))

    def metadata(self) -> Any:
        import pandas as pd

        flat = _meta_rows(self.data.meta)
        return _html(table_html(pd.DataFrame({"field": list(flat), "value": list(flat.values())}),
                                classes="perfkit-meta"))

    # charts
    def shares_chart(self) -> Any:
        from perfkit.present import charts

        return charts.stage_shares(self.shares())

    def io_section(self) -> list[Any]:
        """A panel per I/O counter the runs carry, or a note that they carry none."""
        from perfkit.present import charts

        metrics = self.io_metrics()
        if not metrics:
            return [_html("<p>These runs carry no I/O counters.</p>")]
        return [charts.per_run(self.runs, metrics, title="I/O and file operations per run")]

    def shares_section(self) -> list[Any]:
        if self.shares().empty:
            return [_html("<p>These runs record no stages.</p>")]
        return [self.shares_chart(), self.shares_table()]

    def growth_charts(self) -> list[Any]:
        from perfkit.present import charts

        from perfkit.analysis.hotspots import stage_growth

        h = self.history()
        out = [charts.growth(h, m) for m in h.columns
               if m not in ("history", "variant", "run", "order") and _varies(h[m])]
        # a constant (or a size that moves by a few bytes in 50 KB) is in the table: its chart,
        # on an axis that does not start at zero, would draw a steep line through nothing
        per_stage = stage_growth(self.stages, self.runs)
        if len(per_stage):
            out.append(charts.stage_growth(per_stage))
        return out

    def summary_markdown(self, limit: int = SUMMARY_LIMIT) -> str:
        """Top stages and growth for a pull-request comment (text and tables only)."""
        from tabulate import tabulate

        s = self.shares().head(15)
        lines = ([f"## {_md_escape(self.title)}", ""] if self.title else []) + [
            _md_escape(self.overview()), ""]
        if len(s):
            rows = [[_md_escape(r.title), r.runs, _fmt_num(r.median_s), f"{r.share:.1%}",
                     f"{r.share_p25:.1%}–{r.share_p75:.1%}"] for r in s.itertuples()]
            lines += tabulate(rows, headers=["stage", "runs", "median s", "share", "25–75 %"],
                              tablefmt="github", disable_numparse=True).splitlines() + [""]
        g = self.slopes()
        if len(g):
            rows = [[_md_escape(r.variant), r.metric, r.n, _fmt_num(r.per_run), _fmt_pct(r.growth),
                     _fmt_r(r.r)] for r in g.itertuples()]
            lines += tabulate(rows, headers=["variant", "metric", "runs", "per run", "first → last",
                                             "r"],
                              tablefmt="github", disable_numparse=True).splitlines()
        text = "\n".join(lines) + "\n"
        return text if len(text) <= limit else text[: limit - 20] + "\n_(truncated)_\n"


def hotspots(source: str | os.PathLike, *, title: str = "") -> HotspotsReport:
    """Load a dataset or an orchestrator workspace for the hotspot report."""
    from perfkit.data.sources import load_source

    return HotspotsReport(data=load_source(find_data(source)), source=str(source), title=title)


# --------------------------------------------------------------------------- perfkit report


@dataclass
class ReportFiles:
    """What :func:`report` wrote, and the exit code ``perfkit report`` returns."""

    out: Path
    notebook: Path
    html: Path
    summary: Path
    verdict: Path | None
    exit_code: int
    overall: str | None = None


def _absolute(path: str | os.PathLike | None) -> str:
    return str(find_data(path)) if path else ""


def report(
    dataset: str | os.PathLike,
    dataset2: str | os.PathLike | None = None,
    *,
    out: str | os.PathLike,
    hotspots_report: bool = False,
    parameters: Mapping[str, Any] | None = None,
) -> ReportFiles:
    """Execute the comparison (or hotspot) notebook for ``dataset`` and write the report files.

    ``parameters`` are further notebook parameters (names checked against the notebook's
    ``parameters`` cell before anything runs). For a comparison the verdict is computed here
    first — so a bad option fails in a second, not after a kernel start — and the notebook
    recomputes it with the same seed. Returns :class:`ReportFiles`; ``exit_code`` is
    ``perfkit compare``'s (0 cleared, 1 not shown, 3 regressed) and 0 for a hotspot report.
    """
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create folder ({exc.strerror})") from None
    params = dict(parameters or {})
    name = "hotspots" if hotspots_report else "compare"
    nb_path = notebook_path(name)
    if hotspots_report:
        if dataset2:
            raise UsageError("--hotspots takes one DATASET (a dataset or an orchestrator workspace)")
        params["source"] = _absolute(dataset)
    else:
        params["baseline_path"] = _absolute(dataset)
        params["candidate_path"] = _absolute(dataset2)
    check_parameters(nb_path, params)

    verdict_path = None
    overall = None
    exit_code = 0
    summary_path = out_dir / "summary.md"
    if hotspots_report:
        built = hotspots(params["source"], title=params.get("title", ""))
        summary_path.write_text(built.summary_markdown(), encoding="utf-8")
    else:
        keys = {"baseline", "candidate", "metrics", "target", "guardrails", "confidence",
                "statistic", "seed", "resamples", "title"}
        built = comparison(params["baseline_path"], params["candidate_path"] or None,
                           **{k: v for k, v in params.items() if k in keys})
        verdict_path = out_dir / "verdict.json"
        verdict_path.write_text(built.verdict_json() + "\n", encoding="utf-8")
        summary_path.write_text(built.summary_markdown(), encoding="utf-8")
        overall = built.result.overall
        exit_code = built.result.exit_code
        # the notebook's default names manifest_writes, which not every dataset carries: pass
        # the targets judged here, so that the notebook judges the same ones
        params.setdefault("metrics", built.targets)

    nb_out = out_dir / "report.ipynb"
    executed = execute(nb_path, nb_out, params, cwd=out_dir.resolve())
    html_path = export_html(executed, out_dir / "report.html",
                            title=params.get("title") or f"perfkit {name} report")
    return ReportFiles(out=out_dir, notebook=nb_out, html=html_path, summary=summary_path,
                       verdict=verdict_path, exit_code=exit_code, overall=overall)


def refresh_notebooks(names: tuple[str, ...] = ("compare", "hotspots")) -> list[Path]:
    """Re-execute the committed notebooks in place with their defaults (for strict nbval).

    Runs each in ``notebooks/`` — where nbval runs it — and keeps it only if it succeeded.
    """
    done = []
    for name in names:
        path = notebook_path(name)
        tmp = path.with_name(f".{path.stem}.refresh.ipynb")
        try:
            execute(path, tmp, {}, cwd=NOTEBOOKS_DIR)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        done.append(path)
    return done

