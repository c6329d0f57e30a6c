"""Helpers for testing code built on csvanalyst, with no paid API and no network.

- `ScriptedModel` (with `call`, `answer`, `last_tool_result`): a ModelClient that replays a script of turns,
  for driving `Session.ask` or the agent loop in a test.
- `WireServer` (with `Reply`, `ScriptedCall`): a loopback HTTP server that speaks the OpenAI Chat Completions
  and Anthropic Messages wire formats, so the real `openai`/`anthropic` SDKs, or any OpenAI-compatible client,
  can be pointed at it (`OPENAI_BASE_URL=server.openai_url`, `ANTHROPIC_BASE_URL=server.url`).

Stand-ins that only this project's own suite needs (a Kubernetes API server, a Docker-played kubelet, a
server process runner) live in the repository's tests/support/ and are not installed.
"""

from csvanalyst.testing.scripted import ScriptedModel, ScriptExhausted, answer, call, last_tool_result
from csvanalyst.testing.wire_script import Reply, ScriptedCall
from csvanalyst.testing.wire_server import RecordedRequest, WireServer

__all__ = [
    "RecordedRequest",
    "Reply",
    "ScriptExhausted",
    "ScriptedCall",
    "ScriptedModel",
    "WireServer",
    "answer",
    "call",
    "last_tool_result",
]
