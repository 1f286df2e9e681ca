#!/usr/bin/env python3
"""How does the real Codex Orchestrator's cost grow with its history of runs?

    python3 examples/codex-orchestrator/study.py --out study-out            # the full study
    python3 examples/codex-orchestrator/study.py --out study-out --quick    # CI-sized

Steps (every measurement is perfkit's own; this script only sets the scene):

1. ``npm install @kbediako/codex-orchestrator`` into ``OUT/orchestrator`` (or use an existing
   install given with ``--orchestrator-dir``).
2. Two workspaces with the same three-stage pipeline (``codex.orchestrator.json`` next to this
   file): ``OUT/workspaces/aged`` and ``OUT/workspaces/fresh``.
3. **History**: ``aged`` is seeded with ``--history`` runs, themselves measured
   (``OUT/history``): run time, I/O and the size of the task's history files against the number
   of runs before.
4. **Comparison**: ``aged`` (baseline) against ``fresh`` (candidate), interleaved, ``--runs`` each
   (``OUT/compare``): what would pruning the history buy? ``fresh`` is emptied before each of its
   runs (``--prepare``), so that it stays fresh; ``aged`` keeps growing by one run per run,
   which is negligible next to its history. A traced pass (strace) counts manifest writes.
5. Reports: ``OUT/reports/hotspots`` (``perfkit report --hotspots`` over the history) and
   ``OUT/reports/compare`` (``perfkit report``), and the study's figures in ``OUT/study.json``.

Exit codes: 0 done (whatever the verdict), 2 a usage or setup error (one line on stderr),
4 the npm registry could not be reached (the install failed for a network reason).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing perfkit


def _in_project_env() -> None:
    """Run under the project's .venv when this Python lacks perfkit's dependencies.

    ``python3 examples/codex-orchestrator/study.py`` with a system Python would stop at
    ``import pandas`` with a traceback: re-execute with ``.venv/bin/python`` when it exists, or
    say in one line what to run.
    """
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:
        venv = ROOT / ".venv" / "bin" / "python"
        if venv.exists() and Path(sys.executable).resolve() != venv.resolve() \
                and not os.environ.get("PERFKIT_STUDY_REEXEC"):
            os.environ["PERFKIT_STUDY_REEXEC"] = "1"  # never loop
            os.execv(str(venv), [str(venv), str(Path(__file__).resolve()), *sys.argv[1:]])
        sys.exit(f"study.py: this Python lacks {exc.name}; run `python3 dev.py setup` in {ROOT}, "
                 f"then `{ROOT / '.venv/bin/python'} {' '.join(sys.argv)}`")


if __name__ == "__main__":
    _in_project_env()

import pandas as pd  # noqa: E402

import perfkit  # noqa: E402
from perfkit.errors import PerfkitError  # noqa: E402

#: The orchestrator release this study was written against (pinned: figures must be re-runnable).
PACKAGE = "@kbediako/codex-orchestrator@0.2.1"
PIPELINE_FILE = HERE / "codex.orchestrator.json"
PIPELINE = "study"
TASK = "study"
BIN = Path("node_modules") / ".bin" / "codex-orchestrator"
MARKER = ".perfkit-study"
EXIT_NETWORK = 4

#: Task-level history files that the orchestrator rewrites on every run (workspace-relative).
HISTORY_FILES = {
    "metrics_json_bytes": Path(".runs") / TASK / "metrics.json",
    "runs_json_bytes": Path("out") / TASK / "runs.json",
}
#: Traced pass: logical writes of these files (globs as in ``perfkit measure --trace-writes``).
TRACE_WRITES = {
    "manifest": "**/manifest.json",
    "metrics": "**/metrics.json",
    "runs": "**/runs.json",
}

#: Metrics whose fresh-against-aged change the study prints (wall_s is the target).
CHANGES_SHOWN = ("wall_s", "user_s", "sys_s", "max_rss_kib", "io_rchar", "io_wchar",
                 "io_write_bytes", "manifest_writes")

# npm's error codes for a registry it could not reach (as opposed to a package or disk problem).
_NETWORK = re.compile(
    r"\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|"
    r"ERR_SOCKET_TIMEOUT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|"
    r"getaddrinfo|network request to .* failed|request to .* failed, reason)\b"
)


class StudyError(PerfkitError):
    """Raised when the study cannot be set up (npm, node, the output folder)."""


class RegistryUnreachable(StudyError):
    """Raised when ``npm install`` failed because the npm registry could not be reached."""


@dataclass(frozen=True)
class Config:
    history: int = 300
    runs: int = 15
    warmup: int = 1
    trace_runs: int = 3
    seed: int = 1
    report: bool = True

    @classmethod
    def quick(cls) -> Config:
        """The CI-sized study: minutes become seconds, the shape of every output stays."""
        return cls(history=15, runs=5, warmup=0, trace_runs=1)


# --------------------------------------------------------------------------------------- setup


def npm_install(folder: Path, package: str = PACKAGE, *, timeout: float = 300) -> Path:
    """Install ``package`` into ``folder`` with npm; return the ``codex-orchestrator`` executable.

    Raises :class:`RegistryUnreachable` when npm failed for a network reason and
    :class:`StudyError` for any other failure (npm missing, a bad package, a full disk).
    """
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise StudyError("node and npm are needed (Node >= 20): install Node.js, or pass "
                         "--orchestrator-dir with an existing install")
    version = node_version(node)
    if version < 20:
        raise StudyError(f"the orchestrator needs Node >= 20; this node is version {version}")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        # a package.json of its own: npm must not climb to a parent project's
        (folder / "package.json").write_text('{"name": "perfkit-study-orchestrator", "private": true}\n')
    # few and short retries: an unreachable registry should fail in seconds, not minutes
    argv = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--fetch-retries=1",
            "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=5000", package]
    try:
        proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RegistryUnreachable(f"npm install {package}: no answer within {timeout:.0f} s "
                                  "(is the npm registry reachable?)") from None
    if proc.returncode != 0:
        text = (proc.stderr or "") + (proc.stdout or "")
        last = next((ln for ln in reversed(text.strip().splitlines()) if ln.strip()), "")
        if _NETWORK.search(text):
            raise RegistryUnreachable(f"npm install {package}: the npm registry is unreachable "
                                      f"({_NETWORK.search(text).group(0)})")
        raise StudyError(f"npm install {package} failed (exit {proc.returncode}): {last.strip()}")
    return executable(folder)


def node_version(node: str = "node") -> int:
    """The major version of ``node`` (0 when it cannot be told)."""
    try:
        text = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.match(r"v(\d+)", text)
    return int(match.group(1)) if match else 0


def executable(folder: Path) -> Path:
    """The orchestrator CLI of an install folder (one holding ``node_modules``)."""
    exe = folder / BIN
    if not exe.exists():
        raise StudyError(f"--orchestrator-dir {folder}: no {BIN} there (run npm install "
                         f"{PACKAGE} in it first)")
    return exe.resolve()


def prepare_out(out: Path) -> None:
    """Create ``out``, or clear a previous study's folder; never delete a folder we did not make."""
    if out.exists() and not out.is_dir():
        raise StudyError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise StudyError(f"--out {out}: folder is not empty and was not made by this study")
        for child in out.iterdir():
            if child.name == "orchestrator":  # keep the npm install between re-runs
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by examples/codex-orchestrator/study.py; cleared on re-runs\n")


