"""Flags declared once for several commands (csvanalyst/cli/options.py): every command that reads files
shows the seven reader flags in `--help`, in their order, and each one reaches the ReaderOptions the command
works with; `sql`, `plan` and `python` share their query flags. All through the real CLI, in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from csvanalyst.cli.app import app, main
from csvanalyst.cli.options import QUERY_FLAGS, READER_FLAGS, reader_options
from tests.support.requires import local_isolation

READER_COMMANDS = ["sql", "plan", "ask", "chat", "datasets add"]
QUERY_COMMANDS = ["sql", "plan", "python"]
READER_NAMES = [
    "--delimiter",
    "--quote",
    "--escape",
    "--header",
    "--skip-rows",
    "--encoding",
    "--decimal",
]  # fmt: skip
# one value each flag refuses, and the words of the refusal: a flag that never reaches ReaderOptions is not refused
BAD_VALUES = [
    ("--delimiter", "abcde", "--delimiter 'abcde'"),
    ("--quote", "ab", "--quote 'ab'"),
    ("--escape", "ab", "--escape 'ab'"),
    ("--skip-rows", "-1", "--skip-rows -1"),
    ("--encoding", "klingon", "--encoding 'klingon'"),
    ("--decimal", ";", "--decimal ';'"),
]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(args, exit_process=False)
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, out.err


def command(path: str) -> typer.core.TyperCommand:
    found = typer.main.get_command(app)
    for word in path.split():
        found = found.commands[word]  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


def option_names(path: str) -> list[str]:
    return [max(p.opts, key=len) for p in command(path).params if p.param_type_name == "option"]


@pytest.mark.parametrize("path", READER_COMMANDS)
def test_reader_flags_are_listed_together_in_their_order(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    names = option_names(path)
    assert set(READER_NAMES) <= set(names), f"{path} lacks {set(READER_NAMES) - set(names)}"
    first = names.index(READER_NAMES[0])
    assert names[first : first + len(READER_NAMES)] == READER_NAMES
    code, out, _ = run([*path.split(), "--help"], capsys)
    assert code == 0
    positions = [out.index(name) for name in READER_NAMES]
    assert positions == sorted(positions), out


@pytest.mark.parametrize("path", READER_COMMANDS)
def test_reader_flags_keep_their_help_and_defaults(path: str) -> None:
    params = {p.name: p for p in command(path).params}
    for name, (option, default) in READER_FLAGS.items():
        declared = option.__metadata__[0]
        assert params[name].help == declared.help
        assert params[name].default == default


@pytest.mark.parametrize("path", QUERY_COMMANDS)
def test_query_flags_are_shared_in_their_order(path: str) -> None:
    params = [p for p in command(path).params if p.param_type_name == "option"]
    names = [p.name for p in params]
    first = names.index("dataset")
    assert names[first : first + len(QUERY_FLAGS)] == list(QUERY_FLAGS)
    for param in params[first : first + len(QUERY_FLAGS)]:
        option, default = QUERY_FLAGS[param.name]  # type: ignore[index]
        assert param.help == option.__metadata__[0].help and param.default == default


@pytest.fixture
def semicolons(tmp_path: Path) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text("item;price\npen;1,5\ncup;2,25\n", encoding="utf-8")
    return path


def command_line(path: str, data: Path, tmp_path: Path) -> list[str]:
    """The command `path` over `data`, ready for reader flags."""
    if path == "sql":
        return ["sql", "SELECT * FROM prices", "--file", str(data)]
    if path == "plan":
        plan = tmp_path / "plan.json"
        plan.write_text(json.dumps({"table": "prices", "limit": 5}), encoding="utf-8")
        return ["plan", str(plan), "--file", str(data)]
    if path == "ask":
        return ["ask", "how many rows", "--file", str(data), "--provider", "offline", "--show-prompt"]
    if path == "datasets add":
        return ["datasets", "add", str(data), "--name", "prices"]
    return ["chat", "--file", str(data)]


@pytest.mark.parametrize(("flag", "value", "words"), BAD_VALUES)
@pytest.mark.parametrize("path", READER_COMMANDS)
def test_each_reader_flag_reaches_the_reader_options(
    path: str,
    flag: str,
    value: str,
    words: str,
    semicolons: Path,
    tmp_path: Path,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run([*command_line(path, semicolons, tmp_path), flag, value], capsys)
    assert code == 2, err
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("path", ["sql", "plan"])
def test_query_commands_read_the_file_as_told(
    path: str, semicolons: Path, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--delimiter", ";", "--no-header", "--format", "csv"]
    code, out, err = run([*command_line(path, semicolons, tmp_path), *flags], capsys)
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header == "column_1,column_2"
    assert sorted(rows) == sorted(["item,price", 'pen,"1,5"', 'cup,"2,25"'])


def test_ask_sees_the_file_as_told(semicolons: Path, tmp_path: Path, isolated_home: Path, capsys) -> None:
    code, out, err = run([*command_line("ask", semicolons, tmp_path), "--no-header", "--delimiter", ";"], capsys)
    assert code == 0, err
    assert "column_1" in out and "column_2" in out and "item" in out


def test_datasets_add_registers_the_file_as_told(
    semicolons: Path, tmp_path: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        [*command_line("datasets add", semicolons, tmp_path), "--decimal", ",", "--delimiter", ";"], capsys
    )
    assert code == 0, err
    from csvanalyst.catalog.registry import get_dataset

    table = get_dataset("prices").tables[0]
    assert [c.name for c in table.columns] == ["item", "price"]
    assert table.row_count == 2
    assert table.columns[1].type.startswith(("DOUBLE", "DECIMAL")), table.columns[1].type


def test_python_keeps_its_query_flags(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    local_isolation("bwrap")  # Python runs only where the filesystem is isolated
    monkeypatch.setenv("ENABLE_PYTHON_EXECUTION", "1")
    args = ["python", "result = orders[['order_id']]", "-d", "retail", "--format", "json", "--max-rows", "2"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    payload = json.loads(out)
    assert len(payload["rows"]) == 2 and payload["truncated"] is True


def test_a_command_without_the_grouped_parameter_is_refused() -> None:
    def no_reader(dataset: str | None = None) -> None:
        """Declares no `reader`, so there is no place to put the flags."""

    with pytest.raises(TypeError, match="no parameter 'reader'"):
        reader_options(no_reader)
