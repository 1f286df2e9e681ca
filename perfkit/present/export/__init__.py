"""Exports of a comparison: one small interface, one module per format.

Each format module has ``render(result) -> str`` for a :class:`~perfkit.analysis.verdict.Comparison`;
:data:`FORMATS` maps the names ``perfkit compare --format`` accepts to them, and :func:`write`
writes one to a file (new file, then rename). Adding a format is one new module and one line here.
The table every format shows is built once, in :mod:`._table`, with :mod:`perfkit.fmt`'s numbers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from perfkit.analysis.verdict import Comparison
from perfkit.errors import UsageError
from perfkit.present.export import csv, json, markdown, text

#: Format name → its renderer.
FORMATS: dict[str, Callable[[Comparison], str]] = {
    "text": text.render,
    "markdown": markdown.render,
    "json": json.render,
    "csv": csv.render,
}


def render(result: Comparison, fmt: str) -> str:
    """``result`` in format ``fmt`` (one of :data:`FORMATS`)."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise UsageError(f"`format` must be one of {', '.join(FORMATS)}, not {fmt!r}") from None
    return renderer(result)


def write(result: Comparison, fmt: str, path: str | os.PathLike) -> Path:
    """Write ``result`` in format ``fmt`` to ``path`` (a temporary file renamed into place)."""
    target = Path(path)
    if not target.parent.is_dir():
        raise UsageError(f"{target}: the folder {target.parent} does not exist")
    content = render(result, fmt)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{target}: cannot write ({exc.strerror})") from None
    return target
