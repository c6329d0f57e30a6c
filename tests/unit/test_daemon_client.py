"""The console-script client decides, before importing anything heavy, whether a command goes to the
background worker: only sql, ask and plan; only when asked (`--daemon` or the setting); never with
`--no-daemon`. Every case where the answer is no runs the command in-process, as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.daemon import client, wire

pytestmark = pytest.mark.skipif(not wire.supported(), reason="the background worker needs Linux (SO_PEERCRED)")


@pytest.mark.parametrize(
    ("argv", "setting", "forwarded"),
    [
        (["sql", "SELECT 1", "-d", "retail"], "0", False),
        (["sql", "SELECT 1", "-d", "retail"], "1", True),
        (["sql", "SELECT 1", "-d", "retail", "--daemon"], "0", True),
        (["ask", "how many", "-d", "retail", "--daemon"], None, True),
        (["plan", "-", "-d", "retail"], "true", True),
        (["sql", "SELECT 1", "--no-daemon"], "1", False),
        (["sql", "SELECT 1", "--daemon", "--no-daemon"], "1", False),
        (["sql", "--", "--no-daemon"], "1", True),  # after `--` it is the query's text, not an option
        (["runs", "list", "--daemon"], "1", False),
        (["chat", "-d", "retail"], "1", False),
        (["python", "print(1)"], "1", False),
        ([], "1", False),
        (["sql", "SELECT 1"], "maybe", False),  # the in-process run reports the bad value
    ],
)
def test_which_commands_go_to_the_worker(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], setting: str | None, forwarded: bool
) -> None:
    if setting is None:
        monkeypatch.delenv("CSVANALYST_DAEMON", raising=False)
    else:
        monkeypatch.setenv("CSVANALYST_DAEMON", setting)
    assert client.wants_worker(argv) is forwarded


def test_off_by_default_and_the_config_file_turns_it_on(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    monkeypatch.delenv("CSVANALYST_DAEMON", raising=False)
    assert not client.enabled()
    (isolated_home / "config.toml").write_text('model = "x"\ndaemon = true\n')
    assert client.enabled()
    monkeypatch.setenv("CSVANALYST_DAEMON", "0")  # the environment wins over the file, as for Settings
    assert not client.enabled()


def test_the_client_imports_only_the_standard_library() -> None:
    probe = "import sys, csvanalyst.daemon.client; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    heavy = {"pydantic", "typer", "click", "rich", "duckdb", "sqlglot", "platformdirs", "csvanalyst.cli"}
    assert not loaded & heavy, loaded & heavy


def test_the_version_is_the_same_from_any_working_directory(tmp_path: Path) -> None:
    assert wire.code_version() == wire.code_version()
    probe = "from csvanalyst.daemon import wire; print(wire.code_version())"
    other_cwd = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert other_cwd.stdout.strip() == wire.code_version(), "the working directory must not change the version"
