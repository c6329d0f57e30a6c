"""The offline planner: a deterministic, rule-based ModelClient that needs no key and no network.

It reads the schema context from the system prompt, turns the question into a QueryPlan with fixed
rules, and answers from the rows of the run. When a question does not fit its rules it says so, lists
what it can do with examples built from the dataset's own column names, and shows the ways out
(`SQL: SELECT ...`, or configuring OPENAI_API_KEY / ANTHROPIC_API_KEY / OPENAI_BASE_URL). It never
guesses silently: every word of a question must be understood, or it declines.

Question shapes it answers:

- Counts: "how many orders", "number of tickets per priority", "count of readings by device",
  "how many distinct customers" (a column counted = distinct values; a table counted = rows).
- Aggregates of a column (total/sum, average/mean, minimum, maximum, median, "90th percentile of",
  "p95"), optionally by one or two columns ("by", "per", "for each", "across") and filtered:
  "average satisfaction by channel for high priority tickets", "sum of quantity by category and
  region", "total revenue per month in 2024". "Revenue"/"sales" with no such column is
  quantity × price when one table has exactly one of each (the answer says so).
- Top/bottom N: "top 5 products by revenue", "bottom 3 agents by average satisfaction",
  "which region has the most orders", "which month had the most tickets". A table named as the
  entity is shown by its name column (joined through a shared `*_id` key) or by its key. A bare
  measure is summed when it adds up (quantity, amount, revenue, cost) and averaged otherwise.
- Distinct values: "which regions are there", "list the distinct channels", "what are the categories".
- Trends: "orders per month", "weekly average temperature", "tickets created per quarter in 2024"
  (day, week, month, quarter, year; "monthly", "daily", ...; "over time" = per month).
- Filters: category values named anywhere ("shipped orders", "in the north region"), numbers
  ("with quantity over 3", "at least", "below"), periods ("in 2024", "in March 2024", "in Q1 2024",
  "between 2023 and 2024", "since 2024", "before 2025"). A period applies to the date column the
  question names ("resolved in 2024"), else the table's only or main date column (`created...`,
  `order_date`, ...); with several candidates the planner asks.
- `SQL: SELECT ...` runs the SQL as written.

Matching tolerates case, plurals, snake_case vs spaces, storage suffixes (`device` = `device_id`,
`temperature` = `temperature_c`) and near-misses; see `offline/match.py`. A category value written in
several spellings in the data ("North", "north ", "NORTH") is filtered with `in` on all of them.
When the schema context has no full value list for a column (more than 30 distinct values), a value
seen in its samples is filtered with `in` on the spellings seen. Groups keep the data's own spellings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from csvanalyst.llm.base import Message, ModelSettings, TextChunk, ToolCall, ToolSpec, Turn, Usage
from csvanalyst.llm.offline.answer import answer, decline, failure, sql_answer
from csvanalyst.llm.offline.build import Draft, build_plan
from csvanalyst.llm.offline.match import Catalog
from csvanalyst.llm.offline.parse import parse_question
from csvanalyst.llm.offline.resolve import Unsure

SQL_PREFIX = "sql:"


class OfflinePlanner:
    """A ModelClient that plans with rules; the same messages always give the same turn."""

    provider = "offline"

    def __init__(self, model: str = "rules") -> None:
        self.model = model

    def complete(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Turn:
        catalog = _catalog(messages)
        last = messages[-1] if messages else None
        if last is not None and last.role == "tool":
            return self._final(_respond_to_tool(messages, last, catalog))
        if _is_check_of_own_answer(messages):
            # Every number of a planner answer is read from the run's rows: the same answer stands.
            return self._final(_respond_to_tool(messages[:-2], messages[-3], catalog))
        question = _question(messages)
        if question.strip().lower().startswith(SQL_PREFIX):
            return self._call("run_sql", {"sql": question.strip()[len(SQL_PREFIX) :].strip()})
        if catalog is None:
            return self._final(decline("no dataset schema was given to plan against", None))
        try:
            draft = plan_in_thread(messages, catalog)
        except Unsure as exc:
            return self._final(decline(str(exc), catalog))
        names = {t.name for t in tools}
        if names and "run_plan" not in names:
            return self._final(decline("the plan tool is not available here", catalog))
        return self._call("run_plan", {"plan": draft.plan})

    def stream(
        self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings
    ) -> Iterator[TextChunk | Turn]:
        turn = self.complete(messages, tools, settings)
        if turn.text:
            yield TextChunk(text=turn.text)
        yield turn

    def _call(self, name: str, arguments: dict[str, Any]) -> Turn:
        call = ToolCall(id="call_1", name=name, arguments=json.dumps(arguments, ensure_ascii=False))
        return Turn(tool_calls=[call], stop="tool_use", raw_stop_reason="tool_use", usage=_free(), model=self.model)

    def _final(self, text: str) -> Turn:
        return Turn(text=text, stop="end", raw_stop_reason="end", usage=_free(), model=self.model)


def plan_question(question: str, catalog: Catalog) -> Draft:
    """The plan (and answer template) for a question; raises Unsure instead of guessing."""
    return build_plan(parse_question(question), catalog)


# Words that add to the previous question; "what about X" replaces part of it, which is not read here.
FOLLOW_UP_LEADS = ("and", "only", "just", "also", "now", "but")


def plan_in_thread(messages: list[Message], catalog: Catalog) -> Draft:
    """The question alone, or, when it only makes sense after the previous one ("and by month?",
    "only for the north region"), the previous question with the new words added; the answer says so."""
    question = _question(messages)
    previous = _previous_question(messages)
    words = question.strip().rstrip("?").strip()
    lead = next((w for w in FOLLOW_UP_LEADS if words.lower().startswith(w + " ")), None)
    rest = words[len(lead) :].strip() if lead else ""
    if previous is not None and lead is not None and rest.split()[0].lower() in _QUALIFIERS:
        return _follow_up(previous, rest, catalog)  # "and by month": nothing to compute of its own
    try:
        return plan_question(question, catalog)
    except Unsure:
        if previous is None or lead is None:
            raise
    return _follow_up(previous, rest, catalog)


# A follow-up starting with one of these only adds a grouping, a condition or a period.
_QUALIFIERS = frozenset({"by", "per", "for", "in", "on", "with", "at", "from", "during", "since", "before",
                         "after", "between", "only", "just", "excluding", "among"})  # fmt: skip


def _follow_up(previous: str, rest: str, catalog: Catalog) -> Draft:
    if parse_question(rest).period is not None and parse_question(previous).period is not None:
        raise Unsure(f"“{rest}” changes the period of “{previous.strip()}”: ask the whole question again")
    draft = plan_question(f"{previous.strip().rstrip('?')} {rest}", catalog)
    draft.notes.insert(0, f"a follow-up of “{previous.strip()}”")
    return draft


def _previous_question(messages: list[Message]) -> str | None:
    """The thread's previous question, with its own follow-up words folded into the one before it."""
    users = [m.content for m in messages if m.role == "user"][:-1]
    if not users:
        return None
    text = users[-1].strip().rstrip("?").strip()
    for earlier in reversed(users[:-1]):
        lead = next((w for w in FOLLOW_UP_LEADS if text.lower().startswith(w + " ")), None)
        if lead is None:
            break
        text = f"{earlier.strip().rstrip('?').strip()} {text[len(lead) :].strip()}"
    return text


