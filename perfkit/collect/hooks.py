"""What the collection loop hands to its extension points, and what they may hand back.

:func:`perfkit.collect.measure.measure` knows nothing of orchestrators or tracers: an ``after_run``
callable (:class:`RunContext` in, :class:`RunExtras` out) adds columns and stage rows to each run,
an ``after_collection`` callable (:class:`Collection` in) adds runs after the timed ones. The
run-folder watchers (:mod:`perfkit.collect.watchers`) and the traced pass
(:mod:`perfkit.collect.trace`) are such callables; they import this module, not the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perfkit.collect.process import RunResult, Spawner
from perfkit.data.store import DatasetWriter


@dataclass(frozen=True)
class Variant:
    """One labelled command: ``command`` as the user wrote it, ``argv`` as it is spawned."""

    name: str
    command: str
    argv: tuple[str, ...]
    shell: bool


@dataclass
class RunContext:
    """What an ``after_run`` callback is told about a finished run."""

    variant: Variant
    run: int  # 1-based within the variant; 0 for a warm-up
    order: int  # global execution order
    warmup: bool
    result: RunResult
    cwd: str | None
    env: Mapping[str, str]


@dataclass
class RunExtras:
    """What an ``after_run`` callback may return: extra columns for the run's row, stage rows,
    and rows of the ``outputs`` table (the loop adds ``variant``, ``run`` and ``warmup``)."""

    columns: dict[str, Any] = field(default_factory=dict)
    stages: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Collection:
    """What an ``after_collection`` callback gets: the open writer and the collection's settings."""

    writer: DatasetWriter
    spawner: Spawner
    variants: list[Variant]
    cwd: str | None
    env: Mapping[str, str]
    timeout: float | None
    seed: int
    prepare: tuple[str, ...] | None = None  # run before each traced run too
    next_order: int | None = None  # the order of the next run added


AfterRun = Callable[[RunContext], "RunExtras | Mapping[str, Any] | None"]
AfterCollection = Callable[[Collection], None]


@dataclass
class RoundDecision:
    """What a ``stop_when`` callable returns after a round: ``stop`` (why the collection stops now,
    or None to go on) and ``meta`` (entries to record in ``meta.json`` at once, e.g. the looks of a
    sequential plan)."""

    stop: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


#: Called after every complete timed round with all the runs so far (a runs table) and the number
#: of timed rounds this collection has made; the layer above decides (collect never imports
#: analysis).
StopWhen = Callable[[Any, int], RoundDecision]
