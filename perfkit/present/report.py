"""``perfkit report``: run a report notebook and write what a reviewer opens.

:func:`report` checks the parameters against the notebook's ``parameters`` cell, computes the
verdict first (a bad option fails in a second, and the folder is left as it was) while the
notebook's kernel boots on the other core, executes ``notebooks/compare.ipynb`` (or ``hotspots.ipynb``) with papermill and writes into the output folder

* ``report.ipynb`` — the executed notebook (kept when a cell fails; the error names the cell),
* ``report.html`` — no code cells, every chart drawn, nothing loaded over the network,
* ``summary.md`` — verdict and table for a pull-request comment (text only, < 64 KB),
* ``verdict.json`` — the machine-readable verdict (comparison reports only).

:func:`trend_report` does the same for ``notebooks/trend.ipynb`` over a history folder
(``perfkit report --trend HISTORY``), with ``check.json`` (``perfkit history check --format json``)
in place of the verdict.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.errors import EXIT_OK, EXIT_REGRESSED, DatasetError, UsageError
from perfkit.present import handoff
from perfkit.present.html_export import export_html, warm_up, write_text_atomic
from perfkit.present.runner import (
    check_parameters,
    execute,
    find_data,
    notebook_path,
    start_kernel,
)


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


#: The file that marks a folder as one ``perfkit report`` made (and may write into again).
MARKER = ".perfkit-report"


def check_out(out_dir: Path) -> None:
    """Refuse ``out_dir`` unless it is new, empty or a previous report's folder — without
    touching it (a report checks this first and creates the folder only once its own
    arguments proved good, so that a failed report leaves the folder as it found it).

    A non-empty folder that ``perfkit report`` did not make is refused: the report's files would
    land among the user's (the same rule as ``perfkit demo --out``).
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise UsageError(f"--out {out_dir}: folder is not empty and was not made by perfkit "
                         "report; choose another folder")


def prepare_out(out_dir: Path) -> None:
    """Create ``out_dir`` (or accept it: :func:`check_out`) and mark it as a report's folder."""
    check_out(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / MARKER).write_text("made by `perfkit report`; a re-run writes here again\n",
                                      encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create folder ({exc.strerror})") from None


#: vl-convert's JavaScript runtime starts on a thread of the kernel: the kernel answers ~0.3 s
#: sooner, and the first chart finds the runtime ready (or waits for it) all the same.
_WARM_CHARTS = ["import threading as _t, perfkit.present.charts as _c",
                "_t.Thread(target=_c.warm_up, daemon=True).start(); del _t, _c"]

#: What the kernel of each report imports while ``perfkit report`` judges (IPython exec_lines).
PRELOAD = {
    "compare": ["import perfkit.present.compare_view", *_WARM_CHARTS],
    "hotspots": ["import perfkit.present.hotspots_view", *_WARM_CHARTS],
}


def _make_folder(out_dir: Path) -> Path | None:
    """Create ``out_dir`` (unmarked); return the outermost folder this created, or None."""
    missing = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out_dir}: cannot create folder ({exc.strerror})") from None
    return missing[-1] if missing else None


