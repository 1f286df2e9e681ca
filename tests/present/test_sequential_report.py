"""A dataset collected with --until-decided: the report judges it as ``perfkit compare`` does, at
the level and with the statistic of the look the collection stopped on, and says that level."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from perfkit import cli
from perfkit.analysis.sequential import stopper
from perfkit.analysis.spending import SequentialPlan
from perfkit.data.store import save
from perfkit.present.compare_view import comparison
from perfkit.present.headline import headline_html
from perfkit.present.pr_summary import short_table


@pytest.fixture
def sequential_dataset(tmp_path):
    rng = np.random.default_rng(5)
    m = 10
    runs = pd.DataFrame({
        "variant": ["baseline"] * m + ["candidate"] * m, "run": np.tile(np.arange(1, m + 1), 2),
        "round": np.tile(np.arange(1, m + 1), 2), "warmup": False, "traced": False,
        "status": "ok", "order": np.arange(2 * m) + 1,
        "wall_s": np.concatenate([np.exp(rng.normal(0, 0.05, m)),
                                  0.7 * np.exp(rng.normal(0, 0.05, m))])})
    plan = SequentialPlan(20, 5)
    after_round = stopper(plan, baseline="baseline", candidate="candidate", targets=["wall_s"],
                          guardrails={}, statistic="median")
    why, record = after_round(runs, 10)
    assert why == "cleared"
    folder = tmp_path / "seq"
    save(folder, runs, meta={"sequential": record, "decided": why})
    return folder, record["looks"][-1]["confidence"]


def test_the_comparison_view_takes_the_level_and_statistic_of_the_last_look(sequential_dataset):
    folder, level = sequential_dataset
    assert level != pytest.approx(0.95)
    built = comparison(folder, metrics=["wall_s"], guardrails={})
    assert built.result.settings["confidence"] == pytest.approx(level)
    assert built.result.settings["statistic"] == "median"
    shown = f"{level:.2%}"  # not a round level: two decimals, as `perfkit compare` says it
    assert shown in built.answer() and shown in built.summary_markdown()
    assert shown in headline_html(built.result) and shown in "\n".join(short_table(built.result))
    given = comparison(folder, metrics=["wall_s"], guardrails={}, confidence=0.9, statistic="mean")
    assert given.result.settings["confidence"] == 0.9
    assert given.result.settings["statistic"] == "mean"


@pytest.mark.slow
def test_perfkit_report_agrees_with_perfkit_compare_on_a_sequential_dataset(sequential_dataset,
                                                                            tmp_path, capsys):
    folder, level = sequential_dataset
    args = ["--metric", "wall_s", "--guardrail", "success_rate=0pts"]
    assert cli.main(["compare", str(folder), "--format", "json", *args]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert cli.main(["report", str(folder), "--out", str(tmp_path / "r"), *args]) == 0
    reported = json.loads((tmp_path / "r" / "verdict.json").read_text())
    for key in ("confidence", "statistic"):
        assert reported["settings"][key] == compared["settings"][key]
    assert reported["settings"]["confidence"] == pytest.approx(level)
    assert reported["overall"] == compared["overall"] == "cleared"
