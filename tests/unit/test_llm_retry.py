"""Backoff, Retry-After, failure classification and the wording of model errors."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import pytest

from csvanalyst.errors import ModelError
from csvanalyst.llm.failures import Failure, Provider, classify, mask_key, parse_retry_after, to_model_error
from csvanalyst.llm.guard import check_allowed, is_loopback
from csvanalyst.llm.pricing import estimate_cost, price_for
from csvanalyst.llm.retry import Attempts, Backoff, call_with_retries

KEY = "sk-proj-abcdefghijklmnop1234"
WHO = Provider("OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", KEY, "", "gpt-4o-mini")


def status_error(sdk, status: int, headers: dict[str, str] | None = None, body: object = None) -> Exception:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, request=request)
    return sdk.APIStatusError(f"status {status}", response=response, body=body)


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(base_s=1.0, cap_s=4.0)
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (6, 4.0)]:
        delays = [backoff.delay(retry) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len({backoff.delay(5) for _ in range(20)}) > 1


def test_retry_after_wins_but_is_capped() -> None:
    backoff = Backoff(max_retry_after_s=30)
    assert backoff.delay(3, retry_after=0) == 0
    assert backoff.delay(0, retry_after=7) == 7
    assert backoff.delay(0, retry_after=3600) == 30


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "250"}, 0.25), ({"retry-after": "soon"}, None), ({}, None)],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx2.Headers(headers)) == expected


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after(httpx2.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0


@pytest.mark.parametrize("sdk", [openai, anthropic])
@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (401, "auth", False),
        (403, "auth", False),
        (404, "not_found", False),
        (400, "bad_request", False),
        (429, "rate_limit", True),
        (500, "server", True),
        (529, "server", True),
    ],
)
def test_classify_status_errors(sdk, status: int, kind: str, retryable: bool) -> None:
    failure = classify(status_error(sdk, status, {"retry-after": "1"}), sdk)
    assert failure is not None and failure.kind == kind and failure.retryable is retryable
    assert failure.status == status and failure.retry_after == 1.0


def test_classify_connection_and_timeout_and_foreign_errors() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1")
    assert classify(openai.APITimeoutError(request=request), openai).kind == "timeout"
    assert classify(anthropic.APIConnectionError(request=request), anthropic).kind == "connection"
    assert classify(ValueError("a bug"), openai) is None


def test_call_with_retries_counts_and_waits() -> None:
    errors = [status_error(openai, 429, {"retry-after": "0"}), status_error(openai, 502)]
    waited: list[float] = []

    def flaky() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    attempts = Attempts()
    result = call_with_retries(
        flaky,
        classify=lambda e: classify(e, openai),
        who=WHO,
        max_retries=3,
        backoff=Backoff(base_s=0.001, cap_s=0.001),
        attempts=attempts,
        sleep=waited.append,
    )
    assert result == "ok" and attempts.count == 3 and waited == attempts.delays and waited[0] == 0


def test_call_with_retries_lets_bugs_through() -> None:
    def broken() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_retries(
            broken,
            classify=lambda e: classify(e, openai),
            who=WHO,
            max_retries=3,
            backoff=Backoff(),
            attempts=Attempts(),
            sleep=lambda _: None,
        )


def test_error_messages_never_contain_the_key() -> None:
    failure = Failure("auth", 401, f"Incorrect API key provided: {KEY}")
    error = to_model_error(failure, WHO, 1)
    assert isinstance(error, ModelError)
    assert error.message.startswith("The OpenAI API rejected the key sk-…1234 (401). Check OPENAI_API_KEY.")
    assert KEY not in error.message


def test_mask_key() -> None:
    assert mask_key("sk-abcdefghijklmnopqrstuvwxyz") == "sk-…wxyz"
    assert mask_key("short") == "…"
    assert mask_key("") == "(none)"


def test_pricing_longest_prefix_and_unknown_models() -> None:
    assert price_for("gpt-4o-mini-2024-07-18") == (0.15, 0.60)
    assert price_for("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_for("claude-haiku-4-5-20251001") == (1.00, 5.00)
    assert price_for("openai/gpt-4.1-mini") == (0.40, 1.60)
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert estimate_cost("llama3.1:8b", 100, 100) is None


def test_guard_allows_only_loopback_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "0")
    assert (
        is_loopback("http://127.0.0.1:8080/v1")
        and is_loopback("http://localhost:11434")
        and is_loopback("http://[::1]:1")
    )
    check_allowed("http://127.0.0.1:1234/v1", "OpenAI")
    with pytest.raises(ModelError, match="switched off"):
        check_allowed(None, "OpenAI")
    with pytest.raises(ModelError, match=r"api\.example\.com"):
        check_allowed("https://api.example.com/v1", "OpenAI")
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "1")
    check_allowed("https://api.example.com/v1", "OpenAI")
