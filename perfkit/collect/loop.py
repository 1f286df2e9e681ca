"""The timed runs of a collection, in the planned order: one at a time, or rounds in batches.

:func:`perfkit.collect.measure.measure` checks the arguments and sets up the dataset, the spawner
and the hooks; :class:`Loop` makes the runs and journals them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from perfkit.collect.hooks import (
    AfterCollection,
    AfterRun,
    RoundDecision,
    RunContext,
    RunExtras,
    StopWhen,
    Variant,
)
from perfkit.collect.process import RunResult, Spawner
from perfkit.data.schema import OUTPUTS_TABLE, runs_frame
from perfkit.data.store import DatasetWriter

#: A batch of back-to-back runs (see :class:`Loop`) lasts about this long, in seconds.
BATCH_S = 0.25
#: The most runs in one batch.
MAX_BATCH_RUNS = 256


@dataclass
class Settings:
    """A collection's checked arguments (:func:`perfkit.collect.measure.measure`)."""

    variants: list[Variant]
    runs: int
    warmup: int
    seed: int
    prepare: tuple[str, ...] | None
    prepare_text: str | None
    cwd: str | None
    env: dict[str, str]  # the complete environment of every run
    env_given: dict[str, str]
    timeout: float | None


@dataclass
class Hooks:
    """What runs around each run (``before_run``, ``after_run``) and after the timed runs."""

    before_run: list[Callable[[], None]]
    after_run: list[AfterRun]
    after_collection: list[AfterCollection]


def extras(value: RunExtras | Mapping[str, Any] | None) -> RunExtras:
    """What an ``after_run`` hook returned, as :class:`RunExtras` (a mapping: columns)."""
    if value is None:
        return RunExtras()
    if isinstance(value, RunExtras):
        return value
    return RunExtras(columns=dict(value))


def prepare_failed(result: RunResult) -> RunResult:
    """The row recorded when --prepare did not succeed: the timed command was not run."""
    if result.status == "error":
        why = result.error
    elif result.status == "timeout":
        why = "timed out"
    else:
        why = f"exit code {result.exit_code}"
    return RunResult("error", error=f"--prepare failed ({why}); the command was not run",
                     started_at=result.started_at)


