"""The private folders builds work in, beside their warehouse, and the daily loads that write a warehouse in place
from one of them (build.py). DuckDB refuses to open a file another process writes: a reader of a warehouse that
a daily load is writing waits for the load instead (wait_for_loads_in_place), and then reads what it loaded."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from . import progress

BUILD_FOLDER_PREFIX = ".{name}.build-"
# The file dbt builds in the private folder has this name in every build, and takes the warehouse's at the swap:
# dbt names the database after the file, and a profile naming another file means a full parse (3.4 s here,
# against 0.7 s for a partial one), so builds of differently named warehouses would never reuse the parse. A
# daily load written in place makes it a second name (hard link) of the warehouse itself.
WORK_FILE_NAME = "warehouse.duckdb"
# A reader gives up waiting for a daily load after this long and says the warehouse is locked (a 10M daily load
# takes about 30 s here).
LOAD_WAIT_SECONDS = 600.0


def build_folder(warehouse: Path) -> Path:
    """This process's private folder for a build of `warehouse`."""
    return warehouse.parent / f"{BUILD_FOLDER_PREFIX.format(name=warehouse.name)}{os.getpid()}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but someone else's
    return True


def build_folders(warehouse: Path) -> Iterator[tuple[Path, int]]:
    """Every build folder of `warehouse`, with the process id of the build that made it."""
    prefix = BUILD_FOLDER_PREFIX.format(name=warehouse.name)
    for folder in warehouse.parent.glob(f"{prefix}*"):
        pid = folder.name.removeprefix(prefix)
        if pid.isdigit() and folder.is_dir():
            yield folder, int(pid)


def remove_abandoned_build_folders(warehouse: Path) -> list[Path]:
    """Remove the private folders of builds of `warehouse` whose process is gone (killed, crashed): they may hold a
    partial warehouse with personal data in its raw schema, or the write-ahead log of a daily load that never
    finished writing in place, whose removal leaves the warehouse as it was before that load."""
    removed = []
    for folder, pid in build_folders(warehouse):
        if not process_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def written_in_place(warehouse: Path) -> bool:
    """Whether a live build (another process) writes `warehouse` in place: its work file is the warehouse itself."""
    try:
        live = warehouse.stat()
    except OSError:
        return False
    for folder, pid in build_folders(warehouse):
        try:
            work = (folder / WORK_FILE_NAME).stat()
        except OSError:
            continue
        if (work.st_dev, work.st_ino) == (live.st_dev, live.st_ino) and pid != os.getpid() and process_alive(pid):
            return True
    return False


def wait_for_loads_in_place(warehouse: Path, timeout: float = LOAD_WAIT_SECONDS) -> None:
    """Return once no live daily load writes `warehouse` in place, or after `timeout` seconds (the caller's open
    then meets DuckDB's lock and says so). Says once on stderr that it waits."""
    deadline = time.monotonic() + timeout
    announced = False
    while written_in_place(warehouse) and time.monotonic() < deadline:
        if not announced:
            progress.current().step("等待日常加载写完仓库 waiting for the daily load writing this warehouse")
            announced = True
        time.sleep(0.2)
