"""`subsidy dashboards`: the Evidence site in reports/, built offline from a private copy of the warehouse.

The dashboards never open the warehouse a build writes: its file is copied into reports/sources/warehouse/
(with the latest audit of that exact file, and the budget under each prepared reading set of the draft, added
in a `dashboard` schema), each source query of reports/sources/warehouse/
is written from the copy into parquet where Evidence's `sources` step would write it (`write_sources`), and
Evidence's `build` prerenders the static site into reports/build/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from . import progress
from .audit.fingerprint import file_sha256, quote
from .audit.model import load_rule_catalogue
from .audit.report import CATEGORY_ZH, SEVERITY_ZH, STATUS_ZH, read_report_head
from .errors import UserFacingError
from .exports import sql_text
from .locks import exclusive_lock
from .paths import project_dir
from .query import duckdb_memory_limit, open_read_only
from .simulate import ReadingTables, reading_tables

# Company pages prerendered by default (the largest beneficiaries); the rest render in the browser. At least
# one: SvelteKit fails a build in which a prerenderable route has no page.
DEFAULT_COMPANY_PAGES = 100  # each costs ~0.1 s at the sample size, far more at 1M; the rest render in the browser
# The 总览 page's ten largest beneficiaries are stored for every set of award years (2**years - 1 sets, each summed
# over every beneficiary): 255 sets at most.
MAX_AWARD_YEARS = 8
# A page not prerendered has no stored query results; answering Evidence's request for them with "none"
# (instead of a 404 and a console error) makes it run the page's queries in the browser.
NO_STORED_QUERIES = Path("api") / "no-prerendered-queries.json"
# Where Evidence's sources step writes each source's parquet (copied into the site's data/ by its build).
SOURCES_DATA = Path(".evidence") / "template" / "static" / "data"
# The source queries (one .sql per source) and the Evidence source they belong to (connection.yaml's name).
SOURCE_QUERIES = Path("sources") / "warehouse"
SOURCE_NAME = "warehouse"
# Rows per Parquet row group. A company page filters a source sorted by beneficiary on its id: DuckDB-WASM skips every
# row group whose min/max excludes the id and decompresses one small group instead of one of 122,880 rows (DuckDB's
# default), which halves the time of the 100 prerendered company pages' queries at 1M awards.
ROW_GROUP_ROWS = 16_384
# Evidence reports a failing page query on the console but still exits 0: the build fails on these lines.
BUILD_ERROR_MARKERS = ("Error in Query", "Build failed", "[!]")


@dataclass(frozen=True)
class SiteBuild:
    site_dir: Path
    seconds: float
    size_bytes: int
    audit_run: Path | None
    company_pages: int


def reports_dir() -> Path:
    return project_dir() / "reports"


# Node's young generation at 64 MB instead of its 16 MB: vite's build of the site makes short-lived objects by the
# million, and collecting them took 12 of its 62 s. Measured interleaved: the sample 58.6-68.2 s -> 55.2-58.6 s with
# the same peak memory; 1M 104.9 / 94.9 s -> 88.1 / 85.2 s, peak 4.0 -> 3.8 GB.
NODE_OPTIONS = "--max-old-space-size=4096 --max-semi-space-size=64"


def evidence_env() -> dict[str, str]:
    return {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "SEND_ANONYMOUS_USAGE_STATS": "no",
        "NODE_OPTIONS": os.environ.get("NODE_OPTIONS", NODE_OPTIONS),
    }


def latest_audit_of(warehouse: Path, audits_dir: Path) -> tuple[Path, dict] | None:
    """The newest audit run under audits_dir that audited this exact warehouse file (same SHA-256)."""
    if not audits_dir.is_dir():
        return None
    digest = file_sha256(warehouse)
    for run_dir in sorted((p for p in audits_dir.iterdir() if p.is_dir()), reverse=True):
        try:
            report = read_report_head(run_dir / "report.json")
        except (OSError, ValueError):
            continue
        if report.get("fingerprint", {}).get("warehouse_sha256") == digest:
            return run_dir, report
    return None


def write_audit_tables(con: duckdb.DuckDBPyConnection, audit: tuple[Path, dict] | None) -> None:
    con.execute("create schema if not exists dashboard")
    if audit is None:
        verdict = ("尚未审计", None, None, None, None, "（运行 subsidy audit 后重新生成看板）")
        rules = [
            (
                i,
                r.rule_code,
                r.name_zh,
                SEVERITY_ZH[r.severity],
                CATEGORY_ZH.get(r.category, r.category),
                r.description_zh,
                "未审计",
                None,
                None,
            )
            for i, r in enumerate(load_rule_catalogue().values())
        ]
    else:
        run_dir, report = audit
        catalogue = load_rule_catalogue()
        summary = report["verdict"]
        verdict = (
            "通过" if summary["status"] == "pass" else "不通过",
            report["run"]["started_at"],
            summary["checks_run"],
            summary["checks_failed"],
            summary["findings"],
            str(run_dir / "report.html"),
        )
        rules = [
            (
                i,
                r["rule_code"],
                r.get("name_zh") or (catalogue[r["rule_code"]].name_zh if r["rule_code"] in catalogue else r["rule_code"]),
                SEVERITY_ZH[r["severity"]],
                CATEGORY_ZH.get(r["category"], r["category"]),
                r["description_zh"],
                STATUS_ZH[r["status"]],
                r["failing_rows"],
                float(Decimal(r["amount_at_issue"]) / 10000),
            )
            for i, r in enumerate(report["rules"])
        ]
    con.execute(
        "create or replace table dashboard.audit_verdict (verdict_zh varchar, audited_at varchar, checks_run integer,"
        " checks_failed integer, findings integer, report_path varchar)"
    )
    con.execute("insert into dashboard.audit_verdict values (?, ?, ?, ?, ?, ?)", verdict)
    con.execute(
        "create or replace table dashboard.audit_rules (sort_order integer, rule_code varchar, name_zh varchar,"
        " severity_zh varchar,"
        " category_zh varchar, description_zh varchar, status_zh varchar, failing_rows integer, amount_wan double)"
    )
    con.executemany("insert into dashboard.audit_rules values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rules)


def write_reading_tables(con: duckdb.DuckDBPyConnection, tables: ReadingTables) -> None:
    """The 政策口径测算 page's data: every ambiguity of the draft, and the budget under each prepared reading set."""
    con.execute(
        "create or replace table dashboard.policy_readings (clause_code varchar, clause_title_zh varchar, "
        "parameter_zh varchar, default_zh varchar, alternatives_zh varchar, source_text_zh varchar, "
        "rationale_zh varchar, reading_group varchar)"
    )
    con.execute(
        "create or replace table dashboard.reading_sets (set_no integer, set_name_zh varchar, readings_zh varchar, "
        "default_wan double, simulated_wan double, difference_wan double, changed_awards integer)"
    )
    con.execute(
        "create or replace table dashboard.reading_budget (set_no integer, set_name_zh varchar, award_year varchar, "
        "measure_code varchar, measure_title_zh varchar, default_wan double, simulated_wan double, "
        "difference_wan double)"
    )
    for table, rows in (("policy_readings", tables.readings), ("reading_sets", tables.sets),
                        ("reading_budget", tables.budget)):  # fmt: skip
        if rows:
            con.executemany(f"insert into dashboard.{table} values ({', '.join('?' * len(rows[0]))})", rows)


