"""``--track-size``: sizes of matching files after every run, as ``size_<label>_bytes`` columns."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from perfkit.cli import main
from perfkit.collect.sizes import SizeTracker, default_label, parse_track_size
from perfkit.data.sources import load
from perfkit.errors import UsageError
from perfkit.present.hotspots_view import format_size_growth


def test_labels_from_globs_and_clashes():
    assert default_label("out/**/runs.json") == "runs_json"
    assert default_label("**/2024.log") == "f_2024_log"
    assert parse_track_size(["metrics.json", "hist=out/**/runs.json"]) == {
        "metrics_json": "metrics.json", "hist": "out/**/runs.json"}
    # a '=' inside a glob that is not a label stays part of the glob
    assert parse_track_size(["a b=c/*.json"]) == {"json": "a b=c/*.json"}
    with pytest.raises(UsageError, match="given twice"):
        parse_track_size(["a/runs.json", "b/runs.json"])
    with pytest.raises(UsageError, match="empty"):
        parse_track_size(["x="])


def test_sizes_sum_matches_count_a_symlinked_file_once_and_null_without_match(tmp_path):
    (tmp_path / ".runs" / "t" / "cli" / "r1").mkdir(parents=True)
    (tmp_path / ".runs" / "t" / "cli" / "r1" / "manifest.json").write_bytes(b"x" * 300)
    (tmp_path / ".runs" / "t" / "cli" / "r2").mkdir()
    (tmp_path / ".runs" / "t" / "cli" / "r2" / "manifest.json").write_bytes(b"y" * 45)
    # the orchestrator's "latest" link: the same file a second time
    os.symlink("r2", tmp_path / ".runs" / "t" / "cli" / "latest")
    (tmp_path / "metrics.json").write_bytes(b"z" * 7)
    tracker = SizeTracker({"manifests": ".runs/**/manifest.json", "metrics": "metrics.json",
                           "none": "out/*.json"}, tmp_path)
    assert tracker.sizes() == {"size_manifests_bytes": 345, "size_metrics_bytes": 7,
                               "size_none_bytes": None}
    (tmp_path / "metrics.json").write_bytes(b"z" * 70)
    assert tracker.sizes()["size_metrics_bytes"] == 70


def test_measure_cli_tracks_a_growing_file_and_prints_its_slope(tmp_path, capsys):
    out = tmp_path / "ds"
    code = main(["measure", "--out", str(out), "--runs", "4", "--warmup", "1", "--no-progress",
                 "--cwd", str(tmp_path), "--track-size", "hist.log",
                 "--track-size", "gone=nothing/*.x", "printf 0123456789 >> hist.log"])
    assert code == 0
    runs = load(out).runs.sort_values("order")
    # the warm-up wrote first: 10 bytes more after every run, in execution order
    assert runs["size_hist_log_bytes"].tolist() == [10, 20, 30, 40, 50]
    assert runs["size_gone_bytes"].isna().all()
    text = capsys.readouterr().out
    assert "hist_log: 20 B → 50 B fitted over 4 runs, +10 B per run (r = 1.00)" in text
    assert "gone: matched no file after any run" in text


def test_measure_cli_rejects_a_bad_track_size_before_running(tmp_path, capsys):
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "1", "--no-progress",
                 "--track-size", "a=x", "--track-size", "a=y", "true"])
    assert code == 2
    assert "--track-size 'a=y'" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_size_growth_lines_per_variant():
    runs = pd.DataFrame({"variant": ["a", "b"] * 3, "run": [1, 1, 2, 2, 3, 3],
                         "order": range(6), "warmup": False, "traced": False,
                         "size_h_bytes": [100, 200, 300, 400, 500, 600]})
    lines = format_size_growth(runs)
    assert lines[1].startswith("  a: h: 100 B → 500 B") and "+100 B per run" in lines[1]
    assert lines[2].startswith("  b: h: 200 B → 600 B")
