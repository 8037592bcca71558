"""Reruns the project's dbt tests on an existing warehouse, read-only, and reads back what failed.

Every dbt test counts against one rule of the catalogue: the rule models' own tests (tests/generic/
audit_rule.sql) against their rule, singular tests through `meta.audit_rule`, and the generic tests by kind
(unique → key_not_unique, …). The failing records of a failed test come from running the test's compiled
SQL once more on a read-only connection, because `store_failures` would write into the warehouse.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

import duckdb

from ..dbt_runner import run_dbt
from ..errors import UserFacingError
from .model import Check, CheckStatus, Finding

READ_ONLY_TARGET = "duckdb_read_only"
GENERIC_TEST_RULES = {
    "unique": "key_not_unique",
    "unique_combination": "key_not_unique",
    "not_null": "value_missing",
    "relationships": "broken_reference",
    "accepted_values": "invalid_value",
    "expression_is_true": "invalid_value",
}
RULE_MODEL_TEST = "audit_rule"
# failing rows kept per integrity check; the check's failing-row count is always the full count
MAX_INTEGRITY_ROWS = 1000


def rule_for_test(node: dict) -> str:
    """The catalogue rule a dbt test node counts against."""
    meta_rule = (node.get("config") or {}).get("meta", {}).get("audit_rule") or node.get("meta", {}).get("audit_rule")
    if meta_rule:
        return meta_rule
    test_name = (node.get("test_metadata") or {}).get("name")
    if test_name == RULE_MODEL_TEST:
        return node["attached_node"].split(".")[-1].removeprefix("rule_")
    if test_name in GENERIC_TEST_RULES:
        return GENERIC_TEST_RULES[test_name]
    raise RuntimeError(f"dbt test {node['unique_id']} counts against no audit rule; add meta.audit_rule to it.")


def test_label(node: dict, manifest: dict) -> tuple[str, str]:
    """A readable name and target for a test: unique(marts.fct_awards.application_id)."""
    attached = node.get("attached_node")
    if attached:
        parent = manifest["nodes"].get(attached) or manifest.get("sources", {}).get(attached, {})
        target = f"{parent.get('schema', '')}.{parent.get('alias') or parent.get('name', attached)}"
        metadata = node.get("test_metadata") or {}
        column = node.get("column_name")
        name = f"{metadata.get('name', node['name'])}({target}{'.' + column if column else ''})"
        return name, target
    parents = [p.split(".")[-1] for p in node.get("depends_on", {}).get("nodes", [])]
    return node["name"], ", ".join(parents)


def run_dbt_tests(warehouse: Path) -> tuple[list[dict], dict]:
    """`dbt test` (data tests, not unit tests) on the warehouse, read-only; returns run results and manifest."""
    with tempfile.TemporaryDirectory(prefix="subsidy-audit-") as logs:
        run = run_dbt(
            ["test", "--exclude-resource-type", "unit_test"],
            warehouse,
            Path(logs),
            target=READ_ONLY_TARGET,
            with_manifest=True,
        )
    if run.error or not run.results:
        raise UserFacingError(f"dbt could not run the tests on {warehouse}: {run.error or 'no test ran'}.")
    return run.results, run.manifest


def rows_of(con: duckdb.DuckDBPyConnection, sql: str, limit: int | None) -> list[dict[str, object]]:
    query = f"select * from ({sql}) as failing" + (f" limit {limit}" if limit else "")
    cursor = con.execute(query)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def findings_of_test(
    con: duckdb.DuckDBPyConnection, rule_code: str, check: Check, sql: str, measures: dict[str, str]
) -> list[Finding]:
    if check.name.startswith(f"{RULE_MODEL_TEST}("):
        return [
            Finding(
                rule_code=rule_code,
                check=check.name,
                record_type=row["record_type"],
                record_id=row["record_id"],
                beneficiary_id=row["beneficiary_id"],
                clause_code=row["clause_code"],
                measure_code=measures.get(row["clause_code"] or ""),
                bureau=row["bureau"],
                award_year=row["award_year"],
                amount_at_issue=Decimal(row["amount_at_issue"] or 0).quantize(Decimal("0.01")),
                detail=row["detail"] or "",
            )
            for row in rows_of(con, sql, None)
        ]
    findings = []
    for row in rows_of(con, sql, MAX_INTEGRITY_ROWS):
        key = ":".join(str(value) for value in list(row.values())[:3])
        findings.append(
            Finding(
                rule_code=rule_code,
                check=check.name,
                record_type="table",
                record_id=f"{check.target}:{key}",
                detail=json.dumps(row, ensure_ascii=False, default=str, sort_keys=True),
            )
        )
    return findings


def dbt_checks(
    con: duckdb.DuckDBPyConnection, results: list[dict], manifest: dict
) -> tuple[list[Check], list[Finding]]:
    """One Check per dbt data test run (run_dbt_tests) and its failing records, read back on `con`."""
    measures = dict(con.execute("select clause_code, measure_code from policy.policy_clauses").fetchall())
    checks: list[Check] = []
    findings: list[Finding] = []
    for result in sorted(results, key=lambda r: r["unique_id"]):
        node = manifest["nodes"][result["unique_id"]]
        rule_code = rule_for_test(node)
        name, target = test_label(node, manifest)
        sql = result.get("compiled_code") or node.get("compiled_code") or ""
        if result["status"] == "pass":
            status = CheckStatus.passed
        elif result["status"] in ("fail", "warn"):
            status = CheckStatus.failed
        else:
            status = CheckStatus.error
        message = (result.get("message") or "").strip().splitlines()[0] if result.get("message") else ""
        check = Check(
            rule_code=rule_code,
            engine="dbt",
            name=name,
            target=target,
            definition=sql.strip(),
            status=status,
            failing_rows=int(result.get("failures") or 0),
            message=message,
        )
        checks.append(check)
        if status is CheckStatus.failed:
            findings.extend(findings_of_test(con, rule_code, check, sql, measures))
    return checks, findings
