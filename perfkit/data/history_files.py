"""The history's files: one per add, merged into batches so that a long history stays fast.

An add writes ``<dataset-id>.parquet`` (a *single*: the id is 20 hex digits). Reading costs about
a millisecond of CPU per file whatever its size (DuckDB or pyarrow opens it, reads its footer and
schema), so 10,000 singles make a one-metric check take ~20 s of CPU where 100 files of 100 adds
take ~1.5 s (``benchmarks/bench_history_check.py``). So once a benchmark holds
:data:`COMPACT_AT` singles, the add that made them so merges them (under the writers' lock) into
one ``batch-<first>-<last>.parquet`` per table (runs, stages), ``first``/``last`` their sequence
numbers. Any other file name (``batch-*``, or a file a user compacted by hand) is *merged*.

Crash safety, as for an add: a batch is written to a temporary file, fsynced and renamed; only
then are its singles deleted. A crash in between leaves singles whose rows are also in a batch:
readers skip them (:func:`view_sql`: a single whose id the batch's id list — or a file merged by
hand — holds), and the next merge deletes them first. A reader never sees a run twice or misses one.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

#: Singles of one benchmark that trigger a merge (at 10,000 commits: 100 batches + < 100 singles).
COMPACT_AT = 100
_SINGLE = re.compile(r"^[0-9a-f]{20}\.parquet$")
_SINGLE_SQL = r"[0-9a-f]{20}\.parquet$"
#: The column DuckDB adds with each row's file (dropped again by :func:`view_sql`).
FILE_COLUMN = "_perfkit_file"


def is_single(path: Path) -> bool:
    """A file one add wrote (``<dataset-id>.parquet``), not a merged batch."""
    return bool(_SINGLE.match(path.name))


def _read(source: str, filename: bool = False) -> str:
    return (f"read_parquet({source}, hive_partitioning = true, union_by_name = true, "
            "hive_types = {'benchmark': 'VARCHAR'}"
            + (f", filename = '{FILE_COLUMN}')" if filename else ")"))


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _sidecar(batch: Path) -> Path:
    """The text file beside a batch listing its dataset ids, one a line (hidden: no engine reads
    it as data)."""
    return batch.with_name(f".{batch.stem}.ids")


def merged_ids(folder: Path, table: str, con=None) -> set[str]:
    """The dataset ids in the merged files of ``folder/table`` (every benchmark): from each
    batch's id list, or — for a file merged by hand — from the file itself (a query)."""
    ids: set[str] = set()
    unlisted = []
    for p in folder.glob(f"{table}/*/*.parquet"):
        if is_single(p):
            continue
        try:
            ids.update(_sidecar(p).read_text(encoding="ascii").split())
        except OSError:
            unlisted.append(p)
    if unlisted:
        import duckdb

        own = con is None
        con = duckdb.connect() if own else con
        try:
            files = "[" + ", ".join(_quote(p) for p in unlisted) + "]"
            rows = con.execute(f"SELECT DISTINCT dataset_id FROM read_parquet({files}, "
                               "union_by_name = true, hive_partitioning = false)").fetchall()
        finally:
            if own:
                con.close()
        ids.update(str(r[0]) for r in rows)
    return ids


def view_sql(folder: Path, table: str) -> str:
    """``CREATE VIEW t`` over ``folder/table``: every row once (see the module docstring)."""
    files = list(folder.glob(f"{table}/*/*.parquet"))
    pattern = _quote(folder / table / "*" / "*.parquet")
    leftovers: list[Path] = []
    if any(is_single(p) for p in files) and any(not is_single(p) for p in files):
        merged = merged_ids(folder, table)
        leftovers = [p for p in files if is_single(p) and p.stem in merged]
    if not leftovers:
        return f"CREATE VIEW t AS SELECT * FROM {_read(pattern)}"
    # only a crash between a batch's rename and its singles' deletion leaves these
    skip = ", ".join(_quote(p) for p in leftovers)
    return (f"CREATE VIEW t AS SELECT * EXCLUDE ({FILE_COLUMN}) FROM {_read(pattern, True)} "
            f"WHERE {FILE_COLUMN} NOT IN ({skip})")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def compact(folder: Path, name: str, *, at: int | None = None) -> int:
    """Merge benchmark ``name``'s singles into one batch per table once there are ``at`` of them
    (call under the writers' lock). Returns how many adds were merged (0: not yet)."""
    at = COMPACT_AT if at is None else at
    part = f"benchmark={name}"
    singles = sorted(p for p in (folder / "runs" / part).glob("*.parquet") if is_single(p))
    if len(singles) < at:
        return 0
    import duckdb

    con = duckdb.connect()
    try:
        # leftovers of a crash after a batch was renamed: their rows are in that table's
        # batch already (each table on its own: a crash may fall between the two batches)
        for table in ("stages", "runs"):
            done = merged_ids(folder, table, con)
            for p in (folder / table / part).glob("*.parquet"):
                if is_single(p) and p.stem in done:
                    p.unlink()
        ids = [p.stem for p in singles if p.is_file()]
        if len(ids) < at:
            return 0
        for table in ("stages", "runs"):  # runs last, as in an add
            files = [folder / table / part / f"{i}.parquet" for i in ids]
            files = [f for f in files if f.is_file()]
            if files:
                _merge(con, files, folder / table / part, ids)
        for table in ("stages", "runs"):
            for i in ids:
                (folder / table / part / f"{i}.parquet").unlink(missing_ok=True)
            if (folder / table / part).is_dir():
                _fsync_dir(folder / table / part)
    finally:
        con.close()
    return len(ids)


def _merge(con, files: list[Path], out_dir: Path, ids: list[str]) -> Path:
    source = "[" + ", ".join(_quote(f) for f in files) + "]"
    read = f"read_parquet({source}, union_by_name = true, hive_partitioning = false)"
    ((first, last),) = con.execute(f"SELECT min(sequence), max(sequence) FROM {read}").fetchall()
    digest = hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:8]
    target = out_dir / f"batch-{int(first):09d}-{int(last):09d}-{digest}.parquet"
    tmp = out_dir / f".{target.name}.{os.getpid()}.tmp"
    listed = _sidecar(target)  # written first: a batch is never without its id list
    listed.with_name(listed.name + ".tmp").write_text(
        "".join(f"{i}\n" for i in sorted({f.stem for f in files})), encoding="ascii")
    os.replace(listed.with_name(listed.name + ".tmp"), listed)
    con.execute(f"COPY (SELECT * FROM {read} ORDER BY sequence) "
                f"TO {_quote(tmp)} (FORMAT parquet)")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_dir(out_dir)
    return target
