"""Rich markup for the terminal front ends (CLI and TUI): data shown as text, never as codes.

Both front ends print data inside Rich markup; `escape` here does the two things that needs: control
characters become visible escapes (core/terminal.py) and `[` cannot open a markup tag.
"""

from __future__ import annotations

from rich.markup import escape as _markup_escape

from csvanalyst.core.terminal import printable


def escape(text: str) -> str:
    """Markup-safe and terminal-safe text from anything the data, a file or a model supplied."""
    return _markup_escape(printable(text))
