"""Output stability, artifact sizes and the baseline-vs-candidate outputs diff, over the
``outputs`` table (:mod:`perfkit.data.schema`).

:func:`size_trends` — per variant and file pattern: runs, size median, spread (25–75 %, min, max)
and growth per run: the least-squares slope of size against the run number
(:func:`scipy.stats.linregress`), with its correlation ``r``, over runs 1..N of the variant.

:func:`output_stability` — the same plus, per pattern, distinct contents across runs (raw and
normalised) and distinct JSON structures; a pattern with more than one normalised content is
``flaky`` and ``first_difference`` names, between the first run and the first run whose normalised
content differs, the first field (in document order) that does more than grow (see
:func:`extends`; else the first that differs), e.g. ``result.items[0].name``.
A JSON pattern whose every change, in run order, extends the last run's document — numbers that
only go up, lists that keep their items and add more, keys added — over at least
:data:`MIN_CHANGES` changes ``accumulates`` instead (a history file, a counter of samples): it
differs with the workspace's history, not at random. Where a document was too big to keep, that
step must at least not shrink the file.
Warm-up runs are left out. A GLOB that some runs wrote nothing for has a row of kind ``missing``
(``runs`` = 0 of ``of_runs``).

:func:`outputs_diff` — per pattern, the candidate's outputs against the baseline's: JSON key
paths added, removed or of another type (over the union of each side's structures), and the
fields whose normalised values differ between the two sides' most common documents, leaving out
fields that already differ between runs of the baseline (they are flaky, not changed).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from perfkit.data.jsonshape import (
    ABSENT,
    canonical_or_none,
    diff_structures,
    differing_fields,
    differing_values,
)

#: Columns of :func:`size_trends`.
SIZE_COLUMNS = ("variant", "pattern", "runs", "size_median", "size_p25", "size_p75", "size_min",
                "size_max", "growth_per_run", "r")
#: Columns of :func:`output_stability` (after ``variant``, ``pattern``).
STABILITY_COLUMNS = ("variant", "pattern", "kind", "runs", "of_runs", "contents",
                     "normalised_contents", "structures", "flaky", "accumulates", "first_difference",
                     *SIZE_COLUMNS[3:])
#: Columns of :func:`outputs_diff`.
DIFF_COLUMNS = ("pattern", "kind", "baseline_runs", "candidate_runs", "same_structure",
                "same_content", "added", "removed", "type_changed", "fields", "note")

#: Distinct documents per side compared field by field (the rest only by hash).
MAX_DOCS = 20
#: Changes between consecutive runs needed to call a pattern ``accumulates``: a random number
#: rises 4 times running with probability 1/120.
MIN_CHANGES = 4


def _timed(outputs: pd.DataFrame) -> pd.DataFrame:
    if outputs is None or len(outputs) == 0:
        return pd.DataFrame(columns=["variant", "run", "pattern", "size", "kind"])
    keep = ~outputs["warmup"].astype(bool) if "warmup" in outputs.columns else True
    return outputs[keep & (outputs["run"] > 0)]


def _fit(runs: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """Slope (bytes per run) and r of size against run number; NaN with under 3 distinct runs."""
    if len(np.unique(runs)) < 3:
        return math.nan, math.nan
    from scipy import stats  # lazy: scipy.stats costs about a second at start-up (perfkit --help)

    fit = stats.linregress(runs, sizes)
    r = float(fit.rvalue) if np.ptp(sizes) > 0 else 0.0
    return float(fit.slope), r


def _size_row(grp: pd.DataFrame) -> dict[str, Any]:
    sizes = pd.to_numeric(grp["size"], errors="coerce").dropna()
    runs = grp.loc[sizes.index, "run"].to_numpy(float)
    values = sizes.to_numpy(float)
    if not len(values):
        return {"size_median": math.nan, "size_p25": math.nan, "size_p75": math.nan,
                "size_min": math.nan, "size_max": math.nan, "growth_per_run": math.nan,
                "r": math.nan}
    slope, r = _fit(runs, values)
    p25, med, p75 = np.quantile(values, [0.25, 0.5, 0.75])
    return {"size_median": float(med), "size_p25": float(p25), "size_p75": float(p75),
            "size_min": float(values.min()), "size_max": float(values.max()),
            "growth_per_run": slope, "r": r}


def size_trends(table: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, pattern) of a table with ``variant, run, pattern, size`` (the outputs table or
    an ingest's artifacts): :data:`SIZE_COLUMNS`, the steepest growth first."""
    df = _timed(table)
    df = df[pd.to_numeric(df["size"], errors="coerce").notna()]
    rows = []
    for (variant, pattern), grp in df.groupby(["variant", "pattern"], sort=True):
        rows.append({"variant": variant, "pattern": pattern, "runs": int(grp["run"].nunique()),
                     **_size_row(grp)})
    out = pd.DataFrame(rows, columns=list(SIZE_COLUMNS))
    if out.empty:
        return out
    order = out["growth_per_run"].abs().fillna(-1)
    return out.assign(_o=order).sort_values(["_o", "variant", "pattern"],
                                            ascending=[False, True, True]).drop(columns="_o") \
        .reset_index(drop=True)


