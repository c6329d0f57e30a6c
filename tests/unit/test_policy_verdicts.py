"""Remembered policy approvals: a repeat query skips sqlglot, and nothing hostile ever rides on a cached verdict."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.errors import PolicyError
from csvanalyst.plan import verdicts
from csvanalyst.plan.policy import check_sql

TABLES = ("orders", "customers")
SCHEMA = {"orders": {"id": "BIGINT", "amount": "DOUBLE", "customer_id": "BIGINT"}, "customers": {"id": "BIGINT"}}
BENIGN = [
    "SELECT count(*) FROM orders",
    "SELECT id, amount FROM orders WHERE amount > 10 ORDER BY amount DESC",
    "SELECT o.id FROM orders o JOIN customers c ON o.customer_id = c.id",
    "SELECT amount FROM orders -- a comment",
]
HOSTILE = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY orders TO '/tmp/out.csv'",
    "SELECT count(*) FROM orders; DROP TABLE orders",
    "SELECT getenv('HOME')",
    "ATTACH '/tmp/x.db' AS x",
    "SELECT * FROM orders, '/etc/shadow'",
    "SELECT nope FROM orders",
]


def cached(sql: str, cache_dir: Path, *, fingerprint: str = "fp-1", schema=SCHEMA, row_cap: int = 100):
    return verdicts.check_sql_cached(
        sql,
        tables=TABLES,
        dataset="shop",
        fingerprint=fingerprint,
        row_cap=row_cap,
        schema=schema,
        cache_dir=cache_dir,
    )


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL texts that went through the real, full check (the real check_sql still runs)."""
    seen: list[str] = []

    def counting(sql: str, **kwargs):
        seen.append(sql)
        return check_sql(sql, **kwargs)

    monkeypatch.setattr(verdicts, "check_sql", counting)
    return seen


def test_an_approval_is_remembered_and_matches_the_full_check(tmp_path: Path, full_checks: list[str]) -> None:
    first = cached(BENIGN[1], tmp_path)
    again = cached(BENIGN[1], tmp_path)
    assert again == first == check_sql(BENIGN[1], tables=TABLES, dataset="shop", row_cap=100, schema=SCHEMA)
    assert full_checks == [BENIGN[1]]
    assert len(list(tmp_path.glob("*.json"))) == 1


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_refusal_is_never_remembered(tmp_path: Path, full_checks: list[str], hostile: str) -> None:
    for _ in range(3):
        with pytest.raises(PolicyError):
            cached(hostile, tmp_path)
    assert full_checks == [hostile] * 3
    assert not list(tmp_path.iterdir())


def test_hostile_queries_are_refused_after_any_sequence_of_cached_approvals(tmp_path: Path) -> None:
    for order in itertools.permutations(BENIGN, 3):
        for sql in order:
            cached(sql, tmp_path)
            for hostile in HOSTILE:
                with pytest.raises(PolicyError):
                    cached(hostile, tmp_path)
    # a hostile text built from an approved one is a different key, so it gets the full check
    with pytest.raises(PolicyError):
        cached(BENIGN[0] + "; DROP TABLE orders", tmp_path)
    entries = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert len(entries) == len(BENIGN)
    assert {e["verdict"] for e in entries} == {"approved"}


@pytest.mark.parametrize(
    "change",
    [
        {"fingerprint": "fp-2"},
        {"row_cap": 5},
        {"schema": {**SCHEMA, "orders": {"id": "VARCHAR", "amount": "DOUBLE", "customer_id": "BIGINT"}}},
    ],
)
def test_other_data_or_limits_are_a_miss(tmp_path: Path, full_checks: list[str], change: dict) -> None:
    cached(BENIGN[0], tmp_path)
    cached(BENIGN[0], tmp_path, **change)
    assert full_checks == [BENIGN[0], BENIGN[0]]


def test_a_column_dropped_from_the_data_is_refused_despite_an_earlier_approval(tmp_path: Path) -> None:
    cached("SELECT amount FROM orders", tmp_path)
    shrunk = {**SCHEMA, "orders": {"id": "BIGINT", "customer_id": "BIGINT"}}
    with pytest.raises(PolicyError):
        cached("SELECT amount FROM orders", tmp_path, fingerprint="fp-2", schema=shrunk)


def test_a_change_of_policy_is_a_miss(tmp_path: Path, full_checks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cached(BENIGN[0], tmp_path)
    monkeypatch.setattr(verdicts, "policy_version", lambda: "another policy")
    cached(BENIGN[0], tmp_path)
    assert full_checks == [BENIGN[0], BENIGN[0]]


def test_the_policy_version_follows_the_policy_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(Path(verdicts.__file__).parent / "policy", tmp_path / "policy")
    monkeypatch.setattr(verdicts, "_PLAN_DIR", tmp_path)
    verdicts.policy_version.cache_clear()
    before = verdicts.policy_version()
    rules = tmp_path / "policy" / "rules.py"
    rules.write_text(rules.read_text() + "\n# changed\n")
    verdicts.policy_version.cache_clear()
    try:
        assert verdicts.policy_version() != before
    finally:
        monkeypatch.undo()
        verdicts.policy_version.cache_clear()


@pytest.mark.parametrize("content", ["{not json", json.dumps({"verdict": "approved", "sql": "SELECT 1"}), ""])
def test_an_unreadable_or_foreign_entry_gets_the_full_check(
    tmp_path: Path, full_checks: list[str], content: str
) -> None:
    cached(BENIGN[0], tmp_path)
    (entry,) = tmp_path.glob("*.json")
    entry.write_text(content)
    assert cached(BENIGN[0], tmp_path).tables == ("orders",)
    assert full_checks == [BENIGN[0], BENIGN[0]]


def test_no_fingerprint_means_no_remembered_verdict(tmp_path: Path, full_checks: list[str]) -> None:
    cached(BENIGN[0], tmp_path, fingerprint="")
    cached(BENIGN[0], tmp_path, fingerprint="")
    assert full_checks == [BENIGN[0], BENIGN[0]]
    assert not list(tmp_path.iterdir())


def test_an_unwritable_cache_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cached(BENIGN[0], blocker / "verdicts").tables == ("orders",)


def test_a_remembered_approval_does_not_import_sqlglot(tmp_path: Path) -> None:
    approved = cached(BENIGN[2], tmp_path)
    probe = (
        "import sys; from pathlib import Path; from csvanalyst.plan import verdicts\n"
        f"c = verdicts.check_sql_cached({BENIGN[2]!r}, tables={TABLES!r}, dataset='shop', fingerprint='fp-1',"
        f" row_cap=100, schema={SCHEMA!r}, cache_dir=Path({str(tmp_path)!r}))\n"
        "print(repr(c.sql), 'sqlglot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{approved.sql!r} False"
