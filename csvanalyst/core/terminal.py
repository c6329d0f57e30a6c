"""Text from data, files and models, made safe to show on a terminal or in the TUI.

A cell, a column name, a file name or a model's answer can carry escape sequences: OSC (set the
window title, or the clipboard through OSC 52), CSI (move the cursor, clear the screen), BEL,
backspace, NUL, or bidirectional overrides that make text read differently than it is. Every
human-facing output shows them as visible escapes (`\\x1b`, `\\u202e`) instead; tab and newline stay
where the output allows them. Machine formats (--format csv/json, events) keep the exact text.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embedding/override/isolate marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x09:
        return "\\t"
    if code == 0x0A:
        return "\\n"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character shown as an escape; `one_line` escapes tab and newline too."""
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_visible, text)
