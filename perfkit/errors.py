"""perfkit's exceptions: one base class, one subclass per kind of user mistake.

The CLI turns any :class:`PerfkitError` into one line on stderr and its ``exit_code`` (2 for a
user mistake, 4 for :class:`FailedError`); any other exception escaping a command (a full disk,
a read-only file system, a bug) becomes one line and exit code 4, "perfkit failed" — never 1,
which means "not shown" and lets a CI gate pass.

The exit codes of every command are defined here, once: a comparison's answer maps onto them
(:data:`EXIT_CODES`), and CI gates on them.
"""

from __future__ import annotations

EXIT_OK = 0  #: success; for compare/report: cleared
EXIT_NOT_SHOWN = 1  #: the answer is "not shown" (or a collection stopped early)
EXIT_USAGE = 2  #: a usage or input error: one line on stderr
EXIT_REGRESSED = 3  #: a target regressed or a guardrail broke
EXIT_FAILED = 4  #: perfkit failed (disk full, read-only file system, a bug): one line on stderr
EXIT_INTERRUPTED = 130  #: Ctrl-C (what was collected is kept)
#: What a signal during start-up (imports, before any run or write) prints, with EXIT_INTERRUPTED.
INTERRUPTED_STARTING = "perfkit: interrupted while starting; nothing was run or written"

#: The overall answer of a comparison as an exit code.
EXIT_CODES = {"cleared": EXIT_OK, "not-shown": EXIT_NOT_SHOWN, "regressed": EXIT_REGRESSED}


class PerfkitError(Exception):
    """Raised when the user gave perfkit something it cannot use (the message says what)."""

    exit_code = EXIT_USAGE


class FailedError(PerfkitError):
    """Raised when perfkit cannot go on for a reason that is not the user's input (a full disk,
    a read-only file system): exit code 4. The message says what happened and what was kept."""

    exit_code = EXIT_FAILED


#: errno → what happened, in words (the OSErrors a long collection or a report can meet).
_OS_ERRORS = {
    "ENOSPC": "no space left on the device",
    "EDQUOT": "disk quota exceeded",
    "EFBIG": "file too large (a file size limit)",
    "EROFS": "the file system is read-only",
    "EACCES": "permission denied",
    "EPERM": "operation not permitted",
    "EMFILE": "too many open files (the process's descriptor limit)",
    "ENFILE": "too many open files (the system's limit)",
    "ENOENT": "a file or folder vanished (deleted while perfkit used it?)",
    "ESTALE": "a file or folder vanished (stale file handle)",
    "EIO": "an I/O error of the device",
}


def describe_os_error(exc: OSError) -> str:
    """One phrase for an OSError: what happened, and on which file if known."""
    import errno as _errno

    name = _errno.errorcode.get(exc.errno or 0, "")
    what = _OS_ERRORS.get(name) or (exc.strerror or str(exc) or type(exc).__name__)
    where = exc.filename if exc.filename is not None else None
    return f"{what}" + (f" ({where})" if where else "") + (f" [{name}]" if name else "")


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
