"""Builds a warehouse: raw files → `raw` schema → `dbt build`, into a temporary file swapped in on success.

A failed build leaves the previous warehouse untouched, and a reader never sees half a build: the new
file is written beside the old one in a private folder under the same name (the file's stem is its DuckDB
catalog, and dbt's parse is kept per profile) and moved over it with one atomic rename. A daily load writes
the warehouse in place instead when it can (open_in_place): its changes reach the file in one checkpoint at
the end, and readers wait for it meanwhile.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import progress
from .build_folders import WORK_FILE_NAME, build_folder, remove_abandoned_build_folders
from .dbt_runner import ParseInBackground, dbt_threads, run_dbt
from .errors import UserFacingError
from .paths import project_dir
from .query import check_warehouse_name, duckdb_memory_limit, open_read_only
from .raw_loader import AppendPoint, RawFileRead, append_points, append_raw_schema, check_raw_dir, write_raw_schema

# Older DuckDB builds cannot open files written in DuckDB 2.0's default storage format. v1.3.0 is the oldest
# with DuckDB 1.3's string compression: a 10M-row text table is written in 5.9 s, against 8.2 s with v1.1.0
# and 5.4 s in 2.0's own format, and Evidence's Node driver (DuckDB 1.5, pinned in reports/package.json) reads it.
STORAGE_COMPATIBILITY_VERSION = "v1.3.0"


class BuildFailed(Exception):
    """dbt could not build the warehouse; the message names the failing nodes and the log."""


def writer_settings() -> dict[str, str]:
    """DuckDB settings of a build's own connection: the storage older readers open, and the memory bound
    dbt runs under too (profiles.yml)."""
    return {
        "storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION,
        "memory_limit": duckdb_memory_limit(),
        "preserve_insertion_order": "false",
    }


# a checkpoint only when the build asks for one
NO_AUTOMATIC_CHECKPOINT = {"checkpoint_threshold": "1TB"}


def landing_settings(daily: DailyLoad | None) -> dict[str, str]:
    """A daily load that copies the warehouse appends to the copy: at the default 16 MB threshold its first insert
    triggers an automatic checkpoint of a 10M-row copy (land_raw 7.7 s median of 4 at +1 %, 4.7 s of 5 without);
    the connection's close checkpoints once anyway. (A load in place never checkpoints before the end: open_in_place.)"""
    return NO_AUTOMATIC_CHECKPOINT if daily else {}


# Raw files this large take seconds to read (1M applications: 229 MB, 3.4 s), and dbt parses meanwhile
# (ParseInBackground): 1-2 s less per build. Smaller ones are read in under a second, where the parse
# would only compete for Python's lock, and an error in them waits for nothing.
PARSE_BESIDE_RAW_BYTES = 32 * 1024 * 1024
DBT_CODE_FOLDERS = ("models", "macros", "seeds", "tests")
# the files dbt reads there: tests/ also holds the Python suite, whose bytecode changes whenever it runs
DBT_CODE_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md")
# where a daily load's models note the keys they rewrote, for their data tests (macros/daily_load.sql); made
# before dbt runs and dropped before the swap
REWRITTEN_KEYS_SCHEMA = "daily_load_keys"
# one row per build: the first is full, each daily load after it adds the lines appended to the raw files
BATCHES_DDL = "batch integer, mode varchar, built_at timestamptz, code_sha256 varchar, records_read bigint"


@dataclass(frozen=True)
class BuildResult:
    warehouse: Path
    seconds: float
    raw_files: list[RawFileRead]  # what this build read: whole files, or the lines appended since the last
    mode: str  # full | daily


