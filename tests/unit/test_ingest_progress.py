"""Ingest progress: bytes and (about) rows read, reported while a file is read; shown on stderr by the
CLI when stderr is a terminal (a real pseudo-terminal here), and never written into piped output."""

from __future__ import annotations

import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.progress import reporting


def _csv(path: Path, rows: int) -> Path:
    path.write_text("id,city,amount\n" + "".join(f"{i},City {i % 7},{i * 0.5}\n" for i in range(rows)))
    return path


def test_reads_report_bytes_and_rows_to_the_installed_callback(tmp_path: Path) -> None:
    path = _csv(tmp_path / "sales.csv", 20_000)
    seen: list[tuple[str, float]] = []
    with reporting(lambda message, fraction: seen.append((message, fraction))):
        file_dataset([path])
    assert seen and seen[-1][1] == 1.0
    size_kb = path.stat().st_size / 1024
    assert f"of {size_kb:.1f} KB" in seen[-1][0] and "rows" in seen[-1][0], seen[-1]
    estimated = int(seen[-1][0].split("~")[1].split(" rows")[0].replace(",", ""))
    assert 15_000 < estimated < 25_000  # estimated from the head's bytes per row


def test_the_cli_shows_progress_on_a_terminal_and_not_in_a_pipe(tmp_path: Path) -> None:
    path = _csv(tmp_path / "sales.csv", 20_000)
    cli = str(Path(sys.executable).with_name("csvanalyst"))
    query = [cli, "sql", "SELECT count(*) AS n FROM sales", "--file", str(path), "--format", "csv"]
    leader, follower = pty.openpty()
    with subprocess.Popen(query, stdout=subprocess.PIPE, stderr=follower) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        out = process.stdout.read() if process.stdout else b""
    os.close(leader)
    assert process.returncode == 0 and out.decode().split() == ["n", "20000"]
    assert b"Reading sales.csv" in shown and b"rows" in shown, shown
    piped = subprocess.run(query, capture_output=True, text=True, check=True)
    assert "Reading" not in piped.stderr
    cached = file_dataset([path])  # the CLI's read was cached: the same table, no second read
    assert cached.tables[0].row_count == 20_000


def test_the_tui_status_bar_gets_progress_when_a_file_is_read(tmp_path: Path) -> None:
    from csvanalyst.core.query import DataScope
    from csvanalyst.tui import jobs
    from csvanalyst.tui import messages as msg

    path = _csv(tmp_path / "sales.csv", 20_000)
    posted: list[object] = []
    jobs.load_dataset(posted.append, DataScope(files=(path,)), switch=False)
    stages = [m.stage for m in posted if isinstance(m, msg.DatasetProgress)]
    assert any("Reading sales.csv" in s and "rows" in s for s in stages), stages
    assert isinstance(posted[-1], msg.DatasetReady) and posted[-1].info.tables[0].row_count == 20_000


def test_a_server_upload_logs_its_ingest_progress(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from csvanalyst.server.app import create_app

    path = _csv(tmp_path / "sales.csv", 20_000)
    logged = caplog.at_level(logging.INFO, logger="csvanalyst.server.ingest")
    with logged, TestClient(create_app(), base_url="http://127.0.0.1") as client, path.open("rb") as handle:
        response = client.post("/datasets", files={"file": ("sales.csv", handle)}, data={"name": "up"})
    assert response.status_code == 201, response.text
    lines = [r.getMessage() for r in caplog.records if r.name == "csvanalyst.server.ingest"]
    assert any("Reading sales.csv" in line and "rows (100%)" in line for line in lines), lines
    assert len(lines) < 20  # a few lines per file, not one per poll
