"""Where benchmark figures go: one JSON file per script under benchmarks/results/ (git-ignored)."""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(target: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``target``: a bare file name lands in RESULTS, a path is
    used as given (its folder is created). Returns the path written."""
    path = Path(target)
    if path.parent == Path("."):
        path = RESULTS / path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def interleaved_rounds(tools: Mapping[str, Callable[[], Any]], rounds: int, seed: int) -> list[dict]:
    """Call every tool once per round, in an order shuffled per round (seeded), so that drift of
    a loaded machine hits every tool alike; one dict of results per round."""
    rng = random.Random(seed)
    out = []
    for i in range(rounds):
        names = list(tools)
        rng.shuffle(names)
        out.append({name: tools[name]() for name in names})
        print(f"round {i + 1}/{rounds} done", file=sys.stderr)
    return out
