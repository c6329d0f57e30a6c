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


# (content, variants) or (content, variants, expected header); None: the class does not apply to the table.
Polluter = Callable[[list[str], Rows, random.Random], tuple[str | bytes, Rows] | None]
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


def numeric_column(rows: Rows, column: int) -> bool:
    values = [r[column] for r in rows if r[column]]
    try:
        return bool(values) and all(float(v) == float(v) for v in values)
    except ValueError:
        return False


def _footer_notes(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows]:
    notes = ["Source: the national statistics office", "Note: figures for the last month are provisional"]
    picked = notes[: rng.randint(1, 2)]
    if rng.random() < 0.5:  # parted from the table by a blank line, padded to its width as spreadsheets do
        tail = "\n" + "".join(note + "," * (len(header) - 1) + "\n" for note in picked)
    else:
        tail = "".join(note + "\n" for note in picked)
    return _write(header, rows) + tail, []


def _footer_total(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows] | None:
    numeric = [i for i in range(len(header)) if numeric_column(rows, i)]
    text = [i for i in range(len(header)) if i not in numeric]
    if not numeric or not text:
        return None
    total = [""] * len(header)
    total[text[0]] = "Total"
    for i in numeric:
        values = [float(r[i]) for r in rows if r[i]]
        whole = all(v.is_integer() for v in values) and all("." not in r[i] for r in rows)
        total[i] = str(int(sum(values))) if whole else f"{sum(values):.2f}"
    return _write(header, rows) + _join(total) + "\n", []


def _two_line_header(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows, list[str]] | None:
    """A group row above the names, its groups written once as merged cells are; None where no column is
    numeric (a second header line of words is then indistinguishable from a data row)."""
    if not any(numeric_column(rows, i) for i in range(len(header))):
        return None
    half = max(len(header) // 2, 1)
    groups = ["Part 1" if i == 0 else "Part 2" if i == half else "" for i in range(len(header))]
    joined = [f"Part {1 if i < half else 2} {name}" for i, name in enumerate(header)]
    return _write(groups, [header, *rows]), [], joined


def _reformat(pick: Callable[[Rows, int], bool], form: Callable[[str, random.Random], str]) -> Polluter:
    """Rewrite every value of each column `pick` accepts with `form`; None when no column fits."""

    def pollute(header: list[str], rows: Rows, rng: random.Random) -> tuple[str, Rows] | None:
        columns = [i for i in range(len(header)) if pick(rows, i)]
        if not columns:
            return None
        changed = [[form(v, rng) if i in columns and v else v for i, v in enumerate(r)] for r in rows]
        return _write(header, changed), []

    return pollute


def _decimals(rows: Rows, column: int) -> bool:
    return numeric_column(rows, column) and any("." in r[column] for r in rows)


def iso_dates(rows: Rows, column: int) -> bool:
    values = [r[column] for r in rows if r[column]]
    return bool(values) and all(len(v) == 10 and v[4] == v[7] == "-" and v.replace("-", "").isdigit() for v in values)


def _money(value: str, rng: random.Random) -> str:
    return rng.choice(["${:,.2f}", "€ {:,.2f}", "{:,.2f} €"]).format(float(value))


def _day_first(value: str, rng: random.Random) -> str:
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


def _cp1252(header: list[str], rows: Rows, rng: random.Random) -> tuple[bytes, Rows] | None:
    try:
        return _write(header, rows).encode("cp1252"), []
    except UnicodeEncodeError:
        return None


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
    "cp1252": _cp1252,
}
LAYOUTS: dict[str, Polluter] = {
    "footer_notes": _footer_notes,
    "footer_total": _footer_total,
    "two_line_header": _two_line_header,  # type: ignore[dict-item]
    "money": _reformat(_decimals, _money),
    "percent": _reformat(numeric_column, lambda value, rng: f"{value}%"),
    "day_first": _reformat(iso_dates, _day_first),
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
    plan = [(name, p, 0) for name, p in {**DIALECTS, **LAYOUTS}.items()]
    plan += [(name, p, v) for name, p in ROW_DEFECTS.items() for v in range(ROW_DEFECT_VARIANTS)]
    for table, header, rows in clean_tables():
        for defect, polluter, variant in plan:
            rng = random.Random(f"{seed}:{table}:{defect}:{variant}")
            _TRAILING_EMPTY[:] = [False]
            made = polluter(header, rows, rng)
            if made is None:
                continue
            content, variants, expected = made if len(made) == 3 else (*made, header)  # type: ignore[misc]
            path = folder / f"{table}__{defect}{variant}.csv"
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
            cases.append(Case(path, defect, expected, rows, variants, trailing_empty=_TRAILING_EMPTY[0]))
    return cases
