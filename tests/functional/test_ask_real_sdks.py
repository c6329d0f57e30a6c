"""`csvanalyst ask` driving the real loop through the real openai/anthropic SDKs, against a local server
that speaks their wire formats (no paid API: CSVANALYST_ALLOW_MODEL_REQUESTS=0 keeps clients on loopback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.testing.wire_server import Reply, ScriptedCall, WireServer

PLAN = {"table": "orders", "select": ["status"], "aggregates": [{"fn": "count", "as": "n"}]}


def run_ask(env_extra: dict[str, str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_ALLOW_MODEL_REQUESTS": "0", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "csvanalyst", "ask", "orders by status", "-d", "retail", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_ask_runs_the_loop_over_a_wire_format_server(provider: str, isolated_home: Path) -> None:
    script = [
        Reply(status=429, retry_after=0),
        Reply(tool_calls=[ScriptedCall("run_plan", {"plan": PLAN})], input_tokens=900, output_tokens=40),
        Reply(text="Most orders are delivered.", input_tokens=1200, output_tokens=12),
    ]
    with WireServer(script) as server:
        env = (
            # the full QueryPlan tool set over the real SDK (a local base URL would pick the compact one)
            {"OPENAI_BASE_URL": server.openai_url, "OPENAI_MODEL": "gpt-4o-mini", "CSVANALYST_TOOL_SET": "full"}
            if provider == "openai"
            else {"ANTHROPIC_API_KEY": "test-key-abcd", "ANTHROPIC_BASE_URL": server.url}
        )
        proc = run_ask(env, isolated_home, "--provider", provider)
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    run = doc["runs"][0]
    assert dict(run["rows"])["delivered"] > 0
    assert doc["answer"].startswith("Most orders are delivered.") and run["run_id"] in doc["answer"]
    assert doc["usage"]["input_tokens"] == 2100 and doc["usage"]["output_tokens"] == 52
    assert len(requests) == 3  # the 429 was retried by our client
    first = json.dumps(requests[1].body)
    assert "<dataset_schema>" in first and "run_plan" in first
    second = json.dumps(requests[2].body)
    assert run["run_id"] in second  # the tool result went back to the model
    assert "test-key-abcd" not in first + second


def test_model_that_never_stops_calling_tools_ends_with_budget_error(isolated_home: Path) -> None:
    forever = Reply(tool_calls=[ScriptedCall("describe_table", {"table": "orders"})])
    with WireServer([], repeat=forever) as server:
        proc = run_ask({"OPENAI_BASE_URL": server.openai_url}, isolated_home, "--provider", "openai")
        calls = len(server.requests)
    assert proc.returncode == 7, proc.stderr  # not answered: README's exit-code table, not 1 (a bug)
    doc = json.loads(proc.stdout)
    assert doc["status"] == "failed" and doc["error"]["code"] == "step_budget"
    assert calls == 6


def test_unknown_model_is_a_clear_environment_error(isolated_home: Path) -> None:
    script = [Reply(status=404, error_message="The model `gpt-9` does not exist", error_code="model_not_found")]
    with WireServer(script) as server:
        proc = run_ask(
            {"OPENAI_BASE_URL": server.openai_url}, isolated_home, "--provider", "openai", "--model", "gpt-9"
        )
    assert proc.returncode == 6
    doc = json.loads(proc.stdout)
    assert "gpt-9" in doc["error"]["message"] and "Traceback" not in proc.stderr


def test_config_file_model_and_base_url_are_honoured_and_usage_names_them(isolated_home: Path) -> None:
    """Only config.toml says where the model is: `auto` picks it, the request names the model, and the
    usage of the answer says which provider and model answered. A typo'd key is warned about."""
    script = [
        Reply(tool_calls=[ScriptedCall("run_plan", {"plan": PLAN})]),
        Reply(text="Most orders are delivered."),
    ]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_", "CSVANALYST_MODEL"))}
    with WireServer(script) as server:
        (isolated_home / "config.toml").write_text(
            f'model = "my-local-model"\nopenai_base_url = "{server.openai_url}"\ntool_set = "full"\nmodle = "typo"\n'
        )
        env = {**clean, "CSVANALYST_HOME": str(isolated_home), "CSVANALYST_ALLOW_MODEL_REQUESTS": "0"}
        proc = subprocess.run(
            [sys.executable, "-m", "csvanalyst", "ask", "orders by status", "-d", "retail", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        requests = list(server.requests)
    assert proc.returncode == 0, proc.stderr
    assert requests and all(r.body["model"] == "my-local-model" for r in requests)
    usage = json.loads(proc.stdout)["usage"]
    assert usage["provider"] == "openai" and usage["model"]
    assert "unknown setting `modle`" in proc.stderr and "did you mean `model`" in proc.stderr
    shown = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "config", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    rows = {r["name"]: r for r in json.loads(shown.stdout)["settings"]}
    assert rows["model"]["value"] == "my-local-model" and rows["model"]["source"].startswith("config file")
    assert rows["openai_base_url"]["value"] == server.openai_url
