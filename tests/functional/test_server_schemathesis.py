"""Property-based testing of the HTTP API from its own OpenAPI spec (schemathesis), against the real
uvicorn server on loopback with the scripted model and the local sandbox.

Every operation in the spec is exercised with generated (valid and invalid) inputs; the property is
"no 5xx": whatever a client sends, the server answers with a deliberate status (2xx, or a problem JSON
4xx). Bounded: a few examples per operation and a per-example deadline.

Nothing is excluded: `/chat/stream` ends when the scripted turn ends, so its body can be read whole;
uploads are generated as multipart with arbitrary names and bytes, which is the hostile-upload case.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from csvanalyst.config import Settings  # noqa: E402
from csvanalyst.server.app import create_app  # noqa: E402
from csvanalyst.server.limits import ServerLimits  # noqa: E402
from csvanalyst.testing.scripted import ScriptedModel, answer, call  # noqa: E402
from tests.support.live import serve_in_thread  # noqa: E402


def _scripted() -> ScriptedModel:
    return ScriptedModel([call("run_sql", {"sql": "SELECT count(*) AS n FROM orders"}), answer("There are orders.")])


class _NoSandbox:
    """Only to build the spec at import time: no route runs, so nothing is executed."""

    name = "none"

    def close(self) -> None:
        pass


# The spec is the app's own (`app.openapi()`), read without starting anything; each test then calls a
# fresh real server. (`schemathesis.pytest.from_fixture` would load it from the live server, but it
# fails under pytest 9: "'Function' object has no attribute '_nodeid'".)
schema = schemathesis.openapi.from_dict(
    create_app(settings=Settings(home="/nonexistent"), executor=_NoSandbox()).openapi()
)


@pytest.fixture
def base_url() -> Iterator[str]:
    app = create_app(client_factory=_scripted, limits=ServerLimits(heartbeat_s=0.5, max_upload_bytes=256 * 1024))
    with serve_in_thread(app) as live:
        yield live.url


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors(case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=60)
    case.validate_response(response, checks=[not_a_server_error])
