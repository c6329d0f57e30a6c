"""With tracing on, an evaluation is also an MLflow evaluation run: each question's trace, scored by the same
execution match (a deterministic scorer, no LLM judge), so two models can be compared in the MLflow UI."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING, Any

from csvanalyst.observability.mlflow_setup import tracking, warn_once

if TYPE_CHECKING:
    from csvanalyst.config import Settings


def log_evaluation(report: dict[str, Any], settings: Settings) -> str | None:
    """The MLflow run id of the logged evaluation; None (after one warning) when it could not be logged."""
    ready = tracking(settings)
    if ready is None:
        return None
    mlflow = ready.mlflow
    try:
        mlflow.flush_trace_async_logging()
        rows = [_row(mlflow, case) for case in report["cases"]]
        name = f"eval {report['suite']} {report['provider']}/{report['model']}"
        with mlflow.start_run(experiment_id=ready.experiment_id, run_name=name) as run:
            mlflow.log_params({"suite": report["suite"], "provider": report["provider"], "model": report["model"]})
            mlflow.log_metrics(_metrics(report))
            with contextlib.redirect_stdout(io.StringIO()):  # its banner would corrupt `eval --json` output
                mlflow.genai.evaluate(data=rows, scorers=[_execution_match(mlflow)])
            return str(run.info.run_id)
    except Exception as exc:
        warn_once(f"Logging the evaluation to MLflow failed ({type(exc).__name__}: {str(exc)[:200]}).")
        return None


def _row(mlflow: Any, case: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "inputs": {"question": case["question"]},
        "outputs": {"answer": case["answer"], "verdict": case["verdict"], "reason": case["reason"]},
        "expectations": {"kind": case["kind"], "unanswerable": case["unanswerable"], "case_id": case["id"]},
    }
    if case.get("trace_id"):
        trace = mlflow.get_trace(case["trace_id"])
        if trace is not None:
            row["trace"] = trace
    return row


def _execution_match(mlflow: Any) -> Any:
    from mlflow.entities import Feedback
    from mlflow.genai.scorers import scorer

    @scorer(name="execution_match")
    def execution_match(outputs: dict[str, Any]) -> Any:
        return Feedback(value=outputs.get("verdict") == "right", rationale=str(outputs.get("reason", "")))

    return execution_match


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    overall = report["overall"]
    metrics = {
        "accuracy": overall["accuracy"],
        "wrong": overall["wrong"],
        "declined": overall["declined"],
        "failed": overall["failed"],
        "model_calls": overall["calls"],
        "tokens": overall["input_tokens"] + overall["output_tokens"],
        "latency_p50_s": overall["latency_p50_s"],
        "latency_p95_s": overall["latency_p95_s"],
    }
    if overall["cost_usd"] is not None:
        metrics["cost_usd"] = overall["cost_usd"]
    for kind, totals in report["by_kind"].items():
        metrics[f"accuracy.{kind}"] = totals["accuracy"]
    return metrics
