"""``perfkit compare``: the verdict in the terminal (text, markdown or JSON); exit code = answer."""

from __future__ import annotations

import argparse

from perfkit.analysis.multi import compare_many, split_variants
from perfkit.analysis.verdict import compare
from perfkit.cli._common import (
    add_comparison_options,
    add_export_options,
    export_targets,
    parse_target,
    parse_guardrails,
)
from perfkit.data.sources import load, pick_pair
from perfkit.errors import UsageError
from perfkit.present import export
from perfkit.present.outputs_view import outputs_comparison, with_outputs


def _compare_many(args: argparse.Namespace, data, options: dict, exports) -> int:
    """More than two variants: every other one against the baseline (given, or ``baseline``, or
    the first), in the order the dataset lists them, Holm-adjusted over the candidates."""
    baseline, candidates = split_variants(data, args.baseline)
    many = compare_many(data, baseline, candidates,
                        confidence=args.confidence or 0.95, **options)
    print(export.render(many, args.format))
    for fmt, path, option in exports:
        export.write(many, fmt, path, option)
    return many.exit_code


def _run_compare(args: argparse.Namespace) -> int:

    exports = export_targets(args)  # a bad path fails before the bootstrap
    first = load(args.dataset)
    second = load(args.dataset2) if args.dataset2 else None
    kwargs = {}
    target_metric, band = parse_target(args.target)
    if args.metric:
        kwargs["targets"] = list(args.metric)
    if target_metric is not None:  # --target success_rate=+10pts
        kwargs["targets"] = [*kwargs.get("targets", []), target_metric]
        kwargs["success_target"] = band
        band = (0.10, 0.20)
    options = dict(target=band, guardrails=parse_guardrails(args.guardrail),
                   seed=args.seed, n_resamples=args.resamples, statistic=args.statistic, **kwargs)
    if second is None and not args.candidate and len(first.variants) > 2:
        return _compare_many(args, first, options, exports)
    baseline, candidate = pick_pair(first, second, args.baseline, args.candidate)
    result = compare(first, baseline, candidate, candidate_runs=second,
                     confidence=args.confidence, **options)
    outputs = outputs_comparison(first, baseline, candidate, second)
    print(with_outputs(export.render(result, args.format), args.format, outputs))
    for fmt, path, option in exports:
        if outputs.recorded and fmt != "csv":
            export.write_text(with_outputs(export.render(result, fmt), fmt, outputs), path, option)
        else:
            export.write(result, fmt, path, option)
    return result.exit_code


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="did the candidate clear its target? (bootstrap intervals and a verdict)",
        description=(
            "Compare a candidate with a baseline: change = 1 - candidate/baseline per metric, "
            "with a BCa bootstrap interval (rounds resampled together where the variants ran "
            "interleaved), judged against the target band. "
            "Exit code: 0 cleared, 1 not shown, 3 regressed or a guardrail broken, 2 usage error."
        ),
    )
    p.add_argument("dataset", metavar="DATASET",
                   help="dataset holding both variants (or more: then every other variant is "
                   "compared with --baseline), or the baseline's")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    add_comparison_options(p, defaults=True)
    p.add_argument("--format", choices=tuple(export.FORMATS), default="text",
                   help="output: a text table (default), markdown for a pull request, the "
                   "verdict as JSON, or the table as CSV")
    add_export_options(p, "the comparison (csv: the table; json: the verdict)")
    p.set_defaults(func=_run_compare)
