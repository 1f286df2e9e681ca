"""A dataset's journals (``runs.jsonl`` and the others): reading every whole line, and cutting a
torn last line away before appending (:mod:`perfkit.data.store` has the folder's layout and
rules), and reading a file that must be a regular one.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from pathlib import Path
from typing import Any

from perfkit.errors import DatasetError


def read_regular(path: Path, *, probe: bool = False) -> bytes:
    """The bytes of ``path``, which must be a regular file: opened without blocking (a FIFO
    named ``runs.jsonl`` must not hang a load), checked with ``fstat``. ``probe``: check only."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if probe:
            return b""
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every whole, parseable JSON-object line of a journal.

    A line that cannot be used (torn by a crash, corrupted, not an object) is skipped with a
    warning naming its line number: it never makes any other line unreadable.
    """
    try:
        data = read_regular(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the journal ({exc.strerror})") from None
    records: list[dict[str, Any]] = []
    lines = data.split(b"\n")
    bad: list[int] = []
    torn = False
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, huge ints
            record = None
        if not isinstance(record, dict):
            if number == len(lines):  # no newline after it: a write torn by a crash
                torn = True
            else:
                bad.append(number)
            continue
        records.append(record)
    if torn:
        warnings.warn(
            f"{path}: skipped a torn last line (the run in flight when collection stopped)",
            stacklevel=3,
        )
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
        warnings.warn(
            f"{path}: skipped {len(bad)} malformed journal line(s) (line {shown}); "
            f"the other {len(records)} were read",
            stacklevel=3,
        )
    return records


def repair_journal(path: Path) -> int:
    """Truncate a torn last line (no newline after it) off a journal; return the bytes removed.

    Appending after such a fragment would glue the next run's line onto it and lose both.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        if os.pread(fd, 1, size - 1) == b"\n":
            return 0
        # find the last newline, reading backwards in blocks
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            block = os.pread(fd, end - start, start)
            at = block.rfind(b"\n")
            if at >= 0:
                keep = start + at + 1
                break
            end = start
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep
    finally:
        os.close(fd)
