"""The HTML export: an executed notebook as one offline page (no code cells, every chart drawn).

nbconvert's ``lab`` template loads require.js, MathJax and the vega stack from a CDN; the
``perfkit_report`` template extends it and inlines vl-convert's vega bundle once instead, so the
page renders with no network at all. :func:`network_references` lists whatever a page would
still fetch (the tests assert it is nothing).

papermill, nbformat, nbconvert, jupyter_client and vl_convert are imported inside the functions
that use them: together they cost a few hundred milliseconds, which every ``perfkit`` command
(``perfkit --help`` included) would otherwise pay at start-up.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from perfkit._paths import TEMPLATES_DIR
from perfkit.data.atomic import write_text_atomic

TEMPLATE_NAME = "perfkit_report"


def _vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script, cached per vl-convert version (it takes ~2 s)."""
    import vl_convert as vlc

    version = getattr(vlc, "__version__", "unknown")
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cache = cache_root / "perfkit" / f"vega-bundle-vl-convert-{version}.js"
    try:
        return cache.read_text(encoding="utf-8")
    except OSError:
        pass
    bundle = vlc.javascript_bundle()
    if "</script" in bundle.lower():  # would end the inline <script> element early
        bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(bundle, encoding="utf-8")
        os.replace(tmp, cache)
    return bundle


def export_html(notebook: Any, output: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write ``notebook`` (a node or a path) as a standalone HTML page without code cells.

    The page renders with no network: perfkit's template drops the lab template's CDN scripts and
    inlines the vega bundle once.
    """
    import nbformat

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    body = _render(nbformat.from_dict(notebook), title)
    output = Path(output)
    write_text_atomic(output, body)
    return output


_EXPORTER: list[Any] = []
_EXPORTER_LOCK = threading.Lock()


def _render(nb: Any, title: str | None) -> str:
    """The page of notebook node ``nb``, with one exporter per process: its first page costs
    most (nbconvert's imports, the lab template's compilation), the next ones a third of it."""
    with _EXPORTER_LOCK:
        if not _EXPORTER:
            from nbconvert import HTMLExporter

            _EXPORTER.append(HTMLExporter(
                template_name=TEMPLATE_NAME,
                extra_template_basedirs=[str(TEMPLATES_DIR)],
                exclude_input=True,
                exclude_input_prompt=True,
                exclude_output_prompt=True,
            ))
        if title:
            nb.metadata["title"] = title  # the template escapes it
        body, _ = _EXPORTER[0].from_notebook_node(nb, resources={"perfkit_vega_js": _vega_bundle()})
    return body


def warm_up() -> None:
    """Do the export's one-off work now — imports, the exporter, the template, the vega bundle —
    by rendering an empty notebook: ``perfkit report`` calls it in a thread while the kernel
    runs, so that the report's own export afterwards costs a fraction (its process is idle,
    waiting for the kernel, and a machine has a second core)."""
    import nbformat

    _render(nbformat.v4.new_notebook(), None)


class _References(HTMLParser):
    """Collects every URL a page would fetch: src/href/srcset/data attributes and CSS url()/@import."""

    FETCHING = {"src", "href", "srcset", "data", "poster", "background", "xlink:href"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in self.FETCHING and tag != "a":  # a link the reader may click is no dependency
                self.found += [f"<{tag} {name}={u}>" for u in _remote(value)]
            if name == "style":
                self.found += [f"<{tag} style: {u}>" for u in _css_remote(value)]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [f"<style>: {u}>" for u in _css_remote(data)]


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)


def _remote(value: str) -> list[str]:
    parts = [p.strip().split(" ")[0] for p in value.split(",")] if "," in value else [value.strip()]
    return [p for p in parts if _REMOTE.match(p)]


def _css_remote(css: str) -> list[str]:
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", css, flags=re.IGNORECASE)
    imports = re.findall(r"@import\s+['\"]([^'\"]+)", css, flags=re.IGNORECASE)
    return [u for u in urls + imports if _REMOTE.match(u)]


def network_references(page: str) -> list[str]:
    """Every resource an HTML page would load over the network (empty list: renders offline).

    Looks at fetching attributes of all elements (``script src``, ``link href``, ``img src``…)
    and at CSS in ``<style>`` elements and ``style`` attributes (``url(…)``, ``@import``).
    URLs that are only text — a namespace, a link in a script's strings — fetch nothing.
    """
    parser = _References()
    parser.feed(page)
    parser.close()
    return parser.found
