"""perfkit — did the performance fix really work?

The public API; everything else is reachable but may change.
"""

from perfkit.diagnostics import Diagnostic, diagnose
from perfkit.errors import PerfkitError
from perfkit.importers import load_file
from perfkit.measure import measure
from perfkit.orchestrator import OrchestratorData, read_orchestrator
from perfkit.report import report as write_report
from perfkit.schema import SCHEMA_VERSION, long_view
from perfkit.store import Dataset, load, save
from perfkit.trace import TraceCounts, trace_run
from perfkit.verdict import Comparison, compare

__version__ = "0.1.0"

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
    "read_orchestrator",
    "save",
    "trace_run",
    "write_report",
]
