"""Running a report notebook: parameters checked against the notebook, papermill, a clean copy.

:func:`execute` runs a parameterised notebook in the ``python3`` kernel with papermill's Python API
(papermill itself accepts misspelt parameter names silently: :func:`check_parameters` refuses
them first); a failing cell raises :class:`~perfkit.errors.NotebookError` after the executed copy
is saved. :func:`find_data` resolves a dataset path the way the notebooks do.

papermill, nbformat, nbconvert, jupyter_client and vl_convert are imported inside the functions
that use them: together they cost a few hundred milliseconds, which every ``perfkit`` command
(``perfkit --help`` included) would otherwise pay at start-up.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit._paths import NOTEBOOKS_DIR, REPO_ROOT
from perfkit.errors import DatasetError, NotebookError, UsageError

KERNEL = "python3"


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


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, str]:
    """The names of a notebook's parameters (its cell tagged ``parameters``) → default as written."""
    return {name: default for name, (default, _) in _declared(notebook).items()}


def _declared(notebook: str | os.PathLike) -> dict[str, tuple[str, str]]:
    """Each parameter → (its default as written, the type its line declares: ``x = None  #
    type: float`` declares ``float``; ``"None"`` when none is)."""
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    return {name: (str(info.get("default")), str(info.get("inferred_type_name")))
            for name, info in found.items()}


def check_parameters(notebook: str | os.PathLike, parameters: Mapping[str, Any]) -> None:
    """Refuse parameter names the notebook does not declare (papermill would only warn)."""
    known = _declared(notebook)
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
    for name, value in parameters.items():
        _check_type(name, value, *known[name])


#: The types a parameter's line may declare for a default of None (``# type: float``).
DECLARED_TYPES = {"float": float, "int": int, "str": str, "bool": bool, "list": list, "dict": dict}


def _check_type(name: str, value: Any, default_text: str, declared: str = "None") -> None:
    """A parameter's value must have the type of the notebook's default (``seed = 0``: a whole
    number; ``title = ""``: a string); a default of None takes None or the type its line declares
    (``confidence = None  # type: float``), or anything when it declares none (checked later)."""
    import ast
    import math

    try:
        default = ast.literal_eval(default_text)
    except (ValueError, SyntaxError, RecursionError):
        return  # an expression (e.g. dict(...)): checked where it is used
    if default is None:
        if value is None or declared not in DECLARED_TYPES:
            return
        expected: type = DECLARED_TYPES[declared]
    else:
        expected = type(default)
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        kind = "a finite number"
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        kind = "a whole number"
    else:
        ok = isinstance(value, expected)
        kind = {str: "a string", bool: "true or false", list: "a list", dict: "a mapping",
                tuple: "a list"}.get(expected, expected.__name__)
        ok = ok or (expected is tuple and isinstance(value, list))
    if not ok:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        raise UsageError(f"-p {name}: {shown} is not {kind} (the notebook's default is "
                         f"{default_text}); NAME=VALUE gives a string, NAME:=JSON a number or list")


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
    kernel: StartedKernel | None = None,
) -> Any:
    """Execute ``notebook`` into ``output`` with papermill; return the executed notebook node.

    Unknown parameter names are refused before a kernel starts. On a failing cell the executed
    copy is still written and :class:`NotebookError` says which cell failed and why.
    ``kernel`` (from :func:`start_kernel`, already booting in ``cwd``) is used instead of a new
    one, and shut down afterwards in every case.
    """
    with contextlib.ExitStack() as stack:
        if kernel is not None:
            stack.callback(kernel.shutdown)
        kernel_log = kernel.log if kernel is not None else stack.enter_context(
            tempfile.TemporaryFile(mode="w+b"))
        return _execute(Path(notebook).resolve(), Path(output).resolve(), dict(parameters or {}),
                        cwd=cwd, timeout=timeout, kernel_log=kernel_log,
                        manager=None if kernel is None else kernel.manager)


