"""The script a `WireServer` plays back: what the fake provider answers, one reply per request.

Kept provider-neutral so one script drives both the OpenAI and the Anthropic wire formats; the
formatters in `wire_openai.py` and `wire_anthropic.py` turn a `Reply` into each provider's bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScriptedCall:
    """A tool call the fake model makes.

    `arguments` as a dict is sent as valid JSON; as a str it is sent verbatim, which is how a test
    produces malformed arguments (truncated JSON, JSON wrapped in prose).
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class Reply:
    """One scripted response.

    `stop` is the provider's own stop value, sent unchanged to both formats (so a test can send an
    unknown one); None picks the natural value (`stop`/`tool_calls`, `end_turn`/`tool_use`).
    A `status` other than 200 answers with that HTTP error in the provider's error format, with an
    optional `Retry-After` header.
    """

    text: str = ""
    tool_calls: Sequence[ScriptedCall] = ()
    stop: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    model: str | None = None  # None: echo the requested model
    status: int = 200
    retry_after: float | str | None = None
    error_message: str = ""
    error_code: str | None = None  # OpenAI's `code` (e.g. model_not_found); Anthropic's error `type`
    chunks: Sequence[str] | None = None  # how streamed text is split; None: word by word
    delay_s: float = 0.0  # wait before answering (latency, client timeouts)
    fail_midstream: str | None = None  # streaming only: send an error event with this message after the text

    def text_chunks(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return [piece for piece in re.findall(r"\S+\s*|\s+", self.text) if piece]

    def retry_after_header(self) -> str | None:
        if self.retry_after is None:
            return None
        value = self.retry_after
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)


def split_fragments(text: str, size: int = 7) -> list[str]:
    """Cut tool-call arguments into small pieces, as providers stream them."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
