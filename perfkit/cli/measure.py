"""``perfkit measure``: run commands into a dataset folder and print their summary."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

from tqdm import tqdm

from perfkit.cli._common import (
    add_export_options,
    export_targets,
    pairs,
    parse_band,
    parse_guardrails,
)
from perfkit.cli._sequential import measure_until_decided, pick_pair
from perfkit.cli._variants import add_arguments, parameter_hook, variants_from_args
from perfkit.collect.measure import CollectionInterrupted, measure
from perfkit.analysis.hotspots import read_files
from perfkit.collect.sizes import parse_track_size
from perfkit.collect.trace import format_traced
from perfkit.present.hotspots_view import format_size_growth, format_top_files
from perfkit.present.outputs_view import stability_of, stability_text
from perfkit.data.schema import timed_rows
from perfkit.errors import EXIT_INTERRUPTED, EXIT_NOT_SHOWN, EXIT_OK, UsageError
from perfkit.present import export
from perfkit.present.summary import format_summary, measure_warnings, summarize


def _cmd_measure(args: argparse.Namespace) -> int:

    variants, parameters = variants_from_args(args)
    exports = export_targets(args)  # a bad path fails now, not after the runs
    env = dict(pairs(args.env, "--env", "KEY=VALUE"))
    trace_writes: dict[str, str] = {}
    for label, glob in pairs(args.trace_writes, "--trace-writes", "LABEL=GLOB"):
        if label in trace_writes:
            raise UsageError(f"--trace-writes {label}: the label is given twice")
        trace_writes[label] = glob
    sequential = _until_decided(args, variants)
    try:
        dataset = (sequential or measure)(
            variants,
            out=args.out,
            **({} if sequential else {"runs": args.runs, "append": args.append}),
            warmup=args.warmup,
            seed=args.seed,
            prepare=args.prepare,
            cwd=args.cwd,
            env=env,
            timeout=args.timeout,
            shell=not args.no_shell,
            fail_fast=args.fail_fast,
            progress=not args.no_progress,
            show_output=args.show_output,
            orchestrator_root=args.orchestrator_root,
            trace_writes=trace_writes or None,
            trace_runs=args.trace_runs,
            track_size=parse_track_size(args.track_size) or None,
            allow_changed_command=args.allow_changed_command,
            after_run=[parameter_hook(parameters)] if any(parameters.values()) else (),
            outputs=args.outputs,
            volatile=args.volatile,
        )
    except CollectionInterrupted as exc:
        kept = exc.dataset
        print(
            f"perfkit: interrupted: kept {len(kept.runs)} finished runs in {kept.path} "
            "(marked incomplete; perfkit.load reads them)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    verdict = None
    if sequential:
        dataset, verdict = dataset
    floor = dataset.meta.get("spawner_rss_kib")
    table = summarize(dataset.runs, variants=list(dataset.meta.get("variants") or variants))
    for line in format_summary(table, rss_floor_kib=floor):
        print(line)
    for fmt, path, option in exports:
        export.write_table(table, fmt, path, option)
    for line in format_traced(dataset.runs):
        print(line)
    for line in format_top_files(read_files(dataset.path)):
        print(line)
    for line in format_size_growth(dataset.runs):
        print(line)
    stability = stability_of(dataset)
    if len(stability):
        print(stability_text(stability), end="")
    for line in measure_warnings(dataset.runs):
        print(line, file=sys.stderr)
    if dataset.meta.get("orphans_counted") is False:
        print("warning: this kernel refused PR_SET_CHILD_SUBREAPER: daemonised descendants were "
              "not counted; hint: needs Linux >= 3.4", file=sys.stderr)
    print(f"dataset: {dataset.path}", file=sys.stderr)
    if verdict is not None:
        print(export.render(verdict, "text"))
        looks = dataset.meta["sequential"]["looks"]
        print(f"perfkit: until-decided: {dataset.meta.get('decided', 'not decided')} at look "
              f"{len(looks)} of {len(dataset.meta['sequential']['plan']['looks'])} "
              f"({looks[-1]['runs'] if looks else 0} runs per variant, judged at "
              f"{verdict.settings['confidence']:.2%})", file=sys.stderr)
        return verdict.exit_code
    stopped = dataset.meta.get("stopped")
    if stopped:
        print(f"perfkit: stopped by {stopped}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    timed = timed_rows(dataset.runs)
    never_ok = [v for v, ok in (timed["status"] == "ok").groupby(timed["variant"]).any().items() if not ok]
    if never_ok:
        print(f"perfkit: no successful run of {', '.join(never_ok)}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    return EXIT_OK


def _until_decided(args: argparse.Namespace, variants) -> Callable | None:
    """``measure_until_decided`` with the CLI's options bound and a progress line per look, or
    None without ``--until-decided``."""
    if not args.until_decided:
        for option in ("max_runs", "look_every"):
            if getattr(args, option) is not None:
                raise UsageError(f"--{option.replace('_', '-')}: only with --until-decided")
        return None
    if args.append:
        raise UsageError("--until-decided: not with --append (the plan counts this collection's runs)")
    pick_pair(list(variants), args.baseline, args.candidate)  # a bad pair fails before any run
    band = parse_band(args.target)

    def progress(look) -> None:
        tqdm.write(look.line(*band), file=sys.stderr)

    return functools.partial(
        measure_until_decided,
        max_runs=100 if args.max_runs is None else args.max_runs,
        look_every=5 if args.look_every is None else args.look_every,
        baseline=args.baseline, candidate=args.candidate, targets=args.metric or ["wall_s"],
        target=band, guardrails=parse_guardrails(args.guardrail), statistic=args.statistic,
        n_resamples=args.resamples, on_look=progress)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "measure",
        help="measure commands run by run into a dataset folder",
        description=(
            "Run each variant's command N times, interleaved round by round in a seeded order, "
            "and record wall/CPU time, peak RSS and I/O of its whole process tree into DIR. "
            "As in hyperfine: perfkit measure --out DIR 'sleep 0.1' 'sleep 0.2' (variants cmd1, "
            "cmd2; -n NAME before each to name them), -P NAME MIN MAX / -L NAME a,b,c for one "
            "variant per value of {NAME}."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder (created if missing)")
    add_arguments(p)
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
    p.add_argument("--allow-changed-command", action="store_true",
                   help="with --append: allow a variant name the dataset has with another "
                   "command (the old commands are kept in meta.json as previous_commands)")
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
                   "operation counts (default 3 with --trace-writes: the fewest runs a verdict takes; else 0)")
    p.add_argument("--track-size", action="append", default=[], metavar="[LABEL=]GLOB",
                   help="after every run, the total size of the files matching GLOB (relative to "
                   "--cwd, ** for any depth) as column size_LABEL_bytes (LABEL defaults to the "
                   "glob's file name: runs.json -> size_runs_json_bytes); the summary shows its "
                   "fitted growth per run (repeatable)")
    g = p.add_argument_group("sequential decisions (--until-decided)")
    g.add_argument("--until-decided", action="store_true",
                   help="collect in rounds and look at the verdict every --look-every rounds "
                   "(error spending: Lan-DeMets O'Brien-Fleming); stop when cleared, below "
                   "target, regressed or futile; the plan and the looks go to meta.json")
    g.add_argument("--max-runs", type=int, metavar="M", help="most runs per variant (100)")
    g.add_argument("--look-every", type=int, metavar="K", help="rounds between looks (5)")
    g.add_argument("--baseline", metavar="NAME", help="baseline variant (default: baseline, "
                   "or the first given)")
    g.add_argument("--candidate", metavar="NAME", help="candidate variant (default: the other)")
    g.add_argument("--target", default="10%:20%", metavar="LOW:HIGH",
                   help="target band (default 10%%:20%%)")
    g.add_argument("--metric", action="append", metavar="METRIC",
                   help="target metric (repeatable; default wall_s)")
    g.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                   help="guardrail (repeatable; default max_rss_kib=5%%)")
    g.add_argument("--statistic", choices=("median", "mean", "hl"), default="median",
                   help="statistic compared (default median)")
    g.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (10000)")
    p.add_argument("--outputs", action="append", default=[], metavar="GLOB",
                   help="after every run, record each file matching GLOB (relative to --cwd, ** "
                   "for any depth) that the run wrote: size, content hash, the hash after masking "
                   "volatile values and, for JSON, its structure (outputs table; repeatable)")
    p.add_argument("--volatile", action="append", default=[], metavar="JSONPATH",
                   help="also mask this JSON value before hashing outputs and run manifests, e.g. "
                   "$.build.id, $.items[*].token, $..digest (repeatable)")
    add_export_options(p, "the summary table (one row per variant)")
    p.set_defaults(func=_cmd_measure, more_commands=True)
