"""Handing a computed report to the notebook kernel, so that ``perfkit report`` computes it once.

``perfkit report`` builds the comparison (or the hotspot view) itself — the verdict decides its
exit code and ``verdict.json`` — and then runs the notebook, whose first cell would build it all
again in the kernel (about a second of bootstrap and table work for the demo). Instead the report
process pickles what it built into the output folder and passes the file's name as the notebook
parameter ``prepared``; the notebook's builder (:func:`~perfkit.present.compare_view.comparison`,
:func:`~perfkit.present.hotspots_view.hotspots`) takes it from there.

The file records the arguments it was built with. :func:`take` returns the object only when they
are exactly the builder's arguments of this call (so the notebook always shows what its own
parameters say) and the perfkit version matches; otherwise — a missing file, a notebook re-run
later, a different parameter — the builder computes afresh. ``perfkit report`` deletes the file
once the notebook has run.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from perfkit._version import __version__

#: The file's name inside the output folder (the kernel runs there, so the parameter is relative).
FILE_NAME = ".perfkit-prepared.pickle"


def _key(kind: str, arguments: dict[str, Any]) -> tuple:
    return (kind, __version__, repr(sorted(arguments.items())))


def give(folder: str | os.PathLike, kind: str, arguments: dict[str, Any], built: Any) -> str:
    """Write ``built`` (made by the builder ``kind`` from ``arguments``) into ``folder``; return
    the file name to pass as the notebook parameter ``prepared``."""
    path = Path(folder) / FILE_NAME
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump({"key": _key(kind, arguments), "built": built}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return FILE_NAME


def take(prepared: str | os.PathLike | None, kind: str, arguments: dict[str, Any]) -> Any | None:
    """What :func:`give` stored for exactly these ``arguments``, or None (then compute it)."""
    if not prepared:
        return None
    try:
        with open(prepared, "rb") as f:
            record = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if not isinstance(record, dict) or record.get("key") != _key(kind, arguments):
        return None
    return record.get("built")


def withdraw(folder: str | os.PathLike) -> None:
    """Delete the hand-off file (after the notebook ran, whether it succeeded or not)."""
    (Path(folder) / FILE_NAME).unlink(missing_ok=True)
