"""The warehouse on PostgreSQL: the same raw read, the same dbt models, an atomic swap, a read-only role.

A build reads the raw files with the product's own reader into a private DuckDB file (raw_loader: every line
accounted for, rejects with reasons), so the raw contract's guarantees are the same on every engine, then
bulk-copies those tables into PostgreSQL with `COPY … FROM STDIN` and runs dbt there. Everything is written
into fresh schemas (`marts__build`, …) beside the live ones; at the end one transaction renames the live
schemas away and the new ones in, so a reader sees the old warehouse or the new one, never half of one, and
a failed build leaves the old one as it was. One build per database at a time (an advisory lock).

Readers (analysts, dashboards) log in with a role granted READER_ROLE: usage and select on `marts` and
`audit` only, never `raw` (personal IDs in clear), `staging` or `intermediate`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb

from .errors import UserFacingError

TARGETS = ("duckdb", "postgres", "spark")
DSN_VARIABLE = "SUBSIDY_PG_DSN"
# every schema a build writes, in the order they are swapped
SCHEMAS = ("raw", "reference", "policy", "staging", "intermediate", "marts", "audit")
BUILD_SUFFIX = "__build"
OLD_SUFFIX = "__old"
READER_ROLE = "subsidy_reader"
READER_SCHEMAS = ("marts", "audit")
BUILD_LOCK_KEY = 20250101  # pg_advisory_lock key: one build per database at a time

PG_TYPES = {
    "VARCHAR": "text",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "DOUBLE": "double precision",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise UserFacingError(f"--target must be one of {', '.join(TARGETS)} (got {target!r}).")
    return target


def resolve_dsn(dsn: str | None) -> str:
    """The PostgreSQL DSN given, else $SUBSIDY_PG_DSN; a user error when neither is set."""
    chosen = dsn or os.environ.get(DSN_VARIABLE)
    if not chosen:
        raise UserFacingError(
            f"--target postgres needs --dsn postgresql://user:password@host:port/dbname or ${DSN_VARIABLE}."
        )
    return chosen


def dsn_environment(dsn: str) -> dict[str, str]:
    """The variables profiles.yml's postgres target reads, from a postgresql:// URL."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise UserFacingError(
            f"The DSN must look like postgresql://user:password@host:port/dbname (got {parts.scheme}://…)."
        )
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return {
        "SUBSIDY_PG_HOST": parts.hostname,
        "SUBSIDY_PG_PORT": str(parts.port or 5432),
        "SUBSIDY_PG_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "SUBSIDY_PG_PASSWORD": unquote(parts.password or ""),
        "SUBSIDY_PG_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "SUBSIDY_PG_SSLMODE": query.get("sslmode", "prefer"),
        # PostgreSQL's JIT spends minutes compiling the staging layer's long expressions, even for 20 rows
        "PGOPTIONS": f"{os.environ.get('PGOPTIONS', '')} -c jit=off".strip(),
    }


@contextlib.contextmanager
def pg_connect(dsn: str, autocommit: bool = False) -> Iterator:
    """A psycopg2 connection (dbt-postgres's driver), JIT off; a user error when the server cannot be reached
    or refuses a statement (no privilege, no space)."""
    import psycopg2

    try:
        con = psycopg2.connect(dsn, connect_timeout=10, options="-c jit=off")
    except psycopg2.OperationalError as exc:
        first = (str(exc).strip().splitlines() or ["no answer"])[0]
        raise UserFacingError(f"Cannot connect to PostgreSQL: {first}.") from None
    con.autocommit = autocommit
    try:
        yield con
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserFacingError(f"PostgreSQL refused: {first}.") from None
    finally:
        con.close()


def _pg_type(duckdb_type: str) -> str:
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric")
    return PG_TYPES[duckdb_type]


