"""Crashes leave nothing behind, and a user's mistake is one sentence."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

from helpers import BIN, PROJECT_DIR, copy_build, message_lines, run_cli

GOLDEN_RAW = PROJECT_DIR / "tests" / "fixtures" / "golden_raw"


def test_a_killed_build_leaves_a_private_folder_that_the_next_build_removes(tmp_path: Path, golden_build: Path):
    warehouse = copy_build(golden_build, tmp_path)  # a warehouse built from GOLDEN_RAW
    before = warehouse.read_bytes()
    build = subprocess.Popen(
        [str(BIN / "subsidy"), "build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(warehouse)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    folder = tmp_path / f".warehouse.duckdb.build-{build.pid}"
    deadline = time.monotonic() + 60
    while not (folder / "warehouse.duckdb").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert folder.is_dir(), "the build never started writing"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # the raw schema inside holds personal IDs
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert folder.exists() and warehouse.read_bytes() == before  # killed: the old warehouse is untouched
    alive = tmp_path / f".warehouse.duckdb.build-{os.getpid()}"  # a build still running must be left alone
    alive.mkdir()
    run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(warehouse), check=True)
    assert not folder.exists()
    assert alive.exists()
    shutil.rmtree(alive)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_a_warehouse_path_through_a_file_is_one_sentence(tmp_path: Path):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    for target in (tmp_path / "a-file" / "warehouse.duckdb", tmp_path / "a-file" / "deeper" / "w.duckdb"):
        completed = run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(target))
        assert completed.returncode == 2
        assert completed.stderr.startswith("error: ") and "is a file" in completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1 and "Traceback" not in completed.stderr
    directory = run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(tmp_path))
    assert directory.returncode == 2 and "is a directory" in directory.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_warehouse_path_holding_something_else_is_refused_and_kept(tmp_path: Path):
    # a build replaces the file at its path: a raw file given as the warehouse by mistake, a FIFO, an empty file
    # must stay as they were (a build as root once turned /dev/null into a regular file this way)
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    fifo = tmp_path / "pipe.duckdb"
    os.mkfifo(fifo)
    before = {path: path.read_bytes() for path in (raw / "applications.csv", empty)}
    for target in (raw / "applications.csv", empty, fifo):
        completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(target))
        assert completed.returncode == 2, completed.stdout
        assert completed.stderr.startswith(f"error: {target} exists and is not a DuckDB warehouse")
        assert len(completed.stderr.strip().splitlines()) == 1 and "Traceback" not in completed.stderr
    assert {path: path.read_bytes() for path in before} == before
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.duckdb", "pipe.duckdb", "raw"]


def test_a_warehouse_named_after_a_schema_is_one_sentence(tmp_path: Path):
    # DuckDB names the catalog after the file: marts.duckdb would make `marts.fct_awards` ambiguous
    for name in ("marts.duckdb", "AUDIT.duckdb", "raw.db"):
        completed = run_cli("build", "--raw-dir", str(GOLDEN_RAW), "--warehouse", str(tmp_path / name))
        assert completed.returncode == 2, completed.stderr
        assert completed.stderr.startswith("error: A warehouse file cannot be named after one of its schemas")
        assert len(completed.stderr.strip().splitlines()) == 1
    (tmp_path / "audit.duckdb").write_bytes(b"x")  # renamed by hand: refused before it is opened
    queried = run_cli("query", "select 1", "--warehouse", str(tmp_path / "audit.duckdb"))
    assert queried.returncode == 2 and "named after one of its schemas" in queried.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.duckdb"]
    from subsidy_warehouse.query import check_warehouse_name

    check_warehouse_name(tmp_path / "marts_2025.duckdb")  # only the exact schema names are taken


def test_a_scale_that_cannot_be_generated_is_one_sentence_and_writes_nothing(tmp_path: Path):
    # an infinite scale (1e400 is one to Python), more than any disk holds (1e9: about 1,250 TB of CSV), and a
    # --messy sample too large for its in-memory writer: each refused before a file is written
    cases = {
        ("inf",): "finite number",
        ("1e400",): "finite number",
        ("1e9",): "GB free",
        ("201", "--messy"): "at most --scale 200",
    }
    for (scale, *options), expected in cases.items():
        out = tmp_path / f"sample-{scale}"
        completed = run_cli("generate", "--out", str(out), "--scale", scale, *options)
        assert completed.returncode == 2, (scale, completed.stderr)
        assert len(message_lines(completed.stderr)) == 1, completed.stderr
        assert expected in completed.stderr and "Traceback" not in completed.stderr
        assert not out.exists(), scale


def test_an_output_folder_under_a_file_is_one_sentence(tmp_path: Path, golden_build: Path):
    # mkdir's NotADirectoryError was a traceback in generate (CSV and bureau files alike), simulate and load
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    warehouse = copy_build(golden_build, tmp_path / "golden")
    golden_file = str(PROJECT_DIR / "tests" / "fixtures" / "golden_raw" / "applications.csv")
    cases = {
        ("generate", "--out", str(a_file / "raw"), "--scale", "0.01"): f"Cannot create the folder {a_file / 'raw'}",
        ("generate", "--out", str(a_file / "raw"), "--scale", "0.01", "--messy"): f"Cannot create the folder {a_file / 'raw'}",
        ("simulate", "-w", str(warehouse), "--out", str(a_file / "sim")): f"Cannot create the folder {a_file / 'sim'}",
        ("load", golden_file, "--raw-dir", str(a_file / "raw")): f"Cannot create the folder {a_file / 'raw' / 'loaded'}",
    }
    for args, expected in cases.items():
        completed = run_cli(*args)
        assert completed.returncode == 2 and "Traceback" not in completed.stderr, (args, completed.stderr)
        (message,) = message_lines(completed.stderr)
        assert expected in message and "Not a directory" in message, message


def test_more_company_pages_than_can_be_counted_is_refused(tmp_path: Path):
    # a number beyond DuckDB's BIGINT reached the SQL that picks the pages and ended in a traceback
    completed = run_cli(
        "dashboards", "build", "-w", str(tmp_path / "w.duckdb"), "--company-pages", "99999999999999999999999"
    )
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert "--company-pages" in completed.stderr and "1000000" in completed.stderr


def test_a_readings_file_that_is_no_file_of_readings_is_one_sentence(tmp_path: Path):
    # read whole before: a FIFO waited for a writer forever, /dev/zero filled the memory until the kernel killed
    # the process, a file of megabytes was read to the end; a folder is refused as before
    fifo = tmp_path / "readings.fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.txt"
    huge.write_text("M02-3.cap_scope=annual\n" * 100_000, encoding="utf-8")  # 2.3 MB of valid readings
    cases = {fifo: "not a regular file", tmp_path: "not a regular file", huge: "larger than"}
    for path, expected in cases.items():
        completed = subprocess.run(
            [str(BIN / "subsidy"), "simulate", "-w", str(tmp_path / "w.duckdb"), "--readings", str(path)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert completed.returncode == 2 and expected in completed.stderr, (path, completed.stderr)
        assert len(message_lines(completed.stderr)) == 1 and "Traceback" not in completed.stderr


def test_a_tiny_sample_is_generated_not_a_traceback(tmp_path: Path):
    for scale, messy in (("0.001", False), ("0.05", False), ("0.001", True)):
        out = tmp_path / f"sample-{scale}-{messy}"
        completed = run_cli("generate", "--out", str(out), "--scale", scale, *(["--messy"] if messy else []))
        assert completed.returncode == 0, completed.stderr
        assert "Traceback" not in completed.stderr
        assert any(out.iterdir())
