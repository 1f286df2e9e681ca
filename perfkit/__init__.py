"""perfkit — did the performance fix really work?

The public API; everything else is reachable but may change.
"""

from perfkit.errors import PerfkitError
from perfkit.importers import load_file
from perfkit.schema import SCHEMA_VERSION, long_view
from perfkit.store import Dataset, load, save

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "PerfkitError",
    "SCHEMA_VERSION",
    "__version__",
    "load",
    "load_file",
    "long_view",
    "save",
]
