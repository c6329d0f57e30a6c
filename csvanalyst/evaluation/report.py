"""An evaluation's report: accuracy overall and by kind, how it failed, what it cost; and two reports compared."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from csvanalyst.errors import UsageError
from csvanalyst.evaluation.runner import CaseResult

REPORT_VERSION = 1


def summarize(results: list[CaseResult], *, suite: str, provider: str, model: str) -> dict[str, Any]:
    """The JSON report: every case, and the totals a reader compares across models."""
    return {
        "version": REPORT_VERSION,
        "suite": suite,
        "provider": provider,
        "model": model,
        "overall": _totals(results),
        "by_kind": {
            kind: _totals([r for r in results if r.kind == kind]) for kind in sorted({r.kind for r in results})
        },
        "cases": [r.model_dump() for r in results],
    }


def _totals(results: list[CaseResult]) -> dict[str, Any]:
    count = {
        verdict: sum(r.verdict == verdict for r in results) for verdict in ("right", "wrong", "declined", "failed")
    }
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    latencies = sorted(r.latency_s for r in results)
    return {
        "questions": len(results),
        **count,
        "accuracy": round(count["right"] / len(results), 4) if results else 0.0,
        "calls": sum(r.calls for r in results),
        "input_tokens": sum(r.input_tokens for r in results),
        "output_tokens": sum(r.output_tokens for r in results),
        "cost_usd": round(sum(costs), 6) if costs else None,
        "latency_p50_s": _percentile(latencies, 0.50),
        "latency_p95_s": _percentile(latencies, 0.95),
    }


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return 0.0
    return round(values[max(0, math.ceil(q * len(values)) - 1)], 4)


SUMMARY_COLUMNS = (
    "kind",
    "questions",
    "right",
    "wrong",
    "declined",
    "failed",
    "accuracy",
    "calls",
    "tokens",
    "cost_usd",
    "p50_s",
    "p95_s",
)


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One row per kind and an `all` row, in SUMMARY_COLUMNS order."""
    rows = [_row(kind, totals) for kind, totals in report["by_kind"].items()]
    return [*rows, _row("all", report["overall"])]


def _row(kind: str, t: dict[str, Any]) -> list[Any]:
    cost = "-" if t["cost_usd"] is None else f"{t['cost_usd']:.4f}"
    return [
        kind,
        t["questions"],
        t["right"],
        t["wrong"],
        t["declined"],
        t["failed"],
        f"{t['accuracy']:.1%}",
        t["calls"],
        t["input_tokens"] + t["output_tokens"],
        cost,
        f"{t['latency_p50_s']:.2f}",
        f"{t['latency_p95_s']:.2f}",
    ]


def markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown table, for a pull-request comment."""
    head = f"**{report['suite']}** with `{report['provider']}` (`{report['model']}`): "
    head += f"{report['overall']['right']}/{report['overall']['questions']} right ({report['overall']['accuracy']:.1%})"
    lines = [head, "", _md_row(SUMMARY_COLUMNS), _md_row(["---"] * len(SUMMARY_COLUMNS))]
    lines += [_md_row(row) for row in summary_rows(report)]
    misses = [c for c in report["cases"] if c["verdict"] != "right"]
    if misses:
        lines += ["", "| case | verdict | reason |", "| --- | --- | --- |"]
        lines += [_md_row([c["id"], c["verdict"], c["reason"]]) for c in misses]
    return "\n".join(lines) + "\n"


def _md_row(cells: Any) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def load_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"Cannot read the report {path}: {exc}.", hint="Give a file written by `eval --json`."
        ) from exc
    if not isinstance(report, dict) or report.get("version") != REPORT_VERSION or "cases" not in report:
        raise UsageError(f"{path} is not an eval report.", hint="Give a file written by `csvanalyst eval --json`.")
    return report


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed from `before` to `after`: accuracy by kind, and every case whose verdict changed."""
    old = {c["id"]: c for c in before["cases"]}
    new = {c["id"]: c for c in after["cases"]}
    kinds = sorted(set(before["by_kind"]) | set(after["by_kind"]))
    return {
        "before": {k: before[k] for k in ("suite", "provider", "model")},
        "after": {k: after[k] for k in ("suite", "provider", "model")},
        "accuracy": {kind: [_accuracy(before, kind), _accuracy(after, kind)] for kind in [*kinds, "all"]},
        "changed": [
            {"id": i, "before": old[i]["verdict"], "after": new[i]["verdict"], "question": new[i]["question"]}
            for i in sorted(set(old) & set(new))
            if old[i]["verdict"] != new[i]["verdict"]
        ],
        "only_before": sorted(set(old) - set(new)),
        "only_after": sorted(set(new) - set(old)),
    }


def _accuracy(report: dict[str, Any], kind: str) -> float | None:
    totals = report["overall"] if kind == "all" else report["by_kind"].get(kind)
    return None if totals is None else totals["accuracy"]
