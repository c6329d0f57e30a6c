"""One error tree for the whole product.

Every error a user can cause carries a stable `code`, a one-paragraph `message` (what was wrong and
where) and a `hint` (what to do). Every code is a member of `ErrorCode`, and `EXIT_CODES` gives each one
its documented exit code: the CLI's only table. Only `cli/diagnostics.py` turns errors into stderr text
and exit codes; the server maps the same codes to problem JSON.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """Every code an error, an `Error` event or a problem response can carry."""

    INTERNAL = "internal"
    USAGE = "usage"
    PYTHON_DISABLED = "python_disabled"
    BAD_INPUT = "bad_input"
    NOT_FOUND = "not_found"
    INVALID_PLAN = "invalid_plan"
    REJECTED = "rejected"
    UNKNOWN_TABLE = "unknown_table"
    UNKNOWN_RUN = "unknown_run"
    UNKNOWN_TOOL = "unknown_tool"
    INVALID_ARGUMENTS = "invalid_arguments"
    BAD_CHART = "bad_chart"
    TOOL_ERROR = "tool_error"
    QUERY_FAILED = "query_failed"
    TIMEOUT = "timeout"
    OOM = "oom"
    ENVIRONMENT = "environment"
    MODEL_ERROR = "model_error"
    MODEL_STOPPED = "model_stopped"
    NOT_ANSWERED = "not_answered"
    STEP_BUDGET = "step_budget"
    RETRY_BUDGET = "retry_budget"
    TIME_BUDGET = "time_budget"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    UNSUPPORTED_FORMAT = "unsupported_format"
    BUSY = "busy"


# The exit code of every error code (README.md, "Exit codes", lists the same table).
EXIT_CODES: dict[ErrorCode, int] = {
    ErrorCode.INTERNAL: 1,
    ErrorCode.USAGE: 2,
    ErrorCode.PYTHON_DISABLED: 2,
    ErrorCode.UNAUTHORIZED: 2,
    ErrorCode.BAD_INPUT: 3,
    ErrorCode.NOT_FOUND: 3,
    ErrorCode.UNKNOWN_TABLE: 3,
    ErrorCode.UNKNOWN_RUN: 3,
    ErrorCode.TOO_LARGE: 3,
    ErrorCode.UNSUPPORTED_FORMAT: 3,
    ErrorCode.INVALID_PLAN: 4,
    ErrorCode.REJECTED: 4,
    ErrorCode.INVALID_ARGUMENTS: 4,
    ErrorCode.BAD_CHART: 4,
    ErrorCode.TOOL_ERROR: 4,
    ErrorCode.QUERY_FAILED: 5,
    ErrorCode.TIMEOUT: 5,
    ErrorCode.OOM: 5,
    ErrorCode.ENVIRONMENT: 6,
    ErrorCode.MODEL_ERROR: 6,
    ErrorCode.MODEL_STOPPED: 6,
    ErrorCode.UNKNOWN_TOOL: 6,
    ErrorCode.BUSY: 6,
    ErrorCode.NOT_ANSWERED: 7,
    ErrorCode.STEP_BUDGET: 7,
    ErrorCode.RETRY_BUDGET: 7,
    ErrorCode.TIME_BUDGET: 7,
    ErrorCode.CANCELLED: 130,
    ErrorCode.INTERRUPTED: 130,
}


def exit_code_for(code: str) -> int:
    """The documented exit code of `code`; a code outside the table is a bug, so 1."""
    try:
        return EXIT_CODES[ErrorCode(code)]
    except ValueError:
        return EXIT_CODES[ErrorCode.INTERNAL]


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
