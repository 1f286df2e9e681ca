"""``perfkit completion SHELL``: a tab-completion script for bash, zsh or tcsh.

The script is generated from perfkit's own argument parser by ``shtab`` (static: completing a
word does not start Python, so it stays instant although perfkit's imports are heavy), and names
every subcommand and option; install it as README.md shows.
"""

from __future__ import annotations

import argparse

#: The shells shtab writes completion scripts for.
SHELLS = ("bash", "zsh", "tcsh")


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` for ``shell``."""
    import shtab

    return shtab.complete(parser, shell=shell)


def _run_completion(args: argparse.Namespace) -> int:
    print(script(args.root_parser, args.shell))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description=(
            "Print a tab-completion script for perfkit's subcommands and options. bash: "
            "`perfkit completion bash > ~/.local/share/bash-completion/completions/perfkit`; "
            "zsh: `perfkit completion zsh > \"${fpath[1]}/_perfkit\"`; or, for this shell only, "
            "`eval \"$(perfkit completion bash)\"`."
        ),
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(func=_run_completion)
