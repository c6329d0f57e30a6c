"""One MLflow trace per turn: an AGENT span holding LLM, TOOL and sandbox-run spans.

Spans are started and ended explicitly, each with its parent named, because a turn is a generator that
may resume on another thread: nothing here relies on a "current span". Export happens off the request
path (MLflow's async trace logging). Any tracing failure is logged once and the turn goes on untraced.
Secret values from the environment are scrubbed from everything recorded, and cell values appear only
as far as the model saw them (its messages and the tool results it read back).
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import TYPE_CHECKING, Any

from csvanalyst.observability.mlflow_setup import Tracking, warn_once
from csvanalyst.observability.trace_links import RUN_IDS_TAG

if TYPE_CHECKING:
    from csvanalyst.agent.loop import TurnState
    from csvanalyst.agent.tools import ToolOutcome
    from csvanalyst.catalog.schema import DatasetInfo
    from csvanalyst.config import Settings
    from csvanalyst.events import Event
    from csvanalyst.llm.base import Message, ModelSettings, ToolCall, ToolSpec, Turn

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
MIN_SECRET_LENGTH = 8


def start_turn_trace(
    settings: Settings, question: str, dataset: DatasetInfo, *, thread_id: str, user: str | None
) -> TurnTracer | None:
    """The turn's tracer, its trace started; None when the tracking store cannot be reached."""
    import getpass

    from csvanalyst.observability.mlflow_setup import tracking

    ready = tracking(settings)
    if ready is None:
        return None
    tracer = TurnTracer(ready, settings)
    tracer.start(question, dataset, thread_id=thread_id, user=user or getpass.getuser())
    return tracer


