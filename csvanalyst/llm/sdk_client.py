"""What the OpenAI and Anthropic adapters share: key and URL lookup, the loopback guard, lazy SDK, our own
retries and the streaming loop.

Each adapter names its provider, settings and SDK call, builds its SDK client and reads the SDK's replies;
the retry policy, the failure classification and the masked `Provider` description live here once.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, ClassVar, Protocol

from csvanalyst.errors import ModelError
from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolSpec, Turn
from csvanalyst.llm.failures import Provider, classify, stream_error
from csvanalyst.llm.guard import check_allowed
from csvanalyst.llm.retry import Attempts, Backoff, call_with_retries


class StreamedTurn(Protocol):
    """An adapter's accumulator of one streamed reply: text as it comes, then the whole Turn."""

    def __init__(self, model: str) -> None: ...

    def add(self, item: Any) -> Iterator[TextChunk]: ...

    def turn(self) -> Turn: ...


class SdkClient:
    provider: str  # "openai": names its settings (`openai_base_url`, OPENAI_MODEL)
    label: ClassVar[str]  # "OpenAI", as errors name the provider
    key_env: ClassVar[str]
    url_env: ClassVar[str]
    no_key_hint: ClassVar[str]  # what to do when no key is found
    fallback_model: ClassVar[str]  # the model when no setting names one
    sdk_module: ClassVar[str]  # imported on first request only: the CLI must start without it
    sdk_error: ClassVar[str]  # the SDK's base exception class, by name
    streamed_turn: ClassVar[type[StreamedTurn]]  # built with the model name, fed each streamed item
    stream_options: ClassVar[dict[str, Any]] = {}  # extra arguments of a streamed request

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        from csvanalyst.config import provider_setting

        base_url = (base_url or provider_setting(f"{self.provider}_base_url")).rstrip("/")
        key = api_key or os.environ.get(self.key_env) or self._key_without_env(base_url)
        if not key:
            raise ModelError(f"No {self.label} API key: {self.key_env} is not set.", hint=self.no_key_hint)
        check_allowed(base_url or None, self.label)
        self.base_url = base_url
        self.model = model or self.default_model()
        self._key = key
        self.backoff = backoff or Backoff()
        self.attempts = Attempts()
        self._sdk: Any = None

    @classmethod
    def default_model(cls) -> str:
        from csvanalyst.config import model_setting

        return model_setting(cls.provider) or cls.fallback_model

    def _key_without_env(self, base_url: str) -> str:
        """The key to send when neither the caller nor the environment gives one; "" refuses to start."""
        return ""

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

    def _kwargs(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> dict[str, Any]:
        """The SDK call's arguments for one request."""
        raise NotImplementedError

    def stream(
        self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings
    ) -> Iterator[TextChunk | Turn]:
        model = settings.model or self.model
        kwargs = self._kwargs(messages, tools, settings)
        items = self._call(settings, model, stream=True, **self.stream_options, **kwargs)
        turn = self.streamed_turn(model)
        sdk_error = getattr(importlib.import_module(self.sdk_module), self.sdk_error)
        try:
            with items:
                for item in items:
                    yield from turn.add(item)
        except sdk_error as exc:
            raise stream_error(exc, self._who(model)) from exc
        yield turn.turn()

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