def _unmake_folder(top: Path | None) -> None:
    """Remove the empty folders :func:`_make_folder` created below and including ``top``."""
    if top is None:
        return
    for folder in sorted((p for p in (top, *top.rglob("*")) if p.is_dir()),
                         key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only an empty one goes


def _quietly(work: Callable[[], None]) -> Callable[[], None]:
    """``work`` for a helper thread: a failure is left to the real call afterwards to report."""
    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 (the export itself raises it again, in the main thread)
            pass
    return run


def _absolute(path: str | os.PathLike | None) -> str:
    return str(find_data(path)) if path else ""


def report(
    dataset: str | os.PathLike,
    dataset2: str | os.PathLike | None = None,
    *,
    out: str | os.PathLike,
    hotspots_report: bool = False,
    parameters: Mapping[str, Any] | None = None,
    report_url: str | None = None,
) -> ReportFiles:
    """Execute the comparison (or hotspot) notebook for ``dataset`` and write the report files.

    ``parameters`` are further notebook parameters (names checked against the notebook's
    ``parameters`` cell before anything runs). For a comparison the verdict is computed here
    first — so a bad option fails in a second, before ``out`` is marked — while the kernel,
    started just before (:func:`~perfkit.present.runner.start_kernel`), boots and imports;
    the verdict is then handed to it, and the notebook shows it without computing it again
    (:mod:`.handoff`).
    Returns :class:`ReportFiles`; ``exit_code`` is ``perfkit compare``'s (0 cleared, 1 not
    shown, 3 regressed) and 0 for a hotspot report.
    ``out`` must be new, empty or a previous report's folder (:func:`prepare_out`).
    ``report_url`` (default: ``$PERFKIT_REPORT_URL``, which the workflow sets to the report
    artifact's page) is linked from ``summary.md``.
    """
    report_url = report_url or os.environ.get("PERFKIT_REPORT_URL") or None
    out_dir = Path(out)
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
    check_out(out_dir)
    # the kernel boots (and imports what the notebook needs) while this process judges; it
    # runs in the output folder, which is marked only once the judging succeeded
    made = _make_folder(out_dir)
    kernel = start_kernel(out_dir.resolve(), PRELOAD[name])
    try:
        try:
            built, key, verdict_path, summary_path = _judge(out_dir, params, hotspots_report,
                                                            report_url)
        except BaseException:
            _unmake_folder(made)  # a failed report leaves the folder as it found it
            raise
        # the kernel takes what was built here instead of computing it again (.handoff)
        params["prepared"] = handoff.give(out_dir, "hotspots" if hotspots_report
                                          else "comparison", key, built)
        nb_out = out_dir / "report.ipynb"
        # the export's one-off work runs while the kernel does (this process only waits for it)
        warming = threading.Thread(target=_quietly(warm_up), name="perfkit-export-warm-up",
                                   daemon=True)
        warming.start()
        try:
            executed = execute(nb_path, nb_out, params, cwd=out_dir.resolve(), kernel=kernel)
        finally:
            handoff.withdraw(out_dir)
            warming.join()
    finally:
        if kernel is not None:
            kernel.shutdown()  # execute() did already, unless judging failed
    overall = None if hotspots_report else built.result.overall
    exit_code = 0 if hotspots_report else built.result.exit_code
    html_path = export_html(executed, out_dir / "report.html",
                            title=params.get("title") or f"perfkit {name} report")
    return ReportFiles(out=out_dir, notebook=nb_out, html=html_path, summary=summary_path,
                       verdict=verdict_path, exit_code=exit_code, overall=overall)


def _judge(out_dir: Path, params: dict[str, Any], hotspots_report: bool,
           report_url: str | None) -> tuple[Any, dict[str, Any], Path | None, Path]:
    """Build the comparison (or hotspot view), mark ``out_dir`` and write ``verdict.json`` and
    ``summary.md``; return what was built, its hand-off key and the two files' paths.
    ``params`` gets the judged targets (the notebook then judges the same ones)."""
    # the views (pandas, scipy, altair: about a second) are imported here, after the kernel
    # was started, so that it boots meanwhile
    from perfkit.present.compare_view import comparison, comparison_arguments
    from perfkit.present.hotspots_view import hotspots

    verdict_path = None
    summary_path = out_dir / "summary.md"
    if hotspots_report:
        built = hotspots(params["source"], title=params.get("title", ""))
        prepare_out(out_dir)
        write_text_atomic(summary_path, built.summary_markdown())
        key = {"source": params["source"], "title": params.get("title", "")}
    else:
        keys = {"baseline", "candidate", "metrics", "target", "guardrails", "confidence",
                "statistic", "seed", "resamples", "title"}
        given = {k: v for k, v in params.items() if k in keys}
        built = comparison(params["baseline_path"], params["candidate_path"] or None, **given)
        prepare_out(out_dir)
        verdict_path = out_dir / "verdict.json"
        write_text_atomic(verdict_path, built.verdict_json() + "\n")
        write_text_atomic(summary_path, built.summary_markdown(report_url=report_url))
        # the notebook's default names manifest_writes, which not every dataset carries: pass
        # the targets judged here, so that the notebook judges the same ones
        params.setdefault("metrics", built.targets)
        given["metrics"] = params["metrics"]
        key = comparison_arguments(params["baseline_path"], params["candidate_path"] or None,
                                   **given)
    return built, key, verdict_path, summary_path


def trend_report(history: str | os.PathLike, *, out: str | os.PathLike,
                 parameters: Mapping[str, Any] | None = None) -> ReportFiles:
    """Execute the trend notebook for the history folder ``history`` and write the report files.

    The history is checked here first (a folder that is not a history, an empty one, an unknown
    benchmark or metric fails in a second, before ``out`` is touched) and the check is handed to
    the notebook's kernel, which shows it without running it again (:mod:`.handoff`): one check
    per report, and the notebook shows exactly what ``check.json`` and the exit code say.
    ``exit_code`` is ``perfkit history check``'s: 3 when a step or a drift regressed, else 0.
    ``check.json`` takes the place of ``verdict.json``.
    """
    from perfkit.analysis.history_check import THRESHOLD
    from perfkit.present.trend_report import trend, trend_arguments
    from perfkit.present.trend_view import to_json

    out_dir = Path(out)
    params = dict(parameters or {})
    nb_path = notebook_path("trend")
    try:
        params["history"] = str(find_data(history))
    except DatasetError:
        raise DatasetError(f"--trend {history}: no such history folder") from None
    check_parameters(nb_path, params)
    check_out(out_dir)
    # the notebook's defaults, where the parameters leave them out
    arguments = {"names": params.get("benchmarks") or None,
                 "metrics": params.get("metrics") or None,
                 "threshold": params.get("threshold", THRESHOLD), "seed": params.get("seed", 0),
                 "title": params.get("title", "")}
    built = trend(params["history"], **arguments)
    prepare_out(out_dir)
    summary_path, check_path = out_dir / "summary.md", out_dir / "check.json"
    write_text_atomic(summary_path, built.summary_markdown())
    write_text_atomic(check_path, to_json(built.result) + "\n")
    params["prepared"] = handoff.give(out_dir, "trend",
                                      trend_arguments(params["history"], **arguments), built)
    nb_out = out_dir / "report.ipynb"
    try:
        executed = execute(nb_path, nb_out, params, cwd=out_dir.resolve())
    finally:
        handoff.withdraw(out_dir)
    html_path = export_html(executed, out_dir / "report.html",
                            title=params.get("title") or "perfkit trend report")
    return ReportFiles(out=out_dir, notebook=nb_out, html=html_path, summary=summary_path,
                       verdict=check_path, exit_code=EXIT_REGRESSED if built.result.regressed else EXIT_OK,
                       overall="regressed" if built.result.regressed else "no regression")