class TurnTracer:
    """Implements the agent loop's TurnObserver, plus the turn's own start and end."""

    def __init__(self, tracking: Tracking, settings: Settings) -> None:
        self._mlflow = tracking.mlflow
        self._experiment_id = tracking.experiment_id
        self._settings = settings
        self._root: Any = None
        self._grounded: bool | None = None
        self._secrets = _secret_values()
        self.trace_id: str | None = None
        self.thread_id = ""

    def start(self, question: str, dataset: DatasetInfo, *, thread_id: str, user: str) -> None:
        from csvanalyst import __version__

        metadata = {
            "mlflow.trace.session": thread_id,
            "mlflow.trace.user": user,
            "csvanalyst.thread_id": thread_id,
            "csvanalyst.dataset": dataset.name,
            "csvanalyst.fingerprint": dataset.fingerprint or "",
            "csvanalyst.version": __version__,
        }
        self.thread_id = thread_id
        try:
            self._start(question, metadata)
        except Exception as exc:
            warn_once(f"Tracing failed ({type(exc).__name__}: {str(exc)[:200]}); this turn goes on untraced.")

    def _start(self, question: str, metadata: dict[str, str]) -> None:
        self._root = self._mlflow.start_span_no_context(
            "turn",
            span_type="AGENT",
            inputs={"question": self._clean(question)},
            metadata=metadata,
            experiment_id=self._experiment_id,
        )
        self.trace_id = self._root.trace_id

    def event(self, event: Event) -> None:
        """Watch the turn's events for what only they carry (the answer's grounded flag)."""
        if getattr(event, "type", "") == "answer":
            self._grounded = bool(getattr(event, "grounded", True))

    def finish(self, state: TurnState) -> None:
        self._guard(self._finish, state)

    def _finish(self, state: TurnState) -> None:
        if self._root is None:
            return
        from mlflow.tracing.provider import detach_span_from_context, set_span_in_context

        grounded = "" if self._grounded is None else str(self._grounded).lower()
        token = set_span_in_context(self._root)
        try:
            self._mlflow.update_current_trace(
                metadata={
                    "csvanalyst.grounded": grounded,
                    "csvanalyst.status": state.status,
                    "csvanalyst.provider": self._provider,
                    "csvanalyst.model": self._model,
                },
                tags={RUN_IDS_TAG: ",".join(state.run_ids)},
            )
        finally:
            detach_span_from_context(token)
        usage = state.usage
        self.end(
            self._root,
            outputs={"answer": state.answer, "status": state.status, "run_ids": state.run_ids},
            attributes={
                "grounded": grounded,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cost_usd": usage.cost_usd,
            },
            status="OK" if state.status in ("answered", "declined") else "ERROR",
        )
        self._root = None

    # TurnObserver ---------------------------------------------------------------------------------

    def model_started(self, messages: list[Message], tools: list[ToolSpec], settings: ModelSettings) -> Any:
        return self._guard(self._model_started, messages, tools)

    def _model_started(self, messages: list[Message], tools: list[ToolSpec]) -> Any:
        span = self._child(
            "model",
            "LLM",
            {"messages": [m.model_dump(exclude_defaults=True) for m in messages]},
        )
        span.set_attribute("tools_offered", [t.name for t in tools])
        return (span, time.monotonic())

    def model_finished(self, token: Any, turn: Turn | None, error: BaseException | None) -> None:
        self._guard(self._model_finished, token, turn, error)

    def _model_finished(self, token: Any, turn: Turn | None, error: BaseException | None) -> None:
        if token is None:
            return
        span, started = token
        latency_s = round(time.monotonic() - started, 4)
        if turn is None:
            self.end(span, None, {"latency_s": latency_s, "error": _error_text(error)}, "ERROR")
            return
        usage = turn.usage
        self.end(
            span,
            outputs={
                "text": turn.text,
                "tool_calls": [c.model_dump() for c in turn.tool_calls],
                "stop": turn.stop,
            },
            attributes={
                "mlflow.llm.model": turn.model,
                "mlflow.chat.tokenUsage": {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                    "total_tokens": usage.input_tokens + usage.output_tokens,
                },
                "cost_usd": usage.cost_usd,
                "latency_s": latency_s,
                "stop_reason": turn.raw_stop_reason or turn.stop,
            },
        )

    def set_provider(self, provider: str, model: str) -> None:
        """The provider and model of every later LLM span (known once the client is created)."""
        self._provider = provider
        self._model = model

    _provider = ""
    _model = ""

    def tool_started(self, call: ToolCall) -> Any:
        return self._guard(self._tool_started, call)

    def _tool_started(self, call: ToolCall) -> Any:
        span = self._child(call.name, "TOOL", {"call_id": call.id, "raw_arguments": call.arguments})
        return (span, time.time_ns())

    def tool_finished(self, token: Any, arguments: dict[str, Any], outcome: ToolOutcome) -> None:
        self._guard(self._tool_finished, token, arguments, outcome)

    def _tool_finished(self, token: Any, arguments: dict[str, Any], outcome: ToolOutcome) -> None:
        from csvanalyst.observability.trace_runs import record_runs, tool_attributes

        if token is None:
            return
        span, started_ns = token
        attributes = tool_attributes(arguments, outcome)
        record_runs(self, span, started_ns, self._settings)
        self.end(
            span,
            outputs={"result_seen_by_model": outcome.content},
            attributes=attributes,
            status="ERROR" if outcome.is_error else "OK",
        )

    # helpers ---------------------------------------------------------------------------------------

    def child(self, parent: Any, name: str, span_type: str, inputs: Any, start_time_ns: int | None = None) -> Any:
        """A span under `parent`, its inputs scrubbed of secrets."""
        return self._mlflow.start_span_no_context(
            name,
            span_type=span_type,
            parent_span=parent,
            inputs=self._clean(inputs),
            start_time_ns=start_time_ns,
        )

    def end(
        self,
        span: Any,
        outputs: Any = None,
        attributes: dict[str, Any] | None = None,
        status: str = "OK",
        end_time_ns: int | None = None,
    ) -> None:
        """End a span, its outputs and attributes scrubbed of secrets."""
        span.end(
            outputs=self._clean(outputs),
            attributes=self._clean(attributes or {}),
            status=status,
            end_time_ns=end_time_ns,
        )

    def _child(self, name: str, span_type: str, inputs: Any) -> Any:
        if self._root is None:
            return None
        span = self.child(self._root, name, span_type, inputs)
        if span_type == "LLM":
            span.set_attributes({"mlflow.llm.provider": self._provider, "provider": self._provider})
        return span

    def _clean(self, value: Any) -> Any:
        """`value` with every secret of the environment replaced by a marker."""
        if not self._secrets:
            return value
        text = json.dumps(value, default=str, ensure_ascii=False)
        for secret in self._secrets:
            text = text.replace(json.dumps(secret)[1:-1], "[redacted]")
        return json.loads(text)

    def _guard(self, method: Any, *args: Any) -> Any:
        """Run a tracing step; a failure switches tracing off for this turn, after one warning."""
        if self._root is None:
            return None
        try:
            return method(*args)
        except Exception as exc:
            warn_once(f"Tracing failed ({type(exc).__name__}: {str(exc)[:200]}); this turn goes on untraced.")
            self._root = None
            return None


def _secret_values() -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    values = {v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def _error_text(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}" if error is not None else ""
