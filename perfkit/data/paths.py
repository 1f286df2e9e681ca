"""Folding paths into patterns: the segments that change from run to run become ``*``.

``/ws/.runs/it/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/manifest.json`` and the same path of the
next run fold to one pattern, ``/ws/.runs/it/cli/*/manifest.json``: a glob, usable as it is in
``--trace-writes``. A segment is variable when it is (or starts with) a run id, timestamp, UUID,
process id or hash: six or more digits in all, a UUID, or eight or more hex characters with a
digit among them; its extension (``.json``) is kept. A temporary file's suffix is folded:
``runs.json.tmp-4312-17`` → ``runs.json.tmp*``, ``.x.json.8f3a2c.tmp`` → ``.x.json.*.tmp``.
"""

from __future__ import annotations

import re

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}")
_TEMP_AFTER = re.compile(r"^(.+?\.(?:tmp|temp|part|swp))[-._~][^/]*$", re.IGNORECASE)
_TEMP_BEFORE = re.compile(r"^(.+?)\.[^./]*\d[^./]*\.(tmp|temp|part)$", re.IGNORECASE)
_EXT = re.compile(r"^(.*?)((?:\.[A-Za-z][A-Za-z0-9]{0,7})+)$")


def _variable(text: str) -> bool:
    return (sum(c.isdigit() for c in text) >= 6 or bool(_UUID.search(text))
            or bool(_HEX.search(text)))


def fold_segment(segment: str) -> str:
    """One path segment, its run-to-run variable part replaced by ``*``."""
    m = _TEMP_AFTER.match(segment)
    if m:
        return m.group(1) + "*"
    m = _TEMP_BEFORE.match(segment)
    if m:
        return f"{m.group(1)}.*.{m.group(2)}"
    if not _variable(segment):
        return segment
    m = _EXT.match(segment)
    if m and not _variable(m.group(2)) and m.group(1):
        return "*" + m.group(2)
    return "*"


def fold_path(path: str) -> str:
    """``path`` with every variable segment folded (see the module docstring)."""
    return "/".join(fold_segment(s) if s else s for s in path.split("/"))
