"""The README tells the truth about the command line: every command is documented there with an
example, the quick start is the two make targets that exist, and the exit-code table matches the
codes the program uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cica_ld import errors
from cica_ld.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_the_cli_has_the_documented_commands() -> None:
    assert {"query", "queries", "validate", "export", "publish", "serve", "load"} <= set(
        _commands()
    )


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_and_a_readme_example(command: str) -> None:
    r = CliRunner().invoke(app, [command, "--help"])
    assert r.exit_code == 0, r.output
    assert "Example" in r.stdout
    # an example of the command in a README code block or table
    assert re.search(rf"(^|[`\s])cica-ld {re.escape(command)}(\s|`|$)", README, re.M), command


def test_quick_start_is_two_make_targets_that_exist() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_exit_code_table_matches_the_code() -> None:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    table = dict(re.findall(r"^\| (\d) \| ([^|]+)\|", section, re.M))
    assert table.keys() == {"0", "1", "2", "3", "4"}
    expected = {
        errors.EXIT_OK: "success",
        errors.EXIT_CHECK_FAILED: "check failed",
        errors.EXIT_INPUT: "input error",
        errors.EXIT_EXTERNAL: "external service",
        errors.EXIT_INTERNAL: "internal error",
    }
    for code, words in expected.items():
        assert words in table[str(code)], (code, table[str(code)])
    assert errors.InputError("x").exit_code == errors.EXIT_INPUT
    assert errors.EndpointError("x").exit_code == errors.EXIT_EXTERNAL
