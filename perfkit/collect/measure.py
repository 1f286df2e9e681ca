"""The collection: run every variant N times, interleaved, into a dataset folder.

Each round runs every variant once, in an order shuffled by a seeded RNG, so that drift of the
machine (thermal, other load, a filling disk) hits every variant alike. Warm-up rounds come first;
their runs are recorded with ``warmup=True`` and ``run=0`` and left out of summaries. Every finished
run is appended to the dataset's journal (flushed) before the next one starts, so that Ctrl-C or
``kill -9`` loses at most the run in flight; journal lines are fsynced within
:data:`JOURNAL_FSYNC_INTERVAL_S` so that an OS crash loses at most that much more. Where no hook
runs between runs, whole rounds are run back to back by the spawner, which journals each run
itself (see :class:`perfkit.collect.loop.Loop`).

Extension points: ``after_run`` callbacks see each timed run as it finishes and may add columns to
its row and stage rows (an orchestrator's manifest); ``after_collection`` callbacks run once after
the timed runs, with the writer still open (a traced pass adds its runs there).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from perfkit.collect import hostinfo

# RoundDecision, RunContext, RunExtras: the extension points' types, importable from here as before
from perfkit.collect.hooks import (  # noqa: F401
    AfterCollection,
    AfterRun,
    Collection,
    RoundDecision,
    RunContext,
    RunExtras,
    StopWhen,
    Variant,
)
from perfkit.collect.loop import Hooks, Loop, Settings
from perfkit.collect.outputs import OutputsRecorder, parse_volatile
from perfkit.collect.process import MAX_TIMEOUT_S, Spawner
from perfkit.collect.schedule import schedule
from perfkit.collect.sizes import SizeTracker
from perfkit.collect.trace import TracedPass
from perfkit.collect.watchers import RunFolderWatcher, VariantRunFolderWatcher
from perfkit.data.store import META, Dataset, DatasetWriter, read_meta
from perfkit.errors import UsageError

Command = str | Sequence[str]

#: Journal lines are flushed at once (Ctrl-C or kill -9 of perfkit loses only the run in flight)
#: and fsynced within this many seconds (an OS crash or power loss loses at most that much).
#: An fsync per run cost 0.1-2.4 ms here, more than a short run itself (benchmarks/bench_measure.py).
JOURNAL_FSYNC_INTERVAL_S = 1.0


class CollectionInterrupted(KeyboardInterrupt):
    """Raised when Ctrl-C stopped a collection; ``dataset`` holds the runs that were kept."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(f"interrupted: kept {len(dataset.runs)} runs in {dataset.path}")
        self.dataset = dataset


def _argv(command: Command, *, shell: bool, what: str) -> tuple[tuple[str, ...], str]:
    """(argv, display text) of a command given as a string or an argv list."""
    if isinstance(command, str):
        text = command.strip()
        if not text:
            raise UsageError(f"{what}: empty command")
        if shell:
            return ("/bin/sh", "-c", command), command
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UsageError(f"{what}: cannot split the command with --no-shell ({exc})") from None
        if not argv:
            raise UsageError(f"{what}: empty command")
        return tuple(argv), command
    if isinstance(command, (bytes, bytearray)) or not isinstance(command, Sequence):
        raise UsageError(f"{what}: a command is a string or a list of arguments, not {type(command).__name__}")
    argv = tuple(os.fspath(a) if isinstance(a, os.PathLike) else a for a in command)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise UsageError(f"{what}: an argument list must be non-empty strings")
    return argv, shlex.join(argv)


#: The longest variant name: it heads tables and charts; a name is a label, not a document.
MAX_NAME_CHARS = 200
#: The longest command (or argument): Linux refuses a single argument over 128 KiB at exec.
MAX_COMMAND_CHARS = 100_000


