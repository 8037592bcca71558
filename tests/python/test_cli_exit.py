"""The `subsidy` command ends its process without Python's teardown (cli.main), and still does what an ordinary
exit does that anyone could see: the exit code, atexit handlers, threads finished, output written."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from helpers import BIN

from subsidy_warehouse import cli


class Exited(Exception):
    """Raised instead of os._exit, so the test process lives on."""


@pytest.fixture
def exits(monkeypatch) -> list[int]:
    codes: list[int] = []

    def fake_exit(code: int) -> None:
        codes.append(code)
        raise Exited

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: None)  # pytest's own handlers stay for its exit
    return codes


def ending_with(monkeypatch, effect) -> None:
    monkeypatch.setattr(cli, "app", effect)


@pytest.mark.parametrize(("raised", "code"), [(None, 0), (SystemExit(0), 0), (SystemExit(None), 0), (SystemExit(2), 2)])
def test_the_exit_code_is_the_commands(monkeypatch, exits, raised, code):
    def command() -> None:
        if raised is not None:
            raise raised

    ending_with(monkeypatch, command)
    with pytest.raises(Exited):
        cli.main()
    assert exits == [code]


def test_a_message_as_exit_code_is_left_to_python(monkeypatch, exits):
    def command() -> None:
        raise SystemExit("stopped")

    ending_with(monkeypatch, command)
    with pytest.raises(SystemExit, match="stopped"):
        cli.main()
    assert exits == []


def test_a_running_thread_finishes_before_the_process_ends(monkeypatch, exits):
    finished: list[bool] = []

    def command() -> None:
        threading.Thread(target=lambda: (time.sleep(0.3), finished.append(True)), daemon=False).start()

    ending_with(monkeypatch, command)
    with pytest.raises(Exited):
        cli.main()
    assert finished == [True]


def test_atexit_handlers_run_and_output_is_written():
    """A real process with buffered output: an atexit handler's output and a large stdout reach the reader, in
    order, and the exit code is 3."""
    script = (
        "import atexit, sys\n"
        "from subsidy_warehouse import cli\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "def command():\n"
        "    sys.stdout.write('x' * 1_000_000 + '\\n')\n"
        "    raise SystemExit(3)\n"
        "cli.app = command\n"
        "cli.main()\n"
    )
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, env=buffered)
    assert completed.returncode == 3, completed.stderr
    assert completed.stdout == "x" * 1_000_000 + "\nhandler ran\n"


def test_the_installed_command_is_main():
    """The `subsidy` script calls cli.main (pyproject's entry point), not the bare Typer app."""
    script = (BIN / "subsidy").read_text(encoding="utf-8")
    assert "from subsidy_warehouse.cli import main" in script
