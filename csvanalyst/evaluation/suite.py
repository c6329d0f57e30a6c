"""Suites: one JSON object per line, a question with the data it is about and what a right answer holds.

Files named in a case are relative to the suite file. A suite may be a path or the name of a suite this
package ships (`demo`), found with importlib.resources so it works from a wheel too.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from csvanalyst.errors import UsageError

SUITE_PACKAGE = "csvanalyst.suites"


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]]


class Case(BaseModel):
    """One question of a suite."""

    model_config = ConfigDict(extra="forbid")

    id: str = ""
    question: str = Field(min_length=1)
    dataset: str | None = None
    files: list[str] = Field(default_factory=list)
    sql: str | None = None  # reference SQL, run to get the expected table
    expected: Expected | None = None  # or the expected table itself
    unanswerable: bool = False  # right only when the agent declines
    ordered: bool = False  # row order matters (the question asks for a ranking or a sequence)
    kind: str = "general"

    @model_validator(mode="after")
    def _one_reference(self) -> Case:
        if self.dataset and self.files:
            raise ValueError("give either dataset or files, not both")
        if not self.dataset and not self.files:
            raise ValueError("give a dataset or files")
        if self.unanswerable == bool(self.sql or self.expected):
            raise ValueError("give exactly one of sql, expected, or unanswerable: true")
        if self.sql and self.expected:
            raise ValueError("give sql or expected, not both")
        return self


def shipped() -> list[str]:
    """The names of the suites this package carries."""
    return sorted(
        p.name.removesuffix(".jsonl") for p in resources.files(SUITE_PACKAGE).iterdir() if p.name.endswith(".jsonl")
    )


def locate(name_or_path: str) -> Path:
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    candidate = resources.files(SUITE_PACKAGE) / f"{name_or_path}.jsonl"
    if candidate.is_file():
        return Path(str(candidate))
    raise UsageError(
        f"No suite {name_or_path!r}: not a file, and not a shipped suite.",
        hint=f"Give a .jsonl path, or one of: {', '.join(shipped()) or 'none'}.",
    )


def load(name_or_path: str) -> tuple[Path, list[Case]]:
    """The suite's path and its cases; any bad line is a usage error naming the line and the problem."""
    path = locate(name_or_path)
    cases: list[Case] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the suite {path}: {exc}.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            case = Case.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.msg}).", hint="One JSON object per line.") from exc
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'case'}: {e['msg']}" for e in exc.errors())
            raise UsageError(f"{path}:{number}: {problems}.", hint="See docs/eval.md for the suite format.") from exc
        case.id = case.id or f"{path.stem}-{number}"
        case.files = [str((path.parent / f).resolve()) for f in case.files]
        cases.append(case)
    if not cases:
        raise UsageError(f"The suite {path} has no cases.", hint="Add one JSON object per line.")
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise UsageError(f"The suite {path} repeats case ids: {', '.join(duplicates)}.", hint="Make each id unique.")
    return path, cases
