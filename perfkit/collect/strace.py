"""Reading strace's output: file operations per path, and the globs that name paths.

This is the parsing half of the traced pass (:mod:`perfkit.collect.trace` runs strace).
:func:`parse_strace` turns one ``strace -f -y`` log into :class:`TraceCounts`:

``<label>_writes``
    logical writes of the paths a glob names (``manifest='**/manifest.json'``): a successful
    rename *onto* a matching path, plus a successful open of a matching path with a write flag
    (``O_WRONLY``, ``O_RDWR``, ``O_CREAT`` or ``O_TRUNC``, or ``creat``). Writing a temporary
    file and renaming it over the manifest is one logical write (the rename), not two.
``fs_opens_write``
    every successful open with a write flag, of any path except the pseudo file systems
    ``/dev``, ``/proc`` and ``/sys`` (``/dev/null`` redirections are not file writes).
``fs_renames``
    every successful rename/renameat/renameat2.
``fs_fsyncs``
    every successful fsync/fdatasync.

How paths are resolved: strace runs with ``-y``, which prints the path behind every file
descriptor, including the working directory behind ``AT_FDCWD`` (``openat(AT_FDCWD</w>, "a")``).
A relative path of an ``*at`` call is joined to its directory descriptor's path. Calls without a
directory descriptor (``open``, ``creat``, ``rename``) are joined to the process's working
directory, which :func:`parse_strace` follows per process: the last ``AT_FDCWD<…>`` seen, every
successful ``chdir``/``fchdir``, inherited at ``fork``/``vfork``/``clone`` (shared between
threads created with ``CLONE_FS``). Paths are normalised lexically (``a/../b`` → ``b``); symlinks
are not resolved, so a glob matches the name the program used.

Glob patterns: ``*`` and ``?`` never cross ``/``; ``**`` as a whole segment matches any number of
segments (including none); ``[...]`` is a character class. A relative pattern is matched
against the path relative to the run's working directory; a path outside that folder can only be
matched by an absolute pattern or one starting with ``**/``.

The per-file table (:attr:`TraceCounts.files`, no glob needed): for every path written and
every process (its ``argv``, followed through ``execve`` and inherited at fork), the opens for
writing, renames onto it, ``write``/``pwrite64``/``writev``/``pwritev`` calls and their bytes
(attributed by the path ``-y`` shows behind the descriptor), truncations (``truncate``,
``ftruncate``, an open with ``O_TRUNC``) and fsyncs. Pipes, sockets and the pseudo file systems
are left out.

One log file with ``-f``: a call interrupted by another process's output is printed as
``<unfinished ...>`` and later ``<... name resumed>``; the parser rejoins the halves per pid.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from perfkit.errors import UsageError

#: Syscalls traced. ``?`` tells strace to skip a name this architecture does not have
#: (``open``, ``creat``, ``rename``, ``fork``, ``vfork`` do not exist on arm64).
TRACED_SYSCALLS = (
    "?open", "openat", "?openat2", "?creat",
    "?rename", "renameat", "?renameat2",
    "fsync", "fdatasync",
    "chdir", "fchdir",
    "clone", "?clone3", "?fork", "?vfork",
    "write", "pwrite64", "writev", "pwritev", "?pwritev2", "truncate", "ftruncate", "execve",
)  # fmt: skip
_WRITE_CALLS = ("write", "pwrite64", "writev", "pwritev", "pwritev2")


#: Write-intent flags of open(2).
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
_PSEUDO_FS = ("/dev/", "/proc/", "/sys/")
_LINE = re.compile(r"^(\d+)\s+(.*)$")
_RESUMED = re.compile(r"^<\.\.\. ([A-Za-z0-9_]+) resumed>(.*)$")
_UNFINISHED = " <unfinished ...>"
_RET = re.compile(r"^\s*=\s*(-?\d+|0x[0-9a-fA-F]+|\?)")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------------------------
# globs


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a ``**``-aware glob into a compiled regex for ``fullmatch``.

    >>> bool(glob_to_regex("**/manifest.json").fullmatch("a/b/manifest.json"))
    True
    >>> bool(glob_to_regex("*.json").fullmatch("a/b.json"))
    False
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            whole_segment = pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/")
            if whole_segment and (i + 2 == n or pattern[i + 2] == "/"):
                if i + 2 == n:
                    out.append(".*")
                    i += 2
                else:
                    out.append("(?:.*/)?")
                    i += 3
                continue
            while i < n and pattern[i] == "*":  # '**' inside a segment is just '*'
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '['
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class GlobSet:
    """Named globs matched against absolute paths, relative to a working directory."""

    def __init__(self, globs: Mapping[str, str], cwd: str):
        self.cwd = os.path.normpath(cwd)
        self.globs: dict[str, tuple[str, re.Pattern[str]]] = {}
        for label, pattern in globs.items():
            if not isinstance(label, str) or not _LABEL.match(label):
                raise UsageError(
                    f"--trace-writes: label {label!r} must be letters, digits and _ "
                    "(it names the column LABEL_writes)"
                )
            if not isinstance(pattern, str) or not pattern:
                raise UsageError(f"--trace-writes: the glob of {label!r} must be a non-empty string")
            self.globs[label] = (pattern, glob_to_regex(pattern))

    def labels_of(self, path: str) -> list[str]:
        inside = path == self.cwd or path.startswith(self.cwd.rstrip("/") + "/")
        rel = os.path.relpath(path, self.cwd) if inside else None
        labels = []
        for label, (pattern, regex) in self.globs.items():
            if pattern.startswith("/"):
                subject = path
            elif rel is not None:
                subject = rel
            elif pattern.startswith("**/"):
                subject = path.lstrip("/")
            else:
                continue
            if regex.fullmatch(subject):
                labels.append(label)
        return labels


# --------------------------------------------------------------------------------------------
# parsing strace's text


_SIMPLE_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "a": 7, "b": 8, "\\": 92, '"': 34, "'": 39}


def unescape(text: str) -> str:
    """Undo strace's C-style escaping (``\\n``, ``\\"``, ``\\74``, ``\\x3e``) → a file name."""
    if "\\" not in text:
        return text
    raw = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 >= n:
            raw += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            raw.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "x" and re.match(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4]):
            raw.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and text[j] in "01234567":
                j += 1
            raw.append(int(text[i + 1 : j], 8) & 0xFF)
            i = j
        else:
            raw += nxt.encode("utf-8", "surrogateescape")
            i += 2
    return os.fsdecode(bytes(raw))


