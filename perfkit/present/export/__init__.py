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
from perfkit.data.store import write_text_atomic
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


#: What ``--export-FORMAT`` writes a plain table (``perfkit measure``'s summary) as.
TABLE_FORMATS = ("csv", "markdown", "json")


def check_path(path: str | os.PathLike, option: str = "") -> Path:
    """``path`` if its folder exists; else a one-line usage error naming ``option``."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        where = f"{option} {target}" if option else str(target)
        raise UsageError(f"{where}: the folder {parent} does not exist")
    return target


def render_table(df, fmt: str) -> str:
    """A DataFrame (``perfkit measure``'s summary) as CSV, a markdown table or JSON records."""
    if fmt == "csv":
        return df.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    if fmt == "json":
        return df.to_json(orient="records", indent=2, double_precision=10)
    if fmt == "markdown":
        from tabulate import tabulate

        return tabulate(df.astype(object).where(df.notna(), None).values.tolist(),
                        headers=list(df.columns), tablefmt="github", missingval="—")
    raise UsageError(f"`format` must be one of {', '.join(TABLE_FORMATS)}, not {fmt!r}")


def _write_text(target: Path, content: str) -> Path:
    try:
        write_text_atomic(target, content if content.endswith("\n") else content + "\n")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write ({exc.strerror})") from None
    return target


def write_table(df, fmt: str, path: str | os.PathLike, option: str = "") -> Path:
    """Write a DataFrame in ``fmt`` (one of :data:`TABLE_FORMATS`) to ``path``."""
    return _write_text(check_path(path, option), render_table(df, fmt))


def write_text(content: str, path: str | os.PathLike, option: str = "") -> Path:
    """Write ready-made export text to ``path`` (a temporary file renamed into place)."""
    return _write_text(check_path(path, option), content)


def write(result: Comparison, fmt: str, path: str | os.PathLike, option: str = "") -> Path:
    """Write ``result`` in format ``fmt`` to ``path`` (a temporary file renamed into place)."""
    target = check_path(path, option)
    content = render(result, fmt)
    return _write_text(target, content)
