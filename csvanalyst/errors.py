"""One error tree for the whole product.

Every error a user can cause carries a stable `code`, a one-paragraph `message` (what was wrong and
where) and a `hint` (what to do). Only `cli/diagnostics.py` turns them into stderr text and exit codes;
the server maps the same codes to problem JSON.
"""

from __future__ import annotations

from typing import ClassVar


class CsvAnalystError(Exception):
    """Base of every error the product raises on purpose."""

    code: ClassVar[str] = "internal"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(CsvAnalystError):
    """The command line or a request was malformed (bad flag combination, unknown name)."""

    code = "usage"
    exit_code = 2


class InputError(CsvAnalystError):
    """A file or dataset the user gave cannot be read as a table."""

    code = "bad_input"
    exit_code = 3


class NotFoundError(CsvAnalystError):
    """A named thing (dataset, table, run) does not exist."""

    code = "not_found"
    exit_code = 3


class PlanError(CsvAnalystError):
    """A QueryPlan failed validation (unknown column, aggregate on text, ...)."""

    code = "invalid_plan"
    exit_code = 4


class PolicyError(CsvAnalystError):
    """SQL was rejected by the policy: names the rule and where it was broken."""

    code = "rejected"
    exit_code = 4

    def __init__(self, message: str, *, rule: str, hint: str = "", position: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule
        self.position = position

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "rule": self.rule}


class QueryFailedError(CsvAnalystError):
    """The query ran in the sandbox and failed (SQL error, timeout, out of memory)."""

    code = "query_failed"
    exit_code = 5


class EnvironmentProblem(CsvAnalystError):
    """Something outside the user's input is missing or broken (sandbox, daemon, store)."""

    code = "environment"
    exit_code = 6


class ModelError(CsvAnalystError):
    """The language model could not be used (bad key, unknown model, provider down after retries)."""

    code = "model_error"
    exit_code = 6


class NoChartError(CsvAnalystError):
    """A chart was asked for, but no chart shows this result honestly (the message says why)."""

    code = "no_chart"
    exit_code = 8


EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "internal": 1,
    "usage": 2,
    "bad_input": 3,
    "rejected": 4,
    "query_failed": 5,
    "environment": 6,
    "model_error": 6,
    "not_answered": 7,
    "no_chart": 8,
    "interrupted": 130,
}
