"""Reading what teams already have: hyperfine's and pyperf's JSON results as perfkit datasets.

:func:`perfkit.load` hands every *file* to :func:`load_file`, which recognises the format from the
content (not the name) and maps it onto the ``runs`` contract, so that an imported history can be
compared and reported with the same verdict as a collection perfkit made itself.

hyperfine ``--export-json`` (1.15 and later)
    One row per entry of ``results[].times``: ``variant`` is the command's name (``-n``) or the
    command line, ``wall_s`` the time, ``status``/``exit_code`` from ``exit_codes`` (null = killed
    by a signal → ``failed``), ``max_rss_kib`` from ``memory_usage_byte`` when the hyperfine
    version exports it. hyperfine exports no warm-up times, no per-run user/system time (only
    their means, kept in ``meta``) and no start times: those cells stay null. hyperfine runs the
    commands one after another, so ``order`` follows the file and a drift test cannot separate
    drift from the variants. Parameters (``-P``/``-L``) become ``param_<name>`` columns.

pyperf JSON (``-o``/``--append``, also gzip-compressed ``.json.gz``)
    One row per *value* (pyperf runs several worker processes and keeps several values each):
    ``variant`` is the benchmark's name, ``warmup`` marks pyperf's warm-up values and calibration
    runs, ``pyperf_process`` is the 1-based worker process. Values in seconds (per loop) go to
    ``wall_s``; values in bytes (``--track-memory``) go to ``max_rss_kib``; other units to
    ``pyperf_<unit>``. A worker's ``command_max_rss`` (``pyperf command``) or ``mem_max_rss``
    (its own peak, with ``--track-memory`` off) becomes ``max_rss_kib`` of its rows. pyperf only
    keeps successful runs, so every row is ``ok`` with no exit code.

Everything else — malformed JSON, another tool's JSON, an empty result — raises
:class:`~perfkit.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit.data import store
from perfkit.data.schema import SCHEMA_VERSION, runs_frame, stages_frame
from perfkit.data.store import Dataset
from perfkit.errors import DatasetError

#: Formats :func:`load_file` recognises, by the name it records in ``meta["source"]["format"]``.
FORMATS = ("hyperfine", "pyperf")

_GZIP_MAGIC = b"\x1f\x8b"


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{path}: damaged gzip file ({exc})") from None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(
            f"{path}: not JSON ({exc}); perfkit reads dataset folders, hyperfine --export-json "
            "and pyperf JSON files"
        ) from None


def detect_format(data: Any) -> str | None:
    """Name the format of parsed JSON (``"hyperfine"``, ``"pyperf"``) or None if unknown."""
    if not isinstance(data, dict):
        return None
    results = data.get("results")
    if isinstance(results, list) and all(
        isinstance(r, dict) and "command" in r and "times" in r for r in results
    ):
        return "hyperfine"
    if isinstance(data.get("benchmarks"), list) and "version" in data:
        return "pyperf"
    return None


def _base_meta(path: Path, tool: str, **source: Any) -> dict[str, Any]:
    stat = path.stat()
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": True,
        "source": {
            "format": tool,
            "path": str(path.resolve()),
            "modified_at": dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).isoformat(),
            **source,
        },
    }


def _unique(label: str, seen: dict[str, int]) -> str:
    """Two results with the same label stay apart as ``label``, ``label #2``, ..."""
    seen[label] = seen.get(label, 0) + 1
    return label if seen[label] == 1 else f"{label} #{seen[label]}"


