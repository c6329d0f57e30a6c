"""The server never shows a client where it keeps files, nor the CLI's flags: errors, SSE error events
and schemas name files by their names and request fields by their names."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from csvanalyst.config import get_settings
from csvanalyst.server.app import create_app
from csvanalyst.server.public import public_text


def _no_server_path(text: str) -> None:
    home = str(get_settings().home)
    assert home not in text and "/uploads/" not in text and "/cache/" not in text, text


def test_upload_errors_and_schemas_carry_no_server_paths_or_cli_flags(isolated_home: Path) -> None:
    with TestClient(create_app(), base_url="http://127.0.0.1") as http:  # a host the server accepts
        binary = http.post("/datasets", files={"file": ("x.csv", b"\x00\x01binary\xff", "text/csv")})
        assert binary.status_code == 422
        assert binary.json()["title"].startswith("x.csv is not a CSV file")
        _no_server_path(binary.text)
        taken = http.post("/datasets", files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}, data={"name": "retail"})
        assert taken.status_code == 400 and "--" not in taken.json()["detail"] and "`name` field" in taken.text
        schema = http.get("/datasets/retail/schema").json()
        _no_server_path(json.dumps(schema))
        assert all("cache" not in t and "/" not in t["file"] for t in schema["tables"])
        _no_server_path(json.dumps(http.get("/datasets").json()))
        with http.stream(
            "POST", "/chat/stream", json={"message": "SQL: SELECT * FROM nowhere", "dataset_id": "retail"}
        ) as stream:
            body = "".join(stream.iter_text())
        assert "event: error" in body
        _no_server_path(body)


def test_public_text_keeps_urls_and_media_types() -> None:
    assert public_text("see https://example.org/a/b and text/csv") == "see https://example.org/a/b and text/csv"
    assert public_text("/srv/data/uploads/9f/x.csv: bad") == "x.csv: bad"
    assert public_text("use --max-rows N") == "use the `max_rows` field N"
