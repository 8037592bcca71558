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


DEMO_SALT = "subsidy-warehouse-demo-salt"  # the public default of SUBSIDY_ID_SALT (dbt_project.yml)


def person_pseudonym(raw_id: str) -> str:
    """The public id the warehouse gives a person (default demo salt), computed independently of the SQL."""
    import hashlib

    from subsidy_warehouse.identifiers import normalise_beneficiary_id

    digest = hashlib.sha256(f"{DEMO_SALT}|{normalise_beneficiary_id(raw_id)}".encode()).hexdigest()
    return "P" + digest[:15]


def personal_ids_outside_raw(con) -> dict[str, list[str]]:
    """Every resident ID number (as identifiers.find_personal_ids sees them) in any text column of any table
    outside the raw schema: {schema.table.column: [numbers]}."""
    from subsidy_warehouse.identifiers import find_personal_ids

    found: dict[str, list[str]] = {}
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not in ('raw', 'temp', 'information_schema', 'pg_catalog') and data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in columns:
        values = con.execute(
            f'select distinct "{column}" from "{schema}"."{table}" where regexp_matches("{column}", \'[0-9]{{15}}\')'
        ).fetchall()
        hits = [number for (value,) in values for number in find_personal_ids(value)]
        if hits:
            found[f"{schema}.{table}.{column}"] = hits
    return found
