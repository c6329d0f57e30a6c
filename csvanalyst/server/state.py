"""What the routes share: settings, the bounded executor, admission, metrics, how to make a Session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from csvanalyst.config import Settings
from csvanalyst.llm.base import ModelClient
from csvanalyst.observability.metrics import Metrics
from csvanalyst.server.limits import Admission, BoundedExecutor, ServerLimits
from csvanalyst.server.results import ResultCache

if TYPE_CHECKING:
    from csvanalyst.core.session import Session

ClientFactory = Callable[[], ModelClient]


@dataclass
class ServerState:
    settings: Settings
    executor: BoundedExecutor
    limits: ServerLimits
    metrics: Metrics
    admission: Admission
    client_factory: ClientFactory | None = None
    provider: str = "auto"
    model: str | None = None
    results: ResultCache = field(default_factory=ResultCache)

    @property
    def uploads_dir(self) -> Path:
        return self.settings.home / "uploads"

    def session(self) -> Session:
        """A Session per request over the shared sandbox: a model client is not shared between turns."""
        from csvanalyst.core.session import Session

        client = self.client_factory() if self.client_factory is not None else None
        return Session(
            settings=self.settings, provider=self.provider, model=self.model, client=client, executor=self.executor
        )

    @contextmanager
    def admitted(self) -> Iterator[None]:
        self.admission.enter()
        try:
            yield
        finally:
            self.admission.leave()


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.csvanalyst  # set once by the app factory
    return state
