"""Reader options a user gives when the sniffer guesses wrong: delimiter, quote, escape, header,
lines to skip, encoding and decimal mark.

They are checked once, as a ReaderOptions is built (a bad value is a clear usage error, never a DuckDB
message), stored with a registered dataset, and part of the cache fingerprint, so a file read two ways is
cached two ways.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from csvanalyst.errors import UsageError

_NAMED = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ",", "semicolon": ";", "pipe": "|"}
MAX_DELIMITER_BYTES = 4  # DuckDB's limit for a multi-character delimiter


class ReaderOptions(BaseModel):
    """How to read a text table; None means: detect it. Each value given is checked as the object is built
    (a bad one is a UsageError naming its flag), so flags, form fields and registry entries are checked alike."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delimiter: str | None = None
    quote: str | None = None  # "" reads quotes as plain text
    escape: str | None = None  # "" means no escape character
    header: bool | None = None
    skip_rows: int | None = None
    encoding: str | None = None  # a Python codec name, normalised (utf-8, latin-1, cp1252, utf-16)
    decimal: str | None = None  # "." or ","

    @field_validator("*")
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        check = _CHECKS.get(info.field_name or "")
        return value if value is None or check is None else check(value)

    def given(self) -> dict[str, Any]:
        """Only the options the user set."""
        return self.model_dump(exclude_none=True)

    def key(self) -> str:
        """A short digest of the given options for cache paths and fingerprints; "" when none is set."""
        given = self.given()
        if not given:
            return ""
        return hashlib.blake2b(json.dumps(given, sort_keys=True).encode(), digest_size=6).hexdigest()


NO_OPTIONS = ReaderOptions()


def from_mapping(data: dict[str, Any] | None, where: str) -> ReaderOptions:
    """Options stored as a JSON object (the registry, a request); unknown keys are refused."""
    if not data:
        return NO_OPTIONS
    unknown = sorted(set(data) - set(ReaderOptions.model_fields))
    if unknown:
        raise UsageError(
            f"Unknown reader option(s) in {where}: {', '.join(unknown)}.",
            hint=f"Known options: {', '.join(ReaderOptions.model_fields)}.",
        )
    return ReaderOptions(**data)


def _delimiter(value: str) -> str:
    delimiter = _NAMED.get(value.lower(), value) if len(value) > 1 else value
    if not delimiter or len(delimiter.encode()) > MAX_DELIMITER_BYTES or any(c in "\r\n" for c in delimiter):
        raise UsageError(
            f"--delimiter {value!r} is not a usable delimiter.",
            hint="Give one to four characters (not a line break), or tab, space, comma, semicolon or pipe.",
        )
    return delimiter


def _char(flag: str, value: str) -> str:
    if len(value) > 1 or value in ("\r", "\n"):
        raise UsageError(
            f"{flag} {value!r} must be a single character (or empty for none).",
            hint=f'For example {flag} "\'" or {flag} "".',
        )
    return value


def _skip(value: int) -> int:
    if value < 0:
        raise UsageError(f"--skip-rows {value} is negative.", hint="Give the number of lines above the header (0+).")
    return value


def _encoding(value: str) -> str:
    try:
        name = codecs.lookup(value).name
    except LookupError:
        raise UsageError(
            f"--encoding {value!r} is not an encoding this product knows.",
            hint="Give e.g. utf-8, latin-1, cp1252 or utf-16.",
        ) from None
    return {"iso8859-1": "latin-1", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}.get(name, name)


def _decimal(value: str) -> str:
    if value not in {".", ","}:
        raise UsageError(f"--decimal {value!r} is not a decimal mark.", hint='Give "." or ",".')
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "delimiter": _delimiter,
    "quote": lambda value: _char("--quote", value),
    "escape": lambda value: _char("--escape", value),
    "skip_rows": _skip,
    "encoding": _encoding,
    "decimal": _decimal,
}
