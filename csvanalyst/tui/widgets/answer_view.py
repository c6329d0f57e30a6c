"""A turn's answer as markdown, drawn as it streams in without holding the screen.

A growing answer is drawn with Markdown.append, which re-parses only the document's last block, so a
chunk costs work in proportion to that block, not to the whole answer (re-rendering the whole answer on
every chunk held the screen for seconds on a long one). Chunks that arrive while the view is drawing
are drawn together in the next pass. One pass at a time touches the document: Markdown.append reads
the document's state before it takes its lock, so overlapping calls would draw a block twice.

The blocks a pass adds are styled, wrapped and laid out in the screen's next refresh, so a pass adds
at most PASS_LINES lines and waits for that refresh before the next. With back-to-back appends (as
Textual's MarkdownStream makes them) the screen did not refresh between them, and a stream faster than
the screen piled every new block into one layout at its end (a 600-word answer: 150-380 ms in a frame).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownTable  # the class Markdown.BLOCKS draws tables with
from textual.widgets.markdown import MarkdownBlock
from textual.worker import Worker

from csvanalyst.tui import collector

# Lines appended per drawing pass: each block a pass adds is laid out and wrapped in the next frame, so
# a stream faster than the screen (or a long answer arriving at once) is drawn a few blocks per frame.
PASS_LINES = 8


class _WholeTable(MarkdownTable):
    """A table drawn anew when it grows: Textual's in-place growth adds rows as plain Statics, unlike
    the cells of a table drawn at once (links in them would do nothing)."""

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        await MarkdownBlock._update_from_block(self, block)


def _next_piece(pending: str, lines: int = PASS_LINES) -> str:
    """The start of `pending` up to its `lines`-th line break (all of it when it has fewer)."""
    end = 0
    for _ in range(lines):
        found = pending.find("\n", end)
        if found < 0:
            return pending
        end = found + 1
    return pending[:end]


def _appendable(markdown: str) -> bool:
    """Markdown.append counts lines with str.splitlines, the parser only at newlines: the two agree
    unless the text holds a line or paragraph separator (every other break splitlines knows is a
    control character, shown escaped)."""
    return "\u2028" not in markdown and "\u2029" not in markdown


class AnswerView(Markdown):
    """Markdown that is given the whole latest text and draws only what changed."""

    # Textual declares BLOCKS as an attribute, not a ClassVar: an override must match it.
    BLOCKS: dict[str, type[MarkdownBlock]] = {**Markdown.BLOCKS, "table_open": _WholeTable}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown = ""  # the text the document holds
        self._target = ""  # the text it is to hold
        self._drawing: Worker[None] | None = None

    @property
    def drawing(self) -> bool:
        """True until the document holds the latest text it was given."""
        return self._drawing is not None

    def show(self, markdown: str) -> None:
        """Make the document `markdown`, soon: appended when it extends the text shown, else whole."""
        self._target = markdown
        if self._drawing is None and self._target != self._shown:
            self._drawing = self.run_worker(self._draw(), group="answer", description="answer text")

    async def _draw(self) -> None:
        try:
            with collector.held():
                while self._shown != self._target:
                    await self._draw_pass(self._target)
                    await self.wait_for_refresh()  # the screen lays out this pass before the next is drawn
        finally:
            self._drawing = None

    async def _draw_pass(self, target: str) -> None:
        if self._shown and target.startswith(self._shown) and _appendable(target):
            piece = _next_piece(target[len(self._shown) :])
            await self.append(piece)
            self._shown += piece
        else:
            await self.update(target)
            self._shown = target
