"""perfkit — did the performance fix really work?

The public API; everything else is reachable but may change.
"""

from perfkit._version import __version__
from perfkit.analysis.diagnostics import Diagnostic, diagnose
from perfkit.analysis.verdict import Comparison, compare
from perfkit.cli._sequential import measure_until_decided
from perfkit.collect.measure import measure
from perfkit.collect.trace import TraceCounts, trace_run
from perfkit.data.importers import load_file
from perfkit.data.orchestrator import OrchestratorData, read_orchestrator
from perfkit.data.schema import SCHEMA_VERSION, long_view
from perfkit.data.sources import load
from perfkit.data.store import Dataset, save
from perfkit.errors import PerfkitError
from perfkit.present.report import report as write_report

__all__ = [
    "Comparison",
    "Dataset",
    "Diagnostic",
    "OrchestratorData",
    "PerfkitError",
    "SCHEMA_VERSION",
    "TraceCounts",
    "__version__",
    "compare",
    "diagnose",
    "load",
    "load_file",
    "long_view",
    "measure",
    "measure_until_decided",
    "read_orchestrator",
    "save",
    "trace_run",
    "write_report",
]