def make_workspace(folder: Path) -> Path:
    """An empty orchestrator workspace: the pipeline definition and nothing else."""
    folder.mkdir(parents=True)
    shutil.copyfile(PIPELINE_FILE, folder / "codex.orchestrator.json")
    return folder


def start_command(exe: Path, workspace: Path) -> str:
    """The measured command: one ``codex-orchestrator start`` in ``workspace``.

    The orchestrator keeps its records under its root, which is the working directory unless
    ``CODEX_ORCHESTRATOR_ROOT`` says otherwise: set it explicitly, so that a caller's environment
    cannot send the runs elsewhere.
    """
    ws = shlex.quote(str(workspace))
    return (f"cd {ws} && CODEX_ORCHESTRATOR_ROOT={ws} exec {shlex.quote(str(exe))} "
            f"start {PIPELINE} --format json --task {TASK}")


def reset_command(workspace: Path) -> str:
    """Empties a workspace's history (its ``.runs`` and ``out``), keeping the pipeline file."""
    return f"rm -rf {shlex.quote(str(workspace / '.runs'))} {shlex.quote(str(workspace / 'out'))}"


def history_sizes(workspace: Path):
    """An ``after_run`` hook: the size of each history file after every run (bytes, 0 if absent)."""

    def hook(ctx: Any) -> dict[str, int]:
        sizes = {}
        for column, rel in HISTORY_FILES.items():
            try:
                sizes[column] = (workspace / rel).stat().st_size
            except FileNotFoundError:
                sizes[column] = 0
        return sizes

    return hook


