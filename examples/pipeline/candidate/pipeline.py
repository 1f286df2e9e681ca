#!/usr/bin/env python3
"""A small data pipeline that records its progress in a JSON manifest (perfkit's demo workload).

Four stages — ingest, parse, transform, publish — each run over the same shards of generated
sales records. Every step (one stage on one shard) reads its input files, does real work (CSV
parsing, aggregation, hashing) and writes its output files, then records itself in
``WORKDIR/manifest.json``. Python standard library only, so it runs anywhere Python >= 3.11 does.

    python3 pipeline.py --workdir DIR [--shards 12] [--rows 150] [--seed 1]

This is the *candidate*: the same program as ``../baseline/pipeline.py`` with one fix. The
baseline persisted the whole, growing manifest after every step (temp file, fsync, rename, read
back); this version keeps step records in memory and persists once per stage and at the end, in
the same careful way. A crash now loses at most the steps of the stage in flight, whose outputs
are rewritten on a re-run anyway. Outputs and the final manifest are otherwise the same.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import sys
from pathlib import Path

STAGES = ("ingest", "parse", "transform", "publish")
REGIONS = ("north", "south", "east", "west", "centre")
PRODUCTS = tuple(f"sku-{i:03d}" for i in range(40))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the work of each stage: input files of the previous stage → output files --------------------


def ingest(shard: int, rows: int, seed: int, workdir: Path) -> list[Path]:
    """Generate one shard of raw sales records as CSV (deterministic for a seed)."""
    rng = random.Random(seed * 100_003 + shard)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["order_id", "region", "product", "quantity", "unit_price", "note"])
    for i in range(rows):
        writer.writerow(
            [
                f"{shard:03d}-{i:06d}",
                rng.choice(REGIONS),
                rng.choice(PRODUCTS),
                rng.randint(1, 20),
                f"{rng.uniform(0.5, 250.0):.2f}",
                "".join(rng.choices("abcdefghijklmnopqrstuvwxyz ", k=24)),
            ]
        )
    out = workdir / "raw" / f"shard-{shard:03d}.csv"
    out.write_text(buf.getvalue(), encoding="utf-8")
    return [out]


def parse(shard: int, workdir: Path) -> list[Path]:
    """Parse and validate a raw shard; keep the typed rows as JSON lines."""
    src = workdir / "raw" / f"shard-{shard:03d}.csv"
    out = workdir / "parsed" / f"shard-{shard:03d}.jsonl"
    with open(src, newline="", encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as dst:
        for row in csv.DictReader(fh):
            record = {
                "order_id": row["order_id"],
                "region": row["region"],
                "product": row["product"],
                "quantity": int(row["quantity"]),
                "unit_price": float(row["unit_price"]),
                "note": row["note"].strip(),
            }
            if record["quantity"] <= 0 or record["unit_price"] <= 0:
                raise ValueError(f"{src}: invalid row {row}")
            dst.write(json.dumps(record, sort_keys=True) + "\n")
    return [out]


def transform(shard: int, workdir: Path) -> list[Path]:
    """Aggregate revenue per region and product."""
    src = workdir / "parsed" / f"shard-{shard:03d}.jsonl"
    totals: dict[str, dict[str, float]] = {}
    with open(src, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            by_product = totals.setdefault(rec["region"], {})
            by_product[rec["product"]] = by_product.get(rec["product"], 0.0) + (
                rec["quantity"] * rec["unit_price"]
            )
    out = workdir / "aggregated" / f"shard-{shard:03d}.json"
    rounded = {
        region: {p: round(v, 2) for p, v in sorted(by_product.items())}
        for region, by_product in sorted(totals.items())
    }
    out.write_text(json.dumps(rounded, indent=1, sort_keys=True), encoding="utf-8")
    return [out]


def publish(shard: int, workdir: Path) -> list[Path]:
    """Render a per-shard report and a checksum file for it."""
    src = workdir / "aggregated" / f"shard-{shard:03d}.json"
    totals = json.loads(src.read_text(encoding="utf-8"))
    lines = [f"# shard {shard}", ""]
    for region, by_product in totals.items():
        top = sorted(by_product.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        lines.append(f"{region}: " + ", ".join(f"{p}={v:.2f}" for p, v in top))
    report = ("\n".join(lines) + "\n").encode("utf-8")
    out = workdir / "published" / f"shard-{shard:03d}.md"
    out.write_bytes(report)
    check = out.with_suffix(".sha256")
    check.write_text(f"{_digest(report)}  {out.name}\n", encoding="utf-8")
    return [out, check]


# --- the manifest ------------------------------------------------------------------------------


class Manifest:
    """The run's record: one entry per step, with its outputs and their checksums."""

    def __init__(self, path: Path, config: dict) -> None:
        self.path = path
        self.writes = 0
        self.data = {
            "pipeline": "sales-report",
            "config": config,
            "status": "running",
            "started_at": _now(),
            "completed_at": None,
            "stages": [],
            "steps": [],
        }

    def record(self, stage: str, shard: int, started_at: str, outputs: list[Path]) -> None:
        self.data["steps"].append(
            {
                "id": f"{stage}-{shard:03d}",
                "stage": stage,
                "shard": shard,
                "status": "succeeded",
                "started_at": started_at,
                "completed_at": _now(),
                "outputs": [
                    {"path": p.name, "bytes": p.stat().st_size, "sha256": _digest(p.read_bytes())}
                    for p in outputs
                ],
            }
        )

    def persist(self) -> None:
        """Write the whole manifest durably: temp file, fsync, rename, read back to verify."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        payload = json.dumps(self.data, indent=2, sort_keys=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        if json.loads(self.path.read_text(encoding="utf-8")) != self.data:
            raise RuntimeError(f"{self.path}: manifest did not round-trip")
        self.writes += 1

    # The fix: a step only updates the in-memory record; the file is written once per stage.
    def step_done(self) -> None:
        pass

    def stage_done(self) -> None:
        self.persist()

    def finish(self) -> None:
        self.data["status"] = "succeeded"
        self.data["completed_at"] = _now()
        self.persist()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=Path, help="where outputs and manifest go")
    parser.add_argument("--shards", type=int, default=12, help="shards per stage (default 12)")
    parser.add_argument("--rows", type=int, default=150, help="records per shard (default 150)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    args = parser.parse_args(argv)
    if args.shards < 1 or args.rows < 1:
        parser.error("--shards and --rows must be at least 1")

    workdir: Path = args.workdir
    for sub in ("raw", "parsed", "aggregated", "published"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    manifest = Manifest(
        workdir / "manifest.json", {"shards": args.shards, "rows": args.rows, "seed": args.seed}
    )
    for stage in STAGES:
        stage_started = _now()
        for shard in range(args.shards):
            started = _now()
            if stage == "ingest":
                outputs = ingest(shard, args.rows, args.seed, workdir)
            else:
                outputs = globals()[stage](shard, workdir)
            manifest.record(stage, shard, started, outputs)
            manifest.step_done()
        manifest.stage_done()
        # the stage's span includes its manifest writes; the record reaches the file next persist
        manifest.data["stages"].append(
            {"stage": stage, "started_at": stage_started, "completed_at": _now(), "steps": args.shards}
        )
    manifest.finish()
    summary = {
        "manifest": str(manifest.path),
        "steps": len(manifest.data["steps"]),
        "manifest_writes": manifest.writes,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
