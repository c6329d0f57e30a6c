"""A turn's answer as markdown, drawn as it streams in without holding the screen.

A growing answer is drawn with Markdown.append, which re-parses only the document's last block, so a
chunk costs work in proportion to that block, not to the whole answer (re-rendering the whole answer on
every chunk held the screen for seconds on a long one). Chunks that arrive while the view is drawing
are drawn together in the next pass. One pass at a time touches the document: Markdown.append reads
the document's state before it takes its lock, so overlapping calls would draw a block twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownBlock
from textual.worker import Worker

_Table: Any = Markdown.BLOCKS["table_open"]


class _WholeTable(_Table):
    """A table drawn anew when it grows: Textual's in-place growth adds rows as plain Statics, unlike
    the cells of a table drawn at once (links in them would do nothing)."""

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        await MarkdownBlock._update_from_block(self, block)


def _appendable(markdown: str) -> bool:
    """Markdown.append counts lines with str.splitlines, the parser only at newlines: the two agree
    unless the text holds a line or paragraph separator (every other break splitlines knows is a
    control character, shown escaped)."""
    return "\u2028" not in markdown and "\u2029" not in markdown


class AnswerView(Markdown):
    """Markdown that is given the whole latest text and draws only what changed."""

    BLOCKS: ClassVar[dict[str, type[MarkdownBlock]]] = {**Markdown.BLOCKS, "table_open": _WholeTable}

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
            while self._shown != self._target:
                target = self._target
                if self._shown and target.startswith(self._shown) and _appendable(target):
                    await self.append(target[len(self._shown) :])
                else:
                    await self.update(target)
                self._shown = target
        finally:
            self._drawing = None
