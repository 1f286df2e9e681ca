"""perfkit — did the performance fix really work?

The public API; everything else is reachable but may change. The names are imported on first use
(PEP 562), so that ``import perfkit`` and the ``perfkit`` command start without pandas or altair.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from perfkit._version import __version__

#: public name → (module, attribute)
_API = {
    "Comparison": ("perfkit.analysis.verdict", "Comparison"),
    "Dataset": ("perfkit.data.store", "Dataset"),
    "Diagnostic": ("perfkit.analysis.diagnostics", "Diagnostic"),
    "OrchestratorData": ("perfkit.data.orchestrator", "OrchestratorData"),
    "PerfkitError": ("perfkit.errors", "PerfkitError"),
    "SCHEMA_VERSION": ("perfkit.data.schema", "SCHEMA_VERSION"),
    "TraceCounts": ("perfkit.collect.trace", "TraceCounts"),
    "compare": ("perfkit.analysis.verdict", "compare"),
    "diagnose": ("perfkit.analysis.diagnostics", "diagnose"),
    "load": ("perfkit.data.sources", "load"),
    "load_file": ("perfkit.data.importers", "load_file"),
    "long_view": ("perfkit.data.schema", "long_view"),
    "measure": ("perfkit.collect.measure", "measure"),
    "measure_until_decided": ("perfkit.cli._sequential", "measure_until_decided"),
    "read_orchestrator": ("perfkit.data.orchestrator", "read_orchestrator"),
    "save": ("perfkit.data.store", "save"),
    "trace_run": ("perfkit.collect.trace", "trace_run"),
    "write_report": ("perfkit.present.report", "report"),
}

__all__ = sorted([*_API, "__version__"])


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _API[name]
    except KeyError:
        raise AttributeError(f"module 'perfkit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:  # what static tools see
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
