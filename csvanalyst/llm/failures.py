"""What went wrong when a provider call failed, and the `ModelError` a user reads for it.

Both SDKs share the same exception shape (APIStatusError with status and headers, APIConnectionError,
APITimeoutError), so one classifier serves both; the adapter passes its SDK module in.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from types import ModuleType
from typing import Any, Literal

from csvanalyst.errors import ModelError

Kind = Literal["auth", "not_found", "rate_limit", "server", "timeout", "connection", "bad_request"]
RETRYABLE: frozenset[str] = frozenset({"rate_limit", "server", "timeout", "connection"})


@dataclass(frozen=True)
class Provider:
    """Who we were talking to, for error messages (never the key itself)."""

    label: str  # "OpenAI", "Anthropic"
    key_env: str  # "OPENAI_API_KEY"
    base_url_env: str  # "OPENAI_BASE_URL"
    key: str
    base_url: str
    model: str


@dataclass(frozen=True)
class Failure:
    kind: Kind
    status: int | None
    detail: str
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def mask_key(key: str | None) -> str:
    """`sk-…abcd`: enough to tell keys apart, never enough to use one."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…"
    return f"{key[:3]}…{key[-4:]}"


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError):
        return None


def _detail(body: object, fallback: str) -> str:
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    return fallback[:300]


def _status_kind(status: int, body: object) -> Kind:
    code = body.get("error", body) if isinstance(body, dict) else {}
    code = code.get("code") if isinstance(code, dict) else None
    if status in (401, 403):
        return "auth"
    if status == 404 or code == "model_not_found":
        return "not_found"
    if status in (408, 409, 429):
        return "rate_limit" if status == 429 else "server"
    return "server" if status >= 500 else "bad_request"


def classify(exc: BaseException, sdk: ModuleType) -> Failure | None:
    """A `Failure` for the SDK's own errors; None for anything else (a bug, not a provider problem)."""
    if isinstance(exc, sdk.APITimeoutError):
        return Failure("timeout", None, "the request timed out")
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return Failure("connection", None, str(cause or exc))
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        body = exc.body
        retry_after = parse_retry_after(getattr(exc.response, "headers", None))
        return Failure(_status_kind(status, body), status, _detail(body, str(exc)), retry_after)
    return None


def scrub(text: str, key: str) -> str:
    """Providers sometimes echo the key back in error text; never pass it on."""
    return text.replace(key, mask_key(key)) if key else text


def to_model_error(failure: Failure, who: Provider, attempts: int, timeout_s: float | None = None) -> ModelError:
    """The one place that words model failures for users."""
    detail = scrub(failure.detail, who.key)
    message, hint = _wording(failure, who, attempts, timeout_s)
    return ModelError(f"{message} Provider said: {detail}", hint=hint)


def stream_error(exc: BaseException, who: Provider) -> ModelError:
    """A stream that broke off after it started is not retried: text may already be on screen."""
    detail = scrub(_detail(getattr(exc, "body", None), str(exc)), who.key)
    return ModelError(
        f"The {who.label} API stopped streaming the answer midway. Provider said: {detail}",
        hint="Try again; if it keeps happening the provider may be overloaded, so wait a little.",
    )


def _wording(failure: Failure, who: Provider, attempts: int, timeout_s: float | None) -> tuple[str, str]:
    status = failure.status
    where = who.base_url or f"the default {who.label} endpoint"
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if failure.kind == "auth":
        return (
            f"The {who.label} API rejected the key {mask_key(who.key)} ({status}). Check {who.key_env}.",
            f"Set {who.key_env} to a valid key, or choose another provider with --provider.",
        )
    if failure.kind == "not_found":
        local = f" If {who.base_url_env} points at a local server, check the URL and that it serves the model."
        return (
            f"The {who.label} API at {where} does not know the model '{who.model}' ({status}).",
            "Choose another model with --model or CSVANALYST_MODEL." + (local if who.base_url else ""),
        )
    if failure.kind == "connection":
        return (
            f"Could not connect to the {who.label} API at {where} {tries}.",
            f"Check that the server is running and reachable, and that {who.base_url_env} is right.",
        )
    if failure.kind == "timeout":
        limit = f" of {timeout_s:g}s" if timeout_s else ""
        return (
            f"The {who.label} API did not answer within the timeout{limit} {tries}.",
            "Try again later, or use a faster model with --model.",
        )
    if failure.kind == "bad_request":
        return (
            f"The {who.label} API rejected the request for model '{who.model}' ({status}).",
            "The model may not support an option csvanalyst sends (tools, temperature); try another with --model.",
        )
    return (
        f"The {who.label} API still failed {tries}; the last status was {status}.",
        "The provider is rate-limiting or unavailable; wait a little and try again.",
    )
