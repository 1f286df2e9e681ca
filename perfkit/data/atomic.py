"""Writing a file so that a crash or a full disk leaves the old file or none, never a half one.

Standard library only, apart from :mod:`perfkit.data.store` (which re-exports it): ``perfkit
report`` imports it before pandas, so that its notebook kernel starts a second earlier.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` via a temporary file, fsync and a rename: a crash or a full disk leaves the
    old file or none, never a truncated one. The one place perfkit writes a file this way."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