def _shown(text: str, limit: int = 60) -> str:
    """``text`` for a one-line message: printable, and shortened."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return ascii(short) if not short.isprintable() else repr(short)


def _check_text(value: str, what: str, *, limit: int, newlines: bool) -> None:
    """One line for a string perfkit cannot store or show: not UTF-8, control characters, too long."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what}: not valid UTF-8 (character {exc.start + 1} of "
                         f"{_shown(value)}); perfkit stores text as UTF-8") from None
    if len(value) > limit:
        raise UsageError(f"{what}: {len(value):,} characters, over the limit of {limit:,}")
    allowed = "\t\n\r" if newlines else ""
    for position, char in enumerate(value):
        code = ord(char)
        if (code < 32 or 0x7F <= code < 0xA0) and char not in allowed:
            raise UsageError(f"{what}: a control character {char!r} at position {position + 1} "
                             f"of {_shown(value)}")


def _measure_iv(
    variants: Mapping[str, Command],
    runs: int,
    warmup: int,
    seed: int,
    prepare: Command | None,
    cwd: str | os.PathLike | None,
    env: Mapping[str, str] | None,
    timeout: float | None,
    shell: bool,
) -> Settings:
    """Check every argument of :func:`measure` before anything is written; return them clean."""
    if not isinstance(variants, Mapping) or not variants:
        raise UsageError("no variant given: pass at least one --variant NAME=COMMAND")
    clean: list[Variant] = []
    for name, command in variants.items():
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"--variant: empty variant name in {name!r}")
        _check_text(name, "--variant: the name", limit=MAX_NAME_CHARS, newlines=False)
        if name != name.strip():
            raise UsageError(f"--variant {name!r}: a name has no surrounding spaces or control characters")
        argv, text = _argv(command, shell=shell, what=f"--variant {name}")
        for arg in argv:
            _check_text(arg, f"--variant {name}: the command", limit=MAX_COMMAND_CHARS, newlines=True)
        clean.append(Variant(name=name, command=text, argv=argv, shell=shell and isinstance(command, str)))
    for label, value, low in (("--runs", runs, 1), ("--warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{label} must be an integer, not {value!r}")
        if value < low:
            raise UsageError(f"{label} must be at least {low}, not {value}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"--seed must be an integer, not {seed!r}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise UsageError(f"--timeout must be a number of seconds, not {timeout!r}")
        if not math.isfinite(timeout) or timeout <= 0 or timeout > MAX_TIMEOUT_S:
            raise UsageError(f"--timeout must be a positive number of seconds, at most "
                             f"{MAX_TIMEOUT_S:g} (7 days), not {timeout:g}")
        timeout = float(timeout)
    prepare_argv = prepare_text = None
    if prepare is not None:
        prepare_argv, prepare_text = _argv(prepare, shell=shell, what="--prepare")
        for arg in prepare_argv:
            _check_text(arg, "--prepare", limit=MAX_COMMAND_CHARS, newlines=True)
    cwd_text = None
    if cwd is not None:
        path = Path(cwd)
        if not path.exists():
            raise UsageError(f"--cwd {cwd}: no such directory")
        if not path.is_dir():
            raise UsageError(f"--cwd {cwd}: not a directory")
        if not os.access(path, os.X_OK):
            raise UsageError(f"--cwd {cwd}: permission denied")
        cwd_text = str(path.resolve())
    env_given: dict[str, str] = {}
    if env is not None:
        if not isinstance(env, Mapping):
            raise UsageError("--env must be KEY=VALUE pairs (a mapping)")
        for key, value in env.items():
            if not isinstance(key, str) or not key or "=" in key or "\0" in key:
                raise UsageError(f"--env {key!r}: a variable name is non-empty, without '=' or NUL")
            if not isinstance(value, str) or "\0" in value:
                raise UsageError(f"--env {key}: the value must be a string without NUL")
            _check_text(key, "--env: the name", limit=MAX_COMMAND_CHARS, newlines=False)
            _check_text(value, f"--env {key}", limit=MAX_COMMAND_CHARS, newlines=True)
            env_given[key] = value
    return Settings(
        variants=clean,
        runs=runs,
        warmup=warmup,
        seed=seed,
        prepare=prepare_argv,
        prepare_text=prepare_text,
        cwd=cwd_text,
        env={**os.environ, **env_given},
        env_given=env_given,
        timeout=timeout,
    )


def measure(
    variants: Mapping[str, Command],
    *,
    out: str | os.PathLike,
    runs: int = 10,
    warmup: int = 0,
    seed: int = 0,
    prepare: Command | None = None,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    shell: bool = True,
    fail_fast: bool = False,
    append: bool = False,
    progress: bool = True,
    show_output: bool = False,
    after_run: Sequence[AfterRun] = (),
    after_collection: Sequence[AfterCollection] = (),
    orchestrator_root: str | os.PathLike | Mapping[str, str | os.PathLike] | None = None,
    trace_writes: Mapping[str, str] | None = None,
    trace_runs: int | None = None,
    track_size: Mapping[str, str] | None = None,
    before_run: Sequence[Callable[[], None]] = (),
    allow_changed_command: bool = False,
    stop_when: StopWhen | None = None,
    outputs: Sequence[str] = (),
    volatile: Sequence[str] = (),
) -> Dataset:
    """Measure each variant ``runs`` times (after ``warmup`` runs), interleaved, into ``out``.

    ``variants`` maps a label to a command: a string (run by ``/bin/sh -c``, or split with shlex
    when ``shell=False``) or an argument list (spawned as is). ``prepare`` runs, untimed, before
    every run; when it fails the run is recorded as ``error``. ``env`` adds to perfkit's own
    environment. ``timeout`` (seconds) bounds each run: the whole process tree is killed and the run
    recorded as ``timeout``. A failing run is recorded and the collection goes on, unless
    ``fail_fast`` (then it stops after that run; ``meta["stopped"]`` says why).

    Returns the loaded :class:`~perfkit.data.store.Dataset` (``runs`` columns: see :mod:`perfkit.data.schema`).
    Raises :class:`~perfkit.errors.UsageError` for a bad argument (before anything is written),
    :class:`~perfkit.errors.DatasetError` for an unusable ``out``, and
    :class:`CollectionInterrupted` (a KeyboardInterrupt) on Ctrl-C, after closing the journal.

    Orchestrators and the traced pass:

    ``orchestrator_root``
        an orchestrator workspace: each run's row and the ``stages`` table get the stages of the
        ``.runs/<task>/cli/<run>`` folders that run created (see
        :class:`perfkit.collect.watchers.RunFolderWatcher`). A mapping of variant names to
        workspaces reads each variant's runs from its own workspace (variants it does not
        name get no orchestrator columns).
    ``trace_writes``, ``trace_runs``
        after the timed runs, ``trace_runs`` (default 3 when ``trace_writes`` is given — the fewest a verdict takes — else 0)
        extra runs per variant under strace, rows with ``traced=True`` and exact counts:
        ``<label>_writes`` for each ``label: glob`` of ``trace_writes`` (globs relative to
        ``cwd``), ``fs_opens_write``, ``fs_renames``, ``fs_fsyncs`` (see :mod:`perfkit.collect.trace`).
        Raises :class:`~perfkit.errors.TracerMissing` up front when strace is not installed.
    ``track_size``
        ``{label: glob}``: after every run (warm-ups included), the total size of the files
        matching the glob (relative to ``cwd``) as column ``size_<label>_bytes`` (see
        :mod:`perfkit.collect.sizes`) — a history file's growth per run is then a fitted slope.
    ``before_run``
        callables run just before each timed command starts (after ``prepare``).
    ``stop_when``
        called after every complete timed round with the runs so far and the rounds made; a
        :class:`~perfkit.collect.hooks.RoundDecision` with ``stop`` set ends the timed runs there
        (``meta["decided"]`` says why; the traced pass still runs), its ``meta`` is recorded at
        once. ``perfkit measure --until-decided`` passes a sequential verdict here.
    ``outputs``, ``volatile``
        GLOBs (relative to ``cwd``) of output files: after every run, each file matching one that
        the run wrote is a row of the ``outputs`` table (:mod:`perfkit.collect.outputs`);
        ``volatile`` adds JSONPath masking rules (also applied to orchestrator run manifests).
    """
    cfg = _measure_iv(variants, runs, warmup, seed, prepare, cwd, env, timeout, shell)
    hooks = Hooks(list(before_run), list(after_run), list(after_collection))
    rules = parse_volatile(volatile)
    if outputs:
        recorder = OutputsRecorder(outputs, cfg.cwd, volatile, relist=cfg.prepare is not None)
        hooks.before_run.append(recorder.before_run)
        hooks.after_run.append(recorder)
    if orchestrator_root is not None:
        watcher = (VariantRunFolderWatcher(orchestrator_root, [v.name for v in cfg.variants], rules)
                   if isinstance(orchestrator_root, Mapping)  # a workspace per variant
                   else RunFolderWatcher(orchestrator_root, rules))
        hooks.before_run.append(watcher.before_run)
        hooks.after_run.append(watcher)
    if track_size:
        hooks.after_run.append(SizeTracker(track_size, cfg.cwd))
    if trace_runs is None:
        trace_runs = 3 if trace_writes else 0
    if trace_runs or trace_writes:
        hooks.after_collection.append(TracedPass(trace_writes, trace_runs))
    if orchestrator_root is not None:  # after the traced pass: its run folders are flagged
        hooks.after_collection.append(watcher.after_collection)
    meta = _meta(cfg, shell)
    if append:
        _changed_commands(out, meta, allow=allow_changed_command)
    writer = DatasetWriter(out, meta, append=append,
                           fsync_interval_s=JOURNAL_FSYNC_INTERVAL_S)
    plan = schedule([v.name for v in cfg.variants], runs=cfg.runs, warmup=cfg.warmup, seed=cfg.seed)
    bar = tqdm(total=len(plan), desc="perfkit measure", unit="run", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        with Spawner() as spawner:
            writer.update_meta(orphans_counted=spawner.subreaper, **spawner.memory_meta())
            loop = Loop(cfg, writer, spawner, hooks, show_output)
            loop.stop_when = stop_when
            stopped = loop.run(plan, bar, fail_fast=fail_fast)
            if stopped is None:
                collection = Collection(writer, spawner, cfg.variants, cfg.cwd, cfg.env,
                                        cfg.timeout, cfg.seed, prepare=cfg.prepare,
                                        next_order=loop.order)
                for hook in hooks.after_collection:
                    hook(collection)
    except KeyboardInterrupt:
        bar.close()
        dataset = writer.close(complete=False)
        raise CollectionInterrupted(dataset) from None
    except BaseException as exc:
        bar.close()
        try:
            kept = writer.close(complete=False)
            note = (f"kept {len(kept.runs)} finished runs in {kept.path} "
                    "(marked incomplete; perfkit.load reads them)")
        except Exception:  # noqa: BLE001 - the folder itself failed: say where the runs are
            note = f"the runs that finished are in {writer.folder}/runs.jsonl"
        with contextlib.suppress(AttributeError, TypeError):
            exc.perfkit_kept = note
        raise
    bar.close()
    if stopped is not None:
        writer.update_meta(stopped=stopped)
    return writer.close(complete=True)


def _changed_commands(out: str | os.PathLike, meta: dict[str, Any], *, allow: bool) -> None:
    """``--append`` under a variant name the dataset has with another command: refused (two
    commands' runs would be compared as one), unless ``allow``; then the old commands are kept
    in ``previous_commands``."""
    if not (Path(out) / META).is_file():
        return
    old_variants = read_meta(Path(out)).get("variants", {})
    for name, entry in meta["variants"].items():
        before = old_variants.get(name)
        if not isinstance(before, dict) or before.get("command") in (None, entry["command"]):
            continue
        if not allow:
            raise UsageError(
                f"--variant {_shown(name)}: --append with another command than the dataset's "
                f"({_shown(before['command'])} there, {_shown(entry['command'])} now); use a new "
                "variant name, or pass --allow-changed-command to mix the two")
        entry["previous_commands"] = [*before.get("previous_commands", []), before["command"]]


def _meta(cfg: Settings, shell: bool) -> dict[str, Any]:
    """The dataset's metadata record: the host, every variant's command, the settings."""
    info = hostinfo.collect(cfg.cwd)
    return {
        **info,
        "variants": {
            v.name: {"command": v.command, "argv": list(v.argv), "shell": v.shell, "cwd": info["cwd"]}
            for v in cfg.variants
        },
        "measure": {
            "runs": cfg.runs,
            "warmup": cfg.warmup,
            "seed": cfg.seed,
            "prepare": cfg.prepare_text,
            "timeout_s": cfg.timeout,
            "env": cfg.env_given,
            "shell": shell,
        },
    }
