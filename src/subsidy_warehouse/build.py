"""Builds a warehouse: raw files → `raw` schema → `dbt build`, into a temporary file swapped in on success.

A failed build leaves the previous warehouse untouched, and a reader never sees half a build: the new
file is written beside the old one in a private folder under the same name (DuckDB views and catalogs
carry the file's stem) and moved over it with one atomic rename.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .errors import UserFacingError
from .paths import project_dir
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


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], warehouse: Path, work_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run a dbt command on the project against `warehouse`, with target and logs in work_dir."""
    project = project_dir()
    env = {
        **os.environ,
        "SUBSIDY_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def failed_nodes(target_dir: Path) -> list[str]:
    """'node: message' for each failing node of the last run, from dbt's run_results.json."""
    results_file = target_dir / "run_results.json"
    if not results_file.exists():
        return []
    results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    return [
        f"{r['unique_id']}: {(r.get('message') or '').strip().splitlines()[0] if r.get('message') else r['status']}"
        for r in results
        if r.get("status") in ("error", "fail", "runtime error")
    ]


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
        completed = run_dbt(["build", "--exclude", "tag:audit_rule"], new_file, work_dir)
        if completed.returncode != 0:
            log_copy = Path(f"{warehouse}.failed-build.log")
            if (work_dir / "logs" / "dbt.log").exists():
                shutil.copyfile(work_dir / "logs" / "dbt.log", log_copy)
            nodes = failed_nodes(work_dir / "target")
            detail = "; ".join(nodes[:3]) if nodes else " ".join(completed.stdout.strip().splitlines()[-1:])
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
