"""JSON documents as reviewers see them: volatile values masked, structure, and differences.

Pure functions (no I/O), used for output files and for orchestrator run manifests.

Volatile values (:data:`DEFAULT_RULES`) are replaced by ``"<volatile>"`` before hashing, so that two
outputs that differ only in when and where they were made hash alike. The default rule set masks a
value when

- its key names a time or a duration: ends in ``_at``, ``_time``, ``_ts``, ``_ms``, ``_s``,
  ``_seconds``, or is ``timestamp``, ``time``, ``date``, ``elapsed``, ``duration``, ``started``,
  ``completed``, ``updated``, ``heartbeat`` (any key holding ``duration`` or ``timestamp``);
- its key names a run or a process: ``run_id``, ``*_run_id``, ``pid``, ``ppid``, ``*_pid``,
  ``resume_token``;
- it is a string that looks like an ISO date-time (``2026-11-29T01:02:03``), a UUID, an orchestrator
  run id (``2026-11-29T01-02-03-123Z-ab12cd34``) or an absolute temporary path (``/tmp/…``,
  ``/var/folders/…``); such strings are masked wherever they stand, also inside a longer string.

More rules: JSONPath-like expressions (:func:`parse_rule`): ``$.a.b``, ``$.items[*].id``,
``$..token`` (a key at any depth).

Structure (:func:`structure`): ``{path: type}`` with paths like ``commands[].status`` (every element
of a list shares the path ``[]``), types ``object``, ``array``, ``string``, ``number``, ``boolean``,
``null``. :func:`diff_structures` names the paths added, removed and whose type changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MASK = "<volatile>"

_KEY_EXACT = frozenset({
    "timestamp", "time", "date", "elapsed", "duration", "started", "completed", "updated",
    "heartbeat", "pid", "ppid", "run_id", "resume_token", "mtime", "ctime", "atime",
})
_KEY_SUFFIX = ("_at", "_time", "_ts", "_ms", "_s", "_seconds", "_run_id", "_pid", "_mtime")
_KEY_PART = ("duration", "timestamp")
_VALUE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}[:-]\d{2}[:-]\d{2}(?:[.,-]\d+)?Z?(?:-[0-9a-f]{8})?"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|/(?:tmp|var/tmp|var/folders|private/var/folders)/[^\s\"']*"
)


@functools.lru_cache(maxsize=4096)  # documents repeat their keys: normalising is 2x faster
def volatile_key(key: str) -> bool:
    """Whether the default rules mask the value under ``key``."""
    k = key.lower()
    return k in _KEY_EXACT or k.endswith(_KEY_SUFFIX) or any(p in k for p in _KEY_PART)


@dataclass(frozen=True)
class Rule:
    """A user rule: a path of keys (``*`` = any key or element) anchored at the root, or a key
    matched at any depth (``deep``)."""

    parts: tuple[str, ...]
    deep: bool = False
    text: str = ""

    def matches(self, path: Sequence[str]) -> bool:
        if self.deep:
            return bool(path) and path[-1] == self.parts[-1]
        return len(path) == len(self.parts) and all(
            p == "*" or p == q for p, q in zip(self.parts, path))


def parse_rule(text: str) -> Rule:
    """``$.a.b``, ``$.items[*].id``, ``$..token`` → :class:`Rule`; ``ValueError`` if malformed."""
    t = text.strip()
    if t.startswith("$.."):
        key = t[3:]
        if not key or not re.fullmatch(r"[^.\[\]]+", key):
            raise ValueError(f"{text!r}: expected $..KEY")
        return Rule((key,), deep=True, text=t)
    if not t.startswith("$.") or len(t) < 3:
        raise ValueError(f"{text!r}: expected a JSONPath such as $.a.b, $.items[*].id or $..key")
    parts: list[str] = []
    for seg in t[2:].split("."):
        m = re.fullmatch(r"([^.\[\]]+)((?:\[(?:\*|\d+)\])*)", seg)
        if not m:
            raise ValueError(f"{text!r}: cannot read the segment {seg!r}")
        parts.append(m[1])
        parts += ["*" if i == "*" else i for i in re.findall(r"\[(\*|\d+)\]", m[2])]
    return Rule(tuple(parts), text=t)


def normalise(value: Any, rules: Iterable[Rule] = (), *, defaults: bool = True) -> Any:
    """``value`` with every volatile value replaced by :data:`MASK` (a new object)."""
    rules = tuple(rules)

    def walk(v: Any, path: tuple[str, ...]) -> Any:
        if rules and any(r.matches(path) for r in rules):
            return MASK
        if isinstance(v, dict):
            return {k: (MASK if defaults and volatile_key(str(k)) and not isinstance(x, (dict, list))
                        else walk(x, (*path, str(k)))) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, (*path, str(i))) for i, x in enumerate(v)]
        if defaults and isinstance(v, str):
            return _VALUE.sub(MASK, v)
        return v

    return walk(value, ())


def mask_text(text: str) -> str:
    """``text`` with every ISO date-time, UUID, orchestrator run id and absolute temporary path
    replaced by :data:`MASK` (how a non-JSON text output is normalised)."""
    return _VALUE.sub(MASK, text)


def canonical(value: Any) -> bytes:
    """Bytes that are equal exactly when two JSON values are equal (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=True).encode()


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def structure(value: Any) -> dict[str, str]:
    """``{path: type}`` of every value of a JSON document (``$`` is the root).

    Elements of a list share the path ``<list>[]``; when they differ in type, the types are
    joined with ``|`` in sorted order.
    """
    out: dict[str, set[str]] = {}

    def walk(v: Any, path: str) -> None:
        out.setdefault(path, set()).add(type_name(v))
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}.{k}" if path != "$" else str(k))
        elif isinstance(v, list):
            for x in v:
                walk(x, f"{path}[]")

    walk(value, "$")
    return {p: "|".join(sorted(t)) for p, t in out.items()}


