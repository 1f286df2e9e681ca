"""The ``perfkit`` command's entry point (also ``python -m perfkit``).

SIGTERM or Ctrl-C while perfkit is still importing its libraries (about a second) ends it with one
line and exit 130, like an interrupt later on, instead of a silent death or a traceback; nothing
has been run or written by then.

A reader of stdout that goes away (``perfkit completion bash | head``, ``perfkit compare … | head
-1``) ends nothing: what is still printed goes nowhere, without a message, and the command
finishes its work (exports, files) and returns its own exit code (compare's verdict stays
readable under ``set -o pipefail``).
"""

from __future__ import annotations

import os
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


class _ReaderMayLeave:
    """``sys.stdout`` for the command: a closed pipe (EPIPE) sends the rest to /dev/null."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_left()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_left()

    def _reader_left(self) -> None:
        # the file descriptor now points to /dev/null: the buffered rest, later prints and the
        # interpreter's flush at exit all succeed there
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)
        self._stream.flush()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def entry() -> int:
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        from perfkit.cli import main
    except KeyboardInterrupt:
        print(INTERRUPTED_STARTING, file=sys.stderr)
        return EXIT_INTERRUPTED
    if sys.stdout is not None:
        sys.stdout = _ReaderMayLeave(sys.stdout)
    code = main()
    if sys.stdout is not None:
        sys.stdout.flush()  # a reader that left shows here, where it is handled
    return code


if __name__ == "__main__":
    raise SystemExit(entry())