# ------------------------------------------------------------------------------------- figures


def _median(series: pd.Series) -> float | None:
    values = pd.to_numeric(series, errors="coerce").dropna()
    return float(values.median()) if len(values) else None


def figures(history: perfkit.Dataset, compared: perfkit.Dataset, comparison: perfkit.Comparison,
            ) -> dict[str, Any]:
    """The study's numbers, for the printout and ``study.json`` (medians unless named otherwise)."""
    from perfkit.analysis.hotspots import growth, growth_slopes

    out: dict[str, Any] = {}
    h = history.runs[~history.runs["warmup"] & ~history.runs["traced"]].sort_values("order")
    h = h.assign(cpu_s=h["user_s"] + h["sys_s"])  # less sensitive than wall time to a busy host
    cols = ["wall_s", "cpu_s", "max_rss_kib", "io_rchar", "io_wchar", *HISTORY_FILES]
    slopes = growth_slopes(growth(h, [c for c in cols if c in h.columns]))
    tenth = max(1, len(h) // 10)
    out["history"] = {
        "runs": int(len(h)),
        "wall_s_first_tenth": _median(h["wall_s"].head(tenth)),
        "wall_s_last_tenth": _median(h["wall_s"].tail(tenth)),
        "cpu_s_first_tenth": _median(h["cpu_s"].head(tenth)),
        "cpu_s_last_tenth": _median(h["cpu_s"].tail(tenth)),
        "slopes": slopes.to_dict(orient="records"),
        **{f"{c}_first": int(h[c].iloc[0]) for c in HISTORY_FILES if c in h.columns},
        **{f"{c}_last": int(h[c].iloc[-1]) for c in HISTORY_FILES if c in h.columns},
    }
    runs = compared.runs
    timed = runs[~runs["warmup"] & ~runs["traced"]]
    traced = runs[runs["traced"]]
    per_variant: dict[str, Any] = {}
    for variant, rows in timed.groupby("variant", sort=True):
        entry: dict[str, Any] = {"runs": int(len(rows)), "wall_s": _median(rows["wall_s"]),
                                 "cpu_s": _median(rows["user_s"] + rows["sys_s"]),
                                 "max_rss_kib": _median(rows["max_rss_kib"]),
                                 "io_wchar": _median(rows["io_wchar"])}
        for column in HISTORY_FILES:
            if column in rows.columns:
                entry[column] = _median(rows[column])
        t = traced[traced["variant"] == variant]
        for label in TRACE_WRITES:
            column = f"{label}_writes"
            if column in t.columns and t[column].notna().any():
                entry[column] = int(t[column].max())
        stages = compared.stages
        s = stages[(stages["variant"] == variant) & stages["run"].isin(rows["run"])]
        entry["stages_s"] = {str(k): float(v) for k, v in
                             s.groupby("stage", sort=False)["duration_s"].median().items()}
        # the orchestrator's own time: wall time not spent inside a stage's command
        per_run = s.groupby("run")["duration_s"].sum()
        wall = rows.set_index("run")["wall_s"]
        entry["outside_stages_s"] = _median((wall - per_run).dropna()) if len(per_run) else None
        per_variant[str(variant)] = entry
    out["compare"] = per_variant
    record = comparison.to_dict()  # JSON-ready: non-finite numbers become null
    out["verdict"] = next((m for m in record["metrics"] if m["metric"] == "wall_s"), None)
    keys = ("baseline", "candidate", "change", "ci_low", "ci_high", "verdict", "method")
    out["changes"] = {m["metric"]: {k: m.get(k) for k in keys} for m in record["metrics"]
                      if m["metric"] in CHANGES_SHOWN}
    out["overall"] = comparison.overall
    return out


def format_figures(fig: dict[str, Any]) -> list[str]:
    """The lines printed at the end of a study."""
    h = fig["history"]
    lines = [
        f"history: {h['runs']} runs; wall time median {h['wall_s_first_tenth']:.3f} s in the "
        f"first tenth, {h['wall_s_last_tenth']:.3f} s in the last (CPU {h['cpu_s_first_tenth']:.3f} s "
        f"→ {h['cpu_s_last_tenth']:.3f} s)",
    ]
    for c in HISTORY_FILES:
        if f"{c}_first" in h:
            lines.append(f"  {c}: {h[f'{c}_first']:,} → {h[f'{c}_last']:,} bytes")
    for s in h["slopes"]:
        if s["per_run"] != s["per_run"]:  # too few runs for a slope
            continue
        # a relative slope only means something for a metric that does not start from nothing
        pct = (f", {100 * s['per_run'] / s['first']:+.1%} per 100 runs"
               if s["first"] > 0 and s["metric"] not in HISTORY_FILES else "")
        lines.append(f"  {s['metric']}: {s['per_run']:+.4g} per earlier run "
                     f"(fitted {s['first']:.4g} → {s['last']:.4g}{pct}, r={s['r']:.2f})")
    for variant, e in fig["compare"].items():
        stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in e["stages_s"].items())
        writes = ", ".join(f"{label} {e[f'{label}_writes']}" for label in TRACE_WRITES
                           if f"{label}_writes" in e)
        lines.append(f"{variant}: wall {e['wall_s']:.3f} s, CPU {e['cpu_s']:.3f} s over {e['runs']} "
                     f"runs; stages: {stages}; "
                     f"outside stages {e['outside_stages_s'] or 0:.3f} s; "
                     f"writes per run: {writes or 'not traced'}")
    lines.append("change, fresh against aged (1 − fresh/aged, median, 95 % CI):")
    for metric, c in fig.get("changes", {}).items():
        if c["change"] is None:
            continue
        interval = (f"[{c['ci_low']:+.1%}, {c['ci_high']:+.1%}]" if c["ci_low"] is not None
                    else "")
        lines.append(f"  {metric}: {c['baseline']:.4g} → {c['candidate']:.4g}: "
                     f"{c['change']:+.1%} {interval} {c['verdict']}")
    lines.append(f"overall: {fig['overall']}")
    return lines