def _doc(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else None


def first_difference(grp: pd.DataFrame) -> str:
    """Where the first run's normalised content and the first run differing from it part: the first
    field that does more than grow, so that a counter beside a random id names the id."""
    present = grp.dropna(subset=["normalised_sha256"]).sort_values("run")
    if present["normalised_sha256"].nunique() < 2:
        return ""
    first = present.iloc[0]
    other = present[present["normalised_sha256"] != first["normalised_sha256"]].iloc[0]
    where = f"run {int(first['run'])} vs run {int(other['run'])}"
    if first["kind"] != "json" or other["kind"] != "json":
        return f"{where}: content (not JSON: no field to name)"
    a, b = _doc(first.get("normalised")), _doc(other.get("normalised"))
    if a is None or b is None:
        return f"{where}: content (document over 64 KiB: not kept)"
    fields = differing_values(a, b, limit=200)
    if not fields:
        return f"{where}: content"
    # the first field that does more than grow (a counter beside random ids names the ids); a
    # key added is growth, as in extends(), a key dropped is not
    changed = [path for path, x, y in fields if x is not ABSENT and not extends(x, y)]
    return f"{where}: {(changed or [fields[0][0]])[0]}"


def extends(old: Any, new: Any) -> bool:
    """Whether JSON ``new`` only adds to ``old``: keys kept (more may come), list items kept in
    place (more may follow), each of them in turn only added to; numbers not smaller; every other
    value equal."""
    if isinstance(old, dict) and isinstance(new, dict):
        return all(k in new and extends(v, new[k]) for k, v in old.items())
    if isinstance(old, list) and isinstance(new, list):
        return len(new) >= len(old) and all(extends(a, b) for a, b in zip(old, new))
    numbers = (int, float)
    if isinstance(old, numbers) and isinstance(new, numbers) \
            and not isinstance(old, bool) and not isinstance(new, bool):
        return new >= old
    return canonical_or_none(old) == canonical_or_none(new)


def accumulates(grp: pd.DataFrame) -> bool:
    """Whether every change of a JSON pattern, in run order, extends the last run's document
    (see :func:`extends`), over at least :data:`MIN_CHANGES` changes."""
    present = grp.dropna(subset=["normalised_sha256"]).sort_values("run")
    if len(present) < 2 or (present["kind"] != "json").any():
        return False
    changes = 0
    rows = list(present.itertuples())
    for old, new in zip(rows, rows[1:]):
        if old.normalised_sha256 == new.normalised_sha256:
            continue
        changes += 1
        a, b = _doc(getattr(old, "normalised", None)), _doc(getattr(new, "normalised", None))
        if a is None or b is None:  # too big to keep: the file must at least not shrink
            if not float(new.size) >= float(old.size):
                return False
        elif not extends(a, b):
            return False
    return changes >= MIN_CHANGES


def output_stability(outputs: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, pattern): :data:`STABILITY_COLUMNS`; flaky patterns first, then missing
    outputs, then accumulating ones, then the steepest growth."""
    df = _timed(outputs)
    if df.empty:
        return pd.DataFrame(columns=list(STABILITY_COLUMNS))
    of_runs = df.groupby(["variant", "source"])["run"].nunique().to_dict()
    rows = []
    for (variant, pattern), grp in df.groupby(["variant", "pattern"], sort=True):
        present = grp[grp["kind"] != "missing"]
        kinds = present["kind"].value_counts()
        grows = accumulates(present)
        rows.append({
            "variant": variant, "pattern": pattern,
            "kind": str(kinds.index[0]) if len(kinds) else "missing",
            "runs": int(present["run"].nunique()),
            "of_runs": int(max(of_runs.get((variant, s), 0) for s in grp["source"].unique())),
            "contents": int(present["sha256"].nunique()),
            "normalised_contents": int(present["normalised_sha256"].nunique()),
            "structures": int(present["signature"].nunique()),
            "flaky": bool(present["normalised_sha256"].nunique() > 1) and not grows,
            "accumulates": grows,
            "first_difference": first_difference(present),
            **_size_row(present),
        })
    out = pd.DataFrame(rows, columns=list(STABILITY_COLUMNS))
    out["_missing"] = out["runs"] < out["of_runs"]
    out["_growth"] = out["growth_per_run"].abs().fillna(0)
    out = out.sort_values(["flaky", "_missing", "accumulates", "_growth", "variant", "pattern"],
                          ascending=[False, False, False, False, True, True])
    return out.drop(columns=["_missing", "_growth"]).reset_index(drop=True)


def _structure(grp: pd.DataFrame) -> dict[str, str]:
    """The union of the structures of ``grp``'s JSON rows (types of a path joined with ``|``)."""
    union: dict[str, set[str]] = {}
    for text in grp["structure"].dropna().unique():
        for path, kind in json.loads(text).items():
            union.setdefault(path, set()).update(kind.split("|"))
    return {p: "|".join(sorted(t)) for p, t in union.items()}


def _modal(grp: pd.DataFrame) -> pd.Series:
    """The row of the most common normalised content (the earliest run among ties)."""
    counts = grp["normalised_sha256"].value_counts()
    top = counts[counts == counts.max()].index
    return grp[grp["normalised_sha256"].isin(top)].sort_values("run").iloc[0]


def _flaky_fields(grp: pd.DataFrame) -> set[str]:
    """Fields that differ between runs of one side (compared with its first run)."""
    docs = grp.dropna(subset=["normalised"]).drop_duplicates("normalised_sha256")
    if len(docs) < 2:
        return set()
    first = _doc(docs.iloc[0]["normalised"])
    out: set[str] = set()
    for text in docs["normalised"].iloc[1:MAX_DOCS]:
        out.update(differing_fields(first, _doc(text), limit=200))
    return out


def _diff_row(pattern: str, b: pd.DataFrame, c: pd.DataFrame) -> dict[str, Any]:
    row = {"pattern": pattern, "baseline_runs": int(b["run"].nunique()),
           "candidate_runs": int(c["run"].nunique()), "added": [], "removed": [],
           "type_changed": [], "fields": [], "note": ""}
    kinds = pd.concat([b["kind"], c["kind"]]).value_counts()
    row["kind"] = str(kinds.index[0]) if len(kinds) else "missing"
    if b.empty or c.empty:
        row.update(same_structure=False, same_content=False,
                   note="only in the " + ("candidate" if b.empty else "baseline"))
        return row
    sdiff = diff_structures(_structure(b), _structure(c))
    row.update(added=sdiff.added, removed=sdiff.removed,
               type_changed=[f"{p}: {x} → {y}" for p, x, y in sdiff.type_changed],
               same_structure=sdiff.same)
    mb, mc = _modal(b), _modal(c)
    row["same_content"] = bool(mb["normalised_sha256"] == mc["normalised_sha256"])
    if not row["same_content"] and mb["kind"] != "json" and b["normalised_sha256"].nunique() > 1:
        row["same_content"] = True  # no field to tell a change from the baseline's own variation
        row["note"] = "content varies between baseline runs: not compared"
        return row
    if not row["same_content"] and mb["kind"] == "json" and mc["kind"] == "json":
        a, z = _doc(mb.get("normalised")), _doc(mc.get("normalised"))
        if a is None or z is None:
            row["note"] = "document over 64 KiB: fields not compared"
        else:
            flaky = _flaky_fields(b)
            row["fields"] = [f for f in differing_fields(a, z, limit=200) if f not in flaky][:50]
            if not row["fields"]:
                row["same_content"] = True
                row["note"] = "differs only in fields that vary between baseline runs"
    return row


def outputs_diff(baseline: pd.DataFrame, candidate: pd.DataFrame) -> pd.DataFrame:
    """Per pattern of either side (rows of one variant each, warm-ups left out):
    :data:`DIFF_COLUMNS`; patterns that differ first."""
    b, c = _timed(baseline), _timed(candidate)
    b, c = b[b["kind"] != "missing"], c[c["kind"] != "missing"]
    patterns = sorted(set(b["pattern"]) | set(c["pattern"]))
    rows = [_diff_row(p, b[b["pattern"] == p], c[c["pattern"] == p]) for p in patterns]
    out = pd.DataFrame(rows, columns=list(DIFF_COLUMNS))
    if out.empty:
        return out
    same = out["same_structure"] & out["same_content"]
    return out.assign(_s=same).sort_values(["_s", "pattern"]).drop(columns="_s") \
        .reset_index(drop=True)
