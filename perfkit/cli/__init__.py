"""The ``perfkit`` command: one subcommand per step of the loop, each a thin layer over the library.

Exit codes: 0 success (for compare/report: cleared), 1 not shown, 2 usage or input error,
3 regressed or a guardrail broken, 130 interrupted.
Each subcommand lives in a ``_add_<name>(subparsers)`` function that registers its parser and sets
``func``; the handler returns the exit code.
"""

from __future__ import annotations

import argparse
import sys

from perfkit import __version__
from perfkit.errors import PerfkitError

EXIT_OK = 0
EXIT_NOT_SHOWN = 1
EXIT_USAGE = 2
EXIT_REGRESSED = 3
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus usage) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"perfkit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfkit", description="Did the performance fix really work?")
    parser.add_argument("--version", action="version", version=f"perfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list = []


# --- measure ---------------------------------------------------------------------------------


def _pairs(values: list[str], option: str, what: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings → pairs; a malformed one is a one-line error naming the option."""
    from perfkit.errors import UsageError

    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} {value!r}: expected {what}")
        out.append((name, rest))
    return out


def _cmd_measure(args: argparse.Namespace) -> int:
    from perfkit.errors import UsageError
    from perfkit.collect.measure import CollectionInterrupted, measure
    from perfkit.present.summary import format_summary, measure_warnings, summarize

    if not args.variant:
        raise UsageError("no variant given: pass at least one --variant NAME=COMMAND")
    variants: dict[str, str] = {}
    for name, command in _pairs(args.variant, "--variant", "NAME=COMMAND"):
        if name in variants:
            raise UsageError(f"--variant {name}: the name is given twice")
        variants[name] = command
    env = dict(_pairs(args.env, "--env", "KEY=VALUE"))
    trace_writes: dict[str, str] = {}
    for label, glob in _pairs(args.trace_writes, "--trace-writes", "LABEL=GLOB"):
        if label in trace_writes:
            raise UsageError(f"--trace-writes {label}: the label is given twice")
        trace_writes[label] = glob
    try:
        dataset = measure(
            variants,
            out=args.out,
            runs=args.runs,
            warmup=args.warmup,
            seed=args.seed,
            prepare=args.prepare,
            cwd=args.cwd,
            env=env,
            timeout=args.timeout,
            shell=not args.no_shell,
            fail_fast=args.fail_fast,
            append=args.append,
            progress=not args.no_progress,
            show_output=args.show_output,
            orchestrator_root=args.orchestrator_root,
            trace_writes=trace_writes or None,
            trace_runs=args.trace_runs,
        )
    except CollectionInterrupted as exc:
        kept = exc.dataset
        print(
            f"perfkit: interrupted: kept {len(kept.runs)} finished runs in {kept.path} "
            "(marked incomplete; perfkit.load reads them)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    floor = dataset.meta.get("spawner_rss_kib")
    for line in format_summary(summarize(dataset.runs), rss_floor_kib=floor):
        print(line)
    from perfkit.collect.trace import format_traced  # the traced pass's exact counts, if any

    for line in format_traced(dataset.runs):
        print(line)
    for line in measure_warnings(dataset.runs):
        print(line, file=sys.stderr)
    if dataset.meta.get("orphans_counted") is False:
        print("warning: this kernel refused PR_SET_CHILD_SUBREAPER: daemonised descendants were "
              "not counted; hint: needs Linux >= 3.4", file=sys.stderr)
    print(f"dataset: {dataset.path}", file=sys.stderr)
    stopped = dataset.meta.get("stopped")
    if stopped:
        print(f"perfkit: stopped by {stopped}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    timed = dataset.runs[~dataset.runs["warmup"] & ~dataset.runs["traced"]]
    never_ok = [v for v, ok in (timed["status"] == "ok").groupby(timed["variant"]).any().items() if not ok]
    if never_ok:
        print(f"perfkit: no successful run of {', '.join(never_ok)}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    return EXIT_OK


def _add_measure(sub) -> None:
    p = sub.add_parser(
        "measure",
        help="measure commands run by run into a dataset folder",
        description=(
            "Run each variant's command N times, interleaved round by round in a seeded order, "
            "and record wall/CPU time, peak RSS and I/O of its whole process tree into DIR."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder (created if missing)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=COMMAND",
                   help="a labelled command (repeat for each variant)")
    p.add_argument("--runs", type=int, default=10, metavar="N", help="timed runs per variant (10)")
    p.add_argument("--warmup", type=int, default=0, metavar="W",
                   help="warm-up runs per variant: recorded, flagged, left out of summaries (0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the order within each round (0)")
    p.add_argument("--prepare", metavar="COMMAND", help="run before every run, untimed")
    p.add_argument("--cwd", metavar="DIR", help="working directory of the commands")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="set an environment variable for the commands (repeatable)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="kill a run's whole process tree after this long (this also bounds the "
                        "wait for daemonised descendants, which are otherwise waited for); "
                        "recorded as timeout")
    p.add_argument("--no-shell", action="store_true",
                   help="split COMMAND with shlex and spawn it directly (no /bin/sh -c)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first run that is not ok")
    p.add_argument("--append", action="store_true", help="add runs to an existing dataset in DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--show-output", action="store_true",
                   help="let the commands write to the terminal (default: /dev/null)")
    p.add_argument("--orchestrator-root", metavar="DIR",
                   help="orchestrator workspace: attach the stages of the run folders each run "
                   "creates (.runs/<task>/cli/<run>/manifest.json)")
    p.add_argument("--trace-writes", action="append", default=[], metavar="LABEL=GLOB",
                   help="count logical writes of files matching GLOB (relative to --cwd, ** for any "
                   "depth) in the traced pass, as column LABEL_writes (repeatable)")
    p.add_argument("--trace-runs", type=int, metavar="K",
                   help="after the timed runs, K runs per variant under strace -f for exact file "
                   "operation counts (default 1 with --trace-writes, else 0)")
    p.set_defaults(func=_cmd_measure)


_COMMANDS.append(_add_measure)
# --- ingest (perfkit.data.orchestrator) -----------------------------------------------------------
def _ingest(args: argparse.Namespace) -> int:
    from perfkit.data.orchestrator import ingest

    data, _ = ingest(args.root, args.out, variant_by=args.variant_by, append=args.append)
    print(f"{data.summary()} -> {args.out}")
    return EXIT_OK


def _add_ingest(sub) -> None:
    p = sub.add_parser(
        "ingest",
        help="read an orchestrator workspace (.runs/<task>/cli/<run>/manifest.json) into a dataset",
        description="Read every run manifest of an orchestrator workspace into a dataset folder "
        "(runs, stages, artifacts.parquet, problems.parquet). Unreadable files are listed as "
        "problems, never fatal.",
    )
    p.add_argument("root", help="the workspace (holding .runs/ and out/) or its .runs folder")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument(
        "--variant-by",
        choices=("pipeline", "task"),
        default="pipeline",
        help="what becomes the variant label (default: pipeline)",
    )
    p.add_argument("--append", action="store_true", help="add to an existing dataset folder")
    p.set_defaults(func=_ingest)


_COMMANDS.append(_add_ingest)
# --- end ingest ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PerfkitError as exc:
        print(f"perfkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("perfkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# --- compare ------------------------------------------------------------------------------------


def _percent(text: str, name: str) -> float:
    """'10%' or '0.10' → 0.10."""
    from perfkit.errors import UsageError

    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a number or a percentage") from None


def _parse_band(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) == 1:
        low = _percent(parts[0], "--target")
        return low, low
    if len(parts) == 2:
        return _percent(parts[0], "--target"), _percent(parts[1], "--target")
    from perfkit.errors import UsageError

    raise UsageError(f"--target: {text!r} is not LOW or LOW:HIGH (e.g. 10%:20%)")


def _parse_guardrails(items: list[str] | None):
    from perfkit.errors import UsageError
    from perfkit.analysis.verdict import DEFAULT_GUARDRAILS

    if not items:
        return DEFAULT_GUARDRAILS
    out: dict[str, float] = {}
    for item in items:
        metric, sep, margin = item.partition("=")
        if not sep or not metric.strip():
            raise UsageError(f"--guardrail: {item!r} is not METRIC=MARGIN (e.g. max_rss_kib=5%)")
        out[metric.strip()] = _percent(margin, "--guardrail")
    return out


def _pick_variant(dataset, wanted: str | None, default: str) -> str:
    """``wanted`` if given; else ``default`` if present; else a one-variant dataset's only label."""
    if wanted is not None:
        return wanted
    variants = dataset.variants
    if default in variants or len(variants) != 1:
        return default
    return variants[0]


def _run_compare(args: argparse.Namespace) -> int:
    from perfkit.data.sources import load
    from perfkit.analysis.verdict import compare, format_markdown, format_text

    first = load(args.dataset)
    second = load(args.dataset2) if args.dataset2 else None
    baseline = _pick_variant(first, args.baseline, "baseline")
    candidate = _pick_variant(second if second is not None else first, args.candidate, "candidate")
    kwargs = {}
    if args.metric:
        kwargs["targets"] = args.metric
    result = compare(
        first, baseline, candidate, candidate_runs=second,
        target=_parse_band(args.target), guardrails=_parse_guardrails(args.guardrail),
        confidence=args.confidence, seed=args.seed, n_resamples=args.resamples,
        statistic=args.statistic, **kwargs,
    )
    if args.format == "json":
        print(result.to_json())
    elif args.format == "markdown":
        print("\n".join(format_markdown(result)))
    else:
        print("\n".join(format_text(result)))
    return result.exit_code


def _add_comparison_options(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options `compare` and `report` share. ``defaults=False`` leaves unset options as None
    (report: the notebook's own defaults apply, and --hotspots can tell that none was given)."""

    def default(value):
        return value if defaults else None

    p.add_argument("--baseline", metavar="NAME", help="baseline variant (default: baseline, "
                   "or the only variant of DATASET)")
    p.add_argument("--candidate", metavar="NAME", help="candidate variant (default: candidate, "
                   "or the only variant of DATASET2)")
    p.add_argument("--target", default=default("10%:20%"), metavar="LOW:HIGH",
                   help="target band of improvement, e.g. 10%%:20%% (default)")
    p.add_argument("--metric", action="append", metavar="METRIC",
                   help="target metric (repeatable; default wall_s)")
    p.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                   help="guardrail and the increase it tolerates (repeatable; replaces the "
                   "default max_rss_kib=5%%; the success rate is always one)")
    p.add_argument("--confidence", type=float, default=default(0.95),
                   help="confidence level (default 0.95)")
    p.add_argument("--seed", type=int, default=default(0), help="bootstrap seed (default 0)")
    p.add_argument("--resamples", type=int, default=default(10_000),
                   help="bootstrap resamples (default 10000)")
    p.add_argument("--statistic", choices=("median", "mean"), default=default("median"),
                   help="statistic compared (default median)")


def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="did the candidate clear its target? (bootstrap intervals and a verdict)",
        description=(
            "Compare a candidate with a baseline: change = 1 - candidate/baseline per metric, "
            "with a two-sample BCa bootstrap interval, judged against the target band. "
            "Exit code: 0 cleared, 1 not shown, 3 regressed or a guardrail broken, 2 usage error."
        ),
    )
    p.add_argument("dataset", metavar="DATASET", help="dataset holding both variants, or the baseline's")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    _add_comparison_options(p, defaults=True)
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=_run_compare)


_COMMANDS.append(_add_compare)
# --- perfkit demo -------------------------------------------------------------------------------


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole loop on the built-in workload (examples/pipeline), in under a minute",
        description=(
            "Measure examples/pipeline's baseline (persists its manifest after every step) and "
            "candidate (once per stage), interleaved, count the manifest writes in a traced pass, "
            "write the comparison report and print the verdict. Runs from a checkout. "
            "Exit code 0 when the demo ran, whatever the verdict; 2 on an error."
        ),
    )
    p.add_argument("--out", default="demo-out", metavar="DIR",
                   help="output folder (default ./demo-out; a previous demo's folder is cleared)")
    p.add_argument("--quick", action="store_true", help="fewer runs (10 per variant, 1 warm-up)")
    p.add_argument("--runs", type=int, metavar="N", help="runs per variant (default 20)")
    p.add_argument("--warmup", type=int, metavar="N", help="warm-up runs per variant (default 2)")
    p.add_argument("--trace-runs", type=int, metavar="K",
                   help="traced runs per variant for the manifest-write counts (default 3; 0 = none)")
    p.add_argument("--shards", type=int, metavar="N", help="pipeline shards per stage (default 12)")
    p.add_argument("--rows", type=int, metavar="N", help="records per shard (default 150)")
    p.add_argument("--seed", type=int, metavar="N", help="seed of the run order (default 0)")
    p.add_argument("--no-report", action="store_true",
                   help="skip the notebook report; print the verdict only")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    import dataclasses

    from perfkit.demo import DemoConfig, format_demo, run_demo

    config = DemoConfig.quick() if args.quick else DemoConfig()
    chosen = {k: getattr(args, k) for k in ("runs", "warmup", "trace_runs", "shards", "rows", "seed")}
    config = dataclasses.replace(config, **{k: v for k, v in chosen.items() if v is not None})
    result = run_demo(args.out, config, report=not args.no_report)
    print("\n".join(format_demo(result)))
    return EXIT_OK