def copy_raw_tables(duck: duckdb.DuckDBPyConnection, pg, schema: str, scratch: Path) -> dict[str, int]:
    """Create `schema` in PostgreSQL with every table of DuckDB's raw schema, same columns and types, and
    fill each with one `COPY … FROM STDIN` (CSV: an unquoted empty field is null, "" is empty text).
    Returns the rows copied per table."""
    from .exports import sql_text

    cur = pg.cursor()
    cur.execute(f'create schema "{schema}"')
    copied = {}
    tables = duck.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' order by table_name"
    ).fetchall()
    for (table,) in tables:
        columns = duck.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        cur.execute(
            f'create table "{schema}"."{table}" ('
            + ", ".join(f'"{name}" {_pg_type(kind)}' for name, kind in columns)
            + ")"
        )
        csv_file = scratch / f"{table}.csv"
        duck.execute(f"copy raw.\"{table}\" to {sql_text(str(csv_file))} (format csv, header false, force_quote *)")
        # force_quote quotes every value, so empty text is "" while null stays an empty unquoted field
        with csv_file.open("rb") as data:
            cur.copy_expert(f'copy "{schema}"."{table}" from stdin with (format csv)', data)
        copied[table] = cur.rowcount
        csv_file.unlink()
    return copied


def _schema_exists(cur, name: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", [name])
    return cur.fetchone() is not None


def grant_readers(cur, suffix: str) -> None:
    """READER_ROLE (created when missing, no login) may read marts and audit, nothing else."""
    cur.execute("select 1 from pg_roles where rolname = %s", [READER_ROLE])
    if cur.fetchone() is None:
        cur.execute(f"create role {READER_ROLE} nologin")
    for schema in READER_SCHEMAS:
        cur.execute(f'grant usage on schema "{schema}{suffix}" to {READER_ROLE}')
        cur.execute(f'grant select on all tables in schema "{schema}{suffix}" to {READER_ROLE}')


# How long the swap waits for readers in all (each try waits SWAP_LOCK_TIMEOUT for a lock, then lets go of every
# lock it holds, so that a reader waiting on one of them is never blocked by a swap waiting on that reader).
SWAP_LOCK_TIMEOUT = "200ms"
SWAP_WAIT_SECONDS = 120
# Once swapped, the new build is live: the old schemas are dropped if their readers let go of them within this
# long, else left for the next build, which drops what earlier builds left before it starts.
OLD_DROP_WAIT_SECONDS = 10


def _schema_or_table_busy(exc: Exception) -> bool:
    """A lock the swap could not have in time, or a schema's row that another transaction changed while the
    rename waited for it (PostgreSQL does not re-read a catalog row it waited for: "tuple concurrently
    updated"). Either way the next try may succeed."""
    code = getattr(exc, "pgcode", None)
    return code == "55P03" or (code == "XX000" and "tuple concurrently updated" in str(exc))


def _commit_when_not_busy(pg, statements: Callable, wait_seconds: float) -> bool:
    """Run `statements(cursor)` and commit, each lock waited for at most SWAP_LOCK_TIMEOUT. While a lock or a
    schema is busy, roll back (letting go of every lock held, so that a reader waiting on one of them is never
    blocked by a transaction waiting on that reader) and try again, for `wait_seconds` in all; False if it
    never could."""
    import psycopg2

    cur = pg.cursor()
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            cur.execute(f"set local lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
            statements(cur)
            pg.commit()
            return True
        except psycopg2.Error as exc:
            if not _schema_or_table_busy(exc):
                raise
            pg.rollback()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def suffixed_schemas(suffix: str) -> str:
    """'raw__old, reference__old, …': the schemas of one suffix, as a message names them."""
    return ", ".join(schema + suffix for schema in SCHEMAS)


def drop_schemas(pg, suffix: str, wait_seconds: float = SWAP_WAIT_SECONDS) -> bool:
    """Drop every `<schema><suffix>` (what a build leaves behind) in one transaction; False, leaving them, when
    readers kept one busy for `wait_seconds`."""

    def drop(cur) -> None:
        for schema in SCHEMAS:
            cur.execute(f'drop schema if exists "{schema}{suffix}" cascade')

    return _commit_when_not_busy(pg, drop, wait_seconds)


def swap_in(pg) -> bool:
    """One transaction: every live schema renamed to `<schema>__old`, every `<schema>__build` to `<schema>`;
    then the old ones dropped in a second one (it waits a while for readers still reading them). Renaming a schema
    takes no lock a reader holds: a reader's statement that had found `marts.fct_awards` in the old schema
    could find `audit.exceptions` in the new one (seen once under load: the old build's awards beside the new
    build's findings). So the transaction first locks every live table and view (ACCESS EXCLUSIVE): it waits
    for the readers reading them, and a reader arriving meanwhile waits for the swap, then finds every name
    in the new schemas. A try that cannot have a lock (a table's, or a schema's row in pg_namespace) within
    SWAP_LOCK_TIMEOUT lets go of all of them and tries again, for SWAP_WAIT_SECONDS in all. Returns False when
    the old schemas were left (their readers kept them for OLD_DROP_WAIT_SECONDS): the new build is live anyway."""
    cur = pg.cursor()
    grant_readers(cur, BUILD_SUFFIX)
    pg.commit()

    def rename(cur) -> None:
        cur.execute(
            "select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p') order by 1",
            [list(SCHEMAS)],
        )
        live = [name for (name,) in cur.fetchall()]
        if live:
            cur.execute(f"lock table {', '.join(live)} in access exclusive mode")
        # the renames wait as briefly: a transaction changing a schema (a GRANT on it) holds its row in
        # pg_namespace, and waiting for it with every table locked would stop every reader
        for schema in SCHEMAS:
            if _schema_exists(cur, schema):
                cur.execute(f'alter schema "{schema}" rename to "{schema}{OLD_SUFFIX}"')
            cur.execute(f'alter schema "{schema}{BUILD_SUFFIX}" rename to "{schema}"')

    if not _commit_when_not_busy(pg, rename, SWAP_WAIT_SECONDS):
        drop_schemas(pg, BUILD_SUFFIX)
        raise UserFacingError(
            f"Readers kept the warehouse's tables or schemas busy for {SWAP_WAIT_SECONDS} s; the new build was "
            "not swapped in and the live schemas are unchanged: build again when they are done."
        )
    return drop_schemas(pg, OLD_SUFFIX, OLD_DROP_WAIT_SECONDS)


@dataclass(frozen=True)
class PostgresBuild:
    dsn: str
    seconds: float
    raw_rows: dict[str, int]
    old_schemas_left: bool  # readers still held the previous build's schemas: the next build drops them


def build_postgres(raw_dir: Path, dsn: str) -> PostgresBuild:
    """Build the warehouse from `raw_dir` into the PostgreSQL database at `dsn`; raises UserFacingError or
    build.BuildFailed (the live schemas are then unchanged). Always a full build."""
    from .build import BuildFailed, code_fingerprint, land_raw, writer_settings
    from .dbt_runner import run_dbt
    from .raw_loader import check_raw_dir

    started = time.perf_counter()
    check_raw_dir(raw_dir)
    environment = dsn_environment(dsn)
    with pg_connect(dsn) as pg, tempfile.TemporaryDirectory(prefix="subsidy-pg-build-") as private:
        work = Path(private)  # mode 0700: the raw tables hold personal IDs
        cur = pg.cursor()
        cur.execute("select pg_try_advisory_lock(%s)", [BUILD_LOCK_KEY])
        if not cur.fetchone()[0]:
            raise UserFacingError("Another build of this PostgreSQL database is running; try again when it ends.")
        # a failed build's schemas, or a build's old ones that readers held (or that it was killed before
        # dropping): the swap could not rename the live schemas onto names still taken
        for suffix in (BUILD_SUFFIX, OLD_SUFFIX):
            if not drop_schemas(pg, suffix):
                raise UserFacingError(
                    f"Readers kept the schemas an earlier build left behind ({suffixed_schemas(suffix)}) busy for "
                    f"{SWAP_WAIT_SECONDS} s; "
                    "nothing was built: build again when they are done."
                )
        with duckdb.connect(str(work / "pg_raw.duckdb"), config=writer_settings()) as duck:
            land_raw(duck, raw_dir, None, code_fingerprint())
            raw_rows = copy_raw_tables(duck, pg, f"raw{BUILD_SUFFIX}", work)
        pg.commit()
        run = run_dbt(
            ["build", "--exclude", "tag:audit_rule", "--vars", f"{{build_schema_suffix: '{BUILD_SUFFIX}'}}"],
            work / "pg_raw.duckdb",
            work / "logs",
            target="postgres",
            environment=environment,
        )
        if not run.success:
            log_copy = Path(tempfile.gettempdir()) / f"subsidy-postgres-failed-build-{os.getpid()}.log"
            if (work / "logs" / "dbt.log").exists():
                shutil.copyfile(work / "logs" / "dbt.log", log_copy)
            drop_schemas(pg, BUILD_SUFFIX)
            detail = "; ".join(run.failed_nodes()[:3]) or run.error or "see the log"
            raise BuildFailed(
                f"dbt build failed on PostgreSQL ({detail}); the live schemas are unchanged and the log is at {log_copy}."
            )
        old_dropped = swap_in(pg)
        cur.execute("select pg_advisory_unlock(%s)", [BUILD_LOCK_KEY])
        pg.commit()
    return PostgresBuild(
        dsn=dsn, seconds=time.perf_counter() - started, raw_rows=raw_rows, old_schemas_left=not old_dropped
    )


DUCKDB_TYPES = {
    "text": "varchar",
    "character varying": "varchar",
    "integer": "integer",
    "bigint": "bigint",
    "smallint": "smallint",
    "boolean": "boolean",
    "date": "date",
    "double precision": "double",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}


def _duckdb_type(data_type: str, precision: int | None, scale: int | None) -> str:
    if data_type == "numeric":
        return f"decimal({precision}, {scale})" if precision is not None else "decimal(38, 2)"
    return DUCKDB_TYPES[data_type]


def create_copy_tables(
    duck: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], tables: dict[tuple[str, str], list[tuple[str, str]]]
) -> dict[tuple[str, str], str]:
    """Create `schemas` and each table of `tables` ({(schema, table): [(column, DuckDB type)]}) in the DuckDB
    file of `duck`; returns each table's name qualified by the catalog (the file's stem), which may be named
    like a schema (audit.duckdb, in which `audit.x` would be ambiguous)."""
    catalog = duck.execute("select current_database()").fetchone()[0]
    for schema in schemas:
        duck.execute(f'create schema "{catalog}"."{schema}"')
    qualified = {}
    for (schema, table), columns in tables.items():
        qualified[schema, table] = f'"{catalog}"."{schema}"."{table}"'
        duck.execute(
            f"create table {qualified[schema, table]} (" + ", ".join(f'"{name}" {kind}' for name, kind in columns) + ")"
        )
    return qualified


def snapshot_to_duckdb(dsn: str, path: Path, schemas: tuple[str, ...]) -> Path:
    """Copy every table of `schemas` from the PostgreSQL warehouse at `dsn` into a new DuckDB file at `path`
    (same schema, table and column names and types), each with one `COPY … TO STDOUT`: what the DuckDB-only
    readers (the build summary, the audit, the dashboards' source) read. One read-only transaction, so the
    snapshot is of one build even while another one swaps in."""
    from .build import writer_settings

    with pg_connect(dsn) as pg:
        pg.set_session(isolation_level="REPEATABLE READ", readonly=True)
        cur = pg.cursor()
        cur.execute("set datestyle = 'ISO, YMD'; set timezone = 'UTC'")
        cur.execute(
            "select table_schema, table_name, column_name, data_type, numeric_precision, numeric_scale "
            "from information_schema.columns where table_schema = any(%s) order by table_schema, table_name, "
            "ordinal_position",
            [list(schemas)],
        )
        tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, data_type, precision, scale in cur.fetchall():
            tables.setdefault((schema, table), []).append((column, _duckdb_type(data_type, precision, scale)))
        missing = [s for s in schemas if s not in {schema for schema, _ in tables}]
        if missing:
            raise UserFacingError(
                f"The PostgreSQL database has no {', '.join(missing)} schema: build it with `subsidy build --target postgres`."
            )
        path.unlink(missing_ok=True)
        with duckdb.connect(str(path), config=writer_settings()) as duck:
            qualified = create_copy_tables(duck, schemas, tables)
            for (schema, table), columns in tables.items():
                csv_file = path.with_suffix(".copy.csv")
                with csv_file.open("wb") as out:
                    # force_quote: every value quoted, so an unquoted empty field is null and "" is empty text
                    cur.copy_expert(
                        f'copy (select * from "{schema}"."{table}") to stdout with (format csv, force_quote *)', out
                    )
                types = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
                duck.execute(
                    f"insert into {qualified[schema, table]} select * from read_csv('{csv_file}', header = false, "
                    f"columns = {types}, allow_quoted_nulls = false, auto_detect = false)"
                )
                csv_file.unlink()
        pg.rollback()
    return path


def copied_schemas(with_raw: bool) -> tuple[str, ...]:
    """What a local copy of a server's warehouse holds: every schema, `raw` (personal IDs in clear) only for
    the audit, whose checks read it."""
    return SCHEMAS if with_raw else tuple(s for s in SCHEMAS if s != "raw")


def replace_privately(path: Path, write: Callable[[Path], Path]) -> Path:
    """Write a DuckDB file with `write(scratch)` in a private folder (mode 0700) beside `path`, make it
    owner-only (0600: it may hold the raw schema) and move it onto `path` in one rename: a reader of `path`
    sees the old copy or the new one, and nobody else sees either while it is written."""
    from .build import check_warehouse_path

    path = check_warehouse_path(path)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.copy-", dir=path.parent) as private:  # mode 0700
        scratch = write(Path(private) / path.name)
        scratch.chmod(0o600)
        os.replace(scratch, path)
    return path


def local_copy(dsn: str, path: Path, with_raw: bool) -> Path:
    """The PostgreSQL warehouse as a local DuckDB file at `path` (owner-only) for the DuckDB readers:
    `subsidy audit` (with_raw: its checks read the raw tables) and the dashboards."""
    return replace_privately(path, lambda scratch: snapshot_to_duckdb(dsn, scratch, copied_schemas(with_raw)))


def query_postgres(dsn: str, sql: str):
    """Run one statement in a read-only transaction (rolled back) and return its rows as a polars frame.
    Give analysts a DSN of a role granted READER_ROLE: it reads marts and audit, nothing else."""
    import polars as pl
    import psycopg2

    with pg_connect(dsn) as pg:
        pg.set_session(readonly=True)
        cur = pg.cursor()
        try:
            cur.execute(sql)
        except psycopg2.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UserFacingError(f"Query failed: {first}") from None
        if cur.description is None:
            pg.rollback()
            return pl.DataFrame()
        columns = [d.name for d in cur.description]
        rows = cur.fetchall()
        pg.rollback()
    return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)


