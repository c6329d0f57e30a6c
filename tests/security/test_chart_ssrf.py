"""Chart specs from runs and models cannot make the host (or the page) fetch anything.

A real HTTP listener on loopback, in its own process (vl-convert holds the GIL while it fetches, so a
listener thread here could never answer), records every request line. Hostile specs point data,
lookups, images, links and embed options at it; rendering them with the real vl-convert, and running
one inside the real bwrap sandbox as a Python run's chart, must leave the listener without a request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from csvanalyst.events import Chart
from csvanalyst.viz.render import render_bytes

LISTENER = r"""
import http.server, sys
log = open(sys.argv[1], "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(b"a,b,img\nLEAKED,5,x\n")
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


@dataclass
class Listener:
    url: str
    log: Path

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    log = tmp_path / "requests.log"
    log.touch()
    proc = subprocess.Popen([sys.executable, "-c", LISTENER, str(log)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield Listener(f"http://127.0.0.1:{port}", log)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def hostile_specs(base: str) -> dict[str, dict]:
    enc = {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}
    inline = {"values": [{"a": "k", "b": 1, "img": f"{base}/field.png"}]}
    return {
        "data_url": {"data": {"url": f"{base}/data.csv"}, "mark": "bar", "encoding": enc},
        "lookup_url": {
            "data": inline,
            "transform": [
                {"lookup": "a", "from": {"data": {"url": f"{base}/lookup.csv"}, "key": "a", "fields": ["b"]}}
            ],
            "mark": "bar",
            "encoding": enc,
        },
        "image_value": {
            "data": inline,
            "mark": {"type": "image", "width": 10, "height": 10},
            "encoding": {**enc, "url": {"value": f"{base}/value.png"}},
        },
        "image_field": {"data": inline, "mark": "image", "encoding": {**enc, "url": {"field": "img"}}},
        "layered_url": {"layer": [{"data": {"url": f"{base}/layer.csv"}, "mark": "point", "encoding": enc}]},
        "href": {"data": inline, "mark": "bar", "encoding": {**enc, "href": {"value": f"{base}/href"}}},
        "usermeta": {"data": inline, "mark": "bar", "encoding": enc, "usermeta": {"embedOptions": {"loader": {}}}},
    }


def urls_in(spec: object) -> list[str]:
    text = json.dumps(spec)
    return [key for key in ('"url"', '"href"', '"usermeta"', '"image"') if key in text]


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_rendering_hostile_specs_fetches_nothing(listener: Listener, fmt: str) -> None:
    for name, spec in hostile_specs(listener.url).items():
        out = render_bytes(spec, fmt)
        assert out, name
        assert b"LEAKED" not in out, name
    assert listener.requests() == []


def test_vl_convert_itself_may_load_no_url(listener: Listener) -> None:
    """Behind the spec filter: vl-convert is called with an empty allow-list of base URLs."""
    import vl_convert as vlc

    from csvanalyst.viz.render import NO_URLS

    spec = hostile_specs(listener.url)["data_url"]
    with pytest.raises(Exception, match=r"(?i)url|allowed|permission|access"):
        vlc.vegalite_to_svg(spec, allowed_base_urls=NO_URLS)
    assert listener.requests() == []


def test_every_chart_event_carries_inline_data_only(listener: Listener) -> None:
    for name, spec in hostile_specs(listener.url).items():
        assert urls_in(Chart(run_id="r", spec=spec).spec) == [], name


def test_a_python_runs_chart_reaches_the_host_without_urls(listener: Listener, tmp_path: Path) -> None:
    from csvanalyst.catalog.schema import TableSource
    from csvanalyst.executors.base import RunRequest
    from csvanalyst.executors.local.executor import LocalExecutor, available_modes
    from tests.integration.docker_support import unavailable

    if available_modes()["bwrap"] is not None:
        unavailable(f"Python runs need the bwrap sandbox here: {available_modes()['bwrap']}")
    data = tmp_path / "t.csv"
    data.write_text("a,b\nk,1\n")
    spec = hostile_specs(listener.url)["data_url"]
    code = f"result = 1\nchart = {spec!r}"
    with LocalExecutor("bwrap") as executor:
        result = executor.run(
            RunRequest(kind="python", code=code, tables={"t": TableSource(path=str(data), format="csv")})
        )
    assert result.status == "ok", result.error
    assert result.chart is not None and urls_in(result.chart) == []
    assert b"LEAKED" not in render_bytes(result.chart, "svg")
    assert listener.requests() == []
