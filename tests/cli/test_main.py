"""perfkit.cli: the command's skeleton — subcommands registered in order, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perfkit import cli, errors
from perfkit._version import __version__
from perfkit.cli import COMMANDS, build_parser, main


def test_every_subcommand_is_registered_in_the_order_of_the_data():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices)[: len(COMMANDS)] == list(COMMANDS)


def test_the_help_line_of_a_subcommand_not_loaded_is_its_module_s_own():
    # `perfkit --help` lists the subcommands without importing them: the table's lines must be the
    # ones each module registers
    full, lean = (next(a for a in build_parser(only)._actions if a.dest == "command")
                  for only in (cli.ALL, ""))
    lines = {parser: {a.dest: a.help for a in sub._choices_actions} for parser, sub in
             (("full", full), ("lean", lean))}
    assert lines["full"] == lines["lean"] == COMMANDS


def test_help_and_a_typo_do_not_import_the_libraries_a_command_uses():
    probe = ("import subprocess, sys\n"
             "from perfkit.cli import main\n"
             "for argv in (['--help'], ['comapre']):\n"
             "    try:\n"
             "        main(argv)\n"
             "    except SystemExit:\n"
             "        pass\n"
             "print(sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: perfkit {command}" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"perfkit {__version__}"


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["nope"])
    assert exit_.value.code == errors.EXIT_USAGE
    err = capsys.readouterr().err
    assert "perfkit: error: argument COMMAND: invalid choice: 'nope'" in err


def test_a_perfkit_error_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["compare", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == errors.EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("perfkit: error: ") and "no such dataset" in err


def test_exit_codes_are_defined_once():
    assert errors.EXIT_CODES == {"cleared": 0, "not-shown": 1, "regressed": 3}
    assert not hasattr(cli, "EXIT_OK")  # the CLI uses perfkit.errors', it defines none of its own


def test_python_dash_m_perfkit_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "perfkit", "--version"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"perfkit {__version__}"


def test_the_command_does_not_load_the_chart_library_until_a_chart_is_drawn():
    # altair imports jsonschema and its format checkers (seconds at start-up), scipy.stats takes
    # about a second; a usage error or `perfkit measure` must not wait for them (perfkit's own
    # history found `--help` at 2.2 s instead of 1.1 s once a CLI module imported scipy.stats at
    # the top). Drawing a chart still works afterwards.
    probe = (
        "import sys, perfkit, perfkit.cli\n"
        "before = sorted(m for m in ('jsonschema', 'altair.vegalite', 'scipy.stats')"
        " if m in sys.modules)\n"
        "from perfkit.present import charts\n"
        "import pandas as pd\n"
        "runs = pd.DataFrame({'variant': ['a', 'b'] * 3, 'run': [0, 0, 1, 1, 2, 2],"
        " 'wall_s': [1.0, 2.0, 1.1, 2.1, 0.9, 1.9]})\n"
        "chart = charts.distributions(runs, 'wall_s', variants=['a', 'b'])\n"
        "print(before, type(chart).__module__.split('.')[0], 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "altair", "True"], out.stdout + out.stderr



def test_a_reader_that_leaves_ends_nothing_and_prints_no_message(tmp_path, capsys, monkeypatch):
    """`perfkit … | head`: stdout is a real pipe whose reader left before the first line. No
    message, the command's own exit code (compare: the verdict), its files still written."""
    import io
    import os
    import signal

    from perfkit import __main__ as entry_point
    from perfkit._paths import REPO_ROOT

    monkeypatch.setattr(signal, "signal", lambda *a: None)  # entry() leaves pytest's handlers
    monkeypatch.chdir(REPO_ROOT)
    for argv, code in ((["completion", "bash"], errors.EXIT_OK),
                       (["compare", "data/demo-fix", "--resamples", "200", "--export-json",
                         str(tmp_path / "c.json")], errors.EXIT_OK)):
        read, write = os.pipe()
        os.close(read)  # the reader left: every write fails with EPIPE
        stdout = io.TextIOWrapper(io.FileIO(write, "w"), encoding="utf-8")
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "argv", ["perfkit", *argv])
        assert entry_point.entry() == code, argv
        assert capsys.readouterr().err == ""
        sys.stdout.close()
    assert (tmp_path / "c.json").is_file()  # the export after the printout was written
    # and in a process of its own (argparse's --help exits before entry() flushes: the
    # interpreter's flush at exit meets the closed pipe)
    proc = subprocess.Popen([sys.executable, "-m", "perfkit", "--help"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    assert proc.stderr.read() == b"" and proc.wait(timeout=60) == 0