def _free() -> Usage:
    return Usage(input_tokens=0, output_tokens=0, cost_usd=0.0)


def _catalog(messages: list[Message]) -> Catalog | None:
    from csvanalyst.agent.context import extract_schema_context

    for message in messages:
        if message.role == "system":
            context = extract_schema_context(message.content)
            if context is not None:
                return Catalog(context)
    return None


def _is_check_of_own_answer(messages: list[Message]) -> bool:
    """A user message right after this turn's answer to a tool result: the loop checking the answer."""
    return (
        len(messages) >= 3
        and messages[-1].role == "user"
        and messages[-2].role == "assistant"
        and not messages[-2].tool_calls
        and messages[-3].role == "tool"
    )


def _question(messages: list[Message]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def _call_name(messages: list[Message], call_id: str | None) -> str:
    for message in reversed(messages):
        for call in message.tool_calls:
            if call.id == call_id:
                return call.name
    return ""


def _respond_to_tool(messages: list[Message], last: Message, catalog: Catalog | None) -> str:
    """The final answer from a tool result: rows, or an honest failure."""
    try:
        result = json.loads(last.content)
    except json.JSONDecodeError:
        return failure(last.content, None)
    if not isinstance(result, dict):
        return failure(last.content, None)
    if last.is_error or "error" in result:
        return failure(result.get("error", last.content), result.get("run_id"))
    if _call_name(messages, last.tool_call_id) != "run_plan" or catalog is None:
        return sql_answer(result)
    try:
        draft = plan_in_thread(messages, catalog)
    except Unsure:
        return sql_answer(result)
    return answer(draft, result)
