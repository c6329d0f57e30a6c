"""`make bench`: csvanalyst against plain DuckDB and pandas on the same files, in the same run.

Sizes are set by BENCH_ROWS (default 10,000,000) and BENCH_REPEATS (default 3); the shell-command suite
(bench/shell.py) by BENCH_SHELL_ROWS and BENCH_SHELL_ROUNDS; BENCH_SUITES picks the extra suites. Results are
printed as a table and written to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from bench.timing import csvanalyst, python_snippet, time_call, time_command

HERE = Path(__file__).resolve().parent
ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
THINK_S = 0.5  # a person reads the answer before the next question: a kept-warm runner starts meanwhile
GROUP_SQL = (
    "SELECT region, count(*) AS n, sum(amount) AS total, avg(amount) AS mean FROM {t} GROUP BY region ORDER BY region"
)


def use_home(home: Path):  # -> Settings
    """Point this process's store and cache at `home` (the catalog reads the process settings)."""
    from csvanalyst.config import get_settings

    os.environ["CSVANALYST_HOME"] = str(home)
    get_settings.cache_clear()
    return get_settings()


def big_csv() -> Path:
    from csvanalyst.catalog import demo

    path = HERE / "data" / f"big_{ROWS}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ({ROWS:,} rows)…", flush=True)
        demo.generate_big_csv(path, rows=ROWS)
    return path


def bench_cli_vs_duckdb_vs_pandas(csv: Path) -> dict[str, float]:
    """csvanalyst sql --file vs plain DuckDB (Python) vs pandas, each a fresh process end to end."""
    ours = time_command(
        csvanalyst("sql", GROUP_SQL.format(t=csv.stem), "--file", str(csv), "--format", "csv"), repeats=REPEATS
    )
    duck = time_command(
        python_snippet(
            f"import duckdb; print(duckdb.sql({GROUP_SQL.format(t=f'read_csv({str(csv)!r})')!r}).fetchall())"
        ),
        repeats=REPEATS,
    )
    pandas = time_command(
        python_snippet(
            "import pandas as pd; df = pd.read_csv(" + repr(str(csv)) + "); "
            "print(df.groupby('region')['amount'].agg(['count', 'sum', 'mean']))"
        ),
        repeats=max(1, REPEATS - 1),
    )
    return {
        "csvanalyst_s": ours,
        "duckdb_s": duck,
        "pandas_s": pandas,
        "ratio_vs_duckdb": ours / duck,
        "pandas_over_csvanalyst": pandas / ours,
    }


def bench_cached_repeat(csv: Path, home: Path) -> dict[str, float]:
    """A repeat query on a registered dataset (columnar cache) vs plain DuckDB re-reading the CSV:
    as fresh CLI processes, and inside one long-lived process (as the TUI and the server run)."""
    env = {"CSVANALYST_HOME": str(home)}
    time_command(csvanalyst("datasets", "add", str(csv), "--name", "big"), repeats=1, env=env)
    sql = GROUP_SQL.format(t=csv.stem)
    ours = time_command(csvanalyst("sql", sql, "-d", "big", "--format", "csv"), repeats=REPEATS, env=env)
    duck = time_command(
        python_snippet(
            f"import duckdb; print(duckdb.sql({GROUP_SQL.format(t=f'read_csv({str(csv)!r})')!r}).fetchall())"
        ),
        repeats=REPEATS,
    )
    from csvanalyst.core.query import DataScope, execute
    from csvanalyst.executors.local.executor import LocalExecutor

    settings = use_home(home)
    scope = DataScope(dataset="big")
    with LocalExecutor(keep_warm=True) as warm:  # as a chat or server session keeps it
        execute("sql", sql, scope, settings=settings, executor=warm)
        ours_inproc = time_call(
            lambda: execute("sql", sql, scope, settings=settings, executor=warm), repeats=REPEATS + 2, pause_s=THINK_S
        )
    duck_inproc = time_call(lambda: _duckdb_query(GROUP_SQL.format(t=f"read_csv('{csv}')")), repeats=REPEATS)
    return {
        "cli_cached_s": ours,
        "cli_duckdb_rescan_s": duck,
        "cli_speedup": duck / ours,
        "inprocess_cached_s": ours_inproc,
        "inprocess_duckdb_rescan_s": duck_inproc,
        "inprocess_speedup": duck_inproc / ours_inproc,
    }


