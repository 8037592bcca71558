"""The same warehouse on PostgreSQL: built by `subsidy build --target postgres` on a real PostgreSQL 15 server
(pg_server.py), equal row for row to the DuckDB build of the same files; swapped in atomically for readers;
readable by the reader role on marts and audit only."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import psycopg2
import pytest
from engine_compare import differences
from helpers import BIN, GOLDEN_RAW, copy_build, run_cli
from pg_server import new_database

from subsidy_warehouse.engines import READER_ROLE, snapshot_to_duckdb

pytestmark = pytest.mark.slow


def build_on_postgres(raw_dir: Path, dsn: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "subsidy"), "build", "--raw-dir", str(raw_dir), "--target", "postgres", "--dsn", dsn],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **environment},
    )


def marts_and_audit(dsn: str, path: Path) -> Path:
    return snapshot_to_duckdb(dsn, path, ("marts", "audit"))


@pytest.fixture(scope="module")
def golden_dsn(postgres_dsn: str) -> str:
    dsn = new_database(postgres_dsn, "golden")
    built = build_on_postgres(GOLDEN_RAW, dsn)
    assert built.returncode == 0, built.stderr
    assert "Warehouse built on PostgreSQL" in built.stdout
    return dsn


def test_golden_fixtures_give_the_same_tables_and_audit_on_postgres(
    golden_dsn: str, golden_build: Path, tmp_path: Path
) -> None:
    duckdb_build = copy_build(golden_build, tmp_path / "duckdb")  # DuckDB's build of GOLDEN_RAW (conftest)
    assert differences(duckdb_build, marts_and_audit(golden_dsn, tmp_path / "pg.duckdb")) == []
    # `subsidy audit --target postgres` audits a local copy of the server's tables: the same verdict
    verdicts = []
    copy = tmp_path / "warehouse.duckdb"  # named as the DuckDB build: the audit's compiled tests are reused
    for where in (
        ["-w", str(duckdb_build)],
        ["--target", "postgres", "--dsn", golden_dsn, "-w", str(copy)],
    ):
        audited = run_cli("audit", *where, "--out", str(tmp_path / "audits"))
        assert audited.returncode == 1, audited.stderr  # the golden data carries fatal findings
        verdicts.append(audited.stdout.splitlines()[-1])
    assert verdicts[0] == verdicts[1]
    assert "fatal rules failed" in verdicts[1]
    assert copy.stat().st_mode & 0o077 == 0  # the copy holds raw: owner only


def test_hostile_corpus_gives_the_same_tables_on_postgres(
    postgres_dsn: str, hostile_build: Path, tmp_path: Path
) -> None:
    # every class of hostile input (tests/hostile/corpus.py) ends the same way on both engines, NUL included;
    # DuckDB's build of the corpus is made once per run (conftest.hostile_build)
    duck = copy_build(hostile_build, tmp_path / "duck", with_raw=True)
    dsn = new_database(postgres_dsn, "hostile")
    built = build_on_postgres(duck.parent / "raw", dsn)
    assert built.returncode == 0, built.stderr
    snapshot = marts_and_audit(dsn, tmp_path / "pg.duckdb")
    assert differences(duck, snapshot) == []
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.dim_beneficiaries where beneficiary_name = '杭州\ufffd空字符科技'"
        ).fetchone() == (1,)
        assert con.execute("select count(*) from audit.rejected_rows").fetchone()[0] > 0


def test_reader_role_reads_marts_and_audit_but_not_raw(golden_dsn: str) -> None:
    with contextlib.closing(psycopg2.connect(golden_dsn)) as admin:
        admin.autocommit = True
        admin.cursor().execute(f"create role analyst login password 'analyst' in role {READER_ROLE}")
    analyst_dsn = golden_dsn.replace("subsidy_admin:subsidy-test-only", "analyst:analyst")
    with contextlib.closing(psycopg2.connect(analyst_dsn)) as con:
        con.autocommit = True
        cur = con.cursor()
        cur.execute("select count(*) from marts.fct_awards")
        assert cur.fetchone()[0] == 16
        cur.execute("select count(*) from audit.exceptions")
        assert cur.fetchone()[0] > 0
        for table in ("raw.beneficiaries", "raw.applications", "staging.stg_raw__beneficiaries"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"select count(*) from {table}")
    # the CLI's query reads through the engine, read-only
    answer = run_cli(
        "query", "select count(*) as n from marts.fct_awards", "--target", "postgres", "--dsn", analyst_dsn
    )
    assert answer.returncode == 0, answer.stderr
    assert "16" in answer.stdout
    refused = run_cli("query", "drop table marts.fct_awards", "--target", "postgres", "--dsn", golden_dsn)
    assert refused.returncode == 2
    assert "read-only transaction" in refused.stderr
    assert "Traceback" not in refused.stderr


def counts(cur) -> tuple[int, int, int]:
    cur.execute(
        "select (select count(*) from marts.fct_awards), (select count(*) from audit.exceptions), "
        "(select count(*) from marts.fct_disbursements)"
    )
    return cur.fetchone()


def leftover_schemas(cur) -> list[tuple[str]]:
    """The schemas a build or a swap leaves behind when it does not finish: `…__build` and `…__old`."""
    cur.execute("select nspname from pg_namespace where nspname like '%%\\_\\_build' or nspname like '%%\\_\\_old'")
    return cur.fetchall()


def test_rebuild_is_atomic_for_readers_and_equals_duckdb_and_a_failed_build_keeps_the_old_one(
    postgres_dsn: str, golden_dsn: str, sample_raw_dir: Path, sample_warehouse: Path, tmp_path: Path
) -> None:
    # the old warehouse: a copy of the golden fixtures' build (PostgreSQL copies the database's files), not a
    # second build of the same files
    dsn = new_database(postgres_dsn, "swap", template=golden_dsn.rsplit("/", 1)[1])
    with contextlib.closing(psycopg2.connect(dsn)) as con:
        con.autocommit = True
        old = counts(con.cursor())
        # and what a build killed between its swap and the drop of the old schemas leaves: the rebuild must drop
        # it first, or its own swap could not rename the live schemas onto names still taken
        con.cursor().execute("create schema marts__old; create table marts__old.fct_awards (x int)")

    seen: list[tuple[int, int, int]] = []
    errors: list[str] = []
    stop = threading.Event()
    # The swap cannot commit before the reader below that holds the old tables ends its transaction: from the moment
    # that reader sees the swap waiting, this one reads without pause. Before, once every 20 ms: read back to back
    # through the whole build (175,000 reads), it cost the machine 17 CPU-s of a `make test` run.
    swap_pending = threading.Event()

    def read_while_building() -> None:
        with contextlib.closing(psycopg2.connect(dsn)) as reader:
            reader.autocommit = True  # every statement its own snapshot, as a dashboard's queries
            while not stop.is_set():
                try:
                    seen.append(counts(reader.cursor()))
                except psycopg2.Error as exc:
                    errors.append(str(exc))
                if not swap_pending.is_set():
                    stop.wait(0.02)

    def swap_waits_for_a_lock(watcher) -> bool:
        watcher.execute("select count(*) from pg_locks where not granted and mode = 'AccessExclusiveLock'")
        return watcher.fetchone()[0] > 0

    # a reader whose transaction has read the old awards and reads the findings later: renaming schemas takes no
    # lock it holds, so without the swap's locks it would read the new build's findings beside the old awards
    held: list[tuple[int, int, bool]] = []

    def read_across_the_swap() -> None:
        with contextlib.closing(psycopg2.connect(dsn)) as holder, contextlib.closing(psycopg2.connect(dsn)) as watching:
            watching.autocommit = True
            watcher = watching.cursor()
            cur = holder.cursor()  # one read-committed transaction, as a dashboard's connection runs its queries
            cur.execute("select count(*) from marts.fct_awards")
            (awards,) = cur.fetchone()
            waited = False
            while not stop.is_set() and not (waited := swap_waits_for_a_lock(watcher)):
                time.sleep(0.05)
            swap_pending.set()
            cur.execute("select count(*) from audit.exceptions")
            held.append((awards, cur.fetchone()[0], waited))
            holder.rollback()

    thread = threading.Thread(target=read_while_building)
    holding = threading.Thread(target=read_across_the_swap)
    thread.start()
    holding.start()
    try:
        rebuilt = build_on_postgres(sample_raw_dir, dsn)
    finally:
        stop.set()
        thread.join()
        holding.join()
    assert rebuilt.returncode == 0, rebuilt.stderr
    with contextlib.closing(psycopg2.connect(dsn)) as con:
        assert leftover_schemas(con.cursor()) == []
    assert held == [(old[0], old[1], True)]  # the swap waited for that transaction, which saw the old build only
    with contextlib.closing(psycopg2.connect(dsn)) as con:
        con.autocommit = True
        new = counts(con.cursor())
    assert new != old
    assert errors == []
    assert len(seen) > 10
    assert set(seen) <= {old, new}, set(seen) - {old, new}  # never a mix of the two builds
    assert seen[0] == old and seen[-1] == new

    # the sample, built over the golden fixtures, gives DuckDB's tables row for row (nothing of the old build
    # lingers); the comparison is not vacuous: the sample has awards, payments, findings and rejects
    snapshot = marts_and_audit(dsn, tmp_path / "pg.duckdb")
    assert differences(sample_warehouse, snapshot) == []
    with duckdb.connect(str(snapshot), read_only=True) as snapshot_con:
        for table in ("marts.fct_awards", "marts.fct_disbursements", "audit.exceptions", "audit.rejected_rows"):
            assert snapshot_con.execute(f"select count(*) from {table}").fetchone()[0] > 0, table

    # a build the server stops half way (every statement of dbt's cancelled after 50 ms) changes nothing
    failed = build_on_postgres(GOLDEN_RAW, dsn, PGOPTIONS="-c statement_timeout=50")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "the live schemas are unchanged" in failed.stderr
    assert "Traceback" not in failed.stderr
    with contextlib.closing(psycopg2.connect(dsn)) as con:
        cur = con.cursor()
        assert counts(cur) == new
        assert leftover_schemas(cur) == []


def test_a_swap_that_readers_keep_waiting_gives_up_and_changes_nothing(
    postgres_dsn: str, golden_dsn: str, monkeypatch
) -> None:
    # a reader that never ends its transaction: the swap waits SWAP_WAIT_SECONDS for its lock, then says so, drops
    # the new build's schemas and leaves the live ones as they were
    from subsidy_warehouse import engines
    from subsidy_warehouse.errors import UserFacingError

    dsn = new_database(postgres_dsn, "stuck", template=golden_dsn.rsplit("/", 1)[1])
    monkeypatch.setattr(engines, "SWAP_WAIT_SECONDS", 1)
    with contextlib.closing(psycopg2.connect(dsn)) as reader, contextlib.closing(psycopg2.connect(dsn)) as pg:
        before = counts(reader.cursor())  # the reader's transaction stays open, holding its locks
        cur = pg.cursor()
        for schema in engines.SCHEMAS:
            cur.execute(f'create schema "{schema}{engines.BUILD_SUFFIX}"')
        pg.commit()
        with pytest.raises(UserFacingError, match="the live schemas are unchanged"):
            engines.swap_in(pg)
        reader.rollback()
        assert leftover_schemas(cur) == []
        assert counts(cur) == before


def test_readers_of_the_old_schemas_hold_neither_the_swap_nor_the_next_build(
    postgres_dsn: str, golden_dsn: str, monkeypatch
) -> None:
    # once swapped, the new build is live: a reader still reading the old schemas (here one naming them) makes the
    # swap leave them after OLD_DROP_WAIT_SECONDS instead of waiting for it; the next build, which drops them
    # first, says so in one sentence while they are read, before building anything
    from subsidy_warehouse import engines
    from subsidy_warehouse.errors import UserFacingError

    dsn = new_database(postgres_dsn, "old_reader", template=golden_dsn.rsplit("/", 1)[1])
    monkeypatch.setattr(engines, "OLD_DROP_WAIT_SECONDS", 1)
    monkeypatch.setattr(engines, "SWAP_WAIT_SECONDS", 1)
    drop_schemas = engines.drop_schemas
    with contextlib.closing(psycopg2.connect(dsn)) as reader, contextlib.closing(psycopg2.connect(dsn)) as pg:

        def read_the_old_schemas_first(connection, suffix: str, wait_seconds: float = 1) -> bool:
            if suffix == engines.OLD_SUFFIX:  # the reader's transaction stays open, holding marts__old.fct_awards
                reader.cursor().execute("select count(*) from marts__old.fct_awards")
            return drop_schemas(connection, suffix, wait_seconds)

        monkeypatch.setattr(engines, "drop_schemas", read_the_old_schemas_first)
        cur = pg.cursor()
        for schema in engines.SCHEMAS:
            cur.execute(f'create schema "{schema}{engines.BUILD_SUFFIX}"')
        cur.execute(f'create table "marts{engines.BUILD_SUFFIX}".built_now (x int)')
        pg.commit()
        outcome: list[bool] = []
        swapping = threading.Thread(target=lambda: outcome.append(engines.swap_in(pg)))
        swapping.start()
        try:
            swapping.join(timeout=30)
            assert outcome == [False]  # it returned, the old schemas left
            cur.execute("select to_regclass('marts.built_now') is not null")
            assert cur.fetchone() == (True,)
            assert sorted(leftover_schemas(cur)) == sorted((schema + engines.OLD_SUFFIX,) for schema in engines.SCHEMAS)
            pg.rollback()
            with pytest.raises(UserFacingError, match="nothing was built: build again when they are done"):
                engines.build_postgres(GOLDEN_RAW, dsn)
        finally:
            reader.rollback()
            swapping.join(timeout=60)
        assert drop_schemas(pg, engines.OLD_SUFFIX)
        assert leftover_schemas(cur) == []
        cur.execute("select to_regclass('marts.built_now') is not null")
        assert cur.fetchone() == (True,)


def swap_during_a_grant(dsn: str, still_waiting_after: float) -> None:
    """swap_in while an administrator's GRANT on the live schema `marts` is not yet committed (it holds that
    schema's row in pg_namespace, which the swap's rename must update): once the swap waits for it, and still
    waits `still_waiting_after` seconds later, the GRANT commits. The swap must then succeed: the new build
    live, nothing of the old one left."""
    from subsidy_warehouse import engines

    with contextlib.closing(psycopg2.connect(dsn)) as admin, contextlib.closing(psycopg2.connect(dsn)) as pg:
        cur = pg.cursor()
        for schema in engines.SCHEMAS:
            cur.execute(f'create schema "{schema}{engines.BUILD_SUFFIX}"')
        cur.execute(f'create table "marts{engines.BUILD_SUFFIX}".built_now (x int)')
        pg.commit()
        admin.cursor().execute("grant usage on schema marts to public")  # its transaction stays open
        outcome: list[BaseException | None] = []

        def swap() -> None:
            try:
                engines.swap_in(pg)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 (the assertions below show it)
                outcome.append(exc)

        swap_pid = pg.get_backend_pid()
        swapping = threading.Thread(target=swap)
        swapping.start()
        with contextlib.closing(psycopg2.connect(dsn)) as watcher:
            watcher.autocommit = True
            waiting = watcher.cursor()
            for _ in range(200):  # until the swap waits for a lock (10 s at most)
                waiting.execute("select count(*) from pg_locks where pid = %s and not granted", [swap_pid])
                if waiting.fetchone()[0] or outcome:
                    break
                time.sleep(0.05)
        time.sleep(still_waiting_after)
        assert outcome == [], outcome  # still waiting, not failed
        admin.commit()
        swapping.join(timeout=60)
        assert outcome == [None], outcome
        cur.execute("select to_regclass('marts.built_now') is not null")
        assert cur.fetchone() == (True,)
        assert leftover_schemas(cur) == []


def test_a_swap_waits_for_a_transaction_that_changes_a_schema(postgres_dsn: str, golden_dsn: str) -> None:
    # each try's rename gives up after SWAP_LOCK_TIMEOUT (200 ms) and the swap tries again, as it does for
    # readers' table locks, instead of failing the build after one try
    dsn = new_database(postgres_dsn, "granting", template=golden_dsn.rsplit("/", 1)[1])
    swap_during_a_grant(dsn, still_waiting_after=1)


def test_a_schema_changed_while_the_swap_waited_for_it_is_tried_again(
    postgres_dsn: str, golden_dsn: str, monkeypatch
) -> None:
    # with a lock timeout longer than the GRANT, the rename is still waiting when the GRANT commits: PostgreSQL
    # then fails it ("tuple concurrently updated", it does not re-read a catalog row), and the swap tries again
    from subsidy_warehouse import engines

    monkeypatch.setattr(engines, "SWAP_LOCK_TIMEOUT", "30s")
    dsn = new_database(postgres_dsn, "granted", template=golden_dsn.rsplit("/", 1)[1])
    swap_during_a_grant(dsn, still_waiting_after=0.5)


def test_a_wrong_dsn_is_one_sentence(tmp_path: Path) -> None:
    missing = run_cli(
        "build", "--raw-dir", str(GOLDEN_RAW), "--target", "postgres", "--dsn", "postgresql://u@127.0.0.1:1/x"
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: Cannot connect to PostgreSQL")
    assert "Traceback" not in missing.stderr
    no_dsn = subprocess.run(
        [str(BIN / "subsidy"), "build", "--raw-dir", str(GOLDEN_RAW), "--target", "postgres"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SUBSIDY_PG_DSN"},
    )
    assert no_dsn.returncode == 2
    assert "--dsn" in no_dsn.stderr