class Loop:
    """The timed runs, one after another in the planned order, each journaled before the next.

    Where no hook runs between runs (no ``prepare``, no ``before_run`` or ``after_run``: no
    orchestrator, outputs or tracked sizes), whole rounds go to the spawner as one batch
    (:meth:`~perfkit.collect.process.Spawner.run_batch`), run back to back: the spawner journals
    each run itself, and perfkit's bookkeeping (about 1 ms a run, more than a short command takes)
    falls between batches rather than between runs. On a 2-vCPU VM a 0.6 ms command read
    8-15 % slower after a 1-2 ms gap (``benchmarks/bench_floor_gap.py``). A batch lasts about
    :data:`BATCH_S` (one round at first, then as many as fit); with ``stop_when``, one round, so
    that every look comes where it would without batches. Only a batch's first run follows
    perfkit's longer gap, and which variant that is follows the shuffled order within rounds.
    """

    def __init__(self, cfg: Settings, writer: DatasetWriter, spawner: Spawner, hooks: Hooks,
                 show_output: bool) -> None:
        self.cfg, self.writer, self.spawner, self.hooks = cfg, writer, spawner, hooks
        self.show_output = show_output
        self.by_name = {v.name: v for v in cfg.variants}
        self.next_run = {name: writer.next_run(name) for name in self.by_name}
        self.order = writer.next_order
        self.floor: int | None = None  # the spawner's own RSS, the floor under max_rss_kib
        self.stop_when: StopWhen | None = None
        self.records: list[dict[str, Any]] = []  # this collection's rows, for stop_when
        self.batching = cfg.prepare is None and not hooks.before_run and not hooks.after_run
        self.batch_rounds = 1  # rounds in the next batch: grows once the runs are seen to be short

    def run(self, plan: list[tuple[str, bool]], bar: Any, *, fail_fast: bool) -> str | None:
        """Run the plan; returns why it stopped early (``--fail-fast``), or None."""
        first_round, per_round = self.writer.next_round, len(self.by_name)
        position = 0
        while position < len(plan):
            bar.set_postfix_str(plan[position][0], refresh=False)
            size = 1
            if self.batching:
                size = min(len(plan) - position, self.rounds_now() * per_round - position % per_round)
            tags = self.tags(plan[position:position + size], first_round, position)
            made = self.batch(tags, fail_fast) if self.batching else [self.one(tags[0])]
            for tag, result in made:
                position += 1
                bar.update(1)
                if self.stop_when is not None and not tag["warmup"] and position % per_round == 0:
                    if self.decide(position // per_round - self.cfg.warmup):
                        return self.done()
                if fail_fast and not result.ok:
                    return (
                        f"--fail-fast: variant {tag['variant']!r} run {tag['run'] or '(warm-up)'} "
                        f"{result.status}" + (f" with exit code {result.exit_code}"
                                              if result.exit_code is not None else "")
                        + (f" ({result.error})" if result.error else "")
                    )
        return self.done()

    def done(self) -> None:
        if self.floor is not None:
            self.writer.update_meta(spawner_rss_kib=self.floor)
        return None

    def rounds_now(self) -> int:
        """Rounds in the next batch: one under ``stop_when`` (it looks after every round)."""
        return 1 if self.stop_when is not None else self.batch_rounds

    def tags(self, chunk: list[tuple[str, bool]], first_round: int,
             position: int) -> list[dict[str, Any]]:
        """The columns that place each run of ``chunk`` (the plan from ``position`` on) in the
        collection: variant, run number, order, round, warm-up, traced."""
        per_round, next_run = len(self.by_name), dict(self.next_run)
        out = []
        for k, (name, is_warmup) in enumerate(chunk):
            out.append({"variant": name, "run": 0 if is_warmup else next_run[name],
                        "order": self.order + k, "round": first_round + (position + k) // per_round,
                        "warmup": is_warmup, "traced": False})
            next_run[name] += not is_warmup
        return out

    def advance(self, tag: dict[str, Any]) -> None:
        """The run ``tag`` places was made: the next one takes the next order and run number."""
        self.order += 1
        self.next_run[tag["variant"]] += not tag["warmup"]

    def batch(self, tags: list[dict[str, Any]],
              fail_fast: bool) -> list[tuple[dict[str, Any], RunResult]]:
        """Runs of whole rounds back to back in the spawner, which journals each as it ends."""
        cfg = self.cfg
        started = time.perf_counter()
        try:
            results = self.spawner.run_batch(
                [(tag, self.by_name[tag["variant"]].argv) for tag in tags],
                journal=self.writer.runs_journal, cwd=cfg.cwd, env=cfg.env, timeout=cfg.timeout,
                show_output=self.show_output, stop_on_failure=fail_fast)
        finally:
            self.writer.runs_appended()  # what the spawner journaled is fsynced as add_run's
        if results:  # as many rounds as fit in BATCH_S next time, growing at most 4-fold
            per_round = len(self.by_name)
            per_run = (time.perf_counter() - started) / len(results)
            fit = int(BATCH_S / max(per_run * per_round, 1e-9))
            self.batch_rounds = max(1, min(fit, 4 * self.batch_rounds, MAX_BATCH_RUNS // per_round))
        for tag, result in zip(tags, results):
            self.note_floor(result)
            if self.stop_when is not None:
                self.records.append({**tag, **result.record()})
            self.advance(tag)
        return list(zip(tags, results))

    def note_floor(self, result: RunResult) -> None:
        """Keep the largest floor under ``max_rss_kib`` seen; the first at once in meta.json."""
        if result.spawner_rss_kib is not None and result.spawner_rss_kib > (self.floor or 0):
            if self.floor is None:  # recorded at once: an interrupted collection has it too
                self.writer.update_meta(spawner_rss_kib=result.spawner_rss_kib)
            self.floor = result.spawner_rss_kib

    def decide(self, rounds: int) -> bool:
        """Ask ``stop_when`` after a complete timed round; True when it says stop."""
        previous = self.writer.previous.runs if self.writer.previous is not None else None
        frame = runs_frame(self.records)
        if previous is not None and len(previous):
            frame = pd.concat([previous, frame], ignore_index=True)
        decision: RoundDecision = self.stop_when(frame, rounds)
        if decision.meta:
            self.writer.update_meta(**decision.meta)
        if decision.stop is None:
            return False
        self.writer.update_meta(decided=decision.stop)
        return True

    def spawn(self, variant: Variant) -> RunResult:
        """The prepare command (untimed), then the timed command unless prepare failed."""
        cfg = self.cfg
        if cfg.prepare is not None:
            prep = self.spawner.run(cfg.prepare, cwd=cfg.cwd, env=cfg.env, timeout=cfg.timeout,
                                    show_output=self.show_output)
            if not prep.ok:
                return prepare_failed(prep)
        for hook in self.hooks.before_run:
            hook()
        return self.spawner.run(variant.argv, cwd=cfg.cwd, env=cfg.env, timeout=cfg.timeout,
                                show_output=self.show_output)

    def one(self, tag: dict[str, Any]) -> tuple[dict[str, Any], RunResult]:
        """One run: spawn, let the hooks add to its row, journal it."""
        variant = self.by_name[tag["variant"]]
        result = self.spawn(variant)
        self.note_floor(result)
        record: dict[str, Any] = {**tag, **result.record()}
        stages: list[dict[str, Any]] = []
        outputs: list[dict[str, Any]] = []
        ctx = RunContext(variant, tag["run"], tag["order"], tag["warmup"], result, self.cfg.cwd,
                         self.cfg.env)
        for hook in self.hooks.after_run:  # where an orchestrator or a recorder adds to the run
            extra = extras(hook(ctx))
            record.update(extra.columns)
            stages.extend(extra.stages)
            outputs.extend(extra.outputs)
        self.writer.add_run(record)
        if self.stop_when is not None:
            self.records.append(record)
        if stages:
            self.writer.add_stages(stages)
        if outputs:
            self.writer.add_rows(OUTPUTS_TABLE, [{**row, "variant": variant.name, "run": tag["run"],
                                                  "warmup": tag["warmup"]} for row in outputs])
        self.advance(tag)
        return tag, result
