"""perfkit's exceptions: one base class, one subclass per kind of user mistake.

The CLI turns any :class:`PerfkitError` into one line on stderr and exit code 2;
anything else is a bug and keeps its traceback.

The exit codes of every command are defined here, once: a comparison's answer maps onto them
(:data:`EXIT_CODES`), and CI gates on them.
"""

from __future__ import annotations

EXIT_OK = 0  #: success; for compare/report: cleared
EXIT_NOT_SHOWN = 1  #: the answer is "not shown" (or a collection stopped early)
EXIT_USAGE = 2  #: a usage or input error: one line on stderr
EXIT_REGRESSED = 3  #: a target regressed or a guardrail broke
EXIT_INTERRUPTED = 130  #: Ctrl-C (what was collected is kept)

#: The overall answer of a comparison as an exit code.
EXIT_CODES = {"cleared": EXIT_OK, "not-shown": EXIT_NOT_SHOWN, "regressed": EXIT_REGRESSED}


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
