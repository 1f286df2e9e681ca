"""``perfkit measure --outputs GLOB``: after every run, each output file's size, hashes, structure.

:class:`OutputsRecorder` is a ``before_run`` + ``after_run`` pair of the collection loop
(:mod:`perfkit.collect.hooks`). Just before the timed command starts (after ``--prepare``) it lists
the files matching each GLOB with their ``stat`` (size, mtime, inode); after the run it lists them
again, and every file that is new or whose ``stat`` changed — a file the run wrote — becomes a row
of the ``outputs`` table (:func:`perfkit.data.outputs.describe_file`: size, sha256, the hash after
masking volatile values and, for JSON, the structure). A GLOB that no file written by the run
matches gives one ``missing`` row: an output a run sometimes fails to write is a reliability
finding too. A file matching two GLOBs is recorded once, under the first.

GLOBs are relative to the run's working folder (``--cwd``), ``**`` matches any depth, hidden
files are matched. ``--volatile JSONPATH`` rules (``$.a.b``, ``$.items[*].id``, ``$..key``) mask
more JSON values than the default rules of :mod:`perfkit.data.jsonshape`.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Sequence
from typing import Any

from perfkit.collect.hooks import RunContext, RunExtras
from perfkit.data.jsonshape import Rule, parse_rule
from perfkit.data.outputs import describe_file, missing_row
from perfkit.errors import UsageError

Stat = tuple[int, int, int]


def parse_volatile(rules: Sequence[str]) -> list[Rule]:
    """``--volatile`` texts → rules; a malformed one is a usage error naming the option."""
    out = []
    for text in [rules] if isinstance(rules, str) else rules:
        try:
            out.append(parse_rule(text))
        except ValueError as exc:
            raise UsageError(f"--volatile {exc}") from None
    return out


class OutputsRecorder:
    """Records the files each run wrote that match ``globs`` (see the module docstring)."""

    def __init__(self, globs: Sequence[str], cwd: str | os.PathLike | None = None,
                 volatile: Sequence[str] = (), *, relist: bool = True):
        clean: list[str] = []
        for pattern in [globs] if isinstance(globs, str) else globs:
            if not isinstance(pattern, str) or not pattern.strip():
                raise UsageError("--outputs: an empty GLOB")
            if "\0" in pattern:
                raise UsageError(f"--outputs {pattern!r}: a GLOB holds no NUL character")
            if pattern not in clean:
                clean.append(pattern)
        if not clean:
            raise UsageError("--outputs: no GLOB given")
        self.globs = clean
        self.rules = parse_volatile(volatile)
        self.cwd = os.path.abspath(cwd) if cwd is not None else os.getcwd()
        # ``relist=False``: nothing but the runs changes the files between runs (no --prepare),
        # so the listing made after a run serves as the next run's "before" (half the stat calls)
        self.relist = relist
        self.before = self._listing()

    def _listing(self) -> dict[str, tuple[Stat, str]]:
        """Every matching regular file → (its stat signature, the first GLOB matching it)."""
        seen: dict[str, tuple[Stat, str]] = {}
        for pattern in self.globs:
            for name in glob.glob(pattern, root_dir=self.cwd, recursive=True, include_hidden=True):
                if name in seen:
                    continue
                try:
                    st = os.stat(os.path.join(self.cwd, name))
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    seen[name] = ((st.st_mtime_ns, st.st_size, st.st_ino), pattern)
        return seen

    def before_run(self) -> None:
        if self.relist:
            self.before = self._listing()

    def __call__(self, ctx: RunContext) -> RunExtras:
        after = self._listing()
        written = [(name, owner) for name, (sig, owner) in sorted(after.items())
                   if name not in self.before or self.before[name][0] != sig]
        self.before = after
        rows: list[dict[str, Any]] = []
        for name, owner in written:
            described = describe_file(os.path.join(self.cwd, name), os.path.normpath(name),
                                      self.rules)
            if described is not None:
                rows.append({"source": owner, **described})
        found = {row["source"] for row in rows}
        rows += [{"source": p, **missing_row(p)} for p in self.globs if p not in found]
        return RunExtras(outputs=rows)
