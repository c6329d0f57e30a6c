"""The slash commands in the command palette (Ctrl+P), so they can be found without memorising them."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

from csvanalyst.tui.commands import COMMANDS


class SlashCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text in COMMANDS.items():
            score = matcher.match(f"{name} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self._prefill, name), help=help_text)

    def _prefill(self, name: str) -> None:
        self.app.action_prefill(f"{name} ")  # type: ignore[attr-defined]
