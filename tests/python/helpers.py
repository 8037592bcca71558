"""Helpers for the tests: run the CLI as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `subsidy ARGS` as a subprocess and return the finished process."""
    completed = subprocess.run([str(BIN / "subsidy"), *args], capture_output=True, text=True, check=False)
    if check and completed.returncode != 0:
        raise AssertionError(f"subsidy {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}")
    return completed