def write_award_years(con: duckdb.DuckDBPyConnection) -> None:
    """The award years, each with one bit (2**i in year order): the 总览 page finds the ten largest beneficiaries of
    any set of years it is asked for by the sum of their bits (reports/sources/warehouse/top_beneficiaries.sql)."""
    con.execute(
        "create or replace table dashboard.award_years as "
        "select award_year, cast(2 ** (row_number() over (order by award_year) - 1) as bigint) as year_bit "
        "from (select distinct cast(award_year as varchar) as award_year from marts.fct_awards)"
    )
    (years,) = con.execute("select count(*) from dashboard.award_years").fetchone()
    if years > MAX_AWARD_YEARS:
        raise UserFacingError(
            f"The warehouse has awards in {years} years; the dashboards' year filter handles at most {MAX_AWARD_YEARS}."
        )


def copy_for_dashboards(warehouse: Path, audits_dir: Path, target: Path) -> Path | None:
    """Copy the warehouse to `target` with the latest audit added; returns the audit run used, if any."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.copy-{os.getpid()}")
    # the read-only connection keeps writers out while the file is copied
    with open_read_only(warehouse):
        shutil.copyfile(warehouse, staging)
    audit = latest_audit_of(warehouse, audits_dir)
    readings = reading_tables(warehouse)
    try:
        with duckdb.connect(str(staging), config={"memory_limit": duckdb_memory_limit()}) as con:
            write_audit_tables(con, audit)
            write_reading_tables(con, readings)
            write_award_years(con)
            con.execute("checkpoint")
        Path(f"{target}.wal").unlink(missing_ok=True)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return audit[0] if audit else None


def run_evidence(step: str, cwd: Path) -> str:
    npx = shutil.which("npx")
    if npx is None:
        raise UserFacingError("Node.js (npx) is not installed; install Node.js 18 or newer to build the dashboards.")
    completed = subprocess.run(
        [npx, "--no-install", "evidence", step],
        cwd=cwd,
        env=evidence_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr
    # every failing query once (Evidence retries a failed page query and prints its error again)
    errors = list(
        dict.fromkeys(line.strip() for line in output.splitlines() if any(m in line for m in BUILD_ERROR_MARKERS))
    )
    if completed.returncode != 0 or errors:
        detail = "; ".join(errors) if errors else " ".join(output.strip().splitlines()[-2:])
        raise UserFacingError(f"Evidence `{step}` failed: {detail}")
    return output


def evidence_type(duckdb_type: str) -> str:
    """The type Evidence's DuckDB connector gives a column of this DuckDB type (its duckdbDescribeToEvidenceType)."""
    if duckdb_type.startswith("DECIMAL") or duckdb_type in {
        "DOUBLE", "FLOAT", "TINYINT", "UTINYINT", "SMALLINT", "USMALLINT", "INTEGER", "UINTEGER", "BIGINT", "UBIGINT",
        "HUGEINT",
    }:  # fmt: skip
        return "number"
    if duckdb_type == "BOOLEAN":
        return "boolean"
    if duckdb_type in {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}:
        return "date"
    return "string"


