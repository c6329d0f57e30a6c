"""Cheap checks on a file before DuckDB sees it: is it there, is it text, which encoding, sane shape.

DuckDB's own errors for these cases are either slow (it reads a 100 MB line before complaining),
vague ("could not detect the dialect") or silent (a PNG read as one odd column). Looking at the first
few MiB ourselves gives a precise message in milliseconds.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from csvanalyst.errors import InputError

Encoding = str  # a Python codec name: utf-8, latin-1, cp1252, utf-16-le, utf-16-be, or one the user gave

SAMPLE_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 2_000_000  # DuckDB's default max_line_size; stated in errors so users know the limit
MAX_COLUMNS = 10_000
EXPORT_HINT = "Export it as CSV (File > Save As > CSV UTF-8 in most tools) and try again."

_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or another OLE document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
]
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_DELIMITERS = (",", ";", "\t", "|")
_CP1252_ONLY = re.compile(rb"[\x80\x82-\x8c\x8e\x91-\x9c\x9e\x9f]")


@dataclass
class FileFacts:
    """What the pre-checks learned; `text` is the decoded head of the file, cut at a line end."""

    path: Path
    size: int
    encoding: Encoding
    text: str
    complete: bool  # `text` is the whole file
    notes: list[str] = field(default_factory=list)


def inspect_file(path: Path, encoding: Encoding | None = None) -> FileFacts:
    """Validate `path` as a readable, non-empty text table; raise InputError with what is wrong.

    The encoding is the one given, or detected from the head and, for a UTF-8-looking head, confirmed
    on the rest of the file: one Latin-1 byte deep in a large export must not leave a row unreadable."""
    size = check_readable(path)
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    complete = size <= SAMPLE_BYTES
    kind = detect_binary(head, path)
    if kind and not (encoding or "").startswith("utf-16"):
        hint = "Name it with the .xlsx suffix to read its sheets." if "(.xlsx)" in kind else EXPORT_HINT
        raise InputError(f"{path} is not a CSV file: it looks like {kind}.", hint=hint)
    notes: list[str] = []
    if encoding is None:
        encoding = detect_encoding(head, path, complete)
        if encoding == "utf-8" and not complete:
            encoding, notes = _confirm_utf8(path, head)
        if encoding == "latin-1" and not complete:
            encoding = _single_byte_of_file(path)  # one curly quote or euro sign anywhere makes it cp1252
        if encoding != "utf-8":
            notes.append(f"{path.name} is encoded as {encoding.upper()}; read it as such (give --encoding to change)")
    elif encoding != "utf-8":
        notes.append(f"{path.name} is read as {encoding.upper()}, as --encoding asks")
    text = _decode(head, encoding, complete)
    if not complete:
        cut = text.rfind("\n") + 1
        if len(text) - cut > MAX_LINE_BYTES:
            raise _long_line(path, text.count("\n", 0, cut) + 1)
        text = text[:cut]
    facts = FileFacts(path=path, size=size, encoding=encoding, text=text, complete=complete, notes=notes)
    check_text_shape(facts)
    return facts


def _confirm_utf8(path: Path, head: bytes) -> tuple[Encoding, list[str]]:
    """Decode the rest of the file as UTF-8 (ASCII chunks cost nearly nothing); at the first invalid byte,
    a file with no UTF-8 text before it is single-byte encoded throughout, and one with some mixes both."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    multibyte = not head.isascii()
    decoder.decode(head)
    offset = len(head)
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(SAMPLE_BYTES):
            try:
                if not (chunk.isascii() and decoder.getstate()[0] == b""):
                    decoder.decode(chunk)
                    multibyte = multibyte or not chunk.isascii()
            except UnicodeDecodeError as exc:
                where = offset + exc.start
                if multibyte:
                    raise InputError(
                        f"{path} mixes encodings: it has UTF-8 text, but the bytes at byte offset {where:,} "
                        "are not valid UTF-8.",
                        hint="Re-save the file with one encoding (UTF-8 is best), or give --encoding.",
                    ) from exc
                encoding = single_byte_encoding(chunk)
                return encoding, [f"byte offset {where:,} of {path.name} is not UTF-8"]
            offset += len(chunk)
    return "utf-8", []


def single_byte_encoding(sample: bytes) -> Encoding:
    """cp1252 when bytes 0x80-0x9f occur (curly quotes, euro sign: control codes in Latin-1), else Latin-1."""
    return "cp1252" if _CP1252_ONLY.search(sample) else "latin-1"


