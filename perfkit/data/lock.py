"""One writer per dataset folder: an exclusive ``flock`` on ``.perfkit.lock``.

A collection, an ingest or a save holds it for its whole life; a second writer is refused with
the holder's pid. The kernel drops a ``flock`` when its holder dies (even by kill -9), so a lock
file left behind is simply taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
import threading
from pathlib import Path

from perfkit.errors import DatasetError

LOCK = ".perfkit.lock"

_held: dict[str, list] = {}  # realpath of a lock file -> [fd, depth]: re-entrant in one process
_held_guard = threading.Lock()


def _lock_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


@contextlib.contextmanager
def dataset_lock(folder: str | os.PathLike, *, what: str = "--out"):
    """Hold the dataset's exclusive writer lock (``.perfkit.lock``, ``flock``) for a block.

    Re-entrant within one process. Raises :class:`DatasetError` naming the holder's pid when
    another process writes the folder. A lock file left by a process that died is taken over:
    ``flock`` locks die with their process.
    """
    folder = Path(folder)
    key = os.path.realpath(folder / LOCK)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            fd = None
        else:
            try:
                fd = os.open(key, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise DatasetError(
                    f"{what} {folder}: cannot create the lock file ({exc.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _lock_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise DatasetError(
                        f"{what} {folder}: another perfkit (pid {holder}) is writing this dataset; "
                        "wait for it to finish or choose another folder") from None
                raise DatasetError(f"{what} {folder}: cannot lock ({exc.strerror})") from None
            previous = _lock_holder(fd)
            if previous.isdigit() and int(previous) != os.getpid() and _alive(int(previous)) is False:
                print(f"perfkit: {folder}: took over the stale lock of pid {previous} "
                      "(no longer running)", file=sys.stderr)
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            except OSError:
                pass  # a full disk: the lock itself still holds
            _held[key] = [fd, 1]
    try:
        yield
    finally:
        with _held_guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                with contextlib.suppress(OSError):
                    os.ftruncate(entry[0], 0)
                os.close(entry[0])  # closing the descriptor releases the flock


def _alive(pid: int) -> bool | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return None
    return True
