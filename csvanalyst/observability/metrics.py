"""Prometheus metrics of one server: HTTP traffic, agent turns, sandbox runs, model tokens.

Each app gets its own registry, so several apps in one process (the tests) never collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180)


class Metrics:
    """The counters the server updates; `render()` is the /metrics body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "csvanalyst_http_requests", "HTTP requests.", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            "csvanalyst_http_request_duration_seconds",
            "Time to the response's first byte.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.turns = Counter("csvanalyst_agent_turns", "Agent turns by final status.", ["status"], registry=r)
        self.runs = Counter(
            "csvanalyst_sandbox_runs", "Sandbox runs by executor and outcome.", ["executor", "outcome"], registry=r
        )
        self.run_seconds = Histogram(
            "csvanalyst_sandbox_run_seconds", "Wall time of sandbox runs.", buckets=LATENCY_BUCKETS, registry=r
        )
        self.tokens = Counter("csvanalyst_model_tokens", "Model tokens.", ["direction"], registry=r)
        self.active_runs = Gauge("csvanalyst_sandbox_runs_active", "Sandbox runs in progress.", registry=r)
        self.aborted_streams = Counter(
            "csvanalyst_sse_aborted", "Event streams that ended before their turn (client went away).", registry=r
        )
        self.rejected = Counter("csvanalyst_admission_rejected", "Requests refused with 429.", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
