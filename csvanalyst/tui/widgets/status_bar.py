"""One line: provider, model, sandbox, dataset, thread, tokens and cost of the thread."""

from __future__ import annotations

from typing import Any

from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    provider = reactive("")
    model = reactive("")
    sandbox = reactive("")
    dataset = reactive("")
    thread = reactive("")
    tokens = reactive(0)
    cost: reactive[float | None] = reactive(0.0)
    busy = reactive("")

    def render(self) -> Any:
        return self.line(self.size.width)

    def line(self, width: int) -> str:
        """The full line when it fits; else a compact one, the busy state first, cut to the width."""
        cost = "cost n/a" if self.cost is None else f"${self.cost:.4f}"
        parts = [
            f"{self.provider or '?'} · {self.model or '?'}",
            f"sandbox {self.sandbox}",
            f"dataset {self.dataset or '-'}",
            f"thread {self.thread or 'new'}",
            f"{self.tokens:,} tokens · {cost}",
        ]
        full = " │ ".join([*parts, self.busy] if self.busy else parts)
        if not width or len(full) <= width:
            return full
        compact = [self.busy, self.dataset or "-", self.thread or "new thread", self.model or self.provider or "?"]
        compact += [self.sandbox, f"{self.tokens:,} tok · {cost}"]
        text = " │ ".join(p for p in compact if p)
        return text if len(text) <= width else text[: max(width - 1, 0)] + "…"

    def add_usage(self, tokens: int, cost: float | None) -> None:
        """Usage of the thread in this session; an unknown price makes the total unknown."""
        self.tokens += tokens
        self.cost = None if cost is None or self.cost is None else self.cost + cost

    def reset_usage(self) -> None:
        self.tokens, self.cost = 0, 0.0
