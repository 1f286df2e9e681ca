"""Reports: run a parameterised notebook with papermill, export it as offline HTML, summarise it.

``perfkit report`` is :func:`report`: it checks the parameters against the notebook's
``parameters`` cell (papermill itself accepts misspelt names silently), executes
``notebooks/compare.ipynb`` (or ``hotspots.ipynb``) with papermill's Python API in the ``python3``
kernel, and writes into the output folder

* ``report.ipynb`` — the executed notebook (kept when a cell fails; the error names the cell),
* ``report.html`` — no code cells, every chart drawn, nothing loaded over the network,
* ``summary.md`` — verdict and table for a pull-request comment (text only, < 64 KB),
* ``verdict.json`` — the machine-readable verdict (comparison reports only).
"""

from __future__ import annotations

import contextlib
import difflib
import html
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from perfkit.errors import DatasetError, NotebookError, UsageError

#: The checkout perfkit runs from (notebooks/ and data/ live beside the package).
REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "perfkit_report"

#: GitHub refuses pull-request comments over 65,536 characters; stay clearly below.
SUMMARY_LIMIT = 60_000

KERNEL = "python3"


# --------------------------------------------------------------------------- paths


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb`` of this checkout (``name`` is ``compare`` or ``hotspots``)."""
    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    if not path.exists():
        raise UsageError(f"notebook {name!r}: {path} does not exist (is this a perfkit checkout?)")
    return path


def find_data(path: str | os.PathLike) -> Path:
    """Resolve a dataset path the same way wherever a notebook runs.

    nbval starts the kernel in ``notebooks/``, papermill in the caller's folder: a relative path
    is tried against the working folder, then each of its parents, then the perfkit checkout.
    Returns an absolute path; raises :class:`DatasetError` naming the path if none exists.
    """
    raw = Path(os.fspath(path)).expanduser()
    if raw.is_absolute():
        if not raw.exists():
            raise DatasetError(f"{raw}: no such dataset")
        return raw
    cwd = Path.cwd()
    for base in (cwd, *cwd.parents, REPO_ROOT):
        candidate = base / raw
        if candidate.exists():
            return candidate.resolve()
    raise DatasetError(f"{raw}: no such dataset (looked in {cwd}, its parents and {REPO_ROOT})")


# --------------------------------------------------------------------------- parameters


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, str]:
    """The names of a notebook's parameters (its cell tagged ``parameters``) → default as written."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: str(info.get("default")) for name, info in found.items()}


def check_parameters(notebook: str | os.PathLike, parameters: Mapping[str, Any]) -> None:
    """Refuse parameter names the notebook does not declare (papermill would only warn)."""
    known = notebook_parameters(notebook)
    unknown = [name for name in parameters if name not in known]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(known), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UsageError(
            f"unknown parameter {', '.join(hints)} for {Path(notebook).name}; "
            f"it takes: {', '.join(sorted(known))}"
        )


# --------------------------------------------------------------------------- execution


@contextlib.contextmanager
def _kernel_can_import_perfkit() -> Iterator[None]:
    """Let the kernel import this perfkit even when it is not installed (a plain checkout).

    The kernel is a new process that inherits the environment, not ``sys.path``.
    """
    old = os.environ.get("PYTHONPATH")
    parts = [str(REPO_ROOT)] + ([old] if old else [])
    os.environ["PYTHONPATH"] = os.pathsep.join(parts)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def clean_notebook(nb: Any) -> Any:
    """Drop papermill's timing metadata (it changes every run and would make diffs noisy).

    Execution counts and outputs stay: strict nbval compares only cells that have them.
    """
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    return nb


def execute(
    notebook: str | os.PathLike,
    output: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike | None = None,
    timeout: float | None = 600,
) -> Any:
    """Execute ``notebook`` into ``output`` with papermill; return the executed notebook node.

    Unknown parameter names are refused before a kernel starts. On a failing cell the executed
    copy is still written and :class:`NotebookError` says which cell failed and why.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = Path(notebook).resolve()
    output = Path(output).resolve()
    parameters = dict(parameters or {})
    check_parameters(notebook, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _kernel_can_import_perfkit():
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters,
                kernel_name=KERNEL,
                cwd=str(cwd or notebook.parent),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
            )
    except PapermillExecutionError as exc:
        _clean_file(output)
        count = f" (In [{exc.exec_count}])" if exc.exec_count else ""
        raise NotebookError(
            f"{notebook.name}: cell {exc.cell_index}{count} failed: {exc.ename}: "
            f"{_one_line(exc.evalue)}; the executed notebook is kept at {output}"
        ) from None
    return _clean_file(output)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_file(path: Path) -> Any:
    import nbformat

    nb = clean_notebook(nbformat.read(str(path), as_version=4))
    nbformat.write(nb, str(path))
    return nb


# --------------------------------------------------------------------------- HTML


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
    from nbconvert import HTMLExporter

    if not hasattr(notebook, "cells"):
        notebook = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    nb = nbformat.from_dict(notebook)
    if title:
        nb.metadata["title"] = title  # the template escapes it
    body, _ = exporter.from_notebook_node(nb, resources={"perfkit_vega_js": _vega_bundle()})
    output = Path(output)
    output.write_text(body, encoding="utf-8")
    return output


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


def escape(text: Any) -> str:
    """HTML-escape a string that comes from data (a command line, a stage title)."""
    return html.escape("" if text is None else str(text), quote=True)