def _single_byte_of_file(path: Path) -> Encoding:
    """cp1252 when bytes 0x80-0x9f occur anywhere in the file, else Latin-1 (a scan that stops at the first)."""
    with path.open("rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES):
            if _CP1252_ONLY.search(chunk):
                return "cp1252"
    return "latin-1"


def check_readable(path: Path) -> int:
    """Existence, type, permissions and emptiness; returns the size in bytes."""
    if not path.exists():
        raise InputError(f"File not found: {path}.", hint="Check the path (and the current directory).")
    if path.is_dir():
        raise InputError(
            f"{path} is a directory, not a CSV file.",
            hint="Give one CSV file here, or register the whole folder with `datasets add FOLDER`.",
        )
    if not path.is_file():
        raise InputError(f"{path} is not a regular file.", hint="Give the path of a CSV file.")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise InputError(
            f"Cannot read {path}: {exc.strerror or exc}.",
            hint="Check the file's permissions (it must be readable by you).",
        ) from exc
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path} is empty (0 bytes).", hint="Give a CSV file with at least a header line.")
    return size


def detect_binary(head: bytes, path: Path) -> str | None:
    """Name the kind of a non-text file from its magic bytes, or None if it may be text."""
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head[:65536] or path.suffix.lower() in {".xlsx", ".xlsm"}:
            return "an Excel workbook (.xlsx)"
        if b"opendocument.spreadsheet" in head[:200]:
            return "an OpenDocument spreadsheet (.ods)"
        return "a ZIP archive"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(head):
        return None
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"a binary file (it contains a NUL byte at byte offset {nul})"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """ASCII-heavy UTF-16 has a NUL in every other byte; that pattern tells LE from BE."""
    probe = head[:4096]
    half = len(probe) // 2
    if half < 2:
        return None
    even = sum(1 for i in range(0, 2 * half, 2) if probe[i] == 0) / half
    odd = sum(1 for i in range(1, 2 * half, 2) if probe[i] == 0) / half
    if odd > 0.4 and even < 0.05:
        return "utf-16-le"
    if even > 0.4 and odd < 0.05:
        return "utf-16-be"
    return None


def detect_encoding(head: bytes, path: Path, complete: bool) -> Encoding:
    """UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), else Latin-1 if it looks like it."""
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be"
    guessed = _utf16_without_bom(head)
    if guessed == "utf-16-le":
        return "utf-16-le"
    if guessed == "utf-16-be":
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(head):
            line = head.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{path} mixes encodings: it has UTF-8 text, but the bytes at line {line} "
                f"(byte offset {exc.start}) are not valid UTF-8.",
                hint="Re-save the file with one encoding (UTF-8 is best), or fix that line.",
            ) from exc
        return single_byte_encoding(head)


def _decode(head: bytes, encoding: Encoding, complete: bool) -> str:
    codec = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(encoding, encoding)
    if encoding.startswith("utf-16") and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(head, final=complete)


def check_text_shape(facts: FileFacts) -> None:
    """JSON given as CSV, absurdly wide headers and over-long lines, from the decoded head alone."""
    if _looks_like_json(facts.text):
        raise InputError(f"{facts.path} is not a CSV file: it looks like JSON.", hint=EXPORT_HINT)
    first_line = facts.text.split("\n", 1)[0]
    width = max(first_line.count(d) for d in _DELIMITERS) + 1
    if width > MAX_COLUMNS:
        raise InputError(
            f"{facts.path} has about {width:,} columns in its header; the limit is {MAX_COLUMNS:,}.",
            hint="Select the columns you need into a narrower CSV, or reshape it to long format.",
        )
    _check_line_lengths(facts)


def _check_line_lengths(facts: FileFacts) -> None:
    for number, line in enumerate(facts.text.split("\n"), start=1):
        if len(line) > MAX_LINE_BYTES:
            raise _long_line(facts.path, number)


def _long_line(path: Path, line: int) -> InputError:
    return InputError(
        f"Line {line} of {path} is longer than the limit of {MAX_LINE_BYTES:,} bytes.",
        hint="Check that line for a missing closing quote or an embedded file; trim or split the field.",
    )


def _looks_like_json(text: str) -> bool:
    """`{"` or `[{` / `["` / `[1` at the start; a CSV header practically never starts that way."""
    stripped = text.lstrip()
    opener, following = stripped[:1], stripped[1:].lstrip()[:1]
    if opener == "{":
        return following in {'"', "}"}
    return opener == "[" and (following in {"{", "[", '"', "]"} or following.isdigit())
