"""Benchmark: what `subsidy audit` costs over plain DuckDB running the same check SQL on the same file.

Builds (or takes) a warehouse, runs the audit once, then runs every dbt check's compiled SQL (taken from the
audit's own report.json) on one plain read-only DuckDB connection, and prints both times and their ratio.
The difference is dbt's start-up and parsing, Great Expectations, the fingerprint and writing the report.

    .venv/bin/python bench/bench_audit.py                  # default sample (≈5,000 applications)
    .venv/bin/python bench/bench_audit.py --scale 200      # ≈1M applications
    .venv/bin/python bench/bench_audit.py --warehouse demo/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from subsidy_warehouse.audit.run import run_audit
from subsidy_warehouse.build import build_warehouse
from subsidy_warehouse.sample_data import generate_sample


def plain_duckdb_seconds(warehouse: Path, statements: list[str]) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for sql in statements:
            con.execute(f"select count(*) from ({sql}) as failing").fetchone()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="an existing warehouse (else one is generated and built)")
    parser.add_argument("--scale", type=float, default=1.0, help="sample size when generating (200 ≈ 1M)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as work:
        work_dir = Path(work)
        warehouse = args.warehouse
        if warehouse is None:
            generate_sample(work_dir / "raw", scale=args.scale)
            warehouse = build_warehouse(work_dir / "raw", work_dir / "warehouse.duckdb").warehouse
        started = time.perf_counter()
        result = run_audit(warehouse, work_dir / "audits")
        audit_seconds = time.perf_counter() - started
        statements = [
            check["definition"]
            for rule in result.report["rules"]
            for check in rule["checks"]
            if check["engine"] == "dbt"
        ]
        plain_seconds = plain_duckdb_seconds(warehouse, statements)
    print(f"warehouse: {warehouse}  ({result.report['fingerprint']['warehouse_bytes'] / 1e6:.0f} MB)")
    print(f"subsidy audit (dbt test + Great Expectations + fingerprint + report): {audit_seconds:8.1f} s")
    print(f"plain DuckDB, the same {len(statements)} dbt check queries, one connection: {plain_seconds:8.1f} s")
    print(f"ratio audit / plain DuckDB: {audit_seconds / plain_seconds:.1f}×")


if __name__ == "__main__":
    main()
