"""Builds a warehouse: raw files → `raw` schema → `dbt build`, into a temporary file swapped in on success.

A failed build leaves the previous warehouse untouched, and a reader never sees half a build: the new
file is written beside the old one in a private folder under the same name (the file's stem is its DuckDB
catalog, and dbt's parse is kept per profile) and moved over it with one atomic rename.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .dbt_runner import run_dbt
from .errors import UserFacingError
from .raw_loader import RawFileRead, check_raw_dir, write_raw_schema

# Older DuckDB builds (such as the one inside Evidence's Node driver) cannot open files written in
# DuckDB 2.0's default storage format; this is the newest format they read.
STORAGE_COMPATIBILITY_VERSION = "v1.1.0"


class BuildFailed(Exception):
    """dbt could not build the warehouse; the message names the failing nodes and the log."""


BUILD_FOLDER_PREFIX = ".{name}.build-"


@dataclass(frozen=True)
class BuildResult:
    warehouse: Path
    seconds: float
    raw_files: list[RawFileRead]


def check_warehouse_path(warehouse: Path) -> Path:
    """The absolute warehouse path, its folder created; raises UserFacingError for a path that cannot be one."""
    warehouse = warehouse.resolve()
    if warehouse.is_dir():
        raise UserFacingError(f"Warehouse path {warehouse} is a directory; give a file path such as warehouse.duckdb.")
    blocking = next((p for p in warehouse.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UserFacingError(f"Cannot create the warehouse {warehouse}: {blocking} is a file, not a folder.")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserFacingError(f"Cannot create the folder {warehouse.parent}: {exc.strerror}.") from None
    return warehouse


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but someone else's
    return True


def remove_abandoned_build_folders(warehouse: Path) -> list[Path]:
    """Remove the private folders of builds of `warehouse` whose process is gone (killed, crashed): they
    may hold a partial warehouse with personal data in its raw schema."""
    prefix = BUILD_FOLDER_PREFIX.format(name=warehouse.name)
    removed = []
    for folder in warehouse.parent.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix)
        if folder.is_dir() and pid.isdigit() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def build_warehouse(raw_dir: Path, warehouse: Path) -> BuildResult:
    """Build `warehouse` from the raw files in `raw_dir`; raises UserFacingError or BuildFailed."""
    started = time.perf_counter()
    check_raw_dir(raw_dir)
    warehouse = check_warehouse_path(warehouse)
    remove_abandoned_build_folders(warehouse)
    work_dir = warehouse.parent / f"{BUILD_FOLDER_PREFIX.format(name=warehouse.name)}{os.getpid()}"
    shutil.rmtree(work_dir, ignore_errors=True)
    try:
        work_dir.mkdir(mode=0o700)  # readable by the owner only: the raw schema holds personal IDs
    except OSError as exc:
        raise UserFacingError(f"Cannot write in {warehouse.parent}: {exc.strerror}.") from None
    new_file = work_dir / warehouse.name
    try:
        with duckdb.connect(
            str(new_file), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
        ) as con:
            raw_files = write_raw_schema(con, raw_dir)
        run = run_dbt(["build", "--exclude", "tag:audit_rule"], new_file, work_dir / "logs")
        if not run.success:
            log_copy = Path(f"{warehouse}.failed-build.log")
            if (work_dir / "logs" / "dbt.log").exists():
                shutil.copyfile(work_dir / "logs" / "dbt.log", log_copy)
            detail = "; ".join(run.failed_nodes()[:3]) or run.error or "see the log"
            raise BuildFailed(
                f"dbt build failed ({detail}); the previous warehouse is unchanged and the log is at {log_copy}."
            )
        with duckdb.connect(str(new_file)) as con:
            con.execute("checkpoint")
        # a write-ahead log left by a crashed writer of the old file must not be replayed onto the new one
        Path(f"{warehouse}.wal").unlink(missing_ok=True)
        os.replace(new_file, warehouse)
        Path(f"{warehouse}.failed-build.log").unlink(missing_ok=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return BuildResult(warehouse=warehouse, seconds=time.perf_counter() - started, raw_files=raw_files)
