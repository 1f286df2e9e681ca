"""Several candidates against one baseline: Bonferroni-adjusted compare() per candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis.multi import adjusted_confidence, compare_many
from perfkit.analysis.verdict import compare
from perfkit.cli import main
from perfkit.data.store import save
from perfkit.errors import UsageError


def _runs(medians: dict[str, float], n: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    order = 0
    for name, m in medians.items():
        for i in range(n):
            order += 1
            rows.append({"variant": name, "run": i + 1, "order": order, "warmup": False,
                         "traced": False, "status": "ok", "exit_code": 0,
                         "wall_s": m * (1 + rng.normal(0, 0.02)), "max_rss_kib": 1000.0})
    return pd.DataFrame(rows)


def test_each_candidate_at_the_bonferroni_level_and_the_worst_answer():
    runs = _runs({"base": 1.0, "fast": 0.7, "slow": 1.3})
    many = compare_many(runs, "base", ["fast", "slow"], confidence=0.9, n_resamples=500)
    assert adjusted_confidence(0.9, 2) == pytest.approx(0.95)
    assert [c.candidate for c in many.comparisons] == ["fast", "slow"]
    # the same as compare() at the adjusted level, candidate by candidate (independent check)
    alone = compare(runs, "base", "slow", confidence=0.95, n_resamples=500)
    assert many.comparisons[1].table["ci_low"].equals(alone.table["ci_low"])
    assert many.overall == "regressed" and many.exit_code == 3
    assert list(many.table["candidate"].unique()) == ["fast", "slow"]
    with pytest.raises(UsageError):
        compare_many(runs, "base", ["base"])


def test_cli_compares_every_other_variant_with_the_baseline(tmp_path, capsys):
    runs = _runs({"zeta": 1.0, "b": 0.7, "a": 0.72})
    save(tmp_path / "ds", runs, meta={"variants": {"zeta": {}, "b": {}, "a": {}}})
    code = main(["compare", str(tmp_path / "ds"), "--baseline", "zeta", "--resamples", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 candidates against 'zeta'" in out and "97.50% confidence" in out
    lines = [ln.split()[0] for ln in out.splitlines() if ln.split() and ln.split()[0] in ("a", "b")]
    assert lines[0] == "b"  # the order given, not the alphabet
    code = main(["compare", str(tmp_path / "ds"), "--baseline", "nope"])
    assert code == 2 and "--baseline nope: not a variant" in capsys.readouterr().err
