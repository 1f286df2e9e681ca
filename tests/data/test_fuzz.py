"""Property-based tests (Hypothesis): arbitrary bytes and JSON never raise past perfkit's error type.

The manifest reader turns anything into a run or a ``problems`` row (never an exception); the
journal reader and the importers either read a file or raise :class:`~perfkit.errors.PerfkitError`.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfkit.data import store
from perfkit.data.importers import load_file
from perfkit.data.orchestrator import PROBLEM_REASONS, read_orchestrator
from perfkit.data.schema import SCHEMA_VERSION
from perfkit.errors import PerfkitError
from tests.data.test_orchestrator import small_manifest, write_run

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Any JSON value: what a hostile (or broken) writer can put anywhere in a file.
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(10**40), max_value=10**40) | st.text(max_size=20)
    | st.sampled_from(["\ud800", "2500-01-01T00:00:00Z", "9999-12-31", "", "succeeded",
                       "2026-01-01T00:00:00Z"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)

#: A path into small_manifest: a top-level field or a field of one of its two commands.
FIELDS = list(small_manifest("x")) + [f"commands.{i}.{k}" for i in (0, 1)
                                      for k in small_manifest("x")["commands"][0]]


def _ingest(manifest_bytes: bytes) -> None:
    """Read a workspace holding one good run and one run with ``manifest_bytes``; check the
    result: the good run is read, the other is a run or exactly one problem."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        write_run(ws, "good", small_manifest("good"))
        write_run(ws, "fuzz", manifest_bytes)
        data = read_orchestrator(ws, workers=1)
        assert "good" in set(data.runs["run_id"])
        fuzz_runs = int((data.runs["run_id"] != "good").sum())
        assert fuzz_runs + len(data.problems) == 1, data.problems
        assert set(data.problems["reason"]) <= set(PROBLEM_REASONS)
        # every table can be written as Parquet (what ingest does next)
        for table in (data.runs, data.stages, data.problems):
            table.to_parquet(ws / "t.parquet")


@FUZZ
@given(st.binary(max_size=2000))
def test_manifest_reader_never_raises_on_arbitrary_bytes(raw):
    _ingest(raw)


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_manifest_reader_never_raises_on_any_json_in_any_field(field, value):
    manifest = small_manifest("fuzz")
    target, key = manifest, field
    if field.startswith("commands."):
        _, index, key = field.split(".")
        target = manifest["commands"][int(index)]
    target[key] = value
    _ingest(json.dumps(manifest).encode("utf-8", "surrogatepass"))


@FUZZ
@given(json_values)
def test_manifest_reader_never_raises_on_any_json_document(value):
    _ingest(json.dumps(value).encode("utf-8", "surrogatepass"))


def _load_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return store.load_folder(path)


@FUZZ
@given(st.lists(st.binary(max_size=200) | json_values.map(
    lambda v: json.dumps(v).encode("utf-8", "surrogatepass")), max_size=6))
def test_journal_reader_reads_or_raises_a_perfkit_error(lines):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        good = {"variant": "a", "run": 1, "order": 1, "status": "ok", "wall_s": 0.5}
        (folder / store.META).write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                                     "complete": False}))
        (folder / store.RUNS_JOURNAL).write_bytes(
            json.dumps(good).encode() + b"\n" + b"\n".join(lines))
        try:
            ds = _load_quietly(folder)
        except PerfkitError:
            return
        assert isinstance(ds.runs, pd.DataFrame)


@FUZZ
@given(st.binary(max_size=200))
def test_a_journal_line_of_garbage_never_hides_the_good_lines(garbage):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / store.META).write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                                     "complete": False}))
        lines = [json.dumps({"variant": "a", "run": i, "order": i, "status": "ok",
                             "wall_s": 0.1 * i}).encode() for i in (1, 2)]
        garbage = garbage.replace(b"\n", b" ")
        (folder / store.RUNS_JOURNAL).write_bytes(lines[0] + b"\n" + garbage + b"\n" + lines[1]
                                                  + b"\n")
        ds = _load_quietly(folder)
        assert {1, 2} <= set(ds.runs["run"])


@FUZZ
@given(st.binary(max_size=1000) | json_values.map(
    lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
       st.sampled_from(["hyperfine", "pyperf", "none"]))
def test_importers_read_or_raise_a_perfkit_error(content, shape):
    if shape != "none":  # a near-miss of the real format: the detector accepts it
        try:
            value = json.loads(content)
        except ValueError:
            value = content.decode("latin-1")
        doc = ({"results": [{"command": "a", "times": value}]} if shape == "hyperfine"
               else {"version": "1.0", "benchmarks": [{"runs": value}], "metadata": {}})
        content = json.dumps(doc).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        path.write_bytes(content)
        try:
            ds = load_file(path)
        except PerfkitError:
            return
        assert isinstance(ds.runs, pd.DataFrame)