# How Evidence's sources step stores each type in Parquet (numbers as doubles, dates as timestamps); a date or boolean
# column with values that are all null it stores as doubles (its build-parquet.js).
PARQUET_TYPES = {"number": "double", "boolean": "boolean", "date": "timestamp", "string": "varchar"}


def write_sources(copy: Path, reports: Path) -> dict[str, int]:
    """Write what Evidence's `sources` step writes for each query in reports/sources/warehouse (its Parquet file, its
    column types and the manifest the build reads), with the same types and values, straight from DuckDB: Evidence's
    step turns every row into a JavaScript object (about 40 s at 1M awards, against a few seconds here). A query
    with no rows gets a valid Parquet file with no rows (evidence-dev/evidence#2466). Returns the rows per source."""
    data = reports / SOURCES_DATA
    rendered, rows = [], {}
    with duckdb.connect(str(copy), read_only=True, config={"memory_limit": duckdb_memory_limit()}) as con:
        for sql_file in sorted((reports / SOURCE_QUERIES).glob("*.sql")):
            name = sql_file.stem
            query = sql_file.read_text(encoding="utf-8").strip().rstrip(";")
            folder = data / SOURCE_NAME / name
            folder.mkdir(parents=True, exist_ok=True)
            try:
                relation = con.sql(query)
                columns = [(c, evidence_type(str(t))) for c, t in zip(relation.columns, relation.types, strict=True)]
                nullable = [c for c, kind in columns if kind in {"date", "boolean"}]
                all_null = set()
                if nullable:
                    counts = con.execute(
                        f"select count(*), {', '.join(f'count({quote(c)})' for c in nullable)} from ({query}\n)"
                    ).fetchone()
                    all_null = {c for c, n in zip(nullable, counts[1:], strict=True) if counts[0] and not n}
                casts = ", ".join(
                    f"cast({quote(c)} as {'double' if c in all_null else PARQUET_TYPES[kind]}) as {quote(c)}"
                    for c, kind in columns
                )
                parquet = folder / f"{name}.parquet"
                staging = folder / f".{name}.parquet.tmp"
                con.execute(
                    f"copy (select {casts} from ({query}\n)) to {sql_text(str(staging))} "
                    f"(format parquet, compression zstd, row_group_size {ROW_GROUP_ROWS})"
                )
                os.replace(staging, parquet)
                (rows[name],) = con.execute(f"select count(*) from read_parquet({sql_text(str(parquet))})").fetchone()
            except duckdb.Error as exc:
                raise UserFacingError(f"The dashboards' source {sql_file.name} failed: {exc}") from None
            schema = [{"name": c, "evidenceType": kind, "typeFidelity": "precise"} for c, kind in columns]
            (folder / f"{name}.schema.json").write_text(json.dumps(schema, separators=(",", ":")), encoding="utf-8")
            rendered.append(f"static/data/{SOURCE_NAME}/{name}/{name}.parquet")
    manifest = {"renderedFiles": {SOURCE_NAME: rendered}}
    (data / "manifest.json").write_text(json.dumps(manifest, separators=(",", ":")), encoding="utf-8")
    return rows


