"""DNS rebinding and cross-site requests against a real server on loopback, judged by their effects.

A page elsewhere can make the user's browser send any Host (after rebinding its name to 127.0.0.1),
and cross-site form posts and fetches carry `Origin` and `Sec-Fetch-Site`. Each refused request is
checked for what it left behind (no dataset added, no run recorded), not only for its status.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from csvanalyst.server.app import create_app
from tests.support.live import serve_in_thread

CSV = b"city,temp\nOslo,3.5\nLima,19.0\n"
EVIL = "http://evil.example"
CROSS_SITE = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}


@pytest.fixture
def url() -> Iterator[str]:
    with serve_in_thread(create_app()) as server:
        yield server.url


def names(http: httpx.Client) -> list[str]:
    listing = http.get("/datasets")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    items = body if isinstance(body, list) else body.get("datasets", body.get("items", []))
    return sorted(d["name"] for d in items)


def upload(http: httpx.Client, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post("/datasets", files={"file": (f"{name}.csv", CSV, "text/csv")}, headers=headers or {})


def test_a_rebound_host_name_reads_and_changes_nothing(url: str) -> None:
    with httpx.Client(base_url=url) as http:
        before = names(http)
        rebound = {"Host": "evil.example"}
        read = http.get("/datasets", headers=rebound)
        assert read.status_code == 421 and read.json()["code"] == "bad_host"
        assert "Oslo" not in read.text
        assert upload(http, "rebound", rebound).status_code == 421
        ran = http.post("/runs", json={"code": "SELECT 1", "dataset_id": "retail"}, headers=rebound)
        assert ran.status_code == 421
        assert names(http) == before
        assert http.get("/healthz", headers=rebound).status_code == 200  # probes hold no data
        port = url.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
            assert http.get("/datasets", headers={"Host": host}).status_code == 200, host


def test_allowed_host_adds_a_name() -> None:
    with (
        serve_in_thread(create_app(allowed_hosts=("analyst.lan",))) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert http.get("/datasets", headers={"Host": "analyst.lan:8000"}).status_code == 200
        assert http.get("/datasets", headers={"Host": "other.lan"}).status_code == 421


def test_cross_site_posts_are_refused_and_add_nothing(url: str) -> None:
    with httpx.Client(base_url=url) as http:
        before, runs_before = names(http), http.get("/runs").json()
        for headers in (
            CROSS_SITE,
            {"Origin": EVIL},  # an older browser: Origin only
            {"Sec-Fetch-Site": "cross-site"},  # Origin stripped by a privacy setting
            {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},  # another port is another site
            {"Origin": "null"},  # a sandboxed frame or a file:// page
        ):
            refused = upload(http, "csrf", headers)
            assert refused.status_code == 403 and refused.json()["code"] == "cross_site", headers
            ran = http.post("/runs", json={"code": "SELECT 1", "dataset_id": "retail"}, headers=headers)
            assert ran.status_code == 403, headers
        assert names(http) == before
        assert http.get("/runs").json() == runs_before  # nothing was run


def test_a_browser_without_the_token_is_served_only_from_our_page(url: str) -> None:
    own = {"Origin": url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    with httpx.Client(base_url=url) as http:
        assert http.get("/datasets", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert http.get("/datasets", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
        assert http.get("/datasets", headers={"Sec-Fetch-Site": "none"}).status_code == 200  # typed by the user
        assert upload(http, "mine", own).status_code == 201
        assert "mine" in names(http)
        assert upload(http, "curl").status_code == 201  # not a browser: no Origin, no Sec-Fetch-*
        page = http.get("/", headers={"Sec-Fetch-Site": "cross-site"})  # a link from elsewhere opens the page
        assert page.status_code == 200
        assert "connect-src 'self'" in page.headers["content-security-policy"]


def test_with_a_token_cross_site_writes_are_still_refused() -> None:
    token = "t0ken-value"
    auth = {"Authorization": f"Bearer {token}"}
    with serve_in_thread(create_app(token=token)) as server, httpx.Client(base_url=server.url) as http:
        assert upload(http, "forged", {**CROSS_SITE, **auth}).status_code == 403
        assert http.get("/datasets", headers=CROSS_SITE).status_code == 401  # the token decides reads
        with httpx.Client(base_url=server.url, headers=auth) as reader:
            assert "forged" not in names(reader)


def test_a_configured_cors_origin_may_call() -> None:
    app = create_app(cors_origins=("https://notebook.example",))
    with serve_in_thread(app) as server, httpx.Client(base_url=server.url) as http:
        headers = {"Origin": "https://notebook.example", "Sec-Fetch-Site": "cross-site"}
        assert upload(http, "allowed", headers).status_code == 201
        assert upload(http, "other", CROSS_SITE).status_code == 403
