"""`csvanalyst python` in a subprocess: answers, formats, the off switch and refusals, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.test_cli import cli
from tests.support.requires import local_isolation


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


@pytest.fixture
def enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    local_isolation("bwrap")  # Python runs only where the filesystem is isolated
    monkeypatch.setenv("ENABLE_PYTHON_EXECUTION", "1")


def test_pivot_as_json(home: Path, enabled: None) -> None:
    code = "result = orders.pivot_table(index='region', values='quantity', aggfunc='sum')\nprint('done')"
    proc = cli("python", code, "-d", "retail", "--format", "json", home=home)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert [c["name"] for c in payload["columns"]] == ["region", "quantity"]
    assert payload["row_count"] == len({r[0] for r in payload["rows"]}) > 0
    assert "done" in proc.stderr  # prints go to stderr so JSON stays clean


def test_stdin_and_chart_out(home: Path, enabled: None, tmp_path: Path) -> None:
    spec = tmp_path / "chart.json"
    code = "result = products['unit_price'].describe()\nchart = {'mark': 'bar'}"
    proc = cli("python", "-", "-d", "retail", "--format", "csv", "--chart-out", str(spec), stdin=code, home=home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "index,unit_price"
    assert json.loads(spec.read_text()) == {"mark": "bar"}


def test_refusal_is_a_clear_error(home: Path, enabled: None) -> None:
    proc = cli("python", "import os", "-d", "retail", home=home)
    assert proc.returncode == 4 and "Importing 'os' is not allowed" in proc.stderr


def test_disabled_says_how_to_enable(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENABLE_PYTHON_EXECUTION", raising=False)
    monkeypatch.delenv("CSVANALYST_ENABLE_PYTHON", raising=False)
    proc = cli("python", "result = 1", "-d", "retail", home=home)
    assert proc.returncode != 0 and "python_disabled" in proc.stderr and "ENABLE_PYTHON_EXECUTION=1" in proc.stderr
