"""Restricted Python inside the real sandboxes: real questions answered, the hostile list refused.

Requests go straight to the executor (kind "python"), so the host's AST check is bypassed and every
refusal here is the runner's own: its AST check, restricted builtins or audit hook. Each backend that
exists here runs the whole list; docker follows tests/integration/docker_support.py (fail in CI, skip
locally).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest, RunResult
from csvanalyst.executors.local.executor import LocalExecutor
from csvanalyst.runner import python_guard
from tests.support.requires import local_isolation
from tests.support.sandboxes import PYTHON_SANDBOXES, python_sandbox

RETAIL = Path(__file__).resolve().parents[2] / "datasets" / "retail"


@pytest.fixture(scope="module", params=PYTHON_SANDBOXES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[object]:
    with python_sandbox(request.param) as executor:
        yield executor


@pytest.mark.parametrize("mode", ["unshare", "none"])
def test_the_runner_refuses_python_where_the_host_filesystem_is_visible(mode: str, tmp_path: Path) -> None:
    """unshare and the plain process isolate no files, so the runner itself refuses Python there, even when a
    request skips the host's checks; the snippet's effect on the host is what is checked."""
    local_isolation(mode)
    marker = tmp_path / "written-by-the-snippet"
    code = f"open({str(marker)!r}, 'w').write('x')\nresult = 1"
    out = run(LocalExecutor(isolation=mode), code)
    assert out.status == "error" and out.error is not None and out.error.code == "python_unsandboxed", out
    for sandbox in ("bwrap", "docker", "microsandbox", "kubernetes"):  # the message says where Python does run
        assert sandbox in out.error.message, out.error.message
    assert not marker.exists()


def tables() -> dict[str, TableSource]:
    return {name: TableSource(path=str(RETAIL / f"{name}.csv"), format="csv") for name in ("orders", "products")}


def run(sandbox: object, code: str, **limits: float) -> RunResult:
    request = RunRequest(kind="python", code=code, tables=tables(), limits=Limits(**limits))
    return sandbox.run(request)  # type: ignore[attr-defined]


def test_correlation_between_two_columns(sandbox: object) -> None:
    import pandas as pd

    out = run(sandbox, "result = orders['quantity'].corr(orders['unit_price'])\nprint('n =', len(orders))")
    assert out.status == "ok", out.error
    expected = pd.read_csv(RETAIL / "orders.csv")[["quantity", "unit_price"]].corr().iloc[0, 1]
    assert out.columns[0].name == "result" and out.rows[0][0] == pytest.approx(expected)
    assert out.stdout.startswith("n = ")


def test_pivot_table_matches_duckdb(sandbox: object) -> None:
    import duckdb

    code = (
        "orders['revenue'] = orders['quantity'] * orders['unit_price']\n"
        "result = orders.pivot_table(index='region', columns='status', values='revenue', aggfunc='sum').round(2)\n"
        "chart = {'mark': 'bar', 'encoding': {'x': {'field': 'region'}}}\n"
    )
    out = run(sandbox, code)
    assert out.status == "ok", out.error
    assert out.columns[0].name == "region" and all(c.type == "DOUBLE" for c in out.columns[1:])
    got = {row[0]: dict(zip([c.name for c in out.columns[1:]], row[1:], strict=False)) for row in out.rows}
    truth = duckdb.sql(
        f"SELECT region, status, round(sum(quantity * unit_price), 2) FROM '{RETAIL / 'orders.csv'}' GROUP BY ALL"
    ).fetchall()
    for region, status, total in truth:
        assert got[region][status] == pytest.approx(total)
    assert out.chart == {"mark": "bar", "encoding": {"x": {"field": "region"}}}


def test_con_is_the_locked_duckdb_connection(sandbox: object) -> None:
    out = run(sandbox, "result = con.sql('SELECT category, count(*) AS n FROM products GROUP BY 1 ORDER BY 1').df()")
    assert out.status == "ok", out.error and out.rows
    locked = run(sandbox, "result = con.sql(\"SELECT * FROM read_csv('/etc/passwd')\").df()")
    assert locked.status == "error" and "passwd" not in str(locked.rows)
    copy = run(sandbox, "con.sql(\"COPY (SELECT 1) TO '/tmp/out.csv'\")")
    assert copy.status == "error"


def test_print_is_captured_and_capped(sandbox: object) -> None:
    out = run(sandbox, "for i in range(100000):\n    print('x' * 100)\nresult = 1")
    assert out.status == "ok" and len(out.stdout) < 70_000 and "dropped" in out.stdout


def test_runaway_snippet_times_out(sandbox: object) -> None:
    out = run(sandbox, "while True:\n    pass", timeout_s=2)
    assert out.status == "timeout"


# The hostile list. Each: code, the status and error code expected, and a fragment of the message.
AST_REFUSED = {
    "subclasses": "result = ().__class__.__subclasses__()",
    "func_globals": "def f():\n    pass\nresult = f.__globals__",
    "getframe": "result = pd.io.common.sys._getframe()",
    "generator_frame": "def g():\n    yield 1\nresult = g().gi_frame.f_back",
    "traceback_frame": "try:\n    1 / 0\nexcept Exception as e:\n    result = e.__traceback__.tb_frame",
    "format_string": "result = '{0.__class__}'.format(1)",
    "format_string_no_dunder": "result = '{0.real}'.format(1)",
    "getattr_built_name": "result = getattr(orders, '_' + '_cl' + 'ass_' + '_')",
    "import_os": "import os\nresult = os.listdir('/')",
    "dunder_import": "result = __import__('os')",
    "importlib": "import importlib",
    "from_import_submodule": "from pandas.io import common",
    "read_csv_passwd": "result = pd.read_csv('/etc/passwd')",
    "to_csv_outside_temp": "orders.to_csv('/tmp/x')",
    "read_pickle": "result = pd.read_pickle('/tmp/x.pkl')",
    "np_load_pickle": "result = np.load('/tmp/x.npy', allow_pickle=True)",
    "pickle_loads": "import pickle\nresult = pickle.loads(b'')",
    "pickle_via_pandas": "result = pd.compat.pickle_compat.pkl.loads(b'')",
    "open_shadow": "result = open('/etc/shadow').read()",
    "environ": "result = dict(pd.io.common.os.environ)",
    "subprocess_reexport": "result = pd.io.common.subprocess",
    "eval": "result = eval('1+1')",
    "exec_in_pandas_eval": "result = orders.eval('quantity * 2')",
    "class_def": "class A:\n    pass",
    "vars": "result = vars(pd)",
}


@pytest.mark.parametrize("name", sorted(AST_REFUSED))
def test_hostile_snippets_are_refused_by_the_runner_ast_check(sandbox: object, name: str) -> None:
    code = AST_REFUSED[name]
    with pytest.raises(python_guard.GuardError):
        python_guard.check(code)
    out = run(sandbox, code)
    assert out.status == "rejected", (name, out)
    assert out.error is not None and out.error.code == "python_rejected" and out.error.message
    assert out.rows == []


# Paths the AST check lets through (no dunder, no denied name): the audit hook refuses them at runtime.
AUDIT_REFUSED = {
    "read_file_via_get_handle": ("h = pd.io.common.get_handle('/etc/passwd', 'r')", "/etc/passwd"),
    "read_other_dataset": ("h = pd.io.common.get_handle('/etc/hostname', 'r')", "/etc/hostname"),
    "write_outside_temp": ("h = pd.io.common.get_handle('/data-out.csv', 'w')", "for writing"),
    "socket_via_urlopen": ("r = pd.io.common.urlopen('http://169.254.169.254/latest/meta-data/')", "urllib"),
    # the refusal is caught and the snippet ends normally: the runner still hears of it, from outside
    "caught_and_hidden": (
        "try:\n    pd.io.common.get_handle('/etc/passwd', 'r')\nexcept Exception:\n    pass\nresult = 1",
        "/etc/passwd",
    ),
}


@pytest.mark.parametrize("name", sorted(AUDIT_REFUSED))
def test_dunder_free_escapes_are_refused_by_the_audit_hook(sandbox: object, name: str) -> None:
    code, fragment = AUDIT_REFUSED[name]
    python_guard.check(code)  # the static check passes: only the runtime hook stands in the way
    out = run(sandbox, code)
    assert out.status == "rejected", (name, out)
    assert out.error is not None and out.error.code == "python_forbidden", out.error
    assert fragment in out.error.message
    assert out.rows == [] and "root:" not in out.stdout


def test_relative_write_outside_the_run_temp_dir_is_refused(sandbox: object) -> None:
    assert run(sandbox, "h = pd.io.common.get_handle('out.txt', 'w')").status == "rejected"
