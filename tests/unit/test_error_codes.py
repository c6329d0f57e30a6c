"""One table of error codes: every code has one exit code and one HTTP status, every code the product raises
or emits is in it, and docs/exit-codes.md (the page README links for them) documents each."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import csvanalyst
from csvanalyst.cli.diagnostics import turn_exit_code
from csvanalyst.errors import CsvAnalystError, ErrorCode, exit_code_for
from csvanalyst.server.problems import http_status

PACKAGE = Path(csvanalyst.__file__).parent
EXIT_CODES_PAGE = PACKAGE.parent / "docs" / "exit-codes.md"
# Codes of a run's own error (sql_error, cpu_limit, ...) live in the run capsule, not in the product's error tree.
RUN_LEVEL = ("runner", "executors", "testing")


def test_every_code_has_an_exit_code_and_an_http_status() -> None:
    assert all(0 < code.exit_code < 256 for code in ErrorCode)
    assert all(400 <= code.http_status < 600 for code in ErrorCode)
    assert len({code.value for code in ErrorCode}) == len(ErrorCode)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_each_code_maps_through_the_error_tree(code: ErrorCode) -> None:
    exc = CsvAnalystError("m", code=code.value)
    assert exc.exit_code == code.exit_code == exit_code_for(code.value)
    assert http_status(code.value) == code.http_status
    status = "cancelled" if code is ErrorCode.CANCELLED else "failed"
    assert turn_exit_code(status, code.value, ran=False) == code.exit_code


def test_an_unknown_code_is_a_bug_not_a_user_error() -> None:
    assert exit_code_for("no_such_code") == 1
    assert http_status("no_such_code") == 500


def test_turn_statuses() -> None:
    assert turn_exit_code("answered", None, ran=True) == 0
    assert turn_exit_code("declined", None, ran=False) == 7
    assert turn_exit_code("cancelled", None, ran=False) == 130
    assert turn_exit_code("failed", None, ran=True) == 5


def _literal_codes() -> set[tuple[str, str]]:
    """(file, code) for every `code="..."` keyword and every `code = "..."` class attribute outside run-level code."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] in RUN_LEVEL:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = None
            if (isinstance(node, ast.keyword) and node.arg == "code") or (
                isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["code"]
            ):
                value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add((str(path.relative_to(PACKAGE)), value.value))
    return found


def test_every_code_written_in_the_source_is_in_the_table() -> None:
    literals = _literal_codes()
    assert len(literals) > 10  # the walk found the error tree's codes
    unknown = sorted((f, c) for f, c in literals if c not in set(ErrorCode))
    assert not unknown, f"codes outside ErrorCode: {unknown}"


def documented_exit_codes(page: str) -> dict[str, int]:
    """code -> exit code, read from the rows of the page's table (`| 3 | `bad_input` `not_found` | ... |`)."""
    documented: dict[str, int] = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            for code in re.findall(r"`([a-z_]+)`", cells[1]):
                documented[code] = int(cells[0])
    return documented


def test_the_docs_document_every_code_with_its_exit_code() -> None:
    documented = documented_exit_codes(EXIT_CODES_PAGE.read_text(encoding="utf-8"))
    assert documented == {code.value: code.exit_code for code in ErrorCode}


def test_the_table_reader_notices_a_missing_or_moved_code() -> None:
    page = EXIT_CODES_PAGE.read_text(encoding="utf-8")
    assert documented_exit_codes(page.replace("`not_found`", "")) != {c.value: c.exit_code for c in ErrorCode}
    assert documented_exit_codes(page.replace("| 3 |", "| 4 |"))["not_found"] == 4
