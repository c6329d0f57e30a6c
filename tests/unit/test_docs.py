"""The docs cover the product: every setting, every command and every option of the CLI is named in README.md or
docs/. Exit codes are checked with the error table (test_error_codes.py). A new flag without a word in the docs
fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from csvanalyst.cli.app import app
from csvanalyst.config import Settings

REPO = Path(__file__).resolve().parents[2]


def docs_text() -> str:
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) of every subcommand; Typer's classes are click's, duck-typed so either import works."""
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            if not command.hidden:
                yield (*path, name), command
                yield from commands(command, (*path, name))


CLI = typer.main.get_command(app)
COMMANDS = list(commands(CLI))
OPTIONS = sorted(
    {
        (" ".join(path), max(param.opts, key=len))
        for path, command in COMMANDS
        for param in command.params
        if param.param_type_name == "option"
        and not getattr(param, "hidden", False)
        and max(param.opts, key=len) != "--help"
    }
)


def test_the_walk_finds_the_cli() -> None:
    assert len(COMMANDS) > 20 and len(OPTIONS) > 20


@pytest.mark.parametrize("path", [" ".join(p) for p, c in COMMANDS if not hasattr(c, "commands")])
def test_every_command_is_documented(path: str) -> None:
    assert f"csvanalyst {path}" in docs_text() or _in_command_table(path), f"`csvanalyst {path}` is not documented"


def _in_command_table(path: str) -> bool:
    """A group's subcommands may be listed together, e.g. `csvanalyst runs list|show ID|replay ID`."""
    group, _, sub = path.rpartition(" ")
    if not group:
        return False
    for line in docs_text().splitlines():
        if f"csvanalyst {group} " in line:
            listed = line.split(f"csvanalyst {group} ", 1)[1].split("`", 1)[0]
            if sub in [word.split(" ")[0] for word in listed.split("|")]:
                return True
    return False


@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_every_option_is_documented(command: str, option: str) -> None:
    assert f"`{option}" in docs_text() or f"{option} " in docs_text(), (
        f"`csvanalyst {command} {option}` is not documented"
    )


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    text = docs_text()
    assert f"CSVANALYST_{name.upper()}" in text or f"`{name}`" in text, f"setting {name} is not documented"
