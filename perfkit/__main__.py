"""The ``perfkit`` command's entry point (also ``python -m perfkit``).

SIGTERM or Ctrl-C while perfkit is still importing its libraries (about a second) ends it with one
line and exit 130, like an interrupt later on, instead of a silent death or a traceback; nothing
has been run or written by then.
"""

from __future__ import annotations

import signal
import sys

from perfkit.errors import (  # a leaf: no library behind it
    EXIT_INTERRUPTED,
    INTERRUPTED_STARTING,
)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


#: tells :func:`perfkit.cli.main` that this handler is perfkit's own, not the embedding program's
_interrupt.perfkit_start = True  # type: ignore[attr-defined]


def entry() -> int:
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        from perfkit.cli import main
    except KeyboardInterrupt:
        print(INTERRUPTED_STARTING, file=sys.stderr)
        return EXIT_INTERRUPTED
    return main()


if __name__ == "__main__":
    raise SystemExit(entry())