# ----------------------------------------------------------------------------------------- run


def run_study(out: Path, config: Config, *, orchestrator_dir: Path | None = None,
              progress: bool = True, echo=print) -> dict[str, Any]:
    """Run the whole study into ``out``; return the figures (also written to ``out/study.json``)."""
    started = time.monotonic()
    out = out.resolve()
    prepare_out(out)
    if orchestrator_dir is not None:
        exe = executable(orchestrator_dir.resolve())
    elif (out / "orchestrator" / BIN).exists():
        exe = executable(out / "orchestrator")
        echo(f"study: reusing the orchestrator installed in {out / 'orchestrator'}")
    else:
        echo(f"study: npm install {PACKAGE} into {out / 'orchestrator'}")
        exe = npm_install(out / "orchestrator")
    trace_runs = config.trace_runs
    if trace_runs and shutil.which("strace") is None:
        echo("study: strace is not installed: no traced pass, so no manifest-write counts")
        trace_runs = 0

    spaces = out / "workspaces"
    aged = make_workspace(spaces / "aged")
    fresh = make_workspace(spaces / "fresh")

    echo(f"study: seeding the aged workspace with {config.history} measured runs")
    history = perfkit.measure(
        {"aged": start_command(exe, aged)},
        out=out / "history",
        runs=config.history,
        seed=config.seed,
        cwd=spaces,
        orchestrator_root=aged,
        after_run=[history_sizes(aged)],
        progress=progress,
    )

    echo(f"study: aged ({config.history} runs of history) against fresh, {config.runs} runs each")
    hooks = {"aged": history_sizes(aged), "fresh": history_sizes(fresh)}
    compared = perfkit.measure(
        {"aged": start_command(exe, aged), "fresh": start_command(exe, fresh)},
        out=out / "compare",
        runs=config.runs,
        warmup=config.warmup,
        seed=config.seed,
        cwd=spaces,
        # Runs before every run of both variants: it only ever empties `fresh`, which is then
        # fresh for its own next run; `aged` keeps its history.
        prepare=reset_command(fresh),
        orchestrator_root={"aged": aged, "fresh": fresh},
        trace_writes=TRACE_WRITES if trace_runs else None,
        trace_runs=trace_runs,
        after_run=[lambda ctx: hooks[ctx.variant.name](ctx)],
        progress=progress,
    )
    comparison = perfkit.compare(compared, "aged", "fresh", seed=config.seed)  # as the report
    fig = figures(history, compared, comparison)
    fig["config"] = asdict(config)
    fig["package"] = PACKAGE
    fig["paths"] = {"history": str(out / "history"), "compare": str(out / "compare")}

    if config.report:
        echo("study: writing the hotspot and comparison reports (perfkit report, side by side)")
        fig["paths"].update(write_reports(out, config, echo=echo))
    fig["seconds"] = time.monotonic() - started
    (out / "study.json").write_text(json.dumps(fig, indent=2, default=str) + "\n")
    return fig


