"""Where benchmark figures go: one JSON file per script under benchmarks/results/ (git-ignored)."""

from __future__ import annotations

import json
import os
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
