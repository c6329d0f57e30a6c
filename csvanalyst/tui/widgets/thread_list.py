"""Recent threads; choosing one reopens it in the conversation."""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from csvanalyst.core.records import ThreadRecord


class ThreadList(OptionList):
    def set_threads(self, records: list[ThreadRecord], active: str | None) -> None:
        self.clear_options()
        for record in records:
            mark = "● " if record.id == active else ""
            self.add_option(Option(f"{mark}{record.title[:40]}  [dim]{record.id}[/dim]", id=record.id))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