def _duckdb_query(sql: str) -> None:
    import duckdb

    duckdb.connect().sql(sql).fetchall()


def bench_fixed_costs(home: Path) -> dict[str, float]:
    """The local sandbox's cost per run on a tiny file, and `csvanalyst --help` start-up."""
    from csvanalyst.core.query import DataScope, execute

    tiny = home / "tiny.csv"
    tiny.write_text("a,b\n1,x\n2,y\n")
    settings = use_home(home)
    scope = DataScope(files=(tiny,))
    execute("sql", "SELECT 1", scope, settings=settings)
    per_run = time_call(lambda: execute("sql", "SELECT sum(a) FROM tiny", scope, settings=settings), repeats=10)
    inproc = time_call(lambda: _duckdb_tiny(tiny), repeats=10)
    help_s = time_command(csvanalyst("--help"), repeats=5)
    bare_python = time_command(python_snippet("pass"), repeats=5)
    return {
        "sandbox_run_s": per_run,
        "duckdb_inprocess_s": inproc,
        "help_s": help_s,
        "python_startup_s": bare_python,
    }


def bench_agent_overhead(home: Path) -> dict[str, float]:
    """One question = one run_plan call + one answer, with the scripted model (no model time)."""
    import time

    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.events import RunFinished
    from csvanalyst.testing.scripted import ScriptedModel, answer, call

    plan = {"table": "orders", "select": ["status"], "aggregates": [{"fn": "count", "as": "n"}]}
    settings = use_home(home)
    scope = DataScope(dataset="retail")
    totals, sandbox = [], []
    model = ScriptedModel([call("run_plan", {"plan": plan}), answer("Orders by status are shown.")] * 11)
    with Session(settings=settings, client=model, keep_warm=True) as session:
        list(session.ask("orders by status", scope))  # warm-up: profile the demo dataset, start a runner
        for _ in range(10):
            time.sleep(THINK_S)
            start = time.perf_counter()
            events = list(session.ask("orders by status", scope))
            totals.append(time.perf_counter() - start)
            sandbox.append(sum(e.timings.get("total_ms", 0) for e in events if isinstance(e, RunFinished)) / 1000)
    import statistics

    turn, run = statistics.median(totals), statistics.median(sandbox)
    return {"turn_s": turn, "sandbox_run_s": run, "agent_overhead_s": turn - run}


def _duckdb_tiny(path: Path) -> None:
    _duckdb_query(f"SELECT sum(a) FROM read_csv('{path}')")


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    print(f"rows={ROWS:,} repeats={REPEATS} (medians, seconds)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        results["fixed_costs"] = show("fixed_costs", bench_fixed_costs(home))
        results["agent_turn"] = show("agent_turn", bench_agent_overhead(home))
        csv = big_csv()
        results["group_by_10m"] = show("group_by_10m", bench_cli_vs_duckdb_vs_pandas(csv))
        results["cached_repeat"] = show("cached_repeat", bench_cached_repeat(csv, home / "cachehome"))
        for name in EXTRA_SUITES:
            results[name] = show(name, _extra(name))
    save(results)


# Suites of the other front ends and backends, each in its own module with run() -> dict.
EXTRA_SUITES = [
    s
    for s in os.environ.get(
        "BENCH_SUITES", "shell,planner,mistakes,corpus,loader,sandboxes,server,tui,tui_frames,tracing"
    ).split(",")
    if s
]


def _extra(name: str) -> dict[str, float]:
    import importlib

    try:
        return importlib.import_module(f"bench.{name}").run()
    except Exception as exc:  # one unavailable backend (no Docker daemon) must not hide the other figures
        print(f"  {name}: not measured: {type(exc).__name__}: {exc}", flush=True)
        return {}


def show(group: str, values: dict[str, float]) -> dict[str, float]:
    print(f"\n[{group}]")
    for key, value in values.items():
        print(f"  {key:28s} {value:10.3f}", flush=True)
    return values


def save(results: dict[str, dict[str, float]]) -> None:
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"rows": ROWS, "repeats": REPEATS, **results}, indent=2))


if __name__ == "__main__":
    main()
