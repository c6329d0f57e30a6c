"""The chart's tracing values become the server's MLflow settings; off by default."""

from __future__ import annotations

from typing import Any

from tests.integration.test_chart import chart, env, render  # noqa: F401  (chart is a fixture)


def test_tracing_is_off_by_default_and_uses_the_local_store(chart: Any) -> None:  # noqa: F811
    variables = env(render(chart, {}))
    assert variables["CSVANALYST_MLFLOW_ENABLED"] == "false"
    assert "CSVANALYST_MLFLOW_TRACKING_URI" not in variables  # the SQLite store under CSVANALYST_HOME


def test_tracing_values_point_the_server_at_a_tracking_server(chart: Any) -> None:  # noqa: F811
    values = {"tracing": {"enabled": True, "trackingUri": "http://mlflow.mlops:5000", "experimentName": "prod"}}
    variables = env(render(chart, values))
    assert variables["CSVANALYST_MLFLOW_ENABLED"] == "true"
    assert variables["CSVANALYST_MLFLOW_TRACKING_URI"] == "http://mlflow.mlops:5000"
    assert variables["CSVANALYST_MLFLOW_EXPERIMENT_NAME"] == "prod"
