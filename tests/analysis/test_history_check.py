"""What moved at a step: the sides stop at the neighbouring change points of any metric."""

from __future__ import annotations

import pandas as pd

from perfkit.analysis.history_check import Step, _explain


def _step(index: int) -> Step:
    return Step(metric="user_s", index=index, commit_before=f"c{index - 1}",
                commit_after=f"c{index}", before=1.0, after=2.0, change=-1.0, ci_low=-1.2,
                ci_high=-0.8, p_value=0.005, regression=True)


def test_movers_compare_only_the_commits_between_neighbouring_change_points():
    """Commits 0–9: stage a 3 s; 10–19: a 1 s (another metric's step at 10); 20–29: a 1 s and
    b 2 s → 4 s. Bounded by the step at 10, the step at 20 moved b only, not a."""
    commits = [f"c{i}" for i in range(30)]
    stages = pd.DataFrame([
        {"commit": c, "stage": s, "status": status, "duration_s": d}
        for i, c in enumerate(commits)
        for s, d in (("a", 3.0 if i < 10 else 1.0), ("b", 4.0 if i >= 20 else 2.0))
        for status in ("succeeded", "ok")])
    counts = pd.DataFrame({"commit": commits})
    bounded = _explain(_step(20), commits, counts, stages, span=30, edges={"c10", "c20"})
    assert [(m.name, m.before, m.after) for m in bounded.stages] == [("b", 2.0, 4.0)]
    unbounded = _explain(_step(20), commits, counts, stages, span=30, edges={"c20"})
    assert {m.name for m in unbounded.stages} == {"a", "b"}  # a's earlier change leaks in
    # another metric's step a few commits away is the same change: it does not cut the side
    near = _explain(_step(20), commits, counts, stages, span=30, edges={"c10", "c18"})
    assert [m.name for m in near.stages] == ["b"] and near.stages[0].before == 2.0
