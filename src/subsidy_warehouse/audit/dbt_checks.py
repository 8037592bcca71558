"""Reruns the project's dbt tests on an existing warehouse, read-only, and reads back what failed.

Every dbt test counts against one rule of the catalogue: the rule models' own tests (tests/generic/
audit_rule.sql) against their rule, singular tests through `meta.audit_rule`, and the generic tests by kind
(unique → key_not_unique, …).

dbt only compiles the tests (once per version of the project's code and warehouse file name, kept by
dbt_runner.compiled_once): this module runs the compiled SQL itself on the audit's read-only,
sandboxed connection, judging each result the way dbt's test materialization does (fail_calc, warn_if,
error_if, severity). The failing records of a failed test come from the same connection, because
`store_failures` would write into the warehouse.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb

from .. import progress
from ..dbt_runner import compiled_once, run_dbt
from ..errors import UserFacingError
from .model import Check, CheckStatus, Finding
from .store import FindingStore

READ_ONLY_TARGET = "duckdb_read_only"
GENERIC_TEST_RULES = {
    "primary_key": "key_not_unique",  # duplicated or empty, as the catalogue words the rule
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
RULE_ROWS_BATCH = 50_000


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


# what a test node keeps in the compiled-test cache: enough to run it, judge it and name it
TEST_NODE_FIELDS = ("unique_id", "name", "compiled_code", "config", "meta", "test_metadata", "attached_node",
                    "column_name", "depends_on")
PARENT_NODE_FIELDS = ("schema", "alias", "name")


def compile_tests(warehouse: Path) -> dict:
    """dbt compiles the data tests (not unit tests) against the warehouse, read-only; returns a slim manifest:
    the test nodes with their compiled SQL, and the schema and name of every node a test is attached to."""
    with tempfile.TemporaryDirectory(prefix="subsidy-audit-") as logs:
        run = run_dbt(
            ["compile", "--select", "resource_type:test"],
            warehouse,
            Path(logs),
            target=READ_ONLY_TARGET,
            with_manifest=True,
        )
    tests = {
        unique_id: {key: node.get(key) for key in TEST_NODE_FIELDS}
        for unique_id, node in run.manifest.get("nodes", {}).items()
        if node.get("resource_type") == "test" and node.get("compiled_code")
    }
    if run.error or not run.success or not tests:
        raise UserFacingError(f"dbt could not compile the tests for {warehouse}: {run.error or 'no test compiled'}.")
    parents = {
        unique_id: {key: node.get(key) for key in PARENT_NODE_FIELDS}
        for group in ("nodes", "sources")
        for unique_id, node in run.manifest.get(group, {}).items()
        if node.get("resource_type") != "test"
    }
    return {"nodes": {**parents, **tests}, "sources": {}}


def compiled_tests(warehouse: Path) -> dict:
    """The slim manifest of compile_tests, compiled once per code version and warehouse file name."""
    return compiled_once("audit-tests", warehouse, lambda: compile_tests(warehouse))


def judge(con: duckdb.DuckDBPyConnection, node: dict) -> dict:
    """Run one compiled test as dbt's test materialization does; a run result like dbt's run_results.json."""
    config = node.get("config") or {}
    fail_calc = config.get("fail_calc") or "count(*)"
    limit = config.get("limit")
    sql = node["compiled_code"]
    result = {"unique_id": node["unique_id"], "compiled_code": sql, "failures": 0, "message": ""}
    try:
        failures, should_warn, should_error = con.execute(
            f"select {fail_calc} as failures, {fail_calc} {config.get('warn_if') or '!= 0'} as should_warn, "
            f"{fail_calc} {config.get('error_if') or '!= 0'} as should_error "
            f"from ({sql}{f' limit {int(limit)}' if limit is not None else ''}) as dbt_internal_test"
        ).fetchone()
    except duckdb.Error as exc:
        return {**result, "status": "error", "message": str(exc).strip().splitlines()[0]}
    if should_error and str(config.get("severity") or "error").lower() == "error":
        status = "fail"
    elif should_warn or should_error:
        status = "warn"
    else:
        status = "pass"
    message = "" if status == "pass" else f"Got {failures} result{'' if failures == 1 else 's'}"
    return {**result, "status": status, "failures": int(failures or 0), "message": message}


def run_dbt_tests(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[dict]:
    """Every compiled data test of `manifest` (compiled_tests) run on the read-only connection `con`."""
    tests = [node for node in manifest["nodes"].values() if node.get("compiled_code") is not None]
    results = []
    for done, node in enumerate(sorted(tests, key=lambda node: node["unique_id"]), start=1):
        results.append(judge(con, node))
        progress.current().nodes(done, len(tests), node.get("name") or node["unique_id"])
    return results


def rows_of(con: duckdb.DuckDBPyConnection, sql: str, limit: int | None) -> list[dict[str, object]]:
    query = f"select * from ({sql}) as failing" + (f" limit {limit}" if limit else "")
    cursor = con.execute(query)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def add_findings_of_test(
    con: duckdb.DuckDBPyConnection, store: FindingStore, rule_code: str, check: Check, sql: str, measures: dict[str, str]
) -> None:
    if check.name.startswith(f"{RULE_MODEL_TEST}("):
        # every row a rule model returns is a finding: straight from DuckDB into the store, as Arrow
        reader = con.sql(f"select * from ({sql}) as failing").to_arrow_reader(RULE_ROWS_BATCH)
        store.add_rule_rows(reader, rule_code, check.name, measures)
        return
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
    store.add(findings)


def dbt_checks(
    con: duckdb.DuckDBPyConnection, results: list[dict], manifest: dict, store: FindingStore
) -> list[Check]:
    """One Check per dbt data test run (run_dbt_tests); their failing records, read back on `con`, go to `store`."""
    measures = dict(con.execute("select clause_code, measure_code from policy.policy_clauses").fetchall())
    checks: list[Check] = []
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
            add_findings_of_test(con, store, rule_code, check, sql, measures)
    return checks