def _split_call(body: str) -> tuple[str, list[str], str] | None:
    """``name(a, b, c) = ret…`` → (name, [a, b, c], ``= ret…``), aware of quotes and brackets."""
    paren = body.find("(")
    if paren <= 0:
        return None
    name = body[:paren]
    args: list[str] = []
    depth = 0
    start = paren + 1
    i, n = start, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            i += 1
            while i < n and body[i] != '"':
                i += 2 if body[i] == "\\" else 1
        elif c in "([{<":
            depth += 1
        elif c in ")]}>":
            if depth == 0 and c == ")":
                tail = body[start:i].strip()
                if tail or args:
                    args.append(tail)
                return name, args, body[i + 1 :]
            if depth and not (c == ">" and body[i - 1] == "="):  # '=>' of clone3 is no bracket
                depth -= 1
        elif c == "," and depth == 0:
            args.append(body[start:i].strip())
            start = i + 1
        i += 1
    return None


def _string_arg(arg: str) -> str | None:
    """``"a\\"b"`` → ``a"b``; None if ``arg`` is not a string (e.g. NULL or an address)."""
    if len(arg) >= 2 and arg[0] == '"':
        end = arg.rfind('"')
        if end > 0:
            return unescape(arg[1:end])
    return None


def _annotation(arg: str) -> str | None:
    """The path strace -y shows behind a descriptor: ``3</a/b>`` → ``/a/b``."""
    lt = arg.find("<")
    if lt < 0 or not arg.endswith(">"):
        return None
    return unescape(arg[lt + 1 : -1])


_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"(\.\.\.)?')


def _argv_words(arg: str) -> list[str] | None:
    """``["node", "x.js"]`` (strace's argv of execve) → the words; a cut word keeps its ``...``."""
    if not arg.startswith("["):
        return None
    return [unescape(m.group(1)) + (m.group(2) or "") for m in _WORD.finditer(arg)]


def _ret_value(tail: str) -> int | None:
    m = _RET.match(tail)
    if not m or m.group(1) == "?":
        return None
    text = m.group(1)
    # strace prints decimal (a leading zero included, in a cut line) or 0x… hexadecimal
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


@dataclass(frozen=True)
class FileOp:
    """One file operation of a traced run (for checking and for debugging counts)."""

    pid: int
    syscall: str
    op: str  # "open_write", "rename", "fsync"
    path: str | None  # absolute target path (None for fsync)
    labels: tuple[str, ...] = ()


@dataclass
class FileStat:
    """What one process did to one path in one traced run (the per-file table's counters)."""

    opens_write: int = 0
    renames_onto: int = 0
    write_calls: int = 0
    bytes: int = 0
    truncates: int = 0
    fsyncs: int = 0

    @property
    def writes(self) -> int:
        """Logical writes, as ``<label>_writes`` counts them: opens for writing + renames onto."""
        return self.opens_write + self.renames_onto


