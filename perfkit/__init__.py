"""perfkit — did the performance fix really work?

The public API; everything else is reachable but may change.
"""

from perfkit.errors import PerfkitError
from perfkit.orchestrator import OrchestratorData, read_orchestrator
from perfkit.schema import SCHEMA_VERSION, long_view
from perfkit.store import Dataset, load, save
from perfkit.trace import TraceCounts, trace_run

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "OrchestratorData",
    "PerfkitError",
    "SCHEMA_VERSION",
    "TraceCounts",
    "__version__",
    "load",
    "long_view",
    "read_orchestrator",
    "save",
    "trace_run",
]
