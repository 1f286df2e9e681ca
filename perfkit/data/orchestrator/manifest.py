"""The orchestrator's run manifest: what a valid one looks like, and decoding it.

A manifest (``.runs/<task>/cli/<run-id>/manifest.json``, schema version 1) is checked field by
field against the specs below; anything else becomes a ``problems`` row with one of
:data:`PROBLEM_REASONS`, never an exception that stops a walk. The column layouts of the tables
built from manifests are defined here too, next to the fields they come from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

#: Manifest schema versions (the manifest's ``version`` field) this reader understands.
SUPPORTED_MANIFEST_VERSIONS = frozenset({1})


#: A manifest larger than this is reported, not read (the real ones are ~10 KB; a runaway writer
#: can produce gigabytes and must not take the ingest down with it).
DEFAULT_MAX_MANIFEST_BYTES = 16 * 1024 * 1024


MANIFEST = "manifest.json"


_PARTIAL_TOKEN = re.compile(r"[A-Za-z0-9.+\-]*")


#: Orchestrator run status → the runs contract's status. Runs still queued or in progress have no
#: outcome yet: they stay in :class:`OrchestratorData` but are left out of a dataset.
STATUS_TO_CONTRACT = {"succeeded": "ok", "failed": "failed", "cancelled": "error"}


UNFINISHED_STATUSES = frozenset({"queued", "in_progress"})


# Field → allowed Python types. ``None`` in the tuple means JSON null is allowed.
_STR = (str,)


_STR_NULL = (str, type(None))


_INT_NULL = (int, type(None))


_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "run_id": _STR,
    "task_id": _STR,
    "pipeline_id": _STR,
    "parent_run_id": _STR_NULL,
    "status": _STR,
    "started_at": _STR,
    "completed_at": _STR_NULL,
    "heartbeat_at": _STR_NULL,
    "commands": (list,),
}


_OPTIONAL_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "pipeline_title": _STR_NULL,
    "status_detail": _STR_NULL,
}


_COMMAND_FIELDS: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "id": _STR,
    "title": _STR,
    "kind": _STR,
    "status": _STR,
    "started_at": _STR_NULL,
    "completed_at": _STR_NULL,
    "exit_code": _INT_NULL,
    "sub_run_id": _STR_NULL,
}


def _spec(fields: dict[str, tuple[type, ...]]) -> tuple[tuple[str, frozenset], ...]:
    return tuple((name, frozenset(types)) for name, types in fields.items())


_RUN_SPEC = _spec(_RUN_FIELDS)


_OPTIONAL_RUN_SPEC = _spec(_OPTIONAL_RUN_FIELDS)


_COMMAND_SPEC = _spec(_COMMAND_FIELDS)


_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


RUNS_COLUMNS = {
    "variant": "string",
    "run": "int64",
    "task": "string",
    "run_id": "string",
    "pipeline": "string",
    "pipeline_title": "string",
    "status": "string",
    "status_detail": "string",
    "started_at": "datetime64[ns, UTC]",
    "completed_at": "datetime64[ns, UTC]",
    "heartbeat_at": "datetime64[ns, UTC]",
    "duration_s": "float64",
    "parent_run_id": "string",
    "n_stages": "int64",
    "manifest_version": "int64",
    "manifest_bytes": "int64",
    "artifact_bytes": "Int64",
    "artifact_files": "Int64",
    "manifest_path": "string",
}


STAGE_EXTRA_COLUMNS = {
    "task": "string",
    "run_id": "string",
    "kind": "string",
    "sub_run_id": "string",
    "command": "string",
}


ARTIFACTS_COLUMNS = {
    "task": "string",
    "run_id": "string",
    "scope": "string",
    "path": "string",
    "bytes": "int64",
    "modified_at": "datetime64[ns, UTC]",
}


PROBLEMS_COLUMNS = {"path": "string", "reason": "string", "detail": "string"}


#: The reasons a file can land in ``problems`` (the ``reason`` column).
PROBLEM_REASONS = (
    "truncated",  # JSON ends early: a crash mid-write
    "invalid-json",  # not JSON at all, or broken in the middle
    "not-utf8",  # bytes that are not UTF-8
    "not-an-object",  # valid JSON but not an object (e.g. a list)
    "missing-field",  # a required field is absent
    "wrong-type",  # a field has the wrong JSON type
    "bad-timestamp",  # a timestamp string that is not ISO 8601
    "unknown-version",  # manifest schema version this reader does not know
    "too-large",  # over the size cap
    "symlink-outside-root",  # a symlink whose target leaves the root
    "symlink-loop",  # a symlink that loops (or a directory reached twice)
    "broken-symlink",  # a symlink whose target does not exist
    "no-manifest",  # a run folder without manifest.json (a run that died before its first write)
    "unreadable",  # any other OS error (permissions, a folder where a file should be, ...)
    "out-of-range",  # a number or a time perfkit cannot store (10**30, the year 2500)
    "too-deep",  # JSON nested deeper than a manifest ever is
)

#: Integers a manifest field may hold (the int64 of the tables).
_INT64 = (-(2**63), 2**63 - 1)

#: Times perfkit can store (datetime64[ns]): 1678-01-01 to 2262-01-01, in epoch microseconds.
_US_RANGE = (-9_214_646_400_000_000, 9_214_560_000_000_000)

#: Lone UTF-16 surrogates (``"\ud800"``) decode to strings that cannot be written as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _BadManifest(Exception):
    """Internal: a manifest that cannot be used; becomes one row of ``problems``."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _type_name(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


