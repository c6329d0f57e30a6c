"""Retries with capped exponential backoff and jitter, honouring Retry-After.

Implemented once here (the SDKs' own retries are switched off) so both adapters behave the same and
the behaviour is ours to test.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from csvanalyst.llm.failures import Failure, Provider, to_model_error

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Delay before retry `n` (0-based): base·2ⁿ, capped, with jitter so clients do not retry in step."""

    base_s: float = 0.5
    cap_s: float = 8.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is capped rather than obeyed blindly

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        ceiling: float = min(self.cap_s, self.base_s * (2**retry))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass
class Attempts:
    """How many attempts the last call took; kept on the client for diagnostics and tests."""

    count: int = 0
    last: Failure | None = None
    delays: list[float] = field(default_factory=list)  # seconds waited before each retry


def call_with_retries(
    fn: Callable[[], T],
    *,
    classify: Callable[[BaseException], Failure | None],
    who: Provider,
    max_retries: int,
    backoff: Backoff,
    attempts: Attempts,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `fn`, retrying transient provider failures; anything else becomes a worded `ModelError`."""
    attempts.count, attempts.last, attempts.delays = 0, None, []
    while True:
        attempts.count += 1
        try:
            return fn()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            attempts.last = failure
            if not failure.retryable or attempts.count > max_retries:
                raise to_model_error(failure, who, attempts.count, timeout_s) from exc
            delay = backoff.delay(attempts.count - 1, failure.retry_after)
            attempts.delays.append(delay)
            sleep(delay)
