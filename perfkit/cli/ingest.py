"""``perfkit ingest``: an orchestrator workspace into a dataset folder."""

from __future__ import annotations

import argparse

from perfkit.data.orchestrator import ingest
from perfkit.errors import EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    data, _ = ingest(args.root, args.out, variant_by=args.variant_by, append=args.append)
    print(f"{data.summary()} -> {args.out}")
    return EXIT_OK


def add_parser(sub) -> None:
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
