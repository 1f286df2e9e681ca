"""perfkit.present.summary: per-variant medians and spreads, and their text table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perfkit.data.schema import runs_frame
from perfkit.present.summary import (
    format_bytes,
    format_seconds,
    format_summary,
    summarize,
)


def _runs():
    rows = []
    order = 1
    walls = {"base": [1.0, 1.2, 0.9, 5.0], "cand": [0.5, 0.6, 0.55, 0.52]}
    for variant, values in walls.items():
        rows.append(dict(variant=variant, run=0, order=order, warmup=True, status="ok", wall_s=99.0,
                         user_s=1, sys_s=1, max_rss_kib=1, io_syscw=1, io_wchar=1))
        order += 1
        for i, w in enumerate(values, 1):
            rows.append(dict(variant=variant, run=i, order=order, warmup=False, status="ok", wall_s=w,
                             user_s=w / 2, sys_s=w / 4, max_rss_kib=1000 + i, io_syscw=10, io_wchar=4096))
            order += 1
    rows.append(dict(variant="cand", run=5, order=order, warmup=False, status="failed", exit_code=1,
                     wall_s=1000.0, user_s=0, sys_s=0, max_rss_kib=0, io_syscw=0, io_wchar=0))
    return runs_frame(rows)


def test_summarize_against_numpy():
    s = summarize(_runs()).set_index("variant")
    assert list(s.index) == ["base", "cand"]
    assert s.loc["base", "n"] == 4 and s.loc["base", "n_failed"] == 0
    assert s.loc["cand", "n"] == 5 and s.loc["cand", "n_ok"] == 4 and s.loc["cand", "n_failed"] == 1
    base = np.array([1.0, 1.2, 0.9, 5.0])
    assert s.loc["base", "wall_s_median"] == pytest.approx(np.median(base))
    assert s.loc["base", "wall_s_mad"] == pytest.approx(np.median(np.abs(base - np.median(base))))
    assert s.loc["base", "wall_s_max"] == 5.0  # warm-up (99 s) left out
    assert s.loc["cand", "wall_s_max"] == 0.6  # the failed run (1000 s) left out
    assert s.loc["base", "cpu_s_median"] == pytest.approx(np.median(base * 0.75))
    assert s.loc["base", "io_wchar_median"] == 4096 and s.loc["base", "io_wchar_mad"] == 0


def test_summary_of_a_variant_without_ok_runs_is_nan_not_a_crash():
    runs = runs_frame([dict(variant="x", run=1, order=1, status="error", error="cannot start")])
    s = summarize(runs)
    assert s.loc[0, "n_failed"] == 1 and np.isnan(s.loc[0, "wall_s_median"])
    lines = format_summary(s)
    assert any(line.startswith("x") and "0/1" in line for line in lines)


def test_format_summary_lines():
    lines = format_summary(summarize(_runs()))
    assert lines[0].split()[:2] == ["variant", "ok/runs"]
    base = next(line for line in lines if line.startswith("base"))
    assert "4/4" in base and "1.1 s ± 150 ms" in base and "4 KiB ± 0 B" in base
    assert "1002 KiB ± 1 KiB" in base
    assert any("median absolute deviation" in line for line in lines)
    assert format_summary(summarize(pd.DataFrame())) == ["no runs"]


def test_units():
    assert format_seconds(0.00123) == "1.23 ms"
    assert format_seconds(2.5) == "2.5 s"
    assert format_seconds(0.0000004) == "0.4 µs"
    assert format_bytes(4096000) == "3.91 MiB"
    assert format_bytes(512) == "512 B"


def test_peak_rss_at_the_spawner_floor_is_shown_as_an_upper_bound():
    lines = format_summary(summarize(_runs()), rss_floor_kib=2000)
    base = next(line for line in lines if line.startswith("base"))
    assert "≤ 1.95 MiB" in base
    assert any("spawner" in line for line in lines)
    assert not any("spawner" in line for line in format_summary(summarize(_runs()), rss_floor_kib=500))
