"""``--track-size``: the size of chosen files after every run, as columns of the run's row.

An orchestrator's history files (``metrics.json``, ``out/<task>/runs.json``) grow with every run;
their size after each run, against the number of runs before it, is a fitted slope per file
(:func:`perfkit.analysis.hotspots.growth_slopes`). :class:`SizeTracker` is an ``after_run``
callable of the collection loop (:mod:`perfkit.collect.hooks`).

Each tracked glob gets the column ``size_<label>_bytes``: the total size of the regular files
matching it after the run (a file reached through several symlinks, or hard links, counts once),
null when no file matched. Globs are relative to the working directory (``**`` for any depth,
hidden folders included), as for ``--trace-writes``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from typing import Any

from perfkit.collect.hooks import RunExtras
from perfkit.collect.strace import glob_to_regex
from perfkit.errors import UsageError

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WILD = re.compile(r"[*?\[]")


def size_column(label: str) -> str:
    """The runs column of a tracked label: ``size_<label>_bytes``."""
    return f"size_{label}_bytes"


def default_label(glob: str) -> str:
    """A column label from a glob's last segment: ``out/**/runs.json`` → ``runs_json``."""
    last = glob.rstrip("/").rsplit("/", 1)[-1]
    label = re.sub(r"[^A-Za-z0-9]+", "_", last).strip("_")
    if not label or label[0].isdigit():
        label = "f_" + label
    return label


def parse_track_size(items: Iterable[str]) -> dict[str, str]:
    """``GLOB`` or ``LABEL=GLOB`` options → ``{label: glob}``; a clash is a :class:`UsageError`."""
    out: dict[str, str] = {}
    for item in items:
        label, sep, glob = item.partition("=")
        if not sep or not _LABEL.match(label):
            label, glob = default_label(item), item
        if not glob:
            raise UsageError(f"--track-size {item!r}: the glob is empty")
        if label in out:
            raise UsageError(f"--track-size {item!r}: the label {label!r} is given twice "
                             "(name them apart with LABEL=GLOB)")
        out[label] = glob
    return out


class SizeTracker:
    """After every run, the total size of the files matching each glob (see module docstring)."""

    def __init__(self, globs: Mapping[str, str], cwd: str | os.PathLike | None = None):
        self.root = os.path.abspath(cwd or os.getcwd())
        self.globs: dict[str, tuple[str, re.Pattern[str], str]] = {}
        for label, glob in globs.items():
            if not isinstance(label, str) or not _LABEL.match(label):
                raise UsageError(f"--track-size: label {label!r} must be letters, digits and _ "
                                 "(it names the column size_LABEL_bytes)")
            if not isinstance(glob, str) or not glob:
                raise UsageError(f"--track-size: the glob of {label!r} must be a non-empty string")
            if glob.startswith("/"):
                base, rel = "/", glob.lstrip("/")
            else:
                base, rel = self.root, glob
            self.globs[label] = (rel, glob_to_regex(rel), base)

    @staticmethod
    def _prefix(rel: str) -> str:
        """The glob's leading segments without wildcards (where the walk may start)."""
        fixed = []
        for part in rel.split("/")[:-1]:
            if _WILD.search(part):
                break
            fixed.append(part)
        return "/".join(fixed)

    def sizes(self) -> dict[str, int | None]:
        """``{column: bytes}`` now (None where nothing matched)."""
        return {size_column(label): _total(base, rel, regex, self._prefix(rel))
                for label, (rel, regex, base) in self.globs.items()}

    def __call__(self, ctx: Any) -> RunExtras:
        return RunExtras(columns=self.sizes())


def _total(base: str, rel: str, regex: re.Pattern[str], prefix: str) -> int | None:
    if not _WILD.search(rel):  # a plain path: one stat, no walk
        candidates: Iterable[str] = [rel]
    else:
        candidates = _walk(base, prefix)
    seen: set[tuple[int, int]] = set()
    total, matched = 0, False
    for path in candidates:
        if not regex.fullmatch(path):
            continue
        try:
            st = os.stat(os.path.join(base, path))  # follows a symlink to what it names
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        matched = True
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total if matched else None


def _walk(base: str, prefix: str) -> Iterable[str]:
    """Relative paths of every entry under ``base/prefix`` (symlinked folders not followed)."""
    top = os.path.join(base, prefix) if prefix else base
    for folder, dirs, names in os.walk(top):
        rel = os.path.relpath(folder, base)
        rel = "" if rel == "." else rel + "/"
        for name in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            yield rel + name
