"""Fold the volatile segments of a file path into a pattern, so that paths of different runs group.

``.runs/0001-task/cli/2026-11-29T01-02-03-123Z-ab12cd34/manifest.json`` and the same file of the
next run both become ``.runs/0001-task/cli/<run>/manifest.json``. A segment is folded when it is
(in this order of checks):

- ``<run>``: an orchestrator run id or any segment holding an ISO-like date-time
  (``2026-11-29T01-02-03``, ``20261129T010203``), or a UUID;
- ``<ts>``: a bare epoch timestamp (10 or 13 digits) or a ``YYYYMMDD``/``YYYY-MM-DD`` date;
- ``<tmp>``: a temporary folder name (``tmpab12cd_x`` as :mod:`tempfile` makes, ``pytest-of-x``, ``pytest-12``)
  (``<name>.<6+ alnum>.tmp`` keeps ``<name>`` and becomes ``<name>.<tmp>.tmp``; a suffix after
  ``.tmp`` that starts with a digit, as ``manifest.json.tmp-4312-17``, becomes
  ``manifest.json.tmp-<tmp>``);
- a file named by an epoch timestamp keeps its extension (``1732842123.json`` → ``<ts>.json``).

Counters (``attempt-0012.log``) are not folded: they are often meaningful.

Pure and stdlib-only (data layer); the signature ``fold_path(path) -> str`` is stable.
"""

from __future__ import annotations

import re

_DATETIME = re.compile(r"\d{4}-?\d{2}-?\d{2}[T_ -]?\d{2}[-:]?\d{2}[-:]?\d{2}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")
_DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_TMP = re.compile(r"^(tmp[A-Za-z0-9_]{4,}|pytest-of-.+|pytest-\d+)$")
_TMP_SUFFIX = re.compile(r"^(?P<name>.+?)\.[A-Za-z0-9_]{6,}\.(?P<ext>tmp|part|partial)$")
_TMP_AFTER = re.compile(r"^(?P<name>.+?\.(?:tmp|temp|part))(?P<sep>[-._~])\d[^/]*$", re.IGNORECASE)


def _fold_segment(segment: str) -> str:
    m = _TMP_AFTER.match(segment)  # first: its digits may look like a date-time
    if m:
        return f"{m['name']}{m['sep']}<tmp>"
    if _DATETIME.search(segment) or _UUID.search(segment):
        return "<run>"
    if _EPOCH.match(segment) or _DATE.match(segment):
        return "<ts>"
    if _TMP.match(segment):
        return "<tmp>"
    m = _TMP_SUFFIX.match(segment)
    if m:
        return f"{m['name']}.<tmp>.{m['ext']}"

    return segment


def fold_path(path: str) -> str:
    """``path`` (``/`` or ``\\`` separated) with its run-id, timestamp and temp segments folded.

    >>> fold_path(".runs/t-1/cli/2026-11-29T01-02-03-123Z-ab12cd34/manifest.json")
    '.runs/t-1/cli/<run>/manifest.json'
    >>> fold_path("out/tmpk2j3_x/1732842123.json")
    'out/<tmp>/<ts>.json'
    """
    text = str(path).replace("\\", "/")
    out = []
    for segment in text.split("/"):
        stem, dot, ext = segment.rpartition(".")
        if dot and stem and _EPOCH.match(stem):
            out.append(f"<ts>.{ext}")
        else:
            out.append(_fold_segment(segment) if segment else segment)
    return "/".join(out)
