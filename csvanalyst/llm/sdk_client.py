"""What the OpenAI and Anthropic adapters share: the loopback guard, lazy SDK, and our own retries.

Each adapter resolves its key (their rules differ), builds its SDK client and names the SDK call; the
retry policy, the failure classification and the masked `Provider` description live here once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from csvanalyst.llm.base import ModelSettings
from csvanalyst.llm.failures import Provider, classify
from csvanalyst.llm.guard import check_allowed
from csvanalyst.llm.retry import Attempts, Backoff, call_with_retries


class SdkClient:
    label: ClassVar[str]  # "OpenAI", as errors name the provider
    key_env: ClassVar[str]
    url_env: ClassVar[str]
    sdk_module: ClassVar[str]  # imported on first request only: the CLI must start without it

    def __init__(self, model: str, *, key: str, base_url: str, backoff: Backoff | None) -> None:
        check_allowed(base_url or None, self.label)
        self.base_url = base_url
        self.model = model
        self._key = key
        self.backoff = backoff or Backoff()
        self.attempts = Attempts()
        self._sdk: Any = None

    def _client(self) -> Any:
        if self._sdk is None:
            self._sdk = self._new_sdk(importlib.import_module(self.sdk_module))
        return self._sdk

    def _new_sdk(self, sdk: Any) -> Any:
        """The SDK client, with the SDK's own retries off: retries are ours (retry.py)."""
        raise NotImplementedError

    def _create(self) -> Callable[..., Any]:
        """The SDK call one request goes through."""
        raise NotImplementedError

    def _who(self, model: str) -> Provider:
        return Provider(self.label, self.key_env, self.url_env, self._key, self.base_url, model)

    def _call(self, settings: ModelSettings, who: str, **kwargs: Any) -> Any:
        sdk = importlib.import_module(self.sdk_module)
        return call_with_retries(
            partial(self._create(), timeout=settings.timeout_s, **kwargs),
            classify=lambda exc: classify(exc, sdk),
            who=self._who(who),
            max_retries=settings.max_retries,
            backoff=self.backoff,
            attempts=self.attempts,
            timeout_s=settings.timeout_s,
        )