@dataclass
class TraceCounts:
    """Exact counts of one traced run (see the module docstring for each definition).

    ``status``/``exit_code``/``wall_s`` describe the traced run itself; ``wall_s`` includes
    strace's overhead and is never to be compared with untraced timings.
    """

    writes: dict[str, int]
    opens_write: int = 0
    renames: int = 0
    fsyncs: int = 0
    ops: list[FileOp] = field(default_factory=list, repr=False)
    #: (path, the process's argv joined by spaces) → what it did to the path
    files: dict[tuple[str, str], FileStat] = field(default_factory=dict, repr=False)
    status: str = "ok"
    exit_code: int | None = None
    wall_s: float | None = None
    unresolved: int = 0  # relative paths whose directory could not be known
    stderr: str = field(default="", repr=False)  # the tail of strace's (and the command's) stderr

    def as_record(self) -> dict[str, int]:
        """The runs-table columns: ``<label>_writes``, ``fs_opens_write``, ``fs_renames``, ``fs_fsyncs``."""
        record = {f"{label}_writes": n for label, n in self.writes.items()}
        record.update(fs_opens_write=self.opens_write, fs_renames=self.renames, fs_fsyncs=self.fsyncs)
        return record


class _Cwd:
    """A process's working directory; threads created with CLONE_FS share one instance."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path


def parse_strace(
    text: str, *, cwd: str | os.PathLike, write_globs: Mapping[str, str] | None = None
) -> TraceCounts:
    """Count file operations in the text of ``strace -f -y`` (one log for every process).

    ``cwd`` is the working directory the traced command started in (relative globs are matched
    against paths relative to it). Pure: no file system access.
    """
    parser = _Parser(os.path.normpath(os.fspath(cwd)), GlobSet(dict(write_globs or {}),
                                                              os.path.normpath(os.fspath(cwd))))
    for line in text.splitlines():
        call = parser.join(line)
        if call is not None:
            parser.handle(*call)
    return parser.counts


class _Parser:
    """The state of one log: working directories per process, calls cut in two, the counts."""

    def __init__(self, root_cwd: str, globs: GlobSet) -> None:
        self.root_cwd = root_cwd
        self.globs = globs
        self.counts = TraceCounts(writes={label: 0 for label in globs.globs})
        self.cwds: dict[int, _Cwd] = {}
        self.pending: dict[int, str] = {}  # pid → first half of a call cut by another's output
        self.cloning: dict[int, str] = {}  # pid → args of its clone/fork still in flight
        self.argv: dict[int, str] = {}  # pid → the command line it runs

    def stat(self, pid: int, path: str | None) -> FileStat | None:
        if path is None or not path.startswith("/") or path.startswith(_PSEUDO_FS):
            return None
        if pid not in self.argv:  # a new process whose parent's clone has not returned yet
            parent = next((p for p in reversed(self.cloning) if p != pid), None)
            if parent is not None and parent in self.argv:
                self.argv[pid] = self.argv[parent]
        key = (path, self.argv.get(pid, "?"))
        found = self.counts.files.get(key)
        if found is None:
            found = self.counts.files[key] = FileStat()
        return found

    def join(self, line: str) -> tuple[int, str, list[str], int | None] | None:
        """(pid, syscall, args, return value) of a whole call, rejoining ``<unfinished ...>`` and
        ``<... resumed>`` halves per pid; None for a half, a signal line or an unparsable one."""
        m = _LINE.match(line)
        pid, body = (int(m.group(1)), m.group(2)) if m else (0, line)  # 0: one process, no prefix
        if body.startswith(("---", "+++")) or not body:
            return None
        resumed = _RESUMED.match(body)
        if resumed:
            head = self.pending.pop(pid, None)
            if head is None:
                return None  # the first half was before the log started: nothing to rejoin
            body = head + resumed.group(2)
        elif body.endswith(_UNFINISHED):
            head = body[: -len(_UNFINISHED)]
            self.pending[pid] = head
            if head.startswith(("clone", "fork", "vfork")):
                self.cloning[pid] = head
            return None
        parsed = _split_call(body)
        if parsed is None:
            return None
        name, args, tail = parsed
        self.cloning.pop(pid, None)
        # Any AT_FDCWD<path> tells us this process's working directory for free.
        if args and args[0].startswith("AT_FDCWD<"):
            self.cwd_of(pid).path = _annotation(args[0]) or self.cwd_of(pid).path
        return pid, name, args, _ret_value(tail)

    def cwd_of(self, pid: int) -> _Cwd:
        cell = self.cwds.get(pid)
        if cell is None:
            # first line of a new process: its parent's clone has not returned yet in the log
            parent = next((p for p in reversed(self.cloning) if p != pid), None)
            base = self.cwds[parent].path if parent is not None and parent in self.cwds else (
                self.root_cwd)
            cell = self.cwds[pid] = _Cwd(base)
        return cell

    def resolve(self, pid: int, dirarg: str | None, path: str) -> str | None:
        if os.path.isabs(path):
            return os.path.normpath(path)
        if dirarg is None or dirarg.startswith("AT_FDCWD"):
            base = (_annotation(dirarg) if dirarg else None) or self.cwd_of(pid).path
        else:
            base = _annotation(dirarg)
            if base is None:
                self.counts.unresolved += 1
                return None
        return os.path.normpath(os.path.join(base, path))

    def record(self, pid: int, syscall: str, op: str, path: str | None) -> None:
        stat = self.stat(pid, path)
        if stat is not None:
            if op == "rename":
                stat.renames_onto += 1
            else:
                stat.opens_write += 1
        labels = tuple(self.globs.labels_of(path)) if path is not None else ()
        for label in labels:
            self.counts.writes[label] += 1
        self.counts.ops.append(FileOp(pid, syscall, op, path, labels))

    def handle(self, pid: int, name: str, args: list[str], ret: int | None) -> None:
        """Count one successful call."""
        if ret is None or ret < 0:
            return
        if name in _WRITE_CALLS:
            stat = self.stat(pid, _annotation(args[0]) if args else None)
            if stat is not None:
                stat.write_calls += 1
                stat.bytes += ret
        elif name == "execve":
            words = _argv_words(args[1]) if len(args) > 1 else None
            if words:
                self.argv[pid] = " ".join(words)
        elif name in ("truncate", "ftruncate"):
            raw = _string_arg(args[0]) if name == "truncate" and args else None
            path = self.resolve(pid, None, raw) if raw is not None else (
                _annotation(args[0]) if args else None)
            stat = self.stat(pid, path)
            if stat is not None:
                stat.truncates += 1
        elif name in ("open", "openat", "openat2", "creat"):
            self.open(pid, name, args)
        elif name in ("rename", "renameat", "renameat2"):
            dirarg, patharg = (None, args[1]) if name == "rename" else (args[2], args[3])
            raw = _string_arg(patharg)
            self.counts.renames += 1
            self.record(pid, name, "rename",
                        self.resolve(pid, dirarg, raw) if raw is not None else None)
        elif name in ("fsync", "fdatasync"):
            self.counts.fsyncs += 1
            target = _annotation(args[0]) if args else None
            self.counts.ops.append(FileOp(pid, name, "fsync", target))
            stat = self.stat(pid, target)
            if stat is not None:
                stat.fsyncs += 1
        elif name == "chdir":
            raw = _string_arg(args[0]) if args else None
            if raw is not None:
                cell = self.cwd_of(pid)
                cell.path = os.path.normpath(os.path.join(cell.path, raw))
        elif name == "fchdir":
            target = _annotation(args[0]) if args else None
            if target:
                self.cwd_of(pid).path = target
        elif name in ("clone", "clone3", "fork", "vfork"):
            self.fork(pid, ret, args)

    def open(self, pid: int, name: str, args: list[str]) -> None:
        if name == "open":
            dirarg, patharg, flags = None, args[0], args[1] if len(args) > 1 else ""
        elif name == "creat":
            dirarg, patharg, flags = None, args[0], "O_CREAT|O_WRONLY|O_TRUNC"
        else:
            dirarg, patharg = args[0], args[1]
            flags = args[2] if len(args) > 2 else ""
        if not any(f in flags for f in _WRITE_FLAGS):
            return
        raw = _string_arg(patharg)
        path = self.resolve(pid, dirarg, raw) if raw is not None else None
        if path is not None and path.startswith(_PSEUDO_FS):
            return
        self.counts.opens_write += 1
        self.record(pid, name, "open_write", path)
        if "O_TRUNC" in flags or name == "creat":
            stat = self.stat(pid, path)
            if stat is not None:
                stat.truncates += 1

    def fork(self, pid: int, child: int, args: list[str]) -> None:
        """A new process inherits its parent's working directory (shares it with CLONE_FS)."""
        if pid in self.argv and child not in self.argv:
            self.argv[child] = self.argv[pid]
        parent_cell = self.cwd_of(pid)
        shares_fs = "CLONE_FS" in "".join(args)
        if child not in self.cwds:
            self.cwds[child] = parent_cell if shares_fs else _Cwd(parent_cell.path)
        elif shares_fs:
            self.cwds[child] = parent_cell