def signature(value: Any) -> str:
    """A short hash of :func:`structure`: equal for documents of the same shape."""
    return shape_signature(structure(value))


def shape_signature(shape: dict[str, str]) -> str:
    """:func:`signature` of a structure already computed."""
    return content_hash(sorted(shape.items()))[:16]


@dataclass(frozen=True)
class StructureDiff:
    added: list[str]
    removed: list[str]
    type_changed: list[tuple[str, str, str]]  # (path, before, after)

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.type_changed)


def diff_structures(before: dict[str, str], after: dict[str, str]) -> StructureDiff:
    """Paths in ``after`` only (added), in ``before`` only (removed), and of another type."""
    return StructureDiff(
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        type_changed=sorted((p, before[p], after[p]) for p in set(before) & set(after)
                            if before[p] != after[p]),
    )


def differing_fields(a: Any, b: Any, limit: int = 20) -> list[str]:
    """Paths (in :func:`structure` form) of leaf values that differ between ``a`` and ``b``,
    in document order, at most ``limit``; apply :func:`normalise` first to ignore volatile ones."""
    return [path for path, _, _ in differing_values(a, b, limit)]


def differing_values(a: Any, b: Any, limit: int = 20) -> list[tuple[str, Any, Any]]:
    """:func:`differing_fields` with the two values at each path (:data:`ABSENT` where a side
    has no such key; a list of another length is one value)."""
    out: list[tuple[str, Any, Any]] = []

    def walk(x: Any, y: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in list(x) + [k for k in y if k not in x]:
                walk(x.get(k, ABSENT), y.get(k, ABSENT), f"{path}.{k}" if path != "$" else k)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (p, q) in enumerate(zip(x, y)):
                walk(p, q, f"{path}[{i}]")
        elif canonical_or_none(x) != canonical_or_none(y):
            out.append((path, x, y))

    walk(a, b, "$")
    return out


#: A key one side of :func:`differing_values` does not have.
ABSENT = object()


def canonical_or_none(value: Any) -> bytes | None:
    return None if value is ABSENT else canonical(value)