# What the CLI calls for a target other than duckdb (`--target`, `--dsn`).


def build_on_server(raw_dir: Path, target: str, dsn: str | None) -> None:
    """`subsidy build --target postgres|spark`: build, then print the same summary as a DuckDB build."""
    import typer

    from .summary import print_summary

    if check_target(target) == "spark":
        from .spark import build_spark, snapshot_spark

        built = build_spark(raw_dir)
        typer.echo(f"Warehouse built on Spark in {built.seconds:.1f} s (full build): {built.location}")
        with tempfile.TemporaryDirectory(prefix="subsidy-summary-") as private:
            print_summary(snapshot_spark(Path(private) / "summary.duckdb"))
        return
    chosen = resolve_dsn(dsn)
    result = build_postgres(raw_dir, chosen)
    host = urlsplit(chosen).hostname
    typer.echo(f"Warehouse built on PostgreSQL in {result.seconds:.1f} s (full build, swapped in): {host}")
    if result.old_schemas_left:
        typer.echo(
            f"note: readers were still reading the previous build's schemas ({suffixed_schemas(OLD_SUFFIX)}); they "
            "were left in place, and the next build drops them.",
            err=True,
        )
    with tempfile.TemporaryDirectory(prefix="subsidy-summary-") as private:
        print_summary(snapshot_to_duckdb(chosen, Path(private) / "summary.duckdb", ("marts", "audit")))


def query_on_server(target: str, dsn: str | None, sql: str):
    if check_target(target) == "spark":
        from .spark import query_spark

        return query_spark(sql)
    return query_postgres(resolve_dsn(dsn), sql)


def copy_from_server(target: str, dsn: str | None, path: Path, with_raw: bool) -> Path:
    """The warehouse of `target` as a local DuckDB file at `path`, for `subsidy audit` and the dashboards."""
    if check_target(target) == "spark":
        from .spark import snapshot_spark

        return replace_privately(path, lambda scratch: snapshot_spark(scratch, copied_schemas(with_raw)))
    return local_copy(resolve_dsn(dsn), path, with_raw)
