"""csvanalyst as a shell command, each figure interleaved with its baseline in the same run.

Every sample is a fresh process, the way a script calls `csvanalyst` once per question:
- a repeat `sql -d` on a registered dataset vs `python -c` DuckDB on the Parquet copy, and vs DuckDB
  re-reading the CSV;
- the fixed cost of `SELECT 1` vs `python -c` DuckDB `select 1`;
- `ask --provider offline` vs the `sql` it ran;
- the first `sql --file` on a new file (its cached sniff removed each time) vs DuckDB reading the CSV;
- the peak memory of the whole process tree (the sandbox included), sampled from /proc, vs DuckDB's.

Sizes: BENCH_SHELL_ROWS (default "1000000,10000000"); rounds: BENCH_SHELL_ROUNDS (default 3).
With a warm worker installed (`csvanalyst daemon`), each csvanalyst figure also gets a `daemon` variant;
the plain figures then run with CSVANALYST_DAEMON=0.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.timing import csvanalyst, python_snippet

HERE = Path(__file__).resolve().parent
SIZES = [int(s) for s in os.environ.get("BENCH_SHELL_ROWS", "1000000,10000000").split(",") if s]
ROUNDS = int(os.environ.get("BENCH_SHELL_ROUNDS", "3"))
GROUP_SQL = "SELECT region, count(*) AS n, sum(amount) AS total, avg(amount) AS mean FROM {t} GROUP BY 1 ORDER BY 1"
QUESTION = "average amount by region"
SAMPLE_S = 0.01
PAGE = os.sysconf("SC_PAGE_SIZE")


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    variants = {"": {"CSVANALYST_DAEMON": "0"}}
    if daemon_available():
        variants["daemon_"] = {"CSVANALYST_DAEMON": "1"}
    with tempfile.TemporaryDirectory(prefix="bench-shell-") as tmp:
        homes = [Path(tmp) / "tiny-home", *(Path(tmp) / f"rows{rows}" for rows in SIZES)]
        try:
            figures.update(fixed_cost(Path(tmp), variants))
            for rows in SIZES:
                figures.update(one_size(rows, Path(tmp) / f"rows{rows}", variants))
        finally:
            for home in homes:
                stop_worker(home)
    return figures


def stop_worker(home: Path) -> None:
    """The daemon variant's worker outlives its commands: stop it before its home is removed."""
    if (home / "daemon.lock").exists():
        env = {**os.environ, "CSVANALYST_HOME": str(home)}
        subprocess.run(csvanalyst("daemon", "stop"), capture_output=True, env=env, check=False)


def daemon_available() -> bool:
    proc = subprocess.run(csvanalyst("daemon", "--help"), capture_output=True, check=False)
    return proc.returncode == 0


def fixed_cost(tmp: Path, variants: dict[str, dict[str, str]]) -> dict[str, float]:
    """`SELECT 1` on a tiny, already seen file: everything a call costs besides the query."""
    home = tmp / "tiny-home"
    tiny = tmp / "tiny.csv"
    tiny.write_text("a,b\n1,x\n2,y\n")
    commands = {"duckdb": Command(python_snippet("import duckdb; print(duckdb.sql('select 1').fetchall())"))}
    for prefix, env in variants.items():
        commands[f"{prefix}csvanalyst"] = _ours(home, env, "sql", "SELECT 1 AS x", "--file", str(tiny))
    times = interleave(commands, warm_up=True)
    out = {f"select1_{k}_s": v for k, v in times.items()}
    for prefix in variants:
        out[f"select1_{prefix}ratio_vs_duckdb"] = times[f"{prefix}csvanalyst"] / times["duckdb"]
    return out