_MISSING = object()


def _check_fields(
    obj: dict, fields: tuple[tuple[str, frozenset], ...], where: str, *, required: bool = True
) -> None:
    # Exact type tests: the JSON decoder makes exactly str/int/float/bool/list/dict/None, and
    # ``type(True) is bool`` keeps booleans out of integer fields (isinstance would let them in).
    get = obj.get
    for name, types in fields:
        value = get(name, _MISSING)
        if type(value) in types:
            continue
        if value is _MISSING:
            if required:
                raise _BadManifest("missing-field", f"{where}missing field {name!r}")
            continue
        expected = " or ".join(sorted(_JSON_TYPE_NAMES[t] for t in types))
        raise _BadManifest(
            "wrong-type", f"{where}field {name!r} is {_type_name(value)}, expected {expected}"
        )


def _epoch_us(value: str | None, field: str) -> int | None:
    """ISO 8601 → integer microseconds since the epoch (naive stamps are taken as UTC)."""
    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _BadManifest("bad-timestamp", f"{field} {value!r} is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    try:
        us = round(stamp.timestamp() * 1_000_000)
    except (OverflowError, ValueError):
        us = None
    if us is None or not _US_RANGE[0] <= us <= _US_RANGE[1]:
        raise _BadManifest("out-of-range",
                           f"{field} {value[:40]!r} is outside the years 1678-2261 perfkit stores")
    return us


def check_int64(value: int | None, field: str) -> int | None:
    """``value`` if it fits the tables' int64, else :class:`_BadManifest` ``out-of-range``."""
    if value is not None and not _INT64[0] <= value <= _INT64[1]:
        digits = len(str(abs(value)))
        raise _BadManifest("out-of-range", f"{field} is a {digits}-digit integer (over int64)")
    return value


def _decode_manifest(data: bytes) -> dict:
    """Bytes → validated manifest dict, or :class:`_BadManifest`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadManifest("not-utf8", f"byte {exc.start} is not UTF-8") from None
    try:
        obj = json.loads(text)
    except RecursionError:
        raise _BadManifest("too-deep", "JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        # A write cut short leaves a prefix of valid JSON: the parser runs off the end, inside a
        # string or inside the last literal/number (``tru``, ``12.``).
        rest = text[exc.pos :].strip()
        if exc.msg.startswith("Unterminated string") or _PARTIAL_TOKEN.fullmatch(rest):
            raise _BadManifest(
                "truncated", f"JSON ends early at byte {len(data)} (a crash mid-write?)"
            ) from None
        raise _BadManifest("invalid-json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # an integer of thousands of digits (int_max_str_digits)
        raise _BadManifest("out-of-range", f"a number perfkit cannot read ({str(exc)[:80]})") from None
    if _SURROGATE_ESCAPE.search(text):  # rare: then check precisely (a pair is a valid character)
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _BadManifest("not-utf8", f"a string holds a lone surrogate "
                               f"{exc.object[exc.start]!r} (not writable as UTF-8)") from None
        except (RecursionError, ValueError):
            raise _BadManifest("too-deep", "JSON nested too deeply to read") from None
    if not isinstance(obj, dict):
        raise _BadManifest("not-an-object", f"top level is a JSON {_type_name(obj)}, not an object")
    version = obj.get("version", None)
    if "version" not in obj:
        raise _BadManifest("missing-field", "missing field 'version'")
    if type(version) is not int or version not in SUPPORTED_MANIFEST_VERSIONS:
        known = ", ".join(str(v) for v in sorted(SUPPORTED_MANIFEST_VERSIONS))
        raise _BadManifest(
            "unknown-version",
            f"manifest version {repr(version)[:40]}; this perfkit reads version {known}"
        )
    _check_fields(obj, _RUN_SPEC, "")
    _check_fields(obj, _OPTIONAL_RUN_SPEC, "", required=False)
    for position, command in enumerate(obj["commands"]):
        if type(command) is not dict:
            raise _BadManifest(
                "wrong-type", f"commands[{position}]: is {_type_name(command)}, expected object"
            )
        _check_fields(command, _COMMAND_SPEC, f"commands[{position}]: ")
        check_int64(command["index"], f"commands[{position}].index")
        check_int64(command["exit_code"], f"commands[{position}].exit_code")
    return obj


_RUN_ROW = [
    ("task", "string"), ("run_id", "string"), ("pipeline", "string"),
    ("pipeline_title", "string"), ("status", "string"), ("status_detail", "string"),
    ("started_at", "us"), ("completed_at", "us"), ("heartbeat_at", "us"),
    ("parent_run_id", "string"), ("n_stages", "int64"), ("manifest_version", "int64"),
    ("manifest_bytes", "int64"), ("artifact_bytes", "Int64"), ("artifact_files", "Int64"),
    ("manifest_path", "string"),
]  # fmt: skip


_STAGE_ROW = [
    ("task", "string"), ("run_id", "string"), ("manifest_path", "string"), ("stage", "string"),
    ("title", "string"), ("index", "Int64"), ("status", "string"), ("started_at", "us"),
    ("completed_at", "us"), ("exit_code", "Int64"), ("kind", "string"),
    ("sub_run_id", "string"), ("command", "string"),
]  # fmt: skip
