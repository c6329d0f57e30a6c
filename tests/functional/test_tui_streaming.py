"""A streamed answer, drawn piece by piece as the model sends it, ends up drawn exactly as the same answer
drawn at once (a reopened thread): the real app, a ScriptedModel streaming word by word, Textual's Pilot.

The comparison is of what the answer view holds: every widget under it in order, with its kind, its
classes and the styled text it shows (Content markup: bold, code, links), so a lost or doubled piece of
text, a block drawn twice or a table cell drawn differently all show up as a difference.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.content import Content
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget

from csvanalyst.core.session import Session
from csvanalyst.llm.base import TextChunk
from csvanalyst.testing.scripted import ScriptedModel, answer
from csvanalyst.tui.widgets.answer_view import PASS_LINES, AnswerView
from csvanalyst.tui.widgets.turn_view import TurnView
from tests.functional.tui_helpers import drive, type_text, until

ANSWER = """## Sales by region

The **north** region leads with `1,234.50` in total sales (run 1a2b3c4d5e), see [the docs](https://example.com).

- north is first
- south is second, *well behind*

| region | rank | stores |
| --- | :---: | ---: |
| north | first | 3 |
| south | second | 2 |
| east | *last* | 1 |

```python
ranks = {"north": 1, "south": 2}
print(min(ranks, key=ranks.get))
```

1. check the **east** region
2. rerun with next year's data

That is all."""


class PacedModel(ScriptedModel):
    """Streams its answer word by word, each word only once the app has drawn the words before it, so
    the view draws the answer in as many pieces as it has words (a quick stream would be drawn in a
    few coalesced pieces). The wait is a handshake with the test, not a clock."""

    def __init__(self, text: str) -> None:
        super().__init__([answer(text)])
        self.sent = 0  # characters of text streamed so far
        self.go = threading.Event()

    def stream(self, messages: list[Any], tools: list[Any], settings: Any) -> Iterator[Any]:
        for item in super().stream(messages, tools, settings):
            yield item
            if isinstance(item, TextChunk):
                self.sent += len(item.text)
                if not self.go.wait(timeout=60):
                    raise AssertionError("the app never drew a streamed word")
                self.go.clear()


def _drawn(widget: Widget) -> list[tuple[str, str, str]]:
    """Every widget under `widget`, in document order: kind, classes, and the text it shows."""
    drawn = []
    for child in widget.walk_children(with_self=False):
        visual = getattr(child, "visual", None)
        text = visual.markup if isinstance(visual, Content) else str(getattr(child, "symbol", ""))
        drawn.append((type(child).__name__, " ".join(sorted(child.classes)), text))
    return drawn


def _stream_and_redraw(fault: Callable[[int, str], str] | None = None) -> dict[str, Any]:
    """One turn whose answer streams in; then the same answer drawn at once in a second turn view.

    `fault`, when given, turns the nth fragment the view appends into what is appended instead."""
    state: dict[str, Any] = {"appends": 0}
    model = PacedModel(ANSWER)
    original_append = AnswerView.append

    def append(view: AnswerView, fragment: str) -> Any:
        state["appends"] += 1
        return original_append(view, fault(state["appends"], fragment) if fault else fragment)

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        app: Any = pilot.app
        own_thresholds = gc.get_threshold()
        await type_text(pilot, "which region sells most?")
        await until(pilot, lambda: 1 in app.turns, "the turn starts")
        streamed = app.turns[1]
        released = {"up_to": -1}  # the text streamed when the model was last let go on

        def word_drawn() -> bool:
            if app.active_turn is None:
                return True
            sent = model.sent
            return sent > released["up_to"] and len(streamed.streamed) == sent and not streamed.answer_drawing

        while app.active_turn is not None:
            await until(pilot, word_drawn, "each streamed word is drawn")
            if app.active_turn is not None:
                state.setdefault("held_while_streaming", []).append(gc.get_threshold()[2] > own_thresholds[2])
            released["up_to"] = model.sent
            model.go.set()
        await until(pilot, lambda: not streamed.answer_drawing, "the streamed answer is drawn")
        redrawn = TurnView("which region sells most?")
        await app.conversation.mount(redrawn)
        redrawn.show_answer(ANSWER)
        await until(pilot, lambda: not redrawn.answer_drawing, "the one-shot answer is drawn")
        await pilot.pause()
        state.update(
            thresholds_after=gc.get_threshold(),
            streamed=_drawn(streamed.query_one(AnswerView)),
            one_shot=_drawn(redrawn.query_one(AnswerView)),
            kinds={kind.__name__ for w in redrawn.query_one(AnswerView).walk_children() for kind in type(w).__mro__},
            answer_text=streamed.answer_text,
            errors=[e.code for e in app.query("ErrorView")],
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AnswerView, "append", append)
        drive(scenario, session=Session(client=model))
    return state


def test_a_streamed_answer_is_drawn_exactly_as_the_same_answer_drawn_at_once() -> None:
    state = _stream_and_redraw()
    assert state["answer_text"] == ANSWER, state["errors"]
    # drawn in pieces as it streamed, not in one pass at the end
    assert state["appends"] > 50
    assert {"MarkdownH2", "MarkdownTable", "MarkdownFence", "MarkdownBulletList", "MarkdownOrderedList"} <= state[
        "kinds"
    ]
    cells = [text for kind, _, text in state["one_shot"] if kind == "MarkdownTableCellContents"]
    assert cells == [
        "region",
        "rank",
        "stores",
        "north",
        "first",
        "3",
        "south",
        "second",
        "2",
        "east",
        "[.em]last[/.em]",
        "1",
    ]
    assert any("ranks" in text and "print" in text for kind, _, text in state["one_shot"] if kind == "Label")
    assert state["streamed"] == state["one_shot"]
    # no full garbage collection while the turn streams; the collector's own thresholds after it
    assert len(state["held_while_streaming"]) > 50 and all(state["held_while_streaming"])
    assert state["thresholds_after"] == gc.get_threshold()


def _lose_one(n: int, fragment: str) -> str:
    return "" if n == 4 else fragment


def _double_one(n: int, fragment: str) -> str:
    return fragment * 2 if n == 4 else fragment


@pytest.mark.parametrize("fault", [_lose_one, _double_one], ids=["lost", "doubled"])
def test_the_comparison_catches_a_lost_or_doubled_piece(fault: Callable[[int, str], str]) -> None:
    state = _stream_and_redraw(fault)
    assert state["appends"] > 5
    assert state["streamed"] != state["one_shot"]


def test_an_answer_arriving_faster_than_the_screen_is_drawn_a_few_lines_per_pass_and_the_same() -> None:
    """A stream that outruns the screen (or a long answer given at once) reaches the view as one long
    extension: it is appended a bounded number of lines per pass, each laid out before the next."""
    fragments: list[str] = []
    state: dict[str, Any] = {}
    original_append = AnswerView.append

    def append(view: AnswerView, fragment: str) -> Any:
        fragments.append(fragment)
        return original_append(view, fragment)

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        app: Any = pilot.app
        burst, one_shot = TurnView("burst"), TurnView("one shot")
        await app.conversation.mount_all([burst, one_shot])
        first_line = ANSWER.split("\n", 1)[0]
        burst.query_one(AnswerView).show(first_line)
        await until(pilot, lambda: not burst.answer_drawing, "the first line is drawn")
        burst.query_one(AnswerView).show(ANSWER)
        one_shot.show_answer(ANSWER)
        await until(pilot, lambda: not (burst.answer_drawing or one_shot.answer_drawing), "both are drawn")
        await pilot.pause()
        state.update(burst=_drawn(burst.query_one(AnswerView)), one_shot=_drawn(one_shot.query_one(AnswerView)))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AnswerView, "append", append)
        drive(scenario)
    assert "".join(fragments) == ANSWER[len(ANSWER.split("\n", 1)[0]) :]
    assert len(fragments) >= ANSWER.count("\n") // PASS_LINES
    assert all(fragment.count("\n") <= PASS_LINES for fragment in fragments)
    assert state["burst"] == state["one_shot"]
