"""The docs cover the product, and hold together.

Every setting, command and option of the CLI is named in README.md or docs/; the generated reference pages
(docs/cli.md, docs/configuration.md: `make docs`) match the code and give each option and setting its text;
every environment variable the code reads is documented; every exit code is in docs/exit-codes.md (its table
is checked code by code in test_error_codes.py); the TUI page lists every key the app binds. And every
relative link of README.md, AGENTS.md, CONTRIBUTING.md and docs/*.md reaches an existing file and heading,
and every page under docs/ is one link away from README.md. A new flag, key or page without its docs fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from csvanalyst.cli.app import app
from csvanalyst.config import Settings
from tests.support.markdown_links import broken_links

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
GENERATED = ("cli.md", "configuration.md")  # written by `make docs` (csvanalyst/cli/reference.py)
LINKED_PAGES = [REPO / "README.md", REPO / "AGENTS.md", REPO / "CONTRIBUTING.md", *sorted(DOCS.rglob("*.md"))]


def docs_text() -> str:
    pages = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
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


@pytest.mark.parametrize("page", GENERATED)
def test_the_generated_reference_pages_match_the_code(page: str) -> None:
    from csvanalyst.cli.reference import PAGES

    assert (DOCS / page).read_text(encoding="utf-8") == PAGES[page](), f"docs/{page} is stale: run `make docs`"


def test_every_command_and_option_has_the_text_the_reference_prints() -> None:
    """The generated page documents an option by its help text: an option without one is a bare name there."""
    silent = [" ".join(path) for path, command in COMMANDS if not (command.help or "").strip()]
    silent += [
        f"{' '.join(path)} {max(param.opts, key=len)}"
        for path, command in COMMANDS
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "hidden", False) and not (param.help or "").strip()
    ]
    assert not silent, f"no help text: {silent}"


def test_every_setting_has_a_description() -> None:
    assert not [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]


# Names the code sets or passes inside its own sandboxes, never read from a user's environment.
INTERNAL_VARIABLES = {
    "CSVANALYST_REQUEST": "the run's request, handed to the runner in a Job or microVM",
    "CSVANALYST_SCRATCH": "the run's private temp dir, set by the host for the runner",
    "CSVANALYST_PRIVATE_TMP": "set by the host for the runner",
}


def test_every_environment_variable_the_code_names_is_documented() -> None:
    import re

    package = REPO / "csvanalyst"
    pattern = re.compile(
        r"[\"'](CSVANALYST_[A-Z0-9_]+|OPENAI_[A-Z_]+|ANTHROPIC_[A-Z_]+|MLFLOW_(?:ENABLED|TRACKING_URI|EXPERIMENT_NAME))[\"']"
    )
    named = {m for path in package.rglob("*.py") for m in pattern.findall(path.read_text(encoding="utf-8"))}
    assert {"CSVANALYST_HOME", "OPENAI_API_KEY", "CSVANALYST_TOKEN"} <= named  # the scan itself works
    text = docs_text()
    missing = sorted(name for name in named - set(INTERNAL_VARIABLES) if f"`{name}`" not in text)
    assert not missing, f"environment variables read by the code but not documented: {missing}"


def test_every_exit_code_is_on_the_exit_code_page_and_readme_links_it() -> None:
    from csvanalyst.errors import ErrorCode
    from tests.unit.test_error_codes import documented_exit_codes

    documented = documented_exit_codes((DOCS / "exit-codes.md").read_text(encoding="utf-8"))
    assert {code.exit_code for code in ErrorCode} <= set(documented.values())
    assert "(docs/exit-codes.md)" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_tui_page_lists_every_key_the_app_binds_and_every_slash_command() -> None:
    from csvanalyst.tui.app import AnalystApp
    from csvanalyst.tui.commands import COMMANDS as SLASH_COMMANDS
    from csvanalyst.tui.screens.help import key_sections

    page = (DOCS / "tui.md").read_text(encoding="utf-8")
    rows = [
        row
        for _title, section in key_sections(AnalystApp.BINDINGS, AnalystApp.COMMAND_PALETTE_BINDING)
        for row in section
    ]
    assert len(rows) > 10
    missing = [f"{keys}: {text}" for keys, text in rows if f"| `{keys}` | {text} |" not in page]
    assert not missing, f"keys bound in csvanalyst/tui but not in docs/tui.md: {missing}"
    assert not [name for name in SLASH_COMMANDS if f"| `{name}" not in page]


@pytest.mark.parametrize("page", LINKED_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    assert page.exists(), f"{page.name} is missing"
    assert broken_links(page, REPO) == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "b.md").write_text("# B page\n\n## `csvanalyst ask`: details\n")
    page = tmp_path / "a.md"
    page.write_text(
        "# A\n\n## Two words\n\n[ok](docs/b.md#csvanalyst-ask-details) [ok](#two-words) [web](https://x.org/y)\n"
        "[gone](docs/c.md) [no heading](docs/b.md#nothing) [no local](#three) ![img](docs/pic.png)\n"
    )
    assert broken_links(page, tmp_path) == [
        "docs/c.md: no such file",
        "docs/b.md#nothing: no heading 'nothing' in docs/b.md",
        "#three: no heading 'three' in a.md",
        "docs/pic.png: no such file",
    ]


def test_every_docs_page_is_one_link_from_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    unlinked = [page.name for page in sorted(DOCS.glob("*.md")) if f"](docs/{page.name})" not in readme]
    assert not unlinked, f"pages README.md does not link: {unlinked}"
