"""`subsidy audit`: rerun every check on an existing warehouse, read-only, and write a report to file.

The warehouse is never changed: dbt only compiles the tests (through a read-only profile target), and the
compiled tests and every other query run here on one read-only, sandboxed connection. The verdict fails when any check of a fatal rule fails or cannot run.
"""

from __future__ import annotations

import importlib
import shutil
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from .. import progress
from ..errors import UserFacingError
from ..query import duckdb_memory_limit, open_read_only
from .chunks import chunk_rows
from .dbt_checks import compiled_tests, dbt_checks, run_dbt_tests
from .fingerprint import file_sha256, fingerprint
from .model import Check, CheckStatus, Rule, load_rule_catalogue
from .report import ReportFiles
from .store import FindingStore, Summary

REPORT_SCHEMA_VERSION = 1
REQUIRED_TABLES = (
    "raw.files",
    "marts.fct_awards",
    "marts.fct_disbursements",
    "audit.exceptions",
    "policy.policy_window",
)
FIRST_RECORDS = 20
# DuckDB's memory for the audit's queries, the warehouse pages it caches included (SUBSIDY_MEMORY_LIMIT
# overrides). With the frames and findings bounded, this bounds the audit: 3.0 GB at 10M applications. The
# sandboxed connection cannot spill, so the largest query must fit: at 10M, rule_duplicate_record's
# aggregate over 10M application ids needs more than 2 GB (it failed at 2 GB) and fits in 2.5 GB.
AUDIT_MEMORY_LIMIT = "2.5GB"


@dataclass
class AuditResult:
    run_dir: Path
    report: dict  # report.json without its findings (findings.csv has them too)

    @property
    def passed(self) -> bool:
        return self.report["verdict"]["status"] == "pass"


def check_is_warehouse(warehouse: Path) -> None:
    with open_read_only(warehouse) as con:
        present = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
    missing = [table for table in REQUIRED_TABLES if table not in present]
    if missing:
        raise UserFacingError(
            f"{warehouse} is not a subsidy warehouse (no {', '.join(missing)}); build one with `subsidy build`."
        )


def new_run_dir(out_dir: Path, started: datetime) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserFacingError(f"--out {out_dir} is a file; give a folder for the audit runs.")
    stem = f"audit-{started:%Y%m%dT%H%M%S}"
    for suffix in range(1000):
        candidate = out_dir / (stem if suffix == 0 else f"{stem}-{suffix}")
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise UserFacingError(f"Cannot create the run folder in {out_dir}: {exc.strerror}.") from None
    raise UserFacingError(f"Too many audit runs started this second in {out_dir}.")


def rule_summary(rule: Rule, checks: list[Check], summary: Summary) -> dict:
    statuses = {check.status for check in checks}
    if CheckStatus.failed in statuses:
        status = "fail"
    elif CheckStatus.error in statuses:
        status = "error"
    else:
        status = "pass"
    return {
        **asdict(rule),
        "status": status,
        "failing_rows": sum(check.failing_rows for check in checks),
        "amount_at_issue": f"{summary.amounts.get(rule.rule_code, Decimal('0.00')):.2f}",
        "checks": [{**asdict(check), "status": str(check.status)} for check in checks],
        "first_failing_records": [finding.as_row() for finding in summary.first.get(rule.rule_code, [])],
    }


def run_audit(warehouse: Path, out_dir: Path) -> AuditResult:
    """Audit `warehouse` into a new run folder under `out_dir`; raises UserFacingError when it cannot run."""
    started_at = datetime.now().astimezone()
    clock = time.perf_counter()
    warehouse = warehouse.resolve()
    check_is_warehouse(warehouse)
    chunk_rows()  # a wrong SUBSIDY_AUDIT_CHUNK_ROWS fails here, before the run
    rules = load_rule_catalogue()
    run_dir = new_run_dir(out_dir.resolve(), started_at)
    with FindingStore(list(rules)) as store:
        try:
            # dbt opens the file with its own settings: no other connection of this process may be open meanwhile
            progress.current().step("dbt 编译测试 compile the tests (once per code version)")
            manifest = compiled_tests(warehouse)
            # In the background while DuckDB, which lets go of Python's lock, runs the dbt tests: the SHA-256 of the
            # warehouse file (1.6 GB at 1M applications) and the import of Great Expectations (seconds), started after
            # dbt's own imports so that no two threads import at once
            with ThreadPoolExecutor(max_workers=2) as pool, open_read_only(
                warehouse, duckdb_memory_limit(AUDIT_MEMORY_LIMIT)
            ) as con:
                warehouse_sha256 = pool.submit(file_sha256, warehouse)
                expectations = pool.submit(importlib.import_module, ".expectations", __package__)
                progress.current().step("dbt 测试 dbt tests (read-only)")
                test_results = run_dbt_tests(con, manifest)
                progress.current().step("仓库指纹 warehouse fingerprint")
                warehouse_fingerprint = fingerprint(con, warehouse, warehouse_sha256.result())
                progress.current().step("读取异常记录 failing records of the dbt tests")
                dbt_results = dbt_checks(con, test_results, manifest, store)
                progress.current().step("Great Expectations 检查 checks")
                gx_results = expectations.result().expectation_checks(con, store)
        except UserFacingError:
            shutil.rmtree(run_dir, ignore_errors=True)  # no run folder without a report in it
            raise
        checks = dbt_results + gx_results
        unknown = {check.rule_code for check in checks} - set(rules)
        if unknown:
            raise RuntimeError(f"Checks count against rules missing from the catalogue: {sorted(unknown)}")
        progress.current().step("写报告 write the report")
        files = ReportFiles(run_dir, Path(store.folder.name))
        files.write_findings(store)
        fatal_rules = [code for code, rule in rules.items() if rule.is_fatal]
        summary = store.summary(fatal_rules, FIRST_RECORDS)
        checks_of: dict[str, list[Check]] = defaultdict(list)
        for check in checks:
            checks_of[check.rule_code].append(check)
        summaries = [rule_summary(rule, checks_of[code], summary) for code, rule in rules.items()]
        fatal_failed = [s["rule_code"] for s in summaries if s["severity"] == "fatal" and s["status"] != "pass"]
        warning_failed = [s["rule_code"] for s in summaries if s["severity"] != "fatal" and s["status"] != "pass"]
        report = {
            "schema_version": REPORT_SCHEMA_VERSION,
            "run": {
                "run_dir": str(run_dir),
                "warehouse": str(warehouse),
                "started_at": started_at.isoformat(timespec="seconds"),
                "seconds": round(time.perf_counter() - clock, 1),
            },
            "verdict": {
                "status": "fail" if fatal_failed else "pass",
                "exit_code": 1 if fatal_failed else 0,
                "fatal_rules_failed": fatal_failed,
                "warning_rules_failed": warning_failed,
                "checks_run": len(checks),
                "checks_failed": sum(1 for c in checks if c.status is not CheckStatus.passed),
                "findings": summary.count,
            },
            "fingerprint": warehouse_fingerprint,
            "rules": summaries,
            "totals": {"by_bureau": summary.totals["bureau"], "by_measure": summary.totals["measure_code"]},
        }
        files.finish(report)  # report.json: this report, then every finding under "findings"
    return AuditResult(run_dir=run_dir, report=report)
