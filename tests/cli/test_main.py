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
