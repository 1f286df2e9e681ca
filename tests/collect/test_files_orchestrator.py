"""The per-file write table of the traced pass, on the real orchestrator (integration).

Checked against a plain ``strace -ff`` of the same command, counted by a regex per log file
(independent of perfkit's parser): the run manifest's logical writes (opens for writing + renames
onto it) and its write calls.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from perfkit.collect.measure import measure
from perfkit.data.schema import FILES_COLUMNS, FILES_PARQUET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIG = FIXTURES / "orchestrator" / "codex.orchestrator.json"

pytestmark = pytest.mark.integration


def _raw_writes_per_path(prefix: Path) -> Counter:
    """Logical writes per absolute path in ``strace -ff -y`` logs: opens for writing, renames onto."""
    rename = re.compile(r'^renam\w*\(.*"([^"]*)"(?:, [A-Z_|0]+)?\) = 0$')
    opened = re.compile(r'^(?:open|openat|creat)\((?:AT_FDCWD<([^>]*)>, )?"([^"]*)", ([A-Z_|]+).*\) = \d+')
    counts: Counter = Counter()
    for log in prefix.parent.glob(prefix.name + ".*"):
        for line in log.read_text(errors="replace").splitlines():
            m = rename.match(line)
            if m:
                counts[m.group(1)] += 1
                continue
            m = opened.match(line)
            if m and re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", m.group(3)):
                counts[m.group(2)] += 1
    return counts


def test_the_file_table_names_the_run_manifest_with_its_own_count(orchestrator_bin, tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(CONFIG, ws / "codex.orchestrator.json")
    argv = [str(orchestrator_bin), "start", "quick", "--format", "json", "--task", "it"]
    ds = measure({"quick": " ".join(argv)}, out=tmp_path / "ds", runs=1, cwd=ws, trace_runs=1,
                 timeout=120, progress=False)
    files = pd.read_parquet(tmp_path / "ds" / FILES_PARQUET)
    assert list(files.columns) == list(FILES_COLUMNS)
    assert (ds.runs["status"] == "ok").all()

    prefix = tmp_path / "raw" / "strace"
    prefix.parent.mkdir()
    subprocess.run(["strace", "-ff", "-qq", "-o", str(prefix), "-e",
                    "trace=open,openat,creat,rename,renameat,renameat2", "--", *argv],
                   cwd=ws, check=True, capture_output=True, timeout=120)
    raw = _raw_writes_per_path(prefix)
    manifests = {p: n for p, n in raw.items() if re.search(r"/\.runs/it/cli/[^/]+/manifest\.json$", p)}
    # a run and its sub-pipeline's run: two manifests, each with its own count (the run's own
    # manifest is written more often); folded, they share one pattern
    assert len(manifests) == 2 and max(manifests.values()) > 3
    rows = files[files["pattern"] == ".runs/it/cli/<run>/manifest.json"]
    per_path = rows.groupby("path")["writes"].sum()
    assert sorted(per_path.tolist()) == sorted(manifests.values())
    assert (rows["process"].str.contains("codex-orchestrator")).all()
    assert (rows["renames_onto"] > 0).all()
    # written to a temporary file first, whose bytes the table shows under its own pattern
    temp = files[files["pattern"] == ".runs/it/cli/<run>/manifest.json.tmp-<tmp>"]
    assert temp["write_calls"].sum() == rows["renames_onto"].sum() and (temp["bytes"] > 0).all()