DUCKDB_FILE_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def is_duckdb_file(path: Path) -> bool:
    """Whether `path` is a regular file that starts as a DuckDB database does (a FIFO or a device is never opened)."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:] == DUCKDB_FILE_MAGIC
    except OSError:
        return False


def check_warehouse_path(warehouse: Path) -> Path:
    """The absolute warehouse path, its folder created; raises UserFacingError for a path that cannot be one.
    A build replaces the file at the path: anything there but a DuckDB file (a raw CSV given by mistake, a
    device, a FIFO) is refused rather than lost."""
    warehouse = warehouse.resolve()
    check_warehouse_name(warehouse)
    if warehouse.is_dir():
        raise UserFacingError(f"Warehouse path {warehouse} is a directory; give a file path such as warehouse.duckdb.")
    if warehouse.exists() and not is_duckdb_file(warehouse):
        raise UserFacingError(
            f"{warehouse} exists and is not a DuckDB warehouse; the build would replace it. Give a warehouse's path, "
            "or one where no file is yet."
        )
    blocking = next((p for p in warehouse.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UserFacingError(f"Cannot create the warehouse {warehouse}: {blocking} is a file, not a folder.")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserFacingError(f"Cannot create the folder {warehouse.parent}: {exc.strerror}.") from None
    return warehouse


def code_fingerprint() -> str:
    """SHA-256 of everything dbt builds from (models, macros, seeds, tests, project file) and of the
    pseudonymisation salt: a daily load may only extend a warehouse built the same way (a new salt gives
    every person a new pseudonym). Only this digest is stored, never the salt."""
    project = project_dir()
    digest = hashlib.sha256(os.environ.get("SUBSIDY_ID_SALT", "").encode() + b"\0")
    files = [project / "dbt_project.yml", *(p for d in DBT_CODE_FOLDERS for p in sorted((project / d).rglob("*")))]
    for path in files:
        if path.is_file() and path.suffix in DBT_CODE_SUFFIXES:
            digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class DailyLoad:
    """A build that extends the last one: the lines appended to each raw file since, as batch `batch`."""

    points: dict[str, AppendPoint]
    batch: int


def plan_daily_load(warehouse: Path, raw_dir: Path, code: str) -> DailyLoad | None:
    """A daily load when `warehouse` exists, was built by the same code, and every raw file has only grown
    since (append_points); else None, and the build starts from scratch."""
    if not warehouse.is_file():
        return None
    try:
        with open_read_only(warehouse) as con:
            last = con.execute(
                "select batch, code_sha256 from raw.batches order by batch desc limit 1"
            ).fetchall()
            points = append_points(con, raw_dir) if last and last[0][1] == code else None
    except (UserFacingError, duckdb.Error):
        return None  # not a warehouse this code can extend: build it anew
    return DailyLoad(points, last[0][0] + 1) if points is not None else None


def check_still_planned(con: duckdb.DuckDBPyConnection, warehouse: Path, daily: DailyLoad) -> None:
    """Raise UserFacingError when another build has loaded `warehouse` since `daily` was planned on it (two builds
    started together: the second waits for the first's load in place, or copies what it swapped in), rather than
    load the same lines a second time."""
    [(last,)] = con.execute("select max(batch) from raw.batches").fetchall()
    if last != daily.batch - 1:
        raise UserFacingError(
            f"Another build loaded {warehouse} while this one was starting; run `subsidy build` again to load "
            "what is left."
        )


def land_raw(con: duckdb.DuckDBPyConnection, raw_dir: Path, daily: DailyLoad | None, code: str) -> list[RawFileRead]:
    """The raw schema of a build: every line of the raw files (for a daily load, the lines appended since) and
    the batch that read them (raw.batches, with the code fingerprint a daily load must match)."""
    if daily:
        raw_files = append_raw_schema(con, raw_dir, daily.points, daily.batch)
    else:
        raw_files = write_raw_schema(con, raw_dir)
        con.execute(f"create or replace table raw.batches ({BATCHES_DDL})")
    con.execute(
        "insert into raw.batches values (?, ?, current_timestamp, ?, ?)",
        [daily.batch if daily else 1, "daily" if daily else "full", code, sum(r.records for r in raw_files)],
    )
    return raw_files


def open_in_place(warehouse: Path, work_file: Path) -> duckdb.DuckDBPyConnection | None:
    """A connection to `warehouse` through `work_file`, a second name (hard link) of it in the build's folder, for a
    daily load written in place rather than into a copy (a 10M warehouse is 5.6 GB: 4-12 s to copy here, and
    it grows with the warehouse, not the load); None when it cannot be, and the load copies.

    Nothing reaches the warehouse's content before the end: this database never checkpoints on its own (no
    automatic checkpoint, none on closing), so the load's changes stay in the write-ahead log, which DuckDB names
    after `work_file` (in the private folder), and in blocks that the file's last checkpoint does not use. The
    one checkpoint after dbt succeeds writes them in, made atomic by DuckDB's header write; a load that fails or
    is killed leaves the log in the folder, which is removed, and the warehouse is as it was. The connection is
    held for the whole load, so that DuckDB's lock keeps other processes out (this product's readers wait:
    build_folders.wait_for_loads_in_place), and dbt's connection shares its database (the same configuration)."""
    if Path(f"{warehouse}.wal").exists():
        return None  # a crashed writer's log, which only a copy leaves behind
    try:
        os.link(warehouse, work_file)
    except OSError:
        return None  # a file system without hard links, or another user's file under protected_hardlinks
    try:
        con = duckdb.connect(str(work_file))  # no configuration, as dbt-duckdb connects: settings are SET below
    except duckdb.Error:
        work_file.unlink()
        return None  # a reader has the warehouse open: the load copies it, as a reader does not block a build
    con.execute("pragma disable_checkpoint_on_shutdown")
    for name, value in (writer_settings() | NO_AUTOMATIC_CHECKPOINT).items():
        con.execute(f"set {name} = '{value}'")
    return con


