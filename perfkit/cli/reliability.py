"""``perfkit reliability``: failure modes per stage (failed, timed out, unfinished, retried, each
with a Wilson interval) of a dataset or an orchestrator workspace, worst stage first."""

from __future__ import annotations

import argparse

from perfkit.present.reliability_view import FORMATS, reliability


def _run(args: argparse.Namespace) -> int:
    print(reliability(args.source).render(args.format), end="")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "reliability",
        help="failure modes per stage: failed, timed out, unfinished, retried (with intervals)",
        description=(
            "Per variant and stage: runs, failed, timed out, left unfinished (killed), retried, "
            "each rate with a 95 %% Wilson interval, and the slow tail (p95/median); ranked by "
            "the share of runs in which the stage went wrong. Reads a dataset or an orchestrator "
            "workspace (runs killed while in progress count as unfinished)."
        ),
    )
    p.add_argument("source", metavar="DATASET|WORKSPACE",
                   help="a perfkit dataset, or an orchestrator workspace (a folder holding .runs/)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), markdown for a pull request, or JSON")
    p.set_defaults(func=_run)
