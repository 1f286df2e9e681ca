"""History order: a benchmark's commits follow git's first-parent chain (``add --repo``) or the
order they were added — never their commit times, which disagree with main's order whenever a
branch's older commits are fast-forwarded or merged in. Old histories (no ``chain_position``
column) stay readable, in the order they had."""

from __future__ import annotations

import os
import subprocess

import pyarrow.parquet as pq
import pytest

from perfkit.analysis.history_check import check_history
from perfkit.data import history as history_mod
from perfkit.data.history import open_history
from perfkit.errors import UsageError

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
    reason="git is needed for first-parent positions")


def _repo(folder, times: list[str]) -> list[str]:
    """A git repository with one empty commit per committer time, each on top of the last."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "init", "-q", str(folder)], check=True, env=env)
    shas = []
    for i, when in enumerate(times):
        subprocess.run(["git", "-C", str(folder), "commit", "-q", "--allow-empty", "-m", f"c{i}"],
                       check=True, env={**env, "GIT_COMMITTER_DATE": when,
                                        "GIT_AUTHOR_DATE": when})
        shas.append(subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], check=True,
                                   capture_output=True, text=True).stdout.strip())
    return shas


def test_a_step_is_placed_at_its_commit_on_the_chain_whatever_the_times_and_add_order(
        tmp_path, make_history_dataset):
    # 10 commits on main's chain; the last 5 came from a branch whose commits are a month older
    # (fast-forwarded in), so by commit time they would come first and the step would invert
    times = [f"2026-02-01T{i:02d}:00:00Z" for i in range(5)] + \
            [f"2026-01-01T{i:02d}:00:00Z" for i in range(5)]
    shas = _repo(tmp_path / "repo", times)
    h = open_history(tmp_path / "h", create=True)
    for i in [6, 0, 3, 1, 8, 2, 4, 7, 5, 9]:  # added out of order (a backfill)
        level = 2.0 if i >= 5 else 1.0
        added = h.add(make_history_dataset(f"d{i:02d}", level, seed=i, runs=3), "b",
                      commit=shas[i], repo=tmp_path / "repo")
        assert added.chain_position == i + 1
    assert h.order("b") == history_mod.BY_CHAIN
    series = h.series("b", "wall_s")
    assert list(series["commit"]) == shas
    # --when defaults to the commit's time in the repository: kept, not used to order
    assert series["commit_time"].iloc[5].isoformat().startswith("2026-01-01T00:00")
    # 10 commits (5 on each side) allow no p below ~0.01: alpha 0.05 here, the order is tested
    (check,) = check_history(h, metrics=["wall_s"], permutations=99, alpha=0.05,
                             resamples=200).checks
    (step,) = check.steps
    assert (step.commit_before, step.commit_after) == (shas[4], shas[5])
    assert step.change == pytest.approx(-1.0, abs=0.1)


def test_a_history_from_before_chain_positions_reads_as_before_until_its_next_add(
        tmp_path, make_history_dataset):
    h = open_history(tmp_path / "h", create=True)
    for i, when in enumerate(["2026-03-01", "2026-01-01", "2026-02-01"]):
        h.add(make_history_dataset(f"d{i}", 1 + i, seed=i, runs=3), "b", commit=f"c{i}",
              when=when)
    for path in (tmp_path / "h" / "runs").rglob("*.parquet"):  # as written before the column
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["chain_position"]), path)
    old = open_history(tmp_path / "h")
    assert "chain_position" not in old.columns()
    # read as it was then: by commit time
    assert list(old.series("b", "wall_s")["commit"]) == ["c1", "c2", "c0"]
    assert list(old.runs("b")["commit"].unique()) == ["c1", "c2", "c0"]
    assert old.order("b") == history_mod.BY_TIME
    # its first add by this version (here with a repository): not every commit has a position,
    # so the order added — a partial chain cannot place the old commits
    (sha,) = _repo(tmp_path / "repo", ["2025-01-01T00:00:00Z"])
    old.add(make_history_dataset("d3", 4, seed=3, runs=3), "b", commit=sha, repo=tmp_path / "repo")
    assert list(old.commits("b")["commit"]) == ["c0", "c1", "c2", sha]
    assert old.order("b") == history_mod.BY_ADDED


def test_a_bad_repository_is_one_clear_error_and_adds_nothing(tmp_path, make_history_dataset):
    ds = make_history_dataset("d", runs=3)
    (sha,) = _repo(tmp_path / "repo", ["2026-01-01T00:00:00Z"])
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{tmp_path / 'repo'}",
                    str(tmp_path / "shallow")], check=True, capture_output=True)
    h = open_history(tmp_path / "h", create=True)
    for repo, commit, message in [(tmp_path / "nope", sha, "not a git repository"),
                                  (tmp_path / "repo", "f" * 40, "is not a commit of"),
                                  (tmp_path / "repo", "--all", "is not a commit of"),
                                  (tmp_path / "shallow", sha, "shallow clone")]:
        with pytest.raises(UsageError, match=message):
            h.add(ds, "b", commit=commit, repo=repo)
    assert not (tmp_path / "h").exists()


def test_an_add_to_a_compacted_history_comes_last(tmp_path, make_history_dataset):
    # data/trend-history keeps its 24 adds in one file (as a compaction leaves them): the next
    # add's sequence is one more than the largest there, not one more than the number of files
    import shutil

    from perfkit import _paths

    shutil.copytree(_paths.REPO_ROOT / "data" / "trend-history", tmp_path / "h")
    h = open_history(tmp_path / "h")
    assert len(list((tmp_path / "h" / "runs").rglob("*.parquet"))) == 1
    first = h.add(make_history_dataset("d0", runs=3), "pipeline", commit="new-1")
    second = h.add(make_history_dataset("d1", seed=1, runs=3), "pipeline", commit="new-2")
    assert (first.sequence, second.sequence) == (25, 26)
    assert list(h.commits("pipeline")["commit"])[-2:] == ["new-1", "new-2"]
