"""Helpers for the tests: run the CLI as a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

from subsidy_warehouse.locks import exclusive_lock

BIN = Path(sys.executable).parent
PROJECT_DIR = Path(__file__).resolve().parents[2]
GOLDEN_RAW = PROJECT_DIR / "tests" / "fixtures" / "golden_raw"


def run_cli(*args: str, check: bool = False, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `subsidy ARGS` as a subprocess (with `env` added to the environment) and return the finished process."""
    completed = subprocess.run(
        [str(BIN / "subsidy"), *args], capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"subsidy {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}")
    return completed


# --- builds made once per test run (tests/conftest.py), copied by each module that reads them ---------------
def shared_root(tmp_path_factory) -> Path:
    """One folder for the whole run: under xdist, the parent of every worker's own temporary folder."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "built-once"


def built_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `make(folder)` filled, made by the first worker that asks; the others wait for it."""
    folder = shared_root(tmp_path_factory) / name
    with exclusive_lock(folder.with_name(f"{name}.lock"), on_wait=lambda: None):
        if not (folder / ".done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            (folder / ".done").touch()
    return folder


def build_into(raw_dir: Path, folder: Path, *options: str) -> None:
    """`subsidy build` of raw_dir into folder/warehouse.duckdb; its stdout and stderr kept beside it."""
    built = run_cli("build", "--raw-dir", str(raw_dir), "--warehouse", str(folder / "warehouse.duckdb"), *options)
    (folder / "build.stdout").write_text(built.stdout, encoding="utf-8")
    (folder / "build.stderr").write_text(built.stderr, encoding="utf-8")
    if built.returncode != 0:
        raise AssertionError(f"subsidy build of {raw_dir} exited {built.returncode}:\n{built.stderr}")


def copy_build(shared: Path, destination: Path, with_raw: bool = False) -> Path:
    """A private copy of a shared build (its warehouse file, and its raw/ folder if asked) in destination."""
    destination.mkdir(parents=True, exist_ok=True)
    if with_raw:
        shutil.copytree(shared / "raw", destination / "raw")
    shutil.copyfile(shared / "warehouse.duckdb", destination / "warehouse.duckdb")
    return destination / "warehouse.duckdb"


# a progress line on stderr (subsidy_warehouse.progress, piped): `[mm:ss] command step`
PROGRESS_LINE = re.compile(r"^\[\d{2}:\d{2}(:\d{2})?\] ")


def message_lines(stderr: str) -> list[str]:
    """The lines of stderr that are not progress: an error is exactly one of them."""
    return [line for line in stderr.strip().splitlines() if not PROGRESS_LINE.match(line)]


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
    """Every resident ID number (as identifiers.find_personal_ids sees them: full-width, in blocks, glued to
    other digits) in any text column of any table outside the raw schema: {schema.table.column: [numbers]}."""
    from subsidy_warehouse.identifiers import WRITTEN_NUMBER, find_personal_ids

    found: dict[str, list[str]] = {}
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not in ('raw', 'temp', 'information_schema', 'pg_catalog') and data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in columns:
        values = con.execute(
            f'select distinct "{column}" from "{schema}"."{table}" where regexp_matches("{column}", ?)',
            [WRITTEN_NUMBER.pattern],
        ).fetchall()
        hits = [number for (value,) in values for number in find_personal_ids(value)]
        if hits:
            found[f"{schema}.{table}.{column}"] = hits
    return found


def xlsx_cells(workbook: Path) -> dict[str, list[tuple[str, bool, bool]]]:
    """Every cell of every sheet as (text, is_formula, has_quote_prefix), read from the xlsx's XML: shared
    strings (t="s") and inline strings (t="inlineStr", what a workbook written row by row holds)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

    def text_of(element: ElementTree.Element) -> str:
        raw = "".join(t.text or "" for t in element.iter(f"{main}t"))
        return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), raw)

    with zipfile.ZipFile(workbook) as archive:
        names = set(archive.namelist())
        shared = (
            [text_of(si) for si in ElementTree.fromstring(archive.read("xl/sharedStrings.xml")).iter(f"{main}si")]
            if "xl/sharedStrings.xml" in names
            else []
        )
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
        quote_prefix = [xf.get("quotePrefix") == "1" for xf in styles.find(f"{main}cellXfs").iter(f"{main}xf")]
        sheets = {}
        for name in sorted(n for n in names if n.startswith("xl/worksheets/sheet")):
            cells = []
            for cell in ElementTree.fromstring(archive.read(name)).iter(f"{main}c"):
                value = cell.find(f"{main}v")
                inline = cell.find(f"{main}is")
                if cell.get("t") == "inlineStr" and inline is not None:
                    text = text_of(inline)
                elif cell.get("t") == "s" and value is not None:
                    text = shared[int(value.text)]
                else:
                    text = value.text if value is not None else ""
                cells.append((text, cell.find(f"{main}f") is not None, quote_prefix[int(cell.get("s", "0"))]))
            sheets[name] = cells
    return sheets
