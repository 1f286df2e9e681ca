"""perfkit's exceptions: one base class, one subclass per kind of user mistake.

The CLI turns any :class:`PerfkitError` into one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class PerfkitError(Exception):
    """Raised when the user gave perfkit something it cannot use (the message says what)."""


class UsageError(PerfkitError):
    """Raised when arguments or parameters are malformed or contradict each other."""


class DatasetError(PerfkitError):
    """Raised when a dataset folder or file is missing, unreadable or of another schema."""


class MeasureError(PerfkitError):
    """Raised when a collection cannot go on (e.g. the output folder is not writable)."""


class TracerMissing(PerfkitError):
    """Raised when a traced pass is asked for and strace is not installed."""


class NotebookError(PerfkitError):
    """Raised when a report notebook fails; the executed copy is saved first."""
