"""Reading a large workspace with forked worker processes (Linux), each sending its rows back.

A worker that dies or does not answer within :data:`CHILD_GRACE_S` is killed and its share read
again in-process: an ingest never hangs on, nor loses, a worker's part.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from typing import Any

from perfkit.data.orchestrator.rows import _Rows

#: Seconds a forked ingest worker may take beyond the parent's own share (at least).
CHILD_GRACE_S = 10.0


def _read_until_eof(fd: int, deadline: float) -> bytes | None:
    """Everything written to pipe ``fd`` until the writer closes it; None if ``deadline``
    (time.monotonic) passes first. Reading as it comes keeps a child from blocking on a full pipe."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _run_forked(walker: Any, jobs: list[tuple[str, str, str, str]], processes: int) -> None:
    """Read ``jobs`` split over ``processes`` processes; rows land in ``walker.rows`` in order.

    Listing a run folder is mostly system calls (one open/getdents/close per sub-folder, one
    stat per file) that a single Python thread cannot overlap, and threads fight over the GIL
    for the rest; forked processes share nothing: on 2 CPUs two of them cost the same CPU time
    as one and cut the wall time by ~40 % when the second CPU is free. Children run only this module's pure-Python reader (no pandas/Arrow calls after the
    fork) and send their rows back pickled through a pipe. A child that fails for any reason
    is not trusted: its share is read again here, so the result never depends on the split.
    """
    size = -(-len(jobs) // processes)
    chunks = [(first, jobs[first : first + size]) for first in range(0, len(jobs), size)]
    children: list[tuple[int, int, int, list]] = []  # (pid, read fd, first, chunk)
    try:
        for first, chunk in chunks[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: read the share, write it back, leave without cleanup
                status = 1
                try:
                    os.close(read_fd)
                    part = _Rows()
                    walker.run_jobs(part, chunk, first)
                    payload = part.pack()
                    with os.fdopen(write_fd, "wb") as out:
                        out.write(payload)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_fd)
            children.append((pid, read_fd, first, chunk))
        first, chunk = chunks[0]
        started = time.monotonic()
        walker.run_jobs(walker.rows, chunk, first)
        # A child has the same amount of work as this process; one that takes far longer is
        # stuck (e.g. a lock another thread held at fork time, in a Jupyter kernel): stop
        # waiting, kill it and read its share here, so that an ingest can never hang on it.
        deadline = time.monotonic() + max(CHILD_GRACE_S, 3 * (time.monotonic() - started))
        while children:
            pid, read_fd, first, chunk = children[0]
            payload = _read_until_eof(read_fd, deadline)
            if payload is None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            os.close(read_fd)
            if status == 0 and payload:
                part = _Rows.unpack(payload)
            else:  # the child failed: read its share here
                part = _Rows()
                walker.run_jobs(part, chunk, first)
            walker.rows.extend(part)
    finally:
        for pid, read_fd, _, _ in children:  # interrupted: stop and reap what is left
            with contextlib.suppress(OSError):
                os.close(read_fd)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