def list_company_pages(copy: Path, reports: Path, limit: int) -> int:
    """Write the prerendered company pages (largest approved totals first) for reports/svelte.config.js."""
    with duckdb.connect(str(copy), read_only=True, config={"memory_limit": duckdb_memory_limit()}) as con:
        ids = [
            beneficiary_id
            for (beneficiary_id,) in con.execute(
                "select b.beneficiary_id from marts.dim_beneficiaries as b "
                "left join marts.fct_awards as a on a.beneficiary_id = b.beneficiary_id "
                "group by b.beneficiary_id order by coalesce(sum(a.approved_amount), 0) desc, b.beneficiary_id "
                "limit ?",
                [limit],
            ).fetchall()
        ]
    (reports / ".company-pages.json").write_text(json.dumps([f"/companies/{i}" for i in ids]), encoding="utf-8")
    return len(ids)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build_site(
    warehouse: Path, audits_dir: Path | None = None, company_pages: int = DEFAULT_COMPANY_PAGES
) -> SiteBuild:
    """Build the static dashboards into reports/build from `warehouse`."""
    started = time.perf_counter()
    if company_pages < 1:
        raise UserFacingError("--company-pages must be at least 1 (SvelteKit needs one page per route).")
    reports = reports_dir()
    if not (reports / "node_modules" / "@evidence-dev" / "evidence").is_dir():
        raise UserFacingError(f"Evidence is not installed in {reports}; run `make setup` (npm ci) first.")
    # builds share reports/ (its data source, its build folder): a second build waits for the first
    with exclusive_lock(
        reports / ".build.lock",
        on_wait=lambda: progress.current().step("等待另一次看板构建结束 waiting for another dashboards build to finish"),
    ):
        return _build_site(reports, warehouse.resolve(), audits_dir, company_pages, started)


def _build_site(
    reports: Path, warehouse: Path, audits_dir: Path | None, company_pages: int, started: float
) -> SiteBuild:
    copy = reports / "sources" / "warehouse" / "warehouse.duckdb"
    progress.current().step("复制仓库 copy the warehouse for the dashboards")
    audit_run = copy_for_dashboards(
        warehouse, audits_dir if audits_dir is not None else warehouse.parent / "audits", copy
    )
    prerendered = list_company_pages(copy, reports, company_pages)
    site = reports / "build"
    # Evidence copies into build/ without clearing it: pages removed since the last build would linger
    shutil.rmtree(site, ignore_errors=True)
    # nor does its sources step remove the parquet of a source that no longer exists (it would ship in the site)
    shutil.rmtree(reports / SOURCES_DATA, ignore_errors=True)
    try:
        progress.current().step("看板数据源 write the sources (query the marts into parquet)")
        write_sources(copy, reports)
        progress.current().step("Evidence 页面 npm run build (render the pages)")
        run_evidence("build", reports)
    except UserFacingError:
        shutil.rmtree(site, ignore_errors=True)  # never leave a half-broken site to be served
        raise
    (site / NO_STORED_QUERIES).write_text("{}\n", encoding="utf-8")
    return SiteBuild(site, time.perf_counter() - started, folder_size(site), audit_run, prerendered)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder without logging each request to the terminal."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


class SiteHandler(QuietHandler):
    """Serves the built site: a prerendered page where there is one (X.html or X/index.html), else the
    SPA fallback page, which renders the page in the browser (company pages that were not prerendered)."""

    def translate_path(self, path: str) -> str:
        local = Path(super().translate_path(path))
        if local.exists():
            return str(local)
        if local.with_suffix(".html").exists():
            return str(local.with_suffix(".html"))
        if local.name == "all-queries.json":
            return str(Path(self.directory) / NO_STORED_QUERIES)
        if "." not in local.name:
            return str(Path(self.directory) / "404.html")
        return str(local)


def serve_site(port: int, host: str = "127.0.0.1") -> None:
    site = reports_dir() / "build"
    if not (site / "index.html").is_file():
        raise UserFacingError(f"No built site in {site}; run `subsidy dashboards build` first.")
    serve_folder(site, SiteHandler, port, host, "Dashboards")


def serve_folder(
    folder: Path, handler_class: type[QuietHandler], port: int, host: str = "127.0.0.1", label: str = "Site"
) -> None:
    """Serve `folder` on host:port until Ctrl+C, after printing `label: URL` (the tests read that line)."""
    handler = functools.partial(handler_class, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise UserFacingError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    print(f"{label}: http://{host}:{server.server_address[1]}/  (Ctrl+C stops)", flush=True)
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
