"""A corpus of small messy CSV files, each a clean table polluted one way, with its expected table.

The clean tables are slices of the demo datasets shipped in datasets/. Every file is written by
`build_corpus` deterministically (seeded), so the corpus test and `make bench` score the same files.
A polluted row may be set aside, or loaded with the text the file really holds (`variants`); any
other loaded row must equal a row of the clean table, cell for cell.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLICE = 25
Rows = list[list[str]]


@dataclass
class Case:
    """One corpus file: its defect class, the clean table and the acceptable forms of polluted rows."""

    path: Path
    defect: str
    header: list[str]
    rows: Rows
    variants: Rows = field(default_factory=list)
    # The polluted row's last clean value is empty: an extra separator then looks like a trailing
    # delimiter, which DuckDB's reader alone drops without a word (the loader sets such rows aside).
    trailing_empty: bool = False


def clean_tables() -> list[tuple[str, list[str], Rows]]:
    """(name, header, rows) slices of every demo table, two slices each."""
    tables = []
    for path in sorted((ROOT / "datasets").glob("*/*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        for index in range(2):
            part = rows[index * SLICE : (index + 1) * SLICE] or rows[-SLICE:]  # a short table: its tail
            tables.append((f"{path.stem}{index}", header, part))
    return tables


def _write(header: list[str], rows: Rows, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _text_cell(header: list[str], row: list[str], rng: random.Random) -> int:
    """A column whose value in `row` is text (not a number), so a pollution stays visible."""
    choices = [i for i, v in enumerate(row) if v and not v.replace(".", "").replace("-", "").isdigit()]
    return rng.choice(choices or list(range(len(row))))


Polluter = Callable[[list[str], Rows, random.Random], tuple[str | bytes, Rows]]
_TRAILING_EMPTY: list[bool] = []  # set by the last row defect written, read by build_corpus


def _line_defect(change: Callable[[list[str], int, random.Random], str]) -> Polluter:
    """Rewrite one data row's line with `change`. The line read with quotes as quoting or as plain text
    is an acceptable variant when it has the header's number of fields: that is the file's real
    content, each cell in its own column."""

    def pollute(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows]:
        target = rng.randrange(len(rows))
        _TRAILING_EMPTY[:] = [rows[target][-1] == ""]
        lines = _write(header, rows).split("\n")
        lines[target + 1] = change(rows[target], _text_cell(header, rows[target], rng), rng)
        text = "\n".join(lines)
        line = lines[target + 1]
        readings = [next(csv.reader([line]), []), next(csv.reader([line], quoting=csv.QUOTE_NONE), [])]
        return text, [r for r in readings if len(r) == len(header)]

    return pollute


def _cells(row: list[str]) -> list[str]:
    return next(csv.reader([_write([], [row]).strip("\n")]))


def _join(row: list[str]) -> str:
    return _write([], [row]).strip("\n")


def _stray_mid(row: list[str], col: int, rng: random.Random) -> str:
    cells = list(row)
    value = cells[col]
    cut = rng.randrange(1, max(len(value), 2))
    cells[col] = value[:cut] + '"' + value[cut:]
    return ",".join(cells) if all("," not in c for c in cells) else _join(cells)


def _stray_start(row: list[str], col: int, rng: random.Random) -> str:
    return ",".join(('"' + c) if i == col else c for i, c in enumerate(row))


def _extra_field(row: list[str], col: int, rng: random.Random) -> str:
    value = row[col]
    cut = rng.randrange(1, max(len(value), 2))
    cells = [*row[:col], value[:cut], value[cut:], *row[col + 1 :]]
    return ",".join(cells)


def _missing_field(row: list[str], col: int, rng: random.Random) -> str:
    merge = min(col, len(row) - 2)
    cells = [*row[:merge], row[merge] + " " + row[merge + 1], *row[merge + 2 :]]
    return ",".join(cells)


def _dialect(delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL, end: str = "\n") -> Polluter:
    def pollute(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows]:
        return _write(header, rows, delimiter, quoting).replace("\n", end), []

    return pollute


def _encoded(codec: str, bom: bytes = b"") -> Polluter:
    def pollute(header: list[str], rows: Rows, rng: random.Random) -> tuple[bytes, Rows]:
        return bom + _write(header, rows).encode(codec), []

    return pollute


def _preamble(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows]:
    lines = ["Exported from the reporting system", f"Generated on 2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"]
    return "\n".join(lines[: rng.randint(1, 2)]) + "\n" + _write(header, rows), []


def _blank_tail(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows]:
    return _write(header, rows) + "\n" * rng.randint(1, 3), []


DIALECTS: dict[str, Polluter] = {
    "clean": _dialect(),
    "semicolon": _dialect(";"),
    "tab": _dialect("\t"),
    "pipe": _dialect("|"),
    "crlf": _dialect(end="\r\n"),
    "bare_cr": _dialect(end="\r"),
    "quote_all": _dialect(quoting=csv.QUOTE_ALL),
    "bom": _encoded("utf-8", b"\xef\xbb\xbf"),
    "latin1": _encoded("latin-1"),
    "utf16": _encoded("utf-16"),
    "blank_tail": _blank_tail,
    "preamble": _preamble,
}
ROW_DEFECTS: dict[str, Polluter] = {
    "stray_quote_mid": _line_defect(_stray_mid),
    "stray_quote_start": _line_defect(_stray_start),
    "extra_field": _line_defect(_extra_field),
    "missing_field": _line_defect(_missing_field),
}
ROW_DEFECT_VARIANTS = 3


def build_corpus(folder: Path, seed: int = 19) -> list[Case]:
    """Write every corpus file into `folder`; returns the cases with their expected tables."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    plan = [(name, p, 0) for name, p in DIALECTS.items()]
    plan += [(name, p, v) for name, p in ROW_DEFECTS.items() for v in range(ROW_DEFECT_VARIANTS)]
    for table, header, rows in clean_tables():
        for defect, polluter, variant in plan:
            rng = random.Random(f"{seed}:{table}:{defect}:{variant}")
            _TRAILING_EMPTY[:] = [False]
            content, variants = polluter(header, rows, rng)
            path = folder / f"{table}__{defect}{variant}.csv"
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
            cases.append(Case(path, defect, header, rows, variants, trailing_empty=_TRAILING_EMPTY[0]))
    return cases
