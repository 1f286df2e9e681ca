"""``perfkit report``: run a report notebook and write HTML, summary and verdict."""

from __future__ import annotations

import argparse
import json

from perfkit.cli._common import add_comparison_options, parse_band, parse_guardrails
from perfkit.errors import UsageError
from perfkit.present.report import report, trend_report


def _report_parameters(args: argparse.Namespace) -> dict:
    """Notebook parameters from the compare options and ``-p NAME=VALUE`` / ``-p NAME:=JSON``."""
    params: dict = {}
    if args.title is not None:
        params["title"] = args.title
    if args.trend is not None:  # _run_trend refuses the other comparison options
        if args.metric:
            params["metrics"] = list(args.metric)
        if args.seed is not None:
            params["seed"] = args.seed
    elif args.hotspots:
        given = [f"--{name}" for name in ("baseline", "candidate", "target", "metric", "guardrail",
                                           "confidence", "seed", "resamples", "statistic")
                 if getattr(args, name) is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: comparison options, not for --hotspots")
    else:
        if args.baseline:
            params["baseline"] = args.baseline
        if args.candidate:
            params["candidate"] = args.candidate
        if args.metric:
            params["metrics"] = list(args.metric)
        if args.target is not None:
            params["target"] = list(parse_band(args.target))
        if args.guardrail:
            params["guardrails"] = dict(parse_guardrails(args.guardrail))
        for name in ("confidence", "seed", "resamples", "statistic"):
            if getattr(args, name) is not None:
                params[name] = getattr(args, name)
    for item in args.parameter or []:
        # NAME=VALUE is always a string (papermill's own -p turns "12e4567" into inf);
        # NAME:=VALUE is JSON, for numbers, lists and mappings
        name, sep, value = item.partition("=")
        if not sep or not name.strip(":").strip():
            raise UsageError(f"-p: {item!r} is not NAME=VALUE or NAME:=JSON")
        if name.endswith(":"):
            try:
                params[name[:-1].strip()] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise UsageError(f"-p {name[:-1]}: {value!r} is not JSON ({exc.msg})") from None
        else:
            params[name.strip()] = value
    return params


def _run_trend(args: argparse.Namespace) -> int:
    if args.dataset or args.dataset2 or args.hotspots:
        raise UsageError("--trend takes a history folder, not DATASET or --hotspots")
    given = [f"--{name}" for name in ("baseline", "candidate", "target", "guardrail",
                                       "confidence", "resamples", "statistic")
             if getattr(args, name) is not None]
    if given:
        raise UsageError(f"{', '.join(given)}: comparison options, not for --trend "
                         "(it takes --metric, --seed, --title and -p threshold:=0.1)")
    params = _report_parameters(args)
    files = trend_report(args.trend, out=args.out, parameters=params)
    print(f"perfkit report ({files.overall}): {files.html}, {files.notebook}, {files.summary}, "
          f"{files.verdict}")
    return files.exit_code


def _run_report(args: argparse.Namespace) -> int:
    if args.trend is not None:
        return _run_trend(args)
    if not args.dataset:
        raise UsageError("DATASET is required (or --trend HISTORY)")
    files = report(args.dataset, args.dataset2, out=args.out, hotspots_report=args.hotspots,
                   parameters=_report_parameters(args))
    verdict = f" ({files.overall})" if files.overall else ""
    print(f"perfkit report{verdict}: {files.html}, {files.notebook}, {files.summary}"
          + (f", {files.verdict}" if files.verdict else ""))
    return files.exit_code


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="run the comparison (or hotspot) notebook and write HTML, summary and verdict",
        description=(
            "Execute notebooks/compare.ipynb with papermill for DATASET [DATASET2] and write into "
            "--out: report.ipynb (executed), report.html (no code, renders offline), summary.md "
            "(for a pull-request comment) and verdict.json. Exit code as perfkit compare: "
            "0 cleared, 1 not shown, 3 regressed, 2 usage error or a failing notebook. "
            "--hotspots runs notebooks/hotspots.ipynb for a dataset or an orchestrator workspace."
        ),
    )
    p.add_argument("dataset", metavar="DATASET", nargs="?",
                   help="dataset holding both variants, or the baseline's (--hotspots: a dataset "
                   "or an orchestrator workspace)")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report files")
    p.add_argument("--hotspots", action="store_true",
                   help="the hotspot report (where do time and I/O go?) instead of a comparison")
    p.add_argument("--trend", metavar="HISTORY",
                   help="the trend report of a history folder (perfkit history add) instead: "
                   "each metric per commit, its change points and their per-stage breakdown; "
                   "exit code as perfkit history check (3 regressed)")
    add_comparison_options(p, defaults=False)
    p.add_argument("--title", help="report title")
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                   help="any other notebook parameter (NAME=VALUE: a string; NAME:=JSON); "
                   "unknown names are refused")
    p.set_defaults(func=_run_report)
