"""Text that came from outside: it must be real UTF-8 before anything stores, logs or runs it.

A byte that is not UTF-8 on the command line reaches Python as a lone surrogate (U+DC80-U+DCFF,
"surrogateescape"), and JSON may carry an escaped one (`"\\ud800"`); either crashes the first encode,
in the store or the sandbox request, far from where the text came in.
"""

from __future__ import annotations

from csvanalyst.errors import InputError

ESCAPED_BYTES = range(0xDC80, 0xDD00)  # how surrogateescape carries one undecodable byte


def require_text(value: str, what: str) -> str:
    """`value` unchanged, or an InputError naming where the first non-UTF-8 character is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(value[exc.start])
        found = f"the byte 0x{char - 0xDC00:02X}" if char in ESCAPED_BYTES else f"a lone surrogate U+{char:04X}"
        raise InputError(
            f"The {what} is not valid UTF-8: character {exc.start + 1} is {found}.",
            hint="Send the text as UTF-8 (check the terminal's or the file's encoding).",
        ) from None
    return value
