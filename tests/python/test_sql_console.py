"""`subsidy sql`: Harlequin on the warehouse, driven for real inside tmux (installed by `make test`).

A query typed into the console shows its result; statements that would leave the warehouse (write a file,
read another file, install an extension, change a setting) show DuckDB's refusal and change nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import BIN, message_lines, run_cli

pytestmark = pytest.mark.slow


class Console:
    """`subsidy sql` in a tmux server of its own (whatever else runs tmux on this machine)."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.session = "console"

    def tmux(self, *args: str, check: bool = True) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True, check=check
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear in the console:\n{self.screen()}")

    def run(self, sql: str) -> None:
        """Put `sql` alone in the query editor and run it. On a busy machine the console may still be drawing
        when the first keys arrive and drop them, so the text is typed again until the editor shows it."""
        typed = " ".join(sql.split())[:24]
        for _ in range(5):
            self.tmux("send-keys", "-t", self.session, "Escape")  # close a previous error dialog, if any
            self.tmux("send-keys", "-t", self.session, "F2")  # focus the editor
            time.sleep(0.3)
            self.tmux("send-keys", "-t", self.session, "C-a")
            self.tmux("send-keys", "-t", self.session, "-l", sql)
            time.sleep(0.3)
            if typed in " ".join(self.screen().replace("│", " ").split()):
                break
        self.tmux("send-keys", "-t", self.session, "C-j")


@pytest.fixture()
def console(sample_warehouse: Path, tmp_path: Path) -> Iterator[Console]:
    if shutil.which("tmux") is None:
        raise AssertionError("tmux is missing: run `make test`, which installs it.")
    console = Console(f"subsidy-sql-{os.getpid()}-{tmp_path.name}")
    # COLUMNS and LINES from the test runner would size the screen instead of the tmux window
    command = f"env -u COLUMNS -u LINES HOME={shlex.quote(str(tmp_path))} {shlex.quote(str(BIN / 'subsidy'))} sql -w {shlex.quote(str(sample_warehouse))}"
    console.tmux("new-session", "-d", "-s", console.session, "-x", "200", "-y", "50", command)
    try:
        console.wait_for("Query Editor")
        yield console
    finally:
        console.tmux("kill-server", check=False)


def test_a_query_shows_its_result(console: Console, sample_con) -> None:
    (awards,) = sample_con.execute("select count(*) from marts.fct_awards").fetchone()
    console.wait_for("只读、离线 Read-only and offline")  # the console says how it opened the warehouse
    console.run("select count(*) as awards_counted_here from marts.fct_awards")
    screen = console.wait_for("Query Results (1 Records)")
    results = screen.split("Query Results (1 Records)", 1)[1]
    assert "awards_counted_here" in results and f" {awards} " in results, screen


def test_the_data_exporter_is_off(console: Console, tmp_path: Path) -> None:
    console.run("select 1 as one")
    console.wait_for("Query Results (1 Records)")
    console.tmux("send-keys", "-t", console.session, "C-e")
    console.wait_for("Export is off here")
    assert "Data Exporter" not in console.screen()  # Harlequin's exporter screen did not open


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("copy (select 1) to '{out}/leak.csv'", "file system operations are disabled"),
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
        ("install httpfs", "disabled"),
        ("set enable_external_access = true", "locked"),
        ("create table marts.x as select 1", "read-only"),
    ],
)
def test_forbidden_statements_show_an_error(console: Console, tmp_path: Path, statement: str, refusal: str) -> None:
    console.run(statement.format(out=tmp_path))
    screen = console.wait_for("Query Error")
    assert refusal in " ".join(screen.replace("│", " ").split()), screen
    assert not (tmp_path / "leak.csv").exists()


def test_missing_warehouse_is_one_sentence(tmp_path: Path) -> None:
    completed = run_cli("sql", "-w", str(tmp_path / "missing.duckdb"))
    assert completed.returncode == 2
    lines = message_lines(completed.stderr)
    assert len(lines) == 1 and "does not exist" in lines[0] and "Traceback" not in completed.stderr
