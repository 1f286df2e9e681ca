"""``perfkit demo``: the whole loop on the built-in workload."""

from __future__ import annotations

import argparse
import dataclasses

from perfkit.demo import DemoConfig, format_demo, run_demo
from perfkit.errors import EXIT_OK


def add_parser(sub) -> None:
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

    config = DemoConfig.quick() if args.quick else DemoConfig()
    chosen = {k: getattr(args, k) for k in ("runs", "warmup", "trace_runs", "shards", "rows", "seed")}
    config = dataclasses.replace(config, **{k: v for k, v in chosen.items() if v is not None})
    result = run_demo(args.out, config, report=not args.no_report)
    print("\n".join(format_demo(result)))
    return EXIT_OK
