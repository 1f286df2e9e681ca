"""``perfkit completion``: shtab's scripts name every subcommand and complete in a real bash."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from perfkit.cli import COMMANDS, build_parser, main


def _script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def test_bash_script_names_every_subcommand_and_option(capsys):
    text = _script("bash", capsys)
    listed = re.search(r"^_shtab_perfkit_subparsers=\((.*)\)$", text, re.M).group(1).split()
    names = [sub for sub in build_parser()._subparsers._group_actions[0].choices]
    assert listed == names and len(listed) == len(COMMANDS) and "completion" in listed
    compare = re.search(r"^_shtab_perfkit_compare_option_strings=\((.*)\)$", text, re.M)
    assert {"--baseline", "--export-csv", "--format"} <= set(compare.group(1).split())
    assert "_shtab_perfkit_compare___format_choices=(text markdown json csv)" in text


def test_zsh_and_tcsh_scripts_name_the_subcommands(capsys):
    for shell in ("zsh", "tcsh"):
        text = _script(shell, capsys)
        assert all(name in text for name in ("measure", "compare", "report", "history"))


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_a_subcommand_and_an_option(tmp_path, capsys):
    script = tmp_path / "perfkit.bash"
    script.write_text(_script("bash", capsys))
    probe = (
        f"source {script}\n"
        "complete -p perfkit\n"
        "COMP_WORDS=(perfkit co); COMP_CWORD=1; COMP_LINE='perfkit co'; COMP_POINT=10\n"
        "_shtab_perfkit; echo \"words: ${COMPREPLY[*]}\"\n"
        "COMP_WORDS=(perfkit compare --exp); COMP_CWORD=2; COMP_LINE='perfkit compare --exp'\n"
        "COMP_POINT=21; _shtab_perfkit; echo \"options: ${COMPREPLY[*]}\"\n"
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert set(lines["words"].split()) == {"compare", "completion"}
    assert set(lines["options"].split()) == {"--export-csv", "--export-markdown", "--export-json"}


def test_an_unknown_shell_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["completion", "fish"])
    assert exit_.value.code == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err
