"""``perfkit history add|show|check`` through the real entry point: exit codes, the three formats,
escaping of names from data, and bad input as one line with the history unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfkit.cli import main


def _fill(tmp_path, make, *, step_at: int | None = 12, commits: int = 24, stage: str = "build"):
    hist = tmp_path / "h"
    for i in range(commits):
        level = 1.15 if step_at is not None and i >= step_at else 1.0
        writes = 5 if step_at is not None and i >= step_at else 3
        ds = make(f"d{i:02d}", level, seed=i, writes=writes, stage=stage)
        assert main(["history", "add", str(ds.path), "--name", "demo", "--history", str(hist),
                     "--commit", f"c{i:02d}", "--when", f"2026-01-01T00:{i:02d}:00Z"]) == 0
    return hist


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_check_finds_the_step_explains_it_and_exits_3(tmp_path, make_history_dataset, capsys):
    hist = _fill(tmp_path, make_history_dataset, stage="build<b>|x")
    capsys.readouterr()
    assert main(["history", "check", "--history", str(hist), "--metric", "wall_s",
                 "--format", "json"]) == 3
    out = json.loads(capsys.readouterr().out)
    (check,) = out["checks"]
    (step,) = check["steps"]
    assert step["commit_after"] == "c12" and step["commit_before"] == "c11"
    assert step["regression"] and step["ci_high"] < 0 < -step["change"]
    assert step["change"] == pytest.approx(-0.15, abs=0.03)
    assert step["stages"][0]["name"] == "build<b>|x"
    assert step["files"][0]["name"] == "manifest_writes"
    assert main(["history", "check", "--history", str(hist), "--metric", "wall_s",
                 "--format", "markdown"]) == 3
    md = capsys.readouterr().out
    assert "**regressed**" in md and "build\\<b\\>\\|x" in md and "<b>" not in md
    assert main(["history", "check", "--history", str(hist), "--metric", "wall_s",
                 "--threshold", "20%"]) == 0
    text = capsys.readouterr().out
    assert "step at c12 (after c11)" in text and "answer: no regression" in text


def test_a_flat_history_is_no_regression(tmp_path, make_history_dataset, capsys):
    hist = _fill(tmp_path, make_history_dataset, step_at=None, commits=12)
    assert main(["history", "check", "--history", str(hist)]) == 0
    assert "answer: no regression" in capsys.readouterr().out


def test_show_lists_benchmarks_commits_and_metrics(tmp_path, make_history_dataset, capsys):
    hist = _fill(tmp_path, make_history_dataset, step_at=None, commits=3)
    capsys.readouterr()
    assert main(["history", "show", "--history", str(hist), "--format", "json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["commits"] == ["c00", "c01", "c02"] and item["runs"] == 21
    assert {"wall_s", "manifest_writes"} <= set(item["metrics"])


def _bad_schema(tmp_path, make):
    ds = make("other")
    meta = json.loads((ds.path / "meta.json").read_text())
    (ds.path / "meta.json").write_text(json.dumps({**meta, "schema_version": 99}))
    return ds.path


@pytest.mark.parametrize("case, message", [
    ("schema", "schema version"),
    ("not-history", "not a history folder"),
    ("metric", "not a metric of benchmark"),
    ("name", "not in the history"),
    ("duplicate", "already in the history"),
    ("threshold", "--threshold"),
    ("repo", "not a git repository"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(tmp_path, make_history_dataset, capsys,
                                                          case, message):
    hist = tmp_path / "h"
    first = make_history_dataset("first")
    assert main(["history", "add", str(first.path), "--name", "demo", "--history", str(hist),
                 "--commit", "c1"]) == 0
    argv = {
        "schema": ["history", "add", str(_bad_schema(tmp_path, make_history_dataset)),
                   "--name", "demo", "--history", str(hist), "--commit", "c2"],
        "not-history": ["history", "show", "--history", str(first.path)],
        "metric": ["history", "check", "--history", str(hist), "--metric", "nope"],
        "name": ["history", "check", "--history", str(hist), "--name", "nope"],
        "duplicate": ["history", "add", str(first.path), "--name", "demo", "--history",
                      str(hist), "--commit", "c9"],
        "threshold": ["history", "check", "--history", str(hist), "--threshold", "lots"],
        "repo": ["history", "add", str(make_history_dataset("second", seed=2).path), "--name",
                 "demo", "--history", str(hist), "--commit", "c2", "--repo", str(tmp_path)],
    }[case]
    before = _tree(hist)
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("perfkit: error:") and message in err[0]
    assert _tree(hist) == before


def test_an_empty_or_absent_history_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for folder in ("empty", "absent"):
        assert main(["history", "check", "--history", str(tmp_path / folder)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no history here" in err[0]
    assert not (tmp_path / "absent").exists()
