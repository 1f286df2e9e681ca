"""``measure --outputs``: real processes writing outputs of known truth, recorded after every run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis.outputs import output_stability
from perfkit.cli import main
from perfkit.collect.measure import measure
from perfkit.collect.outputs import OutputsRecorder
from perfkit.data.sources import load, read_outputs
from perfkit.data.store import DatasetWriter, read_table
from perfkit.errors import UsageError

# Each run: `random.json` random content (flaky), `stamped.json` differing only in timestamps, run
# ids, pids and temp paths (stable after masking), `history.log` one 100-byte line longer (growth).
WRITER = r"""
import json, os, random, sys, time, uuid
os.makedirs("out", exist_ok=True)
json.dump({"value": random.random()}, open("out/random.json", "w"))
json.dump({"run_id": str(uuid.uuid4()), "pid": os.getpid(), "finished_at": time.time(),
           "log": "/tmp/tmp%06d/run.log" % random.randrange(10**6), "stamp": "%s" % uuid.uuid4(),
           "result": {"status": "ok", "items": [1, 2, 3]}, "build": random.random()},
          open("out/stamped.json", "w"))
with open("out/history.log", "a") as fh:
    fh.write("x" * 99 + "\n")
"""


@pytest.fixture
def workload(tmp_path):
    (tmp_path / "w.py").write_text(WRITER)
    return tmp_path


def _collect(ws, **kw):
    import sys

    return measure({"w": [sys.executable, "w.py"]}, out=ws / "ds", runs=kw.pop("runs", 4),
                   cwd=ws, progress=False, **kw)


def test_outputs_of_known_truth_flaky_stable_after_masking_growing_and_missing(workload):
    ds = _collect(workload, outputs=["out/*.json", "out/*.log", "never/*.txt"],
                  volatile=["$.build"])
    table = read_outputs(ds)
    assert set(table["run"]) == {1, 2, 3, 4}
    st = output_stability(table).set_index("pattern")
    assert st.loc["out/random.json", "flaky"]
    assert st.loc["out/random.json", "first_difference"].endswith(": value")
    stamped = st.loc["out/stamped.json"]
    assert stamped["contents"] == 4 and stamped["normalised_contents"] == 1, stamped
    assert not stamped["flaky"] and stamped["structures"] == 1
    log = st.loc["out/history.log"]
    sizes = table[table["pattern"] == "out/history.log"].sort_values("run")["size"].to_numpy(float)
    assert list(sizes) == [100, 200, 300, 400]
    assert log["growth_per_run"] == pytest.approx(np.polyfit([1, 2, 3, 4], sizes, 1)[0])
    assert log["r"] == pytest.approx(1.0)
    never = st.loc["never/*.txt"]
    assert (never["kind"], never["runs"], never["of_runs"]) == ("missing", 0, 4)


def test_without_the_volatile_rule_the_random_build_field_makes_it_flaky(workload):
    ds = _collect(workload, outputs=["out/stamped.json"], runs=3)
    st = output_stability(read_outputs(ds)).set_index("pattern")
    assert st.loc["out/stamped.json", "flaky"]
    assert st.loc["out/stamped.json", "first_difference"].endswith(": build")


def test_a_file_the_run_did_not_touch_is_not_its_output(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    ds = measure({"t": "echo '{\"a\": 1}' > new.json"}, out=tmp_path / "ds", runs=2,
                 cwd=tmp_path, progress=False, outputs=["*.json"],
                 prepare="echo '{}' > old.json")  # --prepare rewrites it: not the run's output
    table = read_outputs(ds)
    assert set(table["path"].dropna()) == {"new.json"}
    assert table.loc[table["run"] == 1, "kind"].tolist() == ["json"]


def test_an_interrupted_collection_keeps_the_outputs_journal(tmp_path):
    writer = DatasetWriter(tmp_path / "ds", {"variants": {}})
    writer.add_run({"variant": "a", "run": 1, "order": 1, "status": "ok"})
    writer.add_rows("outputs", [{"variant": "a", "run": 1, "source": "x", "pattern": "x",
                                 "kind": "missing"}])
    writer.close(complete=False)
    table = read_table(tmp_path / "ds", "outputs")
    assert table is not None and table["pattern"].tolist() == ["x"]
    assert read_outputs(load(tmp_path / "ds"))["kind"].tolist() == ["missing"]


@pytest.mark.parametrize("rule", ["build", "$.", "$..a.b", "$.a[x]"])
def test_a_malformed_volatile_rule_is_a_usage_error_before_any_run(tmp_path, rule):
    with pytest.raises(UsageError, match="--volatile"):
        OutputsRecorder(["*.json"], tmp_path, [rule])


def test_cli_measure_outputs_and_volatile(tmp_path, capsys):
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "2", "--no-progress",
                 "--cwd", str(tmp_path), "--outputs", "o.json", "--volatile", "$.n",
                 "-n", "v", "echo {\\\"n\\\": $$} > o.json"])
    assert code == 0
    table = pd.read_parquet(tmp_path / "ds" / "outputs.parquet")
    assert table["normalised_sha256"].nunique() == 1 and table["sha256"].nunique() == 2
    assert json.loads(table["normalised"].iloc[0]) == {"n": "<volatile>"}
    assert "outputs:" in capsys.readouterr().out.lower()
    assert main(["measure", "--out", str(tmp_path / "ds2"), "--runs", "1", "--no-progress",
                 "--volatile", "nope", "--outputs", "x", "true"]) == 2
    assert "perfkit: error: --volatile" in capsys.readouterr().err


def test_the_fast_listing_finds_what_glob_finds(tmp_path):
    import glob
    import random

    from perfkit.collect.outputs import list_files

    rng = random.Random(3)
    names = ["a", "b.json", ".hidden.json", "run-1", "x.txt", "manifest.json", ".runs"]
    for _ in range(150):
        depth = rng.randint(0, 4)
        path = tmp_path.joinpath(*[rng.choice(names[:4] + [".runs"]) for _ in range(depth)])
        leaf = path / rng.choice(names)
        if any(p.is_file() for p in [*leaf.parents, leaf] if p != tmp_path and p.exists()):
            continue
        leaf.parent.mkdir(parents=True, exist_ok=True)
        if not leaf.exists():
            leaf.write_text("1")
    for pattern in ["**", "**/*.json", "*.json", ".runs/**", "a/**/manifest.json", "*/*",
                    "a/*/b.json", "?.txt", "[ab]/**/x.txt", "[!a]*/**", "b.json", "a/**",
                    str(tmp_path / "a" / "*.json")]:
        expected = sorted(n for n in glob.glob(pattern, root_dir=tmp_path, recursive=True,
                                               include_hidden=True)
                          if (tmp_path / n).is_file())
        assert sorted(n for n, _ in list_files(pattern, str(tmp_path))) == expected, pattern
