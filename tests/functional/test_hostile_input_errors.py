"""Bad input that used to crash (exit 1, HTTP 500) gets a clear, specific error, and changes nothing.

The CLI runs as a real subprocess with a non-UTF-8 byte in its argv (what a Latin-1 terminal sends);
the server is real uvicorn on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from csvanalyst.server.app import create_app
from tests.support.live import serve_in_thread

CSV = b"id,status\n1,open\n2,done\n3,open\n"


def cli(*args: str | bytes, home: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "csvanalyst", *args], env=env, capture_output=True, timeout=120)


def listed(home: Path) -> list[str]:
    out = cli("datasets", "list", "--json", home=home)
    assert out.returncode == 0, out.stderr
    return sorted(d["name"] for d in json.loads(out.stdout) if d.get("origin") != "demo")


def test_cli_long_dataset_name_and_non_utf8_sql_are_clear_errors(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "orders.csv"
    data.write_bytes(CSV)
    long_name = cli("datasets", "add", str(data), "--name", "n" * 300, home=home)
    assert long_name.returncode == 2, long_name.stderr
    assert b"at most" in long_name.stderr or b"the most is 64" in long_name.stderr
    assert b"Traceback" not in long_name.stderr and b"internal error" not in long_name.stderr
    assert listed(home) == []
    assert cli("datasets", "add", str(data), "--name", "orders", home=home).returncode == 0
    bad_byte = cli("sql", "-d", "orders", b"SELECT '\xff' AS x", home=home)
    assert bad_byte.returncode == 3, bad_byte.stderr
    assert b"not valid UTF-8" in bad_byte.stderr and b"0xFF" in bad_byte.stderr
    assert b"internal error" not in bad_byte.stderr


def test_cli_pivot_without_values_says_how_to_write_it(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "orders.csv"
    data.write_bytes(CSV)
    assert cli("datasets", "add", str(data), "--name", "orders", home=home).returncode == 0
    dynamic = cli("sql", "-d", "orders", "PIVOT orders ON status USING count(*)", home=home)
    assert dynamic.returncode == 4
    assert b"pivot_values" in dynamic.stderr and b"IN (" in dynamic.stderr and b"MULTI" not in dynamic.stderr
    listed_values = cli(
        "sql", "-d", "orders", "PIVOT orders ON status IN ('open', 'done') USING count(*)", "--format", "csv", home=home
    )
    assert listed_values.returncode == 0, listed_values.stderr
    assert listed_values.stdout.decode().splitlines()[0] == "id,open,done"


def test_server_lone_surrogate_and_long_names_are_client_errors() -> None:
    with serve_in_thread(create_app()) as server, httpx.Client(base_url=server.url) as http:
        runs_before = http.get("/runs").json()
        body = b'{"code": "SELECT \'\\ud800\' AS x", "dataset_id": "retail"}'
        ran = http.post("/runs", content=body, headers={"content-type": "application/json"})
        assert ran.status_code == 422 and ran.json()["code"] == "bad_input", ran.text
        assert "U+D800" in ran.json()["title"]
        assert http.get("/runs").json() == runs_before
        named = http.post("/datasets", files={"file": ("x.csv", CSV, "text/csv")}, data={"name": "n" * 300})
        assert named.status_code == 400 and named.json()["code"] == "usage", named.text
        long_file = http.post("/datasets", files={"file": ("f" * 300 + ".csv", CSV, "text/csv")})
        assert long_file.status_code < 500, long_file.text
