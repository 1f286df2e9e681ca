"""Collect ``data/trend-history/``: a small history of the demo pipeline, measured by perfkit.

The trend notebook's default input (and its tests'). Each of 24 "commits" is one configuration
of ``examples/pipeline``, measured by :func:`perfkit.collect.measure.measure` (5 timed runs with
the pipeline's stages, 2 runs under strace for exact manifest writes) and added with
:meth:`perfkit.data.history.History.add` at a fixed commit time:

- commits 1–10: ``baseline/pipeline.py`` (manifest persisted after every step);
- commits 11–17: ``candidate/pipeline.py`` (persisted once per stage) — the fix: a step down;
- commits 18–24: the candidate with ``--rows 300`` instead of 150 — twice the records per
  shard: a step up, mostly in the stages that handle records (ingest, parse, transform).

The "commits" are labels (``sha1("perfkit trend fixture <i>")``), not commits of this repository;
the measurements are real. The history is collected in a temporary folder (one Parquet file per
add, ~900 KB: each file carries its own schema and statistics) and then compacted — every add's
rows in one file per table, ordered by ``sequence``, zstd, ~30 KB — the layout a compaction of a
long history would leave (DuckDB ``COPY``; the rows and columns are those perfkit wrote). Run
from the checkout, on a quiet machine:

    .venv/bin/python data/make_trend_history.py data/trend-history
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from perfkit.collect.hooks import RunExtras
from perfkit.collect.measure import measure
from perfkit.data.history import MARKER, open_history
from perfkit.demo import MANIFEST_GLOB, pipeline_dir, pipeline_stages

COMMITS = 24
RUNS, TRACE_RUNS = 5, 2
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def configuration(i: int) -> tuple[str, int]:
    """Which pipeline and how many rows per shard commit ``i`` (1-based) runs."""
    return ("baseline" if i <= 10 else "candidate"), (150 if i <= 17 else 300)


def label(i: int) -> str:
    return hashlib.sha1(f"perfkit trend fixture {i}".encode()).hexdigest()


def _stages(workdir: Path):
    def hook(ctx):
        if ctx.warmup:
            return None
        return RunExtras(stages=pipeline_stages(workdir / "manifest.json", ctx.variant.name,
                                                ctx.run))
    return hook


def compact(source: Path, out: Path) -> None:
    """Every add's rows of ``source`` in one Parquet file per table and benchmark, in ``out``."""
    import duckdb

    out.mkdir(parents=True)
    shutil.copy(source / MARKER, out / MARKER)
    con = duckdb.connect()
    for table in ("runs", "stages"):
        for part in sorted((source / table).glob("benchmark=*")):
            (out / table / part.name).mkdir(parents=True)
            files = str(part / "*.parquet").replace("'", "''")
            target = str(out / table / part.name / "compacted.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM read_parquet('{files}', union_by_name = true) "
                        f"ORDER BY sequence) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")


def collect(out: Path) -> None:
    if out.exists():
        raise SystemExit(f"{out} exists: collect into a new folder")
    with tempfile.TemporaryDirectory(prefix="perfkit-trend-history-") as kept:
        _measure(Path(kept) / "history")
        compact(Path(kept) / "history", out)


def _measure(folder: Path) -> None:
    history = open_history(folder, create=True)
    with tempfile.TemporaryDirectory(prefix="perfkit-trend-") as tmp:
        for i in range(1, COMMITS + 1):
            program, rows = configuration(i)
            work = Path(tmp) / f"work-{i}"
            work.mkdir()
            argv = [sys.executable, str(pipeline_dir() / program / "pipeline.py"),
                    "--workdir", str(work), "--shards", "12", "--rows", str(rows)]
            dataset = measure({"pipeline": argv}, out=Path(tmp) / f"ds-{i}", runs=RUNS,
                              warmup=1, seed=i, cwd=work, progress=False,
                              after_run=[_stages(work)],
                              trace_writes={"manifest": MANIFEST_GLOB}, trace_runs=TRACE_RUNS)
            added = history.add(dataset, "pipeline", commit=label(i), branch="main",
                                when=START + dt.timedelta(hours=i))
            print(f"{i:2d} {added.commit[:10]} {program} rows={rows}: {added.runs} runs, "
                  f"{added.stages} stages", flush=True)
            shutil.rmtree(work)


if __name__ == "__main__":
    collect(Path(sys.argv[1] if len(sys.argv) > 1 else "data/trend-history"))
