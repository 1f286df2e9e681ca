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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>|#!~&$])")
_LINE_START = re.compile(r"^(\s*(?:[-+=]|\d+))(?=[.)]?(?:\s|$))")  # "- x", "1. x", "==="
_LINE_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029\x85]+")


def md_escape(text: Any) -> str:
    """Markdown that shows ``text`` literally, on one line (a PR comment renders inline HTML,
    images, links and markup, and turns ``@name`` into a mention that notifies someone).

    Every ASCII punctuation character markdown gives a meaning to is backslash-escaped (``<`` too:
    an escaped ``<`` never opens an HTML tag such as ``<details>``); a line break becomes a space
    (it would end a table row or a heading); ``@`` is followed by a zero-width space, which
    GitHub does not link as a mention.
    """
    one_line = _LINE_BREAKS.sub(" ", "" if text is None else str(text))
    out = _MD_SPECIAL.sub(r"\\\1", one_line).replace("@", "@\u200b")
    return _LINE_START.sub(_escape_line_start, out, count=1)


def _escape_line_start(match: re.Match) -> str:
    text = match.group(1)
    if text.strip().isdigit():  # "1." or "1)" opens an ordered list: escape what follows
        follower = match.string[match.end():match.end() + 1]
        return text + "\\" if follower and follower in ".)" else text
    return text[:-1] + "\\" + text[-1]


#: Longest data string shown whole in a table, heading or sentence; the rest is cut with a note.
SHOWN_CHARS = 120


def display_label(name: Any, limit: int = SHOWN_CHARS) -> str:
    """A variant name fit for a report: itself up to ``limit`` characters, else its start, its
    length and a hash of the whole (two long names that share a start stay apart)."""
    import hashlib

    text = "" if name is None else str(name)
    if len(text) <= limit:
        return text
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{text[: limit - 40]}… ({len(text):,} characters, #{digest})"


def shorten(text: Any, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was (a 100 kB variant name
    must not crowd the table out of a 64 KB pull-request comment)."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


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