def write_reports(out: Path, config: Config, *, echo=print) -> dict[str, str]:
    """``perfkit report --hotspots`` over the history and ``perfkit report`` over the comparison.

    The two notebooks run at the same time, as two ``perfkit report`` processes (each spends
    much of its time starting a kernel), after every measurement is done.
    """
    reports = out / "reports"
    commands = {
        "hotspots": ["report", "--hotspots", str(out / "history"), "--out", str(reports / "hotspots"),
                     "--title", f"Codex Orchestrator: cost against history ({config.history} runs)"],
        "compare": ["report", str(out / "compare"), "--out", str(reports / "compare"),
                    "--baseline", "aged", "--candidate", "fresh", "--seed", str(config.seed),
                    "--title", f"Codex Orchestrator: a fresh workspace against one with "
                               f"{config.history} runs of history"],
    }
    root = str(HERE.parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    procs = {}
    for name, args in commands.items():
        echo("  perfkit " + shlex.join(args))
        procs[name] = subprocess.Popen([sys.executable, "-m", "perfkit", *args], env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, proc in procs.items():
        _, err = proc.communicate()
        # perfkit report's exit code carries the verdict: 0 cleared, 1 not shown, 3 regressed
        if proc.returncode not in (0, 1, 3):
            last = next((ln for ln in reversed(err.strip().splitlines()) if ln.strip()), "")
            raise StudyError(f"perfkit report ({name}) failed (exit {proc.returncode}): {last}")
    return {
        "hotspots_report": str(reports / "hotspots" / "report.html"),
        "compare_report": str(reports / "compare" / "report.html"),
        "verdict": str(reports / "compare" / "verdict.json"),
        "summary": str(reports / "compare" / "summary.md"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("study-out"), metavar="DIR",
                        help="output folder (default study-out; a previous study's is cleared, "
                             "its npm install kept)")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: --history 15 --runs 5 --warmup 0 --trace-runs 1")
    parser.add_argument("--history", type=int, help="runs seeded into the aged workspace (300)")
    parser.add_argument("--runs", type=int, help="timed runs of each variant (15)")
    parser.add_argument("--warmup", type=int, help="warm-up runs of each variant (1)")
    parser.add_argument("--trace-runs", type=int, help="traced runs of each variant (3; 0: none)")
    parser.add_argument("--seed", type=int, help="seed of the run order and the bootstrap (1)")
    parser.add_argument("--orchestrator-dir", type=Path, metavar="DIR",
                        help="an existing install (a folder holding node_modules/.bin/"
                             "codex-orchestrator) instead of npm install")
    parser.add_argument("--no-report", action="store_true", help="figures only, no notebooks")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    base = Config.quick() if args.quick else Config()
    given = {k: getattr(args, k) for k in ("history", "runs", "warmup", "trace_runs", "seed")
             if getattr(args, k) is not None}
    for name, value in given.items():
        low = 1 if name in ("history", "runs") else 0
        if name != "seed" and value < low:
            print(f"study: --{name.replace('_', '-')} must be at least {low}, not {value}",
                  file=sys.stderr)
            return 2
    config = Config(**{**asdict(base), **given, "report": not args.no_report})
    try:
        fig = run_study(args.out, config, orchestrator_dir=args.orchestrator_dir,
                        progress=not args.no_progress)
    except RegistryUnreachable as exc:
        print(f"study: {exc}", file=sys.stderr)
        return EXIT_NETWORK
    except KeyboardInterrupt as exc:  # perfkit.measure has closed its journal: runs are kept
        kept = getattr(exc, "dataset", None)
        where = f"; kept {len(kept.runs)} runs in {kept.path}" if kept is not None else ""
        print(f"study: interrupted{where}", file=sys.stderr)
        return 130
    except PerfkitError as exc:
        print(f"study: {exc}", file=sys.stderr)
        return 2
    for line in format_figures(fig):
        print(line)
    for name in ("hotspots_report", "compare_report", "verdict"):
        if name in fig["paths"]:
            print(f"{name.replace('_', ' ')}: {fig['paths'][name]}")
    print(f"study.json: {args.out.resolve() / 'study.json'} ({fig['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