def _execute(notebook: Path, output: Path, parameters: dict[str, Any], *, cwd: Any,
             timeout: float | None, kernel_log: Any, manager: Any) -> Any:
    import papermill
    from papermill.exceptions import PapermillExecutionError

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
                kernel_manager_class=_kernel_manager(kernel_log),
                **({} if manager is None else {"km": manager}),
            )
    except PapermillExecutionError as exc:
        _clean_file(output)
        count = f" (In [{exc.exec_count}])" if exc.exec_count else ""
        raise NotebookError(
            f"{notebook.name}: cell {exc.cell_index}{count} failed: {exc.ename}: "
            f"{_one_line(exc.evalue)}; the executed notebook is kept at {output}"
        ) from None
    except Exception as exc:  # the kernel died, timed out, or never started
        if output.exists():
            _clean_file(output)
        kernel_log.seek(0)
        tail = kernel_log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        raise NotebookError(
            f"{notebook.name}: execution failed: {type(exc).__name__}: {_one_line(str(exc))}"
            + (f" (kernel said: {_one_line(' | '.join(tail))})" if tail else "")
            + (f"; the partly executed notebook is kept at {output}" if output.exists() else "")
        ) from None
    return _clean_file(output)


@dataclass
class StartedKernel:
    """A notebook kernel started ahead of :func:`execute` (:func:`start_kernel`)."""

    manager: Any
    log: Any  # the kernel's stderr (quoted when it dies)

    def shutdown(self) -> None:
        """Stop the kernel (again: a no-op)."""
        from jupyter_core.utils import run_sync

        try:
            if self.manager.has_kernel:
                run_sync(self.manager.shutdown_kernel)(now=True)
        finally:
            self.log.close()


def start_kernel(cwd: str | os.PathLike, preload: Sequence[str] = ()) -> StartedKernel | None:
    """Start the notebook kernel in ``cwd`` now and return without waiting for it.

    ``perfkit report`` calls this before it computes the verdict, so that the kernel boots and
    runs ``preload`` (lines of code such as imports: IPython's ``exec_lines``, outside the
    notebook's history) on the other core meanwhile; :func:`execute` then runs the notebook in
    it. None when the kernel cannot be started here: :func:`execute` then starts its own (and
    reports why that fails).
    """
    from jupyter_core.utils import run_sync

    log = tempfile.TemporaryFile(mode="w+b")
    manager = _kernel_manager(log)(kernel_name=KERNEL)
    try:
        with _kernel_can_import_perfkit():
            run_sync(manager.start_kernel)(
                cwd=str(cwd), extra_arguments=[f"--IPKernelApp.exec_lines={line}"
                                               for line in preload])
    except Exception:  # noqa: BLE001 (execute() starts a kernel itself and explains a failure)
        log.close()
        return None
    return StartedKernel(manager, log)


def _kernel_manager(log: Any) -> type:
    """A kernel manager whose kernel writes its own stderr to ``log``, not to the terminal.

    ipykernel ≥ 7.3 warns about unencrypted TCP on every start; a report's user should not see
    that, but a kernel that dies should still be explained (the error quotes the log's tail).
    """
    from jupyter_client.manager import AsyncKernelManager

    class _QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["stderr"] = log
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return _QuietKernelManager


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_file(path: Path) -> Any:
    import nbformat

    nb = clean_notebook(nbformat.read(str(path), as_version=4))
    nbformat.write(nb, str(path))
    return nb


def refresh_notebooks(names: tuple[str, ...] = ("compare", "hotspots", "trend")) -> list[Path]:
    """Re-execute the committed notebooks in place with their defaults (for strict nbval).

    Runs each in ``notebooks/`` — where nbval runs it — and keeps it only if it succeeded.
    """
    done = []
    for name in names:
        path = notebook_path(name)
        tmp = path.with_name(f".{path.stem}.refresh.ipynb")
        try:
            execute(path, tmp, {}, cwd=NOTEBOOKS_DIR)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        done.append(path)
    return done
