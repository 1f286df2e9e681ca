"""perfkit.data.importers on hyperfine and pyperf files written by the real tools (tests/fixtures/importers)."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import perfkit
from perfkit.data.importers import detect_format, load_file
from perfkit.data.schema import RUNS_COLUMNS
from perfkit.errors import DatasetError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

DATA = FIXTURES / "importers"


def _raw(name: str) -> dict:
    raw = (DATA / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return json.loads(raw)


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.json*")))
def test_every_fixture_loads_with_the_contract_columns(name):
    ds = perfkit.load(DATA / name)
    assert list(ds.runs.columns[: len(RUNS_COLUMNS)]) == list(RUNS_COLUMNS)
    for column, dtype in RUNS_COLUMNS.items():
        if dtype.startswith("datetime64"):  # pandas 3 picks the unit (s for all-null columns)
            assert isinstance(ds.runs[column].dtype, pd.DatetimeTZDtype), column
        else:
            assert str(ds.runs[column].dtype) == dtype, column
    assert ds.complete and ds.stages.empty
    assert ds.meta["source"]["format"] == detect_format(_raw(name))
    assert ds.meta["source"]["path"] == str((DATA / name).resolve())
    assert set(ds.variants) == set(ds.meta["variants"])
    # order is a permutation 1..n and run numbers are 1..k per variant (warm-ups are 0)
    assert sorted(ds.runs["order"]) == list(range(1, len(ds.runs) + 1))
    for _, group in ds.runs[~ds.runs["warmup"]].groupby("variant"):
        assert sorted(group["run"]) == list(range(1, len(group) + 1))


def test_hyperfine_times_and_exit_codes_match_the_file():
    raw = _raw("hyperfine-pipeline.json")
    ds = load_file(DATA / "hyperfine-pipeline.json")
    assert ds.variants == ["baseline", "candidate"]
    for result in raw["results"]:
        rows = ds.runs[ds.runs["variant"] == result["command"]].sort_values("run")
        assert rows["wall_s"].tolist() == result["times"]
        assert rows["exit_code"].tolist() == result["exit_codes"]
        assert (rows["status"] == "ok").all()
        assert not rows["warmup"].any()
        # hyperfine 1.15 exports neither per-run CPU times nor memory: null, never made up
        assert rows["user_s"].isna().all() and rows["max_rss_kib"].isna().all()
        assert ds.meta["variants"][result["command"]]["mean_user_s"] == result["user"]
    assert ds.meta["source"]["exports_memory"] is False
    # the commands ran one after the other: every baseline run precedes every candidate run
    assert ds.runs.groupby("variant")["order"].max()["baseline"] < ds.runs.groupby("variant")[
        "order"
    ].min()["candidate"]


def test_hyperfine_failures_become_failed_runs_with_their_exit_code():
    ds = load_file(DATA / "hyperfine-failing.json")
    by = ds.runs.groupby("variant")
    assert by["status"].unique()["false"].tolist() == ["failed"]
    assert by["status"].unique()["true"].tolist() == ["ok"]
    assert ds.runs.loc[ds.runs["variant"] == "false", "exit_code"].tolist() == [1, 1, 1, 1]


def test_hyperfine_parameters_become_columns():
    ds = load_file(DATA / "hyperfine-params.json")
    assert sorted(ds.runs["param_rows"].unique()) == ["150", "50"]
    assert all("--rows" in v for v in ds.variants)
    assert ds.meta["variants"][ds.variants[0]]["parameters"] == {"rows": "50"}


def test_hyperfine_memory_of_newer_versions_becomes_max_rss_kib(tmp_path):
    # hyperfine >= 1.16 adds "memory_usage_byte" (peak RSS in bytes) beside "times"; Debian ships
    # 1.15, so the key is added to a copy of a real export, the way newer versions write it.
    raw = _raw("hyperfine-pipeline.json")
    for k, result in enumerate(raw["results"]):
        n = len(result["times"])
        result["memory_usage_byte"] = [(20_000 + 10 * k + i) * 1024 for i in range(n)]
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(raw))
    ds = load_file(path)
    base = ds.runs[ds.runs["variant"] == "baseline"].sort_values("run")
    assert base["max_rss_kib"].tolist() == [20_000 + i for i in range(len(base))]
    assert ds.meta["source"]["exports_memory"] is True


def test_hyperfine_signal_exit_code_null_is_a_failure(tmp_path):
    raw = _raw("hyperfine-failing.json")
    raw["results"][1]["exit_codes"][2] = None  # what hyperfine writes for a run killed by a signal
    path = tmp_path / "signal.json"
    path.write_text(json.dumps(raw))
    rows = load_file(path).runs.query("variant == 'true'").sort_values("run")
    assert rows["status"].tolist() == ["ok", "ok", "failed", "ok"]
    assert rows["exit_code"].isna().tolist() == [False, False, True, False]


def test_pyperf_command_values_warmups_and_memory():
    raw = _raw("pyperf-command.json")
    ds = load_file(DATA / "pyperf-command.json")
    assert ds.variants == ["pipeline-baseline"]
    runs = raw["benchmarks"][0]["runs"]
    values = [v for r in runs for v in r.get("values", [])]
    timed = ds.runs[~ds.runs["warmup"]].sort_values("run")
    assert timed["wall_s"].tolist() == values
    # the first worker is pyperf's calibration (all warm-ups); each other worker has its warm-ups
    n_warm = sum(len(r.get("warmups", [])) for r in runs)
    assert int(ds.runs["warmup"].sum()) == n_warm
    assert (ds.runs.loc[ds.runs["warmup"], "run"] == 0).all()
    # each row carries its worker's command_max_rss in KiB
    for p_index, r in enumerate(runs, 1):
        rows = ds.runs[ds.runs["pyperf_process"] == p_index]
        assert (rows["max_rss_kib"] == round(r["metadata"]["command_max_rss"] / 1024)).all()
    assert ds.meta["source"]["format"] == "pyperf"
    assert ds.meta["host"] == raw["metadata"]["hostname"]
    assert ds.meta["variants"]["pipeline-baseline"]["command"] == raw["metadata"]["command"]


def test_pyperf_suite_has_one_variant_per_benchmark():
    ds = load_file(DATA / "pyperf-timeit-suite.json")
    assert ds.variants == ["sort-list", "sort-sorted"]
    counts = ds.runs[~ds.runs["warmup"]].groupby("variant").size()
    assert counts.tolist() == [9, 9]  # 3 processes x 3 values
    assert ds.runs["wall_s"].between(1e-7, 1e-3).all()  # seconds per loop, not per 200 loops


def test_pyperf_gzip_memory_benchmark_goes_to_max_rss():
    raw = _raw("pyperf-memory.json.gz")
    ds = perfkit.load(DATA / "pyperf-memory.json.gz")
    expected = [round(v / 1024) for r in raw["benchmarks"][0]["runs"] for v in r["values"]]
    assert ds.runs["max_rss_kib"].tolist() == expected
    assert ds.runs["wall_s"].isna().all()
    assert ds.meta["variants"]["alloc"]["unit"] == "byte"


def test_imported_runs_work_with_long_view():
    ds = load_file(DATA / "hyperfine-pipeline.json")
    long = perfkit.long_view(ds.runs)
    assert set(long["metric"]) == {"wall_s"}
    assert len(long) == 20


# --- mistakes: every one is a DatasetError naming the file ---------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"some": "other tool"}', "not a format perfkit reads"),
        (b"[1, 2, 3]", "not a format perfkit reads"),
        (b'{"results": []}', "holds no results"),
        (b'{"results": [{"command": "x", "times": []}]}', r"results\[0\]\.times is missing"),
        (
            b'{"results": [{"command": "x", "times": [0.1, 0.2], "exit_codes": [0]}]}',
            r"exit_codes has 1 entries for 2 times",
        ),
        (b'{"results": [{"command": "x", "times": ["fast"]}]}', r"times\[0\] is 'fast'"),
        (b'{"version": "1.0", "benchmarks": []}', "holds no benchmarks"),
        (b'{"version": "1.0", "benchmarks": [{"runs": []}]}', "has no name"),
        (
            b'{"version": "1.0", "benchmarks": [{"metadata": {"name": "b"}, "runs": '
            b'[{"warmups": [[1, 0.1]]}]}]}',
            "has no values",
        ),
        (b"\x1f\x8b\x08garbage", "damaged gzip"),
    ],
)
def test_malformed_files_raise_dataset_error_naming_the_path(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as info:
        perfkit.load(path)
    assert str(path) in str(info.value)


def test_a_file_of_a_dataset_folder_loads_the_folder(tmp_path):
    ds = load_file(DATA / "hyperfine-failing.json")
    perfkit.save(tmp_path / "ds", ds.runs, meta={"variants": ds.meta["variants"]})
    again = perfkit.load(tmp_path / "ds" / "meta.json")
    assert perfkit.load(tmp_path / "ds" / "stages.parquet").path == tmp_path / "ds"
    assert again.path == tmp_path / "ds"
    pd.testing.assert_series_equal(again.runs["wall_s"], ds.runs["wall_s"])
    assert not any(math.isnan(v) for v in again.runs["wall_s"])


# --- the CLI reads imported files like any dataset ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("hyperfine-pipeline.json", []),
        ("hyperfine-failing.json", ["--baseline", "true", "--candidate", "false"]),
        ("pyperf-timeit-suite.json", ["--baseline", "sort-list", "--candidate", "sort-sorted"]),
    ],
)
def test_perfkit_compare_reads_imported_files(name, args, capsys):
    from perfkit.cli import main

    code = main(["compare", str(DATA / name), *args, "--resamples", "2000"])
    out = capsys.readouterr().out
    ds = load_file(DATA / name)
    baseline = args[1] if args else "baseline"
    candidate = args[3] if args else "candidate"
    expected = perfkit.compare(ds, baseline, candidate, n_resamples=2000)
    assert code == expected.exit_code
    assert f"{expected.overall.upper()}" in out.splitlines()[0]
    assert f"{candidate!r} against {baseline!r}" in out


def test_perfkit_compare_of_two_imported_files(tmp_path, capsys):
    # a team's history: yesterday's hyperfine export against today's, one command each
    from perfkit.cli import main

    raw = _raw("hyperfine-pipeline.json")
    for keep in ("baseline", "candidate"):
        one = {"results": [r for r in raw["results"] if r["command"] == keep]}
        (tmp_path / f"{keep}.json").write_text(json.dumps(one))
    code = main(["compare", str(tmp_path / "baseline.json"), str(tmp_path / "candidate.json"),
                 "--resamples", "2000"])
    out = capsys.readouterr().out
    whole = perfkit.compare(load_file(DATA / "hyperfine-pipeline.json"), n_resamples=2000)
    assert code == whole.exit_code
    assert out.splitlines()[0].endswith(whole.overall.upper())


def test_cli_on_an_unknown_file_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "criterion.json"
    path.write_text('{"reason": "benchmark-complete", "id": "x"}')
    done = subprocess.run([sys.executable, "-m", "perfkit", "compare", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"perfkit: error: {path}: not a format perfkit reads (expected a dataset folder, "
        "hyperfine --export-json or pyperf JSON)"
    ]
