"""What an audit ran on: per-table row counts and content hashes, raw-file hashes, policy and tool versions.

The content hash of a table does not depend on row order or on how DuckDB stored it: it is the SHA-256 of
the row count and of the sum and the XOR of DuckDB's 64-bit hash of every row, a digest that changes when any
row changes and costs one scan (the SHA-256 of sorted row MD5s it replaced took 40 s at 1M applications).
It tells whether two warehouses hold the same rows; the tamper seal of the file itself is warehouse_sha256.
Two audits of the same warehouse with the same tools therefore print the same fingerprint.
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

import duckdb

AUDITED_SCHEMAS = ("raw", "staging", "intermediate", "marts", "audit", "policy")
TOOLS = ("subsidy-warehouse", "duckdb", "dbt-core", "dbt-duckdb", "great-expectations", "pandas", "polars")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        f"where schema_name in ({', '.join('?' for _ in AUDITED_SCHEMAS)}) order by schema_name, table_name",
        list(AUDITED_SCHEMAS),
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def table_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, object]:
    relation = f"{quote(schema)}.{quote(table)}"
    row_count, hash_sum, hash_xor = con.execute(
        f"select count(*), coalesce(sum(hash(t)::hugeint), 0), coalesce(bit_xor(hash(t)), 0) from {relation} as t"
    ).fetchone()
    content_hash = hashlib.sha256(f"{row_count}:{hash_sum}:{hash_xor}".encode()).hexdigest()
    return {"schema": schema, "table": table, "rows": int(row_count), "content_sha256": content_hash}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for tool in TOOLS:
        try:
            versions[tool] = metadata.version(tool)
        except metadata.PackageNotFoundError:
            versions[tool] = "not installed"
    return versions


def fingerprint(con: duckdb.DuckDBPyConnection, warehouse: Path, warehouse_sha256: str) -> dict[str, object]:
    """The fingerprint of an open (read-only) warehouse whose file has the SHA-256 `warehouse_sha256` (file_sha256);
    deterministic for the same content and tools."""
    tables = [table_fingerprint(con, schema, table) for schema, table in warehouse_tables(con)]
    raw_files = [
        {"source_file": name, "entity": entity, "sha256": sha, "rows": int(rows)}
        for name, entity, sha, rows in con.execute(
            "select source_file, entity, file_sha256, data_rows from raw.files order by source_file"
        ).fetchall()
    ]
    policy_tables = [t for t in tables if t["schema"] == "policy" or t["table"] == "audit_rules"]
    policy_digest = hashlib.sha256("".join(str(t["content_sha256"]) for t in policy_tables).encode()).hexdigest()
    (policy_version,) = con.execute("select policy_version from policy.policy_window").fetchone()
    return {
        "warehouse_file": warehouse.name,
        "warehouse_bytes": warehouse.stat().st_size,
        "warehouse_sha256": warehouse_sha256,
        "policy_version": policy_version,
        "policy_sha256": policy_digest,
        "tables": tables,
        "raw_files": raw_files,
        "tools": tool_versions(),
    }
