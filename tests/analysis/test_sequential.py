"""Sequential decisions: the spending boundaries against published values, the decision rule on
known data, a small seeded simulation, and one real collection through the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis.sequential import decide, simulate, standard_error, stopper
from perfkit.analysis.spending import SequentialPlan, boundaries, obf_spending, recorded_confidence
from perfkit.cli import main
from perfkit.errors import UsageError


def test_boundaries_match_the_published_lan_demets_obrien_fleming_values():
    # Lan & DeMets (1983) O'Brien-Fleming-type spending, 5 equally spaced looks, one-sided 2.5 %
    # (as tabulated by gsDesign / ldbounds): 4.877, 3.357, 2.680, 2.290, 2.031
    c = boundaries([0.2, 0.4, 0.6, 0.8, 1.0], 0.025)
    assert np.round(c, 3).tolist() == [4.877, 3.357, 2.680, 2.290, 2.031]
    assert boundaries([1.0], 0.025)[0] == pytest.approx(1.959964, abs=1e-5)  # one look: fixed
    assert obf_spending(1.0, 0.025) == pytest.approx(0.025)


def test_plan_levels_and_meta_round_trip():
    plan = SequentialPlan(100, 5)
    assert plan.looks[0] == 5 and plan.looks[-1] == 100 and len(plan.looks) == 20
    levels = [plan.confidence(j) for j in range(len(plan.looks))]
    assert all(a >= b for a, b in zip(levels, levels[1:]))  # early looks are stricter
    assert 0.95 < levels[-1] < 0.97  # the last look keeps nearly the fixed design's level
    again = SequentialPlan.from_meta(plan.to_meta())
    assert again.critical == plan.critical
    meta = {"sequential": {"plan": plan.to_meta(), "looks": [{"confidence": levels[3]}]}}
    assert recorded_confidence(meta) == levels[3]
    assert recorded_confidence({}) == 0.95 and recorded_confidence({}, None) is None
    with pytest.raises(UsageError, match="--look-every"):
        SequentialPlan(100, 0)


def _frame(base, cand):
    m = len(base)
    return pd.DataFrame({
        "variant": ["baseline"] * m + ["candidate"] * m, "run": np.tile(np.arange(1, m + 1), 2),
        "round": np.tile(np.arange(1, m + 1), 2), "warmup": False, "traced": False,
        "status": "ok", "order": np.arange(2 * m) + 1, "wall_s": np.concatenate([base, cand])})


@pytest.mark.parametrize("change, expected", [(0.40, "cleared"), (-0.30, "regressed"),
                                              (0.02, "below-target")])
def test_decide_stops_on_clear_answers(change, expected):
    rng = np.random.default_rng(1)
    base = np.exp(rng.normal(0, 0.05, 40))
    cand = (1 - change) * np.exp(rng.normal(0, 0.05, 40))
    plan = SequentialPlan(40, 10)
    look, result = decide(_frame(base, cand), plan, 3, targets=["wall_s"], guardrails={},
                          info=[], statistic="hl")
    assert look.decision == expected
    assert result.settings["confidence"] == pytest.approx(plan.confidence(3))


def test_no_futility_stop_before_five_runs_per_variant(monkeypatch):
    # with 3 rounds the bootstrap has 10 distinct resamples: too few to judge futility on
    import perfkit.analysis.sequential as sequential

    monkeypatch.setattr(sequential, "_conditional_power", lambda *a, **k: 0.0)
    rng = np.random.default_rng(2)
    base, cand = np.exp(rng.normal(0, 0.05, 12)), 0.9 * np.exp(rng.normal(0, 0.05, 12))
    plan = SequentialPlan(12, 3)
    decisions = [decide(_frame(base[:n], cand[:n]), plan, i, targets=["wall_s"], guardrails={},
                        info=[], statistic="hl")[0].decision for i, n in enumerate(plan.looks)]
    assert decisions[0] == "continue" and "futility" in decisions[1:]


def test_standard_error_from_the_replicates_not_an_extreme_interval():
    """Futility reads the spread from the bootstrap replicates: an early look's interval at an
    extreme level is bounded by the replicates and widened by the expansion, not normal."""
    rng = np.random.default_rng(2)
    dist = 1 - np.exp(np.log(0.8) + rng.normal(0, 0.05, 4000))  # change 20 %, SE 0.05 on log
    assert standard_error(0.2, -2.0, 0.7, 1 - 1e-11, dist) == pytest.approx(0.04, rel=0.05)
    # no replicates (an exact or Moses row): the interval's width at its level
    assert standard_error(0.2, 0.1, 0.3, 0.95) == pytest.approx(0.1 / 1.959964, rel=1e-6)
    assert math.isnan(standard_error(0.2, math.nan, 0.3, 0.95))
    # 11.7 % measured at the second look (10 of 100 rounds) could well clear by 100: the
    # interval-based spread (4-5× too wide there) gave a conditional power of 0.045: futility
    rng = np.random.default_rng(2)
    base = np.exp(rng.normal(0, 0.1, 10))
    look, _ = decide(_frame(base, 0.89 * base * np.exp(rng.normal(0, 0.1, 10))),
                     SequentialPlan(100, 5), 1, targets=["wall_s"], guardrails={}, info=[],
                     statistic="hl", n_resamples=2000)
    assert look.change == pytest.approx(0.117, abs=0.001)
    assert look.decision == "continue"


def test_simulated_error_and_power_loosely():
    # benchmarks/bench_sequential.py measures these with 400 trials per truth; here a seeded few
    plan = SequentialPlan(30, 10)
    opts = dict(statistic="hl", trials=8)
    edge = simulate(0.10, plan, **opts)
    strong = simulate(0.25, plan, **opts)
    assert edge["cleared"] <= 0.125
    assert strong["cleared"] >= 0.75 and strong["mean_runs"] < 30


def test_compare_judges_a_sequential_dataset_with_the_statistic_of_its_looks():
    """A look made with the median, compared later with the default (auto: Hodges-Lehmann), could
    give another verdict than the one the collection stopped on (seen on 3 runs of a guardrail)."""
    from perfkit import compare

    rng = np.random.default_rng(4)
    frame = _frame(np.exp(rng.normal(0, 0.05, 10)), 0.7 * np.exp(rng.normal(0, 0.05, 10)))
    plan = SequentialPlan(10, 5)
    after_round = stopper(plan, baseline="baseline", candidate="candidate", targets=["wall_s"],
                          guardrails={}, statistic="median")
    _, record = after_round(frame, 10)
    meta = {"sequential": record}
    assert record["statistic"] == "median"
    assert compare(frame, meta=meta, guardrails={}).settings["statistic"] == "median"
    assert compare(frame, meta=meta, guardrails={}, statistic="mean").settings["statistic"] == "mean"
    assert compare(frame, guardrails={}).settings["statistic"] == "auto"


@pytest.mark.slow
def test_until_decided_real_processes(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(["measure", "--out", str(out), "-n", "baseline", "sleep 0.06", "-n", "candidate",
                 "sleep 0.01", "--until-decided", "--max-runs", "12", "--look-every", "3",
                 "--no-progress", "--guardrail", "max_rss_kib=50%"])
    err = capsys.readouterr().err
    meta = json.loads((out / "meta.json").read_text())
    record = meta["sequential"]
    assert record["plan"]["looks"] == [3, 6, 9, 12]
    assert record["decision"] == meta["decided"] == "cleared" and code == 0
    assert "look 1: 3 runs/variant" in err and "→" in err
    last = record["looks"][-1]
    capsys.readouterr()
    assert main(["compare", str(out), "--format", "json", "--guardrail", "max_rss_kib=50%"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert math.isclose(doc["settings"]["confidence"], last["confidence"])
    assert doc["metrics"][0]["n_baseline"] == last["runs"] < 12


def test_until_decided_usage_errors(tmp_path, capsys):
    base = ["measure", "--out", str(tmp_path / "d"), "--no-progress"]
    assert main([*base, "true", "--until-decided"]) == 2
    assert "compares two variants" in capsys.readouterr().err
    assert main([*base, "true", "false", "--max-runs", "5"]) == 2
    assert "only with --until-decided" in capsys.readouterr().err
    assert main([*base, "true", "false", "--until-decided", "--look-every", "0"]) == 2
    assert "--look-every" in capsys.readouterr().err
