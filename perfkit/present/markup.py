"""Strings from data, made safe for the page or the pull request: HTML and markdown escaping,
tables, and the metadata record flattened for display.

Every string that comes from data (a variant name, a command, a path, a manifest field) goes
through :func:`escape` (HTML) or :func:`md_escape` (markdown) before it is shown.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any


def escape(text: Any) -> str:
    """HTML-escape a string that comes from data (a command line, a stage title)."""
    return html.escape("" if text is None else str(text), quote=True)


def table_html(df: Any, *, index: bool = False, classes: str = "") -> str:
    """A DataFrame as an HTML table whose cells are escaped (pandas escapes by default; a Styler
    would not, and writes random ids)."""
    return df.to_html(index=index, escape=True, na_rep="—", border=0,
                      classes=" ".join(["perfkit-table", *classes.split()]))


def as_html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def md_escape(text: str) -> str:
    """Markdown that shows ``text`` literally (a PR comment renders inline HTML and markup)."""
    return re.sub(r"([\\`*_{}\[\]<>|#!~])", r"\\\1", str(text))


def flatten(meta: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in meta.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = " ".join(map(str, value)) if all(
                not isinstance(v, (dict, list)) for v in value) else json.dumps(value, default=str)
        else:
            out[name] = "" if value is None else str(value)
    return out


#: Longest metadata value shown whole; longer ones (a long command line) are cut in the display.
META_VALUE_LIMIT = 240


def meta_rows(meta: Mapping[str, Any]) -> dict[str, str]:
    """:func:`flatten` for display: a variant's ``argv`` is dropped when it only repeats its
    ``command`` word for word, and a value longer than :data:`META_VALUE_LIMIT` is cut (the
    dataset's ``meta.json`` keeps it whole)."""
    flat = flatten(meta)
    out = {}
    for key, value in flat.items():
        if key.endswith(".argv") and flat.get(key[: -len("argv")] + "command") == value:
            continue
        if len(value) > META_VALUE_LIMIT:
            value = f"{value[:META_VALUE_LIMIT]}… ({len(value) - META_VALUE_LIMIT:,} more characters)"
        out[key] = value
    return out