_COMMANDS.append(_add_demo)
# --- report ---------------------------------------------------------------------------------------


def _report_parameters(args: argparse.Namespace) -> dict:
    """Notebook parameters from the compare options and ``-p NAME=VALUE`` / ``-p NAME:=JSON``."""
    import json

    from perfkit.errors import UsageError

    params: dict = {}
    if args.title is not None:
        params["title"] = args.title
    if args.hotspots:
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
            params["target"] = list(_parse_band(args.target))
        if args.guardrail:
            params["guardrails"] = dict(_parse_guardrails(args.guardrail))
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


def _run_report(args: argparse.Namespace) -> int:
    from perfkit.present.report import report

    files = report(args.dataset, args.dataset2, out=args.out, hotspots_report=args.hotspots,
                   parameters=_report_parameters(args))
    verdict = f" ({files.overall})" if files.overall else ""
    print(f"perfkit report{verdict}: {files.html}, {files.notebook}, {files.summary}"
          + (f", {files.verdict}" if files.verdict else ""))
    return files.exit_code


def _add_report(sub) -> None:
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
    p.add_argument("dataset", metavar="DATASET",
                   help="dataset holding both variants, or the baseline's (--hotspots: a dataset "
                   "or an orchestrator workspace)")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report files")
    p.add_argument("--hotspots", action="store_true",
                   help="the hotspot report (where do time and I/O go?) instead of a comparison")
    _add_comparison_options(p, defaults=False)
    p.add_argument("--title", help="report title")
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                   help="any other notebook parameter (NAME=VALUE: a string; NAME:=JSON); "
                   "unknown names are refused")
    p.set_defaults(func=_run_report)


_COMMANDS.append(_add_report)
