"""One error tree for the whole product.

Every error a user can cause carries a stable `code`, a one-paragraph `message` (what was wrong and
where) and a `hint` (what to do). Every code is a member of `ErrorCode`, which gives each one its
documented exit code and its HTTP status: the only table of either. Only `cli/diagnostics.py` turns
errors into stderr text and exit codes; the server turns the same codes into problem JSON.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """Every code an error, an `Error` event or a problem response can carry, with its one exit code and its
    one HTTP status: the only table of either (docs/exit-codes.md lists the same)."""

    exit_code: int
    http_status: int

    def __new__(cls, value: str, exit_code: int, http_status: int) -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.exit_code = exit_code
        member.http_status = http_status
        return member

    # name = code, exit code, HTTP status
    INTERNAL = "internal", 1, 500
    USAGE = "usage", 2, 400
    PYTHON_DISABLED = "python_disabled", 2, 422
    BAD_INPUT = "bad_input", 3, 422
    NOT_FOUND = "not_found", 3, 404
    INVALID_PLAN = "invalid_plan", 4, 422
    REJECTED = "rejected", 4, 422
    UNKNOWN_TABLE = "unknown_table", 3, 404
    UNKNOWN_RUN = "unknown_run", 3, 404
    UNKNOWN_TOOL = "unknown_tool", 6, 502
    INVALID_ARGUMENTS = "invalid_arguments", 4, 422
    BAD_CHART = "bad_chart", 4, 422
    TOOL_ERROR = "tool_error", 4, 422
    QUERY_FAILED = "query_failed", 5, 422
    TIMEOUT = "timeout", 5, 504
    OOM = "oom", 5, 507
    ENVIRONMENT = "environment", 6, 503
    MODEL_ERROR = "model_error", 6, 502
    MODEL_STOPPED = "model_stopped", 6, 502
    NOT_ANSWERED = "not_answered", 7, 422
    STEP_BUDGET = "step_budget", 7, 422
    RETRY_BUDGET = "retry_budget", 7, 422
    TIME_BUDGET = "time_budget", 7, 504
    CANCELLED = "cancelled", 130, 499
    INTERRUPTED = "interrupted", 130, 503
    UNAUTHORIZED = "unauthorized", 2, 401
    BAD_HOST = "bad_host", 2, 421
    CROSS_SITE = "cross_site", 2, 403
    TOO_LARGE = "too_large", 3, 413
    UNSUPPORTED_FORMAT = "unsupported_format", 3, 415
    BUSY = "busy", 6, 429
    NO_CHART = "no_chart", 8, 422


# By value: `ErrorCode(code)` would read, to a type checker, as a call of the three-argument `__new__`.
_BY_VALUE: dict[str, ErrorCode] = {member.value: member for member in ErrorCode}


def exit_code_for(code: str) -> int:
    """The documented exit code of `code`; a code outside the table is a bug, so 1."""
    return _BY_VALUE.get(code, ErrorCode.INTERNAL).exit_code


def http_status_for(code: str) -> int:
    """The HTTP status of `code`; a code outside the table is a bug, so 500."""
    return _BY_VALUE.get(code, ErrorCode.INTERNAL).http_status


class CsvAnalystError(Exception):
    """Base of every error the product raises on purpose."""

    code: ClassVar[str] = "internal"

    def __init__(self, message: str, *, hint: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code  # type: ignore[misc]

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.code)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(CsvAnalystError):
    """The command line or a request was malformed (bad flag combination, unknown name)."""

    code = "usage"


class InputError(CsvAnalystError):
    """A file or dataset the user gave cannot be read as a table."""

    code = "bad_input"


class NotFoundError(CsvAnalystError):
    """A named thing (dataset, table, run) does not exist."""

    code = "not_found"


class PlanError(CsvAnalystError):
    """A QueryPlan failed validation (unknown column, aggregate on text, ...)."""

    code = "invalid_plan"


class PolicyError(CsvAnalystError):
    """SQL was rejected by the policy: names the rule and where it was broken."""

    code = "rejected"

    def __init__(self, message: str, *, rule: str, hint: str = "", position: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule
        self.position = position

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "rule": self.rule}


class QueryFailedError(CsvAnalystError):
    """The query ran in the sandbox and failed (SQL error, timeout, out of memory)."""

    code = "query_failed"


class EnvironmentProblem(CsvAnalystError):
    """Something outside the user's input is missing or broken (sandbox, daemon, store)."""

    code = "environment"


class ModelError(CsvAnalystError):
    """The language model could not be used (bad key, unknown model, provider down after retries)."""

    code = "model_error"


class NoChartError(CsvAnalystError):
    """A chart was asked for, but no chart shows this result honestly (the message says why)."""

    code = "no_chart"