def _number(value: Any, path: Path, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DatasetError(f"{path}: {where} is {value!r}, expected a number")
    return float(value)


# --- hyperfine ---------------------------------------------------------------------------------


def _from_hyperfine(path: Path, data: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    results = data["results"]
    if not results:
        raise DatasetError(f"{path}: hyperfine export holds no results")
    rows: list[dict[str, Any]] = []
    variants: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    order = 0
    for index, result in enumerate(results):
        where = f"results[{index}]"
        times = result.get("times")
        if not isinstance(times, list) or not times:
            raise DatasetError(f"{path}: {where}.times is missing or empty")
        codes = result.get("exit_codes")
        memory = result.get("memory_usage_byte")
        for name, values in (("exit_codes", codes), ("memory_usage_byte", memory)):
            if values is not None and (not isinstance(values, list) or len(values) != len(times)):
                count = len(values) if isinstance(values, list) else "no"
                raise DatasetError(f"{path}: {where}.{name} has {count} entries for {len(times)} times")
        label = _unique(str(result["command"]), seen)
        params = result.get("parameters") or {}
        variants[label] = {
            "command": result["command"],
            "mean_user_s": result.get("user"),
            "mean_sys_s": result.get("system"),
            **({"parameters": params} if params else {}),
        }
        for i, wall in enumerate(times):
            order += 1
            code = codes[i] if codes is not None else None
            if codes is None:
                status = "ok"  # older hyperfine exported no exit codes (and stopped at a failure)
            elif code == 0:
                status = "ok"
            else:
                status = "failed"  # non-zero, or null: killed by a signal
            row: dict[str, Any] = {
                "variant": label,
                "run": i + 1,
                "order": order,
                "warmup": False,
                "traced": False,
                "started_at": None,
                "status": status,
                "exit_code": code,
                "wall_s": _number(wall, path, f"{where}.times[{i}]"),
                "max_rss_kib": (
                    round(_number(memory[i], path, f"{where}.memory_usage_byte[{i}]") / 1024)
                    if memory is not None
                    else None
                ),
            }
            for key, value in params.items():
                row[f"param_{key}"] = str(value)
            rows.append(row)
    meta = _base_meta(
        path,
        "hyperfine",
        exports_memory=any("memory_usage_byte" in r for r in results),
        note="hyperfine exports no warm-up times, no per-run user/system time and no start times; "
        "commands ran one after another, not interleaved",
    )
    meta["variants"] = variants
    return runs_frame(rows), meta


# --- pyperf ------------------------------------------------------------------------------------

# pyperf metadata → the names perfkit's own collections use in meta.
_PYPERF_HOST_KEYS = {
    "hostname": "host",
    "cpu_model_name": "cpu_model",
    "cpu_count": "cpu_count",
    "platform": "platform",
    "python_version": "python",
}


def _from_pyperf(path: Path, data: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    benchmarks = data["benchmarks"]
    if not benchmarks:
        raise DatasetError(f"{path}: pyperf file holds no benchmarks")
    common = data.get("metadata") or {}
    rows: list[dict[str, Any]] = []
    variants: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    order = 0
    for b_index, bench in enumerate(benchmarks):
        if not isinstance(bench, dict) or not isinstance(bench.get("runs"), list):
            raise DatasetError(f"{path}: benchmarks[{b_index}] has no runs list")
        bmeta = {**common, **(bench.get("metadata") or {})}
        name = bmeta.get("name")
        if not name:
            raise DatasetError(f"{path}: benchmarks[{b_index}] has no name in its metadata")
        label = _unique(str(name), seen)
        unit = str(bmeta.get("unit", "second"))
        if unit == "second":
            column, scale = "wall_s", 1.0
        elif unit == "byte":
            column, scale = "max_rss_kib", 1 / 1024
        else:
            column, scale = f"pyperf_{unit}", 1.0
        variants[label] = {
            "command": bmeta.get("command") or bmeta.get("timeit_stmt") or str(name),
            "unit": unit,
            **({"loops": bmeta["loops"]} if "loops" in bmeta else {}),
        }
        run_number = 0
        for p_index, run in enumerate(bench["runs"], 1):
            where = f"benchmarks[{b_index}].runs[{p_index - 1}]"
            if not isinstance(run, dict):
                raise DatasetError(f"{path}: {where} is not an object")
            rmeta = run.get("metadata") or {}
            # A worker's peak RSS applies to every value it produced; with --track-memory the
            # values themselves are the memory and this stays empty.
            rss_bytes = rmeta.get("command_max_rss", rmeta.get("mem_max_rss"))
            rss_kib = round(rss_bytes / 1024) if isinstance(rss_bytes, (int, float)) else None
            calibration = "values" not in run
            samples: list[tuple[bool, Any]] = []
            for w_index, warm in enumerate(run.get("warmups") or []):
                if not isinstance(warm, list) or len(warm) != 2:
                    raise DatasetError(f"{path}: {where}.warmups[{w_index}] is not [loops, value]")
                samples.append((True, warm[1]))
            values = run.get("values") or []
            if not isinstance(values, list):
                raise DatasetError(f"{path}: {where}.values is not a list")
            samples.extend((calibration, v) for v in values)
            for v_index, (warm, value) in enumerate(samples):
                value = _number(value, path, f"{where} value {v_index + 1}")
                order += 1
                if not warm:
                    run_number += 1
                row: dict[str, Any] = {
                    "variant": label,
                    "run": 0 if warm else run_number,
                    "order": order,
                    "warmup": warm,
                    "traced": False,
                    "started_at": None,
                    "status": "ok",
                    "exit_code": None,
                    "pyperf_process": p_index,
                }
                if column != "max_rss_kib" and rss_kib is not None:
                    row["max_rss_kib"] = rss_kib
                row[column] = value * scale if column != "max_rss_kib" else round(value * scale)
                rows.append(row)
        if run_number == 0:
            raise DatasetError(f"{path}: benchmark {name!r} has no values (only warm-ups)")
    meta = _base_meta(path, "pyperf", version=data.get("version"))
    meta["variants"] = variants
    for theirs, ours in _PYPERF_HOST_KEYS.items():
        if theirs in common:
            meta[ours] = common[theirs]
    meta["source"]["metadata"] = dict(common)
    runs = runs_frame(rows)
    if "pyperf_process" in runs.columns:
        runs["pyperf_process"] = runs["pyperf_process"].astype("int64")
    return runs, meta


_READERS = {"hyperfine": _from_hyperfine, "pyperf": _from_pyperf}


def load_file(path: str | os.PathLike) -> Dataset:
    """Read a results file another tool wrote (hyperfine ``--export-json``, pyperf JSON).

    A file of a perfkit dataset folder (``meta.json``, ``runs.jsonl``, ``runs.parquet``,
    ``stages.*``) loads that folder.

    Returns a :class:`~perfkit.data.store.Dataset` whose ``runs`` table has the contract's columns
    (see :mod:`perfkit.data.schema`) — ``variant, run, order, warmup, traced, started_at, status,
    exit_code, wall_s, max_rss_kib`` filled as the format allows, the others null — plus
    ``param_<name>`` (hyperfine parameters) or ``pyperf_process`` (pyperf worker); ``stages`` is
    empty; ``meta["source"]`` names the tool, the file and its modification time.
    """
    path = Path(path)
    own = (store.META, store.RUNS_JOURNAL, store.RUNS_PARQUET, store.STAGES_JOURNAL,
           store.STAGES_PARQUET)
    if path.name in own:
        return store.load_folder(path.parent)
    data = _read_json(path)
    fmt = detect_format(data)
    if fmt is None:
        raise DatasetError(
            f"{path}: not a format perfkit reads (expected a dataset folder, hyperfine "
            "--export-json or pyperf JSON)"
        )
    try:
        runs, meta = _READERS[fmt](path, data)
    except DatasetError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DatasetError(f"{path}: malformed {fmt} file ({type(exc).__name__}: {exc})") from None
    if runs["wall_s"].notna().any() and not all(
        math.isfinite(v) for v in runs["wall_s"].dropna()
    ):
        raise DatasetError(f"{path}: non-finite times in the {fmt} file")
    return store.Dataset(runs=runs, stages=stages_frame([]), meta=meta, path=path)
