"""The real `csvanalyst` command in a subprocess: outputs, formats, exit codes, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from csvanalyst.events import from_json
from tests.support.slow import NEVER_ENDING_SQL

REPO = Path(__file__).resolve().parents[2]
RETAIL = REPO / "datasets" / "retail"


def cli(*args: str, stdin: str | None = None, home: Path, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "COLUMNS": str(columns)}
    proc = subprocess.run(
        [sys.executable, "-m", "csvanalyst", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def home(isolated_home: Path) -> Path:
    return isolated_home


def test_sql_json_matches_plain_duckdb(home: Path) -> None:
    proc = cli(
        "sql",
        "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status",
        "-d",
        "retail",
        "--format",
        "json",
        home=home,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"run_id", "columns", "rows", "row_count", "truncated"}
    assert doc["columns"] == [{"name": "status", "type": "VARCHAR"}, {"name": "n", "type": "BIGINT"}]
    expected = duckdb.sql(
        f"SELECT status, count(*) FROM read_csv('{RETAIL / 'orders.csv'}') GROUP BY status ORDER BY status"
    ).fetchall()
    assert [tuple(r) for r in doc["rows"]] == expected
    assert doc["row_count"] == len(expected) and doc["truncated"] is False


NUMBERS_SQL = "SELECT 1234567.891::DOUBLE AS a, -105.2258217::DOUBLE AS b, 0.000012345678::DOUBLE AS c"


def test_table_shows_numbers_by_the_core_rule_and_csv_json_stay_exact(home: Path) -> None:
    table = cli("sql", NUMBERS_SQL, "-d", "retail", "--format", "table", home=home)
    assert table.returncode == 0, table.stderr
    assert "1234567.891" in table.stdout and "-105.2258217" in table.stdout and "0.000012345678" in table.stdout
    assert "e+06" not in table.stdout and "-105.226 " not in table.stdout
    doc = json.loads(cli("sql", NUMBERS_SQL, "-d", "retail", "--format", "json", home=home).stdout)
    assert doc["rows"] == [[1234567.891, -105.2258217, 0.000012345678]]
    rows = list(csv.reader(io.StringIO(cli("sql", NUMBERS_SQL, "-d", "retail", "--format", "csv", home=home).stdout)))
    assert [float(v) for v in rows[1]] == [1234567.891, -105.2258217, 0.000012345678]
    (home / "config.toml").write_text("thousands_separator = true\n")
    grouped = cli("sql", NUMBERS_SQL, "-d", "retail", "--format", "table", home=home)
    assert "1,234,567.891" in grouped.stdout
    assert "1234567.891" in cli("sql", NUMBERS_SQL, "-d", "retail", "--format", "csv", home=home).stdout


def test_file_mode_csv_output_neutralises_formulas(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "My Data-2024.csv"
    data.write_text('name,amount\n=HYPERLINK("http://x"),-5\n@SUM(A1),3\nplain,1\n')
    proc = cli("sql", "SELECT * FROM my_data_2024 ORDER BY amount", "--file", str(data), "--format", "csv", home=home)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows == [["name", "amount"], ['\'=HYPERLINK("http://x")', "-5"], ["plain", "1"], ["'@SUM(A1)", "3"]]
    raw = cli(
        "sql",
        "SELECT name FROM my_data_2024 WHERE amount = -5",
        "--file",
        str(data),
        "--format",
        "csv",
        "--no-escape-formulas",
        home=home,
    )
    assert raw.stdout.splitlines()[1] == '"=HYPERLINK(""http://x"")"'
    assert data.read_text().startswith("name,amount\n=HYPERLINK")  # the input is never modified


def test_output_file_and_bad_extension(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    proc = cli("sql", "SELECT count(*) AS n FROM customers", "-d", "retail", "-o", str(target), home=home)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(target.read_text())["rows"][0][0] > 0
    bad = cli("sql", "SELECT 1", "-d", "retail", "-o", str(tmp_path / "out.xlsx"), home=home)
    assert bad.returncode == 2 and ".csv, .json or .parquet" in bad.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_plan_from_stdin(home: Path) -> None:
    plan = {
        "table": "orders",
        "select": ["status"],
        "aggregates": [{"fn": "count", "as": "n"}],
        "order_by": [{"column": "n", "desc": True}],
        "limit": 1,
    }
    proc = cli("plan", "-", "-d", "retail", "--format", "json", stdin=json.dumps(plan), home=home)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"][0][0] == "delivered"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["sql", "SELECT * FROM read_csv('/etc/passwd')", "-d", "retail"], 4, "forbidden"),
        (["sql", "DROP TABLE orders", "-d", "retail"], 4, "read-only"),
        (["sql", "SELECT * FROM ordrs", "-d", "retail"], 4, "orders"),
        (["sql", "SELECT quantiti FROM orders", "-d", "retail"], 4, "quantity"),
        (["sql", "SELECT FROM WHERE", "-d", "retail"], 4, "syntax"),
        (["sql", "SELECT 1", "-d", "retial"], 3, "retail"),
        (["sql", "SELECT 1", "--file", "/nonexistent/x.csv"], 3, "x.csv"),
        (["sql", "SELECT 1"], 2, "--file"),
        (["plan", "-", "-d", "retail"], 4, "JSON"),
        (["runs", "show", "ffffffffffff"], 3, "No run"),
    ],
)
def test_errors_have_documented_exit_codes_and_one_paragraph(
    home: Path, args: list[str], code: int, words: str
) -> None:
    proc = cli(*args, stdin="{not json", home=home)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert words.lower() in proc.stderr.lower()
    assert proc.stdout == ""


def test_timeout_is_reported_and_recorded(home: Path) -> None:
    proc = cli(
        "sql",
        NEVER_ENDING_SQL,
        "-d",
        "retail",
        "--timeout",
        "1",
        "--format",
        "json",
        home=home,
    )
    assert proc.returncode == 5, proc.stderr
    assert "timeout" in proc.stderr.lower()
    runs = json.loads(cli("runs", "list", "--json", home=home).stdout)
    assert runs[0]["status"] == "timeout"


def test_ctrl_c_on_sql_exits_130_and_records_the_run_cancelled_at_once(home: Path) -> None:
    import signal
    import sqlite3
    import time

    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "csvanalyst", "sql", NEVER_ENDING_SQL, "-d", "retail", "--timeout", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # As in a terminal: a suite started in the background inherits SIGINT ignored, and Python keeps it so.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    store = home / "csvanalyst.db"

    def status() -> str | None:
        if not store.exists():
            return None
        try:
            with sqlite3.connect(store) as db:
                row = db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # the store exists but its tables are still being created
            return None
        return row[0] if row else None

    deadline = time.monotonic() + 120  # a bound for a stuck machine, not a measurement
    while status() != "running" and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status() == "running", proc.stderr.read() if proc.poll() is not None else "never started"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert status() == "cancelled"  # recorded by the process itself, not left for a server to sweep
    shown = json.loads(cli("runs", "show", "last", "--json", home=home).stdout)
    assert shown["error"]["code"] == "interrupted" and shown["finished_at"]


def _with_umask(mask: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "COLUMNS": "200"}
    command = f'umask {mask} && exec "$0" -m csvanalyst "$@"'
    proc = subprocess.run(
        ["sh", "-c", command, sys.executable, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_output_parquet_keeps_types_and_values_and_files_follow_the_umask(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    sql = "SELECT order_id, order_date, unit_price, status FROM orders ORDER BY order_id"
    proc = _with_umask("027", "sql", sql, "-d", "retail", "-o", str(target), home=home)
    assert proc.returncode == 0, proc.stderr
    expected = duckdb.sql(
        f"SELECT order_id, order_date, unit_price, status FROM read_csv('{RETAIL / 'orders.csv'}') ORDER BY 1"
    )
    written = duckdb.sql(f"SELECT * FROM '{target}'")
    assert written.fetchall() == expected.fetchall()
    assert [t.id for t in written.types] == [t.id for t in expected.types]
    assert target.stat().st_mode & 0o777 == 0o640
    chart = tmp_path / "chart.svg"
    csv_out = tmp_path / "out.csv"
    ask_sql = "SQL: SELECT status, count(*) AS n FROM orders GROUP BY 1"
    asked = _with_umask("022", "ask", ask_sql, "-d", "retail", "--chart", str(chart), "-o", str(csv_out), home=home)
    assert asked.returncode == 0, asked.stderr
    assert chart.stat().st_mode & 0o777 == 0o644 and csv_out.stat().st_mode & 0o777 == 0o644
    assert cli("sql", "SELECT 1", "-d", "retail", "--format", "parquet", home=home).returncode == 2


def test_ask_output_writes_the_whole_result_not_the_preview(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "all.parquet"
    proc = cli("ask", "SQL: SELECT order_id FROM orders", "-d", "retail", "-o", str(target), home=home)
    assert proc.returncode == 0, proc.stderr
    total = duckdb.sql(f"SELECT count(*) FROM read_csv('{RETAIL / 'orders.csv'}')").fetchall()[0][0]
    assert total > 200
    assert duckdb.sql(f"SELECT count(*), count(DISTINCT order_id) FROM '{target}'").fetchall() == [(total, total)]
    assert "ran run" in proc.stderr and f"wrote {total} row(s)" in proc.stderr
    bad = cli("ask", "how many orders", "-d", "retail", "-o", str(tmp_path / "x.xlsx"), home=home)
    assert bad.returncode == 2 and ".parquet" in bad.stderr


def test_runs_show_and_replay(home: Path) -> None:
    first = json.loads(
        cli("sql", "SELECT count(*) AS n FROM products", "-d", "retail", "--format", "json", home=home).stdout
    )
    shown = json.loads(cli("runs", "show", first["run_id"][:8], "--json", home=home).stdout)
    assert shown["status"] == "ok" and shown["compiled_sql"].startswith("SELECT")
    assert shown["preview"] == first["rows"]
    again = json.loads(cli("runs", "replay", first["run_id"], "--format", "json", home=home).stdout)
    assert again["rows"] == first["rows"] and again["run_id"] != first["run_id"]


def test_pipes_get_whole_ids_and_unwrapped_sql_and_ids_resolve_by_suffix_and_last(home: Path) -> None:
    """Output into a pipe (as `| cat`): nothing wrapped at the 80 columns of COLUMNS, no id cut short."""
    sql = (
        "SQL: SELECT status, count(*) AS n FROM orders WHERE status <> 'a very long literal to pass eighty' GROUP BY 1"
    )
    asked = cli("ask", sql, "-d", "retail", "--show-sql", home=home, columns=80)
    assert asked.returncode == 0, asked.stderr
    assert "WHERE status <> 'a very long literal to pass eighty'" in " ".join(asked.stdout.split())
    assert not [line for line in asked.stdout.splitlines() if line != line.rstrip()][:1]
    assert max(len(line) for line in asked.stdout.splitlines()) > 80
    listed = cli("runs", "list", home=home, columns=80).stdout
    newest = json.loads(cli("runs", "list", "--json", home=home).stdout)[0]["id"]
    assert newest in listed and "…" not in listed.split(newest)[0][-3:]
    as_csv = list(csv.reader(io.StringIO(cli("runs", "list", "--format", "csv", home=home).stdout)))
    assert as_csv[0][0] == "id" and as_csv[1][0] == newest
    assert json.loads(cli("runs", "list", "--format", "json", home=home).stdout)[0]["id"] == newest
    assert json.loads(cli("runs", "show", newest[-4:], "--json", home=home).stdout)["id"] == newest
    assert json.loads(cli("runs", "show", "last", "--json", home=home).stdout)["id"] == newest
    threads = list(csv.reader(io.StringIO(cli("threads", "list", "--format", "csv", home=home).stdout)))
    assert threads[0][0] == "id" and threads[1][0].startswith("t")


def test_ask_continue_carries_on_the_last_thread_on_its_data(home: Path) -> None:
    first = json.loads(cli("ask", "how many orders", "-d", "retail", "--json", home=home).stdout)
    follow = cli("ask", "SQL: SELECT count(*) AS n FROM products", "-c", "--json", home=home)
    assert follow.returncode == 0, follow.stderr
    assert json.loads(follow.stdout)["thread_id"] == first["thread_id"]
    shown = json.loads(cli("threads", "show", "last", "--json", home=home).stdout)
    assert shown["thread"]["id"] == first["thread_id"] and len(shown["messages"]) == 4
    both = cli("ask", "x", "-c", "--thread", "last", home=home)
    assert both.returncode == 2 and "--continue" in both.stderr


def test_ask_offline_json_and_thread(home: Path) -> None:
    proc = cli("ask", "how many orders per status", "-d", "retail", "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"answer", "thread_id", "runs", "usage"}
    assert (doc["usage"]["provider"], doc["usage"]["model"]) == ("offline", "rules")
    run = doc["runs"][0]
    assert run["run_id"] in doc["answer"]
    delivered = dict(run["rows"])["delivered"]
    assert f"{delivered:,}" in doc["answer"]
    follow = cli(
        "ask",
        "SQL: SELECT count(*) AS n FROM orders",
        "-d",
        "retail",
        "--thread",
        doc["thread_id"],
        "--json",
        home=home,
    )
    assert json.loads(follow.stdout)["thread_id"] == doc["thread_id"]
    shown = json.loads(cli("threads", "show", doc["thread_id"], "--json", home=home).stdout)
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant", "user", "assistant"]


def test_ask_events_are_ndjson_of_the_event_schema(home: Path) -> None:
    proc = cli("ask", "top 3 products by revenue", "-d", "retail", "--events", home=home)
    assert proc.returncode == 0, proc.stderr
    events = [from_json(line) for line in proc.stdout.splitlines()]
    kinds = [e.type for e in events]
    assert "run_finished" in kinds and kinds[-1] == "done"
    assert kinds.index("sql_compiled") < kinds.index("run_finished") < kinds.index("answer")


def test_ask_declines_with_exit_7_and_the_sql_hint(home: Path) -> None:
    proc = cli("ask", "why did sales drop last spring", "-d", "retail", home=home)
    assert proc.returncode == 7
    assert "SQL:" in proc.stdout


def test_ask_chart_png(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "chart.svg"
    proc = cli(
        "ask",
        "SQL: SELECT status, count(*) AS n FROM orders GROUP BY status",
        "-d",
        "retail",
        "--chart",
        str(target),
        home=home,
    )
    assert proc.returncode == 0, proc.stderr
    assert target.read_text().startswith("<svg")


def test_ask_chart_of_two_groups_has_a_legend_and_no_stack(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "chart.svg"
    sql = "SQL: SELECT region, status, avg(unit_price) AS p FROM orders GROUP BY ALL"
    proc = cli("ask", sql, "-d", "retail", "--chart", str(target), "--json", home=home)
    assert proc.returncode == 0, proc.stderr
    encoding = json.loads(proc.stdout)["chart"]["encoding"]
    assert encoding["color"]["field"] in ("region", "status") and "xOffset" in encoding
    assert encoding["y"]["title"] == "average of unit_price"
    assert "role-legend" in target.read_text()


def test_ask_chart_says_why_there_is_none_with_exit_8(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    proc = cli("ask", "SQL: SELECT * FROM orders LIMIT 5", "-d", "retail", "--chart", str(target), home=home)
    assert proc.returncode == 8, proc.stderr
    assert "no_chart" in proc.stderr and "9 columns" in proc.stderr
    assert "order_id" in proc.stdout  # the answer itself is still shown
    assert not target.exists()


def test_show_prompt_sends_schema_not_files(home: Path) -> None:
    proc = cli("ask", "how many orders", "-d", "retail", "--show-prompt", "--no-samples", home=home)
    doc = json.loads(proc.stdout)
    system = doc["messages"][0]["content"]
    assert "<dataset_schema>" in system and '"samples"' not in system and '"values"' not in system
    assert {t["name"] for t in doc["tools"]} >= {"run_plan", "run_sql"}
    tokens = doc["estimated_tokens"]
    sent = {k: v for k, v in doc.items() if k not in ("estimated_tokens", "tool_set")}  # reported, not sent
    assert tokens["total"] == -(-len(json.dumps(sent, ensure_ascii=False)) // 4)
    assert 0 < tokens["tools"] < tokens["total"]


def test_datasets_add_show_remove(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "Sales 2024.csv").write_text("id;amount\n1;3,5\n2;1.234,5\n")
    assert cli("datasets", "add", str(folder), "--name", "shop", home=home).returncode == 0
    listed = json.loads(cli("datasets", "list", "--json", home=home).stdout)
    assert "shop" in {d["name"] for d in listed}
    info = json.loads(cli("datasets", "show", "shop", "--json", home=home).stdout)
    assert info["tables"][0]["name"] == "sales_2024"
    total = json.loads(
        cli("sql", "SELECT sum(amount) AS s FROM sales_2024", "-d", "shop", "--format", "json", home=home).stdout
    )
    assert total["rows"][0][0] == pytest.approx(1238.0)
    again = cli("datasets", "add", str(folder), "--name", "shop", home=home)
    assert again.returncode == 2 and "--name" in again.stderr
    assert cli("datasets", "remove", "shop", home=home).returncode == 0
    assert (folder / "Sales 2024.csv").exists()


def test_doctor_and_version(home: Path) -> None:
    doc = json.loads(cli("doctor", "--json", home=home).stdout)
    assert doc["store"]["healthy"] is True
    assert any(s["usable"] for s in doc["sandboxes"])
    assert {p["provider"] for p in doc["providers"]} >= {"openai", "anthropic", "offline"}
    import tomllib

    declared = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]["version"]
    assert cli("version", home=home).stdout.strip() == declared
    assert doc["next_steps"][-1].startswith("Try it: csvanalyst ask")
    human = cli("doctor", home=home)
    assert "Next" in human.stdout and "OPENAI_API_KEY" in human.stdout


def test_version_short_help_and_bare_commands_exit_0_with_examples_and_no_type_names(home: Path) -> None:
    from csvanalyst import __version__

    assert cli("--version", home=home).stdout.strip() == __version__
    for args in ([], ["-h"], ["--help"], ["runs"], ["threads"], ["ask", "-h"], ["sql", "--help"]):
        proc = cli(*args, home=home)
        assert proc.returncode == 0, (args, proc.stderr)
        assert proc.stdout.startswith("Usage: csvanalyst"), args
    for command in (["ask"], ["sql"], ["runs", "list"], ["chat"], ["serve"], ["datasets", "add"]):
        text = cli(*command, "--help", home=home).stdout
        assert not re.search(r"<[a-z][\w\[\], |]*>", text), (command, text)  # no <str>, <list[Path]>
    assert "Examples:" in cli("--help", home=home).stdout and "Examples:" in cli("ask", "-h", home=home).stdout
    assert "--dataset DATASET" in cli("ask", "-h", home=home).stdout


def test_doctor_says_why_the_cluster_and_microvm_sandboxes_are_unusable(home: Path, tmp_path: Path) -> None:
    """No kubeconfig here, and (on machines without VT-x/AMD-V) no bootable KVM: doctor names each reason."""
    missing = tmp_path / "no-such-kubeconfig"
    env = {**os.environ, "CSVANALYST_HOME": str(home), "KUBECONFIG": str(missing)}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    proc = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "doctor", "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    rows = {s["sandbox"]: s for s in json.loads(proc.stdout)["sandboxes"]}
    assert rows["kubernetes"]["usable"] is False
    assert "No kubeconfig" in rows["kubernetes"]["detail"] and str(missing) in rows["kubernetes"]["detail"]
    micro = rows["microsandbox"]
    assert micro["detail"], "a verdict always comes with its reason"
    if not micro["usable"]:
        assert any(word in micro["detail"] for word in ("KVM", "kvm", "VT-x", "microsandbox", "rootfs"))


def test_sql_on_the_kubernetes_sandbox_without_a_cluster_is_a_clear_environment_error(home: Path) -> None:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "KUBECONFIG": str(home / "absent")}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    proc = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "sql", "SELECT 1 AS x", "-d", "retail", "--sandbox", "kubernetes"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr and "No kubeconfig" in proc.stderr and "hint:" in proc.stderr


def test_file_queries_say_how_the_file_was_read(home: Path, tmp_path: Path) -> None:
    """A `--file` input has no `datasets add` to report its layout: each query says it, on stderr only."""
    messy = tmp_path / "money.csv"
    messy.write_text('Exported 2026-01-01\n\nname,price\nA,"$1,200.50"\nB,$300.00\nC,$45.10\n')
    for args in (["sql", "SELECT sum(price) AS total FROM money", "--format", "csv"], ["ask", "total price"]):
        proc = cli(*args, "--file", str(messy), home=home)
        assert proc.returncode == 0, proc.stderr
        assert "1545.6" in proc.stdout.replace(",", "")
        assert "above its header, were skipped" in proc.stderr, proc.stderr
        assert "holds money amounts" in proc.stderr, proc.stderr
        assert "above its header" not in proc.stdout
    registered = cli("datasets", "add", str(messy), "--name", "m", home=home)
    assert "holds money amounts" in registered.stderr, registered.stderr
    again = cli("sql", "SELECT sum(price) AS total FROM money", "-d", "m", home=home)
    assert again.returncode == 0 and "holds money amounts" not in again.stderr  # said once, when it was added
