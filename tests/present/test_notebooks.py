"""Static checks of the committed notebooks: strict nbval must have something to compare.

(nbval itself re-executes them: ``pytest notebooks/*.ipynb --nbval ...``, see dev.py.)
"""

from __future__ import annotations

import nbformat
import pytest

from perfkit import _paths
from perfkit.present import runner

NOTEBOOKS = ["compare", "hotspots", "trend"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_executed_with_outputs_and_no_timing_noise(name):
    nb = nbformat.read(str(runner.notebook_path(name)), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    # nbval skips cells without an execution count: every code cell must have one, in order
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert all(c.outputs for c in code[1:]), "every cell after the parameters shows something"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert "papermill" not in nb.metadata
    assert not [c for c in nb.cells if "papermill" in c.metadata or "execution" in c.metadata]
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert nb.metadata.kernelspec.name == "python3"


def test_parameters_are_the_ones_the_cli_fills():
    assert set(runner.notebook_parameters(runner.notebook_path("compare"))) == {
        "baseline_path", "candidate_path", "baseline", "candidate", "metrics", "target",
        "guardrails", "confidence", "statistic", "seed", "resamples", "title",
        "interactive",  # a live kernel's choice (-p interactive:=true draws with vega)
        "prepared"}  # set by perfkit report: what it computed already (perfkit.present.handoff)
    assert set(runner.notebook_parameters(runner.notebook_path("hotspots"))) == {
        "source", "title", "prepared"}
    assert set(runner.notebook_parameters(runner.notebook_path("trend"))) == {
        "history", "benchmarks", "metrics", "threshold", "seed", "title", "prepared"}


@pytest.mark.parametrize("name,parameter", [("compare", "baseline_path"), ("hotspots", "source"),
                                            ("trend", "history")])
def test_default_data_exist(name, parameter):
    default = runner.notebook_parameters(runner.notebook_path(name))[parameter].strip('"')
    assert (_paths.REPO_ROOT / default).is_dir()
    assert (_paths.REPO_ROOT / default / "README.md").is_file()
