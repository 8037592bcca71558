"""Helpers for the tests: run the CLI as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
PROJECT_DIR = Path(__file__).resolve().parents[2]


def run_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `subsidy ARGS` as a subprocess and return the finished process."""
    completed = subprocess.run([str(BIN / "subsidy"), *args], capture_output=True, text=True, check=False)
    if check and completed.returncode != 0:
        raise AssertionError(f"subsidy {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}")
    return completed


CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own background traffic (updates, sync, safe browsing) is off: a test sees only the page's requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright):
    """Debian's headless Chromium (installed by `make test`), driven by Playwright; no browser download."""
    if not CHROMIUM.exists():
        raise AssertionError("Chromium is missing: run `make test`, which installs Debian's chromium package.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