def one_size(rows: int, home: Path, variants: dict[str, dict[str, str]]) -> dict[str, float]:
    csv = big_csv(rows)
    table = csv.stem
    parquet = register(csv, home)
    group = GROUP_SQL.format(t=table)
    asked_sql = sql_of_ask(home)
    baselines = {
        "duckdb_parquet": _duckdb(GROUP_SQL.format(t=f"read_parquet({str(parquet)!r})")),
        "duckdb_csv": _duckdb(GROUP_SQL.format(t=f"read_csv({str(csv)!r})")),
    }
    commands = dict(baselines)
    for prefix, env in variants.items():
        commands[f"{prefix}repeat_sql"] = _ours(home, env, "sql", group, "-d", "big", "--format", "csv")
        commands[f"{prefix}ask_offline"] = _ours(home, env, "ask", QUESTION, "-d", "big", "--provider", "offline")
        commands[f"{prefix}asked_sql"] = _ours(home, env, "sql", asked_sql, "-d", "big", "--format", "csv")
        commands[f"{prefix}first_file_sql"] = _first_file(home, env, group, csv)
    times = interleave(commands, warm_up=True)
    memory = {name: peak_tree_mb(commands[name]) for name in ("duckdb_parquet", "duckdb_csv", "repeat_sql",
                                                                 "first_file_sql")}  # fmt: skip
    tag = f"{rows // 1_000_000}m" if rows >= 1_000_000 else str(rows)
    out = {f"{tag}_{k}_s": v for k, v in times.items()}
    for prefix in variants:
        repeat = times[f"{prefix}repeat_sql"]
        out[f"{tag}_{prefix}repeat_vs_duckdb_parquet"] = repeat / times["duckdb_parquet"]
        out[f"{tag}_{prefix}repeat_speedup_vs_duckdb_csv"] = times["duckdb_csv"] / repeat
        out[f"{tag}_{prefix}ask_vs_sql"] = times[f"{prefix}ask_offline"] / times[f"{prefix}asked_sql"]
        out[f"{tag}_{prefix}first_file_vs_duckdb_csv"] = times[f"{prefix}first_file_sql"] / times["duckdb_csv"]
    out.update({f"{tag}_peak_mb_{k}": v for k, v in memory.items()})
    out[f"{tag}_peak_repeat_vs_duckdb_parquet"] = memory["repeat_sql"] / memory["duckdb_parquet"]
    out[f"{tag}_peak_first_file_vs_duckdb_csv"] = memory["first_file_sql"] / memory["duckdb_csv"]
    return out


class Command:
    """argv + env; `forget` is a directory removed before every sample (the file cache: a new file each time)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, forget: Path | None = None) -> None:
        self.argv, self.env, self.forget = argv, env or {}, forget

    def environment(self) -> dict[str, str]:
        if self.forget is not None:
            shutil.rmtree(self.forget, ignore_errors=True)
        return {**os.environ, **self.env}


def _ours(home: Path, env: dict[str, str], *args: str) -> Command:
    return Command(csvanalyst(*args), {**env, "CSVANALYST_HOME": str(home)})


def _first_file(home: Path, env: dict[str, str], sql: str, csv: Path) -> Command:
    """The first query on a file this home never saw (the home itself, and its sandbox probe, already exist)."""
    argv = csvanalyst("sql", sql, "--file", str(csv), "--format", "csv")
    return Command(argv, {**env, "CSVANALYST_HOME": str(home)}, forget=home / "cache" / "files")


def _duckdb(sql: str) -> Command:
    return Command(python_snippet(f"import duckdb; print(duckdb.sql({sql!r}).fetchall())"))


def interleave(commands: dict[str, Command], *, warm_up: bool) -> dict[str, float]:
    """Median seconds of each command over ROUNDS rounds, all commands once per round, the order rotated."""
    names = list(commands)
    if warm_up:  # the page cache and any worker are warm for every contender alike
        for name in names:
            _timed(commands[name])
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(ROUNDS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_timed(commands[name]))
    return {name: statistics.median(values) for name, values in samples.items()}


def _timed(command: Command) -> float:
    env = command.environment()
    start = time.perf_counter()
    proc = subprocess.run(command.argv, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command.argv[:3]} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def peak_tree_mb(command: Command) -> float:
    """The largest sum of RSS over the process and all its descendants, sampled every SAMPLE_S."""
    proc = subprocess.Popen(command.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=command.environment())  # fmt: skip
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc.wait()
    done.set()
    sampler.join()
    return round(peak[0] / 2**20, 1)


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and every process below it (one pass over /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            statm = Path(entry.path, "statm").read_text()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[stat.rindex(")") + 2 :].split()[1])
        rss[pid] = int(statm.split()[1]) * PAGE
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier.extend(child for child, parent in parents.items() if parent == pid)
    return total


def big_csv(rows: int) -> Path:
    from csvanalyst.catalog import demo

    path = HERE / "data" / f"big_{rows}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"  generating {path} ({rows:,} rows)…", flush=True)
        demo.generate_big_csv(path, rows=rows)
    return path


def register(csv: Path, home: Path) -> Path:
    """Register the CSV as dataset `big` in `home`; return its Parquet copy (what DuckDB is compared on)."""
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_DAEMON": "0"}
    argv = csvanalyst("datasets", "add", str(csv), "--name", "big")
    subprocess.run(argv, capture_output=True, env=env, check=True)
    (parquet,) = (home / "cache" / "big").rglob(f"{csv.stem}.parquet")
    return parquet


def sql_of_ask(home: Path) -> str:
    """The SQL `ask --provider offline` runs for QUESTION, read back from its recorded run."""
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_DAEMON": "0"}
    subprocess.run(csvanalyst("ask", QUESTION, "-d", "big", "--provider", "offline"), env=env, check=True,
                   capture_output=True)  # fmt: skip
    shown = subprocess.run(csvanalyst("runs", "show", "last", "--json"), env=env, check=True, capture_output=True)
    return str(json.loads(shown.stdout)["compiled_sql"])


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:44s} {value:10.3f}", flush=True)
    sys.exit(0)