def copy_warehouse(warehouse: Path, work_file: Path) -> None:
    """Copy `warehouse` for a daily load that cannot write it in place, holding it open for reading meanwhile:
    no daily load can start writing it in place mid-copy."""
    with open_read_only(warehouse):
        shutil.copyfile(warehouse, work_file)


def build_warehouse(raw_dir: Path, warehouse: Path, full_refresh: bool = False) -> BuildResult:
    """Build `warehouse` from the raw files in `raw_dir`; raises UserFacingError or BuildFailed.

    When the files only grew since the last build of `warehouse` (a daily load), the new lines are read
    and the models recompute only what they touch; `full_refresh` rebuilds everything regardless."""
    started = time.perf_counter()
    raw_bytes = sum(path.stat().st_size for path in check_raw_dir(raw_dir))
    warehouse = check_warehouse_path(warehouse)
    remove_abandoned_build_folders(warehouse)
    code = code_fingerprint()
    daily = None if full_refresh else plan_daily_load(warehouse, raw_dir, code)
    work_dir = build_folder(warehouse)
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        work_dir.mkdir(mode=0o700)  # readable by the owner only: the raw schema holds personal IDs
    except OSError as exc:
        raise UserFacingError(f"Cannot write in {warehouse.parent}: {exc.strerror}.") from None
    new_file = work_dir / WORK_FILE_NAME
    in_place = None
    try:
        progress.current().step(
            "读取新增行 read the appended lines" if daily else "读取原始文件 read the raw files"
        )
        parsing = ParseInBackground(new_file) if raw_bytes >= PARSE_BESIDE_RAW_BYTES else None
        with parsing or contextlib.nullcontext():
            if daily:
                in_place = open_in_place(warehouse, new_file)
                if in_place is None:
                    copy_warehouse(warehouse, new_file)  # the old file stays as it is until the swap
            with (
                in_place.cursor() if in_place
                else duckdb.connect(str(new_file), config=writer_settings() | landing_settings(daily))
            ) as con:
                if daily:
                    check_still_planned(con, warehouse, daily)
                raw_files = land_raw(con, raw_dir, daily, code)
                if daily:  # made here, once: two dbt threads creating it in their hooks conflict in DuckDB's catalog
                    con.execute(f"create schema {REWRITTEN_KEYS_SCHEMA}")
                records = con.execute("select sum(records_read) from raw.batches").fetchall()[0][0]
            manifest = parsing.manifest() if parsing else None
        progress.current().step("dbt 构建模型与测试 dbt build (seeds, models, tests)")
        run = run_dbt(
            # dbt's unit tests check the code on fixed rows, not the data: `make test` runs them (test_golden.py),
            # as do the PostgreSQL and Spark builds. Here they took 0.4-0.7 s of node time at 1M, run before the
            # capped models; leaving them out was within the noise of a 1M build's wall time.
            ["build", "--exclude", "tag:audit_rule", "--exclude-resource-type", "unit_test"],
            new_file,
            work_dir / "logs",
            manifest=manifest,
            threads=dbt_threads(records),
        )
        if not run.success:
            log_copy = Path(f"{warehouse}.failed-build.log")
            if (work_dir / "logs" / "dbt.log").exists():
                shutil.copyfile(work_dir / "logs" / "dbt.log", log_copy)
            detail = "; ".join(run.failed_nodes()[:3]) or run.error or "see the log"
            raise BuildFailed(
                f"dbt build failed ({detail}); the previous warehouse is unchanged and the log is at {log_copy}."
            )
        progress.current().step("写入仓库 write the warehouse")
        with contextlib.nullcontext(in_place) if in_place else duckdb.connect(str(new_file)) as con:
            con.execute(f"drop schema if exists {REWRITTEN_KEYS_SCHEMA} cascade")  # a daily load's notes for its tests
            con.execute("checkpoint")  # in place, the load's one write into the warehouse
        if not in_place:
            # a write-ahead log left by a crashed writer of the old file must not be replayed onto the new one
            Path(f"{warehouse}.wal").unlink(missing_ok=True)
            os.replace(new_file, warehouse)
        Path(f"{warehouse}.failed-build.log").unlink(missing_ok=True)
    finally:
        if in_place is not None:
            in_place.close()  # checkpoints nothing: a load that failed leaves its changes in the folder's log
        shutil.rmtree(work_dir, ignore_errors=True)
    return BuildResult(
        warehouse=warehouse,
        seconds=time.perf_counter() - started,
        raw_files=raw_files,
        mode="daily" if daily else "full",
    )
