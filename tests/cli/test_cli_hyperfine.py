"""hyperfine's habits on ``perfkit measure`` and ``perfkit compare``: positional commands, ``-n``,
parameter scans and lists, ``--export-*``; bad values are one line and exit 2."""

from __future__ import annotations

import json

import pytest

import perfkit
from perfkit.cli import build_parser, main
from perfkit.cli._variants import scan_values


def _measure(tmp_path, *args: str) -> tuple[int, object]:
    out = tmp_path / "ds"
    code = main(["measure", "--out", str(out), "--runs", "2", "--no-progress", *args])
    return code, out


def test_positional_commands_are_cmd1_cmd2_in_the_order_given(tmp_path, capsys):
    code, out = _measure(tmp_path, "exit 0", "true")
    assert code == 0
    data = perfkit.load(out)
    assert list(data.meta["variants"]) == ["cmd1", "cmd2"]
    assert data.meta["variants"]["cmd2"]["command"] == "true"
    table = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:4]]
    assert table == ["cmd1", "cmd2"]


def test_n_names_each_command_even_between_options(tmp_path, capsys):
    # zeta before alpha: the measure table keeps the order given, not the alphabet
    code, out = _measure(tmp_path, "-n", "zeta", "exit 0", "--seed", "3", "-n", "alpha", "true")
    assert code == 0
    data = perfkit.load(out)
    assert list(data.meta["variants"]) == ["zeta", "alpha"]
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[2:4]] == ["zeta", "alpha"]


def test_parameter_scan_one_variant_per_value_with_a_column(tmp_path):
    code, out = _measure(tmp_path, "-P", "n", "1", "3", "exit 0 # {n}")
    assert code == 0
    data = perfkit.load(out)
    assert list(data.meta["variants"]) == ["n=1", "n=2", "n=3"]
    assert data.meta["variants"]["n=2"]["command"] == "exit 0 # 2"
    timed = data.runs[~data.runs["traced"]]
    assert dict(zip(timed["variant"], timed["param_n"])) == {"n=1": "1", "n=2": "2", "n=3": "3"}


def test_parameter_list_and_named_commands(tmp_path):
    code, out = _measure(tmp_path, "-L", "mode", "a,b", "-n", "run {mode}", "exit 0 # {mode}")
    assert code == 0
    data = perfkit.load(out)
    assert list(data.meta["variants"]) == ["run a", "run b"]
    assert set(data.runs["param_mode"]) == {"a", "b"}


def test_scan_values_are_exact_decimals():
    assert scan_values("x", "0", "0.3", "0.1") == ["0.0", "0.1", "0.2", "0.3"]  # no 0.30000000000000004
    assert scan_values("x", "2", "6", "2") == ["2", "4", "6"]


def test_exports_write_the_summary_table(tmp_path):
    paths = {fmt: tmp_path / f"summary.{fmt}" for fmt in ("csv", "md", "json")}
    code, _ = _measure(tmp_path, "-n", "b", "true", "-n", "a", "exit 0",
                       "--export-csv", str(paths["csv"]), "--export-markdown", str(paths["md"]),
                       "--export-json", str(paths["json"]))
    assert code == 0
    assert paths["csv"].read_text().splitlines()[0].startswith("variant,n,n_ok")
    assert [r["variant"] for r in json.loads(paths["json"].read_text())] == ["b", "a"]
    assert paths["md"].read_text().startswith("| variant")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-P", "n", "3", "1", "exit {n}"], "--parameter-scan n: MIN 3 is greater than MAX 1"),
        (["-P", "n", "1", "x", "exit {n}"], "--parameter-scan n: 'x' is not a number"),
        (["-P", "n", "1", "3", "-D", "0", "exit {n}"], "must be greater than 0"),
        (["-L", "n", "1,2,1", "exit {n}"], "--parameter-list n: '1' given twice"),
        (["-L", "n", "1,,2", "exit {n}"], "has an empty value"),
        (["-L", "n", "1,2", "exit 0"], "has no {n} in it"),
        (["-D", "2", "exit 0"], "only with --parameter-scan"),
        (["--export-csv", "/nonexistent-perfkit/x.csv", "exit 0"],
         "--export-csv /nonexistent-perfkit/x.csv: the folder /nonexistent-perfkit does not exist"),
        (["--export-json", "/nonexistent-perfkit/x.json", "exit 0"], "does not exist"),
        (["-n", "a", "-n", "b", "exit 0"], "-n/--name: 2 names for 1 command(s)"),
        (["-n", "a", "exit 0", "-n", "a", "true"], "variant 'a': the name is given twice"),
        (["--variant", "a=exit 0", "true"], "use one form"),
        ([], "nothing to measure"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    code, out = _measure(tmp_path, *args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing ran


def test_an_unknown_option_after_commands_is_still_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["measure", "--out", str(tmp_path / "ds"), "exit 0", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, p in sub.choices.items() for action in p._actions
               if not action.help]
    assert missing == []
