"""A daily load writes the warehouse in place (build.open_in_place): its changes reach the file in one checkpoint
after dbt succeeds. A load that fails or is killed leaves the warehouse as it was. A reader that has the file open
makes the load copy it instead, and a reader that comes during the load waits for it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import BIN, GOLDEN_RAW, copy_build, run_cli
from test_daily_load import BATCHES, all_tables, append_lines

from subsidy_warehouse import build as build_module
from subsidy_warehouse.errors import UserFacingError

NEW_LINES = BATCHES["new records in old scopes"]
# an award the batch above does not recompute (it shares no cap scope with a new line), whose row a relationships
# test reads whole on every build: an orphan planted there fails the load's dbt build
UNTOUCHED_AWARD = "G01"


def warehouse_state(warehouse: Path) -> tuple[dict, list[tuple]]:
    """Every table's rows, and the batches read (all_tables leaves raw.batches out)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return all_tables(con), con.execute("select batch, mode, records_read from raw.batches order by 1").fetchall()


def left_behind(warehouse: Path) -> list[Path]:
    """What builds left beside the warehouse: their private folders and write-ahead logs."""
    return sorted(warehouse.parent.glob(f".{warehouse.name}.build-*")) + sorted(warehouse.parent.glob("*.wal"))


def start_build(raw: Path, warehouse: Path) -> subprocess.Popen:
    """`subsidy build` in the background, its progress as plain lines on stderr."""
    return subprocess.Popen(
        [str(BIN / "subsidy"), "build", "--raw-dir", str(raw), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )


def wait_for_dbt(build: subprocess.Popen) -> None:
    """Read the build's progress until dbt runs its first node."""
    for line in build.stderr:
        if "dbt 0/" in line:
            return
    raise AssertionError(f"the build ended before dbt ran (exit {build.wait()}): {build.stdout.read()}")


def test_a_failed_or_killed_daily_load_leaves_the_warehouse_as_it_was(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path / "daily")
    inode = warehouse.stat().st_ino
    with duckdb.connect(str(warehouse)) as con:
        award = "select beneficiary_id from marts.fct_awards where application_id = ?"
        (beneficiary,) = con.execute(award, [UNTOUCHED_AWARD]).fetchone()
        con.execute("update marts.fct_awards set beneficiary_id = 'NOBODY' where application_id = ?", [UNTOUCHED_AWARD])
    before = warehouse_state(warehouse)
    append_lines(raw, NEW_LINES)

    failed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse))
    assert failed.returncode == 1, failed.stderr
    assert "relationships_fct_awards_beneficiary_id" in failed.stderr and "unchanged" in failed.stderr
    assert warehouse.stat().st_ino == inode  # no other file took its name
    assert warehouse_state(warehouse) == before
    assert left_behind(warehouse) == []

    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.fct_awards set beneficiary_id = ? where application_id = ?", [beneficiary, UNTOUCHED_AWARD]
        )
    before = warehouse_state(warehouse)
    build = start_build(raw, warehouse)
    wait_for_dbt(build)
    build.send_signal(signal.SIGKILL)
    assert build.wait() == -signal.SIGKILL
    # the killed load's changes are in its folder's write-ahead log, not in the file: a reader sees the warehouse
    # as it was, at once (the build's process is gone)
    assert [log.name for log in tmp_path.glob("daily/.warehouse.duckdb.build-*/*.wal")] == ["warehouse.duckdb.wal"]
    assert warehouse_state(warehouse) == before
    query = run_cli("query", "--warehouse", str(warehouse), "--format", "csv", "select max(batch) from raw.batches")
    assert query.returncode == 0 and query.stdout.split() == ["max(batch)", "1"], query.stderr

    # the next build removes the killed one's folder and loads the same lines: as a full build of the files
    completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)
    assert "daily load" in completed.stdout
    assert warehouse.stat().st_ino == inode and left_behind(warehouse) == []
    full = tmp_path / "full" / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(raw), "--warehouse", str(full), check=True)
    (daily_tables, batches), (full_tables, _) = warehouse_state(warehouse), warehouse_state(full)
    assert [batch[:2] for batch in batches] == [(1, "full"), (2, "daily")]
    assert [name for name in full_tables if daily_tables.get(name) != full_tables[name]] == []


def test_a_reader_that_has_the_warehouse_open_makes_the_daily_load_copy_it(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path / "daily")
    inode = warehouse.stat().st_ino
    append_lines(raw, NEW_LINES)
    script = (
        f"import duckdb\ncon = duckdb.connect({str(warehouse)!r}, read_only=True)\nprint('open', flush=True)\n"
        "input()\nprint(con.execute('select max(batch) from raw.batches').fetchone()[0], flush=True)"
    )
    reader = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)
        assert "daily load" in completed.stdout
        assert warehouse.stat().st_ino != inode  # a new file, renamed over the one the reader holds
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the reader still reads the warehouse it opened
    finally:
        reader.kill()
        reader.wait()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select max(batch) from raw.batches").fetchone()[0] == 2


def test_a_reader_that_comes_during_a_daily_load_waits_for_it(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path / "daily")
    append_lines(raw, NEW_LINES)
    build = start_build(raw, warehouse)
    wait_for_dbt(build)
    assert build.poll() is None
    # DuckDB would refuse to open the file the load writes (its lock); the reader waits, then reads the new batch
    query = run_cli("query", "--warehouse", str(warehouse), "--format", "csv", "select max(batch) from raw.batches")
    _, progress = build.communicate()  # (read to the end: a full pipe would stop the build)
    assert build.returncode == 0, progress
    assert query.returncode == 0 and query.stdout.split() == ["max(batch)", "2"], query.stderr
    assert left_behind(warehouse) == []


def test_a_load_planned_before_another_build_loaded_the_warehouse_is_refused(
    tmp_path: Path, golden_build: Path, monkeypatch
):
    """Two builds started together both plan to load the same lines; the second one to write must not load them
    again (it would pay every new award twice)."""
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path / "daily")
    append_lines(raw, NEW_LINES)
    planned = build_module.plan_daily_load(warehouse, raw, build_module.code_fingerprint())
    assert planned is not None and planned.batch == 2
    run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)  # the other build
    before = warehouse_state(warehouse)
    monkeypatch.setattr(build_module, "plan_daily_load", lambda *args: planned)
    with pytest.raises(UserFacingError, match="Another build loaded"):
        build_module.build_warehouse(raw, warehouse)
    assert warehouse_state(warehouse) == before and left_behind(warehouse) == []
